package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// env returns a getenv over a fixed map, so tests never see the machine's
// own PBXBILL_* variables.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"listen":                "PBXBILL_LISTEN",
		"max-call-duration":     "PBXBILL_MAX_CALL_DURATION",
		"rating-requires-token": "PBXBILL_RATING_REQUIRES_TOKEN",
	} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DB != "pbxbill.db" || c.TZ != "UTC" || c.Currency != "EUR" ||
		c.MaxCallDuration != 10800 || len(c.IntlPrefixes) != 0 || c.APIToken != "" ||
		c.RatingRequiresToken || c.Demo || c.AdminPassword != "" ||
		c.FollowPath != "" || c.FollowFormat != rating.Asterisk || c.FollowInterval != time.Second {
		t.Errorf("defaults: %+v", c)
	}
	// io.Discard is no terminal, so the log is JSON for a collector.
	if c.LogFormat != "json" {
		t.Errorf("log format %q off a terminal, want json", c.LogFormat)
	}
}

func TestConfigEnvFallback(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{
		"PBXBILL_LISTEN":                "0.0.0.0:9090",
		"PBXBILL_TZ":                    "Europe/London",
		"PBXBILL_CURRENCY":              "GBP",
		"PBXBILL_MAX_CALL_DURATION":     "600",
		"PBXBILL_INTL_PREFIXES":         "00, 011",
		"PBXBILL_API_TOKEN":             "s3cret",
		"PBXBILL_RATING_REQUIRES_TOKEN": "true",
		"PBXBILL_DEMO":                  "1",
		"PBXBILL_LOG_FORMAT":            "console",
		"PBXBILL_LOG_LEVEL":             "WARN",
		"PBXBILL_FOLLOW_CDR_CSV":        "/var/log/freeswitch/cdr-csv/Master.csv",
		"PBXBILL_FOLLOW_FORMAT":         "freeswitch",
		"PBXBILL_FOLLOW_INTERVAL":       "250ms",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9090" || c.TZ != "Europe/London" || c.Currency != "GBP" || c.MaxCallDuration != 600 ||
		strings.Join(c.IntlPrefixes, ",") != "00,011" || c.APIToken != "s3cret" || !c.RatingRequiresToken ||
		!c.Demo || c.LogFormat != "console" || c.LogLevel.String() != "warn" ||
		c.FollowPath != "/var/log/freeswitch/cdr-csv/Master.csv" || c.FollowFormat != rating.FreeSWITCH ||
		c.FollowInterval != 250*time.Millisecond {
		t.Errorf("from the environment: %+v", c)
	}
}

func TestConfigFlagWinsOverEnv(t *testing.T) {
	c, err := parseConfig([]string{"-max-call-duration", "300", "-demo=false", "-db", "/tmp/x.db"},
		env(map[string]string{"PBXBILL_MAX_CALL_DURATION": "600", "PBXBILL_DEMO": "true", "PBXBILL_CURRENCY": "USD"}),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxCallDuration != 300 || c.Demo || c.DB != "/tmp/x.db" {
		t.Errorf("flags lost to the environment: %+v", c)
	}
	if c.Currency != "USD" {
		t.Errorf("currency %q: a flag not given still falls back to PBXBILL_CURRENCY", c.Currency)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // the error names where the bad value came from
	}{
		{"env not a number", nil, map[string]string{"PBXBILL_MAX_CALL_DURATION": "abc"}, "PBXBILL_MAX_CALL_DURATION"},
		{"env not a bool", nil, map[string]string{"PBXBILL_DEMO": "maybe"}, "PBXBILL_DEMO"},
		{"env bad zone", nil, map[string]string{"PBXBILL_TZ": "Mars/Olympus"}, "PBXBILL_TZ"},
		{"flag bad zone", []string{"-tz", "Mars/Olympus"}, nil, "-tz"},
		{"Local zone", []string{"-tz", "Local"}, nil, "-tz"},
		{"lower-case currency", []string{"-currency", "eur"}, nil, "-currency"},
		{"long currency", nil, map[string]string{"PBXBILL_CURRENCY": "EURO"}, "PBXBILL_CURRENCY"},
		{"zero duration", []string{"-max-call-duration", "0"}, nil, "-max-call-duration"},
		{"negative duration", nil, map[string]string{"PBXBILL_MAX_CALL_DURATION": "-5"}, "PBXBILL_MAX_CALL_DURATION"},
		{"bad intl prefix", []string{"-intl-prefixes", "00,+1"}, nil, "-intl-prefixes"},
		{"bad log format", []string{"-log-format", "xml"}, nil, "-log-format"},
		{"bad log level", nil, map[string]string{"PBXBILL_LOG_LEVEL": "loud"}, "PBXBILL_LOG_LEVEL"},
		{"empty listen", []string{"-listen", ""}, nil, "-listen"},
		{"stray argument", []string{"serve"}, nil, "serve"},
		{"bad follow format", []string{"-follow-format", "cdr_csv"}, nil, "-follow-format"},
		{"env bad follow format", nil, map[string]string{"PBXBILL_FOLLOW_FORMAT": "csv"}, "PBXBILL_FOLLOW_FORMAT"},
		{"zero follow interval", nil, map[string]string{"PBXBILL_FOLLOW_INTERVAL": "0s"}, "PBXBILL_FOLLOW_INTERVAL"},
		{"negative follow interval", []string{"-follow-interval", "-1s"}, nil, "-follow-interval"},
		{"follow interval without unit", nil, map[string]string{"PBXBILL_FOLLOW_INTERVAL": "5"}, "PBXBILL_FOLLOW_INTERVAL"},
		{"unknown flag", []string{"-port", "80"}, nil, "-port"},
		{"public url without scheme", []string{"-public-url", "billing.example.net"}, nil, "-public-url"},
		{"public url with a password", nil, map[string]string{"PBXBILL_PUBLIC_URL": "http://a:b@billing.example.net"}, "PBXBILL_PUBLIC_URL"},
		{"hold slack of nothing", []string{"-hold-slack", "0s"}, nil, "-hold-slack"},
		{"hold slack past a day", nil, map[string]string{"PBXBILL_HOLD_SLACK": "25h"}, "PBXBILL_HOLD_SLACK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			_, err := parseConfig(tc.args, env(tc.env), &out)
			if err == nil {
				t.Fatalf("no error for args %q, env %v", tc.args, tc.env)
			}
			if msg := err.Error() + out.String(); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name %q", msg, tc.want)
			}
		})
	}
}

func TestRunRefusesBadEnv(t *testing.T) {
	// run fails before it opens anything: no database file appears.
	db := filepath.Join(t.TempDir(), "never.db")
	err := run(context.Background(), []string{"-db", db}, env(map[string]string{"PBXBILL_TZ": "Nowhere/Land"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PBXBILL_TZ") {
		t.Fatalf("run with a bad PBXBILL_TZ: %v", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused start touched %s: %v", db, err)
	}
}

func TestRunRefusesAnotherTZ(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tz.db")
	st, err := store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs strings.Builder
	err = run(ctx, []string{"-db", db, "-listen", "127.0.0.1:0", "-tz", "Europe/Berlin"}, env(nil), &logs)
	if err == nil {
		t.Fatal("a start with another -tz than the database's was not refused")
	}
	if !strings.Contains(err.Error(), "Europe/Berlin") && !strings.Contains(err.Error(), "UTC") {
		t.Errorf("refusal %q names neither time zone", err)
	}
	if strings.Contains(logs.String(), "listening") {
		t.Errorf("the refused start listened: %s", logs.String())
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	db := filepath.Join(t.TempDir(), "run.db")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, []string{"-db", db, "-listen", "127.0.0.1:0", "-demo"}, env(nil), logs) }()
	waitFor(t, logs, `"message":"listening"`)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not return within a minute of its context ending")
	}
	// The store was closed: a second open of the same file succeeds at
	// once instead of failing on bbolt's file lock.
	st, err := store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if empty, err := st.Empty(); err != nil || empty {
		t.Errorf("after -demo: empty %v, err %v", empty, err)
	}
}

// waitFor polls the log until it holds s, for at most a minute.
func waitFor(t *testing.T, logs *syncBuffer, s string) {
	t.Helper()
	for i := 0; i < 600; i++ {
		if strings.Contains(logs.String(), s) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("log never showed %s:\n%s", s, logs.String())
}

func TestErrorsAreRatingErrors(t *testing.T) {
	_, err := parseConfig([]string{"-currency", "eur"}, env(nil), io.Discard)
	var re *rating.Error
	if !errors.As(err, &re) || re.Code != rating.EInvalid {
		t.Errorf("config error %v is not a rating.Error with code invalid", err)
	}
}

// syncBuffer is a log sink that a test may read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRunFollows runs the whole program with -follow-cdr-csv, appends to
// the file while it runs and while it is stopped, and restarts it: run's
// shutdown waits for the follower, and nothing is lost or doubled.
func TestRunFollows(t *testing.T) {
	st, db := followStore(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "Master.csv")
	args := []string{"-db", db, "-listen", "127.0.0.1:0", "-log-level", "debug",
		"-follow-cdr-csv", path, "-follow-interval", "10ms"}
	want := map[string]int{}
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, args, env(nil), logs) }()
		waitFor(t, logs, `"message":"listening"`)
		for i := range 3 {
			id := fmt.Sprintf("run%d.%d", round, i)
			want[id] = 20 + i
			appendTo(t, path, acmeCall(id, 20+i))
		}
		waitFor(t, logs, fmt.Sprintf(`"line":%d,"rated":`, 4*round+3))
		// Read at the next start, or perhaps left unread at the end.
		last := fmt.Sprintf("stopped%d", round)
		appendTo(t, path, acmeCall(last, 5))
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "stopped following the CDR file") {
			t.Errorf("round %d: the follower did not stop before run returned:\n%s", round, logs)
		}
		want[last] = 5
		if round == 0 {
			continue
		}
		// run closed the store: it opens at once.
		st, err := store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		switch pos := position(t, st, path); pos.Line {
		case 7:
			delete(want, last)
		case 8:
		default:
			t.Errorf("stored position %+v, want line 7 or 8", pos)
		}
		assertBilled(t, st, want)
	}
}
