package genesys

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// tokenResponse is Genesys Cloud's AuthResponse. Org is callvault's
// addition: the org (tenant) the token is bound to.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	Org         string `json:"org"`
}

// authError is Genesys Cloud's AuthErrorResponse.
type authError struct {
	Error       string `json:"error"`
	Description string `json:"description"`
	ErrorDesc   string `json:"error_description"`
}

// scopeString is a token's scopes in Genesys names (callvault names for
// permissions the face has no name for), space-separated.
func scopeString(perms []callvault.Permission) string {
	names := make([]string, 0, len(perms))
	for _, p := range perms {
		names = append(names, permName(string(p)))
	}
	return strings.Join(names, " ")
}

// handleToken is POST /oauth/token: client credentials (Basic or form),
// with the optional form field tenant naming the org the token is for
// (the app's home org when absent; another org only under its consent).
// The scopes are the app's (and the consent's): Genesys client-credentials
// tokens carry the client's authority.
func (f *Face) handleToken(w http.ResponseWriter, r *http.Request, _ *cvhttp.Call) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	// The JS SDK posts a string body; take a missing content type as form.
	if r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeAuthError(w, &cvhttp.OAuthError{Status: 400, Code: "invalid_request", Description: "the body must be application/x-www-form-urlencoded"})
		return nil
	}
	if err := r.ParseForm(); err != nil {
		writeAuthError(w, &cvhttp.OAuthError{Status: 400, Code: "invalid_request", Description: "the form body is malformed or too large"})
		return nil
	}
	if gt := r.PostForm.Get("grant_type"); gt != callvault.GrantClientCredentials {
		writeAuthError(w, &cvhttp.OAuthError{Status: 400, Code: "unsupported_grant_type",
			Description: "this face supports grant_type=client_credentials, not " + strconv.Quote(gt)})
		return nil
	}
	app, oe := f.s.AuthenticateClient(r)
	if oe != nil {
		writeAuthError(w, oe)
		return nil
	}
	r.PostForm.Del("scope")
	tr, oe := f.s.Grant(r, app)
	if oe != nil {
		writeAuthError(w, oe)
		return nil
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tr.AccessToken, TokenType: "bearer", ExpiresIn: tr.ExpiresIn,
		Scope: scopeString(tr.Scopes), Org: tr.Tenant})
	return nil
}

// writeAuthError writes a token endpoint error: the AuthErrorResponse
// with the server's status (401 for invalid_client), or the ErrorBody of
// a 429 or 503.
func writeAuthError(w http.ResponseWriter, oe *cvhttp.OAuthError) {
	switch oe.Status {
	case http.StatusTooManyRequests:
		secs := ceilSeconds(oe.RetryAfter())
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		cid := w.Header().Get("ININ-Correlation-Id")
		writeJSON(w, oe.Status, errorBody{Status: 429, Code: "too.many.requests.retry.after",
			Message:       "Rate limit exceeded the maximum. Retry the request in [" + strconv.Itoa(secs) + "] seconds",
			MessageParams: map[string]string{"retryAfter": strconv.Itoa(secs)}, ContextID: cid,
			Details: []detail{}, Errors: []errorBody{}, Hint: oe.Description})
		return
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(oe.RetryAfter())))
	}
	status := oe.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, authError{Error: oe.Code, Description: oe.Description, ErrorDesc: oe.Description})
}
