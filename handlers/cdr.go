package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"pbxbill/rating"
)

// cdrs is what CDR intake, lists, exports and re-rating ask of the store.
type cdrs interface {
	PostCDRs(node string, cdrs []rating.CDR) (rating.Posted, error)
	CDRs(f rating.CDRFilter, after string, limit int) ([]rating.CDR, string, error)
	// CDRPage pages by call start both ways; CDRTotals adds up a filter.
	CDRPage(f rating.CDRFilter, after, before string, limit int) (rating.CDRPage, error)
	CDRTotals(f rating.CDRFilter) (rating.CDRTotals, error)
	CDR(node, id string) (rating.CDR, error)
	EachCDR(f rating.CDRFilter, fn func(*rating.CDR) error) error
	ProviderByTrunk() (func(trunk string) (string, bool), error)
	Rerate(rating.CDRFilter) (rating.Rerated, error)
}

// maxCDRBody bounds a JSON batch. A batch of 10^4 CDRs is about 2 MB; 64
// MiB leaves room for the largest batch a PBX script would send, while a
// runaway one (10^6 CDRs in one request) is refused before it is stored.
const maxCDRBody = 64 << 20

// minCDRBytes is the shortest JSON of a valid CDR: an id, a start and a
// duration, {"id":"1","start":"2026-01-01T00:00:00Z","duration":0}.
const minCDRBytes = 50

// cdrIn is one CDR as posted. Start and duration are kept raw until
// toCDR, so that their errors can name the record.
type cdrIn struct {
	ID       string          `json:"id"`
	Tenant   string          `json:"tenant"`
	Kind     string          `json:"kind"`
	Number   string          `json:"number"`
	Provider string          `json:"provider"`
	Start    json.RawMessage `json:"start"`
	Duration json.RawMessage `json:"duration"`
}

// toCDR checks the fields a store cannot: the kind, the start and the
// duration as written. rating.CDR.Validate checks the rest.
func (in *cdrIn) toCDR() (rating.CDR, error) {
	c := rating.CDR{ID: in.ID, Tenant: in.Tenant, Number: in.Number, Provider: in.Provider}
	var err error
	if c.Kind, err = parseKind(in.Kind); err != nil {
		return c, err
	}
	if c.Start, err = start(in.Start); err != nil {
		return c, err
	}
	if c.Duration, err = seconds(in.Duration); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// start reads a start: an RFC 3339 string, or whole Unix seconds as a
// JSON number, which is what Kamailio's $TV(s) and FreeSWITCH's epoch
// variables give. A string of digits is read as Unix seconds too: a
// script that quotes every value sends the same instant.
func start(raw json.RawMessage) (time.Time, error) {
	s := string(raw)
	if s == "" || s == "null" || s == `""` {
		return time.Time{}, rating.Invalidf("start", "start: required (RFC 3339 or Unix seconds)")
	}
	if s[0] != '"' {
		return rating.UnixStart("start", s)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, rating.Invalidf("start", "start: %v", err)
	}
	if allDigits(s) {
		return rating.UnixStart("start", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, rating.Invalidf("start", "start %s: want an RFC 3339 time such as 2026-05-01T10:00:00Z, or Unix seconds", rating.Excerpt(s))
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// seconds reads a duration: a JSON whole number, or a string holding one,
// which is what a shell script with ${CDR(billsec)} tends to send.
func seconds(raw json.RawMessage) (int, error) {
	s := string(raw)
	if s == "" || s == "null" {
		return 0, rating.Invalidf("duration", "duration: required (whole seconds)")
	}
	if u, err := strconv.Unquote(s); err == nil && s[0] == '"' {
		s = u
	}
	d, err := strconv.Atoi(s)
	if err != nil {
		// raw is JSON, escaped already; a long one is cut to an excerpt.
		shown := string(raw)
		if len(shown) > 40 {
			shown = rating.Excerpt(shown)
		}
		return 0, rating.Invalidf("duration", "duration %s: want whole seconds", shown)
	}
	return d, nil
}

// cdrResult is the outcome of one posted CDR.
type cdrResult struct {
	ID           string       `json:"id"`
	Status       string       `json:"status"`
	Cost         rating.Money `json:"cost"`
	ProviderCost rating.Money `json:"provider_cost"`
	Reason       string       `json:"reason"`
}

// postedOut answers POST /cdrs. Skipped is there for PBX files only: the
// internal calls they hold.
type postedOut struct {
	Results   []cdrResult `json:"results"`
	Rated     int         `json:"rated"`
	Duplicate int         `json:"duplicate"`
	Unrated   int         `json:"unrated"`
	Skipped   *int        `json:"skipped,omitempty"`
}

func newPostedOut(p rating.Posted) postedOut {
	out := postedOut{Results: make([]cdrResult, len(p.Results)), Rated: p.Rated, Duplicate: p.Duplicate, Unrated: p.Unrated}
	for i := range p.Results {
		c := &p.Results[i]
		out.Results[i] = cdrResult{ID: c.ID, Status: c.Status, Cost: c.Cost, ProviderCost: c.ProviderCost, Reason: c.Reason}
	}
	return out
}

// write answers out. It is encoded by hand: a batch of 10^4 results is
// the largest answer the API gives on its busiest write path, and
// encoding/json, with a MarshalJSON per amount that it then re-scans,
// spends more on it than the decoding of the batch.
func (out *postedOut) write(w http.ResponseWriter) error {
	b := make([]byte, 0, 64+len(out.Results)*96)
	b = append(b, `{"results":[`...)
	for i := range out.Results {
		r := &out.Results[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, r.ID)
		b = append(b, `,"status":`...)
		b = appendString(b, r.Status)
		b = append(b, `,"cost":`...)
		b = appendAmount(b, r.Cost)
		b = append(b, `,"provider_cost":`...)
		b = appendAmount(b, r.ProviderCost)
		b = append(b, `,"reason":`...)
		b = appendString(b, r.Reason)
		b = append(b, '}')
	}
	b = fmt.Appendf(b, `],"rated":%d,"duplicate":%d,"unrated":%d`, out.Rated, out.Duplicate, out.Unrated)
	if out.Skipped != nil {
		b = fmt.Appendf(b, `,"skipped":%d`, *out.Skipped)
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// appendString appends s as a JSON string. Printable ASCII, which is what
// ids and reasons are made of, is quoted alike by Go and JSON; anything
// else goes through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	return strconv.AppendQuote(b, s)
}

// appendAmount appends a money string, or null for no amount.
func appendAmount(b []byte, a rating.Money) []byte {
	if !a.Set() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = a.AppendString(b)
	return append(b, '"')
}

// postCDRs takes a JSON batch, or with ?format= a PBX's own CDR file.
func (s *server) postCDRs(m *metrics) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		// mod_json_cdr appends "?uuid=<uuid>" to the URL it is given,
		// whatever that URL holds already, so a configured
		// ...?format=freeswitch-json arrives as format=freeswitch-json?uuid=...
		f, _, _ := strings.Cut(r.URL.Query().Get("format"), "?")
		switch f {
		case "", "json":
		case string(rating.Asterisk), string(rating.FreeSWITCH):
			return s.postPBXFile(w, r, m, rating.PBXFormat(f))
		case "freeswitch-json":
			return s.postFSJSON(w, r, m)
		default:
			return rating.Errorf(rating.EInvalid, "format %s: want json, asterisk, freeswitch or freeswitch-json", rating.Excerpt(f))
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "text/csv" {
			return rating.Errorf(rating.EInvalid, "Content-Type text/csv: a PBX CDR file needs ?format=asterisk or ?format=freeswitch")
		}
		// A body that announces its size is refused before a byte is
		// read; one sent in chunks is cut off at the limit.
		if r.ContentLength > maxCDRBody {
			return tooLarge(maxCDRBody)
		}
		cdrs, err := decodeCDRs(http.MaxBytesReader(unwrap(w), r.Body, maxCDRBody), r.ContentLength, maxCDRBody)
		if err != nil {
			return err
		}
		out := postedOut{Results: []cdrResult{}}
		if len(cdrs) > 0 {
			p, err := s.Store.PostCDRs(callerOf(r).Node, cdrs)
			if err != nil {
				return err
			}
			m.posted(p, 0)
			out = newPostedOut(p)
		}
		return out.write(w)
	}
}

// decodeCDRs reads one CDR object or an array of them, of at most limit
// bytes; sizeHint is the body's announced length, or -1. The body is read
// whole first (it is a fraction of the CDRs it holds) so that the array's
// length can be bounded before it is decoded: growing a slice of 10^4
// CDRs by doubling costs as much as decoding them. Elements are decoded
// one at a time, so that an error can name the element. Every record is
// checked before any is returned: one malformed record rejects the batch.
func decodeCDRs(body io.Reader, sizeHint, limit int64) ([]rating.CDR, error) {
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= limit {
		buf.Grow(int(sizeHint) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, decodeError(err, limit)
	}
	data := bytes.TrimLeft(buf.Bytes(), " \t\r\n")
	if len(data) == 0 {
		return nil, rating.Errorf(rating.EInvalid, "body: empty; send a CDR object or an array of them")
	}
	first := data[0]
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cdrs []rating.CDR
	if first != '[' {
		var in cdrIn
		if err := dec.Decode(&in); err != nil {
			return nil, badRecord(-1, in.ID, decodeError(err, limit))
		}
		c, err := in.toCDR()
		if err != nil {
			return nil, badRecord(-1, in.ID, err)
		}
		cdrs = append(cdrs, c)
	} else {
		// Each element is an object, so has a '{'; and it needs at least
		// minCDRBytes: that bounds the count by what the body can hold.
		cdrs = make([]rating.CDR, 0, min(bytes.Count(data, []byte{'{'}), len(data)/minCDRBytes+1))
		if _, err := dec.Token(); err != nil {
			return nil, decodeError(err, limit)
		}
		for i := 0; dec.More(); i++ {
			var in cdrIn
			if err := dec.Decode(&in); err != nil {
				return nil, badRecord(i, in.ID, decodeError(err, limit))
			}
			c, err := in.toCDR()
			if err != nil {
				return nil, badRecord(i, in.ID, err)
			}
			cdrs = append(cdrs, c)
		}
		if _, err := dec.Token(); err != nil { // the closing ]
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, decodeError(err, limit)
		}
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
		return cdrs, nil
	case isTooLarge(err):
		return nil, decodeError(err, limit)
	}
	return nil, rating.Errorf(rating.EInvalid, "body: more than one JSON value; send one CDR object or one array of them")
}

// badRecord names the element (i ≥ 0 in an array) and the id of a
// malformed record in err's message; an oversized body stays too_large.
func badRecord(i int, id string, err error) error {
	var e *rating.Error
	if !errors.As(err, &e) || e.Code != rating.EInvalid {
		return err
	}
	where := "cdr"
	if i >= 0 {
		where = "cdrs[" + strconv.Itoa(i) + "]"
	}
	msg := e.Message
	if id != "" && !strings.Contains(msg, rating.Excerpt(id)) {
		where += " (id " + rating.Excerpt(id) + ")"
	}
	return &rating.Error{Code: rating.EInvalid, Message: where + ": " + msg + "; nothing was stored", Lines: e.Lines}
}
