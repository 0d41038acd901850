package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"pbxbill/rating"
)

// codeMethodNotAllowed extends API.md's codes for a known path called with
// a method it does not serve; HTTP has a status for exactly that.
const codeMethodNotAllowed = "method_not_allowed"

// codeTooManyRequests extends API.md's codes for a throttled caller; its
// answer says when to come back (retryLater).
const codeTooManyRequests = "too_many_requests"

// retryLater is an error whose answer carries Retry-After.
type retryLater struct {
	err   *rating.Error
	after time.Duration
}

func (e *retryLater) Error() string { return e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// statusOf maps each error code of API.md to its HTTP status; 0 for a code
// it does not know, which is answered as internal.
func statusOf(code string) int {
	switch code {
	case rating.EInvalid:
		return http.StatusBadRequest
	case rating.EUnauthorized:
		return http.StatusUnauthorized
	case rating.EForbidden:
		return http.StatusForbidden
	case rating.ENotFound:
		return http.StatusNotFound
	case rating.EConflict:
		return http.StatusConflict
	case rating.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeTooManyRequests:
		return http.StatusTooManyRequests
	case rating.EInternal:
		return http.StatusInternalServerError
	}
	return 0
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string             `json:"code"`
	Field   string             `json:"field,omitempty"`
	Message string             `json:"message"`
	Lines   []rating.LineError `json:"lines,omitempty"`
}

// problem is an error as every answer shows it. problemOf is the one place
// that reads an error for an answer; the JSON writer (server.error), the
// admin's error page (ui.page) and its forms (formErrors.add) only render
// what it decides.
type problem struct {
	Status int
	errorDetail
	// Internal is set for a failure that is not the caller's: it is
	// logged, and its details are not shown.
	Internal bool
}

func problemOf(err error) problem {
	var e *rating.Error
	if !errors.As(err, &e) {
		return problem{Status: http.StatusInternalServerError, Internal: true,
			errorDetail: errorDetail{Code: rating.EInternal, Message: "internal error"}}
	}
	status := statusOf(e.Code)
	if status == 0 || status == http.StatusInternalServerError {
		return problem{Status: http.StatusInternalServerError, Internal: true,
			errorDetail: errorDetail{Code: rating.EInternal, Message: "internal error"}}
	}
	return problem{Status: status, errorDetail: errorDetail{Code: e.Code, Field: e.Field, Message: e.Message, Lines: e.Lines}}
}

// panicError carries a recovered panic to the error writer.
type panicError struct{ v any }

func (e panicError) Error() string { return fmt.Sprintf("panic: %v", e.v) }

// error writes err as the answer. It is the one place that does: a
// *rating.Error becomes its code's status and its message; anything else
// is a 500 whose details go to the log only, at error level, because a
// caller can do nothing with them and they may reveal internals.
//
// The text form of authorize is the exception: Asterisk's ${CURL()} ignores
// the status, so any failure there, even a bad token, answers 200 "0\n",
// which the dialplan reads as "not allowed".
func (s *server) error(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p.Internal {
		s.Log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("internal error")
	}
	status := p.Status
	if textAuthorize(r) {
		writeText(w, "0\n")
		return
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pbxbill"`)
	}
	if rl := (*retryLater)(nil); errors.As(err, &rl) {
		w.Header().Set("Retry-After", retryAfter(rl.after))
	}
	b, err := json.Marshal(errorBody{p.errorDetail})
	if err != nil {
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// textAuthorize reports whether r asks for authorize's plain-text answer.
func textAuthorize(r *http.Request) bool {
	return r.URL.Path == "/api/v1/authorize" && params(r.URL.RawQuery).Get("format") == "text"
}

// writeText answers 200 with a plain-text body.
func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}
