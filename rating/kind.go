package rating

import "strings"

// Kind is the kind of a rate table and of a call leg.
type Kind uint8

// The three kinds, in the order the admin pages list them.
const (
	Outbound Kind = iota + 1
	Inbound
	Conference
)

// Kinds lists every kind.
var Kinds = []Kind{Outbound, Inbound, Conference}

func (k Kind) String() string {
	switch k {
	case Outbound:
		return "outbound"
	case Inbound:
		return "inbound"
	case Conference:
		return "conference"
	}
	return ""
}

// ParseKind parses "outbound", "inbound" or "conference", in any case.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "outbound":
		return Outbound, nil
	case "inbound":
		return Inbound, nil
	case "conference":
		return Conference, nil
	}
	return 0, Invalidf("kind", "kind %s: want outbound, inbound or conference", Excerpt(s))
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// Rounding is how a raw cost is rounded to a table's decimals.
type Rounding uint8

// The rounding methods of DOMAIN.md.
const (
	HalfUp Rounding = iota
	Up
	Down
)

func (r Rounding) String() string {
	switch r {
	case HalfUp:
		return "half_up"
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return ""
}

// ParseRounding parses "half_up", "up" or "down".
func ParseRounding(s string) (Rounding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "half_up":
		return HalfUp, nil
	case "up":
		return Up, nil
	case "down":
		return Down, nil
	}
	return 0, Invalidf("rounding", "rounding %s: want half_up, up or down", Excerpt(s))
}

// MarshalText implements encoding.TextMarshaler.
func (r Rounding) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rounding) UnmarshalText(b []byte) error {
	v, err := ParseRounding(string(b))
	*r = v
	return err
}
