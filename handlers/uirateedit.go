package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"pbxbill/rating"
)

// saveRow adds a row or saves an edited one. A row whose prefix and date
// are unchanged is merged in place; when an edit changes them, the old
// row is dropped in the same replace, so the table never holds both.
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
	moved := f.OrigPrefix != "" && (f.OrigPrefix != row.Prefix || f.OrigEffective != effString(row.EffectiveFrom))
	if moved {
		err = u.replaceRows(t.Name, func(x *rating.Row) (keep bool) {
			return !(x.Prefix == f.OrigPrefix && effString(x.EffectiveFrom) == f.OrigEffective)
		}, &row)
	} else {
		_, _, err = u.Store.MergeRates(t.Name, []rating.Row{row})
	}
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
	return u.redirect(w, r, tableURL(k, t.Name)+"?q="+row.Prefix, "ok",
		fmt.Sprintf("%s row %s (%s) at %s per minute.", verb, row.Prefix, orDash(row.Destination), row.Rate))
}

func (u *ui) deleteRow(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	prefix, eff := r.PostFormValue("prefix"), r.PostFormValue("effective")
	if _, err := u.findRow(t.Name, prefix, eff); err != nil {
		return err
	}
	err = u.replaceRows(t.Name, func(x *rating.Row) bool {
		return !(x.Prefix == prefix && effString(x.EffectiveFrom) == eff)
	}, nil)
	if err != nil {
		return err
	}
	return u.redirect(w, r, tableURL(k, t.Name), "ok", "Deleted row "+prefix+".")
}

// replaceRows rewrites the table with the rows keep accepts, plus add.
// The store has no single-row delete; a replace is one atomic swap, and
// the admin edits tables of a size that a replace handles quickly.
func (u *ui) replaceRows(table string, keep func(*rating.Row) bool, add *rating.Row) error {
	var rows []rating.Row
	err := u.Store.EachRate(table, func(x *rating.Row) error {
		if keep(x) {
			rows = append(rows, *x)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if add != nil {
		rows = append(rows, *add)
	}
	return u.Store.ReplaceRates(table, rows)
}

// uploadRates imports a CSV deck from the upload form, replacing or
// merging. A rejected deck re-renders the page with its numbered lines.
func (u *ui) uploadRates(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(unwrap(w), r.Body, u.csvLimit)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		if isTooLarge(err) {
			return tooLarge(u.csvLimit)
		}
		return u.renderTable(w, r, k, t, http.StatusBadRequest, tableState{UploadError: "Choose a CSV file to upload."})
	}
	defer file.Close()
	rows, err := rating.ParseRates(file, t, u.loc)
	if err != nil {
		if rating.ErrorCode(err) != rating.EInvalid {
			return err
		}
		var st tableState
		st.UploadError = hdr.Filename + " was rejected, and nothing was changed: " + rating.ErrorMessage(err)
		var re *rating.Error
		if errorsAs(err, &re) {
			st.UploadErrors = re.Lines
		}
		return u.renderTable(w, r, k, t, http.StatusBadRequest, st)
	}
	var msg string
	if r.PostFormValue("mode") == "merge" {
		added, replaced, err := u.Store.MergeRates(t.Name, rows)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("Merged %s: %d rows, %d added, %d replaced.", hdr.Filename, len(rows), added, replaced)
	} else {
		if err := u.Store.ReplaceRates(t.Name, rows); err != nil {
			return err
		}
		msg = fmt.Sprintf("Replaced every row of %s with the %d rows of %s.", t.Name, len(rows), hdr.Filename)
	}
	return u.redirect(w, r, tableURL(k, t.Name), "ok", msg)
}

// downloadRates streams the table as a CSV deck that uploads back as is.
func (u *ui) downloadRates(w http.ResponseWriter, r *http.Request) error {
	_, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	return u.streamRates(w, t.Name, `attachment; filename="`+fileName(t.Name)+`.csv"`)
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

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
