package rating

import "time"

// Provider is a carrier. Its tables hold buy prices: what it charges us.
type Provider struct {
	Name          string    `json:"name"`
	Trunk         string    `json:"trunk"`
	Balance       Money     `json:"balance"`
	Status        string    `json:"status"`
	OutboundTable string    `json:"outbound_rate_table"`
	InboundTable  string    `json:"inbound_rate_table"`
	Created       time.Time `json:"created"`
}

// TableFor returns the name of the provider's table of kind k, or "".
// Providers have no conference tables.
func (p *Provider) TableFor(k Kind) string {
	switch k {
	case Outbound:
		return p.OutboundTable
	case Inbound:
		return p.InboundTable
	}
	return ""
}

// Validate checks the fields a caller may set.
func (p *Provider) Validate() error {
	if err := ValidateName("name", p.Name); err != nil {
		return err
	}
	if p.Trunk != "" {
		if err := ValidateName("trunk", p.Trunk); err != nil {
			return err
		}
	}
	if p.Status != Active && p.Status != Suspended {
		return Invalidf("status", "status %s: want active or suspended", Excerpt(p.Status))
	}
	return nil
}

// Edit applies fn to a copy of the stored provider p and keeps what an
// edit may not change: the balance, which only the ledger moves, and the
// creation time.
func (p Provider) Edit(fn func(*Provider) error) (Provider, error) {
	e := p
	if err := fn(&e); err != nil {
		return Provider{}, err
	}
	e.Balance, e.Created = p.Balance, p.Created
	return e, nil
}

// ByTrunk maps a trunk or a provider name to the name of one of ps, as a
// PBX CDR file names a call's carrier: a name wins over a trunk, and an
// empty trunk matches nothing.
func ByTrunk(ps []Provider) func(trunk string) (string, bool) {
	m := make(map[string]string, 2*len(ps))
	for _, p := range ps {
		if p.Trunk != "" {
			m[p.Trunk] = p.Name
		}
	}
	for _, p := range ps {
		m[p.Name] = p.Name
	}
	return func(trunk string) (string, bool) {
		if trunk == "" {
			return "", false
		}
		p, ok := m[trunk]
		return p, ok
	}
}
