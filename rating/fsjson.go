package rating

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// FSLeg is what ParseFSJSON makes of one FreeSWITCH mod_json_cdr document.
type FSLeg struct {
	Record PBXRecord
	// BLeg marks the leg FreeSWITCH originated for a bridge (log-b-leg).
	// Only the A leg is billed: the B leg is the same call seen from the
	// far side, and billing both would charge the tenant twice.
	BLeg bool
}

// fsDoc is the part of a mod_json_cdr document that billing reads. The
// module writes every channel variable as a JSON string, URL-encoded
// unless encode-values is false; callflow is an array of caller profiles,
// newest first, in current FreeSWITCH, and one object per profile under
// repeated "callflow" keys in releases before 1.10, which Go reads as the
// last of them.
type fsDoc struct {
	Variables map[string]any  `json:"variables"`
	Callflow  json.RawMessage `json:"callflow"`
}

type fsFlow struct {
	CallerProfile struct {
		UUID              string          `json:"uuid"`
		DestinationNumber string          `json:"destination_number"`
		Originator        json.RawMessage `json:"originator"`
	} `json:"caller_profile"`
}

// ParseFSJSON reads one call leg's document as FreeSWITCH's mod_json_cdr
// posts it at hang-up (API.md): variables.uuid → id, variables.accountcode
// → tenant, variables.destination_number, or the caller profile's → number,
// variables.billsec → duration, variables.answer_epoch, or start_epoch when
// it is 0 → start, and the gateway → provider trunk. The gateway is
// variables.sip_gateway_name, which FreeSWITCH sets on the leg it sends
// through a gateway; an A leg bridged to "sofia/gateway/NAME/…" does not
// carry it, so the gateway named by its last bridge is used then. A leg
// without an accountcode is an internal call, as in a CDR file: the
// caller skips it.
func ParseFSJSON(data []byte) (FSLeg, error) {
	var doc fsDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return FSLeg{}, Errorf(EInvalid, "freeswitch-json: %s", jsonProblem(err))
	}
	if dec.More() {
		return FSLeg{}, Errorf(EInvalid, "freeswitch-json: more than one JSON value; mod_json_cdr posts one document per leg")
	}
	if doc.Variables == nil {
		return FSLeg{}, Invalidf("variables", "freeswitch-json: variables: required; is this a mod_json_cdr document?")
	}
	flow, err := firstFlow(doc.Callflow)
	if err != nil {
		return FSLeg{}, err
	}
	v := fsVars(doc.Variables)
	var leg FSLeg
	leg.BLeg = v.get("originating_leg_uuid") != "" || len(flow.CallerProfile.Originator) > 0 && string(flow.CallerProfile.Originator) != "null"
	rec := &leg.Record
	rec.ID = strings.TrimSpace(v.get("uuid"))
	if rec.ID == "" {
		rec.ID = strings.TrimSpace(flow.CallerProfile.UUID)
	}
	if rec.ID == "" {
		return FSLeg{}, Invalidf("uuid", "freeswitch-json: variables.uuid: required")
	}
	rec.AccountCode = strings.TrimSpace(v.get("accountcode"))
	if rec.Number = v.get("destination_number"); rec.Number == "" {
		rec.Number = flow.CallerProfile.DestinationNumber
	}
	if rec.Duration, err = pbxSeconds("billsec", v.get("billsec")); err != nil {
		return FSLeg{}, err
	}
	field := "answer_epoch"
	if e := strings.TrimSpace(v.get(field)); e == "" || e == "0" {
		field = "start_epoch"
	}
	if rec.Start, err = UnixStart(field, strings.TrimSpace(v.get(field))); err != nil {
		return FSLeg{}, err
	}
	gw := v.get("sip_gateway_name")
	if gw == "" && strings.EqualFold(v.get("last_app"), "bridge") {
		gw = bridgeGateway(v.get("last_arg"))
	}
	rec.InTrunk, rec.OutTrunk = gw, gw
	return leg, nil
}

// firstFlow reads the newest caller profile: the first of the callflow
// array, or the callflow object of an older FreeSWITCH. A document
// without one is read with an empty profile.
func firstFlow(raw json.RawMessage) (fsFlow, error) {
	var flow fsFlow
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return flow, nil
	}
	var err error
	if raw[0] == '[' {
		var flows []fsFlow
		if err = json.Unmarshal(raw, &flows); err == nil && len(flows) > 0 {
			flow = flows[0]
		}
	} else {
		err = json.Unmarshal(raw, &flow)
	}
	if err != nil {
		return fsFlow{}, Invalidf("callflow", "freeswitch-json: callflow: %s", jsonProblem(err))
	}
	return flow, nil
}

// fsVars are a document's variables.
type fsVars map[string]any

// get answers a variable as text, URL-decoded. mod_json_cdr encodes every
// value by default (encode-values) and none with encode-values=false, and
// the document does not say which: a value is decoded when it decodes,
// which changes nothing in an unencoded value of the fields read here
// (ids, digits, epochs, names), since none holds a '%' followed by two hex
// digits. '+' stays '+': FreeSWITCH writes a space as %20 and '+' as %2B.
func (v fsVars) get(name string) string {
	var s string
	switch x := v[name].(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return ""
	}
	if strings.IndexByte(s, '%') >= 0 {
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
	}
	return s
}

// bridgeGateway returns NAME from a bridge's "sofia/gateway/NAME/number",
// after any {…} or […] channel variables; "" for any other endpoint.
func bridgeGateway(arg string) string {
	for len(arg) > 0 && (arg[0] == '{' || arg[0] == '[' || arg[0] == '<') {
		end := map[byte]byte{'{': '}', '[': ']', '<': '>'}[arg[0]]
		i := strings.IndexByte(arg, end)
		if i < 0 {
			return ""
		}
		arg = arg[i+1:]
	}
	rest, ok := strings.CutPrefix(arg, "sofia/gateway/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// jsonProblem says what is wrong with a document without quoting it: a
// syntax error's offset, or the field of a type mismatch.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "not valid JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return typ.Field + ": want " + typ.Type.String() + ", got a JSON " + typ.Value
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "the document ends early"
	}
	return "not a JSON object"
}
