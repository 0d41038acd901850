package rating

import (
	"errors"
	"strconv"
	"time"
)

// CDR statuses, as POST /api/v1/cdrs answers them.
const (
	Rated     = "rated"
	Unrated   = "unrated"
	Duplicate = "duplicate"
)

// Reasons a well-formed CDR is stored as unrated (DOMAIN.md).
const (
	UnratedUnknownTenant = "unknown_tenant"
	UnratedNoTable       = "no_table"
	UnratedInvalidNumber = "invalid_number"
	UnratedNoRate        = "no_rate"
)

// MaxCDRDuration bounds a leg's duration: a week is far beyond any real
// call and keeps every cost computation exact.
const MaxCDRDuration = 7 * 24 * 3600

// A CDR's start lies in [MinStart, MaxStart): 2000-01-01 to 2200-01-01
// UTC. Any start a working PBX clock gives falls in it, and a start outside
// it is a broken clock or a broken record, which would otherwise be priced
// and counted on a day no dashboard shows. The bound also keeps every start
// within what a time.Time holds as Unix nanoseconds (1678 to 2262), which
// is how the store keeps it.
const (
	minStartUnix = 946684800  // 2000-01-01T00:00:00Z
	maxStartUnix = 7258118400 // 2200-01-01T00:00:00Z
)

// MinStart and MaxStart bound a CDR's start: MinStart ≤ start < MaxStart.
func MinStart() time.Time { return time.Unix(minStartUnix, 0).UTC() }

// MaxStart is the first instant after the last start a CDR may have.
func MaxStart() time.Time { return time.Unix(maxStartUnix, 0).UTC() }

// startInRange reports whether t may be a CDR's start; outOfRange says
// why not.
func startInRange(t time.Time) bool { return !t.Before(MinStart()) && t.Before(MaxStart()) }

const outOfRange = "outside the times pbxbill accepts, 2000-01-01 to 2200-01-01 UTC"

// UnixStart reads a start written as whole Unix seconds, as Kamailio's
// $TV(s) and FreeSWITCH's *_epoch variables give it; field names it in
// errors. The range is checked on the integer, before time.Unix: a value
// near the int64 bounds would overflow what a time.Time adds to it.
func UnixStart(field, s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange):
		return time.Time{}, Invalidf(field, "%s %s: %s", field, Excerpt(s), outOfRange)
	case err != nil || s[0] == '+':
		return time.Time{}, Invalidf(field, "%s %s: want whole Unix seconds or an RFC 3339 time", field, Excerpt(s))
	case n < minStartUnix || n >= maxStartUnix:
		return time.Time{}, Invalidf(field, "%s %s: %s", field, Excerpt(s), outOfRange)
	}
	return time.Unix(n, 0).UTC(), nil
}

// ClampStart brings t into [MinStart, MaxStart], where every stored start
// lies, so that a filter bound of any year selects what it says (a from
// before 2000 means from the first CDR) and converts to Unix nanoseconds
// without overflow.
func ClampStart(t time.Time) time.Time {
	switch {
	case t.Before(MinStart()):
		return MinStart()
	case t.After(MaxStart()):
		return MaxStart()
	}
	return t
}

// CDR is one call leg as the PBX reports it, and as pbxbill priced it.
type CDR struct {
	ID       string    `json:"id"`
	Node     string    `json:"node"`
	Tenant   string    `json:"tenant"` // name or accountcode as posted; the name once resolved
	Kind     Kind      `json:"kind"`
	Number   string    `json:"number"`
	Provider string    `json:"provider"` // name or trunk as posted; the name once resolved
	Start    time.Time `json:"start"`
	Duration int       `json:"duration"`

	Status       string    `json:"status"`
	Reason       string    `json:"reason,omitempty"`
	Billed       int       `json:"billed_seconds"`
	Cost         Money     `json:"cost"`          // tenant's sell cost; NoMoney when unrated
	ProviderCost Money     `json:"provider_cost"` // provider's buy cost; NoMoney without a provider rate
	Prefix       string    `json:"prefix,omitempty"`
	RateTable    string    `json:"rate_table,omitempty"`
	Received     time.Time `json:"received"`
}

// Validate reports what makes a posted CDR malformed: a missing or
// over-long id, a missing start or one outside [MinStart, MaxStart), a
// negative or absurd duration, a bad kind.
// A malformed CDR rejects its whole batch.
func (c *CDR) Validate() error {
	switch {
	case c.ID == "":
		return Invalidf("id", "id: required")
	case len(c.ID) > 200:
		return Invalidf("id", "id %s: longer than 200 characters", Excerpt(c.ID))
	case c.Start.IsZero():
		return Errorf(EInvalid, "cdr %s: start: required (RFC 3339)", Excerpt(c.ID))
	case !startInRange(c.Start):
		return Invalidf("start", "cdr %s: start %s: %s", Excerpt(c.ID), c.Start.Format(time.RFC3339Nano), outOfRange)
	case c.Duration < 0:
		return Errorf(EInvalid, "cdr %s: duration %d: must not be negative", Excerpt(c.ID), c.Duration)
	case c.Duration > MaxCDRDuration:
		return Errorf(EInvalid, "cdr %s: duration %d: longer than a week", Excerpt(c.ID), c.Duration)
	case c.Kind.String() == "":
		return Errorf(EInvalid, "cdr %s: kind: want outbound, inbound or conference", Excerpt(c.ID))
	case len(c.Number) > 64:
		return Errorf(EInvalid, "cdr %s: number: longer than 64 characters", Excerpt(c.ID))
	case len(c.Tenant) > 100:
		return Errorf(EInvalid, "cdr %s: tenant: longer than 100 characters", Excerpt(c.ID))
	}
	return nil
}

// CDRFilter selects stored CDRs. Zero fields select everything; From and
// To bound the start time (From ≤ start < To).
type CDRFilter struct {
	Tenant   string // name
	Provider string // name
	Status   string // rated or unrated
	From, To time.Time
	Kind     Kind   // 0: any
	Number   string // a prefix of the number, as stored (normalised)
}

// Posted is the outcome of a CDR batch.
type Posted struct {
	// Results holds every posted CDR in order, with Status, Reason, Cost,
	// ProviderCost, Billed, and Tenant/Provider resolved to names.
	Results   []CDR
	Rated     int
	Duplicate int
	Unrated   int
}

// Count tallies one processed CDR by its status.
func (p *Posted) Count(c *CDR) {
	switch c.Status {
	case Rated:
		p.Rated++
	case Unrated:
		p.Unrated++
	default:
		p.Duplicate++
	}
}

// Rerated counts what a re-rate did.
type Rerated struct {
	Rated     int `json:"rated"`     // unrated CDRs that now have a price
	Corrected int `json:"corrected"` // rated CDRs whose price changed
	Unchanged int `json:"unchanged"`
}
