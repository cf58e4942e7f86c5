package http

// Shared test fixtures of the native API: a real server over a real SQLite
// store in a temporary directory, seeding helpers that write through the
// store, and small JSON request helpers. Every helper takes a testing.TB,
// calls tb.Helper() and fails the test on any unexpected error, so tests
// read as a sequence of steps:
//
//	env := newTestEnv(t)
//	acme := env.MustAdmin(t, "acme")             // tenant, admin user, app, token
//	res := acme.Client().Post(t, "/v1/tenants/acme/sites", map[string]any{"name": "HQ"})
//	res.Want(t, http.StatusCreated)
//	site := res.Map(t)

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	"github.com/callvault/callvault/internal/sqlite"
)

// testPassword is the password of every user the helpers seed.
const testPassword = "correct-horse-battery"

// testRegion is the region of the test server and of seeded tenants.
const testRegion = "us"

// testEnv is a running server for tests. Its fields are the parts a test
// may reach into directly: the store (to seed or inspect state), the audit
// writer, the signing keys and the Config the server was built with.
type testEnv struct {
	Server   *Server
	HTTP     *httptest.Server
	URL      string // base URL of the HTTP server, without a trailing slash
	Store    *sqlite.DB
	Writer   *audit.Writer
	Blobs    *blob.FS // recording content, in BlobDir
	BlobDir  string
	AuditKey ed25519.PrivateKey // signs audit checkpoints
	JWTKey   ed25519.PrivateKey // signs user JWT credentials
	Config   Config
}

// newTestEnv starts a server over a new SQLite store in tb.TempDir(), with
// an audit writer, a filesystem blob store, a JWT key and a cursor key,
// region "us" and AuditReads off. Options may change the Config before the server is built (e.g.
// func(c *Config) { c.MaxBodyBytes = 512 }). Everything is closed when the
// test ends.
func newTestEnv(tb testing.TB, opts ...func(*Config)) *testEnv {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "callvault.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	env := &testEnv{Store: store, AuditKey: mustEd25519(tb), JWTKey: mustEd25519(tb), BlobDir: filepath.Join(tb.TempDir(), "blobs")}
	if env.Blobs, err = blob.NewFS(env.BlobDir); err != nil {
		tb.Fatalf("open blob store: %v", err)
	}
	env.Writer = audit.NewWriter(store, env.AuditKey, nil, nil)
	cursorKey := make([]byte, 32)
	_, _ = rand.Read(cursorKey)
	env.Config = Config{Store: store, Audit: env.Writer, BaseURL: "http://callvault.test", Region: testRegion,
		JWTKey: env.JWTKey, CursorKey: cursorKey, Blobs: env.Blobs}
	for _, o := range opts {
		o(&env.Config)
	}
	env.Server = New(env.Config)
	env.HTTP = httptest.NewServer(env.Server.Handler())
	env.URL = env.HTTP.URL
	tb.Cleanup(func() {
		env.HTTP.Close()
		if err := env.Writer.Close(); err != nil {
			tb.Errorf("close audit writer: %v", err)
		}
		if err := store.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return env
}

func mustEd25519(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// MustUpdate runs fn in one store transaction.
func (e *testEnv) MustUpdate(tb testing.TB, fn func(tx callvault.Tx) error) {
	tb.Helper()
	if err := e.Store.Update(context.Background(), fn); err != nil {
		tb.Fatalf("store update: %v", err)
	}
}

// MustTenant seeds a tenant with the given id in region "us" (UTC,
// default retention), unless it exists, and returns it.
func (e *testEnv) MustTenant(tb testing.TB, id string) *callvault.Tenant {
	tb.Helper()
	if t, err := e.Store.Tenant(context.Background(), id); err == nil {
		return t
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	t := &callvault.Tenant{ID: id, Name: "Tenant " + id, Region: testRegion, Timezone: "UTC",
		RetentionDays: callvault.DefaultRetentionDays, AuditRetentionDays: callvault.DefaultAuditRetentionDays,
		AllowedClientRegions: []string{}, CreatedAt: now, UpdatedAt: now}
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.CreateTenant(t) })
	return t
}

// MustUser seeds an active user of tenant with testPassword and the roles.
func (e *testEnv) MustUser(tb testing.TB, tenant, login string, roles ...string) *callvault.User {
	tb.Helper()
	hash, err := credential.HashPassword(testPassword)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &callvault.User{TenantID: tenant, ID: callvault.NewID("usr"), Login: login, Name: "User " + login,
		PasswordHash: hash, Roles: append([]string{}, roles...), SiteScope: []string{}, Status: callvault.UserActive,
		CreatedAt: now, UpdatedAt: now}
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.CreateUser(u) })
	return u
}

// MustApp seeds a confidential app of tenant and returns it with its
// client secret.
func (e *testEnv) MustApp(tb testing.TB, tenant, name string, grants []string, scopes []callvault.Permission, roles ...string) (*callvault.App, string) {
	tb.Helper()
	secret := credential.New(credential.PrefixClientSecret)
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := &callvault.App{TenantID: tenant, ID: callvault.NewID("app"), Name: name, SecretHash: credential.Hash(secret),
		Grants: grants, Scopes: scopes, Roles: append([]string{}, roles...), RedirectURIs: []string{},
		CreatedAt: now, UpdatedAt: now}
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.CreateApp(a) })
	return a, secret
}

// MustToken gets an access token at POST /oauth/token with Basic client
// authentication. form holds the grant's fields (grant_type, username,
// password, tenant, scope, ...).
func (e *testEnv) MustToken(tb testing.TB, clientID, secret string, form url.Values) string {
	tb.Helper()
	res := e.PostForm(tb, "/oauth/token", clientID, secret, form)
	res.Want(tb, http.StatusOK)
	var tr TokenResponse
	res.JSON(tb, &tr)
	return tr.AccessToken
}

// MustPasswordToken gets a user's access token with the password grant.
func (e *testEnv) MustPasswordToken(tb testing.TB, clientID, secret, tenant, login string) string {
	tb.Helper()
	return e.MustToken(tb, clientID, secret, url.Values{"grant_type": {callvault.GrantPassword},
		"username": {login}, "password": {testPassword}, "tenant": {tenant}})
}

// testActor is a signed-in user: its tenant, user, the app it signed in
// through (with the app's secret) and its access token.
type testActor struct {
	env    *testEnv
	Tenant *callvault.Tenant
	User   *callvault.User
	App    *callvault.App
	Secret string
	Token  string
}

// Client returns a client that sends the actor's access token.
func (a *testActor) Client() *testClient { return a.env.Bearer(a.Token) }

// allGrants are the grants of the apps the actor helpers seed.
var allGrants = []string{callvault.GrantPassword, callvault.GrantRefreshToken, callvault.GrantClientCredentials, callvault.GrantJWTBearer}

// MustActor seeds tenant (if needed), a user with roles and an app
// holding scopes with the password, refresh, client_credentials and
// jwt-bearer grants, and signs the user in.
func (e *testEnv) MustActor(tb testing.TB, tenant, login string, scopes []callvault.Permission, roles ...string) *testActor {
	tb.Helper()
	t := e.MustTenant(tb, tenant)
	u := e.MustUser(tb, tenant, login, roles...)
	app, secret := e.MustApp(tb, tenant, "Console of "+tenant+" for "+login, allGrants, scopes)
	tok := e.MustPasswordToken(tb, app.ID, secret, tenant, login)
	return &testActor{env: e, Tenant: t, User: u, App: app, Secret: secret, Token: tok}
}

// tenantScopes are every permission but tenants.manage.
var tenantScopes = func() []callvault.Permission {
	var out []callvault.Permission
	for _, p := range callvault.Permissions {
		if p != callvault.PermTenantsManage {
			out = append(out, p)
		}
	}
	return out
}()

// MustAdmin seeds a tenant admin (role "admin", login "admin-<tenant>")
// signed in through an app holding every tenant permission.
func (e *testEnv) MustAdmin(tb testing.TB, tenant string) *testActor {
	tb.Helper()
	return e.MustActor(tb, tenant, "admin-"+tenant, tenantScopes, callvault.RoleAdmin)
}

// MustOperator seeds an operator (role "operator" in the operator tenant)
// signed in through an app holding every permission.
func (e *testEnv) MustOperator(tb testing.TB) *testActor {
	tb.Helper()
	return e.MustActor(tb, callvault.OperatorTenant, "root", callvault.Permissions, callvault.RoleOperator)
}

// MustAudit returns the audit records matching f, in Seq order.
func (e *testEnv) MustAudit(tb testing.TB, f callvault.AuditFilter) []*callvault.AuditRecord {
	tb.Helper()
	recs, err := e.Store.AuditRecords(context.Background(), f)
	if err != nil {
		tb.Fatalf("audit records: %v", err)
	}
	return recs
}

// testClient sends requests to a testEnv with fixed headers.
type testClient struct {
	env    *testEnv
	header http.Header
}

// Anon returns a client that sends no credential.
func (e *testEnv) Anon() *testClient { return &testClient{env: e, header: http.Header{}} }

// Bearer returns a client that sends an access token.
func (e *testEnv) Bearer(token string) *testClient {
	return &testClient{env: e, header: http.Header{"Authorization": {"Bearer " + token}}}
}

// WithAPIKey returns a client that sends an API key as X-API-Key.
func (e *testEnv) WithAPIKey(key string) *testClient {
	return &testClient{env: e, header: http.Header{"X-Api-Key": {key}}}
}

// Do sends a request to path (relative to the server). body is sent as
// is when it is a string or []byte, marshalled as JSON otherwise, and
// left out when nil; its Content-Type is application/json unless the
// client's headers name one.
func (c *testClient) Do(tb testing.TB, method, path string, body any) *testResponse {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.env.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if rd != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.env.send(tb, req)
}

// Get, Post, Patch and Delete are Do with the method.
func (c *testClient) Get(tb testing.TB, path string) *testResponse {
	tb.Helper()
	return c.Do(tb, http.MethodGet, path, nil)
}

func (c *testClient) Post(tb testing.TB, path string, body any) *testResponse {
	tb.Helper()
	return c.Do(tb, http.MethodPost, path, body)
}

func (c *testClient) Patch(tb testing.TB, path string, body any) *testResponse {
	tb.Helper()
	return c.Do(tb, http.MethodPatch, path, body)
}

func (c *testClient) Delete(tb testing.TB, path string) *testResponse {
	tb.Helper()
	return c.Do(tb, http.MethodDelete, path, nil)
}

// PostForm posts an application/x-www-form-urlencoded body, with HTTP
// Basic client authentication when clientID is not empty.
func (e *testEnv) PostForm(tb testing.TB, path, clientID, secret string, form url.Values) *testResponse {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	return e.send(tb, req)
}

func (e *testEnv) send(tb testing.TB, req *http.Request) *testResponse {
	tb.Helper()
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return &testResponse{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// testResponse is a received response with its whole body.
type testResponse struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

// Want fails the test unless the status is want, showing the body.
func (r *testResponse) Want(tb testing.TB, want int) *testResponse {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("%s %s: status %d, want %d; body: %s", r.Method, r.Path, r.Status, want, r.Body)
	}
	return r
}

// JSON decodes the body into v.
func (r *testResponse) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("%s %s: decode %s: %v", r.Method, r.Path, r.Body, err)
	}
}

// Map decodes a JSON object body.
func (r *testResponse) Map(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	r.JSON(tb, &m)
	return m
}

// Items decodes a list body {"items": [...]}.
func (r *testResponse) Items(tb testing.TB) []map[string]any {
	tb.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
	}
	r.JSON(tb, &l)
	if l.Items == nil {
		tb.Fatalf("%s %s: no items array in %s", r.Method, r.Path, r.Body)
	}
	return l.Items
}

// Problem decodes a problem document body.
func (r *testResponse) Problem(tb testing.TB) Problem {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		tb.Fatalf("%s %s: Content-Type %q, want application/problem+json; body: %s", r.Method, r.Path, ct, r.Body)
	}
	var p Problem
	r.JSON(tb, &p)
	return p
}

// WantProblem fails the test unless the response is a problem with the
// status and, when field is not empty, naming field; it returns it.
func (r *testResponse) WantProblem(tb testing.TB, status int, field string) Problem {
	tb.Helper()
	r.Want(tb, status)
	p := r.Problem(tb)
	if field != "" && p.Field != field {
		tb.Fatalf("%s %s: problem names field %q, want %q; body: %s", r.Method, r.Path, p.Field, field, r.Body)
	}
	return p
}
