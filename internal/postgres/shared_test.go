package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/storetest"
)

// TestKeysConverge has two nodes (two pools) ask for the same keys at once:
// every caller gets the same bytes, and generate is not called once a key
// is stored.
func TestKeysConverge(t *testing.T) {
	dsn := testDSN(t)
	nodes := []*DB{mustOpen(t, dsn, WithMaxConns(4)), mustOpen(t, dsn, WithMaxConns(4))}
	ctx := context.Background()
	gen := func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	}
	var mu sync.Mutex
	got := map[string][][]byte{}
	var wg sync.WaitGroup
	for _, node := range nodes {
		for range 4 {
			wg.Go(func() {
				for _, name := range []string{"cursor", "jwt-ed25519"} {
					k, err := node.LoadOrCreateKey(ctx, name, gen)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					got[name] = append(got[name], k)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for name, ks := range got {
		for _, k := range ks {
			if len(k) != 32 || !bytes.Equal(k, ks[0]) {
				t.Fatalf("key %s: nodes got different keys: %x and %x", name, k, ks[0])
			}
		}
	}
	k, err := nodes[1].LoadOrCreateKey(ctx, "cursor", func() ([]byte, error) {
		t.Error("generate called for a stored key")
		return nil, errors.New("no")
	})
	if err != nil || !bytes.Equal(k, got["cursor"][0]) {
		t.Errorf("reload: %x, %v", k, err)
	}
	boom := errors.New("boom")
	if _, err := nodes[0].LoadOrCreateKey(ctx, "other", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("generate's error: got %v", err)
	}
	if _, err := nodes[0].LoadOrCreateKey(ctx, "", gen); callvault.ErrorCode(err) != callvault.EInvalid {
		t.Errorf("empty name: %v, want EInvalid", err)
	}
}

// TestRatesShared counts one key from two nodes at once: the upsert is
// atomic, so no increment is lost.
func TestRatesShared(t *testing.T) {
	dsn := testDSN(t)
	nodes := []*DB{mustOpen(t, dsn, WithMaxConns(4)), mustOpen(t, dsn, WithMaxConns(4))}
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for _, node := range nodes {
		for range 4 {
			wg.Go(func() {
				for range 10 {
					if _, err := node.AddRate(ctx, "client:app_x", start); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if n, err := nodes[1].Rate(ctx, "client:app_x", start); err != nil || n != 80 {
		t.Errorf("Rate = %d, %v; want 80", n, err)
	}
	if n, err := nodes[0].Rate(ctx, "client:app_x", start.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("Rate of another window = %d, %v; want 0", n, err)
	}
	if n, err := nodes[0].AddRate(ctx, "client:app_x", start.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("AddRate in a new window = %d, %v; want 1", n, err)
	}
	if err := nodes[0].PruneRates(ctx, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := nodes[0].Rate(ctx, "client:app_x", start); n != 0 {
		t.Errorf("after PruneRates the old window counts %d", n)
	}
	if n, _ := nodes[0].Rate(ctx, "client:app_x", start.Add(time.Minute)); n != 1 {
		t.Errorf("PruneRates deleted the current window (count %d)", n)
	}
}

// TestCopyAllOrNothing fails a COPY in the middle of a batch (a NUL byte,
// which PostgreSQL text refuses) and checks that nothing of the batch is
// stored, even when the transaction goes on and commits, and that the
// ingest sequence did not move.
func TestCopyAllOrNothing(t *testing.T) {
	db := mustOpen(t, testDSN(t))
	ctx := context.Background()
	storetest.MustUpdate(t, db, func(tx callvault.Tx) error {
		return tx.CreateTenant(&callvault.Tenant{ID: "acme", Name: "Acme", Region: "us", Timezone: "UTC",
			RetentionDays: callvault.DefaultRetentionDays, AuditRetentionDays: callvault.DefaultAuditRetentionDays})
	})
	batch := func(prefix string, bad int) []*callvault.CallRecord {
		recs := benchRecords(2000, 7)
		for i, r := range recs {
			r.ID = fmt.Sprintf("%s-%04d", prefix, i)
		}
		if bad >= 0 {
			recs[bad].From.Name = "bad\x00name"
		}
		return recs
	}
	var putErr error
	storetest.MustUpdate(t, db, func(tx callvault.Tx) error {
		_, putErr = tx.PutCalls(batch("a", 1500))
		return nil // commit whatever the transaction still holds
	})
	if putErr == nil {
		t.Fatal("PutCalls with a NUL byte in row 1500 succeeded")
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM calls`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d calls stored after the failed COPY (%v); want 0", n, err)
	}
	if head, err := db.CallIngestHead(ctx, "acme"); err != nil || head != 0 {
		t.Fatalf("CallIngestHead = %d, %v after the failed COPY; want 0", head, err)
	}
	// The same failure returned from Update rolls back; a good batch then
	// numbers from 1.
	err := db.Update(ctx, func(tx callvault.Tx) error {
		_, err := tx.PutCalls(batch("b", 10))
		return err
	})
	if err == nil {
		t.Fatal("Update with a failing PutCalls succeeded")
	}
	var stored []bool
	storetest.MustUpdate(t, db, func(tx callvault.Tx) (err error) {
		stored, err = tx.PutCalls(batch("c", -1))
		return err
	})
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM calls`).Scan(&n); err != nil || n != len(stored) {
		t.Fatalf("%d calls stored, want %d (%v)", n, len(stored), err)
	}
	var lo, hi int64
	if err := db.Pool().QueryRow(ctx, `SELECT min(ingest_seq), max(ingest_seq) FROM calls`).Scan(&lo, &hi); err != nil || lo != 1 || hi != int64(n) {
		t.Errorf("ingest_seq from %d to %d (%v); want 1 to %d", lo, hi, err, n)
	}
}

// cutOffRole returns a DSN of a new login role (dropped when the test ends)
// for the schema of dsn, and functions that make the database unreachable
// for that role (its connection limit drops to 0 and its backends are
// terminated: every query fails as on a server that went away) and
// reachable again. It skips when the base DSN may not create roles.
func cutOffRole(t *testing.T, dsn string) (roleDSN string, cut, restore func()) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, os.Getenv(envDSN))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("%s is not a URL; the cut-off test needs one", envDSN)
	}
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
	cut = func() {
		t.Helper()
		if _, err := admin.Exec(ctx, `ALTER ROLE `+role+` CONNECTION LIMIT 0`); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role); err != nil {
			t.Fatal(err)
		}
	}
	restore = func() {
		t.Helper()
		if _, err := admin.Exec(ctx, `ALTER ROLE `+role+` CONNECTION LIMIT -1`); err != nil {
			t.Fatal(err)
		}
	}
	return u.String(), cut, restore
}

// TestDatabaseGoesAway cuts the store off its database while readers and
// writers run: every failure is EUnavailable and comes back within the
// connect timeout, never a hang; once the database is back, the same store
// serves again.
func TestDatabaseGoesAway(t *testing.T) {
	dsn, cut, restore := cutOffRole(t, testDSN(t))
	db := mustOpen(t, dsn, WithMaxConns(4))
	ctx := context.Background()
	storetest.MustUpdate(t, db, func(tx callvault.Tx) error {
		return tx.CreateTenant(&callvault.Tenant{ID: "acme", Name: "Acme", Region: "us", Timezone: "UTC",
			RetentionDays: callvault.DefaultRetentionDays, AuditRetentionDays: callvault.DefaultAuditRetentionDays})
	})
	op := func(i int) error {
		if i%2 == 0 {
			_, err := db.Tenant(ctx, "acme")
			return err
		}
		return db.Update(ctx, func(tx callvault.Tx) error {
			return tx.AppendAudit(&callvault.AuditRecord{TenantID: "acme", Service: callvault.AuditPlatform,
				DisplayName: "x", Timestamp: time.Now(), EventType: callvault.EventUpdate, EntityType: "site",
				EntityKey: "s", AuditUserID: "usr_x", Outcome: callvault.OutcomeSuccess})
		})
	}
	// Load while the database goes away.
	var stop atomic.Bool
	var unavailable atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; !stop.Load(); i++ {
				start := time.Now()
				err := op(i)
				if d := time.Since(start); d > 2*connectTimeout {
					t.Errorf("an operation took %v", d)
				}
				switch callvault.ErrorCode(err) {
				case "":
				case callvault.EUnavailable:
					unavailable.Add(1)
				default:
					t.Errorf("operation %d: %v, want success or EUnavailable", i, err)
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	cut()
	time.Sleep(300 * time.Millisecond)
	for i := range 2 {
		if err := op(i); callvault.ErrorCode(err) != callvault.EUnavailable {
			t.Errorf("operation %d while cut off: %v, want EUnavailable", i, err)
		}
	}
	restore()
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if unavailable.Load() == 0 {
		t.Error("no operation under load saw the database go away")
	}
	for i := range 4 {
		if err := op(i); err != nil {
			t.Errorf("operation %d after the database is back: %v", i, err)
		}
	}
}

// TestCountRequest counts one key from two nodes at once (no increment
// lost), and checks that the statement's synchronous_commit = off stays
// in its own transaction: the connection's next commits are durable.
func TestCountRequest(t *testing.T) {
	dsn := testDSN(t)
	nodes := []*DB{mustOpen(t, dsn, WithMaxConns(1)), mustOpen(t, dsn, WithMaxConns(1))}
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for _, node := range nodes {
		wg.Go(func() {
			for range 20 {
				if _, err := node.CountRequest(ctx, "genesys/app_x/acme", start); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, err := nodes[0].CountRequest(ctx, "genesys/app_x/acme", start); err != nil || n != 41 {
		t.Errorf("CountRequest = %d, %v; want 41", n, err)
	}
	var sc string
	if err := nodes[0].Pool().QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc); err != nil || sc != "on" {
		t.Errorf("synchronous_commit after CountRequest on the same connection = %q, %v; want on", sc, err)
	}
}

// TestRateKeysClientChosen: rate keys carry values a client chooses (a
// token request's client_id); one longer than a btree entry, with a NUL
// byte or with invalid UTF-8 is counted like any other (AddRate, Rate,
// CountRequest), each apart from the others, instead of failing the
// statement (a 503 for the request).
func TestRateKeysClientChosen(t *testing.T) {
	db := mustOpen(t, testDSN(t))
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	long := make([]byte, 4000)
	for i := range long {
		long[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(i*i*7+i*13)%64^(i/64)%64]
	}
	keys := []string{"client:" + string(long), "client:" + string(long[:3999]), "client:app\x00x", "client:app\xff\xfe", "client:app"}
	for i, k := range keys {
		for j := 1; j <= i+1; j++ {
			if n, err := db.AddRate(ctx, k, start); err != nil || n != j {
				t.Fatalf("AddRate(key %d) = %d, %v; want %d", i, n, err, j)
			}
		}
	}
	for i, k := range keys {
		if n, err := db.Rate(ctx, k, start); err != nil || n != i+1 {
			t.Errorf("Rate(key %d) = %d, %v; want %d", i, n, err, i+1)
		}
		if n, err := db.CountRequest(ctx, "ringcentral/Auth/"+k, start); err != nil || n != 1 {
			t.Errorf("CountRequest(key %d) = %d, %v; want 1", i, n, err)
		}
	}
}

// BenchmarkCountRequest measures one request counter increment (the
// shared request limiter's cost per request) against AddRate's durable
// one.
func BenchmarkCountRequest(b *testing.B) {
	db := mustOpen(b, testDSN(b), WithMaxConns(1))
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	b.Run("CountRequest", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.CountRequest(ctx, "k", start); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddRate-durable", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.AddRate(ctx, "k", start); err != nil {
				b.Fatal(err)
			}
		}
	})
}
