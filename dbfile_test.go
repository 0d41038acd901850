package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/store"
)

// usedPages returns the first byte of every page of the database file at
// path that holds data (a branch or leaf page), and its page size: the
// pages whose damage must be found.
func usedPages(t *testing.T, path string) (offsets []int64, pageSize int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pageSize = db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "branch" || p.Type == "leaf" {
				offsets = append(offsets, int64(id*pageSize))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return offsets, pageSize
}

// damaged writes a copy of the file at src, changed by fn, and returns
// its path.
func damaged(t *testing.T, src string, fn func(b []byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "damaged.db")
	if err := os.WriteFile(path, fn(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// refusedBoth asserts that the server's open and `pbxbill check` both
// refuse the file at path with an error naming it and saying what, and
// that check prints nothing.
func refusedBoth(t *testing.T, path, what string) {
	t.Helper()
	if st, err := store.Open(path, store.Options{TZ: "UTC", Currency: "EUR"}); err == nil {
		st.Close()
		t.Errorf("the server opened a %s", what)
	} else if !strings.Contains(err.Error(), path) {
		t.Errorf("the server's open of a %s: %v; want an error naming %s", what, err, path)
	}
	var out strings.Builder
	if err := runCheck([]string{"-db", path}, env(nil), &out, io.Discard); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("check of a %s: %v; want an error naming %s", what, err, path)
	}
	if out.Len() > 0 {
		t.Errorf("check of a %s printed %q", what, out.String())
	}
}

// TestDamagedFile: a file cut short, with a page zeroed or with bytes
// flipped is refused with an error naming it, by the server's open and by
// check, where bbolt panicked or faulted (SIGBUS) and took the process
// with it.
func TestDamagedFile(t *testing.T) {
	db, _ := billedDemo(t, "UTC")
	pages, size := usedPages(t, db)
	if len(pages) < 3 {
		t.Fatalf("%d used pages: the demo database is too small to damage", len(pages))
	}
	// bbolt grows a file ahead of its data: cut where the data is.
	last := pages[len(pages)-1]
	for _, n := range []int64{last + 100, last, int64(3 * size), int64(size) + 100} {
		refusedBoth(t, damaged(t, db, func(b []byte) []byte { return b[:n] }), "file cut short")
	}
	// Every used page in turn, at most 64 of them.
	for _, off := range pages[:min(len(pages), 64)] {
		zero := damaged(t, db, func(b []byte) []byte {
			clear(b[off : off+int64(size)])
			return b
		})
		refusedBoth(t, zero, "file with a zeroed page")
		// The page's header: its id, type and count.
		flip := damaged(t, db, func(b []byte) []byte {
			for i := off; i < off+16; i++ {
				b[i] ^= 0xa5
			}
			return b
		})
		refusedBoth(t, flip, "file with flipped bytes")
	}
	both := damaged(t, db, func(b []byte) []byte {
		b[20] ^= 1
		b[size+20] ^= 1
		return b
	})
	refusedBoth(t, both, "file with both meta pages damaged")
}

// TestFlippedBytesNeverCrash flips single bytes all over the used pages:
// a flip in a value may go unnoticed by bbolt, but none may crash the
// server's open or check, and each refusal of check names the file.
func TestFlippedBytesNeverCrash(t *testing.T) {
	db, _ := billedDemo(t, "UTC")
	pages, size := usedPages(t, db)
	for i, off := range pages[:min(len(pages), 64)] {
		at := off + int64((i*397)%size)
		path := damaged(t, db, func(b []byte) []byte { b[at] ^= 0xff; return b })
		// run names the file of any error of the open.
		if st, err := store.Open(path, store.Options{TZ: "UTC", Currency: "EUR"}); err == nil {
			st.Close()
		}
		if err := runCheck([]string{"-db", path}, env(nil), io.Discard, io.Discard); err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("byte %d flipped: check: %v; want an error naming the file", at, err)
		}
	}
}

// TestEmptyFile: a 0-byte file is no database, for the server (a restore
// that copied nothing) and for check; neither writes a database into it.
func TestEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	refusedBoth(t, path, "0-byte file")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs strings.Builder
	err := run(ctx, []string{"-db", path, "-listen", "127.0.0.1:0"}, env(nil), &logs)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("a start on a 0-byte file: %v; want an error naming it and saying it is empty", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("the 0-byte file was written to: %v", err)
	}
}

// TestNewDatabaseIsLoud: a start where no file exists creates one, and
// says so at warn, because a database file deleted while the server ran
// would otherwise come back empty without a word.
func TestNewDatabaseIsLoud(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	for round, want := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-db", path, "-listen", "127.0.0.1:0"}, env(nil), logs) }()
		waitFor(t, logs, `"message":"listening"`)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		said := strings.Contains(logs.String(), `"level":"warn","db":"`+path+`"`) &&
			strings.Contains(logs.String(), `"message":"created a new, empty database`)
		if said != want {
			t.Errorf("start %d: the log says a new database was created: %v, want %v:\n%s", round+1, said, want, logs)
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Error("no database was created")
	}
}
