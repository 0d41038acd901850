package handlers

import (
	"errors"
	"net/http"

	"pbxbill/rating"
)

// What an admin form may send. A form's fields are a few hundred bytes;
// the log-in form is open to anyone, so it gets the least.
const (
	loginFormLimit = 8 << 10
	formLimit      = 64 << 10
)

// form reads the form of a POST, at most limit bytes of it and all in
// memory, before h runs. A larger body is refused as too large before
// anything else is looked at, the log-in throttle included.
func (u *ui) form(limit int64, h handlerFunc) handlerFunc {
	return u.upload(func() int64 { return limit }, func(w http.ResponseWriter, r *http.Request) error {
		if err := r.ParseMultipartForm(limit); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			if isTooLarge(err) {
				return tooLarge(limit)
			}
			return rating.Errorf(rating.EInvalid, "form: %v", err)
		}
		return h(w, r)
	})
}

// upload limits the body of a file upload to limit() bytes, read as h
// runs, and removes whatever multipart form h parsed when it returns,
// files spilled to $TMPDIR included. net/http removes only the form of
// the request it made, and h is given mux's copy of it, so without this a
// file part would stay on disk for ever, whatever the answer was.
func (u *ui) upload(limit func() int64, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(unwrap(w), r.Body, limit())
		defer func() {
			if r.MultipartForm != nil {
				_ = r.MultipartForm.RemoveAll()
			}
		}()
		return h(w, r)
	}
}

// csvUpload is the limit of a deck or CDR file upload.
func (u *ui) csvUpload() int64 { return u.csvLimit }
