package rating

import "time"

// Rater finds the row that prices a call: the one resolution of (tenant,
// kind, number, instant) that rate, price, authorize, lcr, the admin's
// "Try a number", CDR pricing and re-rating all use, so that they can never
// disagree on which row applies.
type Rater struct {
	Book      *Book
	Numbering Numbering
	// Currency is the installation's, for tables stored without one.
	Currency string
	// Zone is the installation's time zone, where the days and hours of
	// rate rows are read (nil: UTC).
	Zone *time.Location
	// Load, when set, finds a table that Book does not hold yet: a store
	// shared by several nodes loads one that another node has just
	// created, before its notice arrives. It answers nil when there is no
	// such table.
	Load func(table string) *Index
}

// index is the live index of the named table, through Load when Book
// does not hold it.
func (x *Rater) index(table string) *Index {
	if idx := x.Book.Get(table); idx != nil || x.Load == nil || table == "" {
		return idx
	}
	return x.Load(table)
}

// Local is at on the installation's wall clock: what a row's days and
// hours are read against.
func (x *Rater) Local(at time.Time) time.Time {
	if x.Zone == nil {
		return at.UTC()
	}
	return at.In(x.Zone)
}

// Resolution is the row that applies to a call, or why none does.
type Resolution struct {
	Number   string // normalised when valid; as given otherwise
	Table    string // the table searched, "" when there was none
	Currency string
	Rate     Rate // set when Reason is ""
	// Reason is "" when a row applies, else the authorization reason that
	// names what is missing: ReasonUnknownTenant, ReasonNoTable,
	// ReasonInvalidNumber or ReasonUnrated.
	Reason string

	tenant    string // the tenant's name, for Err
	kind      Kind
	numberErr error // Normalise's answer, for ReasonInvalidNumber
}

// Err is the error that the rate and price endpoints answer for Reason,
// nil when a row applies. It is made only when asked for: CDR pricing and
// authorization read the reason alone, for every unrated call.
func (r *Resolution) Err() error {
	switch r.Reason {
	case "":
		return nil
	case ReasonUnknownTenant:
		return Errorf(ENotFound, "unknown tenant")
	case ReasonInvalidNumber:
		return r.numberErr
	case ReasonUnrated:
		return Errorf(ENotFound, "no rate for %s in table %s", r.Number, r.Table)
	}
	switch { // ReasonNoTable
	case r.tenant == "":
		return Errorf(ENotFound, "rate table %q does not exist", r.Table)
	case r.Table == "":
		return Errorf(ENotFound, "tenant %s has no %s rate table", r.tenant, r.kind)
	}
	return Errorf(ENotFound, "tenant %s: its %s rate table %q does not exist", r.tenant, r.kind, r.Table)
}

// Rated reports whether a row applies.
func (r *Resolution) Rated() bool { return r.Reason == "" }

// UnratedReason is the reason a CDR that r prices is stored as unrated
// (DOMAIN.md "Processing a CDR"), "" when it is rated.
func (r *Resolution) UnratedReason() string {
	switch r.Reason {
	case "":
		return ""
	case ReasonUnrated:
		return UnratedNoRate
	}
	return r.Reason // the other reasons share their names
}

// Resolve finds the rate of a call of kind k from tenant t (nil: unknown)
// to number at instant at. The checks run in DOMAIN.md's order of the
// authorization reasons: the tenant, its table of the kind, the number,
// then the row.
func (x *Rater) Resolve(t *Tenant, k Kind, number string, at time.Time) Resolution {
	if t == nil {
		return Resolution{Number: number, Reason: ReasonUnknownTenant, kind: k}
	}
	table := t.TableFor(k)
	if table == "" {
		return Resolution{Number: number, Reason: ReasonNoTable, tenant: t.Name, kind: k}
	}
	res := x.ResolveIn(table, number, at)
	res.tenant, res.kind = t.Name, k
	return res
}

// ResolveIn finds the rate of number at instant at in the named table: the
// longest prefix with a row that applies at at, read in the installation's
// zone (DOMAIN.md "Times of the week"). It is what the admin's "Try a number"
// and the providers' buy prices use.
func (x *Rater) ResolveIn(table, number string, at time.Time) Resolution {
	res := Resolution{Number: number, Table: table}
	idx := x.index(table)
	if idx == nil {
		res.Reason = ReasonNoTable
		return res
	}
	if res.Currency = idx.Table().Currency; res.Currency == "" {
		res.Currency = x.Currency
	}
	n, err := x.Numbering.Normalise(number)
	if err != nil {
		res.Reason, res.numberErr = ReasonInvalidNumber, err
		return res
	}
	res.Number = n
	var ok bool
	if res.Rate, ok = idx.Lookup(n, x.Local(at)); !ok {
		res.Reason = ReasonUnrated
	}
	return res
}

// Offers lists the buy rates of the active providers whose outbound table
// rates number at instant at, cheapest first (SortOffers): least-cost
// routing. Suspended providers are left out.
func (x *Rater) Offers(ps []Provider, number string, at time.Time) ([]Offer, error) {
	n, err := x.Numbering.Normalise(number)
	if err != nil {
		return nil, err
	}
	var offers []Offer
	at = x.Local(at)
	for _, p := range ps {
		if p.Status != Active || p.OutboundTable == "" {
			continue
		}
		if idx := x.index(p.OutboundTable); idx != nil {
			if rt, ok := idx.Lookup(n, at); ok {
				offers = append(offers, Offer{Provider: p.Name, Trunk: p.Trunk, Rate: rt})
			}
		}
	}
	SortOffers(offers)
	return offers, nil
}
