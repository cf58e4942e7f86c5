package sqlite

import (
	"context"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlrow"
)

// reader implements callvault.Reader over a querier: the reader pool for
// DB, the writer's transaction for tx. Every tenant-scoped query carries
// tenant_id in its WHERE clause, so another tenant's row reads exactly like
// a missing one.
type reader struct {
	q querier
}

// Tenants.

// Tenant returns the tenant, or ENotFound.
func (r reader) Tenant(ctx context.Context, id string) (*callvault.Tenant, error) {
	return getOne(ctx, r.q, "tenant", id, codec.ScanTenant,
		`SELECT `+sqlrow.TenantCols+` FROM tenants WHERE tenant_id = ?`, id)
}

// Tenants lists every tenant by id.
func (r reader) Tenants(ctx context.Context) ([]*callvault.Tenant, error) {
	return getAll(ctx, r.q, "tenants", codec.ScanTenant, `SELECT `+sqlrow.TenantCols+` FROM tenants ORDER BY tenant_id`)
}

// Sites.

// Site returns a site of the tenant, or ENotFound.
func (r reader) Site(ctx context.Context, tenantID, id string) (*callvault.Site, error) {
	return getOne(ctx, r.q, "site", id, sqlrow.ScanSite,
		`SELECT `+sqlrow.SiteCols+` FROM sites WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// Sites lists the tenant's sites by id.
func (r reader) Sites(ctx context.Context, tenantID string) ([]*callvault.Site, error) {
	return getAll(ctx, r.q, "sites", sqlrow.ScanSite,
		`SELECT `+sqlrow.SiteCols+` FROM sites WHERE tenant_id = ? ORDER BY id`, tenantID)
}

// Users.

// User returns a user of the tenant, or ENotFound.
func (r reader) User(ctx context.Context, tenantID, id string) (*callvault.User, error) {
	return getOne(ctx, r.q, "user", id, codec.ScanUser,
		`SELECT `+sqlrow.UserCols+` FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// UserByLogin finds a user of the tenant by login, case-insensitively, or
// returns ENotFound.
func (r reader) UserByLogin(ctx context.Context, tenantID, login string) (*callvault.User, error) {
	return getOne(ctx, r.q, "user", login, codec.ScanUser,
		`SELECT `+sqlrow.UserCols+` FROM users WHERE tenant_id = ? AND login_key = ?`, tenantID, sqlrow.LoginKey(login))
}

// Users lists the tenant's users by id.
func (r reader) Users(ctx context.Context, tenantID string) ([]*callvault.User, error) {
	return getAll(ctx, r.q, "users", codec.ScanUser,
		`SELECT `+sqlrow.UserCols+` FROM users WHERE tenant_id = ? ORDER BY id`, tenantID)
}

// Roles.

// Role returns a stored role of the tenant, or ENotFound.
func (r reader) Role(ctx context.Context, tenantID, name string) (*callvault.Role, error) {
	return getOne(ctx, r.q, "role", name, codec.ScanRole,
		`SELECT `+sqlrow.RoleCols+` FROM roles WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

// Roles lists the tenant's stored roles by name.
func (r reader) Roles(ctx context.Context, tenantID string) ([]*callvault.Role, error) {
	return getAll(ctx, r.q, "roles", codec.ScanRole,
		`SELECT `+sqlrow.RoleCols+` FROM roles WHERE tenant_id = ? ORDER BY name`, tenantID)
}

// Licenses.

// License returns a license of the tenant, or ENotFound.
func (r reader) License(ctx context.Context, tenantID, name string) (*callvault.License, error) {
	return getOne(ctx, r.q, "license", name, codec.ScanLicense,
		`SELECT `+sqlrow.LicenseCols+` FROM licenses WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

// Licenses lists the tenant's licenses by name.
func (r reader) Licenses(ctx context.Context, tenantID string) ([]*callvault.License, error) {
	return getAll(ctx, r.q, "licenses", codec.ScanLicense,
		`SELECT `+sqlrow.LicenseCols+` FROM licenses WHERE tenant_id = ? ORDER BY name`, tenantID)
}

// Apps.

// App returns an app whose home tenant is tenantID, or ENotFound.
func (r reader) App(ctx context.Context, tenantID, id string) (*callvault.App, error) {
	return getOne(ctx, r.q, "app", id, codec.ScanApp,
		`SELECT `+sqlrow.AppCols+` FROM apps WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// AppByID finds an app by client id in any tenant, or returns ENotFound.
func (r reader) AppByID(ctx context.Context, id string) (*callvault.App, error) {
	return getOne(ctx, r.q, "app", id, codec.ScanApp,
		`SELECT `+sqlrow.AppCols+` FROM apps WHERE id = ?`, id)
}

// Apps lists the apps whose home is the tenant, by id.
func (r reader) Apps(ctx context.Context, tenantID string) ([]*callvault.App, error) {
	return getAll(ctx, r.q, "apps", codec.ScanApp,
		`SELECT `+sqlrow.AppCols+` FROM apps WHERE tenant_id = ? ORDER BY id`, tenantID)
}

// Consents.

// Consent returns the tenant's consent for the app, revoked or not, or
// ENotFound.
func (r reader) Consent(ctx context.Context, tenantID, appID string) (*callvault.Consent, error) {
	return getOne(ctx, r.q, "consent for app", appID, codec.ScanConsent,
		`SELECT `+sqlrow.ConsentCols+` FROM consents WHERE tenant_id = ? AND app_id = ?`, tenantID, appID)
}

// Consents lists the tenant's consents by app id.
func (r reader) Consents(ctx context.Context, tenantID string) ([]*callvault.Consent, error) {
	return getAll(ctx, r.q, "consents", codec.ScanConsent,
		`SELECT `+sqlrow.ConsentCols+` FROM consents WHERE tenant_id = ? ORDER BY app_id`, tenantID)
}

// ConsentsForApp lists the consents given to the app by any tenant, by
// tenant id.
func (r reader) ConsentsForApp(ctx context.Context, appID string) ([]*callvault.Consent, error) {
	return getAll(ctx, r.q, "consents", codec.ScanConsent,
		`SELECT `+sqlrow.ConsentCols+` FROM consents WHERE app_id = ? ORDER BY tenant_id`, appID)
}

// API keys.

// APIKey returns a key of the tenant, or ENotFound.
func (r reader) APIKey(ctx context.Context, tenantID, id string) (*callvault.APIKey, error) {
	return getOne(ctx, r.q, "api key", id, codec.ScanAPIKey,
		`SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// APIKeys lists the tenant's keys by id.
func (r reader) APIKeys(ctx context.Context, tenantID string) ([]*callvault.APIKey, error) {
	return getAll(ctx, r.q, "api keys", codec.ScanAPIKey,
		`SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE tenant_id = ? ORDER BY id`, tenantID)
}

// APIKeyByHash finds a key by the SHA-256 of its text, or returns ENotFound.
// The error never repeats the hash.
func (r reader) APIKeyByHash(ctx context.Context, hash string) (*callvault.APIKey, error) {
	return getOne(ctx, r.q, "api key", "", codec.ScanAPIKey,
		`SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE hash = ?`, hash)
}

// Tokens.

// Token finds a token by its hash, or returns ENotFound. The error never
// repeats the hash.
func (r reader) Token(ctx context.Context, hash string) (*callvault.Token, error) {
	return getOne(ctx, r.q, "token", "", codec.ScanToken,
		`SELECT `+sqlrow.TokenCols+` FROM tokens WHERE hash = ?`, hash)
}

// JWT credentials.

// JWTCredential returns a JWT credential of the tenant, or ENotFound.
func (r reader) JWTCredential(ctx context.Context, tenantID, id string) (*callvault.JWTCredential, error) {
	return getOne(ctx, r.q, "jwt credential", id, sqlrow.ScanJWT,
		`SELECT `+sqlrow.JWTCols+` FROM jwt_credentials WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// JWTCredentials lists the tenant's JWT credentials by id.
func (r reader) JWTCredentials(ctx context.Context, tenantID string) ([]*callvault.JWTCredential, error) {
	return getAll(ctx, r.q, "jwt credentials", sqlrow.ScanJWT,
		`SELECT `+sqlrow.JWTCols+` FROM jwt_credentials WHERE tenant_id = ? ORDER BY id`, tenantID)
}
