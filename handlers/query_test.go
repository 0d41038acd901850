package handlers

import (
	"net/url"
	"strings"
	"testing"
)

func TestParamsGet(t *testing.T) {
	for _, tc := range []struct{ raw, key, want string }{
		{"tenant=acme&number=44", "tenant", "acme"},
		{"tenant=acme&number=44", "number", "44"},
		{"tenant=acme&number=44", "kind", ""},
		{"tenant=Docs+Demo", "tenant", "Docs Demo"},
		{"number=%2B44%2020", "number", "+44 20"},
		{"number=%zz&number=44", "number", "44"}, // a broken escape is skipped
		{"number=1&number=2", "number", "1"},
		{"number", "number", ""},
		{"&&number=7&", "number", "7"},
		{"numbers=1&number=2", "number", "2"},
		{"", "number", ""},
	} {
		if got := params(tc.raw).Get(tc.key); got != tc.want {
			t.Errorf("params(%q).Get(%q) = %q, want %q", tc.raw, tc.key, got, tc.want)
		}
	}
}

// FuzzParamsGet checks params.Get against url.Values.Get for queries whose
// keys need no unescaping, which is every key the API reads.
func FuzzParamsGet(f *testing.F) {
	for _, s := range []string{"tenant=acme&number=%2B44+20", "a=1&a=2", "number=%", "x=%41&number=+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsAny(raw, ";") {
			return // url.ParseQuery refuses those pairs
		}
		for _, pair := range strings.Split(raw, "&") {
			if k, _, _ := strings.Cut(pair, "="); strings.ContainsAny(k, "%+") {
				return
			}
		}
		want, _ := url.ParseQuery(raw)
		for _, key := range []string{"tenant", "number", "a", "x"} {
			if got := params(raw).Get(key); got != want.Get(key) {
				t.Errorf("params(%q).Get(%q) = %q, url.Values says %q", raw, key, got, want.Get(key))
			}
		}
	})
}
