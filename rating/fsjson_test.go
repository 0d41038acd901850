package rating

import (
	"strings"
	"testing"
	"time"
)

// The documents in testdata/fsjson are built from mod_json_cdr's
// documented output: channel_data, variables (URL-encoded, as
// encode-values=true writes them, in a-leg.json), app_log and the callflow
// array of caller profiles with their times; b-leg.json is the leg
// FreeSWITCH originated for the bridge (log-b-leg), and a-leg-1.6.json an
// unanswered call from a FreeSWITCH before 1.10, whose callflow is an
// object, with unencoded values.
func TestParseFSJSON(t *testing.T) {
	for _, c := range []struct {
		file    string
		bLeg    bool
		want    PBXRecord
		comment string
	}{
		{"a-leg.json", false, PBXRecord{ID: "a1b2c3d4-0001-4e5f-8a9b-112233445566", AccountCode: "acme-pbx",
			Number: "447911123456", Start: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), Duration: 95,
			InTrunk: "carrier-a", OutTrunk: "carrier-a"}, "the gateway of its last bridge, after {…} variables"},
		{"b-leg.json", true, PBXRecord{ID: "b9e8d7c6-0002-4f3e-9d8c-665544332211", AccountCode: "acme-pbx",
			Number: "447911123456", Start: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), Duration: 95,
			InTrunk: "carrier-a", OutTrunk: "carrier-a"}, "originating_leg_uuid and an originator profile"},
		{"a-leg-1.6.json", false, PBXRecord{ID: "c3d4e5f6-0003-4a5b-8c7d-aabbccddeeff", AccountCode: "acme-pbx",
			Number: "+33612345678", Start: time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC), Duration: 0,
			InTrunk: "carrier-a", OutTrunk: "carrier-a"}, "unanswered: start_epoch; '+' kept"},
	} {
		leg, err := ParseFSJSON([]byte(mustRead(t, "testdata/fsjson/"+c.file)))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if leg.BLeg != c.bLeg || leg.Record != c.want {
			t.Errorf("%s (%s):\n got %+v b-leg %v\nwant %+v b-leg %v", c.file, c.comment, leg.Record, leg.BLeg, c.want, c.bLeg)
		}
	}
}

// TestParseFSJSONFields reads each mapped field from its fallback, and
// refuses what would make a malformed CDR, naming the variable.
func TestParseFSJSONFields(t *testing.T) {
	ok := func(vars, flow string) FSLeg {
		t.Helper()
		leg, err := ParseFSJSON([]byte(`{"variables":{` + vars + `}` + flow + `}`))
		if err != nil {
			t.Fatalf("%s %s: %v", vars, flow, err)
		}
		return leg
	}
	base := `"uuid":"u1","accountcode":"a%20b","billsec":"60","answer_epoch":"1773133200"`
	if r := ok(base+`,"destination_number":"%2B4420"`, `,"callflow":[{"caller_profile":{"destination_number":"99"}}]`).Record; r.Number != "+4420" || r.AccountCode != "a b" {
		t.Errorf("the variable wins, decoded: %+v", r)
	}
	if r := ok(base, `,"callflow":[{"caller_profile":{"destination_number":"4420"}},{"caller_profile":{"destination_number":"99"}}]`).Record; r.Number != "4420" {
		t.Errorf("the newest caller profile gives the number: %+v", r)
	}
	if r := ok(`"billsec":"0","start_epoch":"1773133200"`, `,"callflow":[{"caller_profile":{"uuid":"u2"}}]`).Record; r.ID != "u2" || r.AccountCode != "" {
		t.Errorf("the profile's uuid is the id; no accountcode is an internal call: %+v", r)
	}
	if r := ok(base+`,"last_app":"bridge","last_arg":"[leg_timeout=30]sofia/gateway/gw%201/4420"`, "").Record; r.OutTrunk != "gw 1" {
		t.Errorf("gateway from the bridge: %+v", r)
	}
	if r := ok(base+`,"last_app":"bridge","last_arg":"user/1002"`, "").Record; r.OutTrunk != "" {
		t.Errorf("no gateway: %+v", r)
	}
	if r := ok(`"uuid":"u1","billsec":60,"answer_epoch":1773133200`, "").Record; r.Duration != 60 || r.Start.Unix() != 1773133200 {
		t.Errorf("numbers as JSON numbers: %+v", r)
	}
	for _, c := range []struct{ doc, want string }{
		{`{"variables":{"billsec":"60","answer_epoch":"1773133200"}}`, "variables.uuid: required"},
		{`{"variables":{"uuid":"u","billsec":"-1","answer_epoch":"1773133200"}}`, "billsec"},
		{`{"variables":{"uuid":"u","billsec":"60"}}`, "start_epoch"},
		{`{"variables":{"uuid":"u","billsec":"60","answer_epoch":"0","start_epoch":"17731332000000"}}`, "start_epoch"},
		{`{"variables":{"uuid":"u","billsec":"60","answer_epoch":"1773133200x"}}`, "answer_epoch"},
		{`{"variables":{"uuid":"u","billsec":"60","answer_epoch":"946684799"}}`, "2000-01-01"},
		{`{"core-uuid":"x"}`, "variables: required"},
		{`{"variables":{},"callflow":[{"caller_profile":{"uuid":7}}]}`, "callflow"},
		{`{"variables":[]}`, "want map"},
		{`{"variables":{}`, "ends early"},
		{`cdr=%7B%7D`, "not valid JSON"},
		{`{"variables":{}} {}`, "more than one"},
		{``, "ends early"},
	} {
		_, err := ParseFSJSON([]byte(c.doc))
		if err == nil || ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want invalid with %q", c.doc, err, c.want)
		}
	}
}

// The parser never panics, is deterministic, and every leg it accepts
// has an id, a start in range and a duration in range.
func FuzzParseFSJSON(f *testing.F) {
	for _, name := range []string{"a-leg.json", "b-leg.json", "a-leg-1.6.json"} {
		f.Add(mustReadF(f, "testdata/fsjson/"+name))
	}
	f.Add(`{"variables":{"uuid":"%zz","billsec":"1","answer_epoch":"0","start_epoch":"1773133200"},"callflow":null}`)
	f.Add(`{"variables":{"uuid":"u","last_app":"bridge","last_arg":"{a=b}[c=d]<e>sofia/gateway/x"}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		a, errA := ParseFSJSON([]byte(doc))
		b, errB := ParseFSJSON([]byte(doc))
		if (errA == nil) != (errB == nil) || a != b {
			t.Fatalf("not deterministic: %v / %v", errA, errB)
		}
		if errA != nil {
			if ErrorCode(errA) != EInvalid {
				t.Fatalf("error code %s", ErrorCode(errA))
			}
			if len(errA.Error()) > 300 {
				t.Fatalf("error quotes too much: %d bytes", len(errA.Error()))
			}
			return
		}
		r := a.Record
		if r.ID == "" || !startInRange(r.Start) || r.Duration < 0 || r.Duration > MaxCDRDuration {
			t.Fatalf("accepted a bad leg %+v", r)
		}
	})
}
