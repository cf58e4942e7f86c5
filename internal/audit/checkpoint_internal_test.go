package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlite"
)

// TestCheckpointRaceIsNotAnError: two nodes that sign the same head at the
// same moment store one checkpoint, and neither fails.
func TestCheckpointRaceIsNotAnError(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	err = st.Update(ctx, func(tx callvault.Tx) error {
		if err := tx.CreateTenant(&callvault.Tenant{ID: "acme", Name: "acme", Region: "us", Timezone: "UTC", RetentionDays: 730,
			AllowedClientRegions: []string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.AppendAudit(&callvault.AuditRecord{TenantID: "acme", Service: "platform", EventType: "create",
			EntityType: "tenant", EntityKey: "acme", Timestamp: now, Outcome: callvault.OutcomeSuccess})
	})
	if err != nil {
		t.Fatal(err)
	}
	c := Sign(key, "acme", 1, "h", now)
	for i := range 2 {
		if err := st.Update(ctx, func(tx callvault.Tx) error { return putCheckpoint(tx, c) }); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if cps, _ := st.Checkpoints(ctx, "acme"); len(cps) != 1 {
		t.Fatalf("%d checkpoints", len(cps))
	}
}
