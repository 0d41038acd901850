package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// audits is what the audit trail asks of the store.
type audits interface {
	Audit(after string, limit int) ([]rating.AuditEntry, string, error)
}

// The audit trail (API.md GET /api/v1/audit): every change made through
// the API's admin endpoints or the admin's forms is recorded with who made
// it, in the transaction of the change (store.Audited). A handler changes
// through s.store(r), which is that audited store; a request that fails
// before any change commits records nothing. The usage endpoints of PBX
// nodes (CDR posts, holds) are not changes of this kind: the CDRs, holds
// and ledger are their own record.

// summaryLen bounds an entry's summary.
const summaryLen = 200

// pendingAudit is a request's entry until the handler first changes
// something: the summary of a form can only be read once the form is
// parsed.
type pendingAudit struct {
	entry rating.AuditEntry
	body  *prefixBuffer // the first bytes of a JSON body, read as the handler reads it
	r     *http.Request
	store Store // made at the first call of s.store
}

type auditKey struct{}

// audited marks a changing request for the audit trail, by actor.
func (s *server) audited(r *http.Request, actor string) *http.Request {
	if s.Audited == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r
	}
	action := r.Method + " " + r.URL.Path
	if route := mux.CurrentRoute(r); route != nil {
		if tpl, err := route.GetPathTemplate(); err == nil {
			action = r.Method + " " + tpl
		}
	}
	object := strings.TrimPrefix(r.URL.Path, "/api/v1")
	if p, err := url.PathUnescape(object); err == nil {
		object = p
	}
	p := &pendingAudit{entry: rating.AuditEntry{Actor: actor, Action: action, Object: strings.Trim(object, "/")}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && r.Body != nil {
		p.body = &prefixBuffer{limit: summaryLen}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, p.body), r.Body}
	}
	r = r.WithContext(context.WithValue(r.Context(), auditKey{}, p))
	p.r = r
	return r
}

// store is the store a handler changes through: for a changing request,
// one that records the request in the audit trail with its change.
func (s *server) store(r *http.Request) Store {
	p, ok := r.Context().Value(auditKey{}).(*pendingAudit)
	if !ok {
		return s.Store
	}
	if p.store == nil {
		p.entry.Summary = summarize(p)
		p.store = s.Audited(p.entry)
	}
	return p.store
}

// summarize writes a short account of the request: its query, and its
// JSON body's start or its form's fields, secrets left out.
func summarize(p *pendingAudit) string {
	var parts []string
	if q := p.r.URL.RawQuery; q != "" {
		if v, err := url.QueryUnescape(q); err == nil {
			q = v
		}
		parts = append(parts, "?"+q)
	}
	switch {
	case p.body != nil:
		parts = append(parts, string(bytes.Join(bytes.Fields(p.body.Bytes()), []byte(" "))))
	case p.r.PostForm != nil:
		keys := make([]string, 0, len(p.r.PostForm))
		for k := range p.r.PostForm {
			if k != "password" && k != "token" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v := strings.Join(p.r.PostForm[k], ","); v != "" {
				parts = append(parts, k+"="+v)
			}
		}
	case p.r.ContentLength > 0:
		ct, _, _ := strings.Cut(p.r.Header.Get("Content-Type"), ";")
		parts = append(parts, fmt.Sprintf("%s, %d bytes", ct, p.r.ContentLength))
	}
	s := strings.Join(parts, " ")
	if len(s) > summaryLen {
		s = rating.Excerpt(s)
	}
	return s
}

// prefixBuffer keeps the first limit bytes written to it.
type prefixBuffer struct {
	bytes.Buffer
	limit int
}

func (b *prefixBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// actorOf names who made a request, as the audit trail shows it.
func actorOf(c caller) string {
	switch {
	case c.Admin != "":
		return "admin:" + c.Admin
	case c.Node != "":
		return "node:" + c.Node
	}
	return "bootstrap"
}

// listAudit answers GET /api/v1/audit, newest first.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	entries, next, err := s.Store.Audit(r.URL.Query().Get("after"), n)
	if err != nil {
		return err
	}
	return replyList(w, entries, next)
}
