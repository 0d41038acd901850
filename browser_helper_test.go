package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Helpers of the browser tests: a Chromium tab with short steps, and
// screenshots kept as test artifacts.

const (
	chromiumPath    = "/usr/bin/chromium"
	browserPassword = "Docs Demo browser password"
	browserToken    = "docs-demo-browser-token"
)

// newChromium starts a headless Chromium with a fresh profile. Without
// Chromium the test is skipped on a workstation, and fails in CI, where
// .ci/run installs it: CI must run it, not skip it.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s is missing (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("%s is missing; apt-get install -y chromium to run the browser test", chromiumPath)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// tab is the browser in the test's hands, with a bound on every step.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int
}

// do runs steps, each batch bounded so a broken page fails the test
// instead of hanging it.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\npage:\n%s", err, b.text("body"))
	}
}

func (b *tab) open(path string) { b.t.Helper(); b.do(chromedp.Navigate(b.base + path)) }

// eval runs a JavaScript expression in the page.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// text is the visible text of the first element matching sel, "" if none.
func (b *tab) text(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+strconv.Quote(sel)+`)||{}).innerText||""`))
	return v
}

// waitText waits, for at most 30 seconds, until sel's text contains want.
func (b *tab) waitText(sel, want string) string {
	b.t.Helper()
	var got string
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if got = b.text(sel); strings.Contains(got, want) {
			return got
		}
	}
	b.t.Fatalf("%s does not show %q; it shows:\n%s\npage:\n%s", sel, want, got, b.text("body"))
	return ""
}

// set types a value into a form field (select options included).
func (b *tab) set(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// click clicks and waits for the page that the click loads.
func (b *tab) click(sel string) {
	b.t.Helper()
	eval[bool](b, `window.__old = true`)
	b.do(chromedp.Click(chromedp.CSS(sel)))
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		old, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__old === true && document.readyState === "complete"`))
		cancel()
		if err == nil && !old {
			if ready := b.text("body"); ready != "" {
				return
			}
		}
	}
	b.t.Fatalf("clicking %s loaded no new page", sel)
}

// shot keeps a screenshot of the page under the artifacts directory.
func (b *tab) shot(name string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.n++
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name)), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return img
}

// screenshotDir keeps the screenshots after the test, as artifacts:
// $PBXBILL_SCREENSHOTS when set, a new temporary directory otherwise.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("PBXBILL_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "pbxbill-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkNotBlank fails unless a screenshot is a real page: a PNG of some
// size with many colours, not a white or error-grey rectangle.
func checkNotBlank(t *testing.T, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	r := img.Bounds()
	if r.Dx() < 800 || r.Dy() < 400 {
		t.Errorf("screenshot %s is %v, too small", name, r)
	}
	colours := map[[3]uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			c := img.At(x, y)
			cr, cg, cb, _ := c.RGBA()
			colours[[3]uint32{cr >> 8, cg >> 8, cb >> 8}] = true
		}
	}
	if len(colours) < 50 || len(b) < 20_000 {
		t.Errorf("screenshot %s looks blank: %d colours, %d bytes", name, len(colours), len(b))
	}
}
