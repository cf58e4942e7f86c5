package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlrow"
)

// tx implements callvault.Tx over a BEGIN IMMEDIATE transaction on the
// writer. Its reads see its own writes.
//
// Creates fail with EConflict on a duplicate key and with ENotFound when the
// tenant does not exist. Updates replace every field of the row except its
// key and CreatedAt, which keeps the value it was created with; updates and
// deletes fail with ENotFound when the tenant has no such row.
type tx struct {
	reader
	ctx  context.Context
	tx   *sql.Tx
	conn *sql.Conn       // the connection tx runs on
	now  callvault.Clock // for IngestedAt and ReceivedAt
}

// exec runs a statement and returns the number of rows it matched.
func (t *tx) exec(query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// errs classifies the engine's errors for sqlrow's Create and Change.
var errs = sqlrow.Errors{IsUnique: isUnique, IsForeignKey: isForeignKey, DB: dbError}

// create runs an INSERT of what with the given key in tenantID.
func (t *tx) create(what, key, tenantID, query string, args ...any) error {
	_, err := t.exec(query, args...)
	return errs.Create(what, key, tenantID, err)
}

// change runs an UPDATE or DELETE of one row of what; no row gives
// ENotFound.
func (t *tx) change(verb, what, key, query string, args ...any) error {
	n, err := t.exec(query, args...)
	return errs.Change(verb, what, key, n, err)
}

// Tenants.

// CreateTenant stores a new tenant; EConflict if the id exists.
func (t *tx) CreateTenant(x *callvault.Tenant) error {
	if x == nil {
		return sqlrow.NilArg("tenant")
	}
	if err := sqlrow.Required("id", x.ID); err != nil {
		return err
	}
	return t.create("tenant", x.ID, x.ID, `INSERT INTO tenants (`+sqlrow.TenantCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.Name, x.Region, x.Timezone, x.RetentionDays, x.AuditRetentionDays,
		js(&x.AllowedClientRegions), x.LegalHold, sqlrow.Time(&x.CreatedAt), sqlrow.Time(&x.UpdatedAt))
}

// UpdateTenant replaces a tenant; ENotFound if it does not exist.
func (t *tx) UpdateTenant(x *callvault.Tenant) error {
	if x == nil {
		return sqlrow.NilArg("tenant")
	}
	return t.change("update", "tenant", x.ID, `UPDATE tenants SET name = ?, region = ?, timezone = ?, retention_days = ?,
		audit_retention_days = ?, allowed_client_regions = ?, legal_hold = ?, updated_at = ? WHERE tenant_id = ?`,
		x.Name, x.Region, x.Timezone, x.RetentionDays, x.AuditRetentionDays,
		js(&x.AllowedClientRegions), x.LegalHold, sqlrow.Time(&x.UpdatedAt), x.ID)
}

// DeleteTenant deletes the tenant and every row it owns: sites, users,
// roles, licenses, apps, consents, API keys, tokens, JWT credentials, and
// its call data (call records, recordings' metadata, live calls and call
// events; removing recording blobs is the caller's business).
// The tenant's apps are gone, so the consents other tenants gave them and
// the tokens issued to them in other tenants are deleted too.
//
// The tenant's audit records, chain head and checkpoints are kept: the audit
// trail is the evidence of what happened, including the deletion itself, and
// has its own retention. A tenant created again with the same id continues
// the old chain, and the old ingest and event sequences (call_heads), so no
// snapshot taken before the deletion covers new records. ENotFound if the
// tenant does not exist.
func (t *tx) DeleteTenant(id string) error {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM tenants WHERE tenant_id = ?`, id).Scan(&n); err != nil {
		return dbError("delete tenant", err)
	}
	if n == 0 {
		return sqlrow.NotFound("tenant", id)
	}
	stmts := []string{
		`DELETE FROM tokens WHERE app_id IN (SELECT id FROM apps WHERE tenant_id = ?)`,
		`DELETE FROM consents WHERE app_id IN (SELECT id FROM apps WHERE tenant_id = ?)`,
	}
	// Every table of tenant-scoped configuration, credentials and call data. A table
	// missing here makes the final delete fail on its foreign key.
	for _, table := range []string{"tokens", "consents", "api_keys", "jwt_credentials", "apps", "users", "roles", "licenses", "sites",
		"call_events", "active_calls", "recordings", "calls"} {
		stmts = append(stmts, `DELETE FROM `+table+` WHERE tenant_id = ?`)
	}
	stmts = append(stmts, `DELETE FROM tenants WHERE tenant_id = ?`)
	for _, s := range stmts {
		if _, err := t.exec(s, id); err != nil {
			return dbError("delete tenant", err)
		}
	}
	return nil
}

// Sites.

// CreateSite stores a new site; EConflict if the id exists in the tenant.
func (t *tx) CreateSite(s *callvault.Site) error {
	if s == nil {
		return sqlrow.NilArg("site")
	}
	if err := sqlrow.Required("id", s.ID); err != nil {
		return err
	}
	return t.create("site", s.ID, s.TenantID, `INSERT INTO sites (`+sqlrow.SiteCols+`) VALUES (?, ?, ?, ?, ?)`,
		s.TenantID, s.ID, s.Name, sqlrow.Time(&s.CreatedAt), sqlrow.Time(&s.UpdatedAt))
}

// UpdateSite replaces a site; ENotFound if the tenant has no such site.
func (t *tx) UpdateSite(s *callvault.Site) error {
	if s == nil {
		return sqlrow.NilArg("site")
	}
	return t.change("update", "site", s.ID, `UPDATE sites SET name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		s.Name, sqlrow.Time(&s.UpdatedAt), s.TenantID, s.ID)
}

// DeleteSite deletes a site; ENotFound if the tenant has no such site.
func (t *tx) DeleteSite(tenantID, id string) error {
	return t.change("delete", "site", id, `DELETE FROM sites WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// Users.

// isLoginConflict reports whether err violates the unique login index.
func isLoginConflict(err error) bool {
	return isUnique(err) && strings.Contains(err.Error(), "login_key")
}

// CreateUser stores a new user; EConflict if the id exists in the tenant,
// or EConflict with Field "login" if the login is taken in the tenant
// (case-insensitively).
func (t *tx) CreateUser(u *callvault.User) error {
	if u == nil {
		return sqlrow.NilArg("user")
	}
	if err := sqlrow.Required("id", u.ID); err != nil {
		return err
	}
	if err := sqlrow.Required("login", u.Login); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO users (`+sqlrow.UserCols+`, login_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.TenantID, u.ID, u.Login, u.Name, u.Email, u.PasswordHash, u.Extension, u.HomeSiteID, u.License,
		js(&u.AccessLevels), js(&u.Roles), js(&u.SiteScope), u.Status, sqlrow.Time(&u.CreatedAt), sqlrow.Time(&u.UpdatedAt),
		sqlrow.LoginKey(u.Login))
	if isLoginConflict(err) {
		return sqlrow.LoginTaken(u.Login)
	}
	return errs.Create("user", u.ID, u.TenantID, err)
}

// UpdateUser replaces a user; ENotFound if the tenant has no such user,
// EConflict with Field "login" if the new login is taken.
func (t *tx) UpdateUser(u *callvault.User) error {
	if u == nil {
		return sqlrow.NilArg("user")
	}
	if err := sqlrow.Required("login", u.Login); err != nil {
		return err
	}
	n, err := t.exec(`UPDATE users SET login = ?, login_key = ?, name = ?, email = ?, password_hash = ?, extension = ?,
		home_site_id = ?, license = ?, access_levels = ?, roles = ?, site_scope = ?, status = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		u.Login, sqlrow.LoginKey(u.Login), u.Name, u.Email, u.PasswordHash, u.Extension, u.HomeSiteID, u.License,
		js(&u.AccessLevels), js(&u.Roles), js(&u.SiteScope), u.Status, sqlrow.Time(&u.UpdatedAt), u.TenantID, u.ID)
	switch {
	case isLoginConflict(err):
		return sqlrow.LoginTaken(u.Login)
	case err != nil:
		return dbError("update user", err)
	case n == 0:
		return sqlrow.NotFound("user", u.ID)
	}
	return nil
}

// DeleteUser deletes a user; ENotFound if the tenant has no such user. The
// user's credentials are left for the caller to revoke; they no longer
// authenticate, since their subject is gone.
func (t *tx) DeleteUser(tenantID, id string) error {
	return t.change("delete", "user", id, `DELETE FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// Roles.

// CreateRole stores a new custom role; EConflict if the name exists in the
// tenant.
func (t *tx) CreateRole(r *callvault.Role) error {
	if r == nil {
		return sqlrow.NilArg("role")
	}
	if err := sqlrow.Required("name", r.Name); err != nil {
		return err
	}
	return t.create("role", r.Name, r.TenantID, `INSERT INTO roles (`+sqlrow.RoleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.TenantID, r.Name, r.Description, js(&r.Permissions), r.BuiltIn, sqlrow.Time(&r.CreatedAt), sqlrow.Time(&r.UpdatedAt))
}

// UpdateRole replaces a role; ENotFound if the tenant has no such role.
func (t *tx) UpdateRole(r *callvault.Role) error {
	if r == nil {
		return sqlrow.NilArg("role")
	}
	return t.change("update", "role", r.Name, `UPDATE roles SET description = ?, permissions = ?, built_in = ?, updated_at = ?
		WHERE tenant_id = ? AND name = ?`,
		r.Description, js(&r.Permissions), r.BuiltIn, sqlrow.Time(&r.UpdatedAt), r.TenantID, r.Name)
}

// DeleteRole deletes a role; ENotFound if the tenant has no such role.
func (t *tx) DeleteRole(tenantID, name string) error {
	return t.change("delete", "role", name, `DELETE FROM roles WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

// Licenses.

// CreateLicense stores a new license; EConflict if the name exists in the
// tenant.
func (t *tx) CreateLicense(l *callvault.License) error {
	if l == nil {
		return sqlrow.NilArg("license")
	}
	if err := sqlrow.Required("name", l.Name); err != nil {
		return err
	}
	return t.create("license", l.Name, l.TenantID, `INSERT INTO licenses (`+sqlrow.LicenseCols+`) VALUES (?, ?, ?, ?, ?)`,
		l.TenantID, l.Name, js(&l.Features), sqlrow.Time(&l.CreatedAt), sqlrow.Time(&l.UpdatedAt))
}

// UpdateLicense replaces a license; ENotFound if the tenant has no such
// license.
func (t *tx) UpdateLicense(l *callvault.License) error {
	if l == nil {
		return sqlrow.NilArg("license")
	}
	return t.change("update", "license", l.Name, `UPDATE licenses SET features = ?, updated_at = ? WHERE tenant_id = ? AND name = ?`,
		js(&l.Features), sqlrow.Time(&l.UpdatedAt), l.TenantID, l.Name)
}

// DeleteLicense deletes a license; ENotFound if the tenant has no such
// license.
func (t *tx) DeleteLicense(tenantID, name string) error {
	return t.change("delete", "license", name, `DELETE FROM licenses WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

// Apps.

// CreateApp stores a new app in its home tenant; EConflict if the client id
// exists in any tenant (client ids are global).
func (t *tx) CreateApp(a *callvault.App) error {
	if a == nil {
		return sqlrow.NilArg("app")
	}
	if err := sqlrow.Required("clientId", a.ID); err != nil {
		return err
	}
	return t.create("app", a.ID, a.TenantID, `INSERT INTO apps (`+sqlrow.AppCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.TenantID, a.ID, a.Name, a.SecretHash, js(&a.Grants), js(&a.Scopes), js(&a.Roles), js(&a.RedirectURIs),
		sqlrow.Time(&a.SecretRotatedAt), sqlrow.Time(&a.CreatedAt), sqlrow.Time(&a.UpdatedAt))
}

// UpdateApp replaces an app; ENotFound if its home tenant has no such app.
func (t *tx) UpdateApp(a *callvault.App) error {
	if a == nil {
		return sqlrow.NilArg("app")
	}
	return t.change("update", "app", a.ID, `UPDATE apps SET name = ?, secret_hash = ?, grants = ?, scopes = ?, roles = ?,
		redirect_uris = ?, secret_rotated_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		a.Name, a.SecretHash, js(&a.Grants), js(&a.Scopes), js(&a.Roles), js(&a.RedirectURIs),
		sqlrow.Time(&a.SecretRotatedAt), sqlrow.Time(&a.UpdatedAt), a.TenantID, a.ID)
}

// DeleteApp deletes an app of its home tenant, the consents any tenant gave
// it and every token issued to it; ENotFound if the tenant has no such app.
func (t *tx) DeleteApp(tenantID, id string) error {
	if err := t.change("delete", "app", id, `DELETE FROM apps WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return err
	}
	for _, s := range []string{`DELETE FROM consents WHERE app_id = ?`, `DELETE FROM tokens WHERE app_id = ?`} {
		if _, err := t.exec(s, id); err != nil {
			return dbError("delete app", err)
		}
	}
	return nil
}

// Consents.

// PutConsent creates the tenant's consent for the app, or replaces every
// field of the existing one but CreatedAt.
func (t *tx) PutConsent(c *callvault.Consent) error {
	if c == nil {
		return sqlrow.NilArg("consent")
	}
	if err := sqlrow.Required("appId", c.AppID); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO consents (`+sqlrow.ConsentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, app_id) DO UPDATE SET app_tenant_id = excluded.app_tenant_id,
			scopes = excluded.scopes, roles = excluded.roles, updated_at = excluded.updated_at,
			revoked_at = excluded.revoked_at`,
		c.TenantID, c.AppID, c.AppTenant, js(&c.Scopes), js(&c.Roles), sqlrow.Time(&c.CreatedAt), sqlrow.Time(&c.UpdatedAt), sqlrow.Time(&c.RevokedAt))
	return errs.Create("consent for app", c.AppID, c.TenantID, err)
}

// DeleteConsent deletes the tenant's consent for the app; ENotFound if there
// is none.
func (t *tx) DeleteConsent(tenantID, appID string) error {
	return t.change("delete", "consent for app", appID, `DELETE FROM consents WHERE tenant_id = ? AND app_id = ?`, tenantID, appID)
}

// API keys.

// CreateAPIKey stores a new key; EConflict if the id exists in the tenant or
// the hash exists anywhere.
func (t *tx) CreateAPIKey(k *callvault.APIKey) error {
	if k == nil {
		return sqlrow.NilArg("api key")
	}
	if err := sqlrow.Required("id", k.ID); err != nil {
		return err
	}
	if err := sqlrow.Required("hash", k.Hash); err != nil {
		return err
	}
	return t.create("api key", k.ID, k.TenantID, `INSERT INTO api_keys (`+sqlrow.APIKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.TenantID, k.ID, k.Name, k.Hash, k.Hint, k.SubjectKind, k.SubjectID, js(&k.Scopes),
		sqlrow.Time(&k.CreatedAt), sqlrow.Time(&k.ExpiresAt), sqlrow.Time(&k.RevokedAt), sqlrow.Time(&k.LastUsedAt))
}

// UpdateAPIKey replaces a key; ENotFound if the tenant has no such key.
func (t *tx) UpdateAPIKey(k *callvault.APIKey) error {
	if k == nil {
		return sqlrow.NilArg("api key")
	}
	return t.change("update", "api key", k.ID, `UPDATE api_keys SET name = ?, hash = ?, hint = ?, subject_kind = ?,
		subject_id = ?, scopes = ?, expires_at = ?, revoked_at = ?, last_used_at = ? WHERE tenant_id = ? AND id = ?`,
		k.Name, k.Hash, k.Hint, k.SubjectKind, k.SubjectID, js(&k.Scopes),
		sqlrow.Time(&k.ExpiresAt), sqlrow.Time(&k.RevokedAt), sqlrow.Time(&k.LastUsedAt), k.TenantID, k.ID)
}

// DeleteAPIKey deletes a key; ENotFound if the tenant has no such key.
func (t *tx) DeleteAPIKey(tenantID, id string) error {
	return t.change("delete", "api key", id, `DELETE FROM api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// Tokens.

// CreateToken stores an issued token; EConflict if the hash exists.
func (t *tx) CreateToken(x *callvault.Token) error {
	if x == nil {
		return sqlrow.NilArg("token")
	}
	if err := sqlrow.Required("hash", x.Hash); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO tokens (`+sqlrow.TokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.TenantID, x.Hash, x.Kind, x.AppID, x.UserID, js(&x.Scopes), x.Grant, x.FamilyID,
		sqlrow.Time(&x.IssuedAt), sqlrow.Time(&x.ExpiresAt), sqlrow.Time(&x.RevokedAt))
	if isUnique(err) {
		return callvault.Errorf(callvault.EConflict, "token already exists")
	}
	return errs.Create("token", "", x.TenantID, err)
}

// RevokeToken marks the token revoked at the given time, unless it already
// is (the first revocation time stays); ENotFound if the hash is unknown.
func (t *tx) RevokeToken(hash string, at time.Time) error {
	if err := sqlrow.RevokeTime(at); err != nil {
		return err
	}
	return t.change("revoke", "token", "", `UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE hash = ?`, sqlrow.Time(&at), hash)
}

// RevokeTokenFamily revokes every unrevoked token of the refresh family in
// the tenant. A family without tokens is not an error.
func (t *tx) RevokeTokenFamily(tenantID, familyID string, at time.Time) error {
	if err := sqlrow.RevokeTime(at); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE tokens SET revoked_at = ? WHERE tenant_id = ? AND family_id = ? AND revoked_at IS NULL`,
		sqlrow.Time(&at), tenantID, familyID); err != nil {
		return dbError("revoke token family", err)
	}
	return nil
}

// RevokeTokensOfApp revokes every unrevoked token the app holds in the
// tenant. An app without tokens is not an error.
func (t *tx) RevokeTokensOfApp(tenantID, appID string, at time.Time) error {
	if err := sqlrow.RevokeTime(at); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE tokens SET revoked_at = ? WHERE tenant_id = ? AND app_id = ? AND revoked_at IS NULL`,
		sqlrow.Time(&at), tenantID, appID); err != nil {
		return dbError("revoke tokens of app", err)
	}
	return nil
}

// JWT credentials.

// CreateJWTCredential stores a new JWT credential; EConflict if the id
// exists in the tenant.
func (t *tx) CreateJWTCredential(c *callvault.JWTCredential) error {
	if c == nil {
		return sqlrow.NilArg("jwt credential")
	}
	if err := sqlrow.Required("id", c.ID); err != nil {
		return err
	}
	return t.create("jwt credential", c.ID, c.TenantID, `INSERT INTO jwt_credentials (`+sqlrow.JWTCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.TenantID, c.ID, c.UserID, c.AppID, c.Name, sqlrow.Time(&c.CreatedAt), sqlrow.Time(&c.ExpiresAt), sqlrow.Time(&c.RevokedAt))
}

// UpdateJWTCredential replaces a JWT credential; ENotFound if the tenant has
// no such credential.
func (t *tx) UpdateJWTCredential(c *callvault.JWTCredential) error {
	if c == nil {
		return sqlrow.NilArg("jwt credential")
	}
	return t.change("update", "jwt credential", c.ID, `UPDATE jwt_credentials SET user_id = ?, app_id = ?, name = ?,
		expires_at = ?, revoked_at = ? WHERE tenant_id = ? AND id = ?`,
		c.UserID, c.AppID, c.Name, sqlrow.Time(&c.ExpiresAt), sqlrow.Time(&c.RevokedAt), c.TenantID, c.ID)
}
