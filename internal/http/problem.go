package http

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
)

// Problem is an RFC 9457 problem document, callvault's error body on the
// native API. Code is stable; Missing, Layer and Hint explain denials.
type Problem struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Status   int             `json:"status"`
	Detail   string          `json:"detail"`
	Instance string          `json:"instance,omitempty"`
	Code     string          `json:"code"`
	Field    string          `json:"field,omitempty"`
	Layer    access.Layer    `json:"layer,omitempty"`
	Missing  *access.Missing `json:"missing,omitempty"`
	Hint     string          `json:"hint,omitempty"`
	// Errors lists every invalid item of a batch refused as a whole.
	Errors    []ItemError `json:"errors,omitempty"`
	RequestID string      `json:"requestId"`
}

// ItemError is one invalid item of a batch: where it is (Index, its
// zero-based position among the batch's items, or Line, the 1-based line
// of an NDJSON body), the field at fault (empty when the item as a whole
// is, e.g. a line that is not JSON) and what is wrong.
type ItemError struct {
	Index  *int   `json:"index,omitempty"`
	Line   int    `json:"line,omitempty"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail"`
}

// BatchError refuses a batch as a whole because of its invalid items. Err
// is the summary and decides the status and code; Items are rendered as
// the problem's errors.
type BatchError struct {
	Err   error
	Items []ItemError
}

func (e *BatchError) Error() string { return e.Err.Error() }

// Unwrap returns the summary error.
func (e *BatchError) Unwrap() error { return e.Err }

// DenialError is a request the permission engine refused.
type DenialError struct{ Decision access.Decision }

func (e *DenialError) Error() string {
	return "denied at " + string(e.Decision.Layer) + ": " + e.Decision.Reason
}

// AuthError is a request without a usable credential: none, malformed,
// unknown. Hint says what to send instead.
type AuthError struct {
	Reason string
	Hint   string
}

func (e *AuthError) Error() string { return "unauthorized: " + e.Reason }

// RateLimitError asks the client to retry after a delay.
type RateLimitError struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return "rate limited: " + e.Reason }

// Codes of the native API that only HTTP has: a Range past the end of the
// content, and a failed If-Match or If-Unmodified-Since.
const (
	codeRangeNotSatisfiable = "range_not_satisfiable"
	codePreconditionFailed  = "precondition_failed"
)

var statusByCode = map[string]int{
	codeRangeNotSatisfiable: http.StatusRequestedRangeNotSatisfiable,
	codePreconditionFailed:  http.StatusPreconditionFailed,

	callvault.EInvalid:      http.StatusBadRequest,
	callvault.ENotFound:     http.StatusNotFound,
	callvault.EConflict:     http.StatusConflict,
	callvault.ETooLarge:     http.StatusRequestEntityTooLarge,
	callvault.EUnauthorized: http.StatusUnauthorized,
	callvault.EForbidden:    http.StatusForbidden,
	callvault.ERateLimited:  http.StatusTooManyRequests,
	callvault.EUnavailable:  http.StatusServiceUnavailable,
	callvault.EInternal:     http.StatusInternalServerError,
	callvault.EUnsupported:  http.StatusUnsupportedMediaType,
	callvault.EOutOfWindow:  http.StatusBadRequest,
	EMethodNotAllowed:       http.StatusMethodNotAllowed,
}

// problemFor maps any error to its problem document: the one place where
// errors become statuses and bodies on the native API.
func problemFor(r *http.Request, err error) Problem {
	p := Problem{Instance: r.URL.Path, RequestID: RequestID(r.Context())}
	var denial *DenialError
	var authErr *AuthError
	var rl *RateLimitError
	switch {
	case errors.As(err, &denial):
		d := denial.Decision
		p.Code, p.Status = callvault.EForbidden, http.StatusForbidden
		switch d.Layer {
		case access.LayerCredential:
			p.Code, p.Status = callvault.EUnauthorized, http.StatusUnauthorized
		case access.LayerWindow:
			// The request asks for a time range it may not have: a bad
			// request, not a missing right. Missing.Name is the earliest
			// time available or the longest window allowed.
			p.Code, p.Status = callvault.EOutOfWindow, http.StatusBadRequest
		}
		p.Detail, p.Hint, p.Layer = d.Reason, d.Hint, d.Layer
		m := d.Missing
		p.Missing = &m
	case errors.As(err, &authErr):
		p.Code, p.Status = callvault.EUnauthorized, http.StatusUnauthorized
		p.Detail, p.Hint, p.Layer = authErr.Reason, authErr.Hint, access.LayerCredential
		p.Missing = &access.Missing{Kind: access.MissingCredential}
	case errors.As(err, &rl):
		p.Code, p.Status, p.Detail = callvault.ERateLimited, http.StatusTooManyRequests, rl.Reason
		p.Hint = "retry after " + strconv.Itoa(retrySeconds(rl.RetryAfter)) + " seconds (Retry-After)"
	default:
		p.Code = callvault.ErrorCode(err)
		p.Status = statusByCode[p.Code]
		if p.Status == 0 {
			p.Code, p.Status = callvault.EInternal, http.StatusInternalServerError
		}
		p.Detail = callvault.ErrorMessage(err)
		var ce *callvault.Error
		if errors.As(err, &ce) {
			p.Field = ce.Field
		}
		var be *BatchError
		if errors.As(err, &be) {
			p.Errors = be.Items
		}
	}
	p.Type = "urn:callvault:problem:" + p.Code
	p.Title = http.StatusText(p.Status)
	return p
}

func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// writeError renders err as application/problem+json.
func writeError(w http.ResponseWriter, r *http.Request, err error) Problem {
	p := problemFor(r, err)
	var rl *RateLimitError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(rl.RetryAfter)))
	case p.Status == http.StatusServiceUnavailable:
		// A dependency (the database, blob storage) cannot serve now:
		// clients and balancers may retry shortly.
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(unavailableRetry)))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="callvault"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	return p
}

// writeJSON renders v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON reads a JSON object body into v, strictly: one object, no
// unknown fields, at most maxBytes. Each failure names what is wrong.
func decodeJSON(r *http.Request, maxBytes int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return callvault.Errorf(callvault.EUnsupported, "Content-Type must be application/json, not %q", ct)
	}
	body := io.LimitReader(r.Body, maxBytes+1)
	b, err := io.ReadAll(body)
	if err != nil {
		return callvault.Errorf(callvault.EInvalid, "reading the body: %v", err)
	}
	if int64(len(b)) > maxBytes {
		return callvault.Errorf(callvault.ETooLarge, "the body is larger than the limit of %d bytes", maxBytes)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return callvault.Errorf(callvault.EInvalid, "the body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return callvault.Errorf(callvault.EInvalid, "the body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return callvault.Errorf(callvault.EInvalid, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		f := typ.Field
		return callvault.FieldError(f, "field %q must be %s, not a JSON %s", f, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return callvault.Errorf(callvault.EInvalid, "malformed JSON: the body ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return callvault.FieldError(f, "unknown field %q", f)
	}
	return callvault.Errorf(callvault.EInvalid, "malformed JSON: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	}
	if strings.Contains(k, "int") || strings.Contains(k, "float") {
		return "a number"
	}
	return "a " + k
}

// badPathID is the error for a path segment that cannot be an id.
func badPathID(name, v string) error {
	return callvault.FieldError(name, "%q is not a valid %s", v, name)
}
