package callvault

import (
	"context"
	"time"
)

// Reader reads the store. Every method that reads tenant data takes the
// tenant id and never returns another tenant's record: asking for another
// tenant's object gives ENotFound, exactly as for an object that does not
// exist. The few global lookups (by credential hash or client id) exist for
// authentication, where the tenant is not known yet.
//
// Lists are ordered by id (or name) ascending. Single-object reads return an
// *Error with code ENotFound when there is no such object.
type Reader interface {
	CallReader

	Tenant(ctx context.Context, id string) (*Tenant, error)
	Tenants(ctx context.Context) ([]*Tenant, error)

	Site(ctx context.Context, tenantID, id string) (*Site, error)
	Sites(ctx context.Context, tenantID string) ([]*Site, error)

	User(ctx context.Context, tenantID, id string) (*User, error)
	// UserByLogin finds a user by login, case-insensitively.
	UserByLogin(ctx context.Context, tenantID, login string) (*User, error)
	Users(ctx context.Context, tenantID string) ([]*User, error)

	// Role returns a stored (custom) role; built-in roles are not stored.
	Role(ctx context.Context, tenantID, name string) (*Role, error)
	Roles(ctx context.Context, tenantID string) ([]*Role, error)

	License(ctx context.Context, tenantID, name string) (*License, error)
	Licenses(ctx context.Context, tenantID string) ([]*License, error)

	// App returns an app whose home tenant is tenantID.
	App(ctx context.Context, tenantID, id string) (*App, error)
	// AppByID finds an app by client id in any tenant (authentication only).
	AppByID(ctx context.Context, id string) (*App, error)
	Apps(ctx context.Context, tenantID string) ([]*App, error)

	// Consent returns tenantID's consent for appID, revoked or not.
	Consent(ctx context.Context, tenantID, appID string) (*Consent, error)
	Consents(ctx context.Context, tenantID string) ([]*Consent, error)
	// ConsentsForApp lists the consents given to appID by any tenant.
	ConsentsForApp(ctx context.Context, appID string) ([]*Consent, error)

	APIKey(ctx context.Context, tenantID, id string) (*APIKey, error)
	APIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	// APIKeyByHash finds a key by the SHA-256 of its text (authentication only).
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)

	// Token finds an issued token by its hash (authentication only).
	Token(ctx context.Context, hash string) (*Token, error)

	JWTCredential(ctx context.Context, tenantID, id string) (*JWTCredential, error)
	JWTCredentials(ctx context.Context, tenantID string) ([]*JWTCredential, error)

	// AuditRecords returns the records matching f in ascending Seq order,
	// at most f.Limit (all when 0).
	AuditRecords(ctx context.Context, f AuditFilter) ([]*AuditRecord, error)
	// AuditHead returns the Seq and Hash of the tenant's last audit record,
	// (0, "") when there is none.
	AuditHead(ctx context.Context, tenantID string) (seq int64, hash string, err error)
	// Checkpoints lists the tenant's signed checkpoints in ascending Seq order.
	Checkpoints(ctx context.Context, tenantID string) ([]*Checkpoint, error)
}

// CallReader reads call data: records, recordings, live calls and events.
// The same tenant rules as Reader apply.
type CallReader interface {
	// Call returns one call record with its legs.
	Call(ctx context.Context, tenantID, id string) (*CallRecord, error)
	// Calls returns the records matching f, newest first (Start, then ID,
	// descending), at most f.Limit.
	Calls(ctx context.Context, f CallFilter) ([]*CallRecord, error)
	// CallIngestHead returns the highest IngestSeq of the tenant (0: none).
	CallIngestHead(ctx context.Context, tenantID string) (int64, error)
	// AggregateCalls counts the records matching a.Filter (Limit and After
	// ignored) in groups: per UTC hour of Start when a.HourBuckets, and/or
	// per a.GroupBy key ("site": SiteID, "extension": Extension,
	// "direction": Direction). Answered means Answer is set; missed means
	// an inbound call that was not answered. Buckets come ordered by
	// bucket, then key.
	AggregateCalls(ctx context.Context, a CallAggregate) ([]*CallBucket, error)
	// ExpiredCalls returns up to limit records of the tenant that started
	// before the cutoff and are not under legal hold, oldest first.
	ExpiredCalls(ctx context.Context, tenantID string, before time.Time, limit int) ([]*CallRecord, error)

	Recording(ctx context.Context, tenantID, id string) (*Recording, error)
	// RecordingBlobInUse reports whether any recording of the tenant still
	// references the content with this SHA-256.
	RecordingBlobInUse(ctx context.Context, tenantID, sha256 string) (bool, error)

	ActiveCall(ctx context.Context, tenantID, callID string) (*ActiveCall, error)
	// ActiveCalls lists the tenant's live calls, oldest first.
	ActiveCalls(ctx context.Context, tenantID string) ([]*ActiveCall, error)

	// CallEvents returns the tenant's raw events with Seq > f.AfterSeq (and
	// Timestamp in [f.From, f.To) when set), in Seq order, at most f.Limit.
	CallEvents(ctx context.Context, f EventFilter) ([]*CallEvent, error)
	// CallEventsOf returns the events of one live call in Seq order.
	CallEventsOf(ctx context.Context, tenantID, callID string) ([]*CallEvent, error)
}

// EventFilter selects raw call events of one tenant.
type EventFilter struct {
	TenantID string
	From, To time.Time
	AfterSeq int64
	MaxSeq   int64 // if > 0, only events with Seq <= it (a snapshot)
	Limit    int
}

// Tx is one write transaction. Creates return EConflict when the key exists;
// updates and deletes return ENotFound when it does not. Nothing a Tx wrote is
// visible to others, or acknowledged, until the function given to
// Store.Update returns nil and the commit is durable.
type Tx interface {
	Reader
	CallTx

	CreateTenant(t *Tenant) error
	UpdateTenant(t *Tenant) error
	DeleteTenant(id string) error

	CreateSite(s *Site) error
	UpdateSite(s *Site) error
	DeleteSite(tenantID, id string) error

	// CreateUser returns EConflict naming the field "login" when the login is
	// taken in the tenant (case-insensitively).
	CreateUser(u *User) error
	UpdateUser(u *User) error
	DeleteUser(tenantID, id string) error

	CreateRole(r *Role) error
	UpdateRole(r *Role) error
	DeleteRole(tenantID, name string) error

	CreateLicense(l *License) error
	UpdateLicense(l *License) error
	DeleteLicense(tenantID, name string) error

	CreateApp(a *App) error
	UpdateApp(a *App) error
	DeleteApp(tenantID, id string) error

	// PutConsent creates or replaces tenantID's consent for the app.
	PutConsent(c *Consent) error
	DeleteConsent(tenantID, appID string) error

	CreateAPIKey(k *APIKey) error
	UpdateAPIKey(k *APIKey) error
	DeleteAPIKey(tenantID, id string) error

	CreateToken(t *Token) error
	// RevokeToken marks one token revoked; ENotFound if the hash is unknown.
	RevokeToken(hash string, at time.Time) error
	// RevokeTokenFamily revokes every token of a refresh family in a tenant.
	RevokeTokenFamily(tenantID, familyID string, at time.Time) error
	// RevokeTokensOfApp revokes every token the app holds in the tenant.
	RevokeTokensOfApp(tenantID, appID string, at time.Time) error

	CreateJWTCredential(c *JWTCredential) error
	UpdateJWTCredential(c *JWTCredential) error

	// AppendAudit appends records to their tenants' hash chains, assigning
	// Seq, PrevHash and Hash (see AuditRecord.ComputeHash) in order. It
	// first truncates each Timestamp to the microsecond in UTC (what every
	// engine can store exactly) and gives records without an ID a new one.
	AppendAudit(recs ...*AuditRecord) error
	// PutCheckpoint stores a signed checkpoint.
	PutCheckpoint(c *Checkpoint) error
}

// CallTx writes call data inside a transaction.
type CallTx interface {
	// PutCalls stores call records that are not stored yet: a record whose
	// (TenantID, ID) exists is skipped, which makes re-sending a batch
	// harmless. Stored records get IngestSeq (per tenant, increasing) and
	// IngestedAt (now). It returns how many were stored; records[i] was
	// stored iff stored[i].
	PutCalls(records []*CallRecord) (stored []bool, err error)
	// DeleteCalls deletes call records and their recordings' metadata, and
	// returns the recordings deleted (their blobs are the caller's to remove
	// once no other recording uses them).
	DeleteCalls(tenantID string, ids []string) ([]*Recording, error)
	// SetCallLegalHold sets or clears a call's legal hold.
	SetCallLegalHold(tenantID, id string, hold bool) error

	// AttachRecording adds a recording id to a stored call record's
	// RecordingIDs (once), so it has a recording; ENotFound when the call
	// is not stored. Nothing else of the record changes.
	AttachRecording(tenantID, callID, recordingID string) error
	CreateRecording(r *Recording) error
	UpdateRecording(r *Recording) error

	// PutActiveCall creates or replaces a live call's state.
	PutActiveCall(a *ActiveCall) error
	DeleteActiveCall(tenantID, callID string) error
	// PutCallEvents stores events that are not stored yet (idempotent on
	// (TenantID, ID)), assigning Seq in order; stored[i] tells which were.
	PutCallEvents(events []*CallEvent) (stored []bool, err error)
}

// Store is a persistence engine. Reads outside a transaction see the latest
// committed state.
type Store interface {
	Reader

	// Update runs fn in one write transaction and commits it durably when fn
	// returns nil; it rolls back and returns fn's error otherwise.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// TouchAPIKey records that a key was used at t. It may be batched and is
	// best-effort: a lost touch loses no acknowledged data.
	TouchAPIKey(ctx context.Context, tenantID, id string, t time.Time) error

	// Ping checks that the store can serve requests.
	Ping(ctx context.Context) error

	Close() error
}
