package rating

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitter reads CSV records as encoding/csv does with LazyQuotes off and
// TrimLeadingSpace on (off for tab, whose empty cells it would eat), but
// without copying cell by cell: a line without quotes, nearly every line
// of a deck, costs one string, and keeps its leading spaces for ParseRates
// to trim. FuzzSplitter holds the two to the same records.
type splitter struct {
	br    *bufio.Reader
	comma byte
	line  int // physical lines read
	start int // first line of the last record
	long  []byte
	buf   []byte // a quoted record's unescaped text
	ends  []int
	rec   []string
}

func newSplitter(br *bufio.Reader, comma byte) *splitter {
	return &splitter{br: br, comma: comma}
}

// readLine returns the next physical line without its \n or \r\n, and
// whether it had one; ok is false at the end.
func (s *splitter) readLine() (line []byte, nl, ok bool, err error) {
	line, err = s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.br.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil || len(line) == 0 {
		return nil, false, false, err
	}
	s.line++
	if nl = line[len(line)-1] == '\n'; nl {
		line = line[:len(line)-1]
	}
	return bytes.TrimSuffix(line, []byte{'\r'}), nl, true, nil
}

// next returns the next record, nil at the end, or a description of a
// malformed quote; the rest of that line is dropped.
func (s *splitter) next() (rec []string, bad string, err error) {
	var line []byte
	var nl, ok bool
	for len(line) == 0 {
		if line, nl, ok, err = s.readLine(); !ok {
			return nil, "", err
		}
	}
	s.start, s.rec = s.line, s.rec[:0]
	if bytes.IndexByte(line, '"') < 0 {
		str := string(line)
		for i := strings.IndexByte(str, s.comma); i >= 0; i = strings.IndexByte(str, s.comma) {
			s.rec, str = append(s.rec, str[:i]), str[i+1:]
		}
		return append(s.rec, str), "", nil
	}
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	for col := 0; ; {
		for s.comma != '\t' && col < len(line) {
			r, n := utf8.DecodeRune(line[col:])
			if !unicode.IsSpace(r) {
				break
			}
			col += n
		}
		if col == len(line) || line[col] != '"' {
			i := bytes.IndexByte(line[col:], s.comma)
			if i < 0 {
				i = len(line) - col
			}
			if j := bytes.IndexByte(line[col:col+i], '"'); j >= 0 {
				return nil, s.problem(`bare " in a cell without quotes`, col+j), nil
			}
			s.buf, col = append(s.buf, line[col:col+i]...), col+i+1
			if s.ends = append(s.ends, len(s.buf)); col > len(line) {
				break
			}
			continue
		}
		for col++; ; {
			i := bytes.IndexByte(line[col:], '"')
			if i < 0 { // the quoted cell goes on on the next line
				if s.buf = append(s.buf, line[col:]...); !nl {
					return nil, s.problem(`quoted cell not closed at the end of the file`, len(line)), nil
				}
				s.buf = append(s.buf, '\n')
				if line, nl, ok, err = s.readLine(); !ok {
					return nil, s.problem(`quoted cell not closed at the end of the file`, 0), err
				}
				col = 0
				continue
			}
			s.buf, col = append(s.buf, line[col:col+i]...), col+i+1
			if col < len(line) && line[col] == '"' {
				s.buf, col = append(s.buf, '"'), col+1
				continue
			}
			if col < len(line) && line[col] != s.comma {
				return nil, s.problem(`" in a quoted cell must be doubled`, col-1), nil
			}
			s.ends, col = append(s.ends, len(s.buf)), col+1
			break
		}
		if col > len(line) {
			break
		}
	}
	str, from := string(s.buf), 0
	for _, end := range s.ends {
		s.rec, from = append(s.rec, str[from:end]), end
	}
	return s.rec, "", nil
}

// problem describes a malformed quote at byte col of the current line.
func (s *splitter) problem(what string, col int) string {
	if s.line != s.start {
		return fmt.Sprintf("%s (line %d, character %d)", what, s.line, col+1)
	}
	return fmt.Sprintf("%s (character %d)", what, col+1)
}
