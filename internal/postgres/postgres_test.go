package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/postgres/pgtest"
	"github.com/callvault/callvault/internal/storetest"
)

// envDSN names the environment variable with the DSN of a PostgreSQL
// database the tests may create schemas in.
const envDSN = pgtest.Env

// testDSN returns a DSN whose search_path is a new, empty schema, dropped
// when the test ends; the test skips when envDSN is not set.
func testDSN(tb testing.TB) string { return pgtest.Schema(tb, "cvtest") }

// mustOpen opens a store on dsn and closes it when the test ends.
func mustOpen(tb testing.TB, dsn string, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) callvault.Store {
		return mustOpen(t, testDSN(t))
	})
}

func TestMigrateIdempotent(t *testing.T) {
	dsn := testDSN(t)
	db := mustOpen(t, dsn)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	v, err := db.SchemaVersion(context.Background())
	if err != nil || v != LatestSchemaVersion() {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	// A second node opening the same database finds it migrated.
	mustOpen(t, dsn)
}

// TestTwoNodesOneChain appends to one tenant's audit chain from two stores
// (two pools: two callvault nodes) on one database at once, and checks that
// the result is one valid chain with every record in it.
func TestTwoNodesOneChain(t *testing.T) {
	dsn := testDSN(t)
	nodes := []*DB{mustOpen(t, dsn, WithMaxConns(4)), mustOpen(t, dsn, WithMaxConns(4))}
	ctx := context.Background()
	const tenant = "acme"
	storetest.MustUpdate(t, nodes[0], func(tx callvault.Tx) error {
		return tx.CreateTenant(&callvault.Tenant{ID: tenant, Name: "Acme", Region: "us", Timezone: "UTC",
			RetentionDays: callvault.DefaultRetentionDays, AuditRetentionDays: callvault.DefaultAuditRetentionDays})
	})
	const writersPerNode, updates, perUpdate = 4, 15, 3
	var wg sync.WaitGroup
	errs := make(chan error, 2*writersPerNode)
	for n, node := range nodes {
		for w := range writersPerNode {
			wg.Go(func() {
				for u := range updates {
					err := node.Update(ctx, func(tx callvault.Tx) error {
						recs := make([]*callvault.AuditRecord, perUpdate)
						for i := range recs {
							recs[i] = &callvault.AuditRecord{TenantID: tenant, Service: callvault.AuditPlatform,
								DisplayName: fmt.Sprintf("node %d writer %d update %d record %d", n, w, u, i),
								Timestamp:   time.Now(), EventType: callvault.EventUpdate, EntityType: "site",
								EntityKey: "site-1", AuditUserID: "usr_x", Outcome: callvault.OutcomeSuccess}
						}
						return tx.AppendAudit(recs...)
					})
					if err != nil {
						errs <- fmt.Errorf("node %d writer %d: %w", n, w, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := int64(len(nodes) * writersPerNode * updates * perUpdate)
	for n, node := range nodes {
		rep, err := audit.Verify(ctx, node, tenant, nil)
		if err != nil {
			t.Fatalf("Verify on node %d: %v", n, err)
		}
		if !rep.OK || rep.Records != want {
			t.Errorf("node %d: %s; want OK with %d records", n, rep, want)
		}
	}
}

func TestOpenBadDSN(t *testing.T) {
	_, err := Open(context.Background(), "postgres://user:secret@[bad")
	if callvault.ErrorCode(err) != callvault.EInvalid {
		t.Fatalf("Open with a bad DSN: %v, want EInvalid", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error repeats the password: %v", err)
	}
}
