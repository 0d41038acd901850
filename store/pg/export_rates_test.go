package pg

// SetRatePaging sets how many rows EachRate reads in one transaction and
// how many changed prefixes an index carries before it is rebuilt, for
// the tests of package pg_test.
func (s *Store) SetRatePaging(exportPage, foldAt int) {
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	s.rates.exportPage, s.rates.foldAt = exportPage, foldAt
}

// AppendNumeric and ParseNumeric are the rate rows' codec of a price in
// numeric's binary form, for the tests of package pg_test.
var (
	AppendNumeric = appendNumeric
	ParseNumeric  = parseNumeric
)
