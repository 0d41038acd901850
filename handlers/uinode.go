package handlers

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// nodesPage is the data of the PBX nodes page.
type nodesPage struct {
	pageBase
	Nodes []rating.Node
	Name  string
	Error string
	// Created and Token are the node just made and its token, shown on
	// the answer to the create form and never again: the store keeps
	// only the token's hash.
	Created  string
	Token    string
	Base     string // where PBX nodes reach this server, for the snippets
	Loopback bool   // Base is a loopback address: only this box can use it
}

func (u *ui) nodesPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderNodes(w, r, http.StatusOK, nodesPage{})
}

func (u *ui) renderNodes(w http.ResponseWriter, r *http.Request, status int, p nodesPage) error {
	p.pageBase = u.base(w, r, "PBX nodes", "nodes")
	p.Base = u.PublicURL
	if p.Base == "" {
		p.Base = "http://" + r.Host
	}
	if pu, err := url.Parse(p.Base); err == nil {
		h := pu.Hostname()
		ip := net.ParseIP(h)
		p.Loopback = h == "localhost" || ip != nil && ip.IsLoopback()
	}
	var err error
	if p.Nodes, err = u.Store.Nodes(); err != nil {
		return err
	}
	return u.render(w, status, "nodes", p)
}

// createNode makes a node and answers its token in this very response,
// rather than redirecting: the token must not be kept anywhere, not even
// in a flash cookie, so it cannot be shown after a redirect.
func (u *ui) createNode(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	n, token, err := u.store(r).CreateNode(name)
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		return u.renderNodes(w, r, http.StatusBadRequest, nodesPage{Name: name, Error: rating.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return u.renderNodes(w, r, http.StatusOK, nodesPage{Created: n.Name, Token: token})
}

func (u *ui) revokeNode(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if err := u.store(r).DeleteNode(name); err != nil {
		return err
	}
	return u.redirect(w, r, "/nodes", "ok", "Revoked node "+name+": its token no longer works.")
}
