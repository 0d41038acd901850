package handlers

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// nodes is what the PBX node endpoints, pages and tokens ask of the store.
type nodes interface {
	CreateNode(name string) (rating.Node, string, error)
	Nodes() ([]rating.Node, error)
	NodeByToken(token string) (rating.Node, error)
	DeleteNode(name string) error
}

// nodeIn is the body of POST /nodes.
type nodeIn struct {
	Name string `json:"name"`
}

// nodeOut is a node as listed; last_seen is null until its token is used.
type nodeOut struct {
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastSeen *time.Time `json:"last_seen"`
}

// createdNode answers POST /nodes. The token appears here and nowhere
// else: the store keeps only its hash.
type createdNode struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Token   string    `json:"token"`
}

func (s *server) listNodes(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.Store.Nodes()
	if err != nil {
		return err
	}
	out := make([]nodeOut, len(ns))
	for i, n := range ns {
		out[i] = nodeOut{Name: n.Name, Created: n.Created}
		if !n.LastSeen.IsZero() {
			out[i].LastSeen = &ns[i].LastSeen
		}
	}
	return replyNamed(w, r, out, func(n *nodeOut) string { return n.Name })
}

func (s *server) createNode(w http.ResponseWriter, r *http.Request) error {
	var in nodeIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	n, token, err := s.store(r).CreateNode(in.Name)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, createdNode{Name: n.Name, Created: n.Created, Token: token})
}

func (s *server) deleteNode(w http.ResponseWriter, r *http.Request) error {
	if err := s.store(r).DeleteNode(mux.Vars(r)["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
