package main

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The demo's Recurring sections in a real browser: the next due dates,
// a schedule added through the form, the statement printed without the
// admin around it, and a test event from the Alerts page.
func TestBrowserRecurring(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives Chromium")
	}
	ctx := newChromium(t)
	bin := buildBinary(t)
	p := start(t, bin, "-db", filepath.Join(t.TempDir(), "browser.db"), "-demo", "-admin-password", browserPassword)
	b := &tab{t: t, ctx: ctx, base: "http://" + p.addr, shots: screenshotDir(t)}
	t.Logf("screenshots in %s", b.shots)
	b.open("/login")
	b.set(`input[name=password]`, browserPassword)
	b.click(`form[action="/login"] button`)
	b.waitText("h1", "Tenants Dashboard")

	now := time.Now().UTC()
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	b.open("/tenants/" + url.PathEscape(demoPrepaid))
	b.waitText("#recurring", "3 seats")
	b.waitText("#recurring", "Monthly plan refill")
	b.waitText("#recurring table", next)
	b.set(`#recurring form.cols input[name=name]`, "DID +44 20 7946 0000")
	b.set(`#recurring form.cols input[name=amount]`, "2.50")
	b.set(`#recurring form.cols input[name=day]`, "15")
	b.click(`#recurring form.cols button`)
	b.waitText(".flash-ok", "Saved schedule DID +44 20 7946 0000: next due")
	checkNotBlank(t, "recurring", b.shot("tenant-recurring"))

	b.open("/tenants/" + url.PathEscape(demoPrepaid) + "/statements/" + now.Format("2006-01"))
	b.waitText(".statement", "Statement of account")
	b.waitText(".statement-summary", "Closing balance")
	checkNotBlank(t, "statement", b.shot("statement"))
	media(t, b, "print")
	if shown := eval[string](b, `getComputedStyle(document.querySelector("header.top")).display + " " + getComputedStyle(document.querySelector(".noprint")).display`); shown != "none none" {
		t.Errorf("printed, the admin's header and buttons show: %q", shown)
	}
	checkNotBlank(t, "statement-print", b.shot("statement-print"))
	media(t, b, "")

	b.open("/events")
	b.waitText("h1", "Alerts")
	b.click(`form[action="/events/test"] button`)
	b.waitText(".flash-ok", "Queued test event")
	b.waitText("table.data", "tenant.state")
	b.shot("alerts")
}

// media emulates a CSS media type ("print"), "" for the screen again.
func media(t *testing.T, b *tab, m string) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		t.Fatal(err)
	}
}
