package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/postgres/pgtest"
)

// envTestPostgres names the DSN of a PostgreSQL database the tests may
// create schemas (and roles) in; .ci/run sets it.
const envTestPostgres = pgtest.Env

// pgDSN returns a URL DSN whose search_path is a new, empty schema, dropped
// when the test ends; the test skips without envTestPostgres.
func pgDSN(t *testing.T) string { return pgtest.SchemaURL(t, "cvcmd") }

// pgTenant seeds tenant acme with an admin user and an app through the
// offline commands on db, and returns the app's client id and secret.
func pgTenant(t *testing.T, db string) (string, string) {
	t.Helper()
	data := t.TempDir()
	mustRun(t, "", "tenant", "create", "--data", data, "--db", db, "--id", "acme", "--name", "Acme", "--region", "us", "--timezone", "UTC")
	mustRun(t, "admin-password-1\n", "user", "create", "--data", data, "--db", db, "--tenant", "acme", "--login", "admin", "--name", "Ada Admin", "--role", "admin")
	out := mustRun(t, "", "app", "create", "--data", data, "--db", db, "--tenant", "acme", "--name", "Console",
		"--grant", "password", "--scope", "admin.read,admin.write,audit.read,calls.read", "--role", "admin")
	return clientIDRE.FindStringSubmatch(out)[1], secretRE.FindStringSubmatch(out)[1]
}

// TestTwoNodesOnPostgres runs two `callvault serve` on one PostgreSQL
// database, each with its own (empty) data directory: requests to both at
// once leave one valid audit chain whose checkpoints verify with the shared
// key; a token, and a cursor, issued by one node work on the other; failed
// token requests on one node count toward the limit on the other.
func TestTwoNodesOnPostgres(t *testing.T) {
	db := pgDSN(t)
	appID, secret := pgTenant(t, db)
	dataA, dataB := t.TempDir(), t.TempDir()
	baseA, stopA := startServer(t, "--data", dataA, "--db", db, "--purge-interval", "0")
	baseB, stopB := startServer(t, "--data", dataB, "--db", db, "--purge-interval", "0")
	tok := basicToken(t, baseA, appID, secret, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin-password-1"}})
	auth := map[string]string{"Authorization": "Bearer " + tok}

	// (a) Writes and audited reads on both nodes at once.
	var wg sync.WaitGroup
	var failures atomic.Int64
	for n, base := range []string{baseA, baseB} {
		for w := range 3 {
			wg.Go(func() {
				for i := range 6 {
					r := do(t, "POST", base+"/v1/tenants/acme/sites", auth, map[string]any{"name": fmt.Sprintf("Site %d-%d-%d", n, w, i)})
					if r.status != 201 {
						failures.Add(1)
						t.Errorf("node %d: create site = %d %s", n, r.status, r.raw)
						return
					}
					if r := do(t, "GET", base+"/v1/tenants/acme/sites", auth, nil); r.status != 200 {
						failures.Add(1)
						t.Errorf("node %d: list sites = %d %s", n, r.status, r.raw)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.FailNow()
	}

	// (b) A cursor signed by node A opens on node B.
	first := do(t, "GET", baseA+"/v1/tenants/acme/audit?limit=1", auth, nil)
	next, _ := first.body["nextCursor"].(string)
	if first.status != 200 || next == "" {
		t.Fatalf("first audit page on A = %d %s", first.status, first.raw)
	}
	second := do(t, "GET", baseB+"/v1/tenants/acme/audit?limit=1&cursor="+url.QueryEscape(next), auth, nil)
	recs, _ := second.body["records"].([]any)
	if second.status != 200 || len(recs) != 1 {
		t.Fatalf("second audit page on B with A's cursor = %d %s", second.status, second.raw)
	}
	firstRecs, _ := first.body["records"].([]any)
	if seqOf(firstRecs[0]) >= seqOf(recs[0]) {
		t.Errorf("the page from B does not follow A's: %v then %v", firstRecs[0], recs[0])
	}

	// (c) Failed token requests on A count on B (10 a minute by default).
	bad := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"wrong"}}
	for i := range 10 {
		r := do(t, "POST", baseA+"/oauth/token", map[string]string{"Authorization": basicAuth(appID, "cvcs_wrong")}, bad)
		if r.status != 401 {
			t.Fatalf("failed token request %d on A = %d %s", i, r.status, r.raw)
		}
	}
	r := do(t, "POST", baseB+"/oauth/token", map[string]string{"Authorization": basicAuth(appID, secret)}, bad)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("token request on B after 10 failures on A = %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.raw)
	}

	if err := stopA(); err != nil {
		t.Fatalf("stop A: %v", err)
	}
	if err := stopB(); err != nil {
		t.Fatalf("stop B: %v", err)
	}
	// Neither node wrote keys of its own: they are the database's.
	for _, d := range []string{dataA, dataB} {
		if _, err := os.Stat(filepath.Join(d, "keys")); !os.IsNotExist(err) {
			t.Errorf("%s/keys exists (%v); the keys should live in the database", d, err)
		}
	}
	// One chain, every checkpoint signed by the shared key, checked from a
	// third data directory.
	out := mustRun(t, "", "audit", "verify", "--data", t.TempDir(), "--db", db, "--tenant", "acme")
	if !strings.Contains(out, "tenant acme: OK") || strings.Contains(out, " 0 signed checkpoints") {
		t.Fatalf("verify: %s", out)
	}
}

func seqOf(rec any) float64 {
	m, _ := rec.(map[string]any)
	f, _ := m["seq"].(float64)
	return f
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// cutOffRole returns a DSN of a new login role (dropped when the test ends)
// for the schema of db, and functions that make the database unreachable
// for that role (its connection limit drops to 0 and its backends are
// terminated with pg_terminate_backend: every query fails as on a server
// that went away) and reachable again. It skips when the DSN of
// envTestPostgres may not create roles.
func cutOffRole(t *testing.T, db string) (roleDSN string, cut, restore func()) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, os.Getenv(envTestPostgres))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	u, _ := url.Parse(db)
	schema := u.Query().Get("search_path")
	role := "cvrole_" + strings.TrimPrefix(callvault.NewID("r"), "r_")
	pass := strings.TrimPrefix(callvault.NewID("p"), "p_")
	if _, err := admin.Exec(ctx, `CREATE ROLE `+role+` LOGIN PASSWORD '`+pass+`'`); err != nil {
		t.Skipf("cannot create a role to cut off (%v)", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
		_, _ = admin.Exec(ctx, `DROP OWNED BY `+role+` CASCADE`)
		if _, err := admin.Exec(ctx, `DROP ROLE `+role); err != nil {
			t.Logf("drop role %s: %v", role, err)
		}
	})
	if _, err := admin.Exec(ctx, `GRANT ALL ON SCHEMA `+schema+` TO `+role); err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, pass)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	cut = func() {
		exec(`ALTER ROLE ` + role + ` CONNECTION LIMIT 0`)
		exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
	}
	restore = func() { exec(`ALTER ROLE ` + role + ` CONNECTION LIMIT -1`) }
	return u.String(), cut, restore
}

// TestPostgresGoesAway serves on a database that goes away while requests
// run: every answer is 200 or 503 with Retry-After, each within a bound
// (no panic, no hang), and requests succeed again once it is back.
func TestPostgresGoesAway(t *testing.T) {
	db, cut, restore := cutOffRole(t, pgDSN(t))
	appID, secret := pgTenant(t, db)
	base, stop := startServer(t, "--data", t.TempDir(), "--db", db, "--purge-interval", "0")
	tok := basicToken(t, base, appID, secret, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin-password-1"}})
	auth := map[string]string{"Authorization": "Bearer " + tok}
	check := func(r response, took time.Duration) (ok bool) {
		t.Helper()
		if took > 15*time.Second {
			t.Errorf("a request took %v", took)
		}
		switch r.status {
		case 200:
			return true
		case 503:
			if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 1 {
				t.Errorf("503 with Retry-After %q", r.header.Get("Retry-After"))
			}
		default:
			t.Errorf("status %d, want 200 or 503: %s", r.status, r.raw)
		}
		return false
	}
	get := func() (response, time.Duration) {
		start := time.Now()
		r := do(t, "GET", base+"/v1/tenants/acme/sites", auth, nil)
		return r, time.Since(start)
	}
	// Requests in flight while the database goes away.
	var wg sync.WaitGroup
	var stopLoad atomic.Bool
	var saw503 atomic.Int64
	for range 3 {
		wg.Go(func() {
			for !stopLoad.Load() {
				if !check(get()) {
					saw503.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	cut()
	time.Sleep(500 * time.Millisecond)
	r, took := get()
	if check(r, took) || r.status != 503 {
		t.Errorf("with the database gone: %d %s, want 503", r.status, r.raw)
	}
	restore()
	stopLoad.Store(true)
	wg.Wait()
	if saw503.Load() == 0 {
		t.Error("no request in flight saw the database go away")
	}
	// Back: requests succeed again (the pool reconnects).
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, took := get()
		if check(r, took) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 10s after the database came back", r.status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// TestAuditKeyFile: --audit-key signs checkpoints with the key in that
// file instead of the store's (here SQLite's <data>/keys), and audit
// verify needs the same file to accept them.
func TestAuditKeyFile(t *testing.T) {
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "audit.pem")
	mustRun(t, "", "tenant", "create", "--data", data, "--id", "acme", "--name", "Acme")
	_, stop := startServer(t, "--data", data, "--audit-key", keyFile, "--purge-interval", "0")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("the audit key file was not created: %v", err)
	}
	if out := mustRun(t, "", "audit", "verify", "--data", data, "--audit-key", keyFile); !strings.Contains(out, "tenant acme: OK") || strings.Contains(out, " 0 signed checkpoints") {
		t.Fatalf("verify with the key file: %s", out)
	}
	var out, errb syncBuffer
	err := run(context.Background(), []string{"callvault", "audit", "verify", "--data", data}, noEnv, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(out.String(), "invalid signature") {
		t.Fatalf("verify with <data>/keys' key: %v %s", err, out.String())
	}
}
