package rating

import (
	"errors"
	"fmt"
	"strconv"
)

// Error codes. Each maps to one HTTP status in handlers (see API.md).
const (
	EInvalid      = "invalid"
	EUnauthorized = "unauthorized"
	EForbidden    = "forbidden"
	ENotFound     = "not_found"
	EConflict     = "conflict"
	ETooLarge     = "too_large"
	EInternal     = "internal"
)

// Error is the one error type that crosses package boundaries. Message is
// written for a person: it names the field, the value or the CSV line.
type Error struct {
	Code string
	// Field is the request field, form field or CSV column the error
	// concerns ("credit_limit"), "" when it concerns none. The admin shows
	// the message next to that field; the API answers it as "field".
	Field   string
	Message string
	// Lines holds per-line problems of a rejected CSV file, at most 100.
	Lines []LineError
}

// LineError is one problem found on one line of an uploaded file.
type LineError struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EInvalid error about field; the message still names
// the field, since it is also read without the form around it.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorField returns the field err concerns, "" when none.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the code of err, EInternal for errors that are not *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the message of err that is safe to show to a caller.
// Internal errors are not described beyond that, they are logged instead.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// excerptLen is how many characters of a value an error message quotes.
const excerptLen = 40

// Excerpt quotes s for an error message, as %q does, but at most its first
// 40 characters, followed by … when it was cut: a message names the value
// it rejects without echoing a 100 MiB cell back to the caller.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == excerptLen {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}
