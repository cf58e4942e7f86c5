package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlite"
)

func newStore(tb testing.TB) (*sqlite.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "callvault.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Now().UTC()
	err = db.Update(context.Background(), func(tx callvault.Tx) error {
		for _, id := range []string{"acme", "globex"} {
			if err := tx.CreateTenant(&callvault.Tenant{ID: id, Name: id, Region: "us", Timezone: "UTC",
				RetentionDays: 730, AuditRetentionDays: 2557, AllowedClientRegions: []string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db, path
}

func newKey(tb testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func rec(tenant string, i int) *callvault.AuditRecord {
	return &callvault.AuditRecord{TenantID: tenant, Service: callvault.AuditData, EventType: callvault.EventView,
		EntityType: "call", EntityKey: fmt.Sprintf("call-%d", i), DisplayName: "call", Timestamp: time.Now(),
		AuditUserID: "usr_test", RequestID: fmt.Sprintf("req-%d", i), Principal: "user:usr_test", Outcome: callvault.OutcomeSuccess}
}

func TestWriterConcurrentAppendsFormOneChain(t *testing.T) {
	st, _ := newStore(t)
	key := newKey(t)
	w := audit.NewWriter(st, key, nil, nil)
	var wg sync.WaitGroup
	const goroutines, each = 16, 40
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				tenant := "acme"
				if i%4 == 0 {
					tenant = "globex"
				}
				if err := w.Append(context.Background(), rec(tenant, g*1000+i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every acknowledged record is readable before Close.
	recs, err := st.AuditRecords(context.Background(), callvault.AuditFilter{TenantID: "acme"})
	if err != nil || len(recs) != goroutines*each*3/4 {
		t.Fatalf("acme has %d records (%v), want %d", len(recs), err, goroutines*each*3/4)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(context.Background(), rec("acme", 1)); err != audit.ErrClosed {
		t.Fatalf("Append after Close = %v", err)
	}
	for _, tenant := range []string{"acme", "globex"} {
		rep, err := audit.Verify(context.Background(), st, tenant, key.Public().(ed25519.PublicKey))
		if err != nil || !rep.OK {
			t.Fatalf("%s: %v %v", tenant, rep, err)
		}
		if rep.Checkpoints < 1 {
			t.Fatalf("%s: no checkpoint verified: %v", tenant, rep)
		}
	}
	cps, _ := st.Checkpoints(context.Background(), "acme")
	// 480 records: one checkpoint at >= 256 during writing, one at the head on Close.
	if len(cps) < 2 || cps[len(cps)-1].Seq != int64(goroutines*each*3/4) {
		t.Fatalf("acme checkpoints = %d, last %+v", len(cps), cps[len(cps)-1])
	}
}

// tamper runs SQL against the database file directly.
func tamper(t *testing.T, path, query string) {
	t.Helper()
	h, err := sqlite.OpenRaw(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Exec(query); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNamesTheFirstBrokenRecord(t *testing.T) {
	for _, tc := range []struct {
		name, query, want string
		seq               int64
	}{
		{"altered field", `UPDATE audit SET display_name='x' WHERE tenant_id='acme' AND seq=5`, "content does not match its hash", 5},
		{"altered details", `UPDATE audit SET details='{"new":{"role":"admin"}}' WHERE tenant_id='acme' AND seq=7`, "content does not match", 7},
		{"deleted middle", `DELETE FROM audit WHERE tenant_id='acme' AND seq=4`, "record seq 4 is missing", 4},
		{"deleted tail", `DELETE FROM audit WHERE tenant_id='acme' AND seq=10`, "removed from the end", 10},
		{"rehashed record", `UPDATE audit SET prev_hash='00' WHERE tenant_id='acme' AND seq=3`, "prev_hash", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, path := newStore(t)
			key := newKey(t)
			w := audit.NewWriter(st, key, nil, nil)
			for i := range 10 {
				if err := w.Append(context.Background(), rec("acme", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pub := key.Public().(ed25519.PublicKey)
			if rep, err := audit.Verify(context.Background(), st, "acme", pub); err != nil || !rep.OK {
				t.Fatalf("before tampering: %v %v", rep, err)
			}
			tamper(t, path, tc.query)
			rep, err := audit.Verify(context.Background(), st, "acme", pub)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenSeq != tc.seq || !strings.Contains(rep.Reason, tc.want) {
				t.Fatalf("report = %+v", rep)
			}
			// The other tenant is unaffected.
			if rep, _ := audit.Verify(context.Background(), st, "globex", pub); !rep.OK {
				t.Fatalf("globex: %v", rep)
			}
		})
	}
}

func TestVerifyChecksCheckpointSignatures(t *testing.T) {
	st, path := newStore(t)
	key := newKey(t)
	w := audit.NewWriter(st, key, nil, nil)
	for i := range 3 {
		if err := w.Append(context.Background(), rec("acme", i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// Verified with another key: every checkpoint fails.
	rep, err := audit.Verify(context.Background(), st, "acme", newKey(t).Public().(ed25519.PublicKey))
	if err != nil || rep.OK || !strings.Contains(rep.Reason, "invalid signature") {
		t.Fatalf("other key: %+v %v", rep, err)
	}
	// A rewritten chain (every hash recomputed) is caught by the signed
	// checkpoint: rewrite record 3 consistently and its head.
	recs, _ := st.AuditRecords(context.Background(), callvault.AuditFilter{TenantID: "acme"})
	last := recs[len(recs)-1]
	last.DisplayName = "rewritten"
	newHash := last.ComputeHash()
	tamper(t, path, fmt.Sprintf(`UPDATE audit SET display_name='rewritten', hash='%s' WHERE tenant_id='acme' AND seq=%d;
		UPDATE audit_heads SET hash='%s' WHERE tenant_id='acme'`, newHash, last.Seq, newHash))
	rep, err = audit.Verify(context.Background(), st, "acme", key.Public().(ed25519.PublicKey))
	if err != nil || rep.OK || rep.BrokenSeq != last.Seq || !strings.Contains(rep.Reason, "signed checkpoint") {
		t.Fatalf("rewritten chain: %+v %v", rep, err)
	}
}

// BenchmarkAppend compares one durable transaction per record with group
// commit under concurrency (the server's shape: many requests, each waiting
// for its own record).
func BenchmarkAppend(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		st, _ := newStore(b)
		w := audit.NewWriter(st, newKey(b), nil, nil)
		defer w.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := w.Append(context.Background(), rec("acme", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, par := range []int{8, 64} {
		b.Run(fmt.Sprintf("parallel-%d", par), func(b *testing.B) {
			st, _ := newStore(b)
			w := audit.NewWriter(st, newKey(b), nil, nil)
			defer w.Close()
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if err := w.Append(context.Background(), rec("acme", i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
