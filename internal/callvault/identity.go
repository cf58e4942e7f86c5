package callvault

import "time"

// Tenant is the unit of isolation: an account, organization or customer.
// Every other record belongs to exactly one tenant.
type Tenant struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Region               string   `json:"region"`   // data residency, e.g. "us", "eu"
	Timezone             string   `json:"timezone"` // IANA name
	RetentionDays        int      `json:"retentionDays"`
	AuditRetentionDays   int      `json:"auditRetentionDays"`
	AllowedClientRegions []string `json:"allowedClientRegions"` // app home regions admitted besides Region
	// LegalHold stops every purge of the tenant's call data.
	LegalHold bool      `json:"legalHold"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Site is a PBX of a tenant (8x8: pbxId / pbxName).
type Site struct {
	TenantID  string    `json:"tenantId"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// User statuses.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
)

// User is a person who signs in to a tenant.
type User struct {
	TenantID     string                 `json:"tenantId"`
	ID           string                 `json:"id"`
	Login        string                 `json:"login"` // unique within the tenant
	Name         string                 `json:"name"`
	Email        string                 `json:"email,omitempty"`
	PasswordHash string                 `json:"-"` // argon2id, PHC string format
	Extension    string                 `json:"extension,omitempty"`
	HomeSiteID   string                 `json:"homeSiteId,omitempty"`
	License      string                 `json:"license,omitempty"`      // a License name of the tenant
	AccessLevels map[string]AccessLevel `json:"accessLevels,omitempty"` // product -> level
	Roles        []string               `json:"roles"`
	SiteScope    []string               `json:"siteScope"` // site ids; empty means all sites
	Status       string                 `json:"status"`
	CreatedAt    time.Time              `json:"createdAt"`
	UpdatedAt    time.Time              `json:"updatedAt"`
}

// License is a named set of product features a tenant assigns to users.
type License struct {
	TenantID  string    `json:"tenantId"`
	Name      string    `json:"name"`
	Features  []string  `json:"features"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Role is a named permission set. Built-in roles (BuiltinRoles) exist in every
// tenant without being stored.
type Role struct {
	TenantID    string       `json:"tenantId,omitempty"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Permissions []Permission `json:"permissions"`
	BuiltIn     bool         `json:"builtIn"`
	CreatedAt   time.Time    `json:"createdAt,omitzero"`
	UpdatedAt   time.Time    `json:"updatedAt,omitzero"`
}

// OAuth grant types an app may be allowed.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
)

// GrantTypes lists the grant types callvault knows.
var GrantTypes = []string{GrantClientCredentials, GrantPassword, GrantJWTBearer, GrantRefreshToken, GrantAuthorizationCode}

// App is an OAuth client (integration). Its ID is the client id; its home
// tenant fixes its region. Scopes are the most it may ever ask for; Roles are
// the roles it holds as a service principal in its home tenant (in other
// tenants a Consent gives them).
type App struct {
	TenantID        string       `json:"tenantId"` // home tenant
	ID              string       `json:"clientId"`
	Name            string       `json:"name"`
	SecretHash      string       `json:"-"` // SHA-256 hex of the client secret; empty for a public client
	Grants          []string     `json:"grants"`
	Scopes          []Permission `json:"scopes"`
	Roles           []string     `json:"roles"`
	RedirectURIs    []string     `json:"redirectUris,omitempty"`
	SecretRotatedAt time.Time    `json:"secretRotatedAt,omitzero"`
	CreatedAt       time.Time    `json:"createdAt"`
	UpdatedAt       time.Time    `json:"updatedAt"`
}

// Consent records that tenant TenantID admits app AppID (whose home is
// another tenant) with a set of scopes, and the roles the app's service
// principal holds in TenantID. A revoked consent admits nothing.
type Consent struct {
	TenantID  string       `json:"tenantId"`
	AppID     string       `json:"appId"`
	AppTenant string       `json:"appTenantId"`
	Scopes    []Permission `json:"scopes"`
	Roles     []string     `json:"roles"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
	RevokedAt time.Time    `json:"revokedAt,omitzero"`
}

// Active reports whether the consent still admits the app.
func (c *Consent) Active() bool { return c != nil && c.RevokedAt.IsZero() }

// Principal kinds: who a credential speaks for.
const (
	SubjectUser = "user"
	SubjectApp  = "app"
)

// APIKey is a long-lived credential of a user or an app in one tenant. Only
// the SHA-256 of the key is stored; the key is shown once at creation.
type APIKey struct {
	TenantID    string       `json:"tenantId"`
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Hash        string       `json:"-"`    // SHA-256 hex of the whole key
	Hint        string       `json:"hint"` // prefix and last four characters, for recognition
	SubjectKind string       `json:"subjectKind"`
	SubjectID   string       `json:"subjectId"`
	Scopes      []Permission `json:"scopes"`
	CreatedAt   time.Time    `json:"createdAt"`
	ExpiresAt   time.Time    `json:"expiresAt,omitzero"`
	RevokedAt   time.Time    `json:"revokedAt,omitzero"`
	LastUsedAt  time.Time    `json:"lastUsedAt,omitzero"`
}

// Token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// Token is an issued OAuth access or refresh token. Tokens are opaque; only
// their SHA-256 is stored, so revocation is immediate. Refresh tokens rotate:
// each use revokes the old one and issues a new one in the same family, and
// reuse of a rotated refresh token revokes the whole family.
type Token struct {
	Hash      string       `json:"-"`
	TenantID  string       `json:"tenantId"`
	Kind      string       `json:"kind"`
	AppID     string       `json:"appId"`
	UserID    string       `json:"userId,omitempty"` // empty for a service (client_credentials) token
	Scopes    []Permission `json:"scopes"`
	Grant     string       `json:"grant"`
	FamilyID  string       `json:"familyId"`
	IssuedAt  time.Time    `json:"issuedAt"`
	ExpiresAt time.Time    `json:"expiresAt"`
	RevokedAt time.Time    `json:"revokedAt,omitzero"`
}

// JWTCredential is a user JWT credential that callvault issued and signed
// for the jwt-bearer grant. The JWT's jti is the credential id, so revoking
// the credential stops the JWT at once.
type JWTCredential struct {
	TenantID  string    `json:"tenantId"`
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	AppID     string    `json:"appId,omitempty"` // if set, only this app may present it
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}
