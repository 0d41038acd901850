package handlers

import (
	"html/template"
	"net/http"
	"net/url"

	"pbxbill/rating"
)

// auditPage is the data of the Audit page: the newest changes first.
type auditPage struct {
	pageBase
	Entries  []rating.AuditEntry
	OlderURL template.URL
}

func (u *ui) auditPage(w http.ResponseWriter, r *http.Request) error {
	p := auditPage{pageBase: u.base(w, r, "Audit", "audit")}
	entries, next, err := u.Store.Audit(r.URL.Query().Get("after"), 100)
	if err != nil {
		return err
	}
	p.Entries = entries
	if next != "" {
		p.OlderURL = template.URL("/audit?" + url.Values{"after": {next}}.Encode())
	}
	return u.render(w, http.StatusOK, "audit", p)
}
