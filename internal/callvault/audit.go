package callvault

import "time"

// Audit services: the streams an audit record belongs to. "platform" holds
// administrative changes, as 8x8's Audit Records API names it.
const (
	AuditPlatform = "platform" // create, update, delete of configuration
	AuditData     = "data"     // view and export of call data
	AuditAuth     = "auth"     // tokens issued and refused, logins
	AuditAccess   = "access"   // denials with their decision trace
)

// Audit event types.
const (
	EventCreate = "create"
	EventUpdate = "update"
	EventDelete = "delete"
	EventView   = "view"
	EventExport = "export"
	EventIssue  = "issue"  // a credential issued
	EventRefuse = "refuse" // a credential refused
	EventRevoke = "revoke" // a credential revoked
	EventDeny   = "deny"   // a request denied by the permission engine
)

// AuditRecord is one entry of a tenant's tamper-evident audit trail. The
// field set follows 8x8's Audit Records API; RequestID, Principal, Outcome
// and Trace tie an entry to the request and decision behind it. Seq,
// PrevHash and Hash chain the tenant's records: Hash is the SHA-256 of the
// canonical encoding of every other field (see internal/audit).
type AuditRecord struct {
	TenantID        string    `json:"customerId"`
	ID              string    `json:"id"`
	Seq             int64     `json:"seq"`
	Service         string    `json:"service"`
	DisplayName     string    `json:"displayName"`
	Timestamp       time.Time `json:"auditTimestamp"`
	EventType       string    `json:"eventType"`
	EntityType      string    `json:"entityType"`
	EntityKey       string    `json:"entityKey"`
	AuditUserID     string    `json:"auditUserId"`
	Impersonator    string    `json:"impersonator,omitempty"`
	Details         string    `json:"details,omitempty"` // JSON {"new":{...},"old":{...}}
	CorrelationType string    `json:"correlationType,omitempty"`
	CorrelationID   string    `json:"correlationId,omitempty"`
	RequestID       string    `json:"requestId,omitempty"`
	Principal       string    `json:"principal,omitempty"` // e.g. "user:usr_x via app:app_y"
	Outcome         string    `json:"outcome"`             // "success" or "denied"
	Trace           string    `json:"trace,omitempty"`     // JSON decision trace for denials
	PrevHash        string    `json:"prevHash"`
	Hash            string    `json:"hash"`
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
)

// AuditFilter selects audit records of one tenant. Zero fields do not filter.
// Records come in ascending Seq order, starting after AfterSeq.
type AuditFilter struct {
	TenantID    string
	From, To    time.Time // Timestamp in [From, To)
	Services    []string
	EventTypes  []string // matched case-insensitively
	EntityTypes []string // matched case-insensitively
	AuditUserID string
	Principal   string
	RequestID   string
	DisplayName string // exact, or with a leading and/or trailing '*' wildcard
	AfterSeq    int64
	MaxSeq      int64 // if > 0, only records with Seq <= MaxSeq (a snapshot)
	Limit       int
}

// Checkpoint is a signed statement that a tenant's audit chain had the given
// head at a point in time. Checkpoints let the chain be verified offline and
// make a rewrite of the whole chain detectable.
type Checkpoint struct {
	TenantID  string    `json:"tenantId"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"createdAt"`
	KeyID     string    `json:"keyId"`     // hex SHA-256 prefix of the Ed25519 public key
	Signature string    `json:"signature"` // base64 Ed25519 signature, see internal/audit
}
