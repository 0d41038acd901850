package rating

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// PBXRecord is one line of a PBX's own CDR file, before the store resolves
// its tenant (by accountcode) and its provider (by trunk).
type PBXRecord struct {
	Line        int
	ID          string
	AccountCode string // "" marks an internal call, which is skipped
	Number      string
	Start       time.Time
	Duration    int
	InTrunk     string // the peer of channel: where the call came from
	OutTrunk    string // the peer of dstchannel: where it went
	Conference  bool   // lastapp is ConfBridge or MeetMe
}

// CDR turns the record into a CDR. With kind 0 the kind is derived as
// API.md says, in its order: outbound when the dstchannel trunk is a
// provider, inbound when the channel trunk is, conference for ConfBridge
// and MeetMe, outbound otherwise. provider maps a trunk to a provider name.
func (p *PBXRecord) CDR(kind Kind, provider func(trunk string) (string, bool)) CDR {
	out, outOK := provider(p.OutTrunk)
	in, inOK := provider(p.InTrunk)
	if kind == 0 {
		switch {
		case outOK:
			kind = Outbound
		case inOK:
			kind = Inbound
		case p.Conference:
			kind = Conference
		default:
			kind = Outbound
		}
	}
	c := CDR{ID: p.ID, Tenant: p.AccountCode, Kind: kind, Number: p.Number, Start: p.Start, Duration: p.Duration}
	switch {
	case kind == Outbound && outOK:
		c.Provider = out
	case kind == Inbound && inOK:
		c.Provider = in
	}
	return c
}

// PBXFormat names a PBX CDR file layout.
type PBXFormat string

// The PBX CDR file formats pbxbill reads.
const (
	Asterisk   PBXFormat = "asterisk"
	FreeSWITCH PBXFormat = "freeswitch"
)

// ParsePBXFile reads a whole Asterisk Master.csv or FreeSWITCH mod_cdr_csv
// file. Lines with an empty accountcode are internal calls: they are not
// returned and are counted in skipped. Any line that cannot be parsed
// rejects the file: the *Error lists up to 100 lines.
func ParsePBXFile(r io.Reader, f PBXFormat, loc *time.Location) (recs []PBXRecord, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var errs []LineError
	nerr := 0
	for n := 1; sc.Scan(); n++ {
		rec, err := ParsePBXLine(f, sc.Text(), n, loc)
		switch {
		case err == errBlank:
		case err != nil:
			nerr++
			if len(errs) < 100 {
				errs = append(errs, LineError{Line: n, Message: ErrorMessage(err)})
			}
		case rec.AccountCode == "":
			skipped++
		default:
			recs = append(recs, rec)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, Errorf(EInvalid, "%s CDR file: %v", f, err)
	}
	if nerr > 0 {
		return nil, 0, &Error{Code: EInvalid, Lines: errs,
			Message: fmt.Sprintf("%d bad lines in %s CDR file; first: line %d: %s", nerr, f, errs[0].Line, errs[0].Message)}
	}
	return recs, skipped, nil
}

var errBlank = Errorf(EInvalid, "blank line")

// ParsePBXLine parses one line of a PBX CDR file; n is its line number,
// used only in messages. The follow mode calls it line by line, so a file
// read whole and a file read as it grows give the same records and ids.
func ParsePBXLine(f PBXFormat, line string, n int, loc *time.Location) (PBXRecord, error) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return PBXRecord{}, errBlank
	}
	fields, err := splitCSVLine(line)
	if err != nil {
		return PBXRecord{}, err
	}
	switch f {
	case Asterisk:
		return asteriskRecord(fields, line, n, loc)
	case FreeSWITCH:
		return freeswitchRecord(fields, line, n, loc)
	}
	return PBXRecord{}, Errorf(EInvalid, "format %s: want asterisk or freeswitch", Excerpt(string(f)))
}

// asteriskRecord maps cdr_csv's standard columns: accountcode, src, dst,
// dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer,
// end, duration, billsec, disposition, amaflags[, uniqueid[, userfield]].
func asteriskRecord(f []string, line string, n int, loc *time.Location) (PBXRecord, error) {
	if len(f) < 16 {
		return PBXRecord{}, Errorf(EInvalid, "%d columns, want at least 16 (accountcode … amaflags)", len(f))
	}
	rec := PBXRecord{Line: n, AccountCode: strings.TrimSpace(f[0]), Number: f[2],
		InTrunk: Trunk(f[5]), OutTrunk: Trunk(f[6])}
	app := strings.ToLower(f[7])
	rec.Conference = app == "confbridge" || app == "meetme"
	var err error
	if rec.Start, err = pbxTime("start", f[9], loc); err != nil {
		return rec, err
	}
	if f[10] != "" {
		if rec.Start, err = pbxTime("answer", f[10], loc); err != nil {
			return rec, err
		}
	}
	if rec.Duration, err = pbxSeconds("billsec", f[13]); err != nil {
		return rec, err
	}
	if len(f) > 16 {
		rec.ID = strings.TrimSpace(f[16])
	}
	if rec.ID == "" {
		rec.ID = lineID("ast", line)
	}
	return rec, nil
}

// freeswitchRecord maps mod_cdr_csv's default template: caller_id_name,
// caller_id_number, destination_number, context, start_stamp, answer_stamp,
// end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode,
// read_codec, write_codec.
func freeswitchRecord(f []string, line string, n int, loc *time.Location) (PBXRecord, error) {
	if len(f) < 13 {
		return PBXRecord{}, Errorf(EInvalid, "%d columns, want at least 13 (caller_id_name … accountcode)", len(f))
	}
	rec := PBXRecord{Line: n, AccountCode: strings.TrimSpace(f[12]), Number: f[2], ID: strings.TrimSpace(f[10])}
	var err error
	if rec.Start, err = pbxTime("start_stamp", f[4], loc); err != nil {
		return rec, err
	}
	if f[5] != "" {
		if rec.Start, err = pbxTime("answer_stamp", f[5], loc); err != nil {
			return rec, err
		}
	}
	if rec.Duration, err = pbxSeconds("billsec", f[8]); err != nil {
		return rec, err
	}
	if rec.ID == "" {
		rec.ID = lineID("fs", line)
	}
	return rec, nil
}

// lineID is a stable id for a line without one, so that posting the same
// file twice changes nothing.
func lineID(kind, line string) string {
	sum := sha256.Sum256([]byte(line))
	return kind + "-" + hex.EncodeToString(sum[:16])
}

// pbxTime reads a PBX's local "2006-01-02 15:04:05" stamp in loc, or an
// RFC 3339 time. A stamp outside the years a CDR may start in is refused
// here, by its column: year 1 would otherwise read as the zero time, which
// a CDR takes for no start at all.
func pbxTime(field, s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateTime, strings.TrimSpace(s), loc)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse(time.RFC3339, s); err2 != nil {
			return time.Time{}, Invalidf(field, "%s %s: want YYYY-MM-DD HH:MM:SS", field, Excerpt(s))
		}
	}
	if !startInRange(t) {
		return time.Time{}, Invalidf(field, "%s %s: %s", field, Excerpt(s), outOfRange)
	}
	return t, nil
}

func pbxSeconds(field, s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 || v > MaxCDRDuration {
		return 0, Invalidf(field, "%s %s: want whole seconds, 0 to %d", field, Excerpt(s), MaxCDRDuration)
	}
	return v, nil
}

// Trunk returns the peer part of a channel name: "PJSIP/carrier1-0000001a"
// and "SIP/carrier1-00000002" give "carrier1"; a Local channel or an empty
// name gives "".
func Trunk(channel string) string {
	tech, rest, ok := strings.Cut(channel, "/")
	if !ok || strings.EqualFold(tech, "Local") {
		return ""
	}
	rest, _, _ = strings.Cut(rest, ";")
	if i := strings.LastIndexByte(rest, '-'); i > 0 && isHex(rest[i+1:]) {
		rest = rest[:i]
	}
	return rest
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// splitCSVLine splits one CSV line: fields separated by ',', a field that
// starts with '"' is quoted and "" inside it is one '"'.
func splitCSVLine(s string) ([]string, error) {
	var out []string
	for {
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for {
				j := strings.IndexByte(s[i:], '"')
				if j < 0 {
					return nil, Errorf(EInvalid, "unterminated quoted field")
				}
				b.WriteString(s[i : i+j])
				i += j + 1
				if i < len(s) && s[i] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			out = append(out, b.String())
			s = s[i:]
			if s == "" {
				return out, nil
			}
			if s[0] != ',' {
				return nil, Errorf(EInvalid, "text after a closing quote")
			}
			s = s[1:]
			continue
		}
		field, rest, more := strings.Cut(s, ",")
		if strings.Contains(field, `"`) {
			return nil, Errorf(EInvalid, "bare quote in unquoted field %s", Excerpt(field))
		}
		out = append(out, field)
		if !more {
			return out, nil
		}
		s = rest
	}
}
