package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlrow"
)

// tx implements callvault.Tx over a READ COMMITTED transaction. Its reads
// see its own writes.
//
// Creates fail with EConflict on a duplicate key and with ENotFound when the
// tenant does not exist. Updates replace every field of the row except its
// key and CreatedAt, which keeps the value it was created with; updates and
// deletes fail with ENotFound when the tenant has no such row.
type tx struct {
	reader
	ctx context.Context
	tx  pgx.Tx
	now callvault.Clock // for IngestedAt and ReceivedAt
}

// exec runs one statement inside a savepoint and returns the number of rows
// it matched. The savepoint, the statement and the release go in one round
// trip; when the statement fails, the transaction is rolled back to the
// savepoint, so it stays usable (PostgreSQL would otherwise abort it).
func (t *tx) exec(query string, args ...any) (int64, error) {
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT cv_stmt`)
	b.Queue(query, args...)
	b.Queue(`RELEASE SAVEPOINT cv_stmt`)
	br := t.tx.SendBatch(t.ctx, b)
	_, err := br.Exec()
	if err != nil {
		br.Close()
		return 0, err
	}
	tag, err := br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if _, rerr := t.tx.Exec(t.ctx, `ROLLBACK TO SAVEPOINT cv_stmt; RELEASE SAVEPOINT cv_stmt`); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// run runs a statement that no constraint can fail (outside a savepoint)
// and returns the number of rows it matched.
func (t *tx) run(query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(t.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
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
	return t.create("tenant", x.ID, x.ID, `INSERT INTO tenants (`+sqlrow.TenantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		x.ID, x.Name, x.Region, x.Timezone, x.RetentionDays, x.AuditRetentionDays,
		x.AllowedClientRegions, x.LegalHold, sqlrow.Time(&x.CreatedAt), sqlrow.Time(&x.UpdatedAt))
}

// UpdateTenant replaces a tenant; ENotFound if it does not exist.
func (t *tx) UpdateTenant(x *callvault.Tenant) error {
	if x == nil {
		return sqlrow.NilArg("tenant")
	}
	return t.change("update", "tenant", x.ID, `UPDATE tenants SET name = $1, region = $2, timezone = $3, retention_days = $4,
		audit_retention_days = $5, allowed_client_regions = $6, legal_hold = $7, updated_at = $8 WHERE tenant_id = $9`,
		x.Name, x.Region, x.Timezone, x.RetentionDays, x.AuditRetentionDays,
		x.AllowedClientRegions, x.LegalHold, sqlrow.Time(&x.UpdatedAt), x.ID)
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
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM tenants WHERE tenant_id = $1`, id).Scan(&n); err != nil {
		return dbError("delete tenant", err)
	}
	if n == 0 {
		return sqlrow.NotFound("tenant", id)
	}
	stmts := []string{
		`DELETE FROM tokens WHERE app_id IN (SELECT id FROM apps WHERE tenant_id = $1)`,
		`DELETE FROM consents WHERE app_id IN (SELECT id FROM apps WHERE tenant_id = $1)`,
	}
	// Every table of tenant-scoped configuration, credentials and call data. A table
	// missing here makes the final delete fail on its foreign key.
	for _, table := range []string{"tokens", "consents", "api_keys", "jwt_credentials", "apps", "users", "roles", "licenses", "sites",
		"call_events", "active_calls", "recordings", "calls"} {
		stmts = append(stmts, `DELETE FROM `+table+` WHERE tenant_id = $1`)
	}
	stmts = append(stmts, `DELETE FROM tenants WHERE tenant_id = $1`)
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
	return t.create("site", s.ID, s.TenantID, `INSERT INTO sites (`+sqlrow.SiteCols+`) VALUES ($1, $2, $3, $4, $5)`,
		s.TenantID, s.ID, s.Name, sqlrow.Time(&s.CreatedAt), sqlrow.Time(&s.UpdatedAt))
}

// UpdateSite replaces a site; ENotFound if the tenant has no such site.
func (t *tx) UpdateSite(s *callvault.Site) error {
	if s == nil {
		return sqlrow.NilArg("site")
	}
	return t.change("update", "site", s.ID, `UPDATE sites SET name = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
		s.Name, sqlrow.Time(&s.UpdatedAt), s.TenantID, s.ID)
}

// DeleteSite deletes a site; ENotFound if the tenant has no such site.
func (t *tx) DeleteSite(tenantID, id string) error {
	return t.change("delete", "site", id, `DELETE FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// Users.

// isLoginConflict reports whether err violates the unique login index.
func isLoginConflict(err error) bool {
	return isUniqueOn(err, "users_login")
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
	_, err := t.exec(`INSERT INTO users (`+sqlrow.UserCols+`, login_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		u.TenantID, u.ID, u.Login, u.Name, u.Email, u.PasswordHash, u.Extension, u.HomeSiteID, u.License,
		u.AccessLevels, u.Roles, u.SiteScope, u.Status, sqlrow.Time(&u.CreatedAt), sqlrow.Time(&u.UpdatedAt),
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
	n, err := t.exec(`UPDATE users SET login = $1, login_key = $2, name = $3, email = $4, password_hash = $5, extension = $6,
		home_site_id = $7, license = $8, access_levels = $9, roles = $10, site_scope = $11, status = $12, updated_at = $13
		WHERE tenant_id = $14 AND id = $15`,
		u.Login, sqlrow.LoginKey(u.Login), u.Name, u.Email, u.PasswordHash, u.Extension, u.HomeSiteID, u.License,
		u.AccessLevels, u.Roles, u.SiteScope, u.Status, sqlrow.Time(&u.UpdatedAt), u.TenantID, u.ID)
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
	return t.change("delete", "user", id, `DELETE FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id)
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
	return t.create("role", r.Name, r.TenantID, `INSERT INTO roles (`+sqlrow.RoleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.TenantID, r.Name, r.Description, r.Permissions, r.BuiltIn, sqlrow.Time(&r.CreatedAt), sqlrow.Time(&r.UpdatedAt))
}

// UpdateRole replaces a role; ENotFound if the tenant has no such role.
func (t *tx) UpdateRole(r *callvault.Role) error {
	if r == nil {
		return sqlrow.NilArg("role")
	}
	return t.change("update", "role", r.Name, `UPDATE roles SET description = $1, permissions = $2, built_in = $3, updated_at = $4
		WHERE tenant_id = $5 AND name = $6`,
		r.Description, r.Permissions, r.BuiltIn, sqlrow.Time(&r.UpdatedAt), r.TenantID, r.Name)
}

// DeleteRole deletes a role; ENotFound if the tenant has no such role.
func (t *tx) DeleteRole(tenantID, name string) error {
	return t.change("delete", "role", name, `DELETE FROM roles WHERE tenant_id = $1 AND name = $2`, tenantID, name)
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
	return t.create("license", l.Name, l.TenantID, `INSERT INTO licenses (`+sqlrow.LicenseCols+`) VALUES ($1, $2, $3, $4, $5)`,
		l.TenantID, l.Name, l.Features, sqlrow.Time(&l.CreatedAt), sqlrow.Time(&l.UpdatedAt))
}

// UpdateLicense replaces a license; ENotFound if the tenant has no such
// license.
func (t *tx) UpdateLicense(l *callvault.License) error {
	if l == nil {
		return sqlrow.NilArg("license")
	}
	return t.change("update", "license", l.Name, `UPDATE licenses SET features = $1, updated_at = $2 WHERE tenant_id = $3 AND name = $4`,
		l.Features, sqlrow.Time(&l.UpdatedAt), l.TenantID, l.Name)
}

// DeleteLicense deletes a license; ENotFound if the tenant has no such
// license.
func (t *tx) DeleteLicense(tenantID, name string) error {
	return t.change("delete", "license", name, `DELETE FROM licenses WHERE tenant_id = $1 AND name = $2`, tenantID, name)
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
	return t.create("app", a.ID, a.TenantID, `INSERT INTO apps (`+sqlrow.AppCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.TenantID, a.ID, a.Name, a.SecretHash, a.Grants, a.Scopes, a.Roles, a.RedirectURIs,
		sqlrow.Time(&a.SecretRotatedAt), sqlrow.Time(&a.CreatedAt), sqlrow.Time(&a.UpdatedAt))
}

// UpdateApp replaces an app; ENotFound if its home tenant has no such app.
func (t *tx) UpdateApp(a *callvault.App) error {
	if a == nil {
		return sqlrow.NilArg("app")
	}
	return t.change("update", "app", a.ID, `UPDATE apps SET name = $1, secret_hash = $2, grants = $3, scopes = $4, roles = $5,
		redirect_uris = $6, secret_rotated_at = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10`,
		a.Name, a.SecretHash, a.Grants, a.Scopes, a.Roles, a.RedirectURIs,
		sqlrow.Time(&a.SecretRotatedAt), sqlrow.Time(&a.UpdatedAt), a.TenantID, a.ID)
}

// DeleteApp deletes an app of its home tenant, the consents any tenant gave
// it and every token issued to it; ENotFound if the tenant has no such app.
func (t *tx) DeleteApp(tenantID, id string) error {
	if err := t.change("delete", "app", id, `DELETE FROM apps WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
		return err
	}
	for _, s := range []string{`DELETE FROM consents WHERE app_id = $1`, `DELETE FROM tokens WHERE app_id = $1`} {
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
	_, err := t.exec(`INSERT INTO consents (`+sqlrow.ConsentCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, app_id) DO UPDATE SET app_tenant_id = excluded.app_tenant_id,
			scopes = excluded.scopes, roles = excluded.roles, updated_at = excluded.updated_at,
			revoked_at = excluded.revoked_at`,
		c.TenantID, c.AppID, c.AppTenant, c.Scopes, c.Roles, sqlrow.Time(&c.CreatedAt), sqlrow.Time(&c.UpdatedAt), sqlrow.Time(&c.RevokedAt))
	return errs.Create("consent for app", c.AppID, c.TenantID, err)
}

// DeleteConsent deletes the tenant's consent for the app; ENotFound if there
// is none.
func (t *tx) DeleteConsent(tenantID, appID string) error {
	return t.change("delete", "consent for app", appID, `DELETE FROM consents WHERE tenant_id = $1 AND app_id = $2`, tenantID, appID)
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
	return t.create("api key", k.ID, k.TenantID, `INSERT INTO api_keys (`+sqlrow.APIKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		k.TenantID, k.ID, k.Name, k.Hash, k.Hint, k.SubjectKind, k.SubjectID, k.Scopes,
		sqlrow.Time(&k.CreatedAt), sqlrow.Time(&k.ExpiresAt), sqlrow.Time(&k.RevokedAt), sqlrow.Time(&k.LastUsedAt))
}

// UpdateAPIKey replaces a key; ENotFound if the tenant has no such key.
func (t *tx) UpdateAPIKey(k *callvault.APIKey) error {
	if k == nil {
		return sqlrow.NilArg("api key")
	}
	return t.change("update", "api key", k.ID, `UPDATE api_keys SET name = $1, hash = $2, hint = $3, subject_kind = $4,
		subject_id = $5, scopes = $6, expires_at = $7, revoked_at = $8, last_used_at = $9 WHERE tenant_id = $10 AND id = $11`,
		k.Name, k.Hash, k.Hint, k.SubjectKind, k.SubjectID, k.Scopes,
		sqlrow.Time(&k.ExpiresAt), sqlrow.Time(&k.RevokedAt), sqlrow.Time(&k.LastUsedAt), k.TenantID, k.ID)
}

// DeleteAPIKey deletes a key; ENotFound if the tenant has no such key.
func (t *tx) DeleteAPIKey(tenantID, id string) error {
	return t.change("delete", "api key", id, `DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id)
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
	_, err := t.exec(`INSERT INTO tokens (`+sqlrow.TokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		x.TenantID, x.Hash, x.Kind, x.AppID, x.UserID, x.Scopes, x.Grant, x.FamilyID,
		sqlrow.Time(&x.IssuedAt), sqlrow.Time(&x.ExpiresAt), sqlrow.Time(&x.RevokedAt))
	if isUnique(err) {
		return callvault.Errorf(callvault.EConflict, "token already exists")
	}
	return errs.Create("token", "", x.TenantID, err)
}

// Token, read inside a write transaction, locks the token's row until the
// transaction ends (SELECT ... FOR UPDATE). A refresh token is read to be
// rotated: with the lock, a concurrent rotation of the same token waits,
// then sees it revoked, and is refused as a reuse, instead of both reading
// it unrevoked at READ COMMITTED and both issuing tokens.
func (t *tx) Token(ctx context.Context, hash string) (*callvault.Token, error) {
	return getOne(ctx, t.tx, "token", "", codec.ScanToken,
		`SELECT `+sqlrow.TokenCols+` FROM tokens WHERE hash = $1 FOR UPDATE`, hash)
}

// RevokeToken marks the token revoked at the given time, unless it already
// is (the first revocation time stays); ENotFound if the hash is unknown.
func (t *tx) RevokeToken(hash string, at time.Time) error {
	if err := sqlrow.RevokeTime(at); err != nil {
		return err
	}
	return t.change("revoke", "token", "", `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`, sqlrow.Time(&at), hash)
}

// RevokeTokenFamily revokes every unrevoked token of the refresh family in
// the tenant. A family without tokens is not an error.
func (t *tx) RevokeTokenFamily(tenantID, familyID string, at time.Time) error {
	if err := sqlrow.RevokeTime(at); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE tokens SET revoked_at = $1 WHERE tenant_id = $2 AND family_id = $3 AND revoked_at IS NULL`,
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
	if _, err := t.exec(`UPDATE tokens SET revoked_at = $1 WHERE tenant_id = $2 AND app_id = $3 AND revoked_at IS NULL`,
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
	return t.create("jwt credential", c.ID, c.TenantID, `INSERT INTO jwt_credentials (`+sqlrow.JWTCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.TenantID, c.ID, c.UserID, c.AppID, c.Name, sqlrow.Time(&c.CreatedAt), sqlrow.Time(&c.ExpiresAt), sqlrow.Time(&c.RevokedAt))
}

// UpdateJWTCredential replaces a JWT credential; ENotFound if the tenant has
// no such credential.
func (t *tx) UpdateJWTCredential(c *callvault.JWTCredential) error {
	if c == nil {
		return sqlrow.NilArg("jwt credential")
	}
	return t.change("update", "jwt credential", c.ID, `UPDATE jwt_credentials SET user_id = $1, app_id = $2, name = $3,
		expires_at = $4, revoked_at = $5 WHERE tenant_id = $6 AND id = $7`,
		c.UserID, c.AppID, c.Name, sqlrow.Time(&c.ExpiresAt), sqlrow.Time(&c.RevokedAt), c.TenantID, c.ID)
}
