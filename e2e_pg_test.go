package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"pbxbill/store/pg/pgtest"
)

const nodesToken = "two-nodes-token-0123456789abcdef"

// esc escapes a record's name for a path.
func esc(name string) string { return url.PathEscape(name) }

// do sends one JSON (or CSV, for a deck) request with the bootstrap
// token and fails unless it answers want.
func do(t *testing.T, base, method, path, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+nodesToken)
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(path, "/rates") {
		req.Header.Set("Content-Type", "text/csv")
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := new(strings.Builder)
	if _, err := io.Copy(buf, res.Body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, buf.String())
	}
	return buf.String()
}

// balanceOf reads a tenant's balance and held credit from a node.
func balanceOf(t *testing.T, base, tenant string) (balance, held decimal.Decimal) {
	t.Helper()
	var tn struct{ Balance, Held string }
	getJSON(t, base+"/api/v1/tenants/"+esc(tenant), nodesToken, &tn)
	return decimal.RequireFromString(tn.Balance), decimal.RequireFromString(tn.Held)
}

// twoNodeTenant makes a prepaid tenant on its own outbound table, 44 at
// rate a minute on 60/60, with credit.
func twoNodeTenant(t *testing.T, base, name, rate, credit string, maxCall int) {
	t.Helper()
	do(t, base, "POST", "/api/v1/rate-tables", fmt.Sprintf(`{"name": %q, "kind": "outbound"}`, name+" Out"), http.StatusCreated)
	do(t, base, "PUT", "/api/v1/rate-tables/"+esc(name+" Out")+"/rates", "prefix,destination,rate\n44,United Kingdom,"+rate+"\n", http.StatusOK)
	do(t, base, "POST", "/api/v1/tenants", fmt.Sprintf(`{"name": %q, "billing_mode": "prepaid", "outbound_rate_table": %q, "max_call_duration": %d}`,
		name, name+" Out", maxCall), http.StatusCreated)
	do(t, base, "POST", "/api/v1/tenants/"+esc(name)+"/credits", fmt.Sprintf(`{"amount": %q, "kind": "topup"}`, credit), http.StatusCreated)
}

// TestTwoNodes runs two pbxbill processes on one PostgreSQL database, as
// two PBX sites sharing their tenants: a deck imported on one prices on
// the other within a second; the same CDRs posted to both are billed
// once; authorizations with holds spread over both never hold more than
// the credit; both schedulers post each occurrence once; and a node
// killed during CDR intake loses nothing it acknowledged.
func TestTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	bin := buildBinary(t)
	db := pgtest.URL(t)
	a := start(t, bin, "-db", db, "-demo", "-api-token", nodesToken)
	b := start(t, bin, "-db", db, "-api-token", nodesToken)
	baseA, baseB := "http://"+a.addr, "http://"+b.addr

	t.Run("DeckFollows", func(t *testing.T) {
		twoNodeTenant(t, baseA, "Docs Demo Two Nodes", "0.10", "1000", 600)
		price := func() string {
			var r struct{ Rate string }
			getJSON(t, baseB+"/api/v1/rate?tenant="+url.QueryEscape("Docs Demo Two Nodes")+"&number=441234", nodesToken, &r)
			return r.Rate
		}
		if p := price(); p != "0.1" {
			t.Fatalf("node B prices 44 at %s, want 0.1", p)
		}
		do(t, baseA, "PUT", "/api/v1/rate-tables/"+esc("Docs Demo Two Nodes Out")+"/rates", "prefix,destination,rate\n44,United Kingdom,0.2\n", http.StatusOK)
		imported := time.Now()
		for p := price(); p != "0.2"; p = price() {
			if time.Since(imported) > time.Second {
				t.Fatalf("node B still prices 44 at %s a second after node A imported 0.2", p)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Back to 0.10 for the CDRs below.
		do(t, baseA, "PUT", "/api/v1/rate-tables/"+esc("Docs Demo Two Nodes Out")+"/rates", "prefix,destination,rate\n44,United Kingdom,0.10\n", http.StatusOK)
		for deadline := time.Now().Add(time.Second); price() != "0.1"; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("node B did not follow the second import")
			}
		}
	})

	t.Run("CDRsOnce", func(t *testing.T) {
		var cdrs []string
		for i := range 100 {
			cdrs = append(cdrs, fmt.Sprintf(`{"id": "once-%d", "tenant": "Docs Demo Two Nodes", "number": "441234", "start": "2026-11-29T10:00:00Z", "duration": 60}`, i))
		}
		body := "[" + strings.Join(cdrs, ",") + "]"
		var wg sync.WaitGroup
		rated := make([]int, 4)
		for i, base := range []string{baseA, baseB, baseA, baseB} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var p struct{ Rated, Duplicate int }
				if err := json.Unmarshal([]byte(do(t, base, "POST", "/api/v1/cdrs", body, http.StatusOK)), &p); err != nil {
					t.Error(err)
				}
				rated[i] = p.Rated
			}()
		}
		wg.Wait()
		if n := rated[0] + rated[1] + rated[2] + rated[3]; n != 100 {
			t.Fatalf("rated %v: %d in all, want 100", rated, n)
		}
		for _, base := range []string{baseA, baseB} {
			if bal, _ := balanceOf(t, base, "Docs Demo Two Nodes"); !bal.Equal(decimal.RequireFromString("990")) {
				t.Fatalf("balance %s, want 990: 100 calls of a minute at 0.10", bal)
			}
		}
	})

	t.Run("HoldsWithinCredit", func(t *testing.T) {
		// 10.00 of credit, 600 s calls at 0.10 a minute hold 1.00 each.
		twoNodeTenant(t, baseA, "Docs Demo Two Nodes Holds", "0.10", "10", 600)
		grants := make([]int, 200)
		var wg sync.WaitGroup
		for i := range grants {
			base := []string{baseA, baseB}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := fmt.Sprintf("/api/v1/authorize?tenant=%s&number=441234&call=hold-%d&format=text", url.QueryEscape("Docs Demo Two Nodes Holds"), i)
				code, body := call(t, http.MethodGet, base+q, nodesToken, nil)
				if code != http.StatusOK {
					t.Errorf("authorize %d: %d %s", i, code, body)
				}
				fmt.Sscan(body, &grants[i])
			}()
		}
		wg.Wait()
		granted := decimal.Zero
		for _, g := range grants {
			// 0.10 a started minute.
			granted = granted.Add(decimal.NewFromInt(int64((g + 59) / 60)).Mul(decimal.RequireFromString("0.10")))
		}
		if granted.GreaterThan(decimal.NewFromInt(10)) || granted.LessThan(decimal.NewFromInt(10)) {
			t.Fatalf("grants %v hold %s of a credit of 10", grants, granted)
		}
		for _, base := range []string{baseA, baseB} {
			if _, held := balanceOf(t, base, "Docs Demo Two Nodes Holds"); !held.Equal(granted) {
				t.Fatalf("held %s on %s, the answers granted %s", held, base, granted)
			}
		}
	})

	// SchedulesOnce, in the test itself: the nodes it restarts serve the
	// parts after it, and a subtest would stop them when it ends.
	{
		// A fee of 1.00 on the 1st from 24 months back: 25 are due. Both
		// nodes start at once, and each scheduler runs at its start.
		now := time.Now().UTC()
		from := time.Date(now.Year(), now.Month()-24, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		a.stop(t)
		b.stop(t)
		var wg sync.WaitGroup
		for i, p := range []**proc{&a, &b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				*p = start(t, bin, "-db", db, "-api-token", nodesToken)
				if i == 0 {
					do(t, "http://"+(*p).addr, "POST", "/api/v1/tenants/"+esc("Docs Demo Two Nodes")+"/schedules",
						fmt.Sprintf(`{"name": "seat", "amount": "-1", "day": 1, "start": %q}`, from), http.StatusCreated)
				}
			}()
		}
		wg.Wait()
		baseA, baseB = "http://"+a.addr, "http://"+b.addr
		// The schedule was created after the schedulers' first run;
		// restart both at once again so that both catch up together.
		a.stop(t)
		b.stop(t)
		for _, p := range []**proc{&a, &b} {
			wg.Add(1)
			go func() { defer wg.Done(); *p = start(t, bin, "-db", db, "-api-token", nodesToken) }()
		}
		wg.Wait()
		baseA, baseB = "http://"+a.addr, "http://"+b.addr
		want := decimal.RequireFromString("965") // 990 − 25
		deadline := time.Now().Add(30 * time.Second)
		for bal, _ := balanceOf(t, baseB, "Docs Demo Two Nodes"); !bal.Equal(want); bal, _ = balanceOf(t, baseB, "Docs Demo Two Nodes") {
			if bal.LessThan(want) || time.Now().After(deadline) {
				t.Fatalf("balance %s, want %s: 25 fees of 1.00, each once", bal, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Both schedulers have run by now; neither posts again.
		time.Sleep(time.Second)
		if bal, _ := balanceOf(t, baseA, "Docs Demo Two Nodes"); !bal.Equal(want) {
			t.Fatalf("balance %s a second later, want %s", bal, want)
		}
	}

	t.Run("KillDuringIntake", func(t *testing.T) {
		twoNodeTenant(t, baseB, "Docs Demo Two Nodes Kill", "0.10", "1000", 600)
		// Node A follows the deck made on B before its CDRs come: a CDR
		// priced in the moment before would find the table without rows.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			code, body := call(t, http.MethodGet, baseA+"/api/v1/rate?tenant="+url.QueryEscape("Docs Demo Two Nodes Kill")+"&number=441234", nodesToken, nil)
			if code == http.StatusOK && strings.Contains(body, `"rate":"0.1"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node A answers %d %s five seconds after B made the deck", code, body)
			}
		}
		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 1000 { // bounded: the kill ends it sooner
					id := fmt.Sprintf("kill-%d-%d", w, i)
					body := fmt.Sprintf(`{"id": %q, "tenant": "Docs Demo Two Nodes Kill", "number": "441234", "start": "2026-11-29T10:00:00Z", "duration": 30}`, id)
					req, _ := http.NewRequest("POST", baseA+"/api/v1/cdrs", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+nodesToken)
					req.Header.Set("Content-Type", "application/json")
					res, err := client.Do(req)
					if err != nil {
						return // killed
					}
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 300 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := a.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		stored := map[string]bool{}
		for after := ""; ; {
			var page struct {
				Items []struct{ ID string }
				Next  string
			}
			getJSON(t, baseB+"/api/v1/cdrs?limit=1000&tenant="+url.QueryEscape("Docs Demo Two Nodes Kill")+"&after="+url.QueryEscape(after), nodesToken, &page)
			for _, c := range page.Items {
				stored[c.ID] = true
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		for id := range acked {
			if !stored[id] {
				t.Errorf("CDR %s was acknowledged by the killed node and is not stored", id)
			}
		}
		bal, _ := balanceOf(t, baseB, "Docs Demo Two Nodes Kill")
		// 0.10 a started minute: each 30 s call costs 0.10.
		if want := decimal.NewFromInt(1000).Sub(decimal.RequireFromString("0.10").Mul(decimal.NewFromInt(int64(len(stored))))); !bal.Equal(want) {
			t.Errorf("balance %s after %d CDRs (%d acknowledged), want %s", bal, len(stored), len(acked), want)
		}
	})

	// pbxbill check runs beside the node still serving: it reads one
	// instant of the database.
	out, err := exec.Command(bin, "check", "-db", db).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Fatalf("pbxbill check: %v\n%s", err, out)
	}
	b.stop(t)
}
