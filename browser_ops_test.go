package main

import (
	"bytes"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// What an operator sees of issue 13's fixes, in the browser, on the demo
// data: the one-day chart has marks, a bad row shows all its errors at
// once, a top-up clicked twice posts once, and the CDR list runs by call
// start.
func TestBrowserOperatorFixes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives Chromium")
	}
	ctx := newChromium(t)
	bin := buildBinary(t)
	p := start(t, bin, "-db", filepath.Join(t.TempDir(), "ops.db"), "-demo", "-api-token", browserToken, "-admin-password", browserPassword)
	base := "http://" + p.addr
	b := &tab{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
	b.open("/login")
	b.set(`input[name=password]`, browserPassword)
	b.click(`form[action="/login"] button`)
	b.waitText("h1", "Tenants Dashboard")

	// CDRs that arrive in another order than they started.
	today := time.Now().UTC().Format("2006-01-02")
	cdrs := `[{"id":"late-start","tenant":"docs-demo-prepaid","number":"447700900123","provider":"carrier-a","start":"` + today + `T00:30:00Z","duration":60},
	          {"id":"early-start","tenant":"docs-demo-prepaid","number":"447700900123","start":"2026-11-28T09:00:00Z","duration":60},
	          {"id":"mid-start","tenant":"docs-demo-prepaid","number":"447700900123","start":"2026-11-28T21:00:00Z","duration":60}]`
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/cdrs", bytes.NewBufferString(cdrs))
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+browserToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	res.Body.Close()
	b.open("/usage?tenant=Docs+Demo+Prepaid")
	order := eval[[]string](b, `Array.from(document.querySelectorAll("#cdrs tbody td:first-child a")).map(a => a.title)`)
	if len(order) < 3 || order[0] != "id late-start" || order[1] != "id mid-start" || order[2] != "id early-start" {
		t.Errorf("the CDR list by start: %v", order)
	}
	b.shot("cdrs-by-start")

	// The Today button's range draws a dot per series.
	b.open("/providers")
	b.click(`.quick a[href*="from=` + today + `&to=` + today + `"]`)
	if n := eval[float64](b, `document.querySelectorAll("svg circle.dot").length`); n == 0 {
		t.Errorf("a one-day range draws no marks")
	}
	b.shot("providers-today")

	// A bad row: every field's error at once, the first in view.
	b.open("/rates/outbound/Docs%20Demo%20Outbound")
	b.set(`form[action$="/rows"] input[name=prefix]`, "44x")
	b.set(`form[action$="/rows"] input[name=rate]`, "cheap")
	b.set(`form[action$="/rows"] input[name=increment]`, "-3")
	b.click(`form[action$="/rows"] button[type=submit]`)
	if n := eval[float64](b, `document.querySelectorAll("form .field-error").length`); n < 3 {
		t.Errorf("%v field errors shown, want prefix, rate and increment at once", n)
	}
	if top := eval[float64](b, `document.querySelector("form .field-error").getBoundingClientRect().top`); top < 0 || top > eval[float64](b, `window.innerHeight`) {
		t.Errorf("the first error is at %v px, out of view", top)
	}
	b.shot("row-errors")

	// A top-up clicked twice posts once.
	balance := func() string {
		var tn struct{ Balance string }
		getJSON(t, base+"/api/v1/tenants/Docs%20Demo%20Prepaid", browserToken, &tn)
		return tn.Balance
	}
	before := balance()
	b.open("/tenants/Docs%20Demo%20Prepaid")
	b.set(`form[action$="/credits"] input[name=amount]`, "10")
	eval[bool](b, `(() => { const f = document.querySelector('form[action$="/credits"]'); f.requestSubmit(); f.requestSubmit(); return true })()`)
	b.waitText(".flash-ok", "osted") // "Posted a topup", or "posted nothing" for the second
	got := decimal.RequireFromString(balance())
	if want := decimal.RequireFromString(before).Add(decimal.NewFromInt(10)); !got.Equal(want) {
		t.Errorf("balance %s → %s: a double click posted other than once (want %s)", before, got, want)
	}
}
