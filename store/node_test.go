package store

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

func TestNodeTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := MustOpenAt(t, path, Options{Now: (&testClock{t: epoch, step: time.Second}).Now})
	n, token, err := s.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "pbx_"))
	if !strings.HasPrefix(token, "pbx_") || err != nil || len(raw) != 32 {
		t.Errorf("token %q: want pbx_ and 32 base64url bytes", token)
	}
	if n.Name != "pbx1" || n.Created.IsZero() {
		t.Errorf("node %+v", n)
	}
	_, token2 := must2n(t)(s.CreateNode("pbx2"))
	if token2 == token {
		t.Error("two nodes got the same token")
	}
	_, _, err = s.CreateNode("pbx1")
	wantCode(t, err, rating.EConflict, `"pbx1"`)
	_, _, err = s.CreateNode("a/b")
	wantCode(t, err, rating.EInvalid, "name")

	if got := must[rating.Node](t)(s.NodeByToken(token)); got.Name != "pbx1" {
		t.Errorf("token finds %q", got.Name)
	}
	if got := must[rating.Node](t)(s.NodeByToken(token2)); got.Name != "pbx2" {
		t.Errorf("token2 finds %q", got.Name)
	}
	for _, bad := range []string{"", "pbx_", token + "x", strings.ToUpper(token)} {
		_, err := s.NodeByToken(bad)
		wantCode(t, err, rating.EUnauthorized)
	}
	var names []string
	for _, n := range must[[]rating.Node](t)(s.Nodes()) {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "pbx1,pbx2" {
		t.Errorf("nodes %v", names)
	}

	if err := s.DeleteNode("pbx1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.NodeByToken(token)
	wantCode(t, err, rating.EUnauthorized)
	wantCode(t, s.DeleteNode("pbx1"), rating.ENotFound, `node "pbx1" not found`)
	must[rating.Node](t)(s.NodeByToken(token2))

	// Only the hash is kept: the token is nowhere in the file.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(token2)) || bytes.Contains(file, raw) {
		t.Error("the database file holds a token")
	}
}

func TestNodeLastSeenThrottle(t *testing.T) {
	c := &testClock{t: epoch}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "db"), Options{Now: c.Now})
	_, token := must2n(t)(s.CreateNode("pbx"))
	stored := func() time.Time {
		ns := must[[]rating.Node](t)(s.Nodes())
		return ns[0].LastSeen
	}
	if !stored().IsZero() {
		t.Fatal("LastSeen set before any request")
	}
	must[rating.Node](t)(s.NodeByToken(token))
	if got := stored(); !got.Equal(epoch) {
		t.Errorf("first request: LastSeen %v, want %v", got, epoch)
	}
	for range 5 {
		c.Add(10 * time.Second)
		must[rating.Node](t)(s.NodeByToken(token))
	}
	if got := stored(); !got.Equal(epoch) {
		t.Errorf("within the minute: LastSeen %v was written again", got)
	}
	c.Add(10 * time.Second) // a minute after the first write
	must[rating.Node](t)(s.NodeByToken(token))
	if got := stored(); !got.Equal(epoch.Add(time.Minute)) {
		t.Errorf("after a minute: LastSeen %v, want %v", got, epoch.Add(time.Minute))
	}
}

// must2n unwraps CreateNode.
func must2n(tb testing.TB) func(rating.Node, string, error) (rating.Node, string) {
	return func(n rating.Node, token string, err error) (rating.Node, string) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return n, token
	}
}
