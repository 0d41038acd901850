package handlers

import (
	"bufio"
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"time"

	"pbxbill/rating"
)

// postPBXFile imports an Asterisk Master.csv or a FreeSWITCH mod_cdr_csv
// file as one batch: the whole file is parsed and checked before the store
// is touched, so a bad line changes nothing, and a line's id (its uniqueid,
// or a hash of the line) makes a second upload of the same file a no-op.
func (s *server) postPBXFile(w http.ResponseWriter, r *http.Request, m *metrics, format rating.PBXFormat) error {
	q := r.URL.Query()
	var kind rating.Kind // 0: derived per line from the trunks and lastapp
	if v := q.Get("kind"); v != "" {
		var err error
		if kind, err = rating.ParseKind(v); err != nil {
			return err
		}
	}
	loc := s.Store.Location()
	if tz := q.Get("tz"); tz != "" {
		var err error
		// The PBX writes local stamps in its own zone, which need not be
		// the installation's.
		if loc, err = time.LoadLocation(tz); err != nil {
			return rating.Errorf(rating.EInvalid, "tz %s: not a known time zone (want an IANA name such as Europe/Berlin)", rating.Excerpt(tz))
		}
	}
	p, skipped, err := s.importPBXFile(http.MaxBytesReader(unwrap(w), r.Body, s.csvLimit), callerOf(r).Node, format, kind, loc)
	if err != nil {
		return err
	}
	m.posted(p, skipped)
	out := newPostedOut(p)
	out.Skipped = &skipped
	return out.write(w)
}

// importPBXFile is the one import of a PBX CDR file, for the API's POST
// and the admin's upload form, which only render its outcome: it parses
// and checks the whole file, whose reads fail with http.MaxBytesError past
// the size limit, and only then posts its CDRs as node's. It answers what
// was posted and how many internal calls were skipped.
func (s *server) importPBXFile(body io.Reader, node string, format rating.PBXFormat, kind rating.Kind, loc *time.Location) (rating.Posted, int, error) {
	lb := &limitedBody{r: body}
	recs, skipped, err := rating.ParsePBXFile(lb, format, loc)
	if lb.tooLarge {
		return rating.Posted{}, 0, tooLarge(s.csvLimit)
	}
	if err != nil {
		return rating.Posted{}, 0, err
	}
	cdrs, bad, err := s.pbxCDRs(recs, kind)
	if err != nil {
		return rating.Posted{}, 0, err
	}
	if len(bad) > 0 {
		return rating.Posted{}, 0, &rating.Error{Code: rating.EInvalid, Lines: bad,
			Message: "bad lines in " + string(format) + " CDR file; first: line " + strconv.Itoa(bad[0].Line) + ": " + bad[0].Message + "; nothing was stored"}
	}
	if len(cdrs) == 0 {
		return rating.Posted{}, skipped, nil
	}
	p, err := s.Store.PostCDRs(node, cdrs)
	return p, skipped, err
}

// cdrColumns is the header of a CDR export.
var cdrColumns = []string{"id", "node", "tenant", "kind", "number", "provider", "start", "duration",
	"billed_seconds", "status", "reason", "cost", "provider_cost", "prefix", "rate_table"}

// exportCDRs streams every CDR that f selects as CSV, newest first, with
// start times in the installation's zone. Text cells that a spreadsheet
// would read as a formula get a quote in front (rating.CSVCell); money,
// counts and times are the program's and stay numbers. The store reads the
// CDRs a page per transaction, so a slow client holds up no commit; the
// export holds the CDRs stored when it began (store.EachCDR says what a
// change meanwhile means). As with a rate export, an error after the first
// bytes went out cuts the connection, so that the client sees a broken
// transfer rather than a short file.
func (s *server) exportCDRs(w http.ResponseWriter, f rating.CDRFilter) error {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="cdrs.csv"`)
	loc := s.Store.Location()
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	rec := make([]string, len(cdrColumns))
	err := cw.Write(cdrColumns)
	if err == nil {
		err = s.Store.EachCDR(f, func(c *rating.CDR) error {
			rec = append(rec[:0], rating.CSVCell(c.ID), rating.CSVCell(c.Node), rating.CSVCell(c.Tenant), c.Kind.String(),
				rating.CSVCell(c.Number), rating.CSVCell(c.Provider), c.Start.In(loc).Format(time.RFC3339),
				strconv.Itoa(c.Duration), strconv.Itoa(c.Billed), rating.CSVCell(c.Status), rating.CSVCell(c.Reason),
				c.Cost.String(), c.ProviderCost.String(), rating.CSVCell(c.Prefix), rating.CSVCell(c.RateTable))
			return cw.Write(rec)
		})
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	return s.endStream(w, bw, err, "CDR export")
}

// pbxCDRs turns parsed PBX file records into CDRs, deriving kind and
// provider from the trunks when kind is 0. The parser has checked what it
// reads; what only a CDR can check (an over-long uniqueid or number) is
// reported by its line, as many as 100.
func (s *server) pbxCDRs(recs []rating.PBXRecord, kind rating.Kind) ([]rating.CDR, []rating.LineError, error) {
	resolve, err := s.Store.ProviderByTrunk()
	if err != nil {
		return nil, nil, err
	}
	cdrs := make([]rating.CDR, len(recs))
	var bad []rating.LineError
	for i := range recs {
		cdrs[i] = recs[i].CDR(kind, resolve)
		if err := cdrs[i].Validate(); err != nil && len(bad) < 100 {
			bad = append(bad, rating.LineError{Line: recs[i].Line, Message: rating.ErrorMessage(err)})
		}
	}
	return cdrs, bad, nil
}
