package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"pbxbill/store"
)

// The Users page adds, resets and removes admin users; nobody removes
// themselves, and a reset ends the user's sessions.
func TestUIUsers(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	b.login()
	b.get("/users").want(http.StatusOK).has("admin <small class=\"muted\">(you)</small>", `href="/users" aria-current="page"`)
	b.post("/users", url.Values{"name": {"docs-demo-ops"}, "password": {"short"}}).want(http.StatusBadRequest).
		has(`value="docs-demo-ops"`, "password: at least 8 characters")
	b.follow(b.post("/users", url.Values{"name": {"docs-demo-ops"}, "password": {"Docs Demo ops 1"}})).has("Added user docs-demo-ops")
	b.post("/users", url.Values{"name": {"docs-demo-ops"}, "password": {"Docs Demo ops 2"}}).want(http.StatusBadRequest).
		has("exists already")

	ops := newBrowser(ts)
	p := ops.post("/login", url.Values{"name": {"docs-demo-ops"}, "password": {"Docs Demo ops 1"}, "next": {"/users"}}).want(http.StatusSeeOther)
	ops.follow(p).has("docs-demo-ops <small class=\"muted\">(you)</small>")

	// A reset ends the user's session.
	b.follow(b.post("/users/docs-demo-ops/password", url.Values{"password": {"Docs Demo ops 3"}})).has("Set a new password for docs-demo-ops")
	ops.get("/users").want(http.StatusSeeOther)

	b.follow(b.post("/users/admin/remove", nil)).has("You cannot remove yourself")
	b.follow(b.post("/users/docs-demo-ops/remove", nil)).has("Removed user docs-demo-ops")
	if err := ts.Store.DeleteAdmin(store.AdminUser); err == nil {
		t.Fatal("the last user was removed")
	}
}
