package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test drives Debian's Chromium through chromedp against the
// real binary, through every step of the admin manual's workflow, the way
// an operator does it by hand.
func TestBrowserAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives Chromium")
	}
	ctx := newChromium(t)
	bin := buildBinary(t)
	p := start(t, bin, "-db", filepath.Join(t.TempDir(), "browser.db"), "-api-token", browserToken,
		"-admin-password", browserPassword)
	b := &tab{t: t, ctx: ctx, base: "http://" + p.addr, shots: screenshotDir(t)}
	t.Logf("screenshots in %s", b.shots)
	// The confirm dialogs of app.js would block a headless browser; the
	// operator's "OK" is the answer.
	accept := func() { eval[bool](b, `(window.confirm = () => true, true)`) }

	// Log in: a page asks for it, and comes back after.
	b.open("/tenants")
	b.waitText("h1", "Log in")
	checkNotBlank(t, "login", b.shot("login"))
	b.set(`input[name=password]`, "wrong password")
	b.click(`form[action="/login"] button`)
	b.waitText(".flash-error", "Wrong user name or password")
	b.set(`input[name=password]`, browserPassword)
	b.click(`form[action="/login"] button`)
	b.waitText("h1", "Tenants Dashboard")
	b.shot("tenants-empty")

	// A rate table on each of the three rate pages.
	tables := map[string]string{"outbound": "Docs Demo Browser Outbound", "inbound": "Docs Demo Browser DID",
		"conference": "Docs Demo Browser Rooms"}
	for _, kind := range []string{"outbound", "inbound", "conference"} {
		b.open("/rates/" + kind)
		b.set(`form[action="/rates/`+kind+`"] input[name=name]`, tables[kind])
		b.click(`form[action="/rates/` + kind + `"] button`)
		b.waitText(".flash-ok", "Created rate table "+tables[kind])
		b.shot("rates-" + kind)
	}
	b.open("/rates/outbound")
	b.waitText("table.data", tables["outbound"])
	checkNotBlank(t, "rates-outbound", b.shot("rates-outbound-list"))

	// A CSV deck with a bad line is refused with its line number; then a
	// good one is accepted with a summary.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	must(t, os.WriteFile(bad, []byte("prefix,destination,rate\n44,United Kingdom,0.06\n4477,UK Mobile,cheap\n"), 0o644))
	must(t, os.WriteFile(good, []byte("prefix,destination,rate\n44,United Kingdom,0.06\n4477,UK Mobile,0.12\n"), 0o644))
	b.open("/rates/outbound/" + url.PathEscape(tables["outbound"]))
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`form[action$="/upload"] input[type=file]`), []string{bad}))
	b.click(`form[action$="/upload"] button`)
	b.waitText("#upload-lines", "line 3")
	b.shot("upload-rejected")
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`form[action$="/upload"] input[type=file]`), []string{good}))
	b.click(`form[action$="/upload"] button`)
	// A replace is previewed first, and applied on confirmation.
	b.waitText("#preview", "would add 2, remove 0")
	b.shot("upload-preview")
	b.click(`#confirm-replace`)
	b.waitText(".flash-ok", "with the 2 rows of good.csv")
	b.waitText("#rate-rows", "UK Mobile")
	// app.js sorts a column in place: the Rate header twice is descending.
	for i := 0; i < 2; i++ {
		b.do(chromedp.Click(chromedp.CSS(`#rate-rows thead th:nth-child(3)`)))
	}
	if first := b.text("#rate-rows tbody tr td"); first != "4477" {
		t.Errorf("after sorting by rate, descending, the first prefix is %q, want 4477", first)
	}

	// Try a number: 61 s at 0.12 a minute in 60/60 increments is 120
	// billed seconds, 0.2400.
	b.set(`input[name=try_number]`, "+44 7700 900123")
	b.set(`input[name=try_duration]`, "61")
	b.click(`#try button`)
	b.waitText("#try-result", "4477")
	if got := b.text("#try-billed"); got != "120" {
		t.Errorf("billed seconds %q, want 120", got)
	}
	b.waitText("#try-cost", "0.2400 EUR")
	b.waitText(".steps", "b = 60 + ⌈(61 − 60) / 60⌉ × 60 = 120")
	b.shot("try-a-number")

	// A weekend row: the table shows its times, and "Try a number" says
	// which row of the week applied; on a weekday the week has a gap, and
	// the shorter prefix 44 prices the call.
	b.set(`#rowform input[name=prefix]`, "4478")
	b.set(`#rowform input[name=destination]`, "UK Mobile weekend")
	b.set(`#rowform input[name=rate]`, "0.03")
	b.set(`#rowform input[name=days]`, "sat,sun")
	b.click(`#rowform button[type=submit]`)
	b.waitText(".flash-ok", "Added row 4478 (UK Mobile weekend, sat,sun)")
	b.waitText("#rate-rows", "sat,sun")
	b.set(`input[name=try_number]`, "447800900123")
	b.set(`input[name=try_date]`, "2026-11-28")
	b.set(`input[name=try_time]`, "10:00")
	b.click(`#try button`)
	b.waitText("#try-week", "The row for sat,sun applies")
	b.shot("try-a-number-week")
	b.set(`input[name=try_date]`, "2026-11-30")
	b.click(`#try button`)
	b.waitText("#try-result", "United Kingdom")
	if got := b.text("#try-result dd b"); got != "44" {
		t.Errorf("on a Monday 447800900123 matched %q, want 44 through the weekend row's gap", got)
	}

	// The provider's buy prices, through the API as a script would.
	buyName := "Docs Demo Browser Buy"
	if code, body := call(t, http.MethodPost, b.base+"/api/v1/rate-tables", browserToken,
		strings.NewReader(`{"name":"`+buyName+`","kind":"outbound"}`)); code != http.StatusCreated {
		t.Fatalf("create buy table: %d %s", code, body)
	}
	if code, body := call(t, http.MethodPut, b.base+"/api/v1/rate-tables/"+url.PathEscape(buyName)+"/rates", browserToken,
		strings.NewReader("prefix,rate\n44,0.02\n")); code != http.StatusOK {
		t.Fatalf("buy rates: %d %s", code, body)
	}

	// A tenant with the three tables, and a provider, through the forms.
	b.open("/tenants/new")
	b.set(`input[name=name]`, "Docs Demo Browser Tenant")
	b.set(`input[name=accountcode]`, "docs-demo-browser")
	b.set(`select[name=outbound_rate_table]`, tables["outbound"])
	b.set(`select[name=inbound_rate_table]`, tables["inbound"])
	b.set(`select[name=conference_rate_table]`, tables["conference"])
	b.set(`input[name=low_balance_threshold]`, "5")
	b.click(`form[action="/tenants"] button`)
	b.waitText(".flash-ok", "Created tenant Docs Demo Browser Tenant")
	for _, sel := range []string{"outbound", "inbound", "conference"} {
		if got := eval[string](b, `document.querySelector("select[name=`+sel+`_rate_table]").value`); got != tables[sel] {
			t.Errorf("%s table %q after reopening, want %q", sel, got, tables[sel])
		}
	}
	// Top up.
	b.set(`form[action$="/credits"] input[name=amount]`, "20")
	b.click(`form[action$="/credits"] button`)
	b.waitText(".flash-ok", "the balance is now 20.0000 EUR")
	b.shot("tenant")

	b.open("/providers/new")
	b.set(`input[name=name]`, "Docs Demo Browser Carrier")
	b.set(`input[name=trunk]`, "browser-carrier")
	b.set(`select[name=outbound_rate_table]`, buyName)
	b.click(`form[action="/providers"] button`)
	b.waitText(".flash-ok", "Created provider Docs Demo Browser Carrier")

	// Two calls through the API: 90 s and 30 s to 44…, 120 and 60 billed
	// seconds at 0.06 a minute: 0.1200 + 0.0600 sold, 0.0400 + 0.0200 bought.
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	at := midnight.Add(now.Sub(midnight) / 2).Format(time.RFC3339) // surely today
	cdrs := `[{"id":"docs-demo-b1","tenant":"docs-demo-browser","number":"442079460000","provider":"browser-carrier","start":"` + at + `","duration":90},
		{"id":"docs-demo-b2","tenant":"docs-demo-browser","number":"442079460001","provider":"browser-carrier","start":"` + at + `","duration":30}]`
	req, _ := http.NewRequest(http.MethodPost, b.base+"/api/v1/cdrs", strings.NewReader(cdrs))
	req.Header.Set("Authorization", "Bearer "+browserToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("post CDRs: %v %v", res, err)
	}
	res.Body.Close()

	// The Tenants Dashboard shows the spend, the calls and the balance.
	b.open("/tenants")
	row := b.waitText("#tenants tbody", "Docs Demo Browser Tenant")
	// Money columns name the currency in their header (issue 13), not in each cell.
	if head := b.text("#tenants thead"); !strings.Contains(strings.ToUpper(head), "BALANCE (EUR)") {
		t.Errorf("Tenants Dashboard header lacks the currency: %s", head)
	}
	for _, want := range []string{"19.8200", "0.1800", "ok"} {
		if !strings.Contains(row, want) {
			t.Errorf("Tenants Dashboard row lacks %q:\n%s", want, row)
		}
	}
	checkNotBlank(t, "tenants", b.shot("tenants-dashboard"))

	// The Providers Dashboard for a From/To range that holds today.
	day := now.Format(time.DateOnly)
	b.open("/providers")
	b.set(`input[name=from]`, midnight.AddDate(0, 0, -1).Format(time.DateOnly))
	b.set(`input[name=to]`, day)
	b.click(`form.filters button`)
	b.waitText("#providers tbody", "Docs Demo Browser Carrier")
	if loc := eval[string](b, `location.search`); !strings.Contains(loc, "to="+day) {
		t.Errorf("the range is not in the URL: %q", loc)
	}
	cells := eval[string](b, `Array.from(document.querySelectorAll("#providers tbody tr td")).map(c => c.innerText).join("|")`)
	// provider, balance, attempts, answered, ASR, ACD, minutes, cost, revenue, margin, margin %
	want := "Docs Demo Browser Carrier|-0.0600|2|2|100.0%|1:00|2.00|0.0600|0.1800|0.1200|66.67%"
	if cells != want {
		t.Errorf("Providers Dashboard row\n got %s\nwant %s", cells, want)
	}
	b.shot("providers-dashboard")

	// Deleting a table in use is refused, naming its user.
	b.open("/rates/outbound/" + url.PathEscape(tables["outbound"]))
	accept()
	b.click(`#delete-table`)
	b.waitText(".flash-error", "Cannot delete "+tables["outbound"]+": it is used by tenant Docs Demo Browser Tenant")
	b.shot("delete-refused")

	for _, path := range []string{"/usage", "/usage?status=unrated", "/usage/upload", "/nodes"} {
		b.open(path)
		b.waitText("h1", "")
		b.shot(strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path), "-"))
	}

	// On a phone-sized screen the page does not scroll sideways; wide
	// tables scroll in their own box.
	b.do(chromedp.EmulateViewport(390, 844))
	b.open("/tenants")
	b.waitText("h1", "Tenants Dashboard")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 392 {
		t.Errorf("the Tenants Dashboard is %d px wide on a 390 px screen", w)
	}
	b.shot("narrow-tenants")
	b.open("/rates/outbound/" + url.PathEscape(tables["outbound"]))
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 392 {
		t.Errorf("a rate table page is %d px wide on a 390 px screen", w)
	}
	b.shot("narrow-ratetable")
	b.do(chromedp.EmulateReset())

	// Log out; the pages ask for the password again.
	b.click(`form.logout button`)
	b.waitText(".flash-ok", "You are logged out.")
	b.open("/tenants")
	b.waitText("h1", "Log in")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The first start creates the admin user and prints its password once, in
// one log line; the admin pages are never open without it, and a restart
// prints nothing.
func TestFirstStartAdminPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "first.db")
	p := start(t, bin, "-db", db)
	var password string
	var lines int
	for _, l := range strings.Split(p.logs.String(), "\n") {
		var ev struct{ Message, User, Password string }
		if json.Unmarshal([]byte(l), &ev) == nil && ev.Password != "" {
			lines++
			password = ev.Password
			if ev.User != "admin" || !strings.Contains(ev.Message, "first start") {
				t.Errorf("password line %s", l)
			}
		}
	}
	if lines != 1 || len(password) < 12 {
		t.Fatalf("%d password lines, password %q; log:\n%s", lines, password, p.logs.String())
	}
	base := "http://" + p.addr
	noFollow := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func(pw string) int {
		res, err := noFollow.PostForm(base+"/login", url.Values{"name": {"admin"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if res, err := noFollow.Get(base + "/tenants"); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the dashboard without a login: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if code := login("not " + password); code != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d", code)
	}
	if code := login(password); code != http.StatusSeeOther {
		t.Errorf("the printed password: %d", code)
	}
	p.stop(t)

	p = start(t, bin, "-db", db)
	if strings.Contains(p.logs.String(), `"password"`) {
		t.Errorf("a restart printed a password:\n%s", p.logs.String())
	}
	p.stop(t)
	// -admin-password resets it.
	p = start(t, bin, "-db", db, "-admin-password", browserPassword)
	base = "http://" + p.addr
	if code := login(password); code != http.StatusUnauthorized {
		t.Errorf("the old password after a reset: %d", code)
	}
	if code := login(browserPassword); code != http.StatusSeeOther {
		t.Errorf("the -admin-password: %d", code)
	}
}
