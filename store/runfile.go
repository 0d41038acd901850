package store

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"pbxbill/rating"
)

// runFile holds the sorted runs of an import on disk: each chunk of rows
// as it arrived, sorted, as rate keys and values. A deck comes in file
// order, so the keys of its chunks interleave; written into one bbolt
// bucket chunk by chunk, every chunk would rewrite most of the bucket's
// pages. Merged from here, the rows reach bbolt once, in key order, and
// only the page cache holds them meanwhile, not the heap.
//
// A record is uvarint(len(key)), key, uvarint(len(value)), value.
type runFile struct {
	f    *os.File
	w    *bufio.Writer
	size int64
	runs []section
	keys []rowKey // reused for each chunk, as are rec and val
	rec  []byte
	val  []byte
}

// section is one run: where it starts in the file and its length.
type section struct{ off, n int64 }

// newRunFile creates the run file in $TMPDIR (os.TempDir): the
// database's directory may be read-only to pbxbill, which needs to write
// only the database file itself. It is unlinked at once where the system
// allows it, so that a crash leaves no file behind.
func newRunFile() (*runFile, error) {
	f, err := os.CreateTemp("", ".import-*.runs")
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	_ = os.Remove(f.Name())
	return &runFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// close closes and removes the file.
func (r *runFile) close() {
	r.f.Close()
	_ = os.Remove(r.f.Name())
}

// add sorts rows into key order and writes them as one run. The rows are
// left as they were: they are the caller's.
func (r *runFile) add(rows []rating.Row) error {
	if len(rows) == 0 {
		return nil
	}
	r.keys = r.keys[:0]
	for i := range rows {
		r.keys = append(r.keys, newRowKey(&rows[i], i))
	}
	sortKeys(rows, r.keys)
	start := r.size
	key := make([]byte, 0, rateKeyLen)
	for i := range r.keys {
		k := &r.keys[i]
		row := &rows[k.i]
		key = k.appendKey(key[:0], row)
		r.val = appendRowValue(r.val[:0], row)
		r.rec = binary.AppendUvarint(r.rec[:0], uint64(len(key)))
		r.rec = append(r.rec, key...)
		r.rec = binary.AppendUvarint(r.rec, uint64(len(r.val)))
		r.rec = append(r.rec, r.val...)
		if _, err := r.w.Write(r.rec); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		r.size += int64(len(r.rec))
	}
	r.runs = append(r.runs, section{start, r.size - start})
	return nil
}

// merge calls fn with every record of every run in key order. A key that
// two rows share is an error. k and v are only valid until fn returns.
func (r *runFile) merge(fn func(k, v []byte) error) error {
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	h := make(runHeap, 0, len(r.runs))
	for _, s := range r.runs {
		c := &runCursor{br: bufio.NewReaderSize(io.NewSectionReader(r.f, s.off, s.n), 32<<10)}
		if ok, err := c.next(); err != nil {
			return err
		} else if ok {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	var last []byte
	for len(h) > 0 {
		c := h[0]
		if last != nil && bytes.Equal(last, c.key) {
			var row rating.Row
			if err := decodeRow(c.key, c.val, &row, Interner{}); err != nil {
				return err
			}
			return rating.Invalidf("prefix", "prefix %q with effective_from %s appears twice", row.Prefix, effString(&row))
		}
		if err := fn(c.key, c.val); err != nil {
			return err
		}
		last = append(last[:0], c.key...)
		if ok, err := c.next(); err != nil {
			return err
		} else if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// runCursor reads one run back.
type runCursor struct {
	br       *bufio.Reader
	key, val []byte
}

// next reads the next record; false at the end of the run.
func (c *runCursor) next() (bool, error) {
	var err error
	if c.key, err = c.field(c.key); err == io.EOF {
		return false, nil
	}
	if err == nil {
		c.val, err = c.field(c.val)
	}
	if err != nil {
		return false, fmt.Errorf("import: read back a sorted run: %w", err)
	}
	return true, nil
}

func (c *runCursor) field(buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(c.br)
	if err != nil {
		return nil, err
	}
	if n > 1<<20 {
		return nil, fmt.Errorf("record of %d bytes", n)
	}
	buf = append(buf[:0], make([]byte, n)...)
	_, err = io.ReadFull(c.br, buf)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return buf, err
}

// runHeap orders the runs' cursors by their current key.
type runHeap []*runCursor

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].key, h[j].key) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
