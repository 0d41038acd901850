package handlers

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"pbxbill/rating"
	"pbxbill/store"
)

// TestBackup streams a backup while CDRs are posted, opens it as a store,
// and finds the same tenants, balances and CDRs as of some moment.
func TestBackup(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	ts.postCDRs(`[{"id":"k1","tenant":"acme","number":"447911123456","provider":"carrierA","start":"2026-03-10T09:00:00Z","duration":95}]`)

	// A PBX keeps posting during the backup.
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			body := fmt.Sprintf(`{"id":"bg%d","tenant":"acme","number":"447911123456","start":"2026-03-10T10:00:00Z","duration":30}`, i)
			if _, err := postAsync(ts.URL, testToken, body); err != nil {
				done <- err
				return
			}
		}
	}()
	res := ts.do(req{method: "GET", path: "/api/v1/backup", token: testToken}).want(200)
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("posting during the backup: %v", err)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="pbxbill-\d{8}-\d{6}\.db"$`).MatchString(cd) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cl := res.header.Get("Content-Length"); cl != fmt.Sprint(len(res.body)) {
		t.Errorf("Content-Length %q of a %d-byte body", cl, len(res.body))
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, res.body, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Errorf("backup fails the check: %v", err)
	}
	tenants, err := st.Tenants()
	if err != nil {
		t.Fatal(err)
	}
	live, err := ts.Store.Tenants()
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) != len(live) || len(tenants) != 2 {
		t.Fatalf("backup has %d tenants, live %d", len(tenants), len(live))
	}
	for i := range live {
		if tenants[i].Name != live[i].Name {
			t.Errorf("tenant %d: backup %s, live %s", i, tenants[i].Name, live[i].Name)
		}
	}
	// beta did not move; acme's balance is the one of the CDRs the copy holds.
	if tenants[1].Balance != live[1].Balance {
		t.Errorf("beta: backup %s, live %s", tenants[1].Balance, live[1].Balance)
	}
	n, k1 := 0, false
	err = st.EachCDR(rating.CDRFilter{Tenant: "acme"}, func(c *rating.CDR) error {
		n++
		k1 = k1 || (c.ID == "k1" && c.Cost == mustMoney(t, "0.20"))
		return nil
	})
	if err != nil || !k1 {
		t.Errorf("backup: %d CDRs, k1 among them %v, %v", n, k1, err)
	}
	// k1 cost 0.20, every later one 0.10.
	if want := mustMoney(t, "9.80").Sub(rating.MoneyOf(int64(n-1) * int64(amt(t, "0.10")))); tenants[0].Balance != want {
		t.Errorf("acme in the backup: balance %s with %d CDRs, want %s", tenants[0].Balance, n, want)
	}

	var node createdNode
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx1"}`).want(201).decode(&node)
	ts.do(req{method: "GET", path: "/api/v1/backup", token: node.Token}).wantError(403, rating.EForbidden)
	ts.do(req{method: "GET", path: "/api/v1/backup"}).wantError(401, rating.EUnauthorized)
}
