// Package httptestenv is test support for packages built on the native
// server (API faces): a real server from internal/http over a real SQLite
// store in a temporary directory, listening on a real loopback port, and
// seeding helpers that write through the store. Every helper takes a
// testing.TB and fails the test on any unexpected error.
//
// internal/http's own tests keep their in-package fixtures
// (testutil_test.go): they cannot import this package, which imports
// internal/http.
package httptestenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/sqlite"
)

// Password is the password of every user the helpers seed.
const Password = "correct-horse-battery"

// Region is the region of the server and of seeded tenants.
const Region = "us"

// Env is a running server. Its fields are the parts a test may reach into
// directly.
type Env struct {
	Seeder
	Server *cvhttp.Server
	HTTP   *httptest.Server
	URL    string // the listener's base URL, without a trailing slash
	Store  *sqlite.DB
	Writer *audit.Writer
	Blobs  *blob.FS
	JWTKey ed25519.PrivateKey
	Config cvhttp.Config
}

// New starts a server over a new SQLite store in tb.TempDir() with an
// audit writer, a filesystem blob store and signing keys. BaseURL is the
// listener's own URL, so absolute URIs in responses can be followed. opts
// may change the Config before the server is built. Everything is closed
// when the test ends.
func New(tb testing.TB, opts ...func(*cvhttp.Config)) *Env {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "callvault.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	e := &Env{Seeder: Seeder{Store: store}, Store: store, JWTKey: newKey(tb)}
	if e.Blobs, err = blob.NewFS(filepath.Join(tb.TempDir(), "blobs")); err != nil {
		tb.Fatalf("open blob store: %v", err)
	}
	e.Writer = audit.NewWriter(store, newKey(tb), nil, nil)
	cursorKey := make([]byte, 32)
	_, _ = rand.Read(cursorKey)
	// The listener starts first so that BaseURL can be its own address.
	e.HTTP = httptest.NewUnstartedServer(nil)
	e.URL = "http://" + e.HTTP.Listener.Addr().String()
	e.Config = cvhttp.Config{Store: store, Audit: e.Writer, BaseURL: e.URL, Region: Region,
		JWTKey: e.JWTKey, CursorKey: cursorKey, Blobs: e.Blobs}
	for _, o := range opts {
		o(&e.Config)
	}
	e.Server = cvhttp.New(e.Config)
	e.HTTP.Config.Handler = e.Server.Handler()
	e.HTTP.Start()
	tb.Cleanup(func() {
		e.HTTP.Close()
		if err := e.Writer.Close(); err != nil {
			tb.Errorf("close audit writer: %v", err)
		}
		if err := store.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return e
}

func newKey(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Seeder seeds and reads a store through its Store interface: the
// helpers of an Env (SQLite) and of a Node (PostgreSQL).
type Seeder struct {
	Store callvault.Store
}

// MustUpdate runs fn in one store transaction.
func (e Seeder) MustUpdate(tb testing.TB, fn func(tx callvault.Tx) error) {
	tb.Helper()
	if err := e.Store.Update(context.Background(), fn); err != nil {
		tb.Fatalf("store update: %v", err)
	}
}

// MustTenant seeds a tenant in region (Region when ""), UTC, default
// retention, unless it exists, and returns it.
func (e Seeder) MustTenant(tb testing.TB, id, region string) *callvault.Tenant {
	tb.Helper()
	if t, err := e.Store.Tenant(context.Background(), id); err == nil {
		return t
	}
	if region == "" {
		region = Region
	}
	n := now()
	t := &callvault.Tenant{ID: id, Name: "Tenant " + id, Region: region, Timezone: "UTC",
		RetentionDays: callvault.DefaultRetentionDays, AuditRetentionDays: callvault.DefaultAuditRetentionDays,
		AllowedClientRegions: []string{}, CreatedAt: n, UpdatedAt: n}
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.CreateTenant(t) })
	return t
}

// MustUser seeds an active user of tenant with Password, the extension
// number ext ("" for none) and roles.
func (e Seeder) MustUser(tb testing.TB, tenant, login, ext string, roles ...string) *callvault.User {
	tb.Helper()
	hash, err := credential.HashPassword(Password)
	if err != nil {
		tb.Fatal(err)
	}
	n := now()
	u := &callvault.User{TenantID: tenant, ID: callvault.NewID("usr"), Login: login, Name: "User " + login, Extension: ext,
		PasswordHash: hash, Roles: append([]string{}, roles...), SiteScope: []string{}, Status: callvault.UserActive,
		CreatedAt: n, UpdatedAt: n}
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.CreateUser(u) })
	return u
}

// MustApp seeds a confidential app of tenant and returns it with its
// client secret. redirects are its registered redirect URIs.
func (e Seeder) MustApp(tb testing.TB, tenant, name string, grants []string, scopes []callvault.Permission, redirects ...string) (*callvault.App, string) {
	tb.Helper()
	secret := credential.New(credential.PrefixClientSecret)
	n := now()
	a := &callvault.App{TenantID: tenant, ID: callvault.NewID("app"), Name: name, SecretHash: credential.Hash(secret),
		Grants: grants, Scopes: scopes, Roles: []string{}, RedirectURIs: append([]string{}, redirects...),
		CreatedAt: n, UpdatedAt: n}
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.CreateApp(a) })
	return a, secret
}

// MustAudit returns the audit records matching f, in Seq order.
func (e Seeder) MustAudit(tb testing.TB, f callvault.AuditFilter) []*callvault.AuditRecord {
	tb.Helper()
	recs, err := e.Store.AuditRecords(context.Background(), f)
	if err != nil {
		tb.Fatalf("audit records: %v", err)
	}
	return recs
}
