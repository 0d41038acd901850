package handlers

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"pbxbill/rating"
)

// postFSJSON takes what FreeSWITCH's mod_json_cdr posts at each hang-up:
// one leg's document, raw (encode=false, application/json), as a form
// field cdr= (encode=true, application/x-www-form-urlencoded) or as that
// field in base64 (encode=base64, application/x-www-form-base64-encoded).
// A B leg and a leg without an accountcode are counted in skipped and
// answered 200; so is a repeat, as a duplicate: the module posts again on
// any answer but a 2xx, and then writes the document to its error
// directory.
func (s *server) postFSJSON(w http.ResponseWriter, r *http.Request, m *metrics) error {
	if r.ContentLength > s.jsonLimit {
		return tooLarge(s.jsonLimit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(unwrap(w), r.Body, s.jsonLimit))
	if err != nil {
		return decodeError(err, s.jsonLimit)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	doc, err := fsJSONDocument(ct, body)
	if err != nil {
		return err
	}
	leg, err := rating.ParseFSJSON(doc)
	if err != nil {
		return err
	}
	var p rating.Posted
	skipped := 0
	if leg.BLeg || leg.Record.AccountCode == "" {
		skipped = 1
	} else {
		var kind rating.Kind
		// The module's "?uuid=" may follow kind's value too (postCDRs).
		if v, _, _ := strings.Cut(r.URL.Query().Get("kind"), "?"); v != "" {
			if kind, err = rating.ParseKind(v); err != nil {
				return err
			}
		}
		cdrs, bad, err := s.pbxCDRs([]rating.PBXRecord{leg.Record}, kind)
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			return rating.Errorf(rating.EInvalid, "freeswitch-json: %s; nothing was stored", bad[0].Message)
		}
		if p, err = s.Store.PostCDRs(callerOf(r).Node, cdrs); err != nil {
			return err
		}
	}
	m.posted(p, skipped)
	out := newPostedOut(p)
	out.Skipped = &skipped
	return out.write(w)
}

// fsJSONDocument unwraps the JSON document from the body as mod_json_cdr's
// encode setting sent it. The base64 form is not URL-encoded by the
// module, so its '+' must not be read as a space: it is cut, not parsed.
func fsJSONDocument(contentType string, body []byte) ([]byte, error) {
	switch {
	case contentType == "application/x-www-form-base64-encoded":
		b64, ok := bytes.CutPrefix(bytes.TrimSpace(body), []byte("cdr="))
		if !ok {
			return nil, rating.Errorf(rating.EInvalid, "body: want cdr=<base64 JSON>, as mod_json_cdr posts with encode=base64")
		}
		doc, err := base64.StdEncoding.DecodeString(string(bytes.TrimRight(b64, "\x00")))
		if err != nil {
			return nil, rating.Errorf(rating.EInvalid, "cdr: not valid base64: %v", err)
		}
		return doc, nil
	case contentType == "application/x-www-form-urlencoded" || bytes.HasPrefix(body, []byte("cdr=")):
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("cdr") == "" {
			return nil, rating.Errorf(rating.EInvalid, "body: want cdr=<URL-encoded JSON>, as mod_json_cdr posts with encode=true")
		}
		return []byte(form.Get("cdr")), nil
	}
	return body, nil
}
