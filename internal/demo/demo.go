// Package demo seeds a realistic installation for `callvault demo`, for the
// README's walkthrough, for end-to-end tests and for benchmarks.
//
// The dataset is deterministic: given the same Options.Seed and
// Options.Now, every id, name, call, event, recording and audit record is
// the same, byte for byte. Only the secrets (passwords of the named users
// excepted) are fresh on every run, so that no two demo installations share
// a client secret, an API key or a token.
//
// What it holds:
//
//   - four tenants: the installation's operators, "acme" (region us,
//     New York, three sites), "globex" (region eu, Berlin, three sites,
//     admits us apps, one-year retention) and "initech" (region us, Chicago,
//     two sites, admits no eu apps);
//   - 110 users with a spread of licenses, analytics access levels, built-in
//     roles, site scopes and statuses, each with an extension unless they
//     are administrators or auditors only;
//   - apps with different scope sets (one without recordings.read, one
//     without analytics.export, one holding only calls.read, a connector
//     that writes call data), API keys, a user JWT credential, and consents:
//     globex admits acme's "Acme Sync", initech admits globex's exporter
//     (which the region layer then refuses, initech admitting no eu apps);
//   - about 30 months of call records (Options.Records of them, made by
//     internal/callgen, busier on weekdays and in business hours and
//     growing over time), some older than their tenant's retention, one of
//     those under legal hold;
//   - recent calls that arrived as live events (ringing, answered, held,
//     recording, ended) through the same state machine as the API's event
//     ingest, calls still live (active calls) and the raw event stream;
//   - a few dozen recordings with real, playable audio
//     (internal/audio.GenerateWAV, at most 40 s each) in the blob store;
//   - audit history: the creation of everything, then months of sign-ins,
//     reads, exports and administrative changes.
//
// Everything is written with its audit record; the history is synthetic
// (its principal names the demo seed as the actor of the creation
// records, the users and apps for the rest).
package demo

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// DefaultRecords is the default number of generated call records: enough
// for realistic listings and aggregates while the demo starts in seconds.
const DefaultRecords = 20000

// Options configure Seed.
type Options struct {
	// Records is the number of call records generated over the 30 months
	// (DefaultRecords when 0). The live-event calls come on top.
	Records int
	// Seed makes the dataset (1 when 0).
	Seed int64
	// Now is the instant the dataset ends at (time.Now when zero).
	Now time.Time
	// Blobs receives the recordings' audio; without it there are no
	// recordings.
	Blobs blob.Store
	// JWTKey signs the user JWT credential; BaseURL is its issuer.
	JWTKey  ed25519.PrivateKey
	BaseURL string
}

// Principal is one credential of the demo: who it is, the secrets needed
// to authenticate as it, and what it is meant to show.
type Principal struct {
	// Name is a stable handle: a user's login, an app's or key's slug.
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
	// Kind is "user", "app", "apiKey" or "jwt".
	Kind string `json:"kind"`
	// Users: id, login and password (and extension, roles, license).
	UserID    string `json:"userId,omitempty"`
	Login     string `json:"login,omitempty"`
	Password  string `json:"password,omitempty"`
	Extension string `json:"extension,omitempty"`
	// Apps: client id and secret, grants; keys and apps: scopes.
	ClientID     string                 `json:"clientId,omitempty"`
	ClientSecret string                 `json:"clientSecret,omitempty"`
	Grants       []string               `json:"grants,omitempty"`
	Scopes       []callvault.Permission `json:"scopes,omitempty"`
	Roles        []string               `json:"roles,omitempty"`
	License      string                 `json:"license,omitempty"`
	// API keys: the key and its subject.
	APIKey  string `json:"apiKey,omitempty"`
	Subject string `json:"subject,omitempty"`
	// JWTs: the signed JWT for the jwt-bearer grant.
	JWT string `json:"jwt,omitempty"`
	// Shows says what the principal is meant to demonstrate.
	Shows string `json:"shows"`
}

// Shape counts what Seed wrote.
type Shape struct {
	Tenants       int            `json:"tenants"`
	Regions       []string       `json:"regions"`
	Sites         int            `json:"sites"`
	Users         int            `json:"users"`
	Apps          int            `json:"apps"`
	Calls         int            `json:"calls"`
	CallsByTenant map[string]int `json:"callsByTenant"`
	ExpiredCalls  int            `json:"expiredCalls"` // older than their tenant's retention
	Recordings    int            `json:"recordings"`
	ActiveCalls   int            `json:"activeCalls"`
	Events        int            `json:"events"`
	AuditRecords  int            `json:"auditRecords"`
	EarliestCall  time.Time      `json:"earliestCall"`
	LatestCall    time.Time      `json:"latestCall"`
	// RecordingIDs are "tenant/id" of every recording.
	RecordingIDs []string `json:"-"`
}

// Demo is what Seed made: the credentials (the only copy of the secrets:
// the store keeps hashes) and handles for a walkthrough.
type Demo struct {
	Tenant string // the walkthrough's tenant, acme
	// The walkthrough's principals, also in Principals.
	AdminLogin, AdminPassword, AdminID string
	AgentLogin, AgentPassword, AgentID string
	OperatorLogin, OperatorPass        string
	AppID, AppSecret                   string // "Acme Sync"
	NarrowAppID, NarrowAppSecret       string // "Call Log Viewer": calls.read only
	OperatorAppID, OperatorSecret      string
	APIKey                             string // maria's: audit.read admin.read
	IngestKey                          string // the PBX connector's: calls.write active_calls.read
	AgentJWT                           string
	// Principals lists every credential of the demo.
	Principals []Principal
	// Examples for the walkthrough.
	RecordingID  string // a recent acme recording
	RecordingLen int64  // its size in bytes
	SiteID       string // acme's first site (NYC-PBX)
	SiteName     string
	ExpiredCall  string // an acme call older than retention, under legal hold
	Shape        Shape
}

// Principal returns the principal named name in tenant, or nil.
func (d *Demo) Principal(tenant, name string) *Principal {
	for i := range d.Principals {
		if p := &d.Principals[i]; p.Tenant == tenant && p.Name == name {
			return p
		}
	}
	return nil
}

// Seeded reports whether the store already holds the demo tenant.
func Seeded(ctx context.Context, st callvault.Store) (bool, error) {
	_, err := st.Tenant(ctx, "acme")
	if callvault.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Seed writes the demo installation and returns its credentials. The
// identities (tenants, sites, users, apps, keys, consents) and their audit
// records go in one transaction; calls, events and recordings follow in
// batches of at most 5000 records per transaction, so memory stays bounded
// for any Records. A seed that fails midway leaves a partial demo: start
// again in a fresh data directory. Passwords are hashed with argon2id and
// secrets with SHA-256 before storage.
func Seed(ctx context.Context, st callvault.Store, o Options) (*Demo, error) {
	if o.Records <= 0 {
		o.Records = DefaultRecords
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Microsecond)
	s := &seeder{o: o, st: st, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x64656d6f)), d: &Demo{Tenant: "acme"}}
	s.d.Shape.CallsByTenant = map[string]int{}
	s.since = o.Now.AddDate(0, -30, 0)
	s.created = s.since.AddDate(0, 0, -7)
	steps := []func(context.Context) error{s.identities, s.calls, s.history}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return s.d, nil
}

// seeder holds the state of one Seed.
type seeder struct {
	o     Options
	st    callvault.Store
	rng   *rand.Rand
	d     *Demo
	since time.Time // the first call
	// created is when the demo's objects "were created": a week before
	// the first call, so the history reads forward.
	created time.Time
	tenants []*tenantSpec
	apps    map[string]*callvault.App // by slug
}

// id returns a deterministic id of the form NewID makes.
func (s *seeder) id(prefix string) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 0, len(prefix)+17)
	b = append(b, prefix...)
	b = append(b, '_')
	for range 16 {
		b = append(b, alphabet[s.rng.IntN(len(alphabet))])
	}
	return string(b)
}

// hashAll hashes the distinct passwords, one per CPU at a time (argon2id
// is slow and takes 19 MiB by design), and returns the hash of each.
func hashAll(passwords []string) (map[string]string, error) {
	slices.Sort(passwords)
	passwords = slices.Compact(passwords)
	hashes := make([]string, len(passwords))
	errs := make([]error, len(passwords))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, pw := range passwords {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			hashes[i], errs[i] = credential.HashPassword(pw)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hashing the demo passwords: %w", err)
	}
	out := make(map[string]string, len(passwords))
	for i, pw := range passwords {
		out[pw] = hashes[i]
	}
	return out, nil
}
