package http

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// Route is one entry of the route table. Every authenticated route declares
// the Action it performs; Public routes (health, OAuth endpoints) do their
// own client authentication or none.
type Route struct {
	Method  string
	Pattern string
	Action  access.Action
	Public  bool
	// BasicKey also accepts HTTP Basic authentication whose password is an
	// API key (the user name is free text), for clients that can send
	// nothing else, such as FreeSWITCH's mod_json_cdr.
	BasicKey bool
	// Resource builds the decision's resource from the request; by default
	// the target tenant is the {tenant} path value.
	Resource func(r *http.Request) (access.Resource, error)
	Handle   func(w http.ResponseWriter, r *http.Request, c *Call) error
	// QueryToken, when set, names a query parameter that may carry the
	// OAuth access token when the request has no Authorization header
	// (links a client follows without headers, e.g. recording content).
	QueryToken string
	// Errors renders the route's errors (an API face's vendor format);
	// the native problem document when nil.
	Errors ErrorRenderer
}

// ErrorRenderer writes err as a face's error response. It sees the same
// errors as the native rendering: *DenialError (with the engine's
// Decision), *AuthError, *RateLimitError and *callvault.Error.
type ErrorRenderer func(w http.ResponseWriter, r *http.Request, err error)

// Call is an authenticated, allowed request as handlers see it.
type Call struct {
	P *access.Principal
	// Action is the route's action; handlers that learn the concrete
	// resource later (a record's owner, a time range) decide it again with
	// Server.decide.
	Action    access.Action
	Decision  access.Decision
	Tenant    string // the target tenant ("" for installation-wide routes)
	RequestID string
}

// wrap turns a route into a handler: authenticate, decide, audit denials,
// run, render errors.
func (s *Server) wrap(rt Route) http.Handler {
	if !rt.Public && rt.Action.Name == "" {
		panic("route " + rt.Method + " " + rt.Pattern + " declares no action")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := s.fail
		if rt.Errors != nil {
			fail = func(w http.ResponseWriter, r *http.Request, err error) {
				if code := callvault.ErrorCode(err); code == callvault.EInternal || code == callvault.EUnavailable {
					s.log.Error("request failed", "requestId", RequestID(r.Context()), "err", err)
				}
				rt.Errors(w, r, err)
			}
		}
		if rt.Public {
			if err := rt.Handle(w, r, &Call{RequestID: RequestID(r.Context())}); err != nil {
				fail(w, r, err)
			}
			return
		}
		c, err := s.authorize(r, rt)
		if err != nil {
			fail(w, r, err)
			return
		}
		if err := rt.Handle(w, r, c); err != nil {
			fail(w, r, err)
		}
	})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p := writeError(w, r, err); p.Status >= 500 {
		s.log.Error("request failed", "requestId", p.RequestID, "err", err)
	}
}

// authorize authenticates the request and asks the engine about rt's action
// on the request's resource. Denials are audited (with their trace) before
// the error is returned.
func (s *Server) authorize(r *http.Request, rt Route) (*Call, error) {
	ctx := r.Context()
	p, err := s.authenticate(ctx, r, rt.BasicKey, rt.QueryToken)
	if err != nil {
		s.metrics.denials.WithLabelValues(string(access.LayerCredential)).Inc()
		s.auditAuthFailure(ctx, r, err)
		return nil, err
	}
	res := access.Resource{TenantID: r.PathValue("tenant")}
	if rt.Resource != nil {
		if res, err = rt.Resource(r); err != nil {
			return nil, err
		}
	}
	if res.TenantID == ownTenantMarker {
		res.TenantID = p.TenantID
	}
	if res.TenantID != "" && res.TenantID != p.TenantID && p.Operator {
		t, err := s.store.Tenant(ctx, res.TenantID)
		if err != nil {
			return nil, err
		}
		res.Tenant = t
	}
	d := s.engine.Decide(p, rt.Action, res)
	c := &Call{P: p, Action: rt.Action, Decision: d, Tenant: res.TenantID, RequestID: RequestID(ctx)}
	if !d.Allowed {
		s.metrics.denials.WithLabelValues(string(d.Layer)).Inc()
		s.auditDenial(ctx, r, c, rt.Action, res)
		return nil, &DenialError{Decision: d}
	}
	return c, nil
}

// decide asks the engine about the call's action again, on a resource the
// handler learned after authorization (a record's owner and site, the time
// range of a query). A denial is counted and audited with its trace like
// one of authorize, and returned as a *DenialError.
func (s *Server) decide(r *http.Request, c *Call, res access.Resource) error {
	return s.Decide(r, c, c.Action, res)
}

// Decide asks the engine about action a for the call's principal on res
// (in the call's target tenant): the second decision of a handler that
// learned the concrete resource, or a further action a route also needs.
// A denial is counted and audited with its trace and returned as a
// *DenialError.
func (s *Server) Decide(r *http.Request, c *Call, a access.Action, res access.Resource) error {
	ctx := r.Context()
	res.TenantID = c.Tenant
	if res.Tenant == nil && c.Tenant != c.P.TenantID {
		t, err := s.store.Tenant(ctx, c.Tenant)
		if err != nil {
			return err
		}
		res.Tenant = t
	}
	d := s.engine.Decide(c.P, a, res)
	if !d.Allowed {
		s.metrics.denials.WithLabelValues(string(d.Layer)).Inc()
		s.auditDenial(ctx, r, &Call{P: c.P, Action: a, Decision: d, Tenant: c.Tenant, RequestID: c.RequestID}, a, res)
		return &DenialError{Decision: d}
	}
	return nil
}

// authenticate turns the request's credential into a Principal snapshot.
// With basicKey, HTTP Basic authentication whose password is an API key is
// accepted too; with queryToken, an access token in that query parameter
// when no header carries a credential.
func (s *Server) authenticate(ctx context.Context, r *http.Request, basicKey bool, queryToken string) (*access.Principal, error) {
	authz := r.Header.Get("Authorization")
	key := r.Header.Get("X-API-Key")
	switch {
	case authz == "" && key == "" && queryToken != "" && r.URL.Query().Get(queryToken) != "":
		return s.principalFromToken(ctx, strings.TrimSpace(r.URL.Query().Get(queryToken)))
	case authz != "":
		scheme, tok, ok := strings.Cut(authz, " ")
		if basicKey && ok && strings.EqualFold(scheme, "Basic") {
			_, pass, ok := r.BasicAuth()
			if !ok || pass == "" {
				return nil, &AuthError{Reason: "the Basic credentials are malformed or carry no password",
					Hint: "send HTTP Basic authentication with any user name and an API key of the tenant as the password"}
			}
			return s.principalFromAPIKey(ctx, strings.TrimSpace(pass))
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, &AuthError{Reason: "the Authorization header must use the Bearer scheme",
				Hint: "send Authorization: Bearer <access token from POST /oauth/token>, or X-API-Key: <key>"}
		}
		if tok = strings.TrimSpace(tok); tok == "" {
			return nil, &AuthError{Reason: "the bearer token is empty",
				Hint: "send Authorization: Bearer <access token from POST /oauth/token>"}
		}
		return s.principalFromToken(ctx, tok)
	case key != "":
		return s.principalFromAPIKey(ctx, strings.TrimSpace(key))
	}
	return nil, &AuthError{Reason: "no credential was sent",
		Hint: "send Authorization: Bearer <access token from POST /oauth/token>, or X-API-Key: <key>"}
}

func (s *Server) principalFromToken(ctx context.Context, tok string) (*access.Principal, error) {
	if strings.Count(tok, ".") == 2 && s.cfg.JWTKey != nil {
		// A signed access token (see SignAccessToken) wraps the opaque one,
		// which stays the credential: its expiry and revocation decide.
		inner, err := credential.OpenAccessToken(s.cfg.JWTKey.Public().(ed25519.PublicKey), tok, s.now())
		if err != nil {
			return nil, &AuthError{Reason: "the signed access token is invalid or has expired",
				Hint: "request a new token; a signed access token is accepted only as issued, unaltered and before its exp"}
		}
		tok = inner
	}
	if credential.Check(credential.PrefixAccessToken, tok) != nil {
		hint := "access tokens start with " + credential.PrefixAccessToken + " and end in a checksum; copy the whole access_token"
		if credential.Check(credential.PrefixRefreshToken, tok) == nil {
			hint = "this is a refresh token: exchange it at POST /oauth/token with grant_type=refresh_token"
		}
		return nil, &AuthError{Reason: "the bearer token is malformed (prefix, length or checksum)", Hint: hint}
	}
	t, err := s.store.Token(ctx, credential.Hash(tok))
	if callvault.IsNotFound(err) || (err == nil && t.Kind != callvault.TokenAccess) {
		return nil, &AuthError{Reason: "the access token is not known to this server",
			Hint: "request a new token at POST /oauth/token"}
	}
	if err != nil {
		return nil, err
	}
	app, err := s.store.AppByID(ctx, t.AppID)
	if err != nil {
		if callvault.IsNotFound(err) {
			return nil, &AuthError{Reason: "the app this token was issued to no longer exists", Hint: "register an app and request a new token"}
		}
		return nil, err
	}
	p := &access.Principal{Kind: callvault.SubjectApp, TenantID: t.TenantID,
		Credential: access.Credential{Kind: "access_token", ID: t.FamilyID, Grant: t.Grant,
			IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, Revoked: !t.RevokedAt.IsZero(), Scopes: t.Scopes}}
	if err := s.loadApp(ctx, p, app); err != nil {
		return nil, err
	}
	if t.UserID != "" {
		if err := s.loadUser(ctx, p, t.TenantID, t.UserID); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// keyTouchEvery is how stale an API key's last-used time may get.
const keyTouchEvery = time.Minute

// SignAccessToken wraps an issued opaque access token in a JWT signed with
// the server's key, for faces whose clients expect a signed bearer token;
// requests may carry either form.
func (s *Server) SignAccessToken(tenant, subject, token string, expiresIn int64) (string, error) {
	now := s.now()
	return credential.SignAccessToken(s.cfg.JWTKey, s.cfg.BaseURL, tenant, subject, token, now, now.Add(time.Duration(expiresIn)*time.Second))
}

func (s *Server) principalFromAPIKey(ctx context.Context, key string) (*access.Principal, error) {
	if credential.Check(credential.PrefixAPIKey, key) != nil {
		return nil, &AuthError{Reason: "the API key is malformed (prefix, length or checksum)",
			Hint: "API keys start with " + credential.PrefixAPIKey + " and end in a checksum; copy the whole key as it was shown once at creation"}
	}
	k, err := s.store.APIKeyByHash(ctx, credential.Hash(key))
	if callvault.IsNotFound(err) {
		return nil, &AuthError{Reason: "the API key is not known to this server", Hint: "a tenant admin can create a key at POST /v1/tenants/{tenant}/api-keys"}
	}
	if err != nil {
		return nil, err
	}
	if now := s.now(); now.Sub(k.LastUsedAt) > keyTouchEvery {
		// Best-effort and at most once a minute per key: a durable write
		// per request would serialize every API-key request on the writer.
		if err := s.store.TouchAPIKey(ctx, k.TenantID, k.ID, now); err != nil {
			s.log.Warn("recording API key use", "key", k.ID, "err", err)
		}
	}
	p := &access.Principal{TenantID: k.TenantID,
		Credential: access.Credential{Kind: "api_key", ID: k.ID, IssuedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt,
			Revoked: !k.RevokedAt.IsZero(), Scopes: k.Scopes}}
	switch k.SubjectKind {
	case callvault.SubjectApp:
		p.Kind = callvault.SubjectApp
		app, err := s.store.AppByID(ctx, k.SubjectID)
		if callvault.IsNotFound(err) {
			return nil, &AuthError{Reason: "the app this API key speaks for no longer exists", Hint: "a tenant admin can create a key for an existing app or user"}
		}
		if err != nil {
			return nil, err
		}
		if err := s.loadApp(ctx, p, app); err != nil {
			return nil, err
		}
	default:
		if err := s.loadUser(ctx, p, k.TenantID, k.SubjectID); err != nil {
			return nil, err
		}
	}
	if p.Tenant == nil {
		t, err := s.store.Tenant(ctx, k.TenantID)
		if err != nil {
			return nil, err
		}
		p.Tenant = t
	}
	return p, nil
}

// loadApp fills the app part of p: the app, its region, its scopes now, the
// consent of p.TenantID when it is not the app's home, and the app's
// service-principal roles there.
func (s *Server) loadApp(ctx context.Context, p *access.Principal, app *callvault.App) error {
	p.AppID, p.AppName, p.AppTenant, p.AppScopes = app.ID, app.Name, app.TenantID, app.Scopes
	home, err := s.store.Tenant(ctx, app.TenantID)
	if err != nil {
		return err
	}
	p.AppRegion = home.Region
	roles := app.Roles
	if p.TenantID == app.TenantID {
		p.Tenant = home
	} else {
		t, err := s.store.Tenant(ctx, p.TenantID)
		if err != nil && !callvault.IsNotFound(err) {
			return err
		}
		p.Tenant = t
		c, err := s.store.Consent(ctx, p.TenantID, app.ID)
		if err != nil && !callvault.IsNotFound(err) {
			return err
		}
		if err == nil {
			p.Consent = c
			roles = c.Roles
		} else {
			roles = nil
		}
	}
	if p.Kind == callvault.SubjectApp {
		g, err := s.roleGrants(ctx, p.TenantID, roles)
		if err != nil {
			return err
		}
		p.Roles = g
	}
	return nil
}

// loadUser fills the user part of p.
func (s *Server) loadUser(ctx context.Context, p *access.Principal, tenant, userID string) error {
	u, err := s.store.User(ctx, tenant, userID)
	if callvault.IsNotFound(err) {
		return &AuthError{Reason: "the user this credential speaks for no longer exists", Hint: "sign in again as an existing user"}
	}
	if err != nil {
		return err
	}
	p.Kind = callvault.SubjectUser
	p.UserID, p.UserLogin, p.UserStatus, p.Extension = u.ID, u.Login, u.Status, u.Extension
	p.AccessLevels, p.SiteScope = u.AccessLevels, u.SiteScope
	if u.License != "" {
		l, err := s.store.License(ctx, tenant, u.License)
		if err != nil && !callvault.IsNotFound(err) {
			return err
		}
		if err == nil {
			p.License = l
		}
	}
	g, err := s.roleGrants(ctx, tenant, u.Roles)
	if err != nil {
		return err
	}
	p.Roles = g
	p.Operator = tenant == callvault.OperatorTenant && slices.Contains(u.Roles, callvault.RoleOperator)
	return nil
}

// roleGrants resolves role names in a tenant to their permissions: built-in
// roles first, then the tenant's own. Unknown names are skipped.
func (s *Server) roleGrants(ctx context.Context, tenant string, names []string) ([]access.RoleGrant, error) {
	var out []access.RoleGrant
	for _, n := range names {
		if r := builtinRoleIn(tenant, n); r != nil {
			out = append(out, access.RoleGrant{Role: n, Permissions: r.Permissions})
			continue
		}
		if n == callvault.RoleOperator {
			continue // the operator role exists only in the operator tenant
		}
		r, err := s.store.Role(ctx, tenant, n)
		if callvault.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, access.RoleGrant{Role: n, Permissions: r.Permissions})
	}
	return out, nil
}

var builtinRoles = callvault.BuiltinRoles()

// builtinRoleIn returns the built-in role name as it exists in tenant: the
// operator role only in the operator tenant.
func builtinRoleIn(tenant, name string) *callvault.Role {
	if name == callvault.RoleOperator && tenant != callvault.OperatorTenant {
		return nil
	}
	return builtinRole(name)
}

func builtinRole(name string) *callvault.Role {
	for i := range builtinRoles {
		if builtinRoles[i].Name == name {
			return &builtinRoles[i]
		}
	}
	return nil
}

// principalString describes a principal for audit records.
func principalString(p *access.Principal) string {
	if p == nil {
		return ""
	}
	var sb strings.Builder
	if p.UserID != "" {
		sb.WriteString("user:" + p.UserID)
		if p.AppID != "" {
			sb.WriteString(" via app:" + p.AppID)
		}
	} else if p.AppID != "" {
		sb.WriteString("app:" + p.AppID)
	}
	sb.WriteString(" (" + p.Credential.Kind + ")")
	return sb.String()
}

// actorID is the auditUserId of a principal: the user, or else the app.
func actorID(p *access.Principal) string {
	if p == nil {
		return ""
	}
	if p.UserID != "" {
		return p.UserID
	}
	return p.AppID
}

// record starts an audit record for c in its target tenant.
func (s *Server) record(c *Call, service, event, entityType, entityKey, displayName string) *callvault.AuditRecord {
	tenant := c.Tenant
	if tenant == "" {
		tenant = c.P.TenantID
	}
	rec := &callvault.AuditRecord{
		TenantID: tenant, Service: service, EventType: event, EntityType: entityType, EntityKey: entityKey,
		DisplayName: displayName, Timestamp: s.now(), AuditUserID: actorID(c.P), RequestID: c.RequestID,
		Principal: principalString(c.P), Outcome: callvault.OutcomeSuccess,
	}
	if c.Decision.Impersonating {
		rec.Impersonator = c.P.UserID
		rec.AuditUserID = c.P.UserID
	}
	return rec
}

// auditDenial records a denial with its trace in the target tenant's trail
// (and, when the target is another tenant the caller may not see, in the
// caller's own tenant instead, so nothing is written into a tenant on a
// stranger's behalf).
func (s *Server) auditDenial(ctx context.Context, r *http.Request, c *Call, a access.Action, res access.Resource) {
	tenant := res.TenantID
	if tenant == "" || (tenant != c.P.TenantID && !c.P.Operator) {
		tenant = c.P.TenantID
	}
	trace, _ := json.Marshal(c.Decision)
	rec := &callvault.AuditRecord{
		TenantID: tenant, Service: callvault.AuditAccess, EventType: callvault.EventDeny,
		EntityType: "request", EntityKey: r.Method + " " + r.URL.Path, DisplayName: a.Name,
		Timestamp: s.now(), AuditUserID: actorID(c.P), RequestID: c.RequestID, Principal: principalString(c.P),
		Outcome: callvault.OutcomeDenied, Trace: string(trace),
	}
	if err := s.audit.Append(ctx, rec); err != nil {
		s.log.Error("audit denial", "requestId", c.RequestID, "err", err)
	}
}

// auditAuthFailure records a request whose credential was unusable, in the
// tenant the credential belongs to when that is known. An unknown or
// missing credential has no tenant and is only counted and logged.
func (s *Server) auditAuthFailure(ctx context.Context, r *http.Request, err error) {
	s.log.Info("unauthenticated request", "requestId", RequestID(ctx), "path", r.URL.Path, "reason", err.Error())
}
