package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pbxbill/rating"
	"pbxbill/store"
)

// weekDeck is DOMAIN.md's example week of prefix 44, a blocked premium
// prefix, and a catch-all.
const weekDeck = "prefix,destination,rate,days,hours,blocked\n" +
	"44,UK peak,0.02,mon-fri,08:00-18:00,\n" +
	"44,UK Friday night,0.005,fri,22:00-06:00,\n" +
	"44,UK,0.01,,,\n" +
	"4490,UK premium,1.50,,,true\n" +
	"*,Anywhere,0.90,,,\n"

// TestRatesWeekAPI: days, hours and blocked through the API's rows, its
// export and delete, and the rate fields of rate and price, read in the
// installation's zone.
func TestRatesWeekAPI(t *testing.T) {
	ts := mustServeWith(t, store.Options{TZ: "Europe/London", Currency: "EUR"})
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"retail"}`).want(201)
	ts.putRates("retail", "", weekDeck).want(200)
	ts.mustTenant(rating.Tenant{Name: "Acme", BillingMode: rating.Prepaid, OutboundTable: "retail"}, "10")

	items := ts.admin("GET", "/api/v1/rate-tables/retail/rates?prefix=44", "").want(200).items()
	if len(items) != 4 || items[0]["days"] != nil || items[0]["hours"] != nil ||
		items[1]["days"] != "fri" || items[1]["hours"] != "22:00-06:00" || items[2]["days"] != "mon-fri" ||
		items[3]["blocked"] != true || items[2]["blocked"] != false {
		t.Errorf("rows %v", items)
	}

	// Friday 17:59 in London (GMT in November) is the peak, for the whole
	// call; 18:00 is the default; Saturday 05:59 is Friday night's.
	for _, tc := range []struct{ at, rate, cost, days, hours string }{
		{"2026-11-27T17:59:00Z", "0.02", "1.2000", "mon-fri", "08:00-18:00"},
		{"2026-11-27T18:00:00Z", "0.01", "0.6000", "", ""},
		{"2026-11-28T05:59:00Z", "0.005", "0.3000", "fri", "22:00-06:00"},
		{"2026-06-26T16:59:00Z", "0.02", "1.2000", "mon-fri", "08:00-18:00"}, // 17:59 BST
		{"2026-06-26T17:00:00Z", "0.01", "0.6000", "", ""},
	} {
		m := ts.local("/api/v1/price?tenant=Acme&number=%2B442079460000&duration=3600&at=" + tc.at).want(200).obj()
		days, _ := m["days"].(string)
		hours, _ := m["hours"].(string)
		if m["rate"] != tc.rate || m["cost"] != tc.cost || days != tc.days || hours != tc.hours || m["blocked"] != false {
			t.Errorf("price at %s: %v", tc.at, m)
		}
	}
	if m := ts.local("/api/v1/rate?tenant=Acme&number=449012345&at=2026-11-27T12:00:00Z").want(200).obj(); m["blocked"] != true || m["prefix"] != "4490" {
		t.Errorf("the blocked row: %v", m)
	}
	// The store's blocked flag reaches the authorization, which refuses.
	if m := ts.local("/api/v1/authorize?tenant=Acme&number=449012345").want(200).obj(); m["allowed"] != false ||
		m["reason"] != rating.ReasonBlockedDestination || m["blocked"] != true {
		t.Errorf("authorize a blocked destination: %v", m)
	}

	// A CDR is priced by the row of the week at its start, in London's
	// zone; a blocked row still prices its CDR. Re-rating after the peak
	// row is gone corrects the call to the default.
	var cdrs struct {
		Results []struct{ ID, Status, Cost string }
	}
	ts.admin("POST", "/api/v1/cdrs", `[{"id":"peak","tenant":"Acme","number":"442079460000","start":"2026-06-26T16:59:00Z","duration":3600},
		{"id":"premium","tenant":"Acme","number":"449012345","start":"2026-06-26T16:59:00Z","duration":60}]`).want(200).decode(&cdrs)
	if len(cdrs.Results) != 2 || cdrs.Results[0].Cost != "1.2" || cdrs.Results[1].Status != "rated" || cdrs.Results[1].Cost != "1.5" {
		t.Errorf("CDRs: %+v", cdrs.Results)
	}

	// The export reads back to the same rows.
	csv := ts.admin("GET", "/api/v1/rate-tables/retail/rates?format=csv", "").want(200)
	if !strings.Contains(string(csv.body), "44,UK Friday night,0.005,,,,,,,,,fri,22:00-06:00,\n") ||
		!strings.Contains(string(csv.body), ",true\n") {
		t.Errorf("export:\n%s", csv.body)
	}
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"copy"}`).want(201)
	ts.putRates("copy", "", string(csv.body)).want(200)
	var a, b struct{ Items []rowOut }
	_ = json.Unmarshal([]byte(ts.allRates("retail")), &a)
	_ = json.Unmarshal([]byte(ts.allRates("copy")), &b)
	ja, _ := json.Marshal(a.Items)
	jb, _ := json.Marshal(b.Items)
	if string(ja) != string(jb) || len(a.Items) != 5 {
		t.Errorf("re-imported export differs:\n%s\n%s", ja, jb)
	}

	// Overlapping times are refused with their lines, and change nothing.
	ts.putRates("retail", "?mode=merge", "prefix,rate,days,hours\n44,0.03,fri,17:00-19:00\n").wantError(400, rating.EInvalid, "overlap")
	ts.putRates("retail", "", "prefix,rate,days,hours\n44,0.03,fri,17:00-19:00\n44,0.02,weekdays,08:00-18:00\n").
		wantError(400, rating.EInvalid, "line 3", "overlap")

	// DELETE names a timed row by its days and hours, as a deck writes them.
	del := func(path string) response {
		t.Helper()
		return ts.admin("DELETE", "/api/v1/rate-tables/retail/rates/"+path, "")
	}
	del("44?days=fri&hours=22:00-06:00").want(204)
	del("44?days=fri&hours=22:00-06:00").wantError(404, rating.ENotFound, "44", "fri 22:00-06:00")
	del("44?days=Monday-Friday&hours=08:00-18:00").want(204)
	if m := ts.admin("POST", "/api/v1/cdrs/rerate?from=2026-06-26&to=2026-06-26", "").want(200).obj(); m["corrected"] != 1.0 {
		t.Errorf("re-rate without the peak row: %v", m)
	}
	if items := ts.admin("GET", "/api/v1/cdrs?tenant=Acme", "").want(200).items(); len(items) != 2 || items[1]["cost"] != "0.6" && items[0]["cost"] != "0.6" {
		t.Errorf("CDRs after the re-rate: %v", items)
	}
	del("44?days=funday").wantError(400, rating.EInvalid, "days", "funday")
	del("44?hours=8-18").wantError(400, rating.EInvalid, "hours", "8-18")
	del("44").want(204)
	if n := len(ts.admin("GET", "/api/v1/rate-tables/retail/rates?prefix=44", "").want(200).items()); n != 1 {
		t.Errorf("%d rows of 44 left, want 4490's", n)
	}
}

// TestUIRateWeek: the admin's row form and table show a row's times and
// its blocked flag, and "Try a number" says which row of the week applied.
func TestUIRateWeek(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	b.login()
	b.post("/rates/outbound", url.Values{"name": {"Retail"}, "decimals": {"4"}, "rounding": {"half_up"},
		"initial_increment": {"60"}, "increment": {"60"}}).want(http.StatusSeeOther)
	tableURL := "/rates/outbound/Retail"
	b.follow(b.post(tableURL+"/rows", url.Values{"prefix": {"44"}, "destination": {"UK"}, "rate": {"0.01"}})).has("Added row 44 (UK)")
	b.follow(b.post(tableURL+"/rows", url.Values{"prefix": {"44"}, "destination": {"UK"}, "rate": {"0.02"},
		"days": {"mon-fri"}, "hours": {"08:00-18:00"}})).has("Added row 44 (UK, mon-fri 08:00-18:00)")
	// An overlapping row is refused next to the days, keeping what was typed.
	b.post(tableURL+"/rows", url.Values{"prefix": {"44"}, "rate": {"0.03"}, "days": {"fri"}, "hours": {"17:00-19:00"}}).
		want(http.StatusBadRequest).has(`value="17:00-19:00"`, "overlap", `class="field-error"`)
	b.post(tableURL+"/rows", url.Values{"prefix": {"44"}, "rate": {"0.03"}, "hours": {"25:00-26:00"}}).
		want(http.StatusBadRequest).has("hours &#34;25:00-26:00&#34;")
	b.follow(b.post(tableURL+"/rows", url.Values{"prefix": {"4490"}, "rate": {"1.5"}, "blocked": {"true"}})).has("Added row 4490")

	b.get(tableURL).has(`<span class="badge badge-charge">mon-fri 08:00-18:00</span>`,
		`<span class="badge">other times</span>`, `<span class="badge badge-blocked">blocked</span>`,
		`name="days" value="mon-fri"`)
	// The edit form carries the row's times, and saving moves that row only.
	b.get(tableURL+"?edit=44&eff=&days=mon-fri&hours=08:00-18:00").has(`name="orig_days" value="mon-fri"`, `name="hours" value="08:00-18:00"`)
	b.follow(b.post(tableURL+"/rows", url.Values{"prefix": {"44"}, "rate": {"0.025"}, "days": {"mon-fri"}, "hours": {"09:00-17:00"},
		"orig_prefix": {"44"}, "orig_days": {"mon-fri"}, "orig_hours": {"08:00-18:00"}})).has("Saved row 44")
	rows, _, _ := ts.Store.Rates("Retail", "44", "", 10)
	if len(rows) != 3 || rows[1].Hours.String() != "09:00-17:00" || rows[1].Rate != amt(t, "0.025") || !rows[2].Blocked {
		t.Errorf("rows after the edit: %+v", rows)
	}

	// Friday 2026-11-27 in UTC: 12:00 is the peak, 20:00 the default.
	b.get(tableURL+"?try_number=4420&try_duration=60&try_date=2026-11-27&try_time=12:00").
		has(`id="try-week"`, "mon-fri 09:00-17:00", "The row for mon-fri 09:00-17:00 applies: the call starts Fri 2026-11-27 12:00", "0.0250")
	b.get(tableURL+"?try_number=4420&try_duration=60&try_date=2026-11-27&try_time=20:00").
		has("The week&#39;s default row applies: no timed row of prefix 44 covers Fri 2026-11-27 20:00", "0.0100")
	b.get(tableURL + "?try_number=449011&try_duration=60").has(`id="try-blocked"`).hasNot(`id="try-week"`)

	// Delete the timed row by its times.
	b.follow(b.post(tableURL+"/rows/delete", url.Values{"prefix": {"44"}, "effective": {""}, "days": {"mon-fri"}, "hours": {"09:00-17:00"}})).
		has("Deleted row 44 mon-fri 09:00-17:00")
	if rows, _, _ := ts.Store.Rates("Retail", "44", "", 10); len(rows) != 2 {
		t.Errorf("rows after the delete: %+v", rows)
	}
}
