package ringcentral

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Authorization codes (RingCentral's authorization_code grant).
//
// A code is kept in the tokens table as a Token of Kind "code": only its
// SHA-256 is stored, it expires 60 s after it is issued, and it is revoked
// by its first exchange (single use; a later exchange is invalid_grant).
// Its FamilyID binds it to the authorize request: the SHA-256 of the
// redirect_uri, the PKCE method and the code_challenge, so neither the
// redirect URI nor the challenge is stored in clear and the exchange
// checks both by recomputing the binding from redirect_uri and
// code_verifier. No store capability is needed: the Store contract keeps
// any token kind, and the server's authentication accepts only access
// tokens as bearer credentials (and introspection reports codes inactive).
const (
	tokenCode  = "code"
	prefixCode = "cvac_"
	codeTTL    = 60 * time.Second
)

// codeBinding is the FamilyID of a code: redirect URI, PKCE method
// ("" without PKCE) and challenge.
func codeBinding(redirect, method, challenge string) string {
	sum := sha256.Sum256([]byte(redirect + "\x00" + method + "\x00" + challenge))
	return "acb_" + hex.EncodeToString(sum[:])
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authRequest is a validated authorize request.
type authRequest struct {
	app                              *callvault.App
	redirect, state                  string
	challenge, method                string
	permissions                      []string
	clientID, responseType, errorMsg string
	login                            string
}

// parseAuthorize validates an authorize request (query for GET, form for
// POST). Errors that make the redirect URI untrustworthy are returned as
// a message for an error page; the others go back to the client by
// redirect (redirectErr).
func (f *Face) parseAuthorize(r *http.Request, q url.Values) (ar *authRequest, page string, redirectErr string) {
	ar = &authRequest{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), state: q.Get("state"),
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), responseType: q.Get("response_type")}
	app, err := f.s.Store().AppByID(r.Context(), ar.clientID)
	if err != nil {
		return nil, "Unknown application (client_id).", ""
	}
	ar.app = app
	if ar.redirect == "" && len(app.RedirectURIs) == 1 {
		ar.redirect = app.RedirectURIs[0]
	}
	if !slices.Contains(app.RedirectURIs, ar.redirect) {
		return nil, "The redirect_uri is not one registered for this application.", ""
	}
	if ar.responseType != "code" {
		return ar, "", "unsupported_response_type"
	}
	if !slices.Contains(app.Grants, callvault.GrantAuthorizationCode) {
		return ar, "", "unauthorized_client"
	}
	if ar.challenge != "" && ar.method == "" {
		ar.method = "plain"
	}
	if (ar.method != "" && ar.method != "plain" && ar.method != "S256") || (ar.method != "" && ar.challenge == "") ||
		(app.SecretHash == "" && ar.challenge == "") {
		return ar, "", "invalid_request"
	}
	for _, n := range strings.Fields(scopeString(app.Scopes)) {
		ar.permissions = append(ar.permissions, n)
	}
	return ar, "", ""
}

// redirectTo sends the browser back to the client with params and state.
func redirectTo(w http.ResponseWriter, r *http.Request, ar *authRequest, params url.Values) {
	u, _ := url.Parse(ar.redirect)
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to {{.App.Name}}</title></head>
<body>
<h1>Sign in</h1>
<p><strong>{{.App.Name}}</strong> asks for access to your account with these permissions:</p>
<ul>{{range .Permissions}}<li>{{.}}</li>{{end}}</ul>
{{if .ErrorMsg}}<p role="alert">{{.ErrorMsg}}</p>{{end}}
<form method="post" action="/restapi/oauth/authorize">
<input type="hidden" name="response_type" value="{{.ResponseType}}">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Redirect}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="code_challenge" value="{{.Challenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Method}}">
<label>Login <input name="username" value="{{.Login}}" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button name="decision" value="allow">Sign in and allow</button>
<button name="decision" value="deny" formnovalidate>Deny</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><h1>Authorization error</h1><p>{{.}}</p></body></html>
`))

func writePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

func (ar *authRequest) view() map[string]any {
	return map[string]any{"App": ar.app, "Permissions": ar.permissions, "ErrorMsg": ar.errorMsg, "ResponseType": ar.responseType,
		"ClientID": ar.clientID, "Redirect": ar.redirect, "State": ar.state, "Challenge": ar.challenge, "Method": ar.method, "Login": ar.login}
}

// handleAuthorize is GET /restapi/oauth/authorize: the login and consent
// page (the app's name and the RingCentral permissions it asks for).
func (f *Face) handleAuthorize(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	w.Header().Set("RCRequestId", c.RequestID)
	f.limits.take(w, "addr:"+clientAddr(r), "", groupAuth)
	ar, page, rerr := f.parseAuthorize(r, r.URL.Query())
	switch {
	case page != "":
		writePage(w, http.StatusBadRequest, errorPage, page)
	case rerr != "":
		redirectTo(w, r, ar, url.Values{"error": {rerr}})
	default:
		writePage(w, http.StatusOK, consentPage, ar.view())
	}
	return nil
}

// handleAuthorizeSubmit is POST /restapi/oauth/authorize: the user's login,
// password and decision. Allowed, the browser goes back to the
// redirect_uri with a code (and the state); denied, with access_denied.
func (f *Face) handleAuthorizeSubmit(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	w.Header().Set("RCRequestId", c.RequestID)
	key := "addr:" + clientAddr(r)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		f.limits.take(w, key, "", groupAuth)
		writePage(w, http.StatusBadRequest, errorPage, "The form is malformed.")
		return nil
	}
	ar, page, rerr := f.parseAuthorize(r, r.PostForm)
	app := ""
	if ar != nil {
		app = ar.app.ID
	}
	if wait := f.limits.take(w, "client:"+app+"/"+key, app, groupAuth); wait > 0 {
		retryHeader(w, int((wait+time.Second-1)/time.Second))
		writePage(w, http.StatusTooManyRequests, errorPage, "Too many sign-in attempts; retry later.")
		return nil
	}
	switch {
	case page != "":
		writePage(w, http.StatusBadRequest, errorPage, page)
		return nil
	case rerr != "":
		redirectTo(w, r, ar, url.Values{"error": {rerr}})
		return nil
	case r.PostForm.Get("decision") == "deny":
		redirectTo(w, r, ar, url.Values{"error": {"access_denied"}})
		return nil
	}
	ar.login = r.PostForm.Get("username")
	ctx := r.Context()
	u, err := f.s.Store().UserByLogin(ctx, ar.app.TenantID, f.resolveUsername(r, ar.app))
	ok := false
	if err == nil {
		ok, _ = credential.VerifyPassword(u.PasswordHash, r.PostForm.Get("password"))
	} else {
		credential.VerifyDummy(r.PostForm.Get("password"))
	}
	if !ok || u.Status != callvault.UserActive {
		ar.errorMsg = "Wrong login or password."
		writePage(w, http.StatusUnauthorized, consentPage, ar.view())
		return nil
	}
	code := credential.New(prefixCode)
	now := f.s.Now().UTC().Truncate(time.Microsecond)
	err = f.s.Store().Update(ctx, func(tx callvault.Tx) error {
		return tx.CreateToken(&callvault.Token{Hash: credential.Hash(code), TenantID: ar.app.TenantID, Kind: tokenCode,
			AppID: ar.app.ID, UserID: u.ID, Scopes: ar.app.Scopes, Grant: callvault.GrantAuthorizationCode,
			FamilyID: codeBinding(ar.redirect, ar.method, ar.challenge), IssuedAt: now, ExpiresAt: now.Add(codeTTL)})
	})
	if err != nil {
		return err
	}
	redirectTo(w, r, ar, url.Values{"code": {code}})
	return nil
}

// exchangeCode is grant_type=authorization_code at the token endpoint:
// the code is consumed (revoked) by this first exchange whatever its
// outcome, then its client, expiry, redirect_uri and PKCE verifier are
// checked, and tokens are issued for its user.
func (f *Face) exchangeCode(r *http.Request, app *callvault.App) (*cvhttp.TokenResponse, *cvhttp.OAuthError) {
	bad := func(desc string) *cvhttp.OAuthError {
		return &cvhttp.OAuthError{Status: http.StatusBadRequest, Code: "invalid_grant", Description: desc}
	}
	if !slices.Contains(app.Grants, callvault.GrantAuthorizationCode) {
		return nil, &cvhttp.OAuthError{Status: http.StatusBadRequest, Code: "unauthorized_client",
			Description: "app " + app.Name + " may not use grant_type authorization_code"}
	}
	code := r.PostForm.Get("code")
	if credential.Check(prefixCode, code) != nil {
		return nil, bad("the authorization code is malformed")
	}
	ctx := r.Context()
	hash := credential.Hash(code)
	var t *callvault.Token
	err := f.s.Store().Update(ctx, func(tx callvault.Tx) error {
		var err error
		if t, err = tx.Token(ctx, hash); err != nil {
			return err
		}
		if t.Kind != tokenCode || t.AppID != app.ID {
			return callvault.Errorf(callvault.ENotFound, "no such code")
		}
		if !t.RevokedAt.IsZero() {
			return callvault.Errorf(callvault.EConflict, "code already used")
		}
		return tx.RevokeToken(hash, f.s.Now())
	})
	switch {
	case callvault.IsNotFound(err):
		return nil, bad("the authorization code is not known for this client")
	case callvault.IsConflict(err):
		return nil, bad("the authorization code was already used; codes are single-use, start the authorization again")
	case err != nil:
		return nil, &cvhttp.OAuthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "the store is unavailable; retry later"}
	}
	if !f.s.Now().Before(t.ExpiresAt) {
		return nil, bad("the authorization code expired (codes live 60 s); start the authorization again")
	}
	redirect, verifier := r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier")
	if redirect == "" && len(app.RedirectURIs) == 1 {
		redirect = app.RedirectURIs[0]
	}
	switch t.FamilyID {
	case codeBinding(redirect, "", ""), codeBinding(redirect, "plain", verifier), codeBinding(redirect, "S256", s256(verifier)):
	default:
		return nil, bad("redirect_uri or code_verifier does not match the authorization request")
	}
	u, err := f.s.Store().User(ctx, t.TenantID, t.UserID)
	if err != nil || u.Status != callvault.UserActive {
		return nil, bad("the code's user no longer exists or is disabled")
	}
	return f.s.Issue(r, app, t.TenantID, t.UserID, intersectPerms(t.Scopes, app.Scopes), callvault.GrantAuthorizationCode)
}

func intersectPerms(a, b []callvault.Permission) []callvault.Permission {
	var out []callvault.Permission
	for _, p := range a {
		if slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}
