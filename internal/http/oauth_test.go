package http

// End-to-end tests of the OAuth 2.0 endpoints (POST /oauth/token with every
// grant, /oauth/revoke per RFC 7009, /oauth/introspect per RFC 7662), their
// failure rate limiting, their audit records and logs, and of scope
// freshness: a scope removed from an app stops its tokens at once, a scope
// added needs a new token.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// ---- helpers of this file ----

// oaForm builds form values from key, value pairs.
func oaForm(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// oaLenient lifts the failure limit for tests that make many failed token
// requests on purpose and are not about rate limiting (all test requests
// come from 127.0.0.1, so they share one per-address budget).
func oaLenient(c *Config) { c.TokenFailures = 1000 }

// oaClock is a controllable clock for Config.Now.
type oaClock struct {
	mu sync.Mutex
	t  time.Time
}

func newOAClock() *oaClock { return &oaClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *oaClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *oaClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// oaToken posts a token request with HTTP Basic client authentication (or
// none when clientID is empty: then the form carries client_id) and
// returns the success body, failing unless it is a 200 that must not be
// cached.
func (e *testEnv) oaToken(tb testing.TB, clientID, secret string, f url.Values) TokenResponse {
	tb.Helper()
	res := e.PostForm(tb, "/oauth/token", clientID, secret, f).Want(tb, http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("token response Cache-Control = %q, want no-store", cc)
	}
	var tr TokenResponse
	res.JSON(tb, &tr)
	if credential.Check(credential.PrefixAccessToken, tr.AccessToken) != nil {
		tb.Fatalf("token response has no well-formed access token: %s", res.Body)
	}
	return tr
}

// oaErrorBody is an RFC 6749 §5.2 error body.
type oaErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	RequestID   string `json:"requestId"`
}

// wantOAuthError fails the test unless res is an OAuth error response with
// status and code whose description contains every one of contains.
func wantOAuthError(tb testing.TB, res *testResponse, status int, code string, contains ...string) oaErrorBody {
	tb.Helper()
	res.Want(tb, status)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("%s: Content-Type %q, want application/json", res.Path, ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("%s: Cache-Control %q, want no-store", res.Path, cc)
	}
	var b oaErrorBody
	res.JSON(tb, &b)
	if b.Error != code {
		tb.Fatalf("%s: error %q, want %q; body: %s", res.Path, b.Error, code, res.Body)
	}
	if b.Description == "" {
		tb.Errorf("%s: empty error_description: %s", res.Path, res.Body)
	}
	for _, s := range contains {
		if !strings.Contains(b.Description, s) {
			tb.Errorf("%s: error_description %q does not contain %q", res.Path, b.Description, s)
		}
	}
	if b.RequestID == "" || b.RequestID != res.Header.Get("X-Request-Id") {
		tb.Errorf("%s: requestId %q, X-Request-Id %q", res.Path, b.RequestID, res.Header.Get("X-Request-Id"))
	}
	return b
}

// wantDenial fails the test unless res is a problem with status, layer and
// missing thing.
func wantDenial(tb testing.TB, res *testResponse, status int, layer access.Layer, kind, name string) Problem {
	tb.Helper()
	p := res.WantProblem(tb, status, "")
	if p.Layer != layer || p.Missing == nil || p.Missing.Kind != kind || (name != "" && p.Missing.Name != name) {
		tb.Fatalf("%s %s: layer %q missing %+v, want layer %q missing {%s %s}; body: %s",
			res.Method, res.Path, p.Layer, p.Missing, layer, kind, name, res.Body)
	}
	return p
}

// oaIntrospect introspects token as the client and returns the body.
func (e *testEnv) oaIntrospect(tb testing.TB, clientID, secret, token string) map[string]any {
	tb.Helper()
	res := e.PostForm(tb, "/oauth/introspect", clientID, secret, oaForm("token", token)).Want(tb, http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("introspection Cache-Control = %q, want no-store", cc)
	}
	return res.Map(tb)
}

// wantInactive fails unless an introspection answer is exactly
// {"active": false}: nothing about an inactive token may leak.
func wantInactive(tb testing.TB, m map[string]any) {
	tb.Helper()
	if len(m) != 1 || m["active"] != false {
		tb.Errorf("introspection = %v, want exactly {\"active\": false}", m)
	}
}

// oaAuditNew returns the "new" object of a record's details.
func oaAuditNew(tb testing.TB, r *callvault.AuditRecord) map[string]any {
	tb.Helper()
	var d struct {
		New map[string]any `json:"new"`
	}
	if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
		tb.Fatalf("audit details %q: %v", r.Details, err)
	}
	return d.New
}

// oaAuditByRequest returns the records of tenant written by the request
// that res answered.
func (e *testEnv) oaAuditByRequest(tb testing.TB, tenant string, res *testResponse) []*callvault.AuditRecord {
	tb.Helper()
	id := res.Header.Get("X-Request-Id")
	if id == "" {
		tb.Fatalf("%s: no X-Request-Id", res.Path)
	}
	return e.MustAudit(tb, callvault.AuditFilter{TenantID: tenant, RequestID: id})
}

// oaSendFresh sends a form request over a new connection (so from a new
// source port): per-address limiting must not depend on the port.
func (e *testEnv) oaSendFresh(tb testing.TB, path, clientID, secret string, f url.Values, header http.Header) *testResponse {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(f.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		tb.Fatal(err)
	}
	return &testResponse{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Header: resp.Header, Body: b.Bytes()}
}

// oaPostFrom serves a form request in-process as if it came from addr
// (host:port), which httptest's loopback connections cannot do.
func (e *testEnv) oaPostFrom(tb testing.TB, addr, path, clientID, secret string, f url.Values) *testResponse {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	rec := httptest.NewRecorder()
	e.Server.Handler().ServeHTTP(rec, req)
	return &testResponse{Method: req.Method, Path: path, Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	gtCC      = callvault.GrantClientCredentials
	gtPW      = callvault.GrantPassword
	gtJWT     = callvault.GrantJWTBearer
	gtRefresh = callvault.GrantRefreshToken
)

func perms(ps ...callvault.Permission) []callvault.Permission { return ps }

// ---- client_credentials ----

func TestOAuthClientCredentials(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	app, secret := env.MustApp(t, "acme", "Acme Sync", []string{gtCC}, perms(callvault.PermCallsRead, callvault.PermRecordingsRead), callvault.RoleIntegrator)

	t.Run("success", func(t *testing.T) {
		res := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtCC)).Want(t, http.StatusOK)
		if cc, pragma := res.Header.Get("Cache-Control"), res.Header.Get("Pragma"); cc != "no-store" || pragma != "no-cache" {
			t.Errorf("Cache-Control %q, Pragma %q", cc, pragma)
		}
		m := res.Map(t)
		at, _ := m["access_token"].(string)
		if credential.Check(credential.PrefixAccessToken, at) != nil {
			t.Errorf("access_token %v", m["access_token"])
		}
		if m["token_type"] != "Bearer" {
			t.Errorf("token_type %v", m["token_type"])
		}
		if n, ok := m["expires_in"].(float64); !ok || n != 3600 {
			t.Errorf("expires_in %v (%T), want the number 3600", m["expires_in"], m["expires_in"])
		}
		if m["scope"] != "calls.read recordings.read" || m["tenant"] != "acme" {
			t.Errorf("scope %v tenant %v", m["scope"], m["tenant"])
		}
		for _, k := range []string{"refresh_token", "refresh_token_expires_in"} {
			if _, ok := m[k]; ok {
				t.Errorf("client_credentials response has %s: %v", k, m)
			}
		}
		me := env.Bearer(at).Get(t, "/v1/me").Want(t, http.StatusOK).Map(t)
		if me["kind"] != callvault.SubjectApp {
			t.Errorf("GET /v1/me kind %v, want app", me["kind"])
		}
	})

	t.Run("secret in form body", func(t *testing.T) {
		tr := env.oaToken(t, "", "", oaForm("grant_type", gtCC, "client_id", app.ID, "client_secret", secret))
		if tr.Scope != "calls.read recordings.read" {
			t.Errorf("scope %q", tr.Scope)
		}
	})

	t.Run("scope subset", func(t *testing.T) {
		tr := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtCC, "scope", "recordings.read"))
		if tr.Scope != "recordings.read" {
			t.Errorf("scope %q, want recordings.read", tr.Scope)
		}
		// The token carries only what was asked for.
		intro := env.oaIntrospect(t, app.ID, secret, tr.AccessToken)
		if intro["scope"] != "recordings.read" {
			t.Errorf("introspected scope %v", intro["scope"])
		}
	})

	for _, tc := range []struct {
		name, scope string
		contains    []string
	}{
		{"unknown scope", "calls.read bogus.perm", []string{`"bogus.perm"`}},
		{"scope not held", "calls.read audit.read", []string{`"audit.read"`, `"Acme Sync"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtCC, "scope", tc.scope))
			wantOAuthError(t, res, http.StatusBadRequest, "invalid_scope", tc.contains...)
		})
	}

	t.Run("grant not allowed", func(t *testing.T) {
		pwApp, pwSecret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh}, perms(callvault.PermCallsRead))
		res := env.PostForm(t, "/oauth/token", pwApp.ID, pwSecret, oaForm("grant_type", gtCC))
		wantOAuthError(t, res, http.StatusBadRequest, "unauthorized_client", "client_credentials", "[password refresh_token]")
	})

	t.Run("public app refused", func(t *testing.T) {
		// The admin API refuses to make such an app; one seeded directly
		// must still not get a service token.
		now := time.Now().UTC().Truncate(time.Microsecond)
		pub := &callvault.App{TenantID: "acme", ID: callvault.NewID("app"), Name: "Acme Mobile",
			Grants: []string{gtCC, gtPW}, Scopes: perms(callvault.PermCallsRead), Roles: []string{callvault.RoleIntegrator},
			RedirectURIs: []string{}, CreatedAt: now, UpdatedAt: now}
		env.MustUpdate(t, func(tx callvault.Tx) error { return tx.CreateApp(pub) })
		res := env.PostForm(t, "/oauth/token", "", "", oaForm("grant_type", gtCC, "client_id", pub.ID))
		wantOAuthError(t, res, http.StatusBadRequest, "unauthorized_client", "public client")
		// A public client cannot pretend to have a secret either.
		res = env.PostForm(t, "/oauth/token", pub.ID, "cvcs_whatever", oaForm("grant_type", gtCC))
		wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
	})
}

// ---- password ----

func TestOAuthPassword(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	maria := env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh},
		perms(callvault.PermCallsRead, callvault.PermRecordingsRead, callvault.PermAuditRead))
	pw := func(login, password string, extra ...string) url.Values {
		return oaForm(append([]string{"grant_type", gtPW, "username", login, "password", password}, extra...)...)
	}

	t.Run("success", func(t *testing.T) {
		res := env.PostForm(t, "/oauth/token", app.ID, secret, pw("maria", testPassword)).Want(t, http.StatusOK)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		m := res.Map(t)
		rt, _ := m["refresh_token"].(string)
		if credential.Check(credential.PrefixRefreshToken, rt) != nil {
			t.Errorf("refresh_token %v", m["refresh_token"])
		}
		if n, ok := m["refresh_token_expires_in"].(float64); !ok || n != float64(30*24*3600) {
			t.Errorf("refresh_token_expires_in %v", m["refresh_token_expires_in"])
		}
		if n, ok := m["expires_in"].(float64); !ok || n != 3600 {
			t.Errorf("expires_in %v", m["expires_in"])
		}
		if m["token_type"] != "Bearer" || m["tenant"] != "acme" || m["scope"] != "calls.read recordings.read audit.read" {
			t.Errorf("body %v", m)
		}
		me := env.Bearer(m["access_token"].(string)).Get(t, "/v1/me").Want(t, http.StatusOK).Map(t)
		if u, _ := me["user"].(map[string]any); u["id"] != maria.ID {
			t.Errorf("GET /v1/me user %v, want %s", me["user"], maria.ID)
		}
	})

	t.Run("login is case-insensitive", func(t *testing.T) {
		env.oaToken(t, app.ID, secret, pw("MARIA", testPassword))
	})

	t.Run("no user enumeration", func(t *testing.T) {
		wrong := env.PostForm(t, "/oauth/token", app.ID, secret, pw("maria", "not-the-password"))
		unknown := env.PostForm(t, "/oauth/token", app.ID, secret, pw("nobody", "not-the-password"))
		a := wantOAuthError(t, wrong, http.StatusBadRequest, "invalid_grant")
		b := wantOAuthError(t, unknown, http.StatusBadRequest, "invalid_grant")
		a.RequestID, b.RequestID = "", ""
		if a != b {
			t.Errorf("wrong password answered %+v, unknown user %+v: they must be the same", a, b)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "WWW-Authenticate", "Retry-After"} {
			if wrong.Header.Get(h) != unknown.Header.Get(h) {
				t.Errorf("header %s differs: %q vs %q", h, wrong.Header.Get(h), unknown.Header.Get(h))
			}
		}
		for _, s := range []string{"maria", "nobody", "not-the-password"} {
			if bytes.Contains(wrong.Body, []byte(s)) || bytes.Contains(unknown.Body, []byte(s)) {
				t.Errorf("refusal echoes %q: %s / %s", s, wrong.Body, unknown.Body)
			}
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		u := env.MustUser(t, "acme", "dora", callvault.RoleAgent)
		u.Status = callvault.UserDisabled
		env.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateUser(u) })
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, pw("dora", testPassword)),
			http.StatusBadRequest, "invalid_grant", "disabled")
		// Without the right password a disabled user looks like any other.
		b := wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, pw("dora", "not-the-password")),
			http.StatusBadRequest, "invalid_grant")
		if strings.Contains(b.Description, "disabled") {
			t.Errorf("wrong password of a disabled user reveals the status: %q", b.Description)
		}
	})

	t.Run("missing credentials", func(t *testing.T) {
		for _, f := range []url.Values{oaForm("grant_type", gtPW, "username", "maria"), oaForm("grant_type", gtPW, "password", testPassword)} {
			wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, f), http.StatusBadRequest, "invalid_request", "username and password")
		}
	})

	t.Run("tenant needs consent", func(t *testing.T) {
		globex := env.MustAdmin(t, "globex")
		env.MustUser(t, "globex", "gina", callvault.RoleAgent)
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, pw("gina", testPassword, "tenant", "globex")),
			http.StatusBadRequest, "invalid_grant", `"globex"`, "consent")

		globex.Client().Post(t, "/v1/tenants/globex/consents", map[string]any{"appId": app.ID,
			"scopes": []string{"calls.read", "recordings.read"}}).Want(t, http.StatusCreated)
		tr := env.oaToken(t, app.ID, secret, pw("gina", testPassword, "tenant", "globex"))
		if tr.Tenant != "globex" || tr.Scope != "calls.read recordings.read" || tr.RefreshToken == "" {
			t.Errorf("token for globex: tenant %q scope %q (want the app's and consent's common scopes)", tr.Tenant, tr.Scope)
		}
		me := env.Bearer(tr.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK).Map(t)
		if ten, _ := me["tenant"].(map[string]any); ten["id"] != "globex" {
			t.Errorf("GET /v1/me tenant %v", me["tenant"])
		}
		// A scope the app holds but the consent does not.
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, pw("gina", testPassword, "tenant", "globex", "scope", "audit.read")),
			http.StatusBadRequest, "invalid_scope", "consent", "audit.read")
		// A user of the app's home is no user of globex.
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, pw("maria", testPassword, "tenant", "globex")),
			http.StatusBadRequest, "invalid_grant", "invalid resource owner credentials")
	})
}

// ---- jwt-bearer ----

func TestOAuthJWTBearer(t *testing.T) {
	clock := newOAClock()
	env := newTestEnv(t, oaLenient, func(c *Config) { c.Now = clock.Now })
	acme := env.MustAdmin(t, "acme")
	maria := env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Batch", []string{gtJWT, gtRefresh}, perms(callvault.PermCallsRead))
	other, otherSecret := env.MustApp(t, "acme", "Acme Other", []string{gtJWT}, perms(callvault.PermCallsRead))
	creds := "/v1/tenants/acme/jwt-credentials"
	newCred := func(t *testing.T, body map[string]any) (id, jwt string) {
		t.Helper()
		body["userId"] = maria.ID
		body["name"] = "maria's batch"
		m := acme.Client().Post(t, creds, body).Want(t, http.StatusCreated).Map(t)
		id, _ = m["id"].(string)
		jwt, _ = m["jwt"].(string)
		if id == "" || strings.Count(jwt, ".") != 2 {
			t.Fatalf("created credential %v", m)
		}
		return id, jwt
	}
	grant := func(jwt string) url.Values { return oaForm("grant_type", gtJWT, "assertion", jwt) }

	t.Run("exchange", func(t *testing.T) {
		_, jwt := newCred(t, map[string]any{})
		tr := env.oaToken(t, app.ID, secret, grant(jwt))
		if tr.Tenant != "acme" || tr.Scope != "calls.read" || tr.RefreshToken == "" {
			t.Errorf("token %+v", tr)
		}
		me := env.Bearer(tr.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK).Map(t)
		if u, _ := me["user"].(map[string]any); u["id"] != maria.ID {
			t.Errorf("the token speaks for %v, want %s", me["user"], maria.ID)
		}
		intro := env.oaIntrospect(t, app.ID, secret, tr.AccessToken)
		if intro["sub"] != maria.ID {
			t.Errorf("introspected sub %v", intro["sub"])
		}
	})

	t.Run("revoked", func(t *testing.T) {
		id, jwt := newCred(t, map[string]any{})
		env.oaToken(t, app.ID, secret, grant(jwt))
		acme.Client().Delete(t, creds+"/"+id).Want(t, http.StatusNoContent)
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, grant(jwt)), http.StatusBadRequest, "invalid_grant", "revoked", id)
	})

	t.Run("signed by another key", func(t *testing.T) {
		id, _ := newCred(t, map[string]any{})
		now := clock.Now()
		forged, err := credential.SignJWT(mustEd25519(t), env.Config.BaseURL, "acme", maria.ID, id, now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, grant(forged)), http.StatusBadRequest, "invalid_grant", "invalid")
	})

	t.Run("unknown credential", func(t *testing.T) {
		now := clock.Now()
		jwt, err := credential.SignJWT(env.JWTKey, env.Config.BaseURL, "acme", maria.ID, callvault.NewID("jwt"), now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, grant(jwt)), http.StatusBadRequest, "invalid_grant", "not known")
	})

	t.Run("bound to another app", func(t *testing.T) {
		_, jwt := newCred(t, map[string]any{"appId": other.ID})
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, grant(jwt)), http.StatusBadRequest, "invalid_grant", other.ID)
		env.oaToken(t, other.ID, otherSecret, grant(jwt))
	})

	t.Run("malformed or missing assertion", func(t *testing.T) {
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, grant("not.a.jwt")), http.StatusBadRequest, "invalid_grant")
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtJWT)), http.StatusBadRequest, "invalid_request", "assertion")
	})

	// Last: it moves the clock past the credential's expiry.
	t.Run("expired", func(t *testing.T) {
		_, jwt := newCred(t, map[string]any{"expiresInDays": 1})
		env.oaToken(t, app.ID, secret, grant(jwt))
		clock.Advance(25 * time.Hour)
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, grant(jwt)), http.StatusBadRequest, "invalid_grant", "expired")
	})
}

// ---- refresh_token ----

func TestOAuthRefresh(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	admin := env.MustAdmin(t, "acme")
	env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh},
		perms(callvault.PermCallsRead, callvault.PermRecordingsRead, callvault.PermActiveCallsRead))
	other, otherSecret := env.MustApp(t, "acme", "Acme Other", []string{gtPW, gtRefresh}, perms(callvault.PermCallsRead))
	login := func(t *testing.T, scope string) TokenResponse {
		t.Helper()
		f := oaForm("grant_type", gtPW, "username", "maria", "password", testPassword)
		if scope != "" {
			f.Set("scope", scope)
		}
		tr := env.oaToken(t, app.ID, secret, f)
		if tr.RefreshToken == "" {
			t.Fatalf("no refresh token: %+v", tr)
		}
		return tr
	}
	refresh := func(t *testing.T, clientID, clientSecret, rt string, extra ...string) *testResponse {
		t.Helper()
		return env.PostForm(t, "/oauth/token", clientID, clientSecret, oaForm(append([]string{"grant_type", gtRefresh, "refresh_token", rt}, extra...)...))
	}
	wantRevokedAccess := func(t *testing.T, at string) {
		t.Helper()
		wantDenial(t, env.Bearer(at).Get(t, "/v1/me"), http.StatusUnauthorized, access.LayerCredential, access.MissingCredential, "")
	}

	t.Run("rotation and reuse", func(t *testing.T) {
		t1 := login(t, "")
		var t2, t3 TokenResponse
		refresh(t, app.ID, secret, t1.RefreshToken).Want(t, http.StatusOK).JSON(t, &t2)
		if t2.RefreshToken == "" || t2.RefreshToken == t1.RefreshToken || t2.AccessToken == t1.AccessToken {
			t.Fatalf("refresh did not rotate: %+v", t2)
		}
		if t2.Scope != t1.Scope || t2.Tenant != "acme" || t2.RefreshTokenExpiresIn == 0 {
			t.Errorf("refreshed token %+v", t2)
		}
		env.Bearer(t2.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
		// The new refresh token works once.
		refresh(t, app.ID, secret, t2.RefreshToken).Want(t, http.StatusOK).JSON(t, &t3)
		env.Bearer(t3.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)

		// Reuse of the rotated t2 refresh token: refused, and the whole
		// family, the newest access token included, is revoked.
		wantOAuthError(t, refresh(t, app.ID, secret, t2.RefreshToken), http.StatusBadRequest, "invalid_grant", "already used", "revoked")
		for _, at := range []string{t3.AccessToken, t2.AccessToken, t1.AccessToken} {
			wantRevokedAccess(t, at)
		}
		for _, rt := range []string{t3.RefreshToken, t1.RefreshToken} {
			wantOAuthError(t, refresh(t, app.ID, secret, rt), http.StatusBadRequest, "invalid_grant")
		}
		wantInactive(t, env.oaIntrospect(t, app.ID, secret, t3.RefreshToken))
	})

	t.Run("reuse leaves other families alone", func(t *testing.T) {
		a, b := login(t, ""), login(t, "")
		refresh(t, app.ID, secret, a.RefreshToken).Want(t, http.StatusOK)
		wantOAuthError(t, refresh(t, app.ID, secret, a.RefreshToken), http.StatusBadRequest, "invalid_grant")
		env.Bearer(b.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
		refresh(t, app.ID, secret, b.RefreshToken).Want(t, http.StatusOK)
	})

	t.Run("scope narrowing", func(t *testing.T) {
		t1 := login(t, "calls.read recordings.read")
		var t2 TokenResponse
		refresh(t, app.ID, secret, t1.RefreshToken, "scope", "calls.read").Want(t, http.StatusOK).JSON(t, &t2)
		if t2.Scope != "calls.read" {
			t.Errorf("narrowed scope %q", t2.Scope)
		}
		if got := env.oaIntrospect(t, app.ID, secret, t2.AccessToken)["scope"]; got != "calls.read" {
			t.Errorf("introspected scope %v", got)
		}
		// Once narrowed, the family never regains the dropped scope.
		wantOAuthError(t, refresh(t, app.ID, secret, t2.RefreshToken, "scope", "recordings.read"), http.StatusBadRequest, "invalid_scope", "recordings.read")
	})

	t.Run("scope widening refused", func(t *testing.T) {
		t1 := login(t, "calls.read")
		// active_calls.read is held by the app, but was not granted.
		wantOAuthError(t, refresh(t, app.ID, secret, t1.RefreshToken, "scope", "calls.read active_calls.read"),
			http.StatusBadRequest, "invalid_scope", "active_calls.read", "never gain")
		wantOAuthError(t, refresh(t, app.ID, secret, t1.RefreshToken, "scope", "bogus.perm"), http.StatusBadRequest, "invalid_scope", "bogus.perm")
		// The refusal did not spend the refresh token.
		var t2 TokenResponse
		refresh(t, app.ID, secret, t1.RefreshToken).Want(t, http.StatusOK).JSON(t, &t2)
		if t2.Scope != "calls.read" {
			t.Errorf("scope %q", t2.Scope)
		}
	})

	t.Run("app scope removed narrows the refresh", func(t *testing.T) {
		t1 := login(t, "")
		admin.Client().Patch(t, "/v1/tenants/acme/apps/"+app.ID, map[string]any{
			"scopes": []string{"calls.read", "recordings.read"}}).Want(t, http.StatusOK)
		t.Cleanup(func() {
			admin.Client().Patch(t, "/v1/tenants/acme/apps/"+app.ID, map[string]any{
				"scopes": []string{"calls.read", "recordings.read", "active_calls.read"}}).Want(t, http.StatusOK)
		})
		var t2 TokenResponse
		refresh(t, app.ID, secret, t1.RefreshToken).Want(t, http.StatusOK).JSON(t, &t2)
		if t2.Scope != "calls.read recordings.read" {
			t.Errorf("refreshed scope %q, want the app's scopes now", t2.Scope)
		}
	})

	t.Run("another client's refresh token", func(t *testing.T) {
		t1 := login(t, "")
		wantOAuthError(t, refresh(t, other.ID, otherSecret, t1.RefreshToken), http.StatusBadRequest, "invalid_grant", "not known for this client")
		// The attempt neither spent nor revoked it.
		env.Bearer(t1.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
		refresh(t, app.ID, secret, t1.RefreshToken).Want(t, http.StatusOK)
	})

	t.Run("malformed, unknown and access tokens", func(t *testing.T) {
		t1 := login(t, "")
		for _, rt := range []string{"", "garbage", credential.New(credential.PrefixRefreshToken), t1.AccessToken} {
			wantOAuthError(t, refresh(t, app.ID, secret, rt), http.StatusBadRequest, "invalid_grant")
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		t1 := login(t, "")
		u, err := env.Store.UserByLogin(context.Background(), "acme", "maria")
		if err != nil {
			t.Fatal(err)
		}
		u.Status = callvault.UserDisabled
		env.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateUser(u) })
		t.Cleanup(func() {
			u.Status = callvault.UserActive
			env.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateUser(u) })
		})
		wantOAuthError(t, refresh(t, app.ID, secret, t1.RefreshToken), http.StatusBadRequest, "invalid_grant", "disabled")
	})
}

func TestOAuthRefreshExpired(t *testing.T) {
	clock := newOAClock()
	env := newTestEnv(t, func(c *Config) { c.Now = clock.Now; c.RefreshTTL = 2 * time.Hour })
	env.MustUser(t, env.MustTenant(t, "acme").ID, "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh}, perms(callvault.PermCallsRead))
	tr := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtPW, "username", "maria", "password", testPassword))
	if tr.RefreshTokenExpiresIn != 7200 {
		t.Errorf("refresh_token_expires_in %d", tr.RefreshTokenExpiresIn)
	}
	clock.Advance(90 * time.Minute)
	// The access token has expired, the refresh token has not.
	wantDenial(t, env.Bearer(tr.AccessToken).Get(t, "/v1/me"), http.StatusUnauthorized, access.LayerCredential, access.MissingCredential, "")
	wantInactive(t, env.oaIntrospect(t, app.ID, secret, tr.AccessToken))
	var t2 TokenResponse
	env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken)).
		Want(t, http.StatusOK).JSON(t, &t2)
	clock.Advance(3 * time.Hour)
	wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", t2.RefreshToken)),
		http.StatusBadRequest, "invalid_grant", "expired")
}

// ---- client authentication ----

func TestOAuthInvalidClient(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	app, secret := env.MustApp(t, "acme", "Acme Sync", []string{gtCC}, perms(callvault.PermCallsRead))
	cc := oaForm("grant_type", gtCC)
	withForm := func(id, sec string) url.Values {
		f := oaForm("grant_type", gtCC, "client_id", id)
		if sec != "" {
			f.Set("client_secret", sec)
		}
		return f
	}
	cases := []struct {
		name       string
		id, secret string // Basic credentials; "" sends none
		form       url.Values
		basic      bool // the 401 must challenge Basic
	}{
		{"unknown client (Basic)", callvault.NewID("app"), secret, cc, true},
		{"wrong secret (Basic)", app.ID, credential.New(credential.PrefixClientSecret), cc, true},
		{"empty secret (Basic)", app.ID, "", cc, true},
		{"unknown client (form)", "", "", withForm(callvault.NewID("app"), secret), false},
		{"wrong secret (form)", "", "", withForm(app.ID, "cvcs_wrong"), false},
		{"missing secret (form)", "", "", withForm(app.ID, ""), false},
		{"missing client authentication", "", "", cc, false},
	}
	var descs []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res *testResponse
			if tc.id != "" {
				res = env.PostForm(t, "/oauth/token", tc.id, tc.secret, tc.form)
			} else {
				res = env.PostForm(t, "/oauth/token", "", "", tc.form)
			}
			b := wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
			descs = append(descs, b.Description)
			ch := res.Header.Get("WWW-Authenticate")
			if tc.basic && !strings.HasPrefix(ch, "Basic ") {
				t.Errorf("WWW-Authenticate %q, want a Basic challenge", ch)
			}
			if !tc.basic && ch == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if bytes.Contains(res.Body, []byte(secret)) {
				t.Errorf("the refusal echoes the secret")
			}
		})
	}
	// Unknown client and wrong secret read the same: no client enumeration.
	if len(descs) >= 2 && descs[0] != descs[1] {
		t.Errorf("unknown client %q vs wrong secret %q", descs[0], descs[1])
	}
	// Revoke and introspect authenticate the client the same way.
	for _, path := range []string{"/oauth/revoke", "/oauth/introspect"} {
		res := env.PostForm(t, path, app.ID, "cvcs_wrong", oaForm("token", "x"))
		wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: WWW-Authenticate %q", path, res.Header.Get("WWW-Authenticate"))
		}
	}
}

// ---- rate limiting ----

func TestOAuthRateLimit(t *testing.T) {
	clock := newOAClock()
	env := newTestEnv(t, func(c *Config) {
		c.TokenFailures = 3
		c.TokenFailureWindow = time.Minute
		c.Now = clock.Now
	})
	env.MustTenant(t, "acme")
	env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	a, aSecret := env.MustApp(t, "acme", "App A", []string{gtCC, gtPW}, perms(callvault.PermCallsRead))
	b, bSecret := env.MustApp(t, "acme", "App B", []string{gtCC}, perms(callvault.PermCallsRead))
	cc := oaForm("grant_type", gtCC)
	want429 := func(t *testing.T, res *testResponse) {
		t.Helper()
		wantOAuthError(t, res, http.StatusTooManyRequests, "too_many_requests", "retry after")
		ra := res.Header.Get("Retry-After")
		n, err := strconv.Atoi(ra)
		if err != nil || n < 1 || n > 60 {
			t.Errorf("Retry-After %q, want a positive integer of seconds within the window", ra)
		}
	}

	// Three failures from 127.0.0.1, each over its own connection.
	for range 3 {
		wantOAuthError(t, env.oaSendFresh(t, "/oauth/token", a.ID, "cvcs_wrong", cc, nil), http.StatusUnauthorized, "invalid_client")
	}
	t.Run("the client is limited, even with the right secret", func(t *testing.T) {
		want429(t, env.PostForm(t, "/oauth/token", a.ID, aSecret, cc))
		want429(t, env.PostForm(t, "/oauth/introspect", a.ID, aSecret, oaForm("token", "x")))
		want429(t, env.PostForm(t, "/oauth/revoke", a.ID, aSecret, oaForm("token", "x")))
	})
	t.Run("another client from the same address is limited", func(t *testing.T) {
		want429(t, env.oaSendFresh(t, "/oauth/token", b.ID, bSecret, cc, nil))
		// A forwarding header is no way out: the address is the peer's.
		want429(t, env.oaSendFresh(t, "/oauth/token", b.ID, bSecret, cc, http.Header{"X-Forwarded-For": {"198.51.100.7"}, "X-Real-Ip": {"198.51.100.7"}}))
	})
	t.Run("the limit is per address, not global", func(t *testing.T) {
		env.oaPostFrom(t, "192.0.2.10:40000", "/oauth/token", b.ID, bSecret, cc).Want(t, http.StatusOK)
		// ... while client A stays limited wherever it comes from.
		want429(t, env.oaPostFrom(t, "192.0.2.10:40001", "/oauth/token", a.ID, aSecret, cc))
	})
	t.Run("a limited request does not extend the window", func(t *testing.T) {
		clock.Advance(59 * time.Second)
		res := env.PostForm(t, "/oauth/token", a.ID, aSecret, cc)
		want429(t, res)
		if ra := res.Header.Get("Retry-After"); ra != "1" {
			t.Errorf("Retry-After %q one second before the window ends, want 1", ra)
		}
	})
	t.Run("after the window", func(t *testing.T) {
		clock.Advance(2 * time.Second)
		env.oaToken(t, a.ID, aSecret, cc)
		env.oaToken(t, b.ID, bSecret, cc)
	})
	t.Run("grant failures count too", func(t *testing.T) {
		pw := func(p string) url.Values {
			return oaForm("grant_type", gtPW, "username", "maria", "password", p)
		}
		for range 3 {
			wantOAuthError(t, env.PostForm(t, "/oauth/token", a.ID, aSecret, pw("not-the-password")), http.StatusBadRequest, "invalid_grant")
		}
		want429(t, env.PostForm(t, "/oauth/token", a.ID, aSecret, pw(testPassword)))
		clock.Advance(time.Minute)
		env.oaToken(t, a.ID, aSecret, pw(testPassword))
	})
	t.Run("successes do not count", func(t *testing.T) {
		clock.Advance(time.Minute)
		for range 5 {
			env.oaToken(t, b.ID, bSecret, cc)
		}
	})
}

// ---- request errors ----

func TestOAuthRequestErrors(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	app, secret := env.MustApp(t, "acme", "Acme Sync", []string{gtCC}, perms(callvault.PermCallsRead))

	t.Run("unsupported grant_type", func(t *testing.T) {
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", "urn:example:magic")),
			http.StatusBadRequest, "unsupported_grant_type", "urn:example:magic", "client_credentials")
	})
	t.Run("missing grant_type", func(t *testing.T) {
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, url.Values{}), http.StatusBadRequest, "invalid_request", "grant_type")
	})
	t.Run("repeated parameter", func(t *testing.T) {
		f := oaForm("grant_type", gtCC, "scope", "calls.read", "scope", "admin.read")
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, f), http.StatusBadRequest, "invalid_request", "scope")
	})

	for _, tc := range []struct {
		name, contentType, body string
	}{
		{"JSON body", "application/json", `{"grant_type":"client_credentials"}`},
		{"no content type", "", "grant_type=client_credentials"},
		{"text body", "text/plain", "grant_type=client_credentials"},
		{"multipart body", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n"},
		{"body too large", "application/x-www-form-urlencoded", "grant_type=client_credentials&pad=" + strings.Repeat("a", 70<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect"} {
				req, err := http.NewRequest(http.MethodPost, env.URL+path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				req.SetBasicAuth(app.ID, secret)
				wantOAuthError(t, env.send(t, req), http.StatusBadRequest, "invalid_request", "application/x-www-form-urlencoded")
			}
		})
	}
	t.Run("form content type with charset", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, env.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		req.SetBasicAuth(app.ID, secret)
		env.send(t, req).Want(t, http.StatusOK)
	})
	t.Run("credentials in the query string are ignored", func(t *testing.T) {
		res := env.PostForm(t, "/oauth/token?client_id="+app.ID+"&client_secret="+secret+"&grant_type=client_credentials", "", "", url.Values{})
		wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
	})
}

// ---- revoke (RFC 7009) ----

func TestOAuthRevoke(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh, gtCC}, perms(callvault.PermCallsRead), callvault.RoleIntegrator)
	other, otherSecret := env.MustApp(t, "acme", "Acme Other", []string{gtCC}, perms(callvault.PermCallsRead), callvault.RoleIntegrator)
	login := func(t *testing.T) TokenResponse {
		t.Helper()
		return env.oaToken(t, app.ID, secret, oaForm("grant_type", gtPW, "username", "maria", "password", testPassword))
	}
	revoke := func(t *testing.T, id, sec, token string) *testResponse {
		t.Helper()
		res := env.PostForm(t, "/oauth/revoke", id, sec, oaForm("token", token)).Want(t, http.StatusOK)
		if len(bytes.TrimSpace(res.Body)) != 0 {
			t.Errorf("revoke answered a body: %s", res.Body)
		}
		return res
	}

	t.Run("access token", func(t *testing.T) {
		tr := login(t)
		env.Bearer(tr.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
		res := revoke(t, app.ID, secret, tr.AccessToken)
		wantDenial(t, env.Bearer(tr.AccessToken).Get(t, "/v1/me"), http.StatusUnauthorized, access.LayerCredential, access.MissingCredential, "")
		wantInactive(t, env.oaIntrospect(t, app.ID, secret, tr.AccessToken))
		recs := env.oaAuditByRequest(t, "acme", res)
		if len(recs) != 1 || recs[0].Service != callvault.AuditAuth || recs[0].EventType != callvault.EventRevoke ||
			recs[0].Principal != "app:"+app.ID {
			t.Errorf("revocation records %+v", recs)
		}
		// Revoking again is fine and changes nothing.
		revoke(t, app.ID, secret, tr.AccessToken)
	})

	t.Run("refresh token revokes its family", func(t *testing.T) {
		tr := login(t)
		var t2 TokenResponse
		env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken)).
			Want(t, http.StatusOK).JSON(t, &t2)
		revoke(t, app.ID, secret, t2.RefreshToken)
		for _, at := range []string{tr.AccessToken, t2.AccessToken} {
			wantDenial(t, env.Bearer(at).Get(t, "/v1/me"), http.StatusUnauthorized, access.LayerCredential, access.MissingCredential, "")
		}
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", t2.RefreshToken)),
			http.StatusBadRequest, "invalid_grant")
	})

	t.Run("unknown tokens", func(t *testing.T) {
		for _, tok := range []string{credential.New(credential.PrefixAccessToken), credential.New(credential.PrefixRefreshToken), "garbage"} {
			revoke(t, app.ID, secret, tok)
		}
	})

	t.Run("another client's token", func(t *testing.T) {
		tr := login(t)
		svc := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtCC))
		for _, tok := range []string{tr.AccessToken, tr.RefreshToken, svc.AccessToken} {
			revoke(t, other.ID, otherSecret, tok)
		}
		env.Bearer(tr.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
		env.Bearer(svc.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
		env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken)).Want(t, http.StatusOK)
	})

	t.Run("missing token", func(t *testing.T) {
		wantOAuthError(t, env.PostForm(t, "/oauth/revoke", app.ID, secret, url.Values{}), http.StatusBadRequest, "invalid_request", "token")
	})
}

// ---- introspect (RFC 7662) ----

func TestOAuthIntrospect(t *testing.T) {
	clock := newOAClock()
	env := newTestEnv(t, oaLenient, func(c *Config) { c.Now = clock.Now })
	admin := env.MustAdmin(t, "acme")
	maria := env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh, gtCC},
		perms(callvault.PermCallsRead, callvault.PermRecordingsRead), callvault.RoleIntegrator)
	other, otherSecret := env.MustApp(t, "acme", "Acme Other", []string{gtCC}, perms(callvault.PermCallsRead))
	login := func(t *testing.T) TokenResponse {
		t.Helper()
		return env.oaToken(t, app.ID, secret, oaForm("grant_type", gtPW, "username", "maria", "password", testPassword))
	}

	t.Run("active user token", func(t *testing.T) {
		now := clock.Now()
		tr := login(t)
		m := env.oaIntrospect(t, app.ID, secret, tr.AccessToken)
		want := map[string]any{"active": true, "scope": "calls.read recordings.read", "client_id": app.ID, "sub": maria.ID,
			"username": "maria", "token_type": "Bearer", "tenant": "acme",
			"exp": float64(now.Add(time.Hour).Unix()), "iat": float64(now.Unix())}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("introspection %s = %v (%T), want %v", k, m[k], m[k], v)
			}
		}
	})

	t.Run("active service token", func(t *testing.T) {
		tr := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtCC, "scope", "calls.read"))
		m := env.oaIntrospect(t, app.ID, secret, tr.AccessToken)
		if m["active"] != true || m["sub"] != app.ID || m["scope"] != "calls.read" || m["tenant"] != "acme" || m["username"] != nil {
			t.Errorf("introspection %v", m)
		}
	})

	t.Run("refresh token", func(t *testing.T) {
		tr := login(t)
		m := env.oaIntrospect(t, app.ID, secret, tr.RefreshToken)
		if m["active"] != true || m["sub"] != maria.ID || m["token_use"] != "refresh_token" || m["token_type"] == "Bearer" {
			t.Errorf("introspection of a refresh token %v", m)
		}
	})

	t.Run("inactive", func(t *testing.T) {
		revoked := login(t)
		env.PostForm(t, "/oauth/revoke", app.ID, secret, oaForm("token", revoked.AccessToken)).Want(t, http.StatusOK)
		foreign := login(t)
		cases := []struct {
			name, id, secret, token string
		}{
			{"revoked", app.ID, secret, revoked.AccessToken},
			{"unknown", app.ID, secret, credential.New(credential.PrefixAccessToken)},
			{"garbage", app.ID, secret, "garbage"},
			{"another client's", other.ID, otherSecret, foreign.AccessToken},
			{"another client's refresh", other.ID, otherSecret, foreign.RefreshToken},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { wantInactive(t, env.oaIntrospect(t, tc.id, tc.secret, tc.token)) })
		}
		// Still active for its own client.
		if m := env.oaIntrospect(t, app.ID, secret, foreign.AccessToken); m["active"] != true {
			t.Errorf("own token %v", m)
		}
	})

	t.Run("scopes are the ones in force now", func(t *testing.T) {
		tr := login(t)
		admin.Client().Patch(t, "/v1/tenants/acme/apps/"+app.ID, map[string]any{"scopes": []string{"calls.read"}}).Want(t, http.StatusOK)
		if m := env.oaIntrospect(t, app.ID, secret, tr.AccessToken); m["active"] != true || m["scope"] != "calls.read" {
			t.Errorf("after removing recordings.read from the app: %v", m)
		}
		admin.Client().Patch(t, "/v1/tenants/acme/apps/"+app.ID, map[string]any{"scopes": []string{"calls.read", "recordings.read"}}).Want(t, http.StatusOK)
		if m := env.oaIntrospect(t, app.ID, secret, tr.AccessToken); m["scope"] != "calls.read recordings.read" {
			t.Errorf("after adding it back: %v", m)
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		tr := login(t)
		admin.Client().Patch(t, "/v1/tenants/acme/users/"+maria.ID, map[string]any{"status": "disabled"}).Want(t, http.StatusOK)
		wantInactive(t, env.oaIntrospect(t, app.ID, secret, tr.AccessToken))
		admin.Client().Patch(t, "/v1/tenants/acme/users/"+maria.ID, map[string]any{"status": "active"}).Want(t, http.StatusOK)
	})

	t.Run("missing token", func(t *testing.T) {
		wantOAuthError(t, env.PostForm(t, "/oauth/introspect", app.ID, secret, url.Values{}), http.StatusBadRequest, "invalid_request", "token")
	})

	// Last: it moves the clock.
	t.Run("expired", func(t *testing.T) {
		tr := login(t)
		clock.Advance(time.Hour)
		wantInactive(t, env.oaIntrospect(t, app.ID, secret, tr.AccessToken))
		if m := env.oaIntrospect(t, app.ID, secret, tr.RefreshToken); m["active"] != true {
			t.Errorf("the refresh token outlives the access token: %v", m)
		}
	})
}

// ---- scope freshness ----

// TestOAuthScopeFreshness is the seed pain "tokens keep stale scopes": a
// scope removed from an app stops the app's tokens at once; a scope added
// needs a new token, and the denial says so.
func TestOAuthScopeFreshness(t *testing.T) {
	env := newTestEnv(t)
	admin := env.MustAdmin(t, "acme")
	maria := env.MustActor(t, "acme", "maria", perms(callvault.PermCallsRead, callvault.PermAdminRead), callvault.RoleAdmin)
	t1 := maria.Token
	appPath := "/v1/tenants/acme/apps/" + maria.App.ID
	setScopes := func(t *testing.T, scopes ...string) {
		t.Helper()
		var got callvault.App
		admin.Client().Patch(t, appPath, map[string]any{"scopes": scopes}).Want(t, http.StatusOK).JSON(t, &got)
		if callvault.ScopeString(got.Scopes) != strings.Join(scopes, " ") {
			t.Fatalf("app scopes %v, want %v", got.Scopes, scopes)
		}
	}

	env.Bearer(t1).Get(t, "/v1/tenants/acme/users").Want(t, http.StatusOK)

	// Removed: denied at once, with no new token and no cache to wait for.
	setScopes(t, "calls.read")
	p := wantDenial(t, env.Bearer(t1).Get(t, "/v1/tenants/acme/users"), http.StatusForbidden, access.LayerScopes, access.MissingScope, "admin.read")
	if !strings.Contains(p.Detail, "no longer holds") || !strings.Contains(p.Hint, "admin.read") {
		t.Errorf("removed-scope denial: detail %q hint %q", p.Detail, p.Hint)
	}

	// Added: the old token does not gain it, and the denial says to get a
	// new token.
	setScopes(t, "calls.read", "audit.read")
	p = wantDenial(t, env.Bearer(t1).Get(t, "/v1/tenants/acme/audit"), http.StatusForbidden, access.LayerScopes, access.MissingStaleScope, "audit.read")
	if !strings.Contains(p.Hint, "new access token") || !strings.Contains(p.Hint, "never gain") {
		t.Errorf("stale-scope hint %q does not say a new token is needed", p.Hint)
	}
	if p.RequestID == "" {
		t.Error("denial without requestId")
	}
	// The denial is in the audit trail with its trace.
	denials := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", RequestID: p.RequestID})
	if len(denials) != 1 || denials[0].EventType != callvault.EventDeny || !strings.Contains(denials[0].Trace, "stale_scope") {
		t.Errorf("denial records %+v", denials)
	}
	wantDenial(t, env.Bearer(t1).Get(t, "/v1/tenants/acme/users"), http.StatusForbidden, access.LayerScopes, access.MissingScope, "admin.read")

	t2 := env.MustPasswordToken(t, maria.App.ID, maria.Secret, "acme", "maria")
	env.Bearer(t2).Get(t, "/v1/tenants/acme/audit").Want(t, http.StatusOK)
	wantDenial(t, env.Bearer(t2).Get(t, "/v1/tenants/acme/users"), http.StatusForbidden, access.LayerScopes, access.MissingScope, "admin.read")

	// Putting admin.read back revives t1 for it (it was granted), but t1
	// still lacks audit.read.
	setScopes(t, "calls.read", "admin.read", "audit.read")
	env.Bearer(t1).Get(t, "/v1/tenants/acme/users").Want(t, http.StatusOK)
	wantDenial(t, env.Bearer(t1).Get(t, "/v1/tenants/acme/audit"), http.StatusForbidden, access.LayerScopes, access.MissingStaleScope, "audit.read")
}

func TestOAuthConsentRevoked(t *testing.T) {
	env := newTestEnv(t)
	env.MustAdmin(t, "acme")
	globex := env.MustAdmin(t, "globex")
	env.MustUser(t, "globex", "gina", callvault.RoleAdmin)
	vendor, secret := env.MustApp(t, "acme", "Acme Analytics", allGrants,
		perms(callvault.PermCallsRead, callvault.PermAdminRead, callvault.PermAuditRead))
	consents := "/v1/tenants/globex/consents"
	admit := func(t *testing.T) {
		t.Helper()
		globex.Client().Post(t, consents, map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read"}, "roles": []string{"auditor"}}).
			Want(t, http.StatusCreated)
	}
	forGlobex := oaForm("grant_type", gtCC, "tenant", "globex")
	userForGlobex := oaForm("grant_type", gtPW, "username", "gina", "password", testPassword, "tenant", "globex")

	t.Run("DELETE consent", func(t *testing.T) {
		admit(t)
		svc := env.oaToken(t, vendor.ID, secret, forGlobex)
		user := env.oaToken(t, vendor.ID, secret, userForGlobex)
		home := env.oaToken(t, vendor.ID, secret, oaForm("grant_type", gtCC))
		if svc.Scope != "admin.read" || user.Scope != "admin.read" {
			t.Errorf("scopes under the consent: %q, %q", svc.Scope, user.Scope)
		}
		for _, at := range []string{svc.AccessToken, user.AccessToken} {
			env.Bearer(at).Get(t, "/v1/tenants/globex/users").Want(t, http.StatusOK)
		}
		globex.Client().Delete(t, consents+"/"+vendor.ID).Want(t, http.StatusNoContent)
		for _, at := range []string{svc.AccessToken, user.AccessToken} {
			wantDenial(t, env.Bearer(at).Get(t, "/v1/tenants/globex/users"), http.StatusUnauthorized, access.LayerCredential, access.MissingCredential, "")
			wantInactive(t, env.oaIntrospect(t, vendor.ID, secret, at))
		}
		wantOAuthError(t, env.PostForm(t, "/oauth/token", vendor.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", user.RefreshToken)),
			http.StatusBadRequest, "invalid_grant")
		wantOAuthError(t, env.PostForm(t, "/oauth/token", vendor.ID, secret, forGlobex), http.StatusBadRequest, "invalid_grant", "globex")
		// The app's tokens at home are untouched.
		env.Bearer(home.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
	})

	t.Run("revoked consent without revoked tokens", func(t *testing.T) {
		// Even if a token escaped revocation, the engine reads the consent
		// now: the tenant layer refuses it.
		globex.Client().Post(t, consents, map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read"}, "roles": []string{"auditor"}}).
			Want(t, http.StatusOK)
		user := env.oaToken(t, vendor.ID, secret, userForGlobex)
		env.MustUpdate(t, func(tx callvault.Tx) error {
			c, err := tx.Consent(context.Background(), "globex", vendor.ID)
			if err != nil {
				return err
			}
			c.RevokedAt = time.Now().UTC().Truncate(time.Microsecond)
			return tx.PutConsent(c)
		})
		wantDenial(t, env.Bearer(user.AccessToken).Get(t, "/v1/tenants/globex/users"), http.StatusForbidden, access.LayerTenant, access.MissingConsent, vendor.ID)
		wantInactive(t, env.oaIntrospect(t, vendor.ID, secret, user.AccessToken))
		wantOAuthError(t, env.PostForm(t, "/oauth/token", vendor.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", user.RefreshToken)),
			http.StatusBadRequest, "invalid_grant", "consent")
	})

	t.Run("consent scope removed", func(t *testing.T) {
		globex.Client().Post(t, consents, map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read", "audit.read"}, "roles": []string{"auditor"}}).
			Want(t, http.StatusOK)
		user := env.oaToken(t, vendor.ID, secret, userForGlobex)
		env.Bearer(user.AccessToken).Get(t, "/v1/tenants/globex/audit").Want(t, http.StatusOK)
		globex.Client().Post(t, consents, map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read"}, "roles": []string{"auditor"}}).
			Want(t, http.StatusOK)
		wantDenial(t, env.Bearer(user.AccessToken).Get(t, "/v1/tenants/globex/audit"), http.StatusForbidden, access.LayerScopes, access.MissingScope, "audit.read")
		if m := env.oaIntrospect(t, vendor.ID, secret, user.AccessToken); m["scope"] != "admin.read" {
			t.Errorf("introspected scope under the narrowed consent: %v", m)
		}
	})
}

// ---- audit ----

func TestOAuthAudit(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	globex := env.MustAdmin(t, "globex")
	maria := env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	gina := env.MustUser(t, "globex", "gina", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh, gtCC}, perms(callvault.PermCallsRead), callvault.RoleIntegrator)
	globex.Client().Post(t, "/v1/tenants/globex/consents", map[string]any{"appId": app.ID, "scopes": []string{"calls.read"}}).
		Want(t, http.StatusCreated)
	const wrongPassword = "Tr0ub4dor&3-not-it"

	t.Run("issue", func(t *testing.T) {
		res := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtCC)).Want(t, http.StatusOK)
		recs := env.oaAuditByRequest(t, "acme", res)
		if len(recs) != 1 {
			t.Fatalf("issue records %+v", recs)
		}
		r := recs[0]
		if r.Service != callvault.AuditAuth || r.EventType != callvault.EventIssue || r.EntityType != "token" ||
			r.Outcome != callvault.OutcomeSuccess || r.Principal != "app:"+app.ID || r.AuditUserID != app.ID || r.DisplayName != "Acme Console" {
			t.Errorf("issue record %+v", r)
		}
		if d := oaAuditNew(t, r); d["grant"] != gtCC || d["scope"] != "calls.read" || d["refresh"] != false || d["rotated"] != false {
			t.Errorf("issue details %v", d)
		}
	})

	t.Run("issue in the target tenant", func(t *testing.T) {
		res := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtPW, "username", "gina", "password", testPassword, "tenant", "globex")).
			Want(t, http.StatusOK)
		recs := env.oaAuditByRequest(t, "globex", res)
		if len(recs) != 1 || recs[0].EventType != callvault.EventIssue || recs[0].Principal != "user:"+gina.ID+" via app:"+app.ID ||
			recs[0].AuditUserID != gina.ID {
			t.Errorf("issue records in globex %+v", recs)
		}
		if home := env.oaAuditByRequest(t, "acme", res); len(home) != 0 {
			t.Errorf("a foreign-tenant issuance wrote into the app's home: %+v", home)
		}
	})

	t.Run("refuse", func(t *testing.T) {
		for _, tenant := range []string{"", "globex"} {
			f := oaForm("grant_type", gtPW, "username", "maria", "password", wrongPassword)
			if tenant != "" {
				f.Set("tenant", tenant)
			}
			res := env.PostForm(t, "/oauth/token", app.ID, secret, f)
			wantOAuthError(t, res, http.StatusBadRequest, "invalid_grant")
			if recs := env.oaAuditByRequest(t, "globex", res); len(recs) != 0 {
				t.Errorf("a refusal was written into the target tenant: %+v", recs)
			}
			recs := env.oaAuditByRequest(t, "acme", res)
			if len(recs) != 1 {
				t.Fatalf("refuse records %+v", recs)
			}
			r := recs[0]
			if r.Service != callvault.AuditAuth || r.EventType != callvault.EventRefuse || r.Outcome != callvault.OutcomeDenied ||
				r.Principal != "app:"+app.ID || r.EntityKey != app.ID {
				t.Errorf("refuse record %+v", r)
			}
			d := oaAuditNew(t, r)
			if d["error"] != "invalid_grant" || d["grant"] != gtPW || d["username"] != "maria" {
				t.Errorf("refuse details %v", d)
			}
			j, _ := json.Marshal(r)
			if bytes.Contains(j, []byte(wrongPassword)) || bytes.Contains(j, []byte(url.QueryEscape(wrongPassword))) {
				t.Errorf("the refusal record holds the password: %s", j)
			}
		}
	})

	t.Run("refuse invalid client", func(t *testing.T) {
		wrong := credential.New(credential.PrefixClientSecret)
		res := env.PostForm(t, "/oauth/token", app.ID, wrong, oaForm("grant_type", gtCC))
		wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
		recs := env.oaAuditByRequest(t, "acme", res)
		if len(recs) != 1 || recs[0].EventType != callvault.EventRefuse || oaAuditNew(t, recs[0])["error"] != "invalid_client" {
			t.Fatalf("invalid_client records %+v", recs)
		}
		if j, _ := json.Marshal(recs[0]); bytes.Contains(j, []byte(wrong)) {
			t.Errorf("the refusal record holds the client secret: %s", j)
		}
	})

	t.Run("rotation and reuse", func(t *testing.T) {
		tr := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtPW, "username", "maria", "password", testPassword))
		rot := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken)).Want(t, http.StatusOK)
		recs := env.oaAuditByRequest(t, "acme", rot)
		if len(recs) != 1 || recs[0].EventType != callvault.EventIssue || recs[0].Principal != "user:"+maria.ID+" via app:"+app.ID {
			t.Fatalf("rotation records %+v", recs)
		}
		if d := oaAuditNew(t, recs[0]); d["rotated"] != true || d["grant"] != gtPW || d["refresh"] != true {
			t.Errorf("rotation details %v", d)
		}
		family := recs[0].EntityKey

		reuse := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken))
		wantOAuthError(t, reuse, http.StatusBadRequest, "invalid_grant")
		recs = env.oaAuditByRequest(t, "acme", reuse)
		var revoked, refused bool
		for _, r := range recs {
			switch r.EventType {
			case callvault.EventRevoke:
				revoked = r.EntityKey == family && r.Service == callvault.AuditAuth
			case callvault.EventRefuse:
				refused = oaAuditNew(t, r)["error"] == "invalid_grant" && oaAuditNew(t, r)["grant"] == gtRefresh
			}
		}
		if !revoked || !refused {
			t.Errorf("reuse records (want the family's revocation and the refusal) %+v", recs)
		}
		for _, r := range recs {
			if j, _ := json.Marshal(r); bytes.Contains(j, []byte(tr.RefreshToken)) {
				t.Errorf("a record holds the refresh token: %s", j)
			}
		}
	})

	t.Run("reuse in a foreign tenant is recorded there", func(t *testing.T) {
		tr := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtPW, "username", "gina", "password", testPassword, "tenant", "globex"))
		env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken)).Want(t, http.StatusOK)
		reuse := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken))
		wantOAuthError(t, reuse, http.StatusBadRequest, "invalid_grant")
		recs := env.oaAuditByRequest(t, "globex", reuse)
		if len(recs) != 1 || recs[0].EventType != callvault.EventRevoke {
			t.Errorf("globex records of the reuse %+v", recs)
		}
	})
}

// oaFailingStore fails the audit record of a token issuance inside the
// issuing transaction, and remembers the tokens that transaction created.
type oaFailingStore struct {
	callvault.Store
	mu      sync.Mutex
	created []string
}

func (s *oaFailingStore) Update(ctx context.Context, fn func(tx callvault.Tx) error) error {
	return s.Store.Update(ctx, func(tx callvault.Tx) error { return fn(&oaFailingTx{Tx: tx, s: s}) })
}

type oaFailingTx struct {
	callvault.Tx
	s *oaFailingStore
}

func (t *oaFailingTx) CreateToken(tok *callvault.Token) error {
	t.s.mu.Lock()
	t.s.created = append(t.s.created, tok.Hash)
	t.s.mu.Unlock()
	return t.Tx.CreateToken(tok)
}

func (t *oaFailingTx) AppendAudit(recs ...*callvault.AuditRecord) error {
	for _, r := range recs {
		if r.Service == callvault.AuditAuth && r.EventType == callvault.EventIssue {
			return errors.New("injected audit failure")
		}
	}
	return t.Tx.AppendAudit(recs...)
}

// TestOAuthIssueAuditAtomic: a token whose issuance cannot be audited is
// not issued; and a server-side failure is not the client's failure, so it
// does not count towards the client's rate limit.
func TestOAuthIssueAuditAtomic(t *testing.T) {
	var fs *oaFailingStore
	env := newTestEnv(t, func(c *Config) {
		fs = &oaFailingStore{Store: c.Store}
		c.Store = fs
		c.TokenFailures = 1
	})
	env.MustTenant(t, "acme")
	app, secret := env.MustApp(t, "acme", "Acme Sync", []string{gtCC}, perms(callvault.PermCallsRead))
	res := env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtCC))
	wantOAuthError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable")
	if bytes.Contains(res.Body, []byte("cvat_")) {
		t.Errorf("a failed issuance answered a token: %s", res.Body)
	}
	fs.mu.Lock()
	created := append([]string{}, fs.created...)
	fs.mu.Unlock()
	if len(created) == 0 {
		t.Fatal("the issuing transaction created no token")
	}
	for _, h := range created {
		if _, err := env.Store.Token(context.Background(), h); !callvault.IsNotFound(err) {
			t.Errorf("token %s… survived its failed issuance: %v", h[:8], err)
		}
	}
	if recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EventTypes: []string{callvault.EventIssue}}); len(recs) != 0 {
		t.Errorf("issue records %+v", recs)
	}
	for range 2 {
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtCC)), http.StatusServiceUnavailable, "temporarily_unavailable")
	}
}

// ---- secrets never logged ----

func TestOAuthSecretsNeverLogged(t *testing.T) {
	var buf syncBuffer
	env := newTestEnv(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	acme := env.MustAdmin(t, "acme")
	maria := env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", allGrants, perms(callvault.PermCallsRead), callvault.RoleIntegrator)
	const wrongPassword = "hunter2-but-longer"
	wrongSecret := credential.New(credential.PrefixClientSecret)
	secrets := []string{secret, wrongSecret, testPassword, wrongPassword, acme.Secret, acme.Token}
	keep := func(tr TokenResponse) {
		secrets = append(secrets, tr.AccessToken)
		if tr.RefreshToken != "" {
			secrets = append(secrets, tr.RefreshToken)
		}
	}
	pw := func(p string) url.Values {
		return oaForm("grant_type", gtPW, "username", "maria", "password", p)
	}

	// Good requests.
	svc := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtCC))
	keep(svc)
	user := env.oaToken(t, "", "", oaForm("grant_type", gtPW, "username", "maria", "password", testPassword, "client_id", app.ID, "client_secret", secret))
	keep(user)
	var rotated TokenResponse
	env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", user.RefreshToken)).Want(t, http.StatusOK).JSON(t, &rotated)
	keep(rotated)
	j := acme.Client().Post(t, "/v1/tenants/acme/jwt-credentials", map[string]any{"userId": maria.ID, "name": "batch"}).Want(t, http.StatusCreated).Map(t)
	jwt := j["jwt"].(string)
	secrets = append(secrets, jwt)
	keep(env.oaToken(t, app.ID, secret, oaForm("grant_type", gtJWT, "assertion", jwt)))
	env.Bearer(svc.AccessToken).Get(t, "/v1/me").Want(t, http.StatusOK)
	env.oaIntrospect(t, app.ID, secret, rotated.AccessToken)

	// Bad requests.
	env.PostForm(t, "/oauth/token", app.ID, wrongSecret, oaForm("grant_type", gtCC)).Want(t, http.StatusUnauthorized)
	env.PostForm(t, "/oauth/token", "", "", oaForm("grant_type", gtCC, "client_id", app.ID, "client_secret", wrongSecret)).Want(t, http.StatusUnauthorized)
	env.PostForm(t, "/oauth/token", callvault.NewID("app"), secret, oaForm("grant_type", gtCC)).Want(t, http.StatusUnauthorized)
	env.PostForm(t, "/oauth/token", app.ID, secret, pw(wrongPassword)).Want(t, http.StatusBadRequest)
	env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtPW, "username", "nobody", "password", testPassword)).Want(t, http.StatusBadRequest)
	env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", user.RefreshToken)).Want(t, http.StatusBadRequest) // reuse
	env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtJWT, "assertion", jwt+"x")).Want(t, http.StatusBadRequest)
	env.PostForm(t, "/oauth/token?client_secret="+url.QueryEscape(secret), app.ID, secret, oaForm("grant_type", "nope")).Want(t, http.StatusBadRequest)
	env.Bearer(rotated.AccessToken).Get(t, "/v1/me").Want(t, http.StatusUnauthorized) // revoked by the reuse
	env.Bearer(user.RefreshToken).Get(t, "/v1/me").Want(t, http.StatusUnauthorized)
	env.Bearer(credential.New(credential.PrefixAccessToken)).Get(t, "/v1/me").Want(t, http.StatusUnauthorized)
	env.Anon().Get(t, "/v1/me?access_token="+svc.AccessToken).Want(t, http.StatusUnauthorized)
	env.PostForm(t, "/oauth/revoke", app.ID, secret, oaForm("token", svc.AccessToken)).Want(t, http.StatusOK)
	env.PostForm(t, "/oauth/introspect", app.ID, wrongSecret, oaForm("token", svc.AccessToken)).Want(t, http.StatusUnauthorized)

	env.HTTP.Close() // waits for every handler, so every log line is written
	log := buf.String()
	if !strings.Contains(log, "/oauth/token") {
		t.Fatalf("the server logged no token requests; log:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) || strings.Contains(log, url.QueryEscape(s)) {
			t.Errorf("the log holds a secret %s", credential.Hint(s))
		}
	}
	// Nor does the audit trail.
	for _, tenant := range []string{"acme"} {
		for _, r := range env.MustAudit(t, callvault.AuditFilter{TenantID: tenant}) {
			rec, _ := json.Marshal(r)
			for _, s := range secrets {
				if bytes.Contains(rec, []byte(s)) {
					t.Errorf("audit record %s %s/%s holds a secret %s", r.ID, r.Service, r.EventType, credential.Hint(s))
				}
			}
		}
	}
}

// TestOAuthRefreshConcurrentReuse: two uses of one refresh token at the
// same moment are reuse too, whichever wins the race. Only one may be
// exchanged, and then the whole family is revoked, the winner's new tokens
// included: otherwise a thief racing the client would keep a live family.
func TestOAuthRefreshConcurrentReuse(t *testing.T) {
	env := newTestEnv(t, oaLenient)
	env.MustTenant(t, "acme")
	env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "Acme Console", []string{gtPW, gtRefresh}, perms(callvault.PermCallsRead))
	for round := range 5 {
		tr := env.oaToken(t, app.ID, secret, oaForm("grant_type", gtPW, "username", "maria", "password", testPassword))
		const n = 6
		var wg sync.WaitGroup
		res := make([]*testResponse, n)
		errs := make([]error, n)
		start := make(chan struct{})
		body := oaForm("grant_type", gtRefresh, "refresh_token", tr.RefreshToken).Encode()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequest(http.MethodPost, env.URL+"/oauth/token", strings.NewReader(body))
				if err != nil {
					errs[i] = err
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(app.ID, secret)
				<-start
				resp, err := env.HTTP.Client().Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				defer resp.Body.Close()
				var b bytes.Buffer
				_, errs[i] = b.ReadFrom(resp.Body)
				res[i] = &testResponse{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Header: resp.Header, Body: b.Bytes()}
			}()
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var won []TokenResponse
		for _, r := range res {
			switch r.Status {
			case http.StatusOK:
				var w TokenResponse
				r.JSON(t, &w)
				won = append(won, w)
			case http.StatusBadRequest:
				wantOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
			default:
				t.Fatalf("round %d: status %d: %s", round, r.Status, r.Body)
			}
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d concurrent uses of one refresh token succeeded, want 1", round, len(won))
		}
		wantDenial(t, env.Bearer(won[0].AccessToken).Get(t, "/v1/me"), http.StatusUnauthorized, access.LayerCredential, access.MissingCredential, "")
		wantOAuthError(t, env.PostForm(t, "/oauth/token", app.ID, secret, oaForm("grant_type", gtRefresh, "refresh_token", won[0].RefreshToken)),
			http.StatusBadRequest, "invalid_grant")
	}
}

func TestNoRefreshTokenForAppsThatCannotRedeemIt(t *testing.T) {
	env := newTestEnv(t)
	env.MustTenant(t, "acme")
	env.MustUser(t, "acme", "maria", callvault.RoleAgent)
	app, secret := env.MustApp(t, "acme", "No Refresh", []string{callvault.GrantPassword}, []callvault.Permission{callvault.PermCallsRead})
	res := env.PostForm(t, "/oauth/token", app.ID, secret, url.Values{"grant_type": {"password"}, "username": {"maria"}, "password": {testPassword}}).Want(t, 200)
	if m := res.Map(t); m["refresh_token"] != nil || m["refresh_token_expires_in"] != nil {
		t.Fatalf("refresh token issued to an app without the refresh_token grant: %v", m)
	}
}
