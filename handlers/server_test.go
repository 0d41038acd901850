package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"pbxbill/assets"
	"pbxbill/rating"
)

func TestHealthzIndexStatic(t *testing.T) {
	ts := mustServe(t)

	r := ts.local("/healthz").want(http.StatusOK)
	if string(r.body) != "ok" {
		t.Errorf("healthz body %q, want ok", r.body)
	}

	r = ts.local("/").want(http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/tenants" {
		t.Errorf("/ redirects to %q, want /tenants", loc)
	}

	css, err := assets.FS.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	r = ts.local("/static/style.css").want(http.StatusOK)
	if string(r.body) != string(css) {
		t.Errorf("/static/style.css differs from the embedded file")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style.css Content-Type %q", ct)
	}
	ts.local("/static/app.js").want(http.StatusOK)

	ts.local("/static/").wantError(http.StatusNotFound, rating.ENotFound)
	ts.local("/static/nope.js").wantError(http.StatusNotFound, rating.ENotFound, "/static/nope.js")
	ts.local("/nope").wantError(http.StatusNotFound, rating.ENotFound, "/nope")
	ts.admin(http.MethodGet, "/api/v1/nope", "").wantError(http.StatusNotFound, rating.ENotFound, "/api/v1/nope")
	ts.admin(http.MethodPatch, "/api/v1/tenants", "").wantError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "PATCH")
}

func TestRequestLog(t *testing.T) {
	ts := mustServe(t)
	ts.local("/healthz").want(http.StatusOK)
	line := ts.log.String()
	for _, want := range []string{`"method":"GET"`, `"path":"/healthz"`, `"status":200`, `"bytes":2`, `"duration":`} {
		if !strings.Contains(line, want) {
			t.Errorf("request log %q lacks %s", line, want)
		}
	}
}

// TestErrorWriter checks the one error writer: the code table, the body,
// and that only internal errors are logged and described generically.
func TestErrorWriter(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
		msg    string
	}{
		{rating.Errorf(rating.EInvalid, "decimals 9: want 0 to 8"), 400, rating.EInvalid, "decimals 9: want 0 to 8"},
		{rating.Errorf(rating.EUnauthorized, "u"), 401, rating.EUnauthorized, "u"},
		{rating.Errorf(rating.EForbidden, "f"), 403, rating.EForbidden, "f"},
		{rating.Errorf(rating.ENotFound, "n"), 404, rating.ENotFound, "n"},
		{rating.Errorf(rating.EConflict, "c"), 409, rating.EConflict, "c"},
		{rating.Errorf(rating.ETooLarge, "t"), 413, rating.ETooLarge, "t"},
		{fmt.Errorf("wrapped: %w", rating.Errorf(rating.EConflict, "in use")), 409, rating.EConflict, "in use"},
		{errors.New("disk on fire at /var/lib/pbxbill.db"), 500, rating.EInternal, "internal error"},
		{rating.Errorf("bogus", "secret detail"), 500, rating.EInternal, "internal error"},
	} {
		var log syncBuffer
		s := newServer(Config{Log: zerolog.New(&log)})
		w := httptest.NewRecorder()
		s.error(w, httptest.NewRequest(http.MethodGet, "/api/v1/tenants", nil), tc.err)
		if w.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, w.Code, tc.status)
		}
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %s: %v", tc.err, w.Body, err)
		}
		if body.Error.Code != tc.code || body.Error.Message != tc.msg {
			t.Errorf("%v: body %s, want code %s message %q", tc.err, w.Body, tc.code, tc.msg)
		}
		logged := strings.Contains(log.String(), `"level":"error"`)
		if internal := tc.status == 500; logged != internal {
			t.Errorf("%v: logged at error level %v, want %v (log %q)", tc.err, logged, internal, log.String())
		}
		if tc.status == 500 && !strings.Contains(log.String(), tc.err.Error()) {
			t.Errorf("%v: the log lacks the error: %q", tc.err, log.String())
		}
		if tc.status == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
}

func TestErrorWriterLines(t *testing.T) {
	s := newServer(Config{Log: zerolog.Nop()})
	w := httptest.NewRecorder()
	e := &rating.Error{Code: rating.EInvalid, Message: "rates: 1 bad line",
		Lines: []rating.LineError{{Line: 3, Column: "rate", Message: "rate -1: must not be negative"}}}
	s.error(w, httptest.NewRequest(http.MethodPut, "/api/v1/rate-tables/x/rates", nil), e)
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if w.Code != 400 || len(body.Error.Lines) != 1 || body.Error.Lines[0] != e.Lines[0] {
		t.Errorf("status %d body %s", w.Code, w.Body)
	}
}

// TestErrorWriterTextAuthorize: Asterisk's ${CURL()} ignores the status, so
// even an internal error answers 200 "0".
func TestErrorWriterTextAuthorize(t *testing.T) {
	s := newServer(Config{Log: zerolog.Nop()})
	for _, err := range []error{errors.New("boom"), rating.Errorf(rating.EUnauthorized, "no token")} {
		w := httptest.NewRecorder()
		s.error(w, httptest.NewRequest(http.MethodGet, "/api/v1/authorize?tenant=a&number=1&format=text", nil), err)
		if w.Code != 200 || w.Body.String() != "0\n" {
			t.Errorf("%v: %d %q, want 200 \"0\\n\"", err, w.Code, w.Body)
		}
	}
}

func TestRecoverPanics(t *testing.T) {
	var log syncBuffer
	s := newServer(Config{Log: zerolog.New(&log)})
	h := s.logRequests(s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("nil map")
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/tenants", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"internal"`) || strings.Contains(w.Body.String(), "nil map") {
		t.Errorf("panic answered %d %s", w.Code, w.Body)
	}
	if !strings.Contains(log.String(), "nil map") || !strings.Contains(log.String(), `"status":500`) {
		t.Errorf("panic not logged: %q", log.String())
	}
}
