package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
)

// On the demo data with the README's dialplan request, ten concurrent
// authorizations of a tenant with 1.00 grant at most 1.00 in total; its
// holds survive kill -9 and still count after the restart.
func TestEndToEndHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "holds.db")
	const token = "holds-e2e-token-0123456789abcdef"
	p := start(t, bin, "-db", db, "-demo", "-api-token", token)
	base := "http://" + p.addr

	// 25.00 of demo credit, less 24.00: 1.00 left.
	credits := base + "/api/v1/tenants/" + strings.ReplaceAll(demoPrepaid, " ", "%20") + "/credits"
	if code, body := call(t, http.MethodPost, credits, token, strings.NewReader(`{"amount": "-24", "kind": "adjustment", "note": "e2e"}`)); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("adjustment: %d %s", code, body)
	}

	// The README's dialplan: tenant=${CDR(accountcode)}, the dialled
	// number, call=${UNIQUEID}, format=text. A Swiss mobile costs 0.05 +
	// 0.20 a minute on 60/60: 1.00 buys 240 s, which hold 0.85; what is
	// left buys no first minute.
	grants := make([]int, 10)
	var wg sync.WaitGroup
	for i := range grants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := fmt.Sprintf("/api/v1/authorize?tenant=%s&number=%%2B41791234567&call=1764410000.%d&format=text", demoPrepaidCode, i)
			code, body := call(t, http.MethodGet, base+q, "", nil)
			n, err := strconv.Atoi(strings.TrimSpace(body))
			if code != http.StatusOK || err != nil {
				t.Errorf("authorize %d: %d %q", i, code, body)
			}
			grants[i] = n
		}()
	}
	wg.Wait()
	allowed := 0
	for _, g := range grants {
		if g > 0 {
			allowed++
			if g != 240 {
				t.Errorf("grant %d s, want 240", g)
			}
		}
	}
	if allowed != 1 {
		t.Fatalf("grants %v: want exactly one call allowed", grants)
	}
	held := heldOf(t, base, token)
	if held.GreaterThan(decimal.NewFromInt(1)) || !held.Equal(decimal.RequireFromString("0.85")) {
		t.Fatalf("held %s, want 0.85 of 1.00", held)
	}

	// kill -9, and start again on the same file.
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	p = start(t, bin, "-db", db, "-api-token", token)
	base = "http://" + p.addr
	if again := heldOf(t, base, token); !again.Equal(held) {
		t.Fatalf("held %s after the restart, want %s", again, held)
	}
	q := fmt.Sprintf("/api/v1/authorize?tenant=%s&number=%%2B41791234567&call=after-restart&format=text", demoPrepaidCode)
	if code, body := call(t, http.MethodGet, base+q, "", nil); code != http.StatusOK || body != "0\n" {
		t.Fatalf("a new call after the restart: %d %q, want 0: the hold still counts", code, body)
	}
	// The call ends: its CDR releases the hold and charges 0.25 for 45 s.
	cdr := fmt.Sprintf(`{"id": "1764410000.%d", "tenant": %q, "number": "+41791234567", "start": "2026-11-29T10:00:00Z", "duration": 45}`,
		firstAllowed(grants), demoPrepaidCode)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/cdrs", strings.NewReader(cdr))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("CDR: %d", res.StatusCode)
	}
	if h := heldOf(t, base, token); !h.IsZero() {
		t.Fatalf("held %s after the CDR, want 0", h)
	}
	p.stop(t)
}

// heldOf is the demo prepaid tenant's held credit, from its API answer.
func heldOf(t *testing.T, base, token string) decimal.Decimal {
	t.Helper()
	var tn struct{ Held string }
	getJSON(t, base+"/api/v1/tenants/"+strings.ReplaceAll(demoPrepaid, " ", "%20"), token, &tn)
	d, err := decimal.NewFromString(tn.Held)
	if err != nil {
		t.Fatalf("held %q: %v", tn.Held, err)
	}
	return d
}

func firstAllowed(grants []int) int {
	for i, g := range grants {
		if g > 0 {
			return i
		}
	}
	return -1
}
