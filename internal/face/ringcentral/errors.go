package ringcentral

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// errorBody is RingCentral's API error body. Hint and RequestID are
// callvault's additions: what to do about it, and the id that finds the
// request (and a denial's trace) in the audit trail.
type errorBody struct {
	ErrorCode      string      `json:"errorCode"`
	Message        string      `json:"message"`
	Errors         []errorItem `json:"errors,omitempty"`
	PermissionName string      `json:"permissionName,omitempty"`
	Hint           string      `json:"hint,omitempty"`
	RequestID      string      `json:"requestId,omitempty"`
}

type errorItem struct {
	ErrorCode      string `json:"errorCode"`
	Message        string `json:"message"`
	PermissionName string `json:"permissionName,omitempty"`
	ParameterName  string `json:"parameterName,omitempty"`
	ParameterValue string `json:"parameterValue,omitempty"`
}

// vendorError is an error the face raises in RingCentral's terms.
type vendorError struct {
	Status       int
	Code         string // CMN-101, CLG-110, ...
	Message      string
	Param, Value string
	Hint         string
}

func (e *vendorError) Error() string { return e.Code + ": " + e.Message }

// invalidParam is CMN-101 for a query parameter.
func invalidParam(name, value, hint string) error {
	return &vendorError{Status: http.StatusBadRequest, Code: "CMN-101",
		Message: "Parameter [" + name + "] value is invalid", Param: name, Value: value, Hint: hint}
}

// notFound is CMN-102 for a path parameter. The hint never says whether
// the object exists elsewhere (another account or extension).
func notFound(name, value string) error {
	return &vendorError{Status: http.StatusNotFound, Code: "CMN-102",
		Message: "Resource for parameter [" + name + "] is not found", Param: name, Value: value,
		Hint: "no " + name + " " + strconv.Quote(value) + " that this token may read in this account; check the id, or list the call log to find it"}
}

// renderer returns the face's error renderer for a rate-limit group: the
// RCRequestId and rate-limit headers, then the body.
func (f *Face) renderer(group string) cvhttp.ErrorRenderer {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if w.Header().Get("X-Rate-Limit-Group") == "" {
			f.limits.take(r, w, "addr:"+clientAddr(r), "", group)
		}
		render(w, r, err)
	}
}

// render writes err as RingCentral's error body.
func render(w http.ResponseWriter, r *http.Request, err error) {
	rid := cvhttp.RequestID(r.Context())
	w.Header().Set("RCRequestId", rid)
	status, body := bodyFor(r, err)
	body.RequestID = rid
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="RingCentral REST API"`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// insufficient is the 403 of a missing app permission, exactly as
// RingCentral's documentation shows it.
func insufficient(perm string) errorBody {
	msg := "In order to call this API endpoint, application needs to have [" + perm + "] permission"
	return errorBody{ErrorCode: "InsufficientPermissions", Message: msg, PermissionName: perm,
		Errors: []errorItem{{ErrorCode: "CMN-401", Message: msg, PermissionName: perm}}}
}

// userPermission is the 403 of a missing user permission (CMN-408).
func userPermission(perm string) errorBody {
	msg := "In order to call this API endpoint, user needs to have [" + perm + "] permission for requested resource."
	return errorBody{ErrorCode: "InsufficientPermissions", Message: msg, PermissionName: perm,
		Errors: []errorItem{{ErrorCode: "CMN-408", Message: msg, PermissionName: perm}}}
}

func one(code, msg string) errorBody {
	return errorBody{ErrorCode: code, Message: msg, Errors: []errorItem{{ErrorCode: code, Message: msg}}}
}

func tokenInvalid(code, msg string) errorBody {
	return errorBody{ErrorCode: "TokenInvalid", Message: msg, Errors: []errorItem{{ErrorCode: code, Message: msg}}}
}

// bodyFor maps any error to RingCentral's status and body.
func bodyFor(r *http.Request, err error) (int, errorBody) {
	var ve *vendorError
	var denial *cvhttp.DenialError
	var authErr *cvhttp.AuthError
	var rl *cvhttp.RateLimitError
	switch {
	case errors.As(err, &ve):
		b := one(ve.Code, ve.Message)
		b.Errors[0].ParameterName, b.Errors[0].ParameterValue = ve.Param, ve.Value
		b.Hint = ve.Hint
		return ve.Status, b
	case errors.As(err, &authErr):
		if r.Header.Get("Authorization") == "" && r.URL.Query().Get("access_token") == "" {
			return http.StatusUnauthorized, errorBody{ErrorCode: "AGW-401", Message: "Authorization header is not specified",
				Hint: "send Authorization: Bearer <access_token from POST /restapi/oauth/token>"}
		}
		b := tokenInvalid("OAU-213", "Token not found")
		if strings.Contains(authErr.Reason, "malformed") || strings.Contains(authErr.Reason, "Bearer scheme") {
			b = tokenInvalid("OAU-149", "Invalid token")
		}
		b.Hint = authErr.Reason + "; " + authErr.Hint
		return http.StatusUnauthorized, b
	case errors.As(err, &denial):
		return denialBody(denial.Decision)
	case errors.As(err, &rl):
		b := one("CMN-301", "Request rate exceeded")
		b.Hint = rl.Reason
		return http.StatusTooManyRequests, b
	}
	code, msg := callvault.ErrorCode(err), callvault.ErrorMessage(err)
	var ce *callvault.Error
	field := ""
	if errors.As(err, &ce) {
		field = ce.Field
	}
	switch code {
	case callvault.EInvalid, callvault.EOutOfWindow:
		if field == "" {
			field = "request"
		}
		b := one("CMN-101", "Parameter ["+field+"] value is invalid")
		b.Errors[0].ParameterName = field
		b.Hint = msg
		return http.StatusBadRequest, b
	case callvault.ENotFound:
		if field == "" {
			field = "id"
		}
		b := one("CMN-102", "Resource for parameter ["+field+"] is not found")
		b.Errors[0].ParameterName = field
		b.Hint = msg
		return http.StatusNotFound, b
	case callvault.EUnavailable:
		b := one("CMN-211", "Service is temporarily unavailable")
		b.Hint = msg
		return http.StatusServiceUnavailable, b
	}
	return http.StatusInternalServerError, one("CMN-500", "Internal Server Error")
}

// denialBody renders the engine's decision: the failing layer picks the
// RingCentral code, the decision's hint is added as is.
func denialBody(d access.Decision) (int, errorBody) {
	var b errorBody
	status := http.StatusForbidden
	switch d.Layer {
	case access.LayerCredential:
		status = http.StatusUnauthorized
		// The engine checks revocation first; its expiry reason reads
		// "The <credential> expired at <time>."
		if strings.Contains(d.Reason, ": expired ") || strings.Contains(d.Reason, " expired at ") {
			b = tokenInvalid("OAU-128", "Access token expired")
		} else {
			b = tokenInvalid("OAU-213", "Token not found")
		}
	case access.LayerTenant:
		status = http.StatusNotFound
		b = one("CMN-102", "Resource for parameter [accountId] is not found")
		b.Errors[0].ParameterName = "accountId"
	case access.LayerScopes:
		b = insufficient(permName(d.Missing.Name))
	case access.LayerSubject:
		b = userPermission(permName(d.Missing.Name))
	case access.LayerProduct:
		b = userPermission(FullCompanyCallLog)
	case access.LayerWindow:
		status = http.StatusBadRequest
		b = one("CMN-101", "Parameter [dateFrom] value is invalid")
		b.Errors[0].ParameterName = "dateFrom"
	default: // region and anything new: forbidden, with the engine's reason
		b = one("CMN-408", d.Reason)
	}
	b.Hint = d.Reason
	if d.Hint != "" {
		b.Hint += " " + d.Hint
	}
	return status, b
}

// permName is the RingCentral name of a missing callvault permission.
func permName(p string) string {
	if n := vendorName(callvault.Permission(p)); n != "" {
		return n
	}
	return p
}

// retryHeader sets Retry-After in whole seconds.
func retryHeader(w http.ResponseWriter, secs int) {
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}
