package handlers

import (
	"bufio"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// rateRows is what the rate row endpoints and pages ask of the store.
type rateRows interface {
	Rates(name, prefix, after string, limit int) ([]rating.Row, string, error)
	EachRate(name string, fn func(*rating.Row) error) error
	ImportRates(name string, parse func(stage func([]rating.Row) error) error) (int, error)
	MergeRates(name string, rows []rating.Row) (added, replaced int, err error)
	PutRate(name string, row rating.Row, from *rating.RateKey) (added bool, err error)
	DeleteRate(name string, key rating.RateKey) (rating.Row, error)
}

// importOut answers PUT /rate-tables/{name}/rates: the rows in the file,
// and how many were added and how many replaced rows of the same prefix
// and effective_from. A replace adds every row: the old rows are gone.
type importOut struct {
	Mode     string `json:"mode"`
	Rows     int    `json:"rows"`
	Added    int    `json:"added"`
	Replaced int    `json:"replaced"`
}

// importRates replaces (or with ?mode=merge upserts) a table's rows from a
// CSV deck. The whole file is checked before the table changes, so a bad
// line changes nothing.
func (s *server) importRates(w http.ResponseWriter, r *http.Request) error {
	t, err := s.Store.RateTable(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	body := http.MaxBytesReader(unwrap(w), r.Body, s.csvLimit)
	if dry := r.URL.Query().Get("dry_run"); dry != "" {
		if dry != "1" && dry != "true" {
			return rating.Invalidf("dry_run", "dry_run %s: want 1", rating.Excerpt(dry))
		}
		d, err := s.previewDeck(t, body, r.URL.Query().Get("mode"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, d)
	}
	out, err := s.importDeck(s.store(r), t, body, r.URL.Query().Get("mode"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}

// previewDeck answers what importing the deck in body into table t would
// change, storing nothing (API.md dry_run): the deck is checked as an
// import checks it, and compared with the rows the table has.
func (s *server) previewDeck(t rating.Table, body io.Reader, mode string) (rating.DeckDiff, error) {
	switch mode {
	case "", "replace", "merge":
	default:
		return rating.DeckDiff{}, rating.Invalidf("mode", "mode %s: want replace or merge", rating.Excerpt(mode))
	}
	deck, err := rating.ParseRates(&limitedBody{r: body}, t, s.Store.Location())
	if err != nil {
		return rating.DeckDiff{}, err
	}
	var old []rating.Row
	for after := ""; ; {
		rows, next, err := s.Store.Rates(t.Name, "", after, 1000)
		if err != nil {
			return rating.DeckDiff{}, err
		}
		old = append(old, rows...)
		if next == "" {
			break
		}
		after = next
	}
	return rating.DiffDeck(old, deck, mode == "merge"), nil
}

// importDeck replaces (mode "replace" or "") or upserts (mode "merge") the
// rows of table t from the CSV deck in body, whose reads fail with
// http.MaxBytesError past the size limit: the one import of the API's
// PUT and of the admin's upload form, which only render its outcome.
func (s *server) importDeck(st Store, t rating.Table, body io.Reader, mode string) (importOut, error) {
	switch mode {
	case "":
		mode = "replace"
	case "replace", "merge":
	default:
		return importOut{}, rating.Invalidf("mode", "mode %s: want replace or merge", rating.Excerpt(mode))
	}
	lb := &limitedBody{r: body}
	out := importOut{Mode: mode}
	var err error
	if mode == "merge" {
		var rows []rating.Row
		if rows, err = rating.ParseRates(lb, t, s.Store.Location()); err == nil {
			out.Rows = len(rows)
			out.Added, out.Replaced, err = st.MergeRates(t.Name, rows)
		}
	} else {
		// A replace streams: the store keeps each chunk aside and only
		// swaps the rows in once the whole deck has parsed.
		out.Rows, err = st.ImportRates(t.Name, func(stage func([]rating.Row) error) error {
			_, err := rating.ParseRatesChunks(lb, t, s.Store.Location(), importChunk, stage)
			return err
		})
		out.Added = out.Rows
	}
	if lb.tooLarge {
		// The parser may report the cut-off as a bad line; the real
		// problem is the size.
		return importOut{}, tooLarge(s.csvLimit)
	}
	return out, err
}

// deleteRate deletes one row: DELETE /rate-tables/{name}/rates/{prefix}
// with ?effective_from= (RFC 3339 or YYYY-MM-DD, as in a deck; empty: the
// row that is always in force) and, for a row with times of the week,
// ?days=&hours= as a deck writes them (empty: the week's default). It
// answers 204, as every DELETE does.
func (s *server) deleteRate(w http.ResponseWriter, r *http.Request) error {
	vars, q := mux.Vars(r), r.URL.Query()
	// An unescaped "+" of a zone offset arrives as a space; neither form
	// of effective_from has one of its own.
	key, err := s.rateKey(vars["prefix"], strings.ReplaceAll(q.Get("effective_from"), " ", "+"), q.Get("days"), q.Get("hours"))
	if err != nil {
		return err
	}
	if _, err := s.store(r).DeleteRate(vars["name"], key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rateKey reads the key of one row, for the API's DELETE and the admin's
// row forms alike: the prefix, effective_from in RFC 3339 or YYYY-MM-DD,
// as in a deck ("": the row that is always in force), and the days and
// hours as a deck writes them ("": none).
func (s *server) rateKey(prefix, eff, days, hours string) (rating.RateKey, error) {
	key := rating.RateKey{Prefix: prefix}
	var err error
	if key.Week.Days, err = rating.ParseDays(days); err != nil {
		return key, err
	}
	if key.Week.Hours, err = rating.ParseHours(hours); err != nil {
		return key, err
	}
	if eff == "" {
		return key, nil
	}
	key.EffectiveFrom, err = rating.ParseEffectiveFrom(eff, s.Store.Location())
	return key, err
}

// importChunk is how many rows of a replace-mode deck the parser hands to
// the store at a time: the store sorts each chunk and keeps it on disk.
const importChunk = 1 << 16

// limitedBody notes whether reading stopped at the size limit.
type limitedBody struct {
	r        io.Reader
	tooLarge bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && isTooLarge(err) {
		b.tooLarge = true
	}
	return n, err
}

// rowOut is one rate row as listed. A null integer or money field and a
// null effective_from mean the row leaves it to the table's default, or,
// for effective_from, that the row is always in force; null days and
// hours, every day and all day: a row with neither is its week's
// default.
type rowOut struct {
	Prefix           string        `json:"prefix"`
	Destination      string        `json:"destination"`
	Rate             rating.Amount `json:"rate"`
	ConnectFee       rating.Amount `json:"connect_fee"`
	InitialIncrement *int          `json:"initial_increment"`
	Increment        *int          `json:"increment"`
	InitialRate      rating.Amount `json:"initial_rate"`
	Grace            *int          `json:"grace"`
	MinCost          rating.Amount `json:"min_cost"`
	MaxCost          rating.Amount `json:"max_cost"`
	EffectiveFrom    *time.Time    `json:"effective_from"`
	Days             *string       `json:"days"`
	Hours            *string       `json:"hours"`
	Blocked          bool          `json:"blocked"`
}

func newRowOut(row *rating.Row, loc *time.Location) rowOut {
	out := rowOut{Prefix: row.Prefix, Destination: row.Destination, Rate: row.Rate,
		ConnectFee: row.ConnectFee, InitialRate: row.InitialRate, MinCost: row.MinCost, MaxCost: row.MaxCost,
		InitialIncrement: optionalInt(row.InitialIncrement), Increment: optionalInt(row.Increment),
		Grace: optionalInt(row.Grace), Days: optionalText(row.Days.String()), Hours: optionalText(row.Hours.String()),
		Blocked: row.Blocked}
	if !row.EffectiveFrom.IsZero() {
		t := row.EffectiveFrom.In(loc)
		out.EffectiveFrom = &t
	}
	return out
}

// optionalText maps "" to nil.
func optionalText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optionalInt maps a row's "not set" -1 to nil.
func optionalInt(v int) *int {
	if v < 0 {
		return nil
	}
	return &v
}

// exportRates lists a table's rows: as JSON pages by default, or as one
// CSV deck that ParseRates reads back, for Accept: text/csv or ?format=csv.
func (s *server) exportRates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	switch q.Get("format") {
	case "csv":
		return s.exportCSV(w, r)
	case "json":
	case "":
		if strings.Contains(r.Header.Get("Accept"), "text/csv") {
			return s.exportCSV(w, r)
		}
	default:
		return rating.Errorf(rating.EInvalid, "format %s: want json or csv", rating.Excerpt(q.Get("format")))
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	rows, next, err := s.Store.Rates(mux.Vars(r)["name"], q.Get("prefix"), q.Get("after"), n)
	if err != nil {
		return err
	}
	loc := s.Store.Location()
	out := make([]rowOut, len(rows))
	for i := range rows {
		out[i] = newRowOut(&rows[i], loc)
	}
	return replyList(w, out, next)
}

// exportCSV streams the whole table.
func (s *server) exportCSV(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if _, err := s.Store.RateTable(name); err != nil {
		return err
	}
	return s.streamRates(w, name)
}

// streamRates writes the table as a CSV deck that ParseRates reads back,
// for the API's export and the admin's download alike. The store reads
// the rows a page per transaction, so a slow client holds up no commit;
// a table that changes meanwhile ends the export with EConflict rather
// than mixing two decks. An error before the first bytes went out is an
// error answer; after them it cuts the connection (endStream), so that the
// client sees a broken transfer rather than a short file.
//
// The file is named after the table; a name that the header cannot carry
// as it is keeps its letters, digits, '-' and '_'.
func (s *server) streamRates(w http.ResponseWriter, name string) error {
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": name + ".csv"})
	if disposition == "" {
		disposition = `attachment; filename="` + fileName(name) + `.csv"`
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", disposition)
	bw := bufio.NewWriterSize(w, 64<<10)
	rw := rating.NewRateWriter(bw, s.Store.Location())
	err := s.Store.EachRate(name, rw.Write)
	if err == nil {
		err = rw.Flush()
	}
	return s.endStream(w, bw, err, "rate export of "+name)
}

// fileName keeps letters, digits, '-' and '_' of name, for a download.
func fileName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
