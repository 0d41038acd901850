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
