package rating

// CSV formula injection: a spreadsheet that opens a CSV file reads a cell
// that starts with '=', '+', '-' or '@' as a formula (and drops a leading
// tab or carriage return before it looks), so a destination such as
// =HYPERLINK("http://evil.example", "Click") in an export runs where an
// operator opens it. As OWASP advises, an export writes such a text cell
// with a single quote in front, which spreadsheets show as text.
//
// Only text that comes from outside is neutralised: destinations, ids,
// names, numbers, reasons. Money, counts and times are written by the
// program and stay numbers. A cell that is a plain number ("-5",
// "+442079460000", "0.5") is left as it is too: a spreadsheet reads it as
// that number either way, and it cannot call anything.
//
// The rate deck's round trip stays exact: ParseRates removes the quote
// exactly where CSVCell would have added it, that is from a destination
// that starts with a quote followed by a cell that needs one. For that,
// a destination that itself starts with quotes before a formula character
// ('=x) gets one more quote, so that the import gives back what the
// export was given.

// CSVCell is the cell an export writes for the text s.
func CSVCell(s string) string {
	if needsQuote(s) {
		return "'" + s
	}
	return s
}

// fromCSVCell is the text of a cell that CSVCell wrote: the inverse of
// CSVCell on every string, and the identity on a cell that CSVCell would
// never write.
func fromCSVCell(c string) string {
	if len(c) > 1 && c[0] == '\'' && needsQuote(c[1:]) {
		return c[1:]
	}
	return c
}

// needsQuote reports whether s, after any leading quotes, starts with a
// character that makes a spreadsheet read a formula, and is not a plain
// number.
func needsQuote(s string) bool {
	i := 0
	for i < len(s) && s[i] == '\'' {
		i++
	}
	if i == len(s) {
		return false
	}
	switch s[i] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !plainNumber(s[i+1:])
	}
	return false
}

// plainNumber reports whether s is digits with at most one '.' between
// them.
func plainNumber(s string) bool {
	dot, digits := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
