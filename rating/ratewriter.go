package rating

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// RateWriter writes a CSV rate deck that ParseRates reads back to the same
// rows.
type RateWriter struct {
	w      io.Writer
	loc    *time.Location
	cw     *csv.Writer
	header bool
	rec    [numWritten]string
}

// NewRateWriter returns a writer that writes the header at the first Write
// (or at Flush, for an empty table).
func NewRateWriter(w io.Writer, loc *time.Location) *RateWriter {
	if loc == nil {
		loc = time.UTC
	}
	return &RateWriter{w: w, loc: loc, cw: csv.NewWriter(w)}
}

// Write writes one row; unset fields are empty cells, and text that a
// spreadsheet would read as a formula gets a quote in front (CSVCell).
func (w *RateWriter) Write(r *Row) error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	seconds := func(v int) string {
		if v == -1 {
			return ""
		}
		return strconv.Itoa(v)
	}
	blocked := ""
	if r.Blocked {
		blocked = "true" // false is the default, an empty cell
	}
	w.rec = [numWritten]string{CSVCell(r.Prefix), CSVCell(r.Destination), r.Rate.String(), r.ConnectFee.String(),
		seconds(r.InitialIncrement), seconds(r.Increment), r.InitialRate.String(), seconds(r.Grace),
		r.MinCost.String(), r.MaxCost.String(), w.instant(r.EffectiveFrom), r.Days.String(), r.Hours.String(), blocked}
	return w.cw.Write(w.rec[:])
}

// instant formats t in the writer's zone, or in UTC where that zone's
// offset has seconds (old local mean times) or its year leaves 0–9999:
// RFC 3339 can write neither.
func (w *RateWriter) instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(w.loc)
	if _, off := l.Zone(); off%60 != 0 || l.Year() < 0 || l.Year() > 9999 {
		l = t.UTC()
	}
	return l.Format(time.RFC3339)
}

func (w *RateWriter) writeHeader() error {
	if w.header {
		return nil
	}
	w.header = true
	for c := range w.rec {
		w.rec[c] = columnName(c)
	}
	return w.cw.Write(w.rec[:])
}

// Flush writes anything buffered.
func (w *RateWriter) Flush() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.cw.Flush()
	return w.cw.Error()
}
