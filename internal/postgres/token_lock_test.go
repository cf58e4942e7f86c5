package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// TestRotationReadLocksToken shows that two transactions rotating the same
// refresh token cannot both read it unrevoked: the second one's Token waits
// for the first transaction and then sees the revocation. Without the row
// lock, the second read returns at once (the test fails on that, before any
// revocation) with the token unrevoked.
func TestRotationReadLocksToken(t *testing.T) {
	db := mustOpen(t, testDSN(t))
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := db.Update(ctx, func(tx callvault.Tx) error {
		if err := tx.CreateTenant(&callvault.Tenant{ID: "acme", Name: "Acme", Region: "us", RetentionDays: 730}); err != nil {
			return err
		}
		return tx.CreateToken(&callvault.Token{Hash: "hash-rt", TenantID: "acme", Kind: callvault.TokenRefresh,
			AppID: "app_a", UserID: "usr_a", Grant: callvault.GrantPassword, FamilyID: "tfm_1",
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}

	firstRead := make(chan struct{})
	release := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- db.Update(ctx, func(tx callvault.Tx) error {
			tok, err := tx.Token(ctx, "hash-rt")
			if err != nil {
				return err
			}
			if !tok.RevokedAt.IsZero() {
				t.Error("first rotation read the token revoked")
			}
			close(firstRead)
			<-release
			return tx.RevokeToken("hash-rt", now)
		})
	}()
	<-firstRead

	type result struct {
		tok *callvault.Token
		err error
	}
	second := make(chan result, 1)
	go func() {
		var r result
		r.err = db.Update(ctx, func(tx callvault.Tx) error {
			r.tok, r.err = tx.Token(ctx, "hash-rt")
			return r.err
		})
		second <- r
	}()

	// Wait until the second read waits on the first transaction's lock. If
	// it returns instead, it did not wait: that is the race.
	for waiting := false; !waiting; {
		select {
		case r := <-second:
			close(release)
			<-firstDone
			t.Fatalf("the second rotation read the token without waiting for the first (revoked at %v, err %v)", r.tok.RevokedAt, r.err)
		default:
		}
		if err := db.pool.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%FROM tokens WHERE hash%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if !waiting {
			time.Sleep(5 * time.Millisecond)
		}
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	r := <-second
	if r.err != nil {
		t.Fatalf("second rotation: %v", r.err)
	}
	if r.tok.RevokedAt.IsZero() {
		t.Fatal("the second rotation read the token unrevoked after the first had revoked it")
	}
}
