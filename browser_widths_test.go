package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Every page of the admin fits a wide screen and a phone: on the demo
// data, at 1440 and at 390 CSS pixels, the document is no wider than the
// window (tables scroll inside their own box). A screenshot of each page
// at each width is kept.
func TestBrowserWidths(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives Chromium")
	}
	ctx := newChromium(t)
	bin := buildBinary(t)
	p := start(t, bin, "-db", filepath.Join(t.TempDir(), "widths.db"), "-demo", "-admin-password", browserPassword)
	b := &tab{t: t, ctx: ctx, base: "http://" + p.addr, shots: screenshotDir(t)}
	b.open("/login")
	b.set(`input[name=password]`, browserPassword)
	b.click(`form[action="/login"] button`)
	b.waitText("h1", "Tenants Dashboard")
	pages := []string{"/tenants", "/tenants/Docs%20Demo%20Prepaid", "/tenants/new", "/providers", "/providers/Docs%20Demo%20Carrier%20A",
		"/rates/outbound", "/rates/outbound/Docs%20Demo%20Outbound", "/rates/outbound/Docs%20Demo%20Outbound/margins",
		"/rates/inbound", "/rates/conference", "/usage", "/usage?status=unrated", "/usage/upload", "/nodes", "/users", "/audit"}
	for _, width := range []int64{1440, 390} {
		b.do(chromedp.EmulateViewport(width, 900))
		for _, path := range pages {
			b.open(path)
			doc := eval[float64](b, `document.documentElement.scrollWidth`)
			win := eval[float64](b, `window.innerWidth`)
			b.shot(fmt.Sprintf("w%d%s", width, strings.NewReplacer("/", "_", "?", "_", "%20", "-").Replace(path)))
			if doc > win {
				t.Errorf("%s at %d px: the document is %.0f px wide, the window %.0f", path, width, doc, win)
			}
		}
	}
}
