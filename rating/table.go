package rating

import (
	"time"
)

// Table holds a rate table's settings. Its rows are kept apart (Row).
type Table struct {
	Name     string   `json:"name"`
	Kind     Kind     `json:"kind"`
	Currency string   `json:"currency"`
	Decimals int      `json:"decimals"`
	Rounding Rounding `json:"rounding"`
	// InitialIncrement and Increment are the defaults for rows that leave
	// them empty.
	InitialIncrement int       `json:"initial_increment"`
	Increment        int       `json:"increment"`
	Rows             int       `json:"rows"`
	Updated          time.Time `json:"updated"`
}

// NewTable returns a table with the defaults of DOMAIN.md.
func NewTable(name string, kind Kind, currency string) Table {
	return Table{Name: name, Kind: kind, Currency: currency, Decimals: 4, Rounding: HalfUp,
		InitialIncrement: 60, Increment: 60}
}

// Validate checks the settings against DOMAIN.md.
func (t *Table) Validate() error {
	if err := ValidateName("name", t.Name); err != nil {
		return err
	}
	if t.Kind.String() == "" {
		return Invalidf("kind", "kind: want outbound, inbound or conference")
	}
	if t.Decimals < 0 || t.Decimals > 8 {
		return Invalidf("decimals", "decimals %d: want 0 to 8", t.Decimals)
	}
	if t.Rounding.String() == "" {
		return Invalidf("rounding", "rounding: want half_up, up or down")
	}
	if t.InitialIncrement < 0 || t.InitialIncrement > MaxIncrement {
		return Invalidf("initial_increment", "initial_increment %d: want 0 to %d seconds", t.InitialIncrement, MaxIncrement)
	}
	if t.Increment < 1 || t.Increment > MaxIncrement {
		return Invalidf("increment", "increment %d: want 1 to %d seconds", t.Increment, MaxIncrement)
	}
	return nil
}

// MaxIncrement is the largest initial_increment or increment, in seconds.
const MaxIncrement = 3600

// MaxPrefixLen is the longest digit prefix a row may have.
const MaxPrefixLen = 24

// Wildcard is the prefix that matches any number, at the lowest priority.
const Wildcard = "*"

// Row is one rate row as stored, imported and exported. Optional fields
// hold a "not set" value so that an export gives back the empty cells of
// the import: -1 for the integers, NoAmount for prices, the zero time for
// EffectiveFrom ("always").
type Row struct {
	Prefix           string    `json:"prefix"`
	Destination      string    `json:"destination"`
	Rate             Amount    `json:"rate"`
	ConnectFee       Amount    `json:"connect_fee"`
	InitialIncrement int       `json:"initial_increment"`
	Increment        int       `json:"increment"`
	InitialRate      Amount    `json:"initial_rate"`
	Grace            int       `json:"grace"`
	MinCost          Amount    `json:"min_cost"`
	MaxCost          Amount    `json:"max_cost"`
	EffectiveFrom    time.Time `json:"effective_from"`
	// Days and Hours are the row's times of the week (week.go); a row
	// with neither is its week's default.
	Days  Days  `json:"days,omitzero"`
	Hours Hours `json:"hours,omitzero"`
	// Blocked refuses calls to the row's numbers at authorization; CDRs
	// are still priced by it.
	Blocked bool `json:"blocked,omitzero"`
}

// NewRow returns a row for prefix and rate with every optional field unset.
func NewRow(prefix string, rate Amount) Row {
	return Row{Prefix: prefix, Rate: rate, ConnectFee: NoAmount, InitialIncrement: -1,
		Increment: -1, InitialRate: NoAmount, Grace: -1, MinCost: NoAmount, MaxCost: NoAmount}
}

// RateKey names one row of a table: its prefix, its effective_from (the
// zero time for the row that is always in force) and its times of the
// week (none for the week's default). No two rows of a table share a key.
type RateKey struct {
	Prefix        string
	EffectiveFrom time.Time
	Week          Week
}

// Key returns the row's key.
func (r *Row) Key() RateKey {
	return RateKey{Prefix: r.Prefix, EffectiveFrom: r.EffectiveFrom, Week: r.Week()}
}

// String names the row as messages do: "447 (always)", "447 effective
// 2025-06-01T00:00:00Z", "44 (always) mon-fri 08:00-18:00".
func (k RateKey) String() string {
	s := k.Prefix + " (always)"
	if !k.EffectiveFrom.IsZero() {
		s = k.Prefix + " effective " + k.EffectiveFrom.UTC().Format(time.RFC3339)
	}
	if k.Week.Timed() {
		s += " " + k.Week.String()
	}
	return s
}

// Same reports whether a and b name the same row.
func (k RateKey) Same(o RateKey) bool {
	return k.Prefix == o.Prefix && k.EffectiveFrom.Equal(o.EffectiveFrom) && k.Week == o.Week
}

// Validate checks one row against DOMAIN.md and the table's decimals. The
// error names the field; CSV import adds the line.
func (r *Row) Validate(decimals int) error {
	if err := ValidatePrefix(r.Prefix); err != nil {
		return err
	}
	if err := checkPrice("rate", r.Rate, false); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    Amount
	}{{"connect_fee", r.ConnectFee}, {"initial_rate", r.InitialRate}, {"min_cost", r.MinCost}, {"max_cost", r.MaxCost}} {
		if err := checkPrice(f.name, f.v, true); err != nil {
			return err
		}
	}
	q := Amount(pow10[AmountDecimals-max(0, min(decimals, AmountDecimals))])
	if r.MinCost.Set() && r.MinCost%q != 0 {
		return Invalidf("min_cost", "min_cost %s: more than the table's %d decimals", r.MinCost, decimals)
	}
	if r.MaxCost.Set() && r.MaxCost%q != 0 {
		return Invalidf("max_cost", "max_cost %s: more than the table's %d decimals", r.MaxCost, decimals)
	}
	if r.MinCost.Set() && r.MaxCost.Set() && r.MaxCost < r.MinCost {
		return Invalidf("max_cost", "max_cost %s is below min_cost %s", r.MaxCost, r.MinCost)
	}
	if r.InitialIncrement != -1 && (r.InitialIncrement < 0 || r.InitialIncrement > MaxIncrement) {
		return Invalidf("initial_increment", "initial_increment %d: want 0 to %d seconds", r.InitialIncrement, MaxIncrement)
	}
	if r.Increment != -1 && (r.Increment < 1 || r.Increment > MaxIncrement) {
		return Invalidf("increment", "increment %d: want 1 to %d seconds", r.Increment, MaxIncrement)
	}
	if r.Grace != -1 && (r.Grace < 0 || r.Grace > MaxGrace) {
		return Invalidf("grace", "grace %d: want 0 to %d seconds", r.Grace, MaxGrace)
	}
	if r.Days&^AllDays != 0 {
		return Invalidf("days", "days: not a set of weekdays")
	}
	if h := r.Hours; h.Set() && (h.From >= MinutesPerDay || h.To > MinutesPerDay || h.From == h.To) {
		return Invalidf("hours", "hours: not a window of the day")
	}
	if len(r.Destination) > 200 {
		return Invalidf("destination", "destination: longer than 200 characters")
	}
	return nil
}

// MaxPrice bounds every price in a rate row: a billion currency units, a
// thousand times the dearest premium rate of a currency with small units
// (IDR, VND). A price fits an int64 with room to spare, and the cost of the
// longest leg at it (MaxCDRDuration) is about 10^13, far inside MaxMoney.
const MaxPrice Amount = 1_000_000_000 * amountUnit

// MaxGrace bounds grace like an increment: an hour of free talk is already
// far beyond any real tariff.
const MaxGrace = 3600

func checkPrice(field string, v Amount, optional bool) error {
	if v == NoAmount {
		if optional {
			return nil
		}
		return Invalidf(field, "%s: required", field)
	}
	if v < 0 {
		return Invalidf(field, "%s %s: must not be negative", field, v)
	}
	if v > MaxPrice {
		return Invalidf(field, "%s %s: above the largest price, %s", field, v, MaxPrice)
	}
	return nil
}

// ValidatePrefix accepts 1–24 digits or the wildcard "*".
func ValidatePrefix(p string) error {
	if p == Wildcard {
		return nil
	}
	if p == "" {
		return Invalidf("prefix", "prefix: required")
	}
	if len(p) > MaxPrefixLen {
		return Invalidf("prefix", "prefix %s: longer than %d digits", Excerpt(p), MaxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return Invalidf("prefix", "prefix %s: digits only, or *", Excerpt(p))
		}
	}
	return nil
}

// ValidateName checks a record name: 1–100 characters, no control
// characters, no leading or trailing space, and no '/', and neither "."
// nor "..", so that it can sit in a URL path as one segment: a client
// and mux read a dot segment as "here" or "up", never as a name.
func ValidateName(field, s string) error {
	if s == "" {
		return Invalidf(field, "%s: required", field)
	}
	if len(s) > 100 {
		return Invalidf(field, "%s %s: longer than 100 characters", field, Excerpt(s))
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return Invalidf(field, "%s %s: leading or trailing space", field, Excerpt(s))
	}
	if s == "." || s == ".." {
		return Invalidf(field, "%s %q: not a name a URL can hold", field, s)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '/' {
			return Invalidf(field, "%s %s: control characters and '/' are not allowed", field, Excerpt(s))
		}
	}
	return nil
}
