package rating

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseAsteriskMasterCSV(t *testing.T) {
	f, err := os.Open("testdata/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	recs, skipped, err := ParsePBXFile(f, Asterisk, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 || len(recs) != 6 {
		t.Fatalf("%d records, %d skipped; want 6 and 1 (the internal call)", len(recs), skipped)
	}
	first := recs[0]
	if first.ID != "1764062102.1" || first.AccountCode != "docsdemo-prepaid" || first.Number != "447911123456" ||
		first.Duration != 95 || first.OutTrunk != "carrier-a" || first.InTrunk != "1001" || first.Line != 1 {
		t.Errorf("first record %+v", first)
	}
	// The answer time, read in Berlin (UTC+1 in November).
	if want := time.Date(2026, 11, 24, 8, 15, 9, 0, time.UTC); !first.Start.Equal(want) {
		t.Errorf("start %s, want %s", first.Start.UTC(), want)
	}
	// Unanswered: start is the setup time, duration 0.
	if r := recs[1]; r.Duration != 0 || !r.Start.Equal(time.Date(2026, 11, 24, 8, 20, 0, 0, time.UTC)) {
		t.Errorf("unanswered record %+v", r)
	}
	if !recs[3].Conference || recs[3].Number != "8100" {
		t.Errorf("conference record %+v", recs[3])
	}
	// No uniqueid column: a stable hash of the line.
	last := recs[5]
	if !strings.HasPrefix(last.ID, "ast-") || len(last.ID) != 36 || last.Line != 7 {
		t.Errorf("line-hash id %q on line %d", last.ID, last.Line)
	}
	again, _, _ := ParsePBXFile(strings.NewReader(mustRead(t, "testdata/Master.csv")), Asterisk, berlin)
	if again[5].ID != last.ID {
		t.Error("line-hash id is not stable")
	}
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPBXRecordKind(t *testing.T) {
	providers := map[string]string{"carrier-a": "Carrier A", "Carrier B": "Carrier B"}
	lookup := func(trunk string) (string, bool) { p, ok := providers[trunk]; return p, ok }
	tests := []struct {
		rec      PBXRecord
		kind     Kind
		want     Kind
		provider string
	}{
		{PBXRecord{InTrunk: "1001", OutTrunk: "carrier-a"}, 0, Outbound, "Carrier A"},
		{PBXRecord{InTrunk: "carrier-a", OutTrunk: "2001"}, 0, Inbound, "Carrier A"},
		{PBXRecord{InTrunk: "1003", Conference: true}, 0, Conference, ""},
		{PBXRecord{InTrunk: "1001", OutTrunk: "1002"}, 0, Outbound, ""},
		{PBXRecord{InTrunk: "carrier-a", OutTrunk: "Carrier B"}, 0, Outbound, "Carrier B"},
		{PBXRecord{InTrunk: "carrier-a", OutTrunk: "Carrier B"}, Inbound, Inbound, "Carrier A"},
		{PBXRecord{InTrunk: "carrier-a", Conference: true}, Conference, Conference, ""},
	}
	for i, tt := range tests {
		c := tt.rec.CDR(tt.kind, lookup)
		if c.Kind != tt.want || c.Provider != tt.provider {
			t.Errorf("%d: kind %s provider %q; want %s %q", i, c.Kind, c.Provider, tt.want, tt.provider)
		}
	}
}

func TestTrunk(t *testing.T) {
	for in, want := range map[string]string{
		"PJSIP/carrier1-0000001a":       "carrier1",
		"SIP/carrier-b-00000004":        "carrier-b",
		"IAX2/peer-a-1234":              "peer-a",
		"PJSIP/carrier1":                "carrier1",
		"Local/2000@default-00000001;1": "",
		"":                              "",
		"DAHDI/1-1":                     "1",
		"PJSIP/my-trunk-name-0000abcd":  "my-trunk-name",
	} {
		if got := Trunk(in); got != want {
			t.Errorf("Trunk(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFreeSWITCH(t *testing.T) {
	file := `"Alice","1001","447911123456","default","2026-11-24 09:15:02","2026-11-24 09:15:09","2026-11-24 09:16:44","102","95","NORMAL_CLEARING","a1b2c3d4-0000-4000-8000-000000000001","","docsdemo-prepaid","PCMA","PCMA"
"Bob ""B""","1002","4930123456","default","2026-11-24 09:20:00","","2026-11-24 09:20:21","21","0","NO_ANSWER","a1b2c3d4-0000-4000-8000-000000000002","","docsdemo-prepaid","PCMA","PCMA"

"Internal","1001","1002","default","2026-11-24 10:10:00","2026-11-24 10:10:02","2026-11-24 10:12:02","122","120","NORMAL_CLEARING","a1b2c3d4-0000-4000-8000-000000000003","","","PCMA","PCMA"
"Carol","1003","8100","default","2026-11-24 11:00:00","2026-11-24 11:00:00","2026-11-24 11:30:00","1800","1800","NORMAL_CLEARING","","","docsdemo-prepaid","PCMA","PCMA"
`
	recs, skipped, err := ParsePBXFile(strings.NewReader(file), FreeSWITCH, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || skipped != 1 {
		t.Fatalf("%d records, %d skipped", len(recs), skipped)
	}
	if r := recs[0]; r.ID != "a1b2c3d4-0000-4000-8000-000000000001" || r.Duration != 95 || r.Number != "447911123456" ||
		!r.Start.Equal(time.Date(2026, 11, 24, 9, 15, 9, 0, time.UTC)) {
		t.Errorf("first %+v", r)
	}
	if r := recs[1]; r.Duration != 0 || !r.Start.Equal(time.Date(2026, 11, 24, 9, 20, 0, 0, time.UTC)) {
		t.Errorf("unanswered %+v", r)
	}
	if r := recs[2]; !strings.HasPrefix(r.ID, "fs-") || r.Line != 5 {
		t.Errorf("no uuid: %+v", r)
	}
}

func TestParsePBXFileRejectsBadLines(t *testing.T) {
	good := `"acme","1001","4420","ctx","clid","PJSIP/1001-01","PJSIP/c-02","Dial","x","2026-11-24 09:15:02","2026-11-24 09:15:09","2026-11-24 09:16:44",102,95,"ANSWERED","DOCUMENTATION","1.1",""`
	tests := []struct {
		line, want string
	}{
		{strings.Replace(good, "2026-11-24 09:15:02", "yesterday", 1), "start"},
		{strings.Replace(good, "2026-11-24 09:15:09", "24/11/2026", 1), "answer"},
		{strings.Replace(good, ",95,", ",-5,", 1), "billsec"},
		{strings.Replace(good, ",95,", ",9x,", 1), "billsec"},
		{`"acme","1001","4420"`, "columns"},
		{`"acme,"1001`, "quote"},
	}
	for _, tt := range tests {
		file := good + "\n" + tt.line + "\n" + good + "\n"
		recs, _, err := ParsePBXFile(strings.NewReader(file), Asterisk, time.UTC)
		e, ok := err.(*Error)
		if !ok || recs != nil || len(e.Lines) != 1 || e.Lines[0].Line != 2 || !strings.Contains(e.Message, tt.want) {
			t.Errorf("%s: got %v %v", tt.want, recs, err)
		}
	}
}

func TestSplitCSVLine(t *testing.T) {
	got, err := splitCSVLine(`"a","""quoted"", with comma",,3,""`)
	want := []string{"a", `"quoted", with comma`, "", "3", ""}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, %v", got, err)
	}
}

// The PBX line parsers never panic, are deterministic, and every record
// they accept has an id, a start and a duration in range.
func FuzzParsePBXLine(f *testing.F) {
	for _, l := range strings.Split(mustReadF(f, "testdata/Master.csv"), "\n") {
		f.Add(l, true)
	}
	f.Add(`"Alice","1001","4479","default","2026-11-24 09:15:02","","2026-11-24 09:16:44","102","95","NORMAL_CLEARING","u1","","acme","PCMA","PCMA"`, false)
	f.Add(`"",,"""",`, true)
	f.Fuzz(func(t *testing.T, line string, asterisk bool) {
		format := FreeSWITCH
		if asterisk {
			format = Asterisk
		}
		a, errA := ParsePBXLine(format, line, 1, time.UTC)
		b, errB := ParsePBXLine(format, line, 1, time.UTC)
		if (errA == nil) != (errB == nil) || a != b {
			t.Fatalf("not deterministic: %v / %v", errA, errB)
		}
		if errA != nil {
			if ErrorCode(errA) != EInvalid {
				t.Fatalf("error code %s", ErrorCode(errA))
			}
			return
		}
		if a.ID == "" || !startInRange(a.Start) || a.Duration < 0 || a.Duration > MaxCDRDuration {
			t.Fatalf("accepted a bad record %+v", a)
		}
	})
}

func mustReadF(f *testing.F, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}
