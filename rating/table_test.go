package rating

import "testing"

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"Docs Demo Acme", true},
		{"a", true},
		{"...", true},
		{".hidden", true},
		{"a.b", true},
		{"", false},
		{".", false}, // a URL path segment that means "here"
		{"..", false},
		{" a", false},
		{"a ", false},
		{"a/b", false},
		{"a\tb", false},
		{string(make([]byte, 101)), false},
	} {
		if err := ValidateName("name", tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
