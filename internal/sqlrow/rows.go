package sqlrow

import (
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// TenantCols are the columns a tenant is read from, in ScanTenant's order.
const TenantCols = `tenant_id, name, region, timezone, retention_days, audit_retention_days,
	allowed_client_regions, legal_hold, created_at, updated_at`

// ScanTenant reads a row of TenantCols.
func (c Codec) ScanTenant(sc Scanner) (*callvault.Tenant, error) {
	var t callvault.Tenant
	err := sc.Scan(&t.ID, &t.Name, &t.Region, &t.Timezone, &t.RetentionDays, &t.AuditRetentionDays,
		c.JSON(&t.AllowedClientRegions), &t.LegalHold, Time(&t.CreatedAt), Time(&t.UpdatedAt))
	return &t, err
}

// SiteCols are the columns a site is read from, in ScanSite's order.
const SiteCols = `tenant_id, id, name, created_at, updated_at`

// ScanSite reads a row of SiteCols.
func ScanSite(sc Scanner) (*callvault.Site, error) {
	var s callvault.Site
	err := sc.Scan(&s.TenantID, &s.ID, &s.Name, Time(&s.CreatedAt), Time(&s.UpdatedAt))
	return &s, err
}

// UserCols are the columns a user is read from, in ScanUser's order.
const UserCols = `tenant_id, id, login, name, email, password_hash, extension, home_site_id, license,
	access_levels, roles, site_scope, status, created_at, updated_at`

// ScanUser reads a row of UserCols.
func (c Codec) ScanUser(sc Scanner) (*callvault.User, error) {
	var u callvault.User
	err := sc.Scan(&u.TenantID, &u.ID, &u.Login, &u.Name, &u.Email, &u.PasswordHash, &u.Extension,
		&u.HomeSiteID, &u.License, c.JSON(&u.AccessLevels), c.JSON(&u.Roles), c.JSON(&u.SiteScope), &u.Status,
		Time(&u.CreatedAt), Time(&u.UpdatedAt))
	return &u, err
}

// LoginKey is the form of a login that is unique per tenant (the users
// table's login_key column).
func LoginKey(login string) string { return strings.ToLower(login) }

// RoleCols are the columns a role is read from, in ScanRole's order.
const RoleCols = `tenant_id, name, description, permissions, built_in, created_at, updated_at`

// ScanRole reads a row of RoleCols.
func (c Codec) ScanRole(sc Scanner) (*callvault.Role, error) {
	var x callvault.Role
	err := sc.Scan(&x.TenantID, &x.Name, &x.Description, c.JSON(&x.Permissions), &x.BuiltIn, Time(&x.CreatedAt), Time(&x.UpdatedAt))
	return &x, err
}

// LicenseCols are the columns a license is read from, in ScanLicense's
// order.
const LicenseCols = `tenant_id, name, features, created_at, updated_at`

// ScanLicense reads a row of LicenseCols.
func (c Codec) ScanLicense(sc Scanner) (*callvault.License, error) {
	var l callvault.License
	err := sc.Scan(&l.TenantID, &l.Name, c.JSON(&l.Features), Time(&l.CreatedAt), Time(&l.UpdatedAt))
	return &l, err
}

// AppCols are the columns an app is read from, in ScanApp's order.
const AppCols = `tenant_id, id, name, secret_hash, grants, scopes, roles, redirect_uris,
	secret_rotated_at, created_at, updated_at`

// ScanApp reads a row of AppCols.
func (c Codec) ScanApp(sc Scanner) (*callvault.App, error) {
	var a callvault.App
	err := sc.Scan(&a.TenantID, &a.ID, &a.Name, &a.SecretHash, c.JSON(&a.Grants), c.JSON(&a.Scopes), c.JSON(&a.Roles),
		c.JSON(&a.RedirectURIs), Time(&a.SecretRotatedAt), Time(&a.CreatedAt), Time(&a.UpdatedAt))
	return &a, err
}

// ConsentCols are the columns a consent is read from, in ScanConsent's
// order.
const ConsentCols = `tenant_id, app_id, app_tenant_id, scopes, roles, created_at, updated_at, revoked_at`

// ScanConsent reads a row of ConsentCols.
func (c Codec) ScanConsent(sc Scanner) (*callvault.Consent, error) {
	var x callvault.Consent
	err := sc.Scan(&x.TenantID, &x.AppID, &x.AppTenant, c.JSON(&x.Scopes), c.JSON(&x.Roles),
		Time(&x.CreatedAt), Time(&x.UpdatedAt), Time(&x.RevokedAt))
	return &x, err
}

// APIKeyCols are the columns an API key is read from, in ScanAPIKey's
// order.
const APIKeyCols = `tenant_id, id, name, hash, hint, subject_kind, subject_id, scopes,
	created_at, expires_at, revoked_at, last_used_at`

// ScanAPIKey reads a row of APIKeyCols.
func (c Codec) ScanAPIKey(sc Scanner) (*callvault.APIKey, error) {
	var k callvault.APIKey
	err := sc.Scan(&k.TenantID, &k.ID, &k.Name, &k.Hash, &k.Hint, &k.SubjectKind, &k.SubjectID, c.JSON(&k.Scopes),
		Time(&k.CreatedAt), Time(&k.ExpiresAt), Time(&k.RevokedAt), Time(&k.LastUsedAt))
	return &k, err
}

// TokenCols are the columns a token is read from, in ScanToken's order.
const TokenCols = `tenant_id, hash, kind, app_id, user_id, scopes, grant_type, family_id,
	issued_at, expires_at, revoked_at`

// ScanToken reads a row of TokenCols.
func (c Codec) ScanToken(sc Scanner) (*callvault.Token, error) {
	var t callvault.Token
	err := sc.Scan(&t.TenantID, &t.Hash, &t.Kind, &t.AppID, &t.UserID, c.JSON(&t.Scopes), &t.Grant, &t.FamilyID,
		Time(&t.IssuedAt), Time(&t.ExpiresAt), Time(&t.RevokedAt))
	return &t, err
}

// JWTCols are the columns a JWT credential is read from, in ScanJWT's
// order.
const JWTCols = `tenant_id, id, user_id, app_id, name, created_at, expires_at, revoked_at`

// ScanJWT reads a row of JWTCols.
func ScanJWT(sc Scanner) (*callvault.JWTCredential, error) {
	var c callvault.JWTCredential
	err := sc.Scan(&c.TenantID, &c.ID, &c.UserID, &c.AppID, &c.Name, Time(&c.CreatedAt), Time(&c.ExpiresAt), Time(&c.RevokedAt))
	return &c, err
}

// AuditCols are the columns an audit record is read from and written to,
// in ScanAudit's order.
const AuditCols = `tenant_id, seq, id, service, display_name, ts, event_type, entity_type, entity_key,
	audit_user_id, impersonator, details, correlation_type, correlation_id, request_id, principal,
	outcome, trace, prev_hash, hash`

// ScanAudit reads a row of AuditCols.
func ScanAudit(sc Scanner) (*callvault.AuditRecord, error) {
	var r callvault.AuditRecord
	var ts int64
	err := sc.Scan(&r.TenantID, &r.Seq, &r.ID, &r.Service, &r.DisplayName, &ts, &r.EventType, &r.EntityType,
		&r.EntityKey, &r.AuditUserID, &r.Impersonator, &r.Details, &r.CorrelationType, &r.CorrelationID,
		&r.RequestID, &r.Principal, &r.Outcome, &r.Trace, &r.PrevHash, &r.Hash)
	r.Timestamp = time.UnixMicro(ts).UTC()
	return &r, err
}

// ScanCheckpoint reads a row of the checkpoints columns tenant_id, seq,
// hash, created_at, key_id, signature.
func ScanCheckpoint(sc Scanner) (*callvault.Checkpoint, error) {
	var c callvault.Checkpoint
	err := sc.Scan(&c.TenantID, &c.Seq, &c.Hash, Time(&c.CreatedAt), &c.KeyID, &c.Signature)
	return &c, err
}

// RecordingCols are the columns a recording's metadata is read from, in
// ScanRecording's order.
const RecordingCols = `tenant_id, id, call_id, type, content_type, duration_ms, size, sha256, created_at, uploaded_at`

// ScanRecording reads a row of RecordingCols.
func ScanRecording(sc Scanner) (*callvault.Recording, error) {
	var x callvault.Recording
	err := sc.Scan(&x.TenantID, &x.ID, &x.CallID, &x.Type, &x.ContentType, &x.DurationMs, &x.Size, &x.SHA256,
		Time(&x.CreatedAt), Time(&x.UploadedAt))
	return &x, err
}

// ActiveCallCols are the columns a live call is read from, in
// ScanActiveCall's order.
const ActiveCallCols = `tenant_id, call_id, site_id, direction, state, from_party, to_party, extension,
	recording, started_at, answered_at, updated_at`

// ScanActiveCall reads a row of ActiveCallCols.
func (c Codec) ScanActiveCall(sc Scanner) (*callvault.ActiveCall, error) {
	var a callvault.ActiveCall
	err := sc.Scan(&a.TenantID, &a.CallID, &a.SiteID, &a.Direction, &a.State, c.JSON(&a.From), c.JSON(&a.To), &a.Extension,
		&a.Recording, Time(&a.StartedAt), Time(&a.AnsweredAt), Time(&a.UpdatedAt))
	return &a, err
}

// CallEventCols are the columns a call event is read from and written to,
// in ScanCallEvent's order.
const CallEventCols = `tenant_id, seq, id, call_id, type, ts, site_id, direction, from_party, to_party, result,
	recording_id, transfer_to, received_at`

// ScanCallEvent reads a row of CallEventCols.
func (c Codec) ScanCallEvent(sc Scanner) (*callvault.CallEvent, error) {
	var e callvault.CallEvent
	err := sc.Scan(&e.TenantID, &e.Seq, &e.ID, &e.CallID, &e.Type, Time(&e.Timestamp), &e.SiteID, &e.Direction,
		c.JSON(&e.From), c.JSON(&e.To), &e.Result, &e.RecordingID, c.JSON(&e.TransferTo), Time(&e.ReceivedAt))
	return &e, err
}
