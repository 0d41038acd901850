package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
)

// bbolt's file format (version 2): each of the first two pages holds a
// meta record after a 16-byte page header; the newest valid one says how
// many pages the file has.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSize   = 64 // up to and with the checksum
	boltNoFreelist = ^uint64(0)
)

// boltMeta is what checkFile reads of a meta page.
type boltMeta struct {
	pageSize                 uint32
	root, freelist, pgid, tx uint64
}

// readMeta parses the meta record at off in f, or says what is wrong.
func readMeta(f io.ReaderAt, off int64) (boltMeta, error) {
	var b [boltMetaSize]byte
	if _, err := f.ReadAt(b[:], off+boltPageHeader); err != nil {
		return boltMeta{}, err
	}
	le := binary.NativeEndian // bbolt writes its structs as they are in memory
	h := fnv.New64a()
	h.Write(b[:56])
	switch {
	case le.Uint32(b[0:]) != boltMagic:
		return boltMeta{}, errors.New("no bbolt magic number")
	case le.Uint32(b[4:]) != boltVersion:
		return boltMeta{}, fmt.Errorf("bbolt format version %d", le.Uint32(b[4:]))
	case le.Uint64(b[56:]) != h.Sum64():
		return boltMeta{}, errors.New("checksum mismatch")
	}
	m := boltMeta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]),
		pgid: le.Uint64(b[40:]), tx: le.Uint64(b[48:])}
	if m.pageSize < 512 || m.pageSize&(m.pageSize-1) != 0 || m.root >= m.pgid ||
		(m.freelist >= m.pgid && m.freelist != boltNoFreelist) {
		return boltMeta{}, fmt.Errorf("page size %d, root page %d, freelist page %d of %d pages", m.pageSize, m.root, m.freelist, m.pgid)
	}
	return m, nil
}

// checkFile refuses, before bbolt maps it, a file that bbolt would take
// for a new database or crash on: an empty file, a file whose two meta
// pages are both damaged, and a file shorter than its meta page says
// (bbolt would read past its end, and the process would die of SIGBUS).
// A missing file is fine; exists reports whether there is one.
func checkFile(path string) (exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return true, err
	}
	if fi.Size() == 0 {
		return true, errors.New("not a pbxbill database: the file is empty (a database is created only where no file exists)")
	}
	// The first meta page gives the page size; the second is one page
	// further, at the page size of this system when the first is damaged.
	m0, err0 := readMeta(f, 0)
	size := int64(os.Getpagesize())
	if err0 == nil {
		size = int64(m0.pageSize)
	}
	m1, err1 := readMeta(f, size)
	if err0 != nil && err1 != nil {
		return true, fmt.Errorf("not a pbxbill database, or a damaged one: meta page 0: %v; meta page 1: %v", err0, err1)
	}
	m := m0
	if err0 != nil || (err1 == nil && m1.tx > m0.tx) {
		m = m1
	}
	if want := int64(m.pgid) * int64(m.pageSize); fi.Size() < want {
		return true, fmt.Errorf("the file is damaged: it is cut short at %d bytes, and its meta page says %d", fi.Size(), want)
	}
	w := pageWalk{f: f, pageSize: int64(m.pageSize), pages: m.pgid}
	if m.freelist != boltNoFreelist {
		// Only its place: bbolt reads it in the caller's goroutine.
		w.reach(m.freelist)
	}
	if err := w.page(m.root, 0); err != nil {
		return true, fmt.Errorf("the file is damaged: %w", err)
	}
	return true, nil
}

// safely runs fn, which reads a mapped database file, and turns a panic
// into an error: bbolt panics on a damaged page, and a read past the end
// of a file cut short faults (SIGBUS), which the runtime panics on here
// rather than killing the process.
func safely(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the file is damaged: %v", r)
		}
	}()
	return fn()
}

// bbolt page flags and element sizes.
const (
	boltBranch     = 0x01
	boltLeaf       = 0x02
	boltBucketLeaf = 0x01 // a leaf element that is a bucket
	boltElement    = 16   // a branch or a leaf element
	boltBucketHead = 16   // a bucket value: its root page and its sequence
)

// pageWalk checks the tree of pages that a meta record points to, reading
// the file (not a mapping) and checking every offset before it is used.
// bbolt rebuilds its free list at Open by walking the same tree in a
// goroutine of its own, where a damaged page is a panic that no caller
// can recover; this walk finds such a page first.
type pageWalk struct {
	f        io.ReaderAt
	pageSize int64
	pages    uint64   // the high-water mark: pages in use
	seen     []uint64 // a bit for each page reached, overflow pages included
	bufs     [][]byte // a page buffer for each depth, reused
}

// reach marks page p as reached, and reports whether it was already.
func (w *pageWalk) reach(p uint64) (again bool) {
	if w.seen == nil {
		w.seen = make([]uint64, (w.pages+63)/64)
	}
	again = w.seen[p/64]&(1<<(p%64)) != 0
	w.seen[p/64] |= 1 << (p % 64)
	return again
}

// page checks page id and the pages below it.
func (w *pageWalk) page(id uint64, depth int) error {
	if id < 2 || id >= w.pages {
		return fmt.Errorf("a reference to page %d, outside pages 2 to %d", id, w.pages-1)
	}
	if depth > 64 {
		return fmt.Errorf("page %d: nested more than 64 levels deep", id)
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, w.pageSize))
	}
	h := w.bufs[depth][:w.pageSize]
	if _, err := w.f.ReadAt(h, int64(id)*w.pageSize); err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	le := binary.NativeEndian
	flags, overflow := le.Uint16(h[8:]), uint64(le.Uint32(h[12:]))
	switch {
	case le.Uint64(h[0:]) != id:
		return fmt.Errorf("page %d: it says it is page %d", id, le.Uint64(h[0:]))
	case flags != boltBranch && flags != boltLeaf:
		return fmt.Errorf("page %d: flags %#x, want a branch or a leaf page", id, flags)
	case overflow >= w.pages-id:
		return fmt.Errorf("page %d: %d overflow pages, past the end", id, overflow)
	}
	for p := id; p <= id+overflow; p++ {
		if w.reach(p) {
			return fmt.Errorf("page %d: reached twice", p)
		}
	}
	buf := h
	if overflow > 0 {
		buf = make([]byte, int64(overflow+1)*w.pageSize)
		if _, err := w.f.ReadAt(buf, int64(id)*w.pageSize); err != nil {
			return fmt.Errorf("page %d: %w", id, err)
		}
	}
	return w.body(id, buf, depth)
}

// body checks the elements of page id, held in buf (a page of the file,
// or a bucket inlined in a value), and the pages they point to.
func (w *pageWalk) body(id uint64, buf []byte, depth int) error {
	le := binary.NativeEndian
	flags, count := le.Uint16(buf[8:]), int(le.Uint16(buf[10:]))
	if boltPageHeader+count*boltElement > len(buf) {
		return fmt.Errorf("page %d: %d elements do not fit in it", id, count)
	}
	for i := range count {
		at := boltPageHeader + i*boltElement
		e := buf[at : at+boltElement]
		if flags == boltBranch {
			pos, ksize := int(le.Uint32(e[0:])), int(le.Uint32(e[4:]))
			if at+pos+ksize > len(buf) {
				return fmt.Errorf("page %d: key %d runs past the page", id, i)
			}
			if err := w.page(le.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
			continue
		}
		eflags, pos, ksize, vsize := le.Uint32(e[0:]), int(le.Uint32(e[4:])), int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		end := at + pos + ksize + vsize
		if pos < 0 || end < at || end > len(buf) {
			return fmt.Errorf("page %d: element %d runs past the page", id, i)
		}
		if eflags&boltBucketLeaf == 0 {
			continue
		}
		v := buf[at+pos+ksize : end]
		if len(v) < boltBucketHead {
			return fmt.Errorf("page %d: bucket %d: a value of %d bytes", id, i, len(v))
		}
		if root := le.Uint64(v); root != 0 {
			if err := w.page(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := v[boltBucketHead:]
		if len(inline) < boltPageHeader || le.Uint16(inline[8:]) != boltLeaf {
			return fmt.Errorf("page %d: bucket %d: its inline page is not a leaf", id, i)
		}
		if err := w.body(id, inline, depth+1); err != nil {
			return err
		}
	}
	return nil
}
