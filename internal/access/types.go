// Package access is callvault's permission engine. Every request of every
// API face is decided by Engine.Decide, in memory, from a Principal snapshot
// that authentication built, an Action the route declared and the Resource
// the request targets. A Decision says whether the request is allowed, and
// if not, which layer failed, what exactly is missing, how to fix it, and
// the trace of every layer checked.
package access

import (
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Layer is one of the seven layers of a decision, checked in this order.
type Layer string

// The layers, in the order they are checked.
const (
	LayerCredential Layer = "credential" // credential valid, not expired, not revoked, subject active
	LayerTenant     Layer = "tenant"     // target tenant is the app's home, or a consent admits the app
	LayerRegion     Layer = "region"     // app region = tenant region, or allowed by the tenant
	LayerScopes     Layer = "scopes"     // permission in token scopes ∩ app scopes now ∩ consent scopes now
	LayerSubject    Layer = "subject"    // permission held by the user's roles or the app's roles in the tenant
	LayerProduct    Layer = "product"    // license feature, access level, site scope, ownership
	LayerWindow     Layer = "window"     // time range within retention and the API's maximum window
)

// Layers lists the layers in checking order.
var Layers = []Layer{LayerCredential, LayerTenant, LayerRegion, LayerScopes, LayerSubject, LayerProduct, LayerWindow}

// Step results.
const (
	Pass       = "pass"
	Fail       = "fail"
	NotReached = "not reached"
)

// Kinds of missing things.
const (
	MissingCredential  = "credential"   // expired, revoked, unknown, or subject disabled
	MissingConsent     = "consent"      // the tenant has not admitted the app (or revoked it)
	MissingRegion      = "region"       // the app's region is not allowed by the tenant
	MissingScope       = "scope"        // the app (or consent) does not hold the scope now
	MissingStaleScope  = "stale_scope"  // the app holds it now, the token predates it: get a new token
	MissingPermission  = "permission"   // no role of the subject grants it
	MissingLicense     = "license"      // the user's license lacks the product feature
	MissingAccessLevel = "access_level" // the user's access level to the product is too low
	MissingSite        = "site"         // the site is outside the user's site scope
	MissingOwnership   = "ownership"    // another extension's data without calls.read.all
	MissingWindow      = "window"       // the time range reaches outside retention or the maximum window
	MissingTenant      = "tenant"       // credential bound to another tenant
)

// Credential describes the credential a principal authenticated with.
type Credential struct {
	Kind      string // "access_token" or "api_key"
	ID        string // a non-secret handle: key id, or token family id
	Grant     string // the OAuth grant that issued a token
	IssuedAt  time.Time
	ExpiresAt time.Time // zero: never expires
	Revoked   bool
	// Scopes are the scopes granted to this credential when it was issued.
	Scopes []callvault.Permission
}

// RoleGrant is one role the subject holds in the target tenant, with the
// permissions it carries.
type RoleGrant struct {
	Role        string
	Permissions []callvault.Permission
}

// Principal is everything the engine needs to know about the caller, as
// loaded at authentication time. Decide reads nothing else.
type Principal struct {
	Kind string // callvault.SubjectUser or callvault.SubjectApp

	// TenantID is the tenant the credential was issued for.
	TenantID string

	// The user, for user credentials.
	UserID       string
	UserLogin    string
	UserStatus   string
	Extension    string
	License      *callvault.License // nil: no license assigned
	AccessLevels map[string]callvault.AccessLevel
	SiteScope    []string // empty: all sites
	// Operator is set for a user of the operator tenant holding the operator
	// role: such a user may act in any tenant (audited as impersonator).
	Operator bool

	// The app the credential was issued through (empty for a user API key).
	AppID     string
	AppName   string
	AppTenant string // the app's home tenant
	AppRegion string // the region of the app's home tenant
	// AppScopes are the app's scopes now (not when the token was issued).
	AppScopes []callvault.Permission

	// Consent is TenantID's consent for the app now, when TenantID is not
	// the app's home tenant; nil when there is none.
	Consent *callvault.Consent

	// Tenant is the credential's tenant now.
	Tenant *callvault.Tenant

	Credential Credential

	// Roles are the roles the subject holds in TenantID: the user's roles,
	// or the app's service-principal roles (home tenant: the app's roles;
	// other tenants: the consent's roles).
	Roles []RoleGrant
}

// Action is what a route does, declared once in the route table.
type Action struct {
	Name       string               // e.g. "users.create"
	Permission callvault.Permission // "" when authentication alone suffices
	// Product gates (layer 6).
	Feature    string                // license feature required, e.g. "analytics"
	Product    string                // product whose access level is checked
	MinLevel   callvault.AccessLevel // minimum access level to Product
	SiteScoped bool                  // the resource's site must be in the user's site scope
	Owned      bool                  // another extension's data needs calls.read.all
	// Window gates (layer 7).
	Retention bool          // the time range must lie inside the tenant's retention
	MaxWindow time.Duration // if > 0, the longest time range allowed
}

// Resource is the target of a request.
type Resource struct {
	// TenantID is the target tenant; "" for installation-wide resources
	// (the tenant list), which only operators reach.
	TenantID string
	// Tenant is the target tenant's record, needed when it is not the
	// credential's own tenant (an operator acting elsewhere); may be nil.
	Tenant *callvault.Tenant
	// Ownership and site, for product gates.
	OwnerExtension string
	SiteID         string
	SiteName       string
	// Time range, for window gates.
	From, To time.Time
}

// Step is one layer's line of a decision trace.
type Step struct {
	Layer  Layer  `json:"layer"`
	Result string `json:"result"` // Pass, Fail or NotReached
	Detail string `json:"detail"`
}

// Missing names what a denied request lacks.
type Missing struct {
	Kind string `json:"kind"` // one of the Missing* constants
	Name string `json:"name"` // the permission, feature, level, region, site or earliest time
}

// Decision is the engine's answer.
type Decision struct {
	Allowed bool    `json:"allowed"`
	Action  string  `json:"action"`
	Layer   Layer   `json:"layer,omitempty"` // the failing layer
	Missing Missing `json:"missing,omitzero"`
	// Reason is one sentence saying what failed; Hint one sentence saying
	// who can fix it and how.
	Reason string `json:"reason,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// Impersonating is set when an operator acts in another tenant.
	Impersonating bool   `json:"impersonating,omitempty"`
	Trace         []Step `json:"trace"`
}
