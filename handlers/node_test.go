package handlers

import (
	"testing"

	"pbxbill/rating"
)

func TestNodes(t *testing.T) {
	ts := ratedServer(t)

	var n createdNode
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx1"}`).want(201).decode(&n)
	if n.Name != "pbx1" || n.Token == "" || n.Created.IsZero() {
		t.Fatalf("created node %+v", n)
	}
	items := ts.admin("GET", "/api/v1/nodes", "").want(200).items()
	if len(items) != 1 || items[0]["name"] != "pbx1" || items[0]["last_seen"] != nil {
		t.Errorf("nodes before use: %v", items)
	}
	if _, ok := items[0]["token"]; ok {
		t.Errorf("the node list shows a token: %v", items[0])
	}

	ts.do(req{method: "GET", path: "/api/v1/authorize?tenant=acme&number=4420", token: n.Token}).want(200)
	items = ts.admin("GET", "/api/v1/nodes", "").want(200).items()
	if items[0]["last_seen"] == nil {
		t.Errorf("last_seen not set after use: %v", items)
	}

	before := ts.admin("GET", "/api/v1/nodes", "").want(200).body
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx1"}`).wantError(409, rating.EConflict, "pbx1")
	ts.admin("POST", "/api/v1/nodes", `{"name":""}`).wantError(400, rating.EInvalid, "name")
	ts.admin("POST", "/api/v1/nodes", `{"name":"a/b"}`).wantError(400, rating.EInvalid, "name")
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx2","token":"mine"}`).wantError(400, rating.EInvalid, `"token"`)
	ts.admin("DELETE", "/api/v1/nodes/ghost", "").wantError(404, rating.ENotFound, "ghost")
	if after := ts.admin("GET", "/api/v1/nodes", "").want(200).body; string(after) != string(before) {
		t.Fatalf("rejected node requests changed the nodes:\n%s\n%s", before, after)
	}

	ts.admin("DELETE", "/api/v1/nodes/pbx1", "").want(204)
	if items := ts.admin("GET", "/api/v1/nodes", "").want(200).items(); len(items) != 0 {
		t.Errorf("nodes after revoke: %v", items)
	}
	ts.do(req{method: "GET", path: "/api/v1/rate?tenant=acme&number=4420", token: n.Token}).wantError(401, rating.EUnauthorized)
}
