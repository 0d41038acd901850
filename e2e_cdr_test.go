package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's "Billing CDRs" walk-through, against the real binary: the
// sample Master.csv is uploaded, the balances and the provider figures move
// by amounts worked out by hand below from the demo rows, a repeat upload
// changes nothing, re-rating prices the one unrated leg, and a backup
// passes "pbxbill check" and serves again after a restore.
//
// Sell, from Docs Demo Outbound, Inbound and Conference Rooms:
//
//	prepaid   447911123456   95 s  447 0.0450, 0.0100 to connect, 30/6: 96 s  0.0820
//	prepaid   4930123456      0 s  unanswered                               0
//	prepaid   room 8100    1800 s  8 0.0050 a minute, 60/60                 0.1500
//	prepaid   room 8100    1080 s                                           0.0900
//	prepaid   room 8100     600 s                                           0.0500
//	prepaid   room 8901     305 s  89 0.0150, 60/60: 6 minutes              0.0900
//	prepaid   4915112345678  47 s  4915 0.0650, 60/60                        0.0650
//	                                                             prepaid    0.5270
//	postpaid  33612345678   121 s  336 0.0450, 1/1: 0.09075, half up        0.0908
//	postpaid  DID 442079460958 300 s inbound 4420 0.0020, 60/60             0.0100
//	postpaid  12125550123   300 s  1 0.0100, 1/1                            0.0500
//	postpaid  room 8100     240 s  no conference table: unrated             0
//	postpaid  442071234567   62 s  44 0.0120, 1/1                           0.0124
//	                                                             postpaid   0.1632
//
// Buy, rounded up to 6 decimals: Carrier A (1/1; inbound 60/60) 95 s at
// 0.0280 = 0.044334, 300 s at 0.0045 = 0.0225, 5 inbound minutes at 0.0008
// = 0.0040: 0.070834 for 3 answered legs, selling 0.1420. Carrier B (30/6)
// 126 s at 0.0320 = 0.0672, 48 s at 0.0420 = 0.0336, 66 s at 0.0055 =
// 0.00605: 0.10685 for 3 of 4 legs answered, selling 0.1682.
func TestEndToEndCDRs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "pbxbill.db")
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	token := hex.EncodeToString(tok)
	p := start(t, bin, "-db", db, "-demo", "-api-token", token)
	base := "http://" + p.addr
	sample, err := os.ReadFile("examples/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	upload := base + "/api/v1/cdrs?format=asterisk"
	if code, body := call(t, http.MethodPost, upload, "", bytes.NewReader(sample)); code != http.StatusUnauthorized {
		t.Fatalf("upload without a token: %d %s, want 401", code, body)
	}
	var posted struct {
		Results                            []struct{ ID, Status, Cost, Reason string }
		Rated, Duplicate, Unrated, Skipped int
	}
	postJSON(t, upload, token, sample, &posted)
	if posted.Rated != 11 || posted.Unrated != 1 || posted.Duplicate != 0 || posted.Skipped != 1 || len(posted.Results) != 12 {
		t.Fatalf("upload: %d rated, %d unrated, %d duplicate, %d skipped, %d results; want 11, 1, 0, 1 and 12",
			posted.Rated, posted.Unrated, posted.Duplicate, posted.Skipped, len(posted.Results))
	}
	if r := posted.Results[0]; r.ID != "1795511702.3" || r.Status != "rated" {
		t.Errorf("first result %+v", r)
	} else {
		sameMoney(t, "95 s to a UK mobile", r.Cost, "0.0820")
	}
	for _, r := range posted.Results {
		if r.Status == "unrated" && r.Reason != "no_table" {
			t.Errorf("unrated %s: reason %q, want no_table (the postpaid tenant has no conference table)", r.ID, r.Reason)
		}
	}
	checkBooks := func(prepaid, postpaid string) {
		t.Helper()
		checkTenants(t, base, token, map[string]string{demoPrepaid: prepaid, demoPostpaid: postpaid})
		checkProviders(t, base, token)
	}
	checkBooks("24.473", "-0.1632")

	// The same file again: every line is a duplicate, nothing moves.
	postJSON(t, upload, token, sample, &posted)
	if posted.Duplicate != 12 || posted.Rated != 0 || posted.Unrated != 0 {
		t.Errorf("second upload: %+v, want 12 duplicates", posted)
	}
	checkBooks("24.473", "-0.1632")

	// The README's re-rating: give the postpaid tenant conference rates,
	// then price the unrated leg: 240 s in room 8100 is 0.0200.
	tenantURL := base + "/api/v1/tenants/" + url.PathEscape(demoPostpaid)
	req, err := http.NewRequest(http.MethodPut, tenantURL, strings.NewReader(`{"conference_rate_table": "`+demoConference+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", tenantURL, resp.Status)
	}
	var rerated struct{ Rated, Corrected, Unchanged int }
	for i, want := range []int{1, 0} {
		postJSON(t, base+"/api/v1/cdrs/rerate?status=unrated", token, nil, &rerated)
		if rerated.Rated != want || rerated.Corrected != 0 {
			t.Errorf("re-rate %d: %+v, want %d rated", i+1, rerated, want)
		}
	}
	checkBooks("24.473", "-0.1832")

	code, backup := call(t, http.MethodGet, base+"/api/v1/backup", token, nil)
	if code != http.StatusOK {
		t.Fatalf("backup: %d %s", code, backup)
	}
	copyDB := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(copyDB, []byte(backup), 0o600); err != nil {
		t.Fatal(err)
	}
	// The server still holds its file: check refuses it, and passes the
	// backup.
	if out, err := exec.Command(bin, "check", "-db", db).CombinedOutput(); err == nil || !strings.Contains(string(out), "locked") {
		t.Errorf("check of the live file: %v, %s; want a refusal that says it is locked", err, out)
	}
	p.stop(t)
	for _, file := range []string{copyDB, db} {
		out, err := exec.Command(bin, "check", "-db", file).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok: "+file+": 2 tenants, 2 providers, ") ||
			!strings.HasSuffix(string(out), " 12 CDRs checked\n") {
			t.Errorf("pbxbill check -db %s: %v, %q", file, err, out)
		}
	}

	// Restore: the backup in place of the database, then start.
	if err := os.Rename(copyDB, db); err != nil {
		t.Fatal(err)
	}
	p = start(t, bin, "-db", db, "-api-token", token)
	base = "http://" + p.addr
	checkBooks("24.473", "-0.1832")
	p.stop(t)
}

// postJSON POSTs body and decodes a 200 answer into v.
func postJSON(t *testing.T, url, token string, body []byte, v any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	code, out := call(t, http.MethodPost, url, token, r)
	if code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", url, code, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("POST %s: %v in %s", url, err, out)
	}
}

// checkTenants compares the tenants dashboard's balances with want.
func checkTenants(t *testing.T, base, token string, want map[string]string) {
	t.Helper()
	var d struct {
		Tenants []struct{ Name, Balance string }
	}
	getJSON(t, base+"/api/v1/dashboard/tenants", token, &d)
	if len(d.Tenants) != len(want) {
		t.Fatalf("tenants dashboard: %+v, want %d tenants", d.Tenants, len(want))
	}
	for _, tn := range d.Tenants {
		sameMoney(t, tn.Name+"'s balance", tn.Balance, want[tn.Name])
	}
}

// checkProviders compares the providers dashboard for the sample's day
// with the figures worked out above.
func checkProviders(t *testing.T, base, token string) {
	t.Helper()
	type figures struct {
		Name, Balance, Cost, Revenue, Margin string
		Attempts, Answered                   int
	}
	var d struct {
		Providers []figures
		Totals    figures
	}
	getJSON(t, base+"/api/v1/dashboard/providers?from=2026-11-24&to=2026-11-24", token, &d)
	want := map[string]figures{
		demoCarrierA: {Balance: "499.929166", Cost: "0.070834", Revenue: "0.142", Margin: "0.071166", Attempts: 3, Answered: 3},
		demoCarrierB: {Balance: "249.89315", Cost: "0.10685", Revenue: "0.1682", Margin: "0.06135", Attempts: 4, Answered: 3},
	}
	if len(d.Providers) != 2 {
		t.Fatalf("providers dashboard: %+v", d.Providers)
	}
	for _, f := range d.Providers {
		w := want[f.Name]
		if f.Attempts != w.Attempts || f.Answered != w.Answered {
			t.Errorf("%s: %d attempts, %d answered; want %d and %d", f.Name, f.Attempts, f.Answered, w.Attempts, w.Answered)
		}
		sameMoney(t, f.Name+"'s balance", f.Balance, w.Balance)
		sameMoney(t, f.Name+"'s cost", f.Cost, w.Cost)
		sameMoney(t, f.Name+"'s revenue", f.Revenue, w.Revenue)
		sameMoney(t, f.Name+"'s margin", f.Margin, w.Margin)
	}
	sameMoney(t, "total cost", d.Totals.Cost, "0.177684")
	sameMoney(t, "total revenue", d.Totals.Revenue, "0.3102")
	if d.Totals.Attempts != 7 {
		t.Errorf("total attempts %d, want 7", d.Totals.Attempts)
	}
}

// TestEndToEndFollow bills the same sample with no upload at all: the
// server follows a Master.csv that grows in two steps, with a restart in
// between, and ends with the same books as the upload.
func TestEndToEndFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	sample, err := os.ReadFile("examples/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	csv := filepath.Join(dir, "Master.csv")
	token := "e2e-follow-token"
	args := []string{"-db", filepath.Join(dir, "pbxbill.db"), "-demo", "-api-token", token,
		"-follow-cdr-csv", csv, "-follow-interval", "20ms"}
	for i, part := range []string{strings.Join(lines[:6], ""), strings.Join(lines[6:], "")} {
		appendTo(t, csv, part)
		p := start(t, bin, args...)
		// 5 of the first 6 lines are billed (one is an internal call),
		// then all 12.
		waitCDRs(t, "http://"+p.addr, token, []int{5, 12}[i])
		if i == 1 {
			checkTenants(t, "http://"+p.addr, token, map[string]string{demoPrepaid: "24.473", demoPostpaid: "-0.1632"})
			checkProviders(t, "http://"+p.addr, token)
		}
		p.stop(t)
		if !strings.Contains(p.logs.String(), "stopped following the CDR file") {
			t.Errorf("no clean stop of the follower:\n%s", p.logs.String())
		}
	}
}

// waitCDRs polls GET /api/v1/cdrs, for at most 30 seconds, until it lists
// n CDRs, and fails if it lists more.
func waitCDRs(t *testing.T, base, token string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var list struct{ Items []json.RawMessage }
		getJSON(t, base+"/api/v1/cdrs?limit=1000", token, &list)
		switch {
		case len(list.Items) == n:
			return
		case len(list.Items) > n:
			t.Fatalf("%d CDRs listed, want %d", len(list.Items), n)
		case time.Now().After(deadline):
			t.Fatalf("%d CDRs listed after 30 s, want %d", len(list.Items), n)
		}
	}
}
