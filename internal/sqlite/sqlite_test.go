package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/storetest"
)

// mustOpen opens a store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(context.Background(), path, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) callvault.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "callvault.db"))
	})
}

func TestOpenCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "dir", "callvault.db")
	db := mustOpen(t, path)
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("database file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode %v, want 0600", mode)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, p := range []string{"", ":memory:"} {
		if _, err := Open(context.Background(), p); callvault.ErrorCode(err) != callvault.EInvalid {
			t.Errorf("Open(%q): %v, want EInvalid", p, err)
		}
	}
}

func TestPathWithQueryCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd ?name#1.db")
	db := mustOpen(t, path)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "cv.db"))
	pragma := func(q querier, name string) string {
		t.Helper()
		var v string
		if err := q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for _, pool := range []struct {
		name string
		q    querier
	}{{"writer", db.write}, {"reader", db.read}} {
		if got := pragma(pool.q, "journal_mode"); got != "wal" {
			t.Errorf("%s: journal_mode = %q, want wal", pool.name, got)
		}
		if got := pragma(pool.q, "foreign_keys"); got != "1" {
			t.Errorf("%s: foreign_keys = %q, want 1", pool.name, got)
		}
		if got := pragma(pool.q, "synchronous"); got != "2" { // FULL
			t.Errorf("%s: synchronous = %q, want 2 (FULL)", pool.name, got)
		}
		if got := pragma(pool.q, "busy_timeout"); got != "5000" {
			t.Errorf("%s: busy_timeout = %q, want 5000", pool.name, got)
		}
	}
	if got, want := pragma(db.write, "cache_size"), fmt.Sprint(-writerCacheKiB); got != want {
		t.Errorf("writer: cache_size = %s, want %s", got, want)
	}
	if got, want := pragma(db.write, "page_size"), fmt.Sprint(pageSize); got != want {
		t.Errorf("page_size of a new database = %s, want %s", got, want)
	}
	if got, want := pragma(db.write, "wal_autocheckpoint"), fmt.Sprint(writerAutoCheckpoint); got != want {
		t.Errorf("writer: wal_autocheckpoint = %s, want %s", got, want)
	}
	if got := pragma(db.read, "query_only"); got != "1" {
		t.Errorf("reader: query_only = %q, want 1", got)
	}
	if _, err := db.read.ExecContext(ctx, `DELETE FROM tenants`); err == nil {
		t.Errorf("the reader pool accepted a write")
	}
	if got := db.write.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", got)
	}
	if got := db.read.Stats().MaxOpenConnections; got != DefaultReadConns {
		t.Errorf("reader MaxOpenConnections = %d, want %d", got, DefaultReadConns)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cv.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ten := &callvault.Tenant{ID: "acme", Name: "Acme", Region: "us", CreatedAt: time.Now()}
	rec := &callvault.AuditRecord{TenantID: "acme", Service: callvault.AuditPlatform, EventType: callvault.EventCreate,
		EntityType: "Tenant", EntityKey: "acme", Timestamp: time.Now(), Outcome: callvault.OutcomeSuccess}
	if err := db.Update(ctx, func(tx callvault.Tx) error {
		if err := tx.CreateTenant(ten); err != nil {
			return err
		}
		return tx.AppendAudit(rec)
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Close checkpointed the WAL into the main file.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL holds %d bytes after Close, want 0", fi.Size())
	}

	db = mustOpen(t, path)
	got, err := db.Tenant(ctx, "acme")
	if err != nil {
		t.Fatalf("Tenant after reopen: %v", err)
	}
	if got.Name != "Acme" || !got.CreatedAt.Equal(ten.CreatedAt.Truncate(time.Microsecond)) {
		t.Errorf("Tenant after reopen: %+v", got)
	}
	seq, hash, err := db.AuditHead(ctx, "acme")
	if err != nil || seq != 1 || hash != rec.Hash {
		t.Errorf("AuditHead after reopen: (%d, %s, %v), want (1, %s)", seq, hash, err, rec.Hash)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cv.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v == 0 || v != LatestSchemaVersion() {
		t.Errorf("SchemaVersion = %d, want %d", v, LatestSchemaVersion())
	}
	if err := db.Migrate(ctx); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
	db.Close()

	db = mustOpen(t, path)
	if v2, err := db.SchemaVersion(ctx); err != nil || v2 != v {
		t.Errorf("SchemaVersion after reopen = %d, %v; want %d", v2, err, v)
	}
	var rows int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); rows != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", rows, len(ms))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cv.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, path); err == nil {
		db.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

func TestMigrationNames(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %s has version %d, want %d (no gaps)", m.Name, m.Version, i+1)
		}
	}
}

func TestEveryTablePrimaryKeyStartsWithTenant(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "cv.db"))
	rows, err := db.read.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	for _, table := range tables {
		var col string
		err := db.read.QueryRowContext(ctx, `SELECT name FROM pragma_table_info(?) WHERE pk = 1`, table).Scan(&col)
		if err != nil || col != "tenant_id" {
			t.Errorf("table %s: first primary key column %q (%v), want tenant_id", table, col, err)
		}
	}
}

func TestCreateInMissingTenant(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "cv.db"))
	err := db.Update(context.Background(), func(tx callvault.Tx) error {
		return tx.CreateSite(&callvault.Site{TenantID: "nope", ID: "sit_1"})
	})
	if callvault.ErrorCode(err) != callvault.ENotFound {
		t.Errorf("CreateSite in a missing tenant: %v, want ENotFound", err)
	}
}

// A failed AppendAudit leaves nothing behind even when the caller ignores
// the error and commits.
func TestAppendAuditAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "cv.db"))
	first := &callvault.AuditRecord{TenantID: "acme", ID: "aud_0000000000000001", Timestamp: time.Now()}
	if err := db.Update(ctx, func(tx callvault.Tx) error { return tx.AppendAudit(first) }); err != nil {
		t.Fatal(err)
	}
	ok := &callvault.AuditRecord{TenantID: "acme", Timestamp: time.Now()}
	dup := &callvault.AuditRecord{TenantID: "acme", ID: first.ID, Timestamp: time.Now()}
	if err := db.Update(ctx, func(tx callvault.Tx) error {
		if err := tx.AppendAudit(ok, dup); callvault.ErrorCode(err) != callvault.EConflict {
			t.Errorf("AppendAudit with a duplicate: %v, want EConflict", err)
		}
		return nil // commit anyway
	}); err != nil {
		t.Fatal(err)
	}
	if ok.Seq != 0 || ok.ID != "" || ok.Hash != "" {
		t.Errorf("a failed append changed the caller's record: %+v", ok)
	}
	recs, err := db.AuditRecords(ctx, callvault.AuditFilter{TenantID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	seq, _, _ := db.AuditHead(ctx, "acme")
	if len(recs) != 1 || seq != 1 {
		t.Errorf("after a failed append: %d records, head %d; want 1 and 1", len(recs), seq)
	}
}

func TestOpenRaw(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "cv.db"))
	rec := &callvault.AuditRecord{TenantID: "acme", Timestamp: time.Now(), DisplayName: "original"}
	if err := db.Update(ctx, func(tx callvault.Tx) error { return tx.AppendAudit(rec) }); err != nil {
		t.Fatal(err)
	}
	raw, err := OpenRaw(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE audit SET display_name = 'tampered' WHERE tenant_id = 'acme'`); err != nil {
		t.Fatal(err)
	}
	recs, err := db.AuditRecords(ctx, callvault.AuditFilter{TenantID: "acme"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("AuditRecords: %v, %v", recs, err)
	}
	if recs[0].ComputeHash() == recs[0].Hash {
		t.Errorf("a tampered record still matches its hash")
	}
}

func TestDriverDSN(t *testing.T) {
	dsn := driverDSN(connSpec{path: "/data/a b?c#d.db", busyTimeout: time.Second})
	if !strings.HasPrefix(dsn, "file:/data/a%20b%3Fc%23d.db?") {
		t.Errorf("dsn %q does not escape the path", dsn)
	}
	for _, p := range []string{"_foreign_keys=on", "_synchronous=FULL", "_journal_mode=WAL", "_txlock=immediate", "_busy_timeout=1000"} {
		if !strings.Contains(dsn, p) {
			t.Errorf("writer dsn %q lacks %s", dsn, p)
		}
	}
	dsn = driverDSN(connSpec{path: "/x.db", readOnly: true, busyTimeout: time.Second})
	if !strings.Contains(dsn, "_query_only=on") || strings.Contains(dsn, "_txlock") {
		t.Errorf("reader dsn %q", dsn)
	}
}

func BenchmarkAppendAudit(b *testing.B) {
	ctx := context.Background()
	db := mustOpen(b, filepath.Join(b.TempDir(), "cv.db"))
	for b.Loop() {
		rec := &callvault.AuditRecord{TenantID: "acme", Timestamp: time.Now(), EventType: callvault.EventView}
		if err := db.Update(ctx, func(tx callvault.Tx) error { return tx.AppendAudit(rec) }); err != nil {
			b.Fatal(err)
		}
	}
}
