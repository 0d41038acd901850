package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"pbxbill/rating"
)

// saveRow adds a row or saves an edited one, through the store's one
// single-row write: an edit that changes the prefix or the date moves the
// row in the same transaction, so the table never holds both.
func (u *ui) saveRow(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	f := readRowForm(r)
	row, ok := f.row(t, u.loc)
	if !ok {
		return u.renderTable(w, r, k, t, http.StatusBadRequest, tableState{Row: &f})
	}
	var from *rating.RateKey
	if f.OrigPrefix != "" {
		key, err := u.rateKey(f.OrigPrefix, f.OrigEffective, f.OrigDays, f.OrigHours)
		if err != nil {
			return err
		}
		from = &key
	}
	_, err = u.store(r).PutRate(t.Name, row, from)
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		f.Errors.add(err, rowColumns...)
		return u.renderTable(w, r, k, t, http.StatusBadRequest, tableState{Row: &f})
	} else if err != nil {
		return err
	}
	verb := "Added"
	if f.OrigPrefix != "" {
		verb = "Saved"
	}
	when := ""
	if w := row.Week(); w.Timed() {
		when = ", " + w.String()
	}
	return u.redirect(w, r, tableURL(k, t.Name)+"?q="+row.Prefix, "ok",
		fmt.Sprintf("%s row %s (%s%s) at %s per minute.", verb, row.Prefix, orDash(row.Destination), when, row.Rate))
}

// deleteRow deletes one row, as DELETE /api/v1/rate-tables/{name}/rates/{prefix} does.
func (u *ui) deleteRow(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	key, err := u.rateKey(r.PostFormValue("prefix"), r.PostFormValue("effective"), r.PostFormValue("days"), r.PostFormValue("hours"))
	if err != nil {
		return err
	}
	if _, err := u.store(r).DeleteRate(t.Name, key); err != nil {
		return err
	}
	return u.redirect(w, r, tableURL(k, t.Name), "ok", "Deleted row "+strings.TrimSpace(key.Prefix+" "+key.Week.String())+".")
}

// uploadRates imports a CSV deck from the upload form, replacing or
// merging, through the import of the API's PUT. The multipart body is
// read as it comes: the file part streams into the import, so a
// million-row deck is never held, neither as a form nor as rows. The form
// sends its mode before the file for that. A rejected deck re-renders the
// page with its numbered lines.
func (u *ui) uploadRates(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	file, mode, err := uploadPart(r)
	if err != nil {
		if isTooLarge(err) {
			return tooLarge(u.csvLimit)
		}
		return u.renderTable(w, r, k, t, http.StatusBadRequest, tableState{UploadError: rating.ErrorMessage(err)})
	}
	if mode == "preview" {
		return u.previewUpload(w, r, k, t, file, file.FileName())
	}
	out, err := u.importDeck(u.store(r), t, file, mode)
	if err != nil {
		return u.rejectedDeck(w, r, k, t, file.FileName(), err)
	}
	msg := fmt.Sprintf("Replaced every row of %s with the %d rows of %s.", t.Name, out.Rows, file.FileName())
	if out.Mode == "merge" {
		msg = fmt.Sprintf("Merged %s: %d rows, %d added, %d replaced.", file.FileName(), out.Rows, out.Added, out.Replaced)
	}
	return u.redirect(w, r, tableURL(k, t.Name), "ok", msg)
}

// rejectedDeck shows why a deck was refused, with its numbered lines.
func (u *ui) rejectedDeck(w http.ResponseWriter, r *http.Request, k rating.Kind, t rating.Table, name string, err error) error {
	if rating.ErrorCode(err) != rating.EInvalid {
		return err
	}
	var st tableState
	st.UploadError = name + " was rejected, and nothing was changed: " + rating.ErrorMessage(err)
	var re *rating.Error
	if errors.As(err, &re) {
		st.UploadErrors = re.Lines
	}
	return u.renderTable(w, r, k, t, http.StatusBadRequest, st)
}

// uploadPart reads the upload form up to its file part, which it returns
// unread with the mode sent before it. A mode after the file could no
// longer change how the file was read, so the file must come last.
func uploadPart(r *http.Request) (*multipart.Part, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", rating.Errorf(rating.EInvalid, "Choose a CSV file to upload.")
	}
	mode := ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", rating.Errorf(rating.EInvalid, "Choose a CSV file to upload.")
		} else if err != nil {
			if isTooLarge(err) {
				return nil, "", err
			}
			return nil, "", rating.Errorf(rating.EInvalid, "The upload is not a form this page sends: %v.", err)
		}
		switch p.FormName() {
		case "mode":
			v, err := io.ReadAll(io.LimitReader(p, 16))
			if err != nil {
				return nil, "", err
			}
			mode = string(v)
		case "file":
			if p.FileName() == "" {
				return nil, "", rating.Errorf(rating.EInvalid, "Choose a CSV file to upload.")
			}
			if mode == "" {
				return nil, "", rating.Errorf(rating.EInvalid, "Choose replace or merge before the file: the form sends its mode first.")
			}
			return p, mode, nil
		}
	}
}

// downloadRates streams the table as a CSV deck that uploads back as is.
func (u *ui) downloadRates(w http.ResponseWriter, r *http.Request) error {
	_, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	return u.streamRates(w, t.Name)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
