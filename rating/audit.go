package rating

import "time"

// AuditEntry records one change made through the API or the admin: who
// made it, when, to what, and a short summary of the request.
type AuditEntry struct {
	ID      uint64    `json:"id"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`  // admin:<user>, node:<name> or bootstrap
	Action  string    `json:"action"` // the method and the route, e.g. PUT /api/v1/tenants/{name}
	Object  string    `json:"object"` // what it changed, e.g. tenants/Docs Demo Acme
	Summary string    `json:"summary"`
}
