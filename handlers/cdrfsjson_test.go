package handlers

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"pbxbill/rating"
)

// fsDoc reads a mod_json_cdr document of rating/testdata/fsjson.
func fsDoc(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile("../rating/testdata/fsjson/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// postFS posts body as mod_json_cdr does: to the configured URL with
// "?uuid=<uuid>" appended, with the Content-Type of its encode setting and
// the node's name and token as Basic credentials.
func (ts *testServer) postFS(user, token, uuid, ctype, body string) response {
	ts.tb.Helper()
	return ts.do(req{method: http.MethodPost, path: "/api/v1/cdrs?format=freeswitch-json?uuid=" + uuid, body: body, ctype: ctype,
		header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))}})
}

// TestFreeSWITCHJSON posts the documented documents in each of the
// module's encodings: the A leg is billed, from its bridge's gateway as
// the provider; its repeat, in another encoding, is a duplicate answered
// 200; the B leg is skipped, and so is an internal call.
func TestFreeSWITCHJSON(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	_, token, err := ts.Store.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}
	a, b, old := fsDoc(t, "a-leg.json"), fsDoc(t, "b-leg.json"), fsDoc(t, "a-leg-1.6.json")
	const aID = "a1b2c3d4-0001-4e5f-8a9b-112233445566"

	// encode=false: raw JSON. 95 s to 44 at 0.10/min, 60/60: 0.20; the
	// carrier's buy rate 0.06/min: 0.12.
	var p posted
	ts.postFS("pbx1", token, aID, "application/json", a).want(200).decode(&p)
	if p.Rated != 1 || p.Skipped == nil || *p.Skipped != 0 {
		t.Fatalf("A leg: %+v", p)
	}
	p.wantResult(t, 0, aID, rating.Rated, "0.2", "0.12")

	// encode=true: cdr=<URL-encoded>; the same leg is a duplicate.
	ts.postFS("pbx1", token, aID, "application/x-www-form-urlencoded", "cdr="+url.QueryEscape(a)).want(200).decode(&p)
	if p.Duplicate != 1 || p.Rated != 0 {
		t.Fatalf("repeat: %+v", p)
	}
	p.wantResult(t, 0, aID, rating.Duplicate, "", "")

	// encode=base64: the B leg, skipped.
	ts.postFS("pbx1", token, "b9e8d7c6", "application/x-www-form-base64-encoded", "cdr="+base64.StdEncoding.EncodeToString([]byte(b))).want(200).decode(&p)
	if len(p.Results) != 0 || p.Skipped == nil || *p.Skipped != 1 {
		t.Fatalf("B leg: %+v", p)
	}

	// A FreeSWITCH before 1.10, unanswered: rated at 0.
	ts.postFS("pbx1", token, "c3d4e5f6", "application/json", old).want(200).decode(&p)
	p.wantResult(t, 0, "c3d4e5f6-0003-4a5b-8c7d-aabbccddeeff", rating.Rated, "0", "")

	// No accountcode: an internal call.
	internal := strings.Replace(a, `"accountcode":"acme-pbx",`, "", 1)
	internal = strings.ReplaceAll(internal, aID, "internal-1")
	ts.postFS("pbx1", token, "internal-1", "application/json", internal).want(200).decode(&p)
	if len(p.Results) != 0 || *p.Skipped != 1 {
		t.Fatalf("internal call: %+v", p)
	}

	// Stored once, under the node, and charged once.
	cdrs := ts.admin("GET", "/api/v1/cdrs", "").want(200).items()
	if len(cdrs) != 2 || cdrs[1]["node"] != "pbx1" || cdrs[1]["provider"] != "carrierA" {
		t.Errorf("stored: %v", cdrs)
	}
	if tn, err := ts.Store.Tenant("acme"); err != nil || tn.Balance != mustMoney(t, "9.8") {
		t.Errorf("acme: %+v, %v", tn.Balance, err)
	}
}

// TestFreeSWITCHJSONRefused: a document that cannot be billed is 400
// with what is wrong, and stores nothing; credentials must be a node's
// name and its own token.
func TestFreeSWITCHJSONRefused(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	_, token, err := ts.Store.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.Store.CreateNode("pbx2"); err != nil {
		t.Fatal(err)
	}
	a := fsDoc(t, "a-leg.json")
	for _, c := range []struct{ ctype, body, want string }{
		{"application/json", strings.Replace(a, `"billsec":"95"`, `"billsec":"-5"`, 1), "billsec"},
		{"application/json", strings.Replace(a, `"answer_epoch":"1773133200"`, `"answer_epoch":"99"`, 1), "answer_epoch"},
		{"application/json", a[:len(a)/2], "ends early"},
		{"application/x-www-form-urlencoded", "uuid=x", "cdr="},
		{"application/x-www-form-base64-encoded", "cdr=!!!", "base64"},
		{"application/json", strings.Replace(a, `"destination_number":"447911123456","uuid":"a1b2`, `"destination_number":"`+strings.Repeat("4", 70)+`","uuid":"a1b2`, 1), "number"},
	} {
		ts.postFS("pbx1", token, "x", c.ctype, c.body).wantError(400, rating.EInvalid, c.want)
	}
	ts.wantNothingStored()

	ts.postFS("pbx2", token, "x", "application/json", a).wantError(401, rating.EUnauthorized, "node's name")
	ts.postFS("pbx1", token+"x", "x", "application/json", a).wantError(401, rating.EUnauthorized, "Basic")
	ts.postFS("", testToken, "x", "application/json", a).wantError(401, rating.EUnauthorized, "Basic")
	ts.do(req{method: "POST", path: "/api/v1/cdrs?format=freeswitch-json", body: a, header: map[string]string{"Authorization": "Basic %%%"}}).
		wantError(401, rating.EUnauthorized, "Basic")
	ts.wantNothingStored()

	// A bearer node token works as well.
	ts.do(req{method: "POST", path: "/api/v1/cdrs?format=freeswitch-json", token: token, body: a, ctype: "application/json"}).want(200)
}
