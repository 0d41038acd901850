package rating

import (
	"io"
	"time"
)

// ParseRates reads a CSV rate deck (API.md "Rate CSV") for table t. Dates
// without a time are midnight in loc. It returns every row, or an *Error
// with code EInvalid whose Lines list up to 100 problems with line numbers.
func ParseRates(r io.Reader, t Table, loc *time.Location) ([]Row, error) {
	panic("TODO: csv helper")
}

// RateWriter writes a CSV rate deck that ParseRates reads back to the same
// rows.
type RateWriter struct {
	w   io.Writer
	loc *time.Location
}

// NewRateWriter returns a writer that writes the header at the first Write
// (or at Flush, for an empty table).
func NewRateWriter(w io.Writer, loc *time.Location) *RateWriter {
	return &RateWriter{w: w, loc: loc}
}

// Write writes one row.
func (w *RateWriter) Write(r *Row) error { panic("TODO: csv helper") }

// Flush writes anything buffered.
func (w *RateWriter) Flush() error { panic("TODO: csv helper") }
