package http

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// Apps (OAuth clients of their home tenant) and consents (another
// tenant's apps admitted into this one).

var appKind = &kind[callvault.App]{
	typ: "app", param: "id",
	key:    func(v *callvault.App) string { return v.ID },
	name:   func(v *callvault.App) string { return v.Name },
	one:    callvault.Reader.App,
	all:    callvault.Reader.Apps,
	create: callvault.Tx.CreateApp,
	update: callvault.Tx.UpdateApp,
	remove: callvault.Tx.DeleteApp,
	touch:  func(v *callvault.App, now time.Time) { v.UpdatedAt = now },
	secrets: func(old, new *callvault.App) []string {
		if old.SecretHash != new.SecretHash {
			return []string{"clientSecret"}
		}
		return nil
	},
}

var consentKind = &kind[callvault.Consent]{
	typ: "consent", param: "appId",
	key:     func(v *callvault.Consent) string { return v.AppID },
	name:    func(v *callvault.Consent) string { return v.AppID },
	one:     callvault.Reader.Consent,
	all:     callvault.Reader.Consents,
	create:  callvault.Tx.PutConsent,
	update:  callvault.Tx.PutConsent,
	touch:   func(v *callvault.Consent, now time.Time) { v.UpdatedAt = now },
	revoked: func(v *callvault.Consent) *time.Time { return &v.RevokedAt },
}

// defaultGrants are a confidential app's grants when none are named.
var defaultGrants = []string{callvault.GrantClientCredentials, callvault.GrantRefreshToken}

// ---- apps ----

// appPatch is the body of an app patch.
type appPatch struct {
	Name         *string                 `json:"name"`
	Grants       *[]string               `json:"grants"`
	Scopes       *[]callvault.Permission `json:"scopes"`
	Roles        *[]string               `json:"roles"`
	RedirectURIs *[]string               `json:"redirectUris"`
}

// appCreate is the body of an app create. A public app has no secret.
type appCreate struct {
	appPatch
	Public bool `json:"public"`
}

// check validates what needs no store.
func (in *appPatch) check(tenant string) error {
	return firstErr(
		optional(in.Name, func(v string) error { return checkName("name", v) }),
		optional(in.Grants, checkGrants),
		optional(in.Scopes, func(ps []callvault.Permission) error { return checkPermissions("scopes", tenant, ps) }),
		optional(in.RedirectURIs, func(us []string) error { return checkRedirectURIs("redirectUris", us) }),
	)
}

func checkGrants(gs []string) error {
	return checkList("grants", gs, func(f, g string) error {
		if !slices.Contains(callvault.GrantTypes, g) {
			return callvault.FieldError(f, "unknown grant type %q; known: %s", g, strings.Join(callvault.GrantTypes, ", "))
		}
		return nil
	})
}

// apply checks the roles against the tenant and sets what the patch sets,
// then checks that the app's grants fit its kind.
func (in *appPatch) apply(ctx context.Context, rd callvault.Reader, tenant string, a *callvault.App) error {
	if in.Roles != nil {
		if err := checkRoles(ctx, rd, tenant, "roles", *in.Roles); err != nil {
			return err
		}
		a.Roles = nonNil(*in.Roles)
	}
	set(&a.Name, in.Name)
	if in.Grants != nil {
		a.Grants = nonNil(*in.Grants)
	}
	if in.Scopes != nil {
		a.Scopes = nonNil(*in.Scopes)
	}
	if in.RedirectURIs != nil {
		a.RedirectURIs = nonNil(*in.RedirectURIs)
	}
	return checkAppGrants(a)
}

// checkAppGrants checks grants against the app: a public app cannot use
// client_credentials; authorization_code needs redirect URIs.
func checkAppGrants(a *callvault.App) error {
	if a.SecretHash == "" && slices.Contains(a.Grants, callvault.GrantClientCredentials) {
		return callvault.FieldError("grants", "a public app (no secret) cannot use %s", callvault.GrantClientCredentials)
	}
	if slices.Contains(a.Grants, callvault.GrantAuthorizationCode) && len(a.RedirectURIs) == 0 {
		return callvault.FieldError("redirectUris", "the %s grant needs at least one redirect URI", callvault.GrantAuthorizationCode)
	}
	return nil
}

// appWithSecret is the response of an app create or secret rotation: the
// app and, once, its client secret.
type appWithSecret struct {
	*callvault.App
	ClientSecret string `json:"clientSecret,omitempty"`
}

func (s *Server) handleAppCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req appCreate
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	if req.Public && req.Grants == nil {
		return callvault.FieldError("grants", "a public app must name its grants (it cannot use the default %s)", callvault.GrantClientCredentials)
	}
	if err := req.check(c.Tenant); err != nil {
		return err
	}
	now := s.stamp()
	a := &callvault.App{TenantID: c.Tenant, ID: callvault.NewID("app"), Grants: defaultGrants,
		Scopes: []callvault.Permission{}, Roles: []string{}, RedirectURIs: []string{}, CreatedAt: now, UpdatedAt: now}
	var secret string
	if !req.Public {
		secret = credential.New(credential.PrefixClientSecret)
		a.SecretHash = credential.Hash(secret)
	}
	ctx := r.Context()
	err := createObj(ctx, s, c, appKind, a, func(tx callvault.Tx) error { return req.apply(ctx, tx, c.Tenant, a) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, appWithSecret{App: a, ClientSecret: secret})
	return nil
}

func (s *Server) handleAppPatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req appPatch
	return patchHandler(s, appKind, &req, func() error { return req.check(c.Tenant) },
		func(ctx context.Context, tx callvault.Tx, c *Call, a *callvault.App) error {
			return req.apply(ctx, tx, c.Tenant, a)
		})(w, r, c)
}

// handleAppDelete deletes an app; the store deletes its consents and
// tokens, and the API keys that speak for it are revoked as child records.
func (s *Server) handleAppDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	return deleteHandler(s, appKind, nil,
		func(ctx context.Context, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, a *callvault.App) error {
			return s.revokeCredentialsOf(ctx, tx, add, c, callvault.SubjectApp, a.ID)
		})(w, r, c)
}

// secretRotation is the optional body of POST .../apps/{id}/secret.
type secretRotation struct {
	// RevokeTokens revokes every token the app holds, in its home tenant
	// and in every tenant that admitted it; by default they stay valid.
	RevokeTokens bool `json:"revokeTokens"`
}

// handleAppSecret rotates an app's client secret: the old secret stops
// working at once, the new one is returned once.
func (s *Server) handleAppSecret(w http.ResponseWriter, r *http.Request, c *Call) error {
	key, err := appKind.pathKey(r)
	if err != nil {
		return err
	}
	var req secretRotation
	if err := decodeOptionalJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx := r.Context()
	secret := credential.New(credential.PrefixClientSecret)
	var app *callvault.App
	err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		a, err := updateIn(s, ctx, tx, add, c, appKind, key, func(_ callvault.Tx, a *callvault.App) error {
			if a.SecretHash == "" {
				return callvault.Errorf(callvault.EConflict, "app %q is a public client: it has no secret to rotate", a.Name)
			}
			a.SecretHash, a.SecretRotatedAt = credential.Hash(secret), s.stamp()
			return nil
		})
		app = a
		if err != nil || !req.RevokeTokens {
			return err
		}
		return s.revokeAllTokens(ctx, tx, add, c, a)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appWithSecret{App: app, ClientSecret: secret})
	return nil
}

// revokeAllTokens revokes the app's tokens in its home tenant and in
// every tenant that admitted it, with one child record per tenant.
func (s *Server) revokeAllTokens(ctx context.Context, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, a *callvault.App) error {
	tenants := []string{a.TenantID}
	consents, err := tx.ConsentsForApp(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, cs := range consents {
		tenants = append(tenants, cs.TenantID)
	}
	for _, t := range tenants {
		if err := s.revokeTokensIn(tx, add, c, a.ID, a.Name, t); err != nil {
			return err
		}
	}
	return nil
}

// revokeTokensIn revokes every token the app holds in tenant and adds the
// revocation's audit record (in the call's tenant) to the change set.
func (s *Server) revokeTokensIn(tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, appID, appName, tenant string) error {
	now := s.stamp()
	if err := tx.RevokeTokensOfApp(tenant, appID, now); err != nil {
		return err
	}
	rec := s.record(c, callvault.AuditAuth, callvault.EventRevoke, "token", appID, appName)
	details, _ := json.Marshal(map[string]any{"new": map[string]any{"tokensOfApp": appID, "tenantId": tenant, "revokedAt": now}, "old": map[string]any{}})
	rec.Details = string(details)
	add(rec)
	return nil
}

// ---- consents ----

// consentPut is the body of POST .../consents.
type consentPut struct {
	AppID  *string                 `json:"appId"`
	Scopes *[]callvault.Permission `json:"scopes"`
	Roles  *[]string               `json:"roles"`
}

func (in *consentPut) check(tenant string) error {
	if err := required("appId", in.AppID); err != nil {
		return err
	}
	if err := checkRefID("appId", *in.AppID); err != nil {
		return err
	}
	if err := required("scopes", in.Scopes); err != nil {
		return err
	}
	return checkPermissions("scopes", tenant, *in.Scopes)
}

// app returns the app the consent admits, which must exist and have its
// home in another tenant, and checks the scopes and roles against it.
func (in *consentPut) app(ctx context.Context, rd callvault.Reader, tenant string) (*callvault.App, error) {
	a, err := rd.AppByID(ctx, *in.AppID)
	if callvault.IsNotFound(err) {
		return nil, callvault.FieldError("appId", "there is no app %q", *in.AppID)
	}
	if err != nil {
		return nil, err
	}
	if a.TenantID == tenant {
		return nil, callvault.FieldError("appId", "app %q is an app of tenant %q itself: its home tenant needs no consent", a.Name, tenant)
	}
	if err := checkWithin("scopes", *in.Scopes, a.Scopes, "app '"+a.Name+"'"); err != nil {
		return nil, err
	}
	if in.Roles != nil {
		return a, checkRoles(ctx, rd, tenant, "roles", *in.Roles)
	}
	return a, nil
}

// handleConsentPut is POST .../consents: admit another tenant's app, or
// replace the scopes and roles of its consent and clear a revocation.
// 201 when the consent is new, 200 when it replaced one.
func (s *Server) handleConsentPut(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req consentPut
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := req.check(c.Tenant); err != nil {
		return err
	}
	ctx := r.Context()
	var out *callvault.Consent
	status := http.StatusOK
	err := s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		a, err := req.app(ctx, tx, c.Tenant)
		if err != nil {
			return err
		}
		old, err := tx.Consent(ctx, c.Tenant, a.ID)
		if callvault.IsNotFound(err) {
			old, err, status = nil, nil, http.StatusCreated
		}
		if err != nil {
			return err
		}
		now := s.stamp()
		v := &callvault.Consent{TenantID: c.Tenant, AppID: a.ID, AppTenant: a.TenantID, Scopes: nonNil(*req.Scopes),
			Roles: []string{}, CreatedAt: now, UpdatedAt: now}
		if req.Roles != nil {
			v.Roles = nonNil(*req.Roles)
		}
		event := callvault.EventCreate
		if old != nil {
			v.CreatedAt, event = old.CreatedAt, callvault.EventUpdate
		}
		out = v
		rec := changeRecord(s, c, event, consentKind, old, v)
		if rec == nil {
			out = old
			return nil
		}
		if err := tx.PutConsent(v); err != nil {
			return err
		}
		rec.DisplayName = a.Name
		add(rec)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

// handleConsentRevoke is DELETE .../consents/{appId}: the consent is
// revoked (kept, with RevokedAt), and every token the app holds in this
// tenant is revoked at once.
func (s *Server) handleConsentRevoke(w http.ResponseWriter, r *http.Request, c *Call) error {
	appID, err := consentKind.pathKey(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		old, err := tx.Consent(ctx, c.Tenant, appID)
		if err != nil {
			return err
		}
		rec, err := revokeObj(s, tx, c, consentKind, old)
		if err != nil {
			return err
		}
		name := appID
		if a, err := tx.AppByID(ctx, appID); err == nil {
			name = a.Name
		}
		rec.DisplayName = name
		add(rec)
		return s.revokeTokensIn(tx, add, c, appID, name, c.Tenant)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
