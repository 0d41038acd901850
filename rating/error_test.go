package rating

import (
	"strings"
	"testing"
)

// TestExcerpt: at most 40 characters, escaped, and … when cut.
func TestExcerpt(t *testing.T) {
	for in, want := range map[string]string{
		"":                         `""`,
		"acme":                     `"acme"`,
		"a\x01\n":                  `"a\x01\n"`,
		strings.Repeat("x", 40):    `"` + strings.Repeat("x", 40) + `"`,
		strings.Repeat("x", 41):    `"` + strings.Repeat("x", 40) + `"…`,
		strings.Repeat("é", 50):    `"` + strings.Repeat("é", 40) + `"…`,
		strings.Repeat("\xff", 41): `"` + strings.Repeat(`\xff`, 40) + `"…`,
	} {
		if got := Excerpt(in); got != want {
			t.Errorf("Excerpt(%.50q) = %s, want %s", in, got, want)
		}
	}
}
