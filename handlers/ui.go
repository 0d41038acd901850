package handlers

import "github.com/gorilla/mux"

// uiRoutes registers the browser admin's pages and forms.
func (s *server) uiRoutes(r *mux.Router) {}
