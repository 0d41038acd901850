package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"pbxbill/rating"
)

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// bigPart posts a multipart form whose fields come first and whose file
// part holds size bytes, streamed rather than held. It answers 0 when the
// server cut the upload off before the client could read an answer.
func (b *browser) bigPart(path string, fields url.Values, size int64) int {
	b.tb.Helper()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if _, err := mw.CreateFormFile("file", "big.csv"); err != nil {
		b.tb.Fatal(err)
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	body := io.MultiReader(&head, io.LimitReader(zeros{}, size), strings.NewReader(tail))
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, body)
	if err != nil {
		b.tb.Fatal(err)
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := b.c.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// TestFormsLeaveNoTempFiles posts multipart forms with a file part larger
// than net/http keeps in memory to every kind of form, and checks after
// each that $TMPDIR holds nothing new, whatever the answer was: net/http
// removes only the form of the request it made, and the handlers read
// theirs from mux's copy. Not parallel: it sets the process's TMPDIR.
func TestFormsLeaveNoTempFiles(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	empty := func(what string, status int) {
		t.Helper()
		es, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) > 0 {
			t.Errorf("%s (answered %d) left %d files in $TMPDIR, the first %s", what, status, len(es), es[0].Name())
			for _, e := range es {
				_ = os.RemoveAll(tmp + "/" + e.Name())
			}
		}
	}
	const big = 40 << 20 // above the 32 MiB that net/http's forms keep in memory

	b := newBrowser(ts)
	b.login() // before the throttle below locks out this address
	anon := newBrowser(ts)
	st := anon.bigPart("/login", url.Values{"name": {"admin"}, "password": {"wrong"}}, big)
	empty("a login with a big file part", st)
	if st != 0 && st != http.StatusRequestEntityTooLarge {
		t.Errorf("a login with a big file part answers %d, want 413", st)
	}
	for range loginFailures {
		anon.post("/login", url.Values{"name": {"admin"}, "password": {"wrong"}})
	}
	st = anon.bigPart("/login", url.Values{"name": {"admin"}, "password": {"wrong"}}, 1<<10)
	empty("a throttled login with a file part", st)
	if st != http.StatusTooManyRequests {
		t.Errorf("a throttled login with a small file part answers %d, want 429", st)
	}

	tbl := "/rates/outbound/" + url.PathEscape("Docs Demo Retail")
	for _, path := range []string{"/tenants", "/tenants/" + url.PathEscape("Docs Demo Acme"), "/providers",
		"/tenants/" + url.PathEscape("Docs Demo Acme") + "/credits", "/rates/outbound", tbl + "/settings", tbl + "/rows",
		tbl + "/rows/delete", "/nodes", "/usage/rerate"} {
		st := b.bigPart(path, url.Values{"name": {"Docs Demo X"}}, big)
		empty("POST "+path, st)
	}
	st = b.bigPart("/usage/upload", url.Values{"format": {"asterisk"}}, big)
	empty("a CDR upload", st)
	if st != 0 && st != http.StatusBadRequest {
		t.Errorf("a CDR upload of zeros answers %d, want 400", st)
	}
	st = b.bigPart("/usage/upload", url.Values{"format": {"nonsense"}}, big)
	empty("a CDR upload in no format", st)
	st = b.bigPart(tbl+"/upload", url.Values{"mode": {"replace"}}, big)
	empty("a deck upload", st)
	st = b.bigPart(tbl+"/upload", url.Values{"junk": {"x"}}, big)
	empty("a deck upload without a mode", st)
	if rs, _, _ := ts.Store.Rates("Docs Demo Retail", "", "", 10); len(rs) != 3 {
		t.Errorf("refused uploads changed the rows: %+v", rs)
	}
	if _, err := ts.Store.TenantByName("Docs Demo X"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("a refused form created a tenant: %v", err)
	}
	// An import that goes through leaves nothing either.
	deck := "prefix,rate\n44,0.02\n33,0.01\n"
	b.follow(b.upload(tbl+"/upload", "deck.csv", deck, url.Values{"mode": {"replace"}})).want(http.StatusOK)
	empty("a deck upload that replaced the rows", http.StatusSeeOther)
}
