package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"pbxbill/store/pg/pgtest"
)

// TestMigrate copies a bbolt installation to PostgreSQL with the built
// binary: the demo data with 10^5 CDRs billed over both demo tenants and
// two carriers, a hold of a call in progress and its schedules. migrate
// checks both databases and compares their dashboards; a node started on
// the copy answers the same balances and held credit, and a second
// migrate into the same database is refused and changes nothing.
func TestMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	bin := buildBinary(t)
	file := filepath.Join(t.TempDir(), "source.db")
	p := start(t, bin, "-db", file, "-demo", "-api-token", nodesToken)
	base := "http://" + p.addr
	q := fmt.Sprintf("/api/v1/authorize?tenant=%s&number=%%2B41791234567&call=in-progress&format=text", demoPrepaidCode)
	if code, body := call(t, http.MethodGet, base+q, nodesToken, nil); code != http.StatusOK || body == "0\n" {
		t.Fatalf("authorize: %d %q", code, body)
	}
	const total, batch = 100_000, 5_000
	for k := 0; k < total; k += batch {
		var b bytes.Buffer
		b.WriteByte('[')
		for i := k; i < k+batch; i++ {
			if i > k {
				b.WriteByte(',')
			}
			tenant, carrier := []string{demoPrepaidCode, demoPostpaid}[i%2], []string{"carrier-a", "carrier-b"}[i/2%2]
			fmt.Fprintf(&b, `{"id": "m-%d", "tenant": %q, "provider": %q, "number": "4420%07d", "start": "2026-11-%02dT%02d:00:00Z", "duration": %d}`,
				i, tenant, carrier, i, 1+i%28, i%24, i%7)
		}
		b.WriteByte(']')
		do(t, base, "POST", "/api/v1/cdrs", b.String(), http.StatusOK)
	}
	balance := map[string]decimal.Decimal{}
	held := map[string]decimal.Decimal{}
	for _, name := range []string{demoPrepaid, demoPostpaid} {
		balance[name], held[name] = balanceOf(t, base, name)
	}
	p.stop(t)

	db := pgtest.URL(t)
	out, err := exec.Command(bin, "migrate", "-from", file, "-to", db).CombinedOutput()
	if err != nil {
		t.Fatalf("pbxbill migrate: %v\n%s", err, out)
	}
	t.Logf("pbxbill migrate:\n%s", out)
	for _, want := range []string{"100000 CDRs", "1 holds", "ok: both databases check, and their dashboards agree"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("migrate printed no %q:\n%s", want, out)
		}
	}
	q2 := start(t, bin, "-db", db, "-api-token", nodesToken)
	for _, name := range []string{demoPrepaid, demoPostpaid} {
		b, h := balanceOf(t, "http://"+q2.addr, name)
		if !b.Equal(balance[name]) || !h.Equal(held[name]) {
			t.Errorf("%s on PostgreSQL: balance %s held %s; in the file %s and %s", name, b, h, balance[name], held[name])
		}
	}
	q2.stop(t)
	if out, err := exec.Command(bin, "migrate", "-from", file, "-to", db).CombinedOutput(); err == nil || !strings.Contains(string(out), "already holds pbxbill records") {
		t.Fatalf("a second migrate into the same database: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "check", "-db", db).CombinedOutput(); err != nil || !strings.Contains(string(out), "100000 CDRs checked") {
		t.Fatalf("pbxbill check after the refused migrate: %v\n%s", err, out)
	}
}
