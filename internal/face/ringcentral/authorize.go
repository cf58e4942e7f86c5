package ringcentral

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	"github.com/callvault/callvault/internal/cursor"
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
//
// Which tokens came from which code is kept as a second row, of Kind
// "code_use", whose hash is derived from the code's hash (codeUseHash) and
// whose FamilyID is the family of the tokens issued for the code (refresh
// rotation keeps the family). It is created in the transaction that issues
// the tokens, and its unique hash makes it the one point where exchanges
// of a code are ordered: of two exchanges (or an exchange and a replay)
// only one can create it. A replay of a used code (RFC 6749 §4.1.2) finds
// the row and revokes the family, tenant-scoped; when no tokens were
// issued yet the replay creates the row itself, revoked, with an empty
// family, so an exchange still in flight issues nothing.
const (
	tokenCode    = "code"
	tokenCodeUse = "code_use"
	prefixCode   = "cvac_"
	codeTTL      = 60 * time.Second
)

// codeUseHash is the hash of a code's use record: derived from the code's
// hash, and never the form of a credential hash (hex), so no presented
// secret resolves to it.
func codeUseHash(codeHash string) string {
	sum := sha256.Sum256([]byte("callvault ringcentral code use\x00" + codeHash))
	return "acu_" + hex.EncodeToString(sum[:])
}

// Anti-CSRF token of the login and consent form. The page sets a random
// browser secret in a cookie (HttpOnly, SameSite=Lax, __Host- and Secure
// on https) and embeds a token signed with the server's cursor key (shared
// by every node of one installation, see internal/cursor) that binds the
// SHA-256 of that secret and of the authorize request's parameters, valid
// for csrfTTL. The POST must carry both: the token must verify, be
// unexpired, name this browser's secret and these parameters (compared in
// constant time). A page on another site can neither read the secret nor
// make the browser send it with a cross-site POST, and a token fetched by
// someone else names their secret, not the victim's. Nothing is stored.
const (
	csrfKind         = "ringcentral.authorize.csrf"
	csrfTTL          = 15 * time.Minute
	csrfField        = "csrf_token"
	csrfCookie       = "cv_rc_authorize"
	csrfCookieSecure = "__Host-cv_rc_authorize"
)

type csrfClaims struct {
	Browser string `json:"b"` // SHA-256 of the browser secret (the cookie)
	Request string `json:"r"` // requestBinding of the authorize parameters
}

// requestBinding is the SHA-256 of the authorize request's parameters as
// validated (redirect_uri and PKCE method resolved).
func (ar *authRequest) requestBinding() string {
	b, _ := json.Marshal([]string{ar.responseType, ar.clientID, ar.redirect, ar.state, ar.challenge, ar.method})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// cookieName is the browser-secret cookie's name, and whether it is Secure
// (on https: TLS here, or a public https base URL behind a proxy).
func (f *Face) cookieName(r *http.Request) (string, bool) {
	if r.TLS != nil || strings.HasPrefix(f.s.BaseURL(), "https://") {
		return csrfCookieSecure, true
	}
	return csrfCookie, false
}

// browserSecret returns the browser's secret from its cookie, "" when it
// sent none that is well formed.
func (f *Face) browserSecret(r *http.Request) string {
	name, _ := f.cookieName(r)
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	if b, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil || len(b) != 32 {
		return ""
	}
	return c.Value
}

// ensureBrowserSecret returns the browser's secret, setting a new one in a
// cookie when it has none.
func (f *Face) ensureBrowserSecret(w http.ResponseWriter, r *http.Request) string {
	if s := f.browserSecret(r); s != "" {
		return s
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	name, secure := f.cookieName(r)
	path := "/restapi/oauth/authorize"
	if secure {
		path = "/" // the __Host- prefix requires it
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: s, Path: path, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	return s
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// csrfToken is the form's anti-CSRF token for ar and the browser secret.
// It is signed for the app (the cursor's binding string), not its tenant,
// so the page shows nothing the request did not name.
func (f *Face) csrfToken(ar *authRequest, secret string) (string, error) {
	return f.s.SignCursor(ar.app.ID, csrfKind, csrfClaims{Browser: hashString(secret), Request: ar.requestBinding()},
		f.s.Now().Add(csrfTTL))
}

// checkCSRF verifies the posted form's anti-CSRF token; it returns the
// message of the error page, "" when the token is good.
func (f *Face) checkCSRF(r *http.Request, ar *authRequest) string {
	const restart = " Go back to the application and start the sign-in again."
	tok, secret := r.PostForm.Get(csrfField), f.browserSecret(r)
	if tok == "" || secret == "" {
		return "The sign-in form was not sent from this server's sign-in page in this browser (its anti-forgery token or cookie is missing), so it was refused." + restart
	}
	var c csrfClaims
	err := f.s.OpenCursor(ar.app.ID, csrfKind, tok, &c)
	if errors.Is(err, cursor.ErrExpired) {
		return "The sign-in form expired (it is valid for 15 minutes)." + restart
	}
	// Both comparisons run whatever the first one's outcome.
	browserOK := credential.Equal(c.Browser, hashString(secret))
	requestOK := credential.Equal(c.Request, ar.requestBinding())
	if err != nil || !browserOK || !requestOK {
		return "The sign-in form's anti-forgery token does not match this browser or this authorization request, so it was refused." + restart
	}
	return ""
}

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
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
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

func (ar *authRequest) view(csrf string) map[string]any {
	return map[string]any{"App": ar.app, "Permissions": ar.permissions, "ErrorMsg": ar.errorMsg, "ResponseType": ar.responseType,
		"ClientID": ar.clientID, "Redirect": ar.redirect, "State": ar.state, "Challenge": ar.challenge, "Method": ar.method, "Login": ar.login,
		"CSRF": csrf}
}

// writeConsent writes the login and consent page with a fresh anti-CSRF
// token for the browser's secret (set in a cookie when it has none).
func (f *Face) writeConsent(w http.ResponseWriter, r *http.Request, status int, ar *authRequest) error {
	tok, err := f.csrfToken(ar, f.ensureBrowserSecret(w, r))
	if err != nil {
		return err
	}
	writePage(w, status, consentPage, ar.view(tok))
	return nil
}

// handleAuthorize is GET /restapi/oauth/authorize: the login and consent
// page (the app's name and the RingCentral permissions it asks for).
func (f *Face) handleAuthorize(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	w.Header().Set("RCRequestId", c.RequestID)
	f.limits.take(r, w, "addr:"+clientAddr(r), "", groupAuth)
	ar, page, rerr := f.parseAuthorize(r, r.URL.Query())
	switch {
	case page != "":
		writePage(w, http.StatusBadRequest, errorPage, page)
	case rerr != "":
		redirectTo(w, r, ar, url.Values{"error": {rerr}})
	default:
		return f.writeConsent(w, r, http.StatusOK, ar)
	}
	return nil
}

// handleAuthorizeSubmit is POST /restapi/oauth/authorize: the user's login,
// password and decision. Allowed, the browser goes back to the
// redirect_uri with a code (and the state); denied, with access_denied.
// Every POST for a known client and registered redirect_uri must carry
// the page's anti-CSRF token and the browser's secret cookie; without them
// it gets a 403 error page and nothing happens.
func (f *Face) handleAuthorizeSubmit(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	w.Header().Set("RCRequestId", c.RequestID)
	key := "addr:" + clientAddr(r)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		f.limits.take(r, w, key, "", groupAuth)
		writePage(w, http.StatusBadRequest, errorPage, "The form is malformed.")
		return nil
	}
	ar, page, rerr := f.parseAuthorize(r, r.PostForm)
	app := ""
	if ar != nil {
		app = ar.app.ID
	}
	wait, err := f.limits.take(r, w, "client:"+app+"/"+key, app, groupAuth)
	if err != nil { // not counted: refused (fail closed)
		retryHeader(w, unavailableRetry)
		writePage(w, http.StatusServiceUnavailable, errorPage, "The service is temporarily unavailable; retry later.")
		return nil
	}
	if wait > 0 {
		retryHeader(w, int((wait+time.Second-1)/time.Second))
		writePage(w, http.StatusTooManyRequests, errorPage, "Too many sign-in attempts; retry later.")
		return nil
	}
	if page != "" {
		writePage(w, http.StatusBadRequest, errorPage, page)
		return nil
	}
	if msg := f.checkCSRF(r, ar); msg != "" {
		writePage(w, http.StatusForbidden, errorPage, msg)
		return nil
	}
	switch {
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
		return f.writeConsent(w, r, http.StatusUnauthorized, ar)
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
// the code's client, expiry, redirect_uri and PKCE verifier are checked (a
// code failing the redirect_uri, verifier or user check is spent), then
// the code is consumed (revoked) in the transaction that issues tokens for
// its user and stores the code's use record, so a store failure leaves it
// usable for a retry. A code used before is refused and the tokens issued
// from it are revoked (codeReused).
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
	t, err := f.s.Store().Token(ctx, hash)
	switch {
	case callvault.IsNotFound(err), err == nil && (t.Kind != tokenCode || t.AppID != app.ID):
		return nil, bad("the authorization code is not known for this client")
	case err != nil:
		return nil, &cvhttp.OAuthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "the store is unavailable; retry later"}
	case !t.RevokedAt.IsZero():
		return nil, f.codeReused(r, app, t)
	}
	if !f.s.Now().Before(t.ExpiresAt) {
		return nil, bad("the authorization code expired (codes live 60 s); start the authorization again")
	}
	// A code that fails a check below is spent, as if it had been used:
	// guessing its verifier or redirect_uri gets one try. If the store
	// fails here the code stays usable until it expires (60 s), still
	// bound to its verifier and redirect_uri.
	spend := func(oe *cvhttp.OAuthError) *cvhttp.OAuthError {
		_ = f.s.Store().Update(ctx, func(tx callvault.Tx) error { return tx.RevokeToken(hash, f.s.Now()) })
		return oe
	}
	redirect, verifier := r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier")
	if redirect == "" && len(app.RedirectURIs) == 1 {
		redirect = app.RedirectURIs[0]
	}
	switch t.FamilyID {
	case codeBinding(redirect, "", ""), codeBinding(redirect, "plain", verifier), codeBinding(redirect, "S256", s256(verifier)):
	default:
		return nil, spend(bad("redirect_uri or code_verifier does not match the authorization request"))
	}
	u, err := f.s.Store().User(ctx, t.TenantID, t.UserID)
	if err != nil || u.Status != callvault.UserActive {
		return nil, spend(bad("the code's user no longer exists or is disabled"))
	}
	// The code is consumed in the transaction that issues its tokens, so
	// that a failure there leaves it unused (the client may retry), and a
	// concurrent exchange or replay either finds it consumed or meets the
	// use record's unique hash.
	reused := false
	tr, oe := f.s.IssueWithin(r, app, t.TenantID, t.UserID, intersectPerms(t.Scopes, app.Scopes), callvault.GrantAuthorizationCode,
		func(tx callvault.Tx, family string) error {
			now := f.s.Now().UTC().Truncate(time.Microsecond)
			cur, err := tx.Token(ctx, hash) // locks the code's row on PostgreSQL
			if err != nil {
				return err
			}
			if !cur.RevokedAt.IsZero() {
				reused = true
				return &cvhttp.OAuthError{Status: http.StatusBadRequest, Code: "invalid_grant"}
			}
			if err := tx.RevokeToken(hash, now); err != nil {
				return err
			}
			err = tx.CreateToken(&callvault.Token{Hash: codeUseHash(hash), TenantID: t.TenantID, Kind: tokenCodeUse, AppID: app.ID,
				UserID: t.UserID, Scopes: []callvault.Permission{}, Grant: callvault.GrantAuthorizationCode, FamilyID: family,
				IssuedAt: now, ExpiresAt: t.ExpiresAt})
			if callvault.IsConflict(err) {
				// A replay of this code came first.
				reused = true
				return &cvhttp.OAuthError{Status: http.StatusBadRequest, Code: "invalid_grant"}
			}
			return err
		})
	if reused {
		return nil, f.codeReused(r, app, t)
	}
	return tr, oe
}

// codeReused answers an exchange of a code used before (RFC 6749 §4.1.2):
// invalid_grant, and every token issued from the code (its family, with
// the refresh tokens rotated from them) is revoked in the code's tenant,
// audited in the same transaction. When no tokens were issued from it the
// code's use record is created revoked instead, so none can be.
func (f *Face) codeReused(r *http.Request, app *callvault.App, code *callvault.Token) *cvhttp.OAuthError {
	ctx := r.Context()
	useHash := codeUseHash(code.Hash)
	var err error
	// Twice at most: an exchange may create the use record between this
	// transaction's read and its insert (PostgreSQL runs them concurrently);
	// the insert then conflicts and the second round finds the record.
	for range 2 {
		now := f.s.Now().UTC().Truncate(time.Microsecond)
		err = f.s.Store().Update(ctx, func(tx callvault.Tx) error {
			use, err := tx.Token(ctx, useHash)
			if callvault.IsNotFound(err) {
				return tx.CreateToken(&callvault.Token{Hash: useHash, TenantID: code.TenantID, Kind: tokenCodeUse, AppID: code.AppID,
					UserID: code.UserID, Scopes: []callvault.Permission{}, Grant: callvault.GrantAuthorizationCode,
					FamilyID: callvault.NewID("tfm"), IssuedAt: now, ExpiresAt: code.ExpiresAt, RevokedAt: now})
			}
			if err != nil || !use.RevokedAt.IsZero() || use.Kind != tokenCodeUse || use.TenantID != code.TenantID {
				return err // revoked before: nothing more to do
			}
			if err := tx.RevokeTokenFamily(use.TenantID, use.FamilyID, now); err != nil {
				return err
			}
			details, _ := json.Marshal(map[string]any{"new": map[string]any{
				"reason": "authorization code reuse", "grant": callvault.GrantAuthorizationCode, "family": use.FamilyID,
				"address": clientAddr(r)}})
			return tx.AppendAudit(&callvault.AuditRecord{TenantID: use.TenantID, Service: callvault.AuditAuth, EventType: callvault.EventRevoke,
				EntityType: "token", EntityKey: use.FamilyID, DisplayName: app.Name, Timestamp: now, AuditUserID: use.UserID,
				RequestID: cvhttp.RequestID(ctx), Principal: "app:" + app.ID, Outcome: callvault.OutcomeSuccess, Details: string(details)})
		})
		if !callvault.IsConflict(err) {
			break
		}
	}
	if err != nil {
		return &cvhttp.OAuthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the authorization code was already used, and the tokens issued from it could not be revoked; retry later"}
	}
	return &cvhttp.OAuthError{Status: http.StatusBadRequest, Code: "invalid_grant",
		Description: "the authorization code was already used; codes are single-use, so the tokens issued from it are revoked: start the authorization again"}
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
