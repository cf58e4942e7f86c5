package eightbyeight

import (
	"net/http"
	"strings"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// analyticsKeyHeader carries the Analytics API key of an app.
const analyticsKeyHeader = "8x8-apikey"

// keyError is 8x8's body for a missing or invalid 8x8-apikey.
type keyError struct {
	Status    int         `json:"status"`
	Message   string      `json:"message"`
	Code      string      `json:"code"`
	Details   []keyDetail `json:"details"`
	Hint      string      `json:"hint,omitempty"`
	RequestID string      `json:"requestId,omitempty"`
}

type keyDetail struct {
	Type     string   `json:"type"`
	Location string   `json:"location"`
	Path     []string `json:"path"`
	Hint     string   `json:"hint"`
}

// grantError is 8x8's OAuth error body of the token endpoint.
type grantError struct {
	ErrorDescription string `json:"error_description"`
	Error            string `json:"error"`
	Hint             string `json:"hint,omitempty"`
	RequestID        string `json:"requestId,omitempty"`
}

// tokenResponse is 8x8's token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// analyticsApp resolves the 8x8-apikey header: an API key of an app (an
// Analytics key a tenant admin created for the app), active, and the app.
// A nil app comes with 8x8's SHA001 body.
func (f *Face) analyticsApp(r *http.Request) (*callvault.APIKey, *callvault.App, *keyError) {
	bad := func(hint string) *keyError {
		return &keyError{Status: 400, Message: "Invalid 8x8-apikey", Code: "SHA001",
			Details: []keyDetail{{Type: "invalidValue", Location: "header", Path: []string{analyticsKeyHeader}, Hint: "Please provide valid apikey..."}},
			Hint:    hint, RequestID: cvhttp.RequestID(r.Context())}
	}
	const how = "a tenant admin creates an Analytics key for an app at POST /v1/tenants/{tenant}/api-keys with subjectKind app; send it as the 8x8-apikey header"
	key := strings.TrimSpace(r.Header.Get(analyticsKeyHeader))
	if key == "" {
		return nil, nil, bad("no 8x8-apikey header; " + how)
	}
	if credential.Check(credential.PrefixAPIKey, key) != nil {
		return nil, nil, bad("the 8x8-apikey is malformed (prefix, length or checksum); " + how)
	}
	k, err := f.s.Store().APIKeyByHash(r.Context(), credential.Hash(key))
	if err != nil {
		return nil, nil, bad("the 8x8-apikey is not known to this server; " + how)
	}
	now := f.s.Now()
	switch {
	case !k.RevokedAt.IsZero():
		return nil, nil, bad("the 8x8-apikey was revoked; " + how)
	case !k.ExpiresAt.IsZero() && now.After(k.ExpiresAt):
		return nil, nil, bad("the 8x8-apikey has expired; " + how)
	case k.SubjectKind != callvault.SubjectApp:
		return nil, nil, bad("this API key speaks for a user, not an app; " + how)
	}
	app, err := f.s.Store().AppByID(r.Context(), k.SubjectID)
	if err != nil {
		return nil, nil, bad("the app of this 8x8-apikey no longer exists; " + how)
	}
	return k, app, nil
}

// handleToken is POST /analytics/work/v1/oauth/token: the app's Analytics
// key in 8x8-apikey and a user's username and password give an access
// token for the user through the app, limited to the key's scopes.
func (f *Face) handleToken(w http.ResponseWriter, r *http.Request, _ *cvhttp.Call) error {
	k, app, ke := f.analyticsApp(r)
	if ke != nil {
		writeJSON(w, ke.Status, ke)
		return nil
	}
	rid := cvhttp.RequestID(r.Context())
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, grantError{Error: "invalid_request", ErrorDescription: "Malformed form body", RequestID: rid,
			Hint: "send Content-Type: application/x-www-form-urlencoded with username=...&password=..."})
		return nil
	}
	login, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	u, err := f.s.Store().UserByLogin(r.Context(), k.TenantID, login)
	if err != nil || login == "" {
		credential.VerifyDummy(pw)
		writeJSON(w, 400, grantError{Error: "invalid_grant", ErrorDescription: "USER_NOTFOUND_ERROR", RequestID: rid,
			Hint: "no user with this username in the key's tenant " + k.TenantID})
		return nil
	}
	if ok, _ := credential.VerifyPassword(u.PasswordHash, pw); !ok {
		writeJSON(w, 400, grantError{Error: "invalid_grant", ErrorDescription: "Bad credentials", RequestID: rid,
			Hint: "the password is wrong"})
		return nil
	}
	if u.Status != callvault.UserActive {
		writeJSON(w, 400, grantError{Error: "invalid_grant", ErrorDescription: "User is disabled", RequestID: rid,
			Hint: "user " + u.Login + " is " + u.Status + "; a tenant admin can reactivate it"})
		return nil
	}
	scopes := k.Scopes
	if len(scopes) == 0 {
		scopes = app.Scopes
	}
	tr, oe := f.s.Issue(r, app, k.TenantID, u.ID, scopes, callvault.GrantPassword)
	if oe != nil {
		writeJSON(w, oe.Status, grantError{Error: oe.Code, ErrorDescription: oe.Description, RequestID: rid})
		return nil
	}
	// 8x8 hands out a signed bearer token: the opaque token, signed.
	signed, err := f.s.SignAccessToken(k.TenantID, u.ID, tr.AccessToken, tr.ExpiresIn)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: signed, TokenType: "bearer", ExpiresIn: tr.ExpiresIn})
	return nil
}
