package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"pbxbill/rating"
)

// Body limits. A JSON request is a handful of fields; a rate deck of a
// million rows is well under 128 MiB.
const (
	maxJSONBody = 1 << 20
	maxCSVBody  = 128 << 20
)

// decode reads exactly one JSON value from r's body into v, refusing
// unknown fields, so that a misspelt field is an error rather than a
// silently ignored setting.
func (s *server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(unwrap(w), r.Body, s.jsonLimit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, s.jsonLimit)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
		return nil
	case isTooLarge(err):
		return decodeError(err, s.jsonLimit)
	}
	return rating.Errorf(rating.EInvalid, "body: more than one JSON value; send exactly one object")
}

// decodeError names the offset, the field or the limit that made decoding
// fail.
func decodeError(err error, limit int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var re *rating.Error
	switch {
	case isTooLarge(err):
		return tooLarge(limit)
	case errors.Is(err, io.EOF):
		return rating.Errorf(rating.EInvalid, "body: empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return rating.Errorf(rating.EInvalid, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syn):
		return rating.Errorf(rating.EInvalid, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return rating.Errorf(rating.EInvalid, "body: got a JSON %s, want %s", jsonValue(typ.Value), describe(typ.Type))
		}
		return rating.Errorf(rating.EInvalid, "field %s: got a JSON %s, want %s", rating.Excerpt(typ.Field), jsonValue(typ.Value), describe(typ.Type))
	case errors.As(err, &re):
		return re // from a field's own UnmarshalJSON or UnmarshalText, which names it
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if u, err := strconv.Unquote(f); err == nil {
			f = rating.Excerpt(u)
		}
		return rating.Errorf(rating.EInvalid, "unknown field %s", f)
	}
	return rating.Errorf(rating.EInvalid, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonValue is what encoding/json says a value was ("string", "number
// 1e400"), with a long literal cut to an excerpt.
func jsonValue(v string) string {
	if kind, lit, ok := strings.Cut(v, " "); ok && len(lit) > 40 {
		return kind + " " + rating.Excerpt(lit)
	}
	return v
}

// describe names a Go type the way an API caller thinks of it.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

func tooLarge(limit int64) error {
	if limit >= 1<<20 {
		return rating.Errorf(rating.ETooLarge, "body: larger than the limit of %d MiB", limit>>20)
	}
	return rating.Errorf(rating.ETooLarge, "body: larger than the limit of %d bytes", limit)
}

// money parses an optional money field of a request body, kept raw while
// decoding so that the error can name the field: rating.Money's own
// UnmarshalJSON does not know which field it is in. It accepts a string,
// a number or null (no amount).
func money(field string, raw json.RawMessage) (rating.Money, error) {
	var a rating.Money
	if err := a.UnmarshalJSON(raw); err != nil {
		return rating.Money{}, rating.Invalidf(field, "%s: %s", field, rating.ErrorMessage(err))
	}
	return a, nil
}

// reply answers v as JSON with the given status.
func reply(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// list is the shape of every list answer.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// replyList answers items and the cursor of the next page; an empty list
// is [] rather than null.
func replyList[T any](w http.ResponseWriter, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return reply(w, http.StatusOK, list[T]{Items: items, Next: next})
}

// replyNamed answers a list kept in name order, paged by ?after= (the last
// name of the previous page) and ?limit=. Without limit it answers every
// item, as these lists did before they were paged: they hold tenants,
// providers, tables or nodes, which are few, and a script that read the
// whole list must go on doing so.
func replyNamed[T any](w http.ResponseWriter, r *http.Request, items []T, name func(*T) string) error {
	q := r.URL.Query()
	if after := q.Get("after"); after != "" {
		i := sort.Search(len(items), func(i int) bool { return name(&items[i]) > after })
		items = items[i:]
	}
	if q.Get("limit") == "" {
		return replyList(w, items, "")
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	next := ""
	if len(items) > n {
		items = items[:n]
		next = name(&items[n-1])
	}
	return replyList(w, items, next)
}
