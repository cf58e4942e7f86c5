package eightbyeight

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// auditError is the Audit Records API's error body (Spring's), with
// callvault's additions: Hint says what to do about it, RequestID finds
// the request (and a denial's trace) in the audit trail.
type auditError struct {
	Timestamp string `json:"timestamp"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Message   string `json:"message"`
	Path      string `json:"path"`
	Hint      string `json:"hint,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// vendorError is an error the face raises in 8x8's terms.
type vendorError struct {
	Status  int
	Message string
	Hint    string
}

func (e *vendorError) Error() string { return e.Message }

// badRequest is a 400 with 8x8's message and callvault's hint.
func badRequest(msg, hint string) error {
	return &vendorError{Status: http.StatusBadRequest, Message: msg, Hint: hint}
}

// vendorAuditPath is the path 8x8 reports in its audit errors (its
// gateway strips /administration/audit).
const vendorAuditPath = "/v1/audits"

// msgUnauthorized is 8x8's message of a missing or unknown key.
const msgUnauthorized = "Authentication token is missing or invalid"

// renderAudit writes err as the Audit Records API's error body.
func renderAudit(w http.ResponseWriter, r *http.Request, err error) {
	body := auditError{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Path: vendorAuditPath,
		RequestID: cvhttp.RequestID(r.Context())}
	var ve *vendorError
	var denial *cvhttp.DenialError
	var authErr *cvhttp.AuthError
	var rl *cvhttp.RateLimitError
	switch {
	case errors.As(err, &ve):
		body.Status, body.Message, body.Hint = ve.Status, ve.Message, ve.Hint
	case errors.As(err, &authErr):
		body.Status, body.Message, body.Hint = http.StatusUnauthorized, msgUnauthorized, authErr.Reason+"; "+authErr.Hint
	case errors.As(err, &denial):
		d := denial.Decision
		body.Hint = d.Reason + " " + d.Hint
		if d.Layer == access.LayerCredential {
			body.Status, body.Message = http.StatusUnauthorized, msgUnauthorized
		} else {
			body.Status, body.Message = http.StatusForbidden, "Access Denied"
		}
	case errors.As(err, &rl):
		body.Status, body.Message = http.StatusTooManyRequests, "Too Many Requests"
	default:
		switch callvault.ErrorCode(err) {
		case callvault.EInvalid:
			body.Status, body.Message = http.StatusBadRequest, err.Error()
		case callvault.ENotFound:
			body.Status, body.Message = http.StatusNotFound, "Not Found"
		case callvault.EUnavailable:
			body.Status, body.Message = http.StatusServiceUnavailable, "Service Unavailable"
		default:
			body.Status, body.Message = http.StatusInternalServerError, "Internal Server Error"
		}
	}
	body.Error = http.StatusText(body.Status)
	writeJSON(w, body.Status, body)
}

// writeJSON writes v with 8x8's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
