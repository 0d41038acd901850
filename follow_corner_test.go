package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFollowTruncatedAndRewritten: between two polls the file is truncated
// in place and written again past its old size. Its size alone looks like
// a file that grew; its first line tells it apart, and every new line is
// billed.
func TestFollowTruncatedAndRewritten(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	logs := &syncBuffer{}
	fl := testFollower(st, path, logs)
	ctx := context.Background()
	appendTo(t, path, acmeCall("a.1", 11)+acmeCall("a.2", 12))
	fl.poll(ctx)
	rewrite := acmeCall("b.1", 21) + acmeCall("b.2", 22) + acmeCall("b.3", 23)
	if err := os.WriteFile(path, []byte(rewrite), 0o644); err != nil { // same inode
		t.Fatal(err)
	}
	fl.poll(ctx)
	want := map[string]int{"a.1": 11, "a.2": 12, "b.1": 21, "b.2": 22, "b.3": 23}
	assertBilled(t, st, want)
	if !strings.Contains(logs.String(), "truncated and written again") {
		t.Errorf("the truncation was not logged:\n%s", logs)
	}

	// The same while pbxbill is down.
	fl.close()
	rewrite = acmeCall("c.1", 31) + acmeCall("c.2", 32) + acmeCall("c.3", 33) + acmeCall("c.4", 34)
	if err := os.WriteFile(path, []byte(rewrite), 0o644); err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	fl = testFollower(st, path, logs)
	fl.poll(ctx)
	want["c.1"], want["c.2"], want["c.3"], want["c.4"] = 31, 32, 33, 34
	assertBilled(t, st, want)
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "truncated while pbxbill was not reading it") {
		t.Errorf("the truncation while stopped was not logged at warn:\n%s", logs)
	}
	if fl.duplicate != 0 {
		t.Errorf("%d duplicates", fl.duplicate)
	}
}

// TestFollowRotatedWhileStopped: pbxbill stops, the PBX writes more lines,
// and logrotate renames the file to Master.csv.1 before pbxbill starts
// again. The rotation is said at warn, and the rest of the rotated file is
// read before the new one.
func TestFollowRotatedWhileStopped(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	ctx := context.Background()
	appendTo(t, path, acmeCall("a.1", 11)+acmeCall("a.2", 12))
	first := testFollower(st, path, &syncBuffer{})
	first.poll(ctx)
	first.close()
	appendTo(t, path, acmeCall("a.3", 13)+acmeCall("a.4", 14))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("b.1", 21))

	logs := &syncBuffer{}
	fl := testFollower(st, path, logs)
	for range 3 {
		fl.poll(ctx)
	}
	want := map[string]int{"a.1": 11, "a.2": 12, "a.3": 13, "a.4": 14, "b.1": 21}
	assertBilled(t, st, want)
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "rotated while pbxbill was not reading it") {
		t.Errorf("the rotation while stopped was not logged at warn:\n%s", logs)
	}
	if pos := position(t, st, path); pos.Line != 1 {
		t.Errorf("position %+v, want line 1 of the new file", pos)
	}

	// A second restart finds the rotated file read to its end: nothing to
	// say, and the new file goes on.
	fl.close()
	appendTo(t, path, acmeCall("b.2", 22))
	logs = &syncBuffer{}
	fl = testFollower(st, path, logs)
	fl.poll(ctx)
	want["b.2"] = 22
	assertBilled(t, st, want)
	if strings.Contains(logs.String(), `"level":"warn"`) {
		t.Errorf("a restart in the same file warned:\n%s", logs)
	}

	// Rotated again while down, and the rotated file is gone (compressed
	// at once, say): the lines it held after the position are lost, loudly.
	fl.close()
	appendTo(t, path, acmeCall("b.3", 23))
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("c.1", 31))
	logs = &syncBuffer{}
	fl = testFollower(st, path, logs)
	fl.poll(ctx)
	want["c.1"] = 31
	assertBilled(t, st, want)
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "not the one read before") {
		t.Errorf("the lost rotation was not logged at warn:\n%s", logs)
	}

	// Rotated while down after its last line was read: nothing was
	// missed, so nothing to warn about.
	fl.close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, acmeCall("d.1", 41))
	logs = &syncBuffer{}
	fl = testFollower(st, path, logs)
	fl.poll(ctx)
	want["d.1"] = 41
	assertBilled(t, st, want)
	if strings.Contains(logs.String(), `"level":"warn"`) {
		t.Errorf("a rotation after the last line was read warned:\n%s", logs)
	}
}
