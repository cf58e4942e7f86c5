package postgres

import (
	"context"
	"strings"

	"github.com/callvault/callvault/internal/callvault"
)

// reader implements callvault.Reader over a querier: the reader pool for
// DB, the writer's transaction for tx. Every tenant-scoped query carries
// tenant_id in its WHERE clause, so another tenant's row reads exactly like
// a missing one.
type reader struct {
	q querier
}

// notFound is the ENotFound error for a missing object; an empty key (a
// credential hash) is not repeated.
func notFound(what, key string) error {
	if key == "" {
		return callvault.Errorf(callvault.ENotFound, "%s not found", what)
	}
	return callvault.Errorf(callvault.ENotFound, "%s %q not found", what, key)
}

// Tenants.

const tenantCols = `tenant_id, name, region, timezone, retention_days, audit_retention_days,
	allowed_client_regions, legal_hold, created_at, updated_at`

func scanTenant(sc scanner) (*callvault.Tenant, error) {
	var t callvault.Tenant
	err := sc.Scan(&t.ID, &t.Name, &t.Region, &t.Timezone, &t.RetentionDays, &t.AuditRetentionDays,
		&t.AllowedClientRegions, &t.LegalHold, tm(&t.CreatedAt), tm(&t.UpdatedAt))
	return &t, err
}

// Tenant returns the tenant, or ENotFound.
func (r reader) Tenant(ctx context.Context, id string) (*callvault.Tenant, error) {
	return getOne(ctx, r.q, "tenant", id, scanTenant,
		`SELECT `+tenantCols+` FROM tenants WHERE tenant_id = $1`, id)
}

// Tenants lists every tenant by id.
func (r reader) Tenants(ctx context.Context) ([]*callvault.Tenant, error) {
	return getAll(ctx, r.q, "tenants", scanTenant, `SELECT `+tenantCols+` FROM tenants ORDER BY tenant_id`)
}

// Sites.

const siteCols = `tenant_id, id, name, created_at, updated_at`

func scanSite(sc scanner) (*callvault.Site, error) {
	var s callvault.Site
	err := sc.Scan(&s.TenantID, &s.ID, &s.Name, tm(&s.CreatedAt), tm(&s.UpdatedAt))
	return &s, err
}

// Site returns a site of the tenant, or ENotFound.
func (r reader) Site(ctx context.Context, tenantID, id string) (*callvault.Site, error) {
	return getOne(ctx, r.q, "site", id, scanSite,
		`SELECT `+siteCols+` FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// Sites lists the tenant's sites by id.
func (r reader) Sites(ctx context.Context, tenantID string) ([]*callvault.Site, error) {
	return getAll(ctx, r.q, "sites", scanSite,
		`SELECT `+siteCols+` FROM sites WHERE tenant_id = $1 ORDER BY id`, tenantID)
}

// Users.

const userCols = `tenant_id, id, login, name, email, password_hash, extension, home_site_id, license,
	access_levels, roles, site_scope, status, created_at, updated_at`

func scanUser(sc scanner) (*callvault.User, error) {
	var u callvault.User
	err := sc.Scan(&u.TenantID, &u.ID, &u.Login, &u.Name, &u.Email, &u.PasswordHash, &u.Extension,
		&u.HomeSiteID, &u.License, &u.AccessLevels, &u.Roles, &u.SiteScope, &u.Status,
		tm(&u.CreatedAt), tm(&u.UpdatedAt))
	return &u, err
}

// loginKey is the form of a login that is unique per tenant.
func loginKey(login string) string { return strings.ToLower(login) }

// User returns a user of the tenant, or ENotFound.
func (r reader) User(ctx context.Context, tenantID, id string) (*callvault.User, error) {
	return getOne(ctx, r.q, "user", id, scanUser,
		`SELECT `+userCols+` FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// UserByLogin finds a user of the tenant by login, case-insensitively, or
// returns ENotFound.
func (r reader) UserByLogin(ctx context.Context, tenantID, login string) (*callvault.User, error) {
	return getOne(ctx, r.q, "user", login, scanUser,
		`SELECT `+userCols+` FROM users WHERE tenant_id = $1 AND login_key = $2`, tenantID, loginKey(login))
}

// Users lists the tenant's users by id.
func (r reader) Users(ctx context.Context, tenantID string) ([]*callvault.User, error) {
	return getAll(ctx, r.q, "users", scanUser,
		`SELECT `+userCols+` FROM users WHERE tenant_id = $1 ORDER BY id`, tenantID)
}

// Roles.

const roleCols = `tenant_id, name, description, permissions, built_in, created_at, updated_at`

func scanRole(sc scanner) (*callvault.Role, error) {
	var x callvault.Role
	err := sc.Scan(&x.TenantID, &x.Name, &x.Description, &x.Permissions, &x.BuiltIn, tm(&x.CreatedAt), tm(&x.UpdatedAt))
	return &x, err
}

// Role returns a stored role of the tenant, or ENotFound.
func (r reader) Role(ctx context.Context, tenantID, name string) (*callvault.Role, error) {
	return getOne(ctx, r.q, "role", name, scanRole,
		`SELECT `+roleCols+` FROM roles WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

// Roles lists the tenant's stored roles by name.
func (r reader) Roles(ctx context.Context, tenantID string) ([]*callvault.Role, error) {
	return getAll(ctx, r.q, "roles", scanRole,
		`SELECT `+roleCols+` FROM roles WHERE tenant_id = $1 ORDER BY name`, tenantID)
}

// Licenses.

const licenseCols = `tenant_id, name, features, created_at, updated_at`

func scanLicense(sc scanner) (*callvault.License, error) {
	var l callvault.License
	err := sc.Scan(&l.TenantID, &l.Name, &l.Features, tm(&l.CreatedAt), tm(&l.UpdatedAt))
	return &l, err
}

// License returns a license of the tenant, or ENotFound.
func (r reader) License(ctx context.Context, tenantID, name string) (*callvault.License, error) {
	return getOne(ctx, r.q, "license", name, scanLicense,
		`SELECT `+licenseCols+` FROM licenses WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

// Licenses lists the tenant's licenses by name.
func (r reader) Licenses(ctx context.Context, tenantID string) ([]*callvault.License, error) {
	return getAll(ctx, r.q, "licenses", scanLicense,
		`SELECT `+licenseCols+` FROM licenses WHERE tenant_id = $1 ORDER BY name`, tenantID)
}

// Apps.

const appCols = `tenant_id, id, name, secret_hash, grants, scopes, roles, redirect_uris,
	secret_rotated_at, created_at, updated_at`

func scanApp(sc scanner) (*callvault.App, error) {
	var a callvault.App
	err := sc.Scan(&a.TenantID, &a.ID, &a.Name, &a.SecretHash, &a.Grants, &a.Scopes, &a.Roles,
		&a.RedirectURIs, tm(&a.SecretRotatedAt), tm(&a.CreatedAt), tm(&a.UpdatedAt))
	return &a, err
}

// App returns an app whose home tenant is tenantID, or ENotFound.
func (r reader) App(ctx context.Context, tenantID, id string) (*callvault.App, error) {
	return getOne(ctx, r.q, "app", id, scanApp,
		`SELECT `+appCols+` FROM apps WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// AppByID finds an app by client id in any tenant, or returns ENotFound.
func (r reader) AppByID(ctx context.Context, id string) (*callvault.App, error) {
	return getOne(ctx, r.q, "app", id, scanApp,
		`SELECT `+appCols+` FROM apps WHERE id = $1`, id)
}

// Apps lists the apps whose home is the tenant, by id.
func (r reader) Apps(ctx context.Context, tenantID string) ([]*callvault.App, error) {
	return getAll(ctx, r.q, "apps", scanApp,
		`SELECT `+appCols+` FROM apps WHERE tenant_id = $1 ORDER BY id`, tenantID)
}

// Consents.

const consentCols = `tenant_id, app_id, app_tenant_id, scopes, roles, created_at, updated_at, revoked_at`

func scanConsent(sc scanner) (*callvault.Consent, error) {
	var c callvault.Consent
	err := sc.Scan(&c.TenantID, &c.AppID, &c.AppTenant, &c.Scopes, &c.Roles,
		tm(&c.CreatedAt), tm(&c.UpdatedAt), tm(&c.RevokedAt))
	return &c, err
}

// Consent returns the tenant's consent for the app, revoked or not, or
// ENotFound.
func (r reader) Consent(ctx context.Context, tenantID, appID string) (*callvault.Consent, error) {
	return getOne(ctx, r.q, "consent for app", appID, scanConsent,
		`SELECT `+consentCols+` FROM consents WHERE tenant_id = $1 AND app_id = $2`, tenantID, appID)
}

// Consents lists the tenant's consents by app id.
func (r reader) Consents(ctx context.Context, tenantID string) ([]*callvault.Consent, error) {
	return getAll(ctx, r.q, "consents", scanConsent,
		`SELECT `+consentCols+` FROM consents WHERE tenant_id = $1 ORDER BY app_id`, tenantID)
}

// ConsentsForApp lists the consents given to the app by any tenant, by
// tenant id.
func (r reader) ConsentsForApp(ctx context.Context, appID string) ([]*callvault.Consent, error) {
	return getAll(ctx, r.q, "consents", scanConsent,
		`SELECT `+consentCols+` FROM consents WHERE app_id = $1 ORDER BY tenant_id`, appID)
}

// API keys.

const apiKeyCols = `tenant_id, id, name, hash, hint, subject_kind, subject_id, scopes,
	created_at, expires_at, revoked_at, last_used_at`

func scanAPIKey(sc scanner) (*callvault.APIKey, error) {
	var k callvault.APIKey
	err := sc.Scan(&k.TenantID, &k.ID, &k.Name, &k.Hash, &k.Hint, &k.SubjectKind, &k.SubjectID, &k.Scopes,
		tm(&k.CreatedAt), tm(&k.ExpiresAt), tm(&k.RevokedAt), tm(&k.LastUsedAt))
	return &k, err
}

// APIKey returns a key of the tenant, or ENotFound.
func (r reader) APIKey(ctx context.Context, tenantID, id string) (*callvault.APIKey, error) {
	return getOne(ctx, r.q, "api key", id, scanAPIKey,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// APIKeys lists the tenant's keys by id.
func (r reader) APIKeys(ctx context.Context, tenantID string) ([]*callvault.APIKey, error) {
	return getAll(ctx, r.q, "api keys", scanAPIKey,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = $1 ORDER BY id`, tenantID)
}

// APIKeyByHash finds a key by the SHA-256 of its text, or returns ENotFound.
// The error never repeats the hash.
func (r reader) APIKeyByHash(ctx context.Context, hash string) (*callvault.APIKey, error) {
	return getOne(ctx, r.q, "api key", "", scanAPIKey,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash)
}

// Tokens.

const tokenCols = `tenant_id, hash, kind, app_id, user_id, scopes, grant_type, family_id,
	issued_at, expires_at, revoked_at`

func scanToken(sc scanner) (*callvault.Token, error) {
	var t callvault.Token
	err := sc.Scan(&t.TenantID, &t.Hash, &t.Kind, &t.AppID, &t.UserID, &t.Scopes, &t.Grant, &t.FamilyID,
		tm(&t.IssuedAt), tm(&t.ExpiresAt), tm(&t.RevokedAt))
	return &t, err
}

// Token finds a token by its hash, or returns ENotFound. The error never
// repeats the hash.
func (r reader) Token(ctx context.Context, hash string) (*callvault.Token, error) {
	return getOne(ctx, r.q, "token", "", scanToken,
		`SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash)
}

// JWT credentials.

const jwtCols = `tenant_id, id, user_id, app_id, name, created_at, expires_at, revoked_at`

func scanJWT(sc scanner) (*callvault.JWTCredential, error) {
	var c callvault.JWTCredential
	err := sc.Scan(&c.TenantID, &c.ID, &c.UserID, &c.AppID, &c.Name, tm(&c.CreatedAt), tm(&c.ExpiresAt), tm(&c.RevokedAt))
	return &c, err
}

// JWTCredential returns a JWT credential of the tenant, or ENotFound.
func (r reader) JWTCredential(ctx context.Context, tenantID, id string) (*callvault.JWTCredential, error) {
	return getOne(ctx, r.q, "jwt credential", id, scanJWT,
		`SELECT `+jwtCols+` FROM jwt_credentials WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// JWTCredentials lists the tenant's JWT credentials by id.
func (r reader) JWTCredentials(ctx context.Context, tenantID string) ([]*callvault.JWTCredential, error) {
	return getAll(ctx, r.q, "jwt credentials", scanJWT,
		`SELECT `+jwtCols+` FROM jwt_credentials WHERE tenant_id = $1 ORDER BY id`, tenantID)
}
