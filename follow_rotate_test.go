package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// These tests drive the follower one poll at a time, so that what the
// file holds at each poll is certain.

func TestFollowPartialLine(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	fl := testFollower(st, path, &syncBuffer{})
	ctx := context.Background()
	line := acmeCall("1795511702.1", 95)
	appendTo(t, path, acmeCall("1795511702.0", 30)+line[:40])
	fl.poll(ctx)
	assertBilled(t, st, map[string]int{"1795511702.0": 30})
	if pos := position(t, st, path); pos.Line != 1 || pos.Offset != int64(len(acmeCall("1795511702.0", 30))) {
		t.Errorf("position %+v: the incomplete line was consumed", pos)
	}
	fl.poll(ctx) // nothing new: still waiting for the end of the line
	appendTo(t, path, line[40:])
	fl.poll(ctx)
	assertBilled(t, st, map[string]int{"1795511702.0": 30, "1795511702.1": 95})
	if fl.badLines != 0 {
		t.Errorf("%d bad lines: the two halves were read as lines", fl.badLines)
	}
}

func TestFollowRotation(t *testing.T) {
	st, _ := followStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "Master.csv")
	logs := &syncBuffer{}
	fl := testFollower(st, path, logs)
	ctx := context.Background()
	appendTo(t, path, acmeCall("a.1", 11))
	fl.poll(ctx)
	// A line lands just before logrotate renames the file; the PBX then
	// writes nothing until a new call, so for a while there is no file.
	appendTo(t, path, acmeCall("a.2", 12))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	fl.poll(ctx)
	assertBilled(t, st, map[string]int{"a.1": 11, "a.2": 12})
	appendTo(t, path, acmeCall("b.1", 21)+acmeCall("b.2", 22))
	fl.poll(ctx)
	want := map[string]int{"a.1": 11, "a.2": 12, "b.1": 21, "b.2": 22}
	assertBilled(t, st, want)
	if pos := position(t, st, path); pos.Line != 2 {
		t.Errorf("position %+v after the rotation, want line 2 of the new file", pos)
	}
	// A second rotation, with the new file created at once.
	appendTo(t, path, acmeCall("b.3", 23))
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("c.1", 31))
	fl.poll(ctx)
	want["b.3"], want["c.1"] = 23, 31
	assertBilled(t, st, want)
	if strings.Contains(logs.String(), `"level":"warn"`) {
		t.Errorf("a rotation seen while following warned:\n%s", logs)
	}
	if n := strings.Count(logs.String(), "switching to the new file"); n != 2 {
		t.Errorf("%d rotations logged, want 2:\n%s", n, logs)
	}
}

// TestFollowRotationIncompleteLine: the PBX was writing a line when the
// file was renamed; it finishes it through its open descriptor, so the
// follower gives the old file one more poll before it switches.
func TestFollowRotationIncompleteLine(t *testing.T) {
	st, _ := followStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "Master.csv")
	logs := &syncBuffer{}
	fl := testFollower(st, path, logs)
	ctx := context.Background()
	late := acmeCall("a.2", 12)
	appendTo(t, path, acmeCall("a.1", 11)+late[:30])
	fl.poll(ctx)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("b.1", 21))
	fl.poll(ctx) // the grace poll: nothing from the new file yet
	assertBilled(t, st, map[string]int{"a.1": 11})
	appendTo(t, path+".1", late[30:])
	fl.poll(ctx)
	assertBilled(t, st, map[string]int{"a.1": 11, "a.2": 12, "b.1": 21})

	// An incomplete line that is never finished is skipped, with a warning.
	appendTo(t, path, acmeCall("b.2", 22)[:25])
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("c.1", 31))
	fl.poll(ctx)
	fl.poll(ctx)
	assertBilled(t, st, map[string]int{"a.1": 11, "a.2": 12, "b.1": 21, "c.1": 31})
	if !strings.Contains(logs.String(), "ends with an incomplete line") {
		t.Errorf("the lost line was not logged:\n%s", logs)
	}
}

func TestFollowTruncation(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	logs := &syncBuffer{}
	fl := testFollower(st, path, logs)
	ctx := context.Background()
	appendTo(t, path, acmeCall("a.1", 11)+acmeCall("a.2", 12)+acmeCall("a.3", 13))
	fl.poll(ctx)
	// logrotate's copytruncate empties the file in place: same inode.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	fl.poll(ctx)
	appendTo(t, path, acmeCall("b.1", 21))
	fl.poll(ctx)
	assertBilled(t, st, map[string]int{"a.1": 11, "a.2": 12, "a.3": 13, "b.1": 21})
	if pos := position(t, st, path); pos.Line != 1 {
		t.Errorf("position %+v after the truncation, want line 1", pos)
	}
	if !strings.Contains(logs.String(), "truncated") {
		t.Errorf("the truncation was not logged:\n%s", logs)
	}
}

// TestFollowFileChangedWhileStopped: a new follower resumes only in the
// file it stopped in; a file rotated or truncated meanwhile is new.
func TestFollowFileChangedWhileStopped(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	ctx := context.Background()
	appendTo(t, path, acmeCall("a.1", 11)+acmeCall("a.2", 12))
	testFollower(st, path, &syncBuffer{}).poll(ctx)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("b.1", 21)+acmeCall("b.2", 22)+acmeCall("b.3", 23))
	testFollower(st, path, &syncBuffer{}).poll(ctx)
	want := map[string]int{"a.1": 11, "a.2": 12, "b.1": 21, "b.2": 22, "b.3": 23}
	assertBilled(t, st, want)

	if err := os.WriteFile(path, []byte(acmeCall("c.1", 31)), 0o644); err != nil { // truncates in place
		t.Fatal(err)
	}
	fl := testFollower(st, path, &syncBuffer{})
	fl.poll(ctx)
	want["c.1"] = 31
	assertBilled(t, st, want)
	if fl.duplicate != 0 {
		t.Errorf("%d duplicates", fl.duplicate)
	}
}

func TestFollowSkipsBadAndInternalLines(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	logs := &syncBuffer{}
	fl := testFollower(st, path, logs)
	noAnswer := strings.Replace(acmeCall("a.4", 0), `"2026-11-24 09:15:09"`, `""`, 1)
	appendTo(t, path, acmeCall("a.1", 11)+
		"this is not a CDR\n"+ // line 2
		internal+ // line 3
		"   \n"+ // line 4
		strings.Replace(acmeCall("a.2", 12), ",12,", ",twelve,", 1)+ // line 5
		acmeCall("", 13)+ // line 6, no uniqueid
		noAnswer+ // line 7
		`"unknown","1001","1002","x","","PJSIP/1001-1","","Dial","","2026-11-24 09:00:00","","2026-11-24 09:00:01",1,0,"NO ANSWER","DOCUMENTATION","a.5",""`+"\n")
	fl.poll(context.Background())
	got := stored(t, st)
	if len(got) != 4 || got["a.1"] != 11 || got["a.4"] != 0 || got["a.5"] != 0 {
		t.Errorf("stored %v, want a.1, a.4, a.5 and the line-hash id of line 6", got)
	}
	if err := st.Check(); err != nil {
		t.Error(err)
	}
	if pos := position(t, st, path); pos.Line != 8 {
		t.Errorf("position %+v, want past all 8 lines", pos)
	}
	if fl.badLines != 2 || fl.rated != 3 || fl.unrated != 1 {
		t.Errorf("%d bad lines, %d rated, %d unrated; want 2, 3 (a.1, line 6, a.4) and 1 (unknown tenant)",
			fl.badLines, fl.rated, fl.unrated)
	}
	for _, line := range []string{`"line":2`, `"line":5`} {
		if !strings.Contains(logs.String(), line) || !strings.Contains(logs.String(), `"path":"`+path) {
			t.Errorf("the log does not name the bad %s with its path:\n%s", line, logs)
		}
	}
}

func TestFollowFreeSWITCH(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	fl := testFollower(st, path, &syncBuffer{})
	fl.format = rating.FreeSWITCH
	appendTo(t, path, `"Jane Doe","1001","442079460958","default","2026-11-24 09:15:02","2026-11-24 09:15:09","2026-11-24 09:16:44","102","95","NORMAL_CLEARING","5c1b3f5e-8a4e-4f55-9c55-0d0f3e6a1a01","","acme","PCMA","PCMA"`+"\n"+
		`"Jane Doe","1001","442079460958","default","2026-11-24 09:20:00","","2026-11-24 09:20:21","21","0","NO_ANSWER","5c1b3f5e-8a4e-4f55-9c55-0d0f3e6a1a02","","acme","PCMA","PCMA"`+"\n")
	fl.poll(context.Background())
	assertBilled(t, st, map[string]int{"5c1b3f5e-8a4e-4f55-9c55-0d0f3e6a1a01": 95, "5c1b3f5e-8a4e-4f55-9c55-0d0f3e6a1a02": 0})
}

// TestFollowSampleMatchesUpload follows testdata/Master.csv as it grows,
// cut in the middle of a line, into one demo database, and posts the whole
// file at once into another: both hold the same CDRs and balances.
func TestFollowSampleMatchesUpload(t *testing.T) {
	sample, err := os.ReadFile("testdata/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	demo := func() *store.Store {
		st, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{TZ: "UTC", Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := seedDemo(st, time.Now()); err != nil {
			t.Fatal(err)
		}
		return st
	}
	followed, uploaded := demo(), demo()
	path := filepath.Join(t.TempDir(), "Master.csv")
	fl := testFollower(followed, path, &syncBuffer{})
	for _, part := range []string{string(sample[:len(sample)/2]), string(sample[len(sample)/2:])} {
		appendTo(t, path, part)
		fl.poll(context.Background())
	}
	recs, skipped, err := rating.ParsePBXFile(bytes.NewReader(sample), rating.Asterisk, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	resolve, err := uploaded.ProviderByTrunk()
	if err != nil {
		t.Fatal(err)
	}
	cdrs := make([]rating.CDR, len(recs))
	for i := range recs {
		cdrs[i] = recs[i].CDR(0, resolve)
	}
	if _, err := uploaded.PostCDRs("", cdrs); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(sample, []byte("\n"))
	if skipped != 1 || len(recs) != lines-1 || fl.badLines != 0 || fl.rated+fl.unrated != lines-1 {
		t.Errorf("%d lines: upload %d CDRs and %d skipped; follower %d rated, %d unrated, %d bad",
			lines, len(recs), skipped, fl.rated, fl.unrated, fl.badLines)
	}
	for _, st := range []*store.Store{followed, uploaded} {
		if err := st.Check(); err != nil {
			t.Error(err)
		}
	}
	if a, b := stored(t, followed), stored(t, uploaded); !reflect.DeepEqual(a, b) {
		t.Errorf("followed %v\nuploaded %v", a, b)
	}
	for _, name := range []string{demoPrepaid, demoPostpaid} {
		a, _ := followed.Tenant(name)
		b, _ := uploaded.Tenant(name)
		if a.Balance != b.Balance || a.Balance.Sign() == 0 {
			t.Errorf("%s: balance %s followed, %s uploaded", name, a.Balance, b.Balance)
		}
	}
	for _, name := range []string{demoCarrierA, demoCarrierB} {
		a, _ := followed.Provider(name)
		b, _ := uploaded.Provider(name)
		if a.Balance != b.Balance {
			t.Errorf("%s: balance %s followed, %s uploaded", name, a.Balance, b.Balance)
		}
	}
}
