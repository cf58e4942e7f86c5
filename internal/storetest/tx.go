package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

func testReadYourWrites(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha)
	site := newSite(alpha, "sit_1")
	rec := newAudit(alpha, 1)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateSite(site); err != nil {
			return err
		}
		if err := tx.AppendAudit(rec); err != nil {
			return err
		}
		got, err := tx.Site(ctx, alpha, site.ID)
		wantOK(t, err, "tx.Site of its own write")
		same(t, "tx.Site of its own write", got, site)
		list, err := tx.Sites(ctx, alpha)
		wantOK(t, err, "tx.Sites")
		same(t, "tx.Sites", list, []*callvault.Site{site})
		seq, hash, err := tx.AuditHead(ctx, alpha)
		wantOK(t, err, "tx.AuditHead")
		if seq != 1 || hash != rec.Hash {
			t.Errorf("tx.AuditHead: (%d, %s), want (1, %s)", seq, hash, rec.Hash)
		}
		recs, err := tx.AuditRecords(ctx, callvault.AuditFilter{TenantID: alpha})
		wantOK(t, err, "tx.AuditRecords")
		same(t, "tx.AuditRecords", recs, []*callvault.AuditRecord{rec})

		// Not visible outside before the commit.
		_, err = s.Site(ctx, alpha, site.ID)
		wantCode(t, err, callvault.ENotFound, "store.Site of an uncommitted write")
		seq, _, err = s.AuditHead(ctx, alpha)
		wantOK(t, err, "store.AuditHead")
		if seq != 0 {
			t.Errorf("store.AuditHead before commit: seq %d, want 0", seq)
		}
		return nil
	})
	got, err := s.Site(ctx, alpha, site.ID)
	wantOK(t, err, "Site after commit")
	same(t, "Site after commit", got, site)
}

func testUpdateRollback(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha)
	site := newSite(alpha, "sit_1")
	first := newAudit(alpha, 1)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateSite(site); err != nil {
			return err
		}
		return tx.AppendAudit(first)
	})

	boom := errors.New("boom")
	err := s.Update(ctx, func(tx callvault.Tx) error {
		steps := []error{
			tx.CreateTenant(newTenant(gamma)),
			tx.CreateSite(newSite(alpha, "sit_2")),
			tx.UpdateSite(&callvault.Site{TenantID: alpha, ID: site.ID, Name: "renamed"}),
			tx.CreateUser(newUser(alpha, "usr_1")),
			tx.CreateToken(newToken(alpha, "tok-rolled-back", "app_a", "fam_1")),
			tx.PutConsent(newConsent(alpha, "app_b", beta)),
			tx.AppendAudit(newAudit(alpha, 2), newAudit(beta, 1)),
			tx.PutCheckpoint(&callvault.Checkpoint{TenantID: alpha, Seq: 1, Hash: first.Hash, KeyID: "k", Signature: "s"}),
		}
		for i, err := range steps {
			if err != nil {
				t.Errorf("step %d: %v", i, err)
			}
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	checkUntouched := func(step string) {
		t.Helper()
		_, err = s.Tenant(ctx, gamma)
		wantCode(t, err, callvault.ENotFound, step+": Tenant")
		_, err = s.Site(ctx, alpha, "sit_2")
		wantCode(t, err, callvault.ENotFound, step+": Site")
		got, err := s.Site(ctx, alpha, site.ID)
		wantOK(t, err, step+": Site")
		same(t, step+": updated Site", got, site)
		_, err = s.User(ctx, alpha, "usr_1")
		wantCode(t, err, callvault.ENotFound, step+": User")
		_, err = s.Token(ctx, "tok-rolled-back")
		wantCode(t, err, callvault.ENotFound, step+": Token")
		_, err = s.Consent(ctx, alpha, "app_b")
		wantCode(t, err, callvault.ENotFound, step+": Consent")
		for _, tenant := range []string{alpha, beta} {
			recs, err := s.AuditRecords(ctx, callvault.AuditFilter{TenantID: tenant})
			wantOK(t, err, step+": AuditRecords")
			if want := map[string]int{alpha: 1, beta: 0}[tenant]; len(recs) != want {
				t.Errorf("%s: %d audit records of %s, want %d", step, len(recs), tenant, want)
			}
		}
		seq, hash, err := s.AuditHead(ctx, alpha)
		wantOK(t, err, step+": AuditHead")
		if seq != 1 || hash != first.Hash {
			t.Errorf("%s: AuditHead (%d, %s), want (1, %s)", step, seq, hash, first.Hash)
		}
		cps, err := s.Checkpoints(ctx, alpha)
		wantOK(t, err, step+": Checkpoints")
		if len(cps) != 0 {
			t.Errorf("%s: %d checkpoints, want none", step, len(cps))
		}
	}
	checkUntouched("after rollback")

	// A Tx method's error returned by fn rolls back the writes before it.
	err = s.Update(ctx, func(tx callvault.Tx) error {
		if err := tx.CreateSite(newSite(alpha, "sit_2")); err != nil {
			return err
		}
		return tx.CreateSite(newSite(alpha, site.ID))
	})
	wantCode(t, err, callvault.EConflict, "Update ending in a duplicate")
	checkUntouched("after a failed create")

	// The next appends continue the committed chain.
	next := newAudit(alpha, 3)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(next) })
	if next.Seq != 2 || next.PrevHash != first.Hash {
		t.Errorf("append after rollback: seq %d prev %s, want 2 and %s", next.Seq, next.PrevHash, first.Hash)
	}
}

func testUpdatePanic(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha)
	recovered := func() (v any) {
		defer func() { v = recover() }()
		_ = s.Update(ctx, func(tx callvault.Tx) error {
			if err := tx.CreateSite(newSite(alpha, "sit_1")); err != nil {
				return err
			}
			panic("boom")
		})
		return nil
	}()
	if recovered != "boom" {
		t.Fatalf("Update with a panicking function: recovered %v, want the panic", recovered)
	}
	_, err := s.Site(ctx, alpha, "sit_1")
	wantCode(t, err, callvault.ENotFound, "Site written before the panic")
	// The store still takes writes.
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.CreateSite(newSite(alpha, "sit_1")) })
	_, err = s.Site(ctx, alpha, "sit_1")
	wantOK(t, err, "Site after the panic")
}
