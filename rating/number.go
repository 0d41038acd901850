package rating

import "strings"

// MaxNumberLen bounds a normalised number; E.164 allows 15 digits, and
// dialplans add access codes and tech prefixes.
const MaxNumberLen = 32

// Numbering normalises dialled numbers for one installation.
type Numbering struct {
	// IntlPrefixes are international access prefixes such as "00" and
	// "011"; the first that starts a number is removed once.
	IntlPrefixes []string
}

// ParseIntlPrefixes parses the -intl-prefixes flag: digits, comma-separated.
func ParseIntlPrefixes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if err := ValidatePrefix(p); err != nil || p == Wildcard {
			return nil, Errorf(EInvalid, "intl-prefixes: %s is not a digit prefix", Excerpt(p))
		}
		out = append(out, p)
	}
	return out, nil
}

// Normalise returns the digits that prefixes are matched against. A leading
// '+', spaces, '-', '.', '(' and ')' are removed, then the first
// international access prefix. Any other character, or nothing left, makes
// the number invalid. A number that is already clean is returned without
// allocating.
func (n Numbering) Normalise(s string) (string, error) {
	s = strings.TrimPrefix(s, "+")
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			clean = false
			break
		}
	}
	if !clean {
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c >= '0' && c <= '9':
				b = append(b, c)
			case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
			default:
				return "", Invalidf("number", "number %s: %q is not a digit", Excerpt(s), c)
			}
		}
		s = string(b)
	}
	for _, p := range n.IntlPrefixes {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	if s == "" {
		return "", Invalidf("number", "number: no digits")
	}
	if len(s) > MaxNumberLen {
		return "", Invalidf("number", "number %s: longer than %d digits", Excerpt(s), MaxNumberLen)
	}
	return s, nil
}
