package http

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// OAuthError is an RFC 6749 §5.2 error response.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	RequestID   string `json:"requestId,omitempty"`
	retryAfter  time.Duration
	basic       bool // the client tried Basic authentication
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oerr(status int, code, format string, args ...any) *OAuthError {
	return &OAuthError{Status: status, Code: code, Description: sprintf(format, args...)}
}

func writeOAuthError(w http.ResponseWriter, r *http.Request, e *OAuthError) {
	e.RequestID = RequestID(r.Context())
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if e.Status == http.StatusServiceUnavailable && e.retryAfter == 0 {
		e.retryAfter = unavailableRetry
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(e.retryAfter)))
	}
	if e.Status == http.StatusUnauthorized {
		if e.basic {
			h.Set("WWW-Authenticate", `Basic realm="callvault"`)
		} else {
			h.Set("WWW-Authenticate", `Bearer realm="callvault"`)
		}
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// TokenResponse is the RFC 6749 §5.1 success body. Tenant is callvault's
// addition: the tenant the token is valid for.
type TokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope"`
	Tenant                string `json:"tenant"`
	// UserID is the user the token speaks for ("" for an app's own
	// token); faces render it (RingCentral's owner_id).
	UserID string `json:"-"`
	// Scopes are the granted permissions, for faces that name them in
	// their own vocabulary.
	Scopes []callvault.Permission `json:"-"`
}

// client is an authenticated (or identified, for public clients) app.
type client struct {
	app   *callvault.App
	basic bool
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// unavailableRetry is the Retry-After of a 503: the store (or what it
// depends on) could not serve, and may again in a moment.
const unavailableRetry = 2 * time.Second

// unavailableOAuth is the OAuth error for a store that cannot serve now.
func unavailableOAuth() *OAuthError {
	e := oerr(http.StatusServiceUnavailable, "temporarily_unavailable", "the store is unavailable; retry later")
	e.retryAfter = unavailableRetry
	return e
}

// countFailure counts a failed token request for key; a limiter that
// cannot count is logged, not fatal to the request (already failing).
func (s *Server) countFailure(r *http.Request, key string) {
	if err := s.limiter.Fail(r.Context(), key); err != nil {
		s.log.Warn("counting a failed token request", "requestId", RequestID(r.Context()), "err", err)
	}
}

// authenticateClient identifies the app of a token endpoint request by
// HTTP Basic or client_id/client_secret form fields, comparing secret
// hashes in constant time. Repeated failures are rate-limited per client id
// and per address.
func (s *Server) authenticateClient(r *http.Request) (*client, *OAuthError) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	addr := clientAddr(r)
	for _, k := range []string{"addr:" + addr, "client:" + id} {
		blocked, wait, err := s.limiter.Blocked(r.Context(), k)
		if err != nil {
			s.log.Error("reading token failure counts", "requestId", RequestID(r.Context()), "err", err)
			return nil, unavailableOAuth()
		}
		if blocked {
			e := oerr(http.StatusTooManyRequests, "too_many_requests",
				"too many failed token requests from this client or address; retry after %d seconds", retrySeconds(wait))
			e.retryAfter = wait
			return nil, e
		}
	}
	failed := func(format string, args ...any) (*client, *OAuthError) {
		s.countFailure(r, "addr:"+addr)
		if id != "" {
			s.countFailure(r, "client:"+id)
		}
		e := oerr(http.StatusUnauthorized, "invalid_client", format, args...)
		e.basic = basic
		return nil, e
	}
	if id == "" {
		return failed("client authentication is required: send HTTP Basic client_id:client_secret, or client_id in the form")
	}
	app, err := s.store.AppByID(r.Context(), id)
	if err != nil {
		if !callvault.IsNotFound(err) {
			return nil, unavailableOAuth()
		}
		credential.Equal(credential.Hash(secret), credential.Hash("")) // same work as a known client
		return failed("unknown client or wrong client secret")
	}
	if app.SecretHash == "" {
		if secret != "" {
			return failed("unknown client or wrong client secret")
		}
		return &client{app: app, basic: basic}, nil
	}
	if !credential.Equal(credential.Hash(secret), app.SecretHash) {
		return failed("unknown client or wrong client secret")
	}
	return &client{app: app, basic: basic}, nil
}

// parseOAuthForm reads the body of an OAuth endpoint, which RFC 6749 §3.2,
// RFC 7009 §2.1 and RFC 7662 §2.1 define as application/x-www-form-urlencoded
// with no parameter repeated. (ParseForm alone accepts any other body as an
// empty form, which surfaced as a misleading "grant_type is required".)
func parseOAuthForm(w http.ResponseWriter, r *http.Request) *OAuthError {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
		return oerr(400, "invalid_request", "the body must be application/x-www-form-urlencoded, not Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		return oerr(400, "invalid_request", "the body must be application/x-www-form-urlencoded of at most 65536 bytes")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return oerr(400, "invalid_request", "parameter %q is repeated; each parameter may be sent once", k)
		}
	}
	return nil
}

// handleToken is POST /oauth/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, _ *Call) error {
	if oe := parseOAuthForm(w, r); oe != nil {
		writeOAuthError(w, r, oe)
		return nil
	}
	app, oe := s.AuthenticateClient(r)
	if oe != nil {
		writeOAuthError(w, r, oe)
		return nil
	}
	resp, oe := s.Grant(r, app)
	if oe != nil {
		writeOAuthError(w, r, oe)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// AuthenticateClient identifies the app of a token endpoint request whose
// form is parsed (r.PostForm): HTTP Basic, or client_id (and
// client_secret) in the form. Failures are rate-limited and audited like
// the native token endpoint's.
func (s *Server) AuthenticateClient(r *http.Request) (*callvault.App, *OAuthError) {
	cl, oe := s.authenticateClient(r)
	if oe != nil {
		if oe.Code == "invalid_client" {
			s.auditTokenRefusal(r, nil, "", oe)
		}
		return nil, oe
	}
	return cl.app, nil
}

// Grant runs the grant of a token request whose form is parsed, for an
// authenticated app: password (username is a login), jwt-bearer,
// refresh_token (rotation) and client_credentials, exactly as the native
// token endpoint. Refusals are counted and audited.
func (s *Server) Grant(r *http.Request, app *callvault.App) (*TokenResponse, *OAuthError) {
	resp, oe := s.grant(r, &client{app: app})
	if oe != nil {
		s.GrantRefused(r, app, r.PostForm.Get("grant_type"), oe)
		return nil, oe
	}
	return resp, nil
}

// GrantRefused is what happens to every refused grant, for a face that
// runs a grant of its own (RingCentral's authorization_code): unless the
// refusal is the server's fault (5xx), it counts as a failed token request
// of the client and of its address (too many block both, see
// authenticateClient), and it is audited in the app's home tenant.
func (s *Server) GrantRefused(r *http.Request, app *callvault.App, grant string, oe *OAuthError) {
	if oe.Status < 500 { // a server fault is not the client's failure
		s.countFailure(r, "addr:"+clientAddr(r))
		s.countFailure(r, "client:"+app.ID)
	}
	s.auditTokenRefusal(r, app, grant, oe)
}

// RetryAfter is how long a rate-limited or unavailable client should wait
// (0 when not said).
func (e *OAuthError) RetryAfter() time.Duration { return e.retryAfter }

func (s *Server) grant(r *http.Request, cl *client) (*TokenResponse, *OAuthError) {
	ctx := r.Context()
	gt := r.PostForm.Get("grant_type")
	if gt == "" {
		return nil, oerr(400, "invalid_request", "grant_type is required")
	}
	if !slices.Contains(callvault.GrantTypes, gt) {
		return nil, oerr(400, "unsupported_grant_type", "grant_type %q is not supported; use one of %s", gt, strings.Join(callvault.GrantTypes, ", "))
	}
	if !slices.Contains(cl.app.Grants, gt) {
		return nil, oerr(400, "unauthorized_client", "app %q may not use grant_type %q; its allowed grants are [%s] (a tenant admin of %q can change them)",
			cl.app.Name, gt, strings.Join(cl.app.Grants, " "), cl.app.TenantID)
	}
	switch gt {
	case callvault.GrantClientCredentials:
		if cl.app.SecretHash == "" {
			return nil, oerr(400, "unauthorized_client", "a public client (no secret) cannot use client_credentials")
		}
		tenant, scopes, oe := s.tokenTarget(ctx, cl.app, r.PostForm.Get("tenant"), r.PostForm.Get("scope"))
		if oe != nil {
			return nil, oe
		}
		return s.issue(ctx, r, cl.app, tenant, "", scopes, gt, "", false)
	case callvault.GrantPassword:
		user, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
		if user == "" || pw == "" {
			return nil, oerr(400, "invalid_request", "username and password are required for grant_type=password")
		}
		tenant, scopes, oe := s.tokenTarget(ctx, cl.app, r.PostForm.Get("tenant"), r.PostForm.Get("scope"))
		if oe != nil {
			return nil, oe
		}
		u, err := s.store.UserByLogin(ctx, tenant, user)
		if err != nil {
			credential.VerifyDummy(pw)
			return nil, oerr(400, "invalid_grant", "invalid resource owner credentials")
		}
		ok, _ := credential.VerifyPassword(u.PasswordHash, pw)
		if !ok {
			return nil, oerr(400, "invalid_grant", "invalid resource owner credentials")
		}
		if u.Status != callvault.UserActive {
			return nil, oerr(400, "invalid_grant", "user %q is %s; a tenant admin can reactivate it", u.Login, u.Status)
		}
		return s.issue(ctx, r, cl.app, tenant, u.ID, scopes, gt, "", true)
	case callvault.GrantJWTBearer:
		return s.grantJWT(r, cl)
	case callvault.GrantRefreshToken:
		return s.grantRefresh(r, cl)
	}
	return nil, oerr(400, "unsupported_grant_type", "grant_type %q needs the authorization endpoint, which this server does not offer on the native API", gt)
}

// tokenTarget resolves the tenant a token is requested for (the app's home
// unless named) and the scopes it gets: the requested ones (all the app may
// have when none are named), each of which the app, and a consent for a
// foreign tenant, must hold now.
func (s *Server) tokenTarget(ctx context.Context, app *callvault.App, tenant, scope string) (string, []callvault.Permission, *OAuthError) {
	if tenant == "" {
		tenant = app.TenantID
	}
	allowed := app.Scopes
	if tenant != app.TenantID {
		c, err := s.store.Consent(ctx, tenant, app.ID)
		if err != nil || !c.Active() {
			return "", nil, oerr(400, "invalid_grant",
				"tenant %q has not admitted app %q (no active consent); an admin of that tenant can admit it at POST /v1/tenants/%s/consents", tenant, app.Name, tenant)
		}
		allowed = intersect(allowed, c.Scopes)
	}
	if scope == "" {
		return tenant, allowed, nil
	}
	req, bad := callvault.ParseScope(scope)
	if bad != "" {
		return "", nil, oerr(400, "invalid_scope", "unknown scope %q; scopes are callvault permissions such as calls.read", bad)
	}
	for _, p := range req {
		if !slices.Contains(allowed, p) {
			if !slices.Contains(app.Scopes, p) {
				return "", nil, oerr(400, "invalid_scope", "app %q does not hold scope %q; a tenant admin of %q can add it to the app", app.Name, p, app.TenantID)
			}
			return "", nil, oerr(400, "invalid_scope", "tenant %q's consent for app %q does not include scope %q", tenant, app.Name, p)
		}
	}
	return tenant, req, nil
}

func intersect(a, b []callvault.Permission) []callvault.Permission {
	var out []callvault.Permission
	for _, p := range a {
		if slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) grantJWT(r *http.Request, cl *client) (*TokenResponse, *OAuthError) {
	ctx := r.Context()
	assertion := r.PostForm.Get("assertion")
	if assertion == "" {
		return nil, oerr(400, "invalid_request", "assertion (the user JWT credential) is required for the jwt-bearer grant")
	}
	claims, err := credential.ParseJWT(s.cfg.JWTKey.Public().(ed25519.PublicKey), assertion, s.now())
	if err != nil {
		return nil, oerr(400, "invalid_grant", "the JWT assertion is invalid: %v", trimJWTErr(err))
	}
	cred, err := s.store.JWTCredential(ctx, claims.Tenant, claims.ID)
	if err != nil || cred.UserID != claims.Subject {
		return nil, oerr(400, "invalid_grant", "the JWT credential is not known")
	}
	if !cred.RevokedAt.IsZero() {
		return nil, oerr(400, "invalid_grant", "the JWT credential %q was revoked at %s; ask a tenant admin for a new one", cred.ID, cred.RevokedAt.UTC().Format(time.RFC3339))
	}
	if cred.AppID != "" && cred.AppID != cl.app.ID {
		return nil, oerr(400, "invalid_grant", "the JWT credential %q may only be used by app %q", cred.ID, cred.AppID)
	}
	tenant, scopes, oe := s.tokenTarget(ctx, cl.app, claims.Tenant, r.PostForm.Get("scope"))
	if oe != nil {
		return nil, oe
	}
	u, err := s.store.User(ctx, tenant, cred.UserID)
	if err != nil {
		return nil, oerr(400, "invalid_grant", "the JWT credential's user no longer exists")
	}
	if u.Status != callvault.UserActive {
		return nil, oerr(400, "invalid_grant", "user %q is %s; a tenant admin can reactivate it", u.Login, u.Status)
	}
	return s.issue(ctx, r, cl.app, tenant, u.ID, scopes, callvault.GrantJWTBearer, "", true)
}

func trimJWTErr(err error) string {
	return strings.TrimPrefix(err.Error(), "jwt: ")
}

func (s *Server) grantRefresh(r *http.Request, cl *client) (*TokenResponse, *OAuthError) {
	ctx := r.Context()
	rt := r.PostForm.Get("refresh_token")
	if credential.Check(credential.PrefixRefreshToken, rt) != nil {
		return nil, oerr(400, "invalid_grant", "the refresh token is malformed")
	}
	old, err := s.store.Token(ctx, credential.Hash(rt))
	if err != nil || old.Kind != callvault.TokenRefresh || old.AppID != cl.app.ID {
		return nil, oerr(400, "invalid_grant", "the refresh token is not known for this client")
	}
	now := s.now()
	if !old.RevokedAt.IsZero() {
		return nil, s.revokeReused(r, cl.app, old)
	}
	if !now.Before(old.ExpiresAt) {
		return nil, oerr(400, "invalid_grant", "the refresh token expired at %s; sign in again", old.ExpiresAt.UTC().Format(time.RFC3339))
	}
	// Scopes never widen on refresh: the old grant's scopes, narrowed to
	// what the app (and consent) hold now, or to the requested subset.
	_, allowed, oe := s.tokenTarget(ctx, cl.app, old.TenantID, "")
	if oe != nil {
		return nil, oe
	}
	scopes := intersect(old.Scopes, allowed)
	if req := r.PostForm.Get("scope"); req != "" {
		want, bad := callvault.ParseScope(req)
		if bad != "" {
			return nil, oerr(400, "invalid_scope", "unknown scope %q", bad)
		}
		for _, p := range want {
			if !slices.Contains(scopes, p) {
				return nil, oerr(400, "invalid_scope", "scope %q was not granted to this refresh token; tokens never gain scopes, sign in again", p)
			}
		}
		scopes = want
	}
	if old.UserID != "" {
		u, err := s.store.User(ctx, old.TenantID, old.UserID)
		if err != nil || u.Status != callvault.UserActive {
			return nil, oerr(400, "invalid_grant", "the token's user no longer exists or is disabled")
		}
	}
	return s.issue(ctx, r, cl.app, old.TenantID, old.UserID, scopes, old.Grant, old.Hash, true)
}

// revokeReused answers the reuse of a rotated (or revoked) refresh token:
// someone else may hold it, so the whole family is revoked, and that is
// recorded in the family's tenant (whose tokens these are) in the same
// transaction.
func (s *Server) revokeReused(r *http.Request, app *callvault.App, old *callvault.Token) *OAuthError {
	ctx := r.Context()
	now := s.now()
	err := s.store.Update(ctx, func(tx callvault.Tx) error {
		if err := tx.RevokeTokenFamily(old.TenantID, old.FamilyID, now); err != nil {
			return err
		}
		actor := old.UserID
		if actor == "" {
			actor = app.ID
		}
		details, _ := json.Marshal(map[string]any{"new": map[string]any{
			"reason": "refresh token reuse", "grant": old.Grant, "family": old.FamilyID, "address": clientAddr(r)}})
		return tx.AppendAudit(&callvault.AuditRecord{TenantID: old.TenantID, Service: callvault.AuditAuth, EventType: callvault.EventRevoke,
			EntityType: "token", EntityKey: old.FamilyID, DisplayName: app.Name, Timestamp: now, AuditUserID: actor,
			RequestID: RequestID(ctx), Principal: "app:" + app.ID, Outcome: callvault.OutcomeSuccess, Details: string(details)})
	})
	if err != nil {
		s.log.Error("revoke reused refresh token family", "requestId", RequestID(ctx), "err", err)
		return oerr(503, "temporarily_unavailable", "the reused refresh token's family could not be revoked; retry later")
	}
	return oerr(400, "invalid_grant", "the refresh token was already used or revoked; every token of its family is now revoked, sign in again")
}

// issue creates an access token (and a refresh token when withRefresh) and
// audits the issuance in the same transaction. rotated, when set, is the
// hash of the refresh token being exchanged: it is revoked atomically.
func (s *Server) issue(ctx context.Context, r *http.Request, app *callvault.App, tenant, userID string,
	scopes []callvault.Permission, grant, rotated string, withRefresh bool) (*TokenResponse, *OAuthError) {
	return s.issueWithin(ctx, r, app, tenant, userID, scopes, grant, rotated, withRefresh, nil)
}

// issueWithin is issue with within, when not nil, run in the issuing
// transaction before the tokens are created, given their family id. An
// error of within rolls the issuance back; an *OAuthError is returned as
// is.
func (s *Server) issueWithin(ctx context.Context, r *http.Request, app *callvault.App, tenant, userID string,
	scopes []callvault.Permission, grant, rotated string, withRefresh bool,
	within func(tx callvault.Tx, family string) error) (*TokenResponse, *OAuthError) {
	now := s.now().UTC().Truncate(time.Microsecond)
	at := credential.New(credential.PrefixAccessToken)
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTTL / time.Second),
		Scope: callvault.ScopeString(scopes), Tenant: tenant, UserID: userID, Scopes: scopes}
	family := callvault.NewID("tfm")
	err := s.store.Update(ctx, func(tx callvault.Tx) error {
		if rotated != "" {
			old, err := tx.Token(ctx, rotated)
			if err != nil {
				return err
			}
			if !old.RevokedAt.IsZero() {
				return callvault.Errorf(callvault.EConflict, "refresh token already used")
			}
			family = old.FamilyID
			if err := tx.RevokeToken(rotated, now); err != nil {
				return err
			}
		}
		if within != nil {
			if err := within(tx, family); err != nil {
				return err
			}
		}
		if err := tx.CreateToken(&callvault.Token{Hash: credential.Hash(at), TenantID: tenant, Kind: callvault.TokenAccess,
			AppID: app.ID, UserID: userID, Scopes: scopes, Grant: grant, FamilyID: family,
			IssuedAt: now, ExpiresAt: now.Add(s.cfg.AccessTTL)}); err != nil {
			return err
		}
		// A refresh token only for apps allowed to redeem it.
		if withRefresh && slices.Contains(app.Grants, callvault.GrantRefreshToken) {
			rt := credential.New(credential.PrefixRefreshToken)
			if err := tx.CreateToken(&callvault.Token{Hash: credential.Hash(rt), TenantID: tenant, Kind: callvault.TokenRefresh,
				AppID: app.ID, UserID: userID, Scopes: scopes, Grant: grant, FamilyID: family,
				IssuedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}); err != nil {
				return err
			}
			resp.RefreshToken = rt
			resp.RefreshTokenExpiresIn = int64(s.cfg.RefreshTTL / time.Second)
		}
		actor := userID
		if actor == "" {
			actor = app.ID
		}
		principal := "app:" + app.ID
		if userID != "" {
			principal = "user:" + userID + " via app:" + app.ID
		}
		details, _ := json.Marshal(map[string]any{"new": map[string]any{
			"grant": grant, "scope": resp.Scope, "expiresAt": now.Add(s.cfg.AccessTTL), "refresh": withRefresh, "rotated": rotated != ""}})
		return tx.AppendAudit(&callvault.AuditRecord{TenantID: tenant, Service: callvault.AuditAuth, EventType: callvault.EventIssue,
			EntityType: "token", EntityKey: family, DisplayName: app.Name, Timestamp: now, AuditUserID: actor,
			RequestID: RequestID(ctx), Principal: principal, Outcome: callvault.OutcomeSuccess, Details: string(details)})
	})
	if err != nil {
		if oe := (*OAuthError)(nil); errors.As(err, &oe) {
			return nil, oe
		}
		if callvault.IsConflict(err) && rotated != "" {
			// Another request rotated the same refresh token first: that
			// is reuse as much as a later replay is.
			old, err := s.store.Token(ctx, rotated)
			if err != nil {
				return nil, oerr(503, "temporarily_unavailable", "the refresh token could not be read; retry later")
			}
			return nil, s.revokeReused(r, app, old)
		}
		s.log.Error("issue token", "requestId", RequestID(ctx), "err", err)
		return nil, oerr(503, "temporarily_unavailable", "the token could not be stored; retry later")
	}
	return resp, nil
}

// auditTokenRefusal records a refused token request in the app's home
// tenant. Requests from unknown clients have no tenant and are only logged.
func (s *Server) auditTokenRefusal(r *http.Request, app *callvault.App, grant string, oe *OAuthError) {
	ctx := r.Context()
	if app == nil {
		id, _, ok := r.BasicAuth()
		if !ok {
			id = r.PostForm.Get("client_id")
		}
		if a, err := s.store.AppByID(ctx, id); err == nil {
			app = a
		}
	}
	if app == nil {
		s.log.Info("token refused", "requestId", RequestID(ctx), "error", oe.Code, "addr", clientAddr(r))
		return
	}
	details, _ := json.Marshal(map[string]any{"new": map[string]any{"grant": grant, "error": oe.Code, "description": oe.Description,
		"username": r.PostForm.Get("username"), "tenant": r.PostForm.Get("tenant"), "address": clientAddr(r)}})
	err := s.audit.Append(ctx, &callvault.AuditRecord{TenantID: app.TenantID, Service: callvault.AuditAuth, EventType: callvault.EventRefuse,
		EntityType: "token", EntityKey: app.ID, DisplayName: app.Name, Timestamp: s.now(), AuditUserID: app.ID,
		RequestID: RequestID(ctx), Principal: "app:" + app.ID, Outcome: callvault.OutcomeDenied, Details: string(details)})
	if err != nil {
		s.log.Error("audit token refusal", "requestId", RequestID(ctx), "err", err)
	}
}

// tokenRequest reads a revocation or introspection request: the form, the
// authenticated client and the token it names.
func (s *Server) tokenRequest(w http.ResponseWriter, r *http.Request) (*client, string, *OAuthError) {
	if oe := parseOAuthForm(w, r); oe != nil {
		return nil, "", oe
	}
	cl, oe := s.authenticateClient(r)
	if oe != nil {
		return nil, "", oe
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		return nil, "", oerr(400, "invalid_request", "token is required")
	}
	return cl, tok, nil
}

// handleRevoke is POST /oauth/revoke (RFC 7009): the client revokes one of
// its tokens; a refresh token takes its whole family with it. Unknown
// tokens are answered 200 as the RFC requires.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, _ *Call) error {
	cl, tok, oe := s.tokenRequest(w, r)
	if oe != nil {
		writeOAuthError(w, r, oe)
		return nil
	}
	if err := s.RevokeToken(r, cl.app, tok); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// RevokeToken revokes one of app's tokens (RFC 7009): a refresh token
// takes its whole family with it; a token that is unknown, already revoked
// or another app's is ignored.
func (s *Server) RevokeToken(r *http.Request, app *callvault.App, tok string) error {
	ctx := r.Context()
	t, err := s.store.Token(ctx, credential.Hash(tok))
	if err == nil && t.AppID == app.ID && t.RevokedAt.IsZero() {
		now := s.now()
		return s.store.Update(ctx, func(tx callvault.Tx) error {
			if t.Kind == callvault.TokenRefresh {
				if err := tx.RevokeTokenFamily(t.TenantID, t.FamilyID, now); err != nil {
					return err
				}
			} else if err := tx.RevokeToken(t.Hash, now); err != nil {
				return err
			}
			return tx.AppendAudit(&callvault.AuditRecord{TenantID: t.TenantID, Service: callvault.AuditAuth, EventType: callvault.EventRevoke,
				EntityType: "token", EntityKey: t.FamilyID, DisplayName: app.Name, Timestamp: now, AuditUserID: app.ID,
				RequestID: RequestID(ctx), Principal: "app:" + app.ID, Outcome: callvault.OutcomeSuccess})
		})
	}
	if err != nil && !callvault.IsNotFound(err) {
		return err
	}
	return nil
}

// handleIntrospect is POST /oauth/introspect (RFC 7662). A client may
// introspect only tokens issued to it; any other token is reported inactive.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request, _ *Call) error {
	cl, tok, oe := s.tokenRequest(w, r)
	if oe != nil {
		writeOAuthError(w, r, oe)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	t, err := s.store.Token(r.Context(), credential.Hash(tok))
	if err != nil && !callvault.IsNotFound(err) {
		return err
	}
	now := s.now()
	inactive := func() error {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return nil
	}
	if err != nil || t.AppID != cl.app.ID || !t.RevokedAt.IsZero() || !now.Before(t.ExpiresAt) ||
		(t.Kind != callvault.TokenAccess && t.Kind != callvault.TokenRefresh) { // e.g. a face's authorization code
		return inactive()
	}
	// A token is active only while what it speaks for stands, and carries
	// only the scopes in force now, as the permission engine sees them: a
	// scope removed from the app (or the consent) is gone at once, and a
	// revoked consent or a disabled user ends the token.
	scopes := intersect(t.Scopes, cl.app.Scopes)
	if t.TenantID != cl.app.TenantID {
		c, err := s.store.Consent(r.Context(), t.TenantID, t.AppID)
		if err != nil && !callvault.IsNotFound(err) {
			return err
		}
		if err != nil || !c.Active() {
			return inactive()
		}
		scopes = intersect(scopes, c.Scopes)
	}
	out := map[string]any{
		"active": true, "scope": callvault.ScopeString(scopes), "client_id": t.AppID,
		"token_use": map[string]string{callvault.TokenAccess: "access_token", callvault.TokenRefresh: "refresh_token"}[t.Kind],
		"exp":       t.ExpiresAt.Unix(), "iat": t.IssuedAt.Unix(), "iss": s.cfg.BaseURL, "tenant": t.TenantID,
	}
	if t.Kind == callvault.TokenAccess {
		out["token_type"] = "Bearer" // RFC 7662 §2.2: the RFC 6749 §5.1 token type
	}
	if t.UserID != "" {
		u, err := s.store.User(r.Context(), t.TenantID, t.UserID)
		if err != nil && !callvault.IsNotFound(err) {
			return err
		}
		if err != nil || u.Status != callvault.UserActive {
			return inactive()
		}
		out["sub"], out["username"] = t.UserID, u.Login
	} else {
		out["sub"] = t.AppID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
