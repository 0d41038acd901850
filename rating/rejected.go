package rating

import (
	"time"
	"unicode/utf8"
)

// MaxRejectedText bounds the text of a rejected line that is kept: enough
// to recognise a cdr_csv line, never a runaway one.
const MaxRejectedText = 1024

// RejectedLine is a line of a followed PBX CDR file that the store refused
// for a reason a retry cannot change (an unknown provider, a charge beyond
// the balance bound). The follow mode skips it so that the lines after it
// are billed, and keeps it for the operator to correct and upload again.
type RejectedLine struct {
	Path  string    `json:"path"`
	Line  int       `json:"line"`  // 1-based line number in the file
	Text  string    `json:"text"`  // the line, cut to MaxRejectedText bytes
	Error string    `json:"error"` // why the store refused it
	At    time.Time `json:"at"`    // when it was skipped
}

// CutText cuts s to at most MaxRejectedText bytes on a rune boundary.
func CutText(s string) string {
	if len(s) <= MaxRejectedText {
		return s
	}
	s = s[:MaxRejectedText]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
