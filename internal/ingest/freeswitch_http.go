package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/url"
	"strings"

	"github.com/callvault/callvault/internal/callvault"
)

// DecodeFreeSWITCHHTTP returns the mod_json_cdr JSON document carried by
// an HTTP request body, whatever the module's encode setting. The body is
// identified by its content, because the Content-Type can lie
// (disable-100-continue=true drops the module's own header, and libcurl
// then labels even raw JSON application/x-www-form-urlencoded):
//
//   - "{": raw JSON (encode unset or false; variants 01, 02 and 05);
//   - "cdr=" and base64: encode=base64 (variant 04). It is base64 when the
//     Content-Type is application/x-www-form-base64-encoded, or when the
//     value is valid base64 of a JSON object. It is never form-decoded
//     first: that would turn its '+' into spaces;
//   - "cdr=" otherwise: encode=true (variant 03), URL-decoded once.
//
// A body that is the escaped text alone, without "cdr=" (what the module
// leaves in its err-log-dir), is accepted the same way. With encode=true
// and the default encode-values=true (variant 06) the variables are
// URL-encoded twice over but decoded once, which leaves raw quotes and line
// breaks inside JSON strings: that body is rejected with an EInvalid error
// on the field "cdr" that says which setting to change. Any other body that
// does not yield a JSON object is rejected with EInvalid.
func DecodeFreeSWITCHHTTP(contentType string, body []byte) ([]byte, error) {
	b := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))
	if len(b) == 0 {
		return nil, callvault.Errorf(callvault.EInvalid, "the body is empty; expected a mod_json_cdr JSON document")
	}
	if b[0] == '{' {
		if err := checkJSONObject(b); err != nil {
			return nil, err
		}
		return b, nil
	}
	value, form := bytes.CutPrefix(b, []byte("cdr="))
	if form {
		if i := bytes.IndexByte(value, '&'); i >= 0 {
			value = value[:i]
		}
		mt, _, _ := mime.ParseMediaType(contentType)
		if strings.EqualFold(mt, "application/x-www-form-base64-encoded") {
			doc, ok := base64JSON(value)
			if !ok {
				return nil, &callvault.Error{Code: callvault.EInvalid, Field: "cdr",
					Message: "cdr: the Content-Type says base64, but the value is not base64 of a JSON document"}
			}
			return doc, nil
		}
	}
	if doc, ok := base64JSON(value); ok {
		return doc, nil
	}
	if !form && !bytes.HasPrefix(bytes.ToUpper(value[:min(3, len(value))]), []byte("%7B")) {
		return nil, callvault.Errorf(callvault.EInvalid,
			"the body is neither a JSON document nor a cdr= form field (mod_json_cdr sends one of them)")
	}
	text, err := url.QueryUnescape(string(value))
	if err != nil {
		return nil, &callvault.Error{Code: callvault.EInvalid, Field: "cdr", Message: "cdr: not valid URL encoding: " + err.Error()}
	}
	doc := bytes.TrimSpace([]byte(text))
	if len(doc) > 0 && doc[0] == '{' {
		if json.Valid(doc) {
			return doc, nil
		}
		return nil, &callvault.Error{Code: callvault.EInvalid, Field: "cdr",
			Message: "cdr: the URL-decoded value is not valid JSON. FreeSWITCH sends this when mod_json_cdr has " +
				"encode=true together with encode-values=true (the default): the variables end up encoded twice, " +
				"and the document cannot be recovered. Set encode-values=false, or use encode=false or encode=base64"}
	}
	if doc, ok := base64JSON(doc); ok {
		// base64 that was URL-encoded on its way (e.g. "+" as %2B).
		return doc, nil
	}
	return nil, &callvault.Error{Code: callvault.EInvalid, Field: "cdr", Message: "cdr: the value does not decode to a JSON document"}
}

// base64JSON decodes standard base64 (padded or not; line breaks ignored)
// and reports whether it gave a JSON object.
func base64JSON(v []byte) ([]byte, bool) {
	v = bytes.TrimSpace(v)
	if len(v) < 4 {
		return nil, false
	}
	v = bytes.ReplaceAll(bytes.ReplaceAll(v, []byte("\r"), nil), []byte("\n"), nil)
	enc := base64.StdEncoding
	if len(v)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(v)))
	n, err := enc.Decode(out, v)
	if err != nil {
		return nil, false
	}
	out = bytes.TrimSpace(out[:n])
	if len(out) == 0 || out[0] != '{' || !json.Valid(out) {
		return nil, false
	}
	return out, true
}

// checkJSONObject reports a body that starts like JSON but is not valid.
func checkJSONObject(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	err := json.Unmarshal(b, new(any))
	if e := jsonError(err, b, "", nil, nil); e != nil {
		return e
	}
	return callvault.Errorf(callvault.EInvalid, "the body is not valid JSON")
}
