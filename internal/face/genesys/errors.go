package genesys

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// errorBody is Genesys Cloud's ErrorBody. Layer, Missing and Hint are
// callvault's additions: which layer of the permission engine refused,
// exactly what is missing, and who can fix it how.
type errorBody struct {
	Message           string            `json:"message"`
	Code              string            `json:"code"`
	Status            int               `json:"status"`
	MessageWithParams string            `json:"messageWithParams,omitempty"`
	MessageParams     map[string]string `json:"messageParams,omitempty"`
	ContextID         string            `json:"contextId"`
	Details           []detail          `json:"details"`
	Errors            []errorBody       `json:"errors"`
	Layer             string            `json:"layer,omitempty"`
	Missing           *access.Missing   `json:"missing,omitempty"`
	Hint              string            `json:"hint,omitempty"`
}

// detail is one ErrorBody detail.
type detail struct {
	ErrorCode  string `json:"errorCode"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
}

// vendorError is an error the face raises in Genesys terms.
type vendorError struct {
	Status  int
	Code    string // bad.request, not.found, ...
	Message string
	Field   string
	Hint    string
}

func (e *vendorError) Error() string { return e.Code + ": " + e.Message }

// badRequest is a 400 bad.request about a body or query field.
func badRequest(field, format string, args ...any) error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &vendorError{Status: http.StatusBadRequest, Code: "bad.request", Message: msg, Field: field}
}

// deniedMessage is the seed's 403 message for a missing permission.
const deniedMessage = "Access denied. The client does not have permission to access this resource."

// render writes err as Genesys Cloud's ErrorBody with the correlation
// headers.
func render(w http.ResponseWriter, r *http.Request, err error) {
	setCorrelation(w, r)
	b := bodyFor(r, err)
	b.ContextID = cvhttp.RequestID(r.Context())
	if b.Details == nil {
		b.Details = []detail{}
	}
	if b.Errors == nil {
		b.Errors = []errorBody{}
	}
	if b.Status == http.StatusTooManyRequests {
		var rl *cvhttp.RateLimitError
		secs := 1
		if errors.As(err, &rl) {
			secs = ceilSeconds(rl.RetryAfter)
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		b.Message = "Rate limit exceeded the maximum. Retry the request in [" + strconv.Itoa(secs) + "] seconds"
		b.MessageParams = map[string]string{"retryAfter": strconv.Itoa(secs)}
	}
	writeJSON(w, b.Status, b)
}

func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// bodyFor maps any error to Genesys Cloud's ErrorBody.
func bodyFor(r *http.Request, err error) errorBody {
	var ve *vendorError
	var denial *cvhttp.DenialError
	var authErr *cvhttp.AuthError
	var rl *cvhttp.RateLimitError
	switch {
	case errors.As(err, &ve):
		b := errorBody{Status: ve.Status, Code: ve.Code, Message: ve.Message, Hint: ve.Hint}
		if ve.Field != "" {
			b.Details = []detail{{ErrorCode: ve.Code, FieldName: ve.Field}}
		}
		return b
	case errors.As(err, &authErr):
		if r.Header.Get("Authorization") == "" {
			return errorBody{Status: 401, Code: "authentication.required", Message: "No authentication bearer token specified in authorization header.",
				Hint: "send Authorization: Bearer <access_token from POST /oauth/token>"}
		}
		return errorBody{Status: 401, Code: "bad.credentials", Message: "Invalid login credentials.",
			Hint: authErr.Reason + "; " + authErr.Hint}
	case errors.As(err, &denial):
		return denialBody(denial.Decision)
	case errors.As(err, &rl):
		return errorBody{Status: http.StatusTooManyRequests, Code: "too.many.requests.retry.after", Hint: rl.Reason}
	}
	code, msg := callvault.ErrorCode(err), callvault.ErrorMessage(err)
	var ce *callvault.Error
	field := ""
	if errors.As(err, &ce) {
		field = ce.Field
	}
	switch code {
	case callvault.EInvalid, callvault.EOutOfWindow:
		b := errorBody{Status: 400, Code: "bad.request", Message: msg}
		if field != "" {
			b.Details = []detail{{ErrorCode: "bad.request", FieldName: field}}
		}
		return b
	case callvault.ENotFound:
		return errorBody{Status: 404, Code: "not.found", Message: msg}
	case callvault.EUnavailable:
		return errorBody{Status: 503, Code: "service.unavailable", Message: "The service is currently unavailable.", Hint: msg}
	}
	return errorBody{Status: 500, Code: "internal.server.error", Message: "The server encountered an unexpected error."}
}

// Denial codes: the ErrorBody code (and detail errorCode) of each layer,
// so that every 403 of the seed names the layer to fix.
const (
	CodeMissingPermissions = "missing.permissions"         // the vendor's code for a scope or role denial
	CodeNoConsent          = "organization.not.authorized" // the org has not admitted the app
	CodeDataResidency      = "data.residency.restricted"   // the app's region is not allowed by the org
	DetailStaleScope       = "scope.added.after.token.new.token.required"
	DetailScopeRemoved     = "scope.removed.from.client"
	DetailScopeMissing     = "scope.not.granted.to.client"
	DetailConsentScope     = "scope.not.in.org.consent"
	DetailRoleMissing      = "role.permission.missing"
)

// denialBody renders the engine's decision. Scope and role denials keep
// the seed's 403 message and the vendor's missing.permissions code; a
// detail names the exact case, messageParams the permission (Genesys
// scope name), and the decision's reason and hint follow as the hint.
func denialBody(d access.Decision) errorBody {
	missing := d.Missing
	b := errorBody{Status: http.StatusForbidden, Layer: string(d.Layer), Missing: &missing}
	switch d.Layer {
	case access.LayerCredential:
		b.Status, b.Code, b.Message = 401, "bad.credentials", "Invalid login credentials."
		if strings.Contains(d.Reason, "expired") {
			b.Message = "The access token has expired; fetch a new one from /oauth/token."
		}
	case access.LayerTenant:
		b.Code = CodeNoConsent
		b.Message = "Access denied. The organization has not authorized this client (no active consent)."
		b.Details = []detail{{ErrorCode: CodeNoConsent}}
	case access.LayerRegion:
		b.Code = CodeDataResidency
		b.Message = "Access denied by data residency. " + d.Reason
		b.MessageParams = map[string]string{"clientRegion": d.Missing.Name, "setting": "allowedClientRegions"}
		b.Details = []detail{{ErrorCode: CodeDataResidency, FieldName: "allowedClientRegions"}}
	case access.LayerScopes, access.LayerSubject:
		perm := permName(d.Missing.Name)
		b.Code, b.Message = CodeMissingPermissions, deniedMessage
		b.MessageParams = map[string]string{"permissions": "[" + perm + "]"}
		b.MessageWithParams = "Access denied. The client does not have permission to access this resource. Missing: {permissions}"
		dc := DetailRoleMissing
		if d.Layer == access.LayerScopes {
			switch {
			case d.Missing.Kind == access.MissingStaleScope:
				dc = DetailStaleScope
				b.MessageParams["newTokenRequired"] = "true"
			case strings.Contains(d.Reason, "no longer holds"):
				dc = DetailScopeRemoved
			case strings.HasPrefix(d.Reason, "The consent of "):
				dc = DetailConsentScope
			default:
				dc = DetailScopeMissing
			}
		}
		b.Details = []detail{{ErrorCode: dc, EntityName: perm}}
	case access.LayerWindow:
		b.Status, b.Code, b.Message = 400, "bad.request", d.Reason
		b.Details = []detail{{ErrorCode: "bad.request", FieldName: "interval"}}
	default:
		b.Code, b.Message = "not.authorized", deniedMessage
	}
	b.Hint = d.Reason
	if d.Hint != "" {
		b.Hint += " " + d.Hint
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
