package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// checkChain fails the test unless recs are one contiguous chain from seq 1
// with linked and correct hashes.
func checkChain(tb testing.TB, what string, recs []*callvault.AuditRecord) {
	tb.Helper()
	prev := ""
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			tb.Fatalf("%s: record %d has seq %d, want %d", what, i, r.Seq, i+1)
		}
		if r.PrevHash != prev {
			tb.Fatalf("%s: record %d has prevHash %q, want %q", what, r.Seq, r.PrevHash, prev)
		}
		if h := r.ComputeHash(); r.Hash != h || h == "" {
			tb.Fatalf("%s: record %d has hash %q, want %q", what, r.Seq, r.Hash, h)
		}
		prev = r.Hash
	}
}

// records returns the tenant's records matching f, failing the test on error.
func records(tb testing.TB, r callvault.Reader, f callvault.AuditFilter) []*callvault.AuditRecord {
	tb.Helper()
	recs, err := r.AuditRecords(context.Background(), f)
	if err != nil {
		tb.Fatalf("AuditRecords(%+v): %v", f, err)
	}
	return recs
}

func testAuditAppend(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seq, hash, err := s.AuditHead(ctx, alpha)
	wantOK(t, err, "AuditHead")
	if seq != 0 || hash != "" {
		t.Errorf("AuditHead of an empty chain: (%d, %q), want (0, \"\")", seq, hash)
	}
	if recs := records(t, s, callvault.AuditFilter{TenantID: alpha}); len(recs) != 0 {
		t.Errorf("AuditRecords of an empty chain: %d records", len(recs))
	}

	recs := []*callvault.AuditRecord{newAudit(alpha, 1), newAudit(alpha, 2), newAudit(alpha, 3), newAudit(alpha, 4), newAudit(alpha, 5)}
	recs[1].ID = "aud_presetpresetpreset"
	recs[2].Timestamp = time.Date(2025, 3, 14, 23, 59, 59, 999999999, time.FixedZone("UTC-7", -7*60*60))
	recs[3].Details, recs[3].Trace, recs[3].Outcome = "", `{"layer":"scopes"}`, callvault.OutcomeDenied
	orig := make([]time.Time, len(recs))
	for i, r := range recs {
		orig[i] = r.Timestamp
	}
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(recs[:3]...) })
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(recs[3:]...) })

	checkChain(t, "appended records", recs)
	ids := map[string]bool{}
	for i, r := range recs {
		if !strings.HasPrefix(r.ID, "aud_") || !callvault.ValidID(r.ID) {
			t.Errorf("record %d: id %q is not an aud_ id", i, r.ID)
		}
		if ids[r.ID] {
			t.Errorf("record %d: id %q given twice", i, r.ID)
		}
		ids[r.ID] = true
		want := orig[i].Truncate(time.Microsecond)
		if !r.Timestamp.Equal(want) || r.Timestamp.Location() != time.UTC || r.Timestamp.Nanosecond()%1000 != 0 {
			t.Errorf("record %d: timestamp %v, want %v in UTC", i, r.Timestamp, want.UTC())
		}
	}
	if recs[1].ID != "aud_presetpresetpreset" {
		t.Errorf("a given id was replaced by %q", recs[1].ID)
	}

	got := records(t, s, callvault.AuditFilter{TenantID: alpha})
	same(t, "AuditRecords", got, recs)
	checkChain(t, "records read back", got)
	seq, hash, err = s.AuditHead(ctx, alpha)
	wantOK(t, err, "AuditHead")
	if seq != 5 || hash != recs[4].Hash {
		t.Errorf("AuditHead: (%d, %s), want (5, %s)", seq, hash, recs[4].Hash)
	}

	dup := newAudit(alpha, 6)
	dup.ID = recs[1].ID
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(dup) }),
		callvault.EConflict, "AppendAudit with an id the tenant has")
	seq, _, err = s.AuditHead(ctx, alpha)
	wantOK(t, err, "AuditHead")
	if seq != 5 {
		t.Errorf("AuditHead after a failed append: seq %d, want 5", seq)
	}
	// The same id in another tenant is fine.
	other := newAudit(beta, 1)
	other.ID = recs[1].ID
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(other) })
}

func testAuditInvalid(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	noTenant := newAudit("", 1)
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(noTenant) }),
		callvault.EInvalid, "AppendAudit without a tenant")
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit() })
	_, err := s.AuditRecords(ctx, callvault.AuditFilter{})
	wantCode(t, err, callvault.EInvalid, "AuditRecords without a tenant")
}

func testAuditTwoTenants(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	a1, b1, a2, b2 := newAudit(alpha, 1), newAudit(beta, 1), newAudit(alpha, 2), newAudit(beta, 2)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(a1, b1, a2, b2) })
	b3 := newAudit(beta, 3)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(b3) })

	alphas := records(t, s, callvault.AuditFilter{TenantID: alpha})
	betas := records(t, s, callvault.AuditFilter{TenantID: beta})
	same(t, "alpha's chain", alphas, []*callvault.AuditRecord{a1, a2})
	same(t, "beta's chain", betas, []*callvault.AuditRecord{b1, b2, b3})
	checkChain(t, "alpha's chain", alphas)
	checkChain(t, "beta's chain", betas)
	for tenant, want := range map[string]*callvault.AuditRecord{alpha: a2, beta: b3} {
		seq, hash, err := s.AuditHead(ctx, tenant)
		wantOK(t, err, "AuditHead")
		if seq != want.Seq || hash != want.Hash {
			t.Errorf("AuditHead %s: (%d, %s), want (%d, %s)", tenant, seq, hash, want.Seq, want.Hash)
		}
	}
	if recs := records(t, s, callvault.AuditFilter{TenantID: gamma}); len(recs) != 0 {
		t.Errorf("AuditRecords of a tenant without records: %d", len(recs))
	}
}

// filterRecs are the records testAuditFilters seeds, in seq order.
func filterRecs(tenant string) []*callvault.AuditRecord {
	mk := func(n int, service, event, entity, user, principal, request, display string) *callvault.AuditRecord {
		r := newAudit(tenant, 0)
		r.Timestamp = at(1000 + 10*n)
		r.Service, r.EventType, r.EntityType = service, event, entity
		r.AuditUserID, r.Principal, r.RequestID, r.DisplayName = user, principal, request, display
		return r
	}
	return []*callvault.AuditRecord{
		mk(1, callvault.AuditPlatform, callvault.EventCreate, "RingGroup", "usr_1", "user:usr_1", "req-1", "Alice Admin"),
		mk(2, callvault.AuditData, callvault.EventView, "CallRecord", "usr_2", "user:usr_2 via app:app_1", "req-2", "Bob Viewer"),
		mk(3, callvault.AuditAuth, callvault.EventIssue, "Token", "usr_1", "user:usr_1 via app:app_1", "req-2", "alice token"),
		mk(4, callvault.AuditAccess, callvault.EventDeny, "Recording", "usr_12", "user:usr_12", "req-3", "Carol_50%"),
		mk(5, callvault.AuditPlatform, callvault.EventUpdate, "ringgroup", "usr_2", "user:usr_2", "req-4", "Team Alice"),
		mk(6, callvault.AuditPlatform, callvault.EventDelete, "User", "usr_1", "user:usr_1", "req-5", "ALICE"),
	}
}

func testAuditFilters(t *testing.T, s callvault.Store) {
	as, bs := filterRecs(alpha), filterRecs(beta)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		// Interleaved: beta holds an identical record for each of alpha's.
		for i := range as {
			if err := tx.AppendAudit(as[i], bs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	ts := func(seq int) time.Time { return as[seq-1].Timestamp }
	cases := []struct {
		name string
		f    callvault.AuditFilter
		want []int64
	}{
		{"none", callvault.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6}},
		{"from", callvault.AuditFilter{From: ts(3)}, []int64{3, 4, 5, 6}},
		{"to is exclusive", callvault.AuditFilter{To: ts(3)}, []int64{1, 2}},
		{"from and to", callvault.AuditFilter{From: ts(2), To: ts(4)}, []int64{2, 3}},
		{"from in another zone", callvault.AuditFilter{From: ts(5).In(time.FixedZone("UTC+9", 9*60*60))}, []int64{5, 6}},
		{"empty range", callvault.AuditFilter{From: ts(4), To: ts(4)}, nil},
		{"service", callvault.AuditFilter{Services: []string{"platform"}}, []int64{1, 5, 6}},
		{"services any case", callvault.AuditFilter{Services: []string{"DATA", "Auth"}}, []int64{2, 3}},
		{"event types any case", callvault.AuditFilter{EventTypes: []string{"CREATE", "Update"}}, []int64{1, 5}},
		{"entity type any case", callvault.AuditFilter{EntityTypes: []string{"RingGROUP"}}, []int64{1, 5}},
		{"entity types", callvault.AuditFilter{EntityTypes: []string{"token", "USER"}}, []int64{3, 6}},
		{"entity type unknown", callvault.AuditFilter{EntityTypes: []string{"Ring"}}, nil},
		{"audit user", callvault.AuditFilter{AuditUserID: "usr_1"}, []int64{1, 3, 6}},
		{"principal", callvault.AuditFilter{Principal: "user:usr_2 via app:app_1"}, []int64{2}},
		{"principal is exact", callvault.AuditFilter{Principal: "user:usr_1"}, []int64{1, 6}},
		{"request id", callvault.AuditFilter{RequestID: "req-2"}, []int64{2, 3}},
		{"request id is exact", callvault.AuditFilter{RequestID: "req-"}, nil},
		{"display name exact any case", callvault.AuditFilter{DisplayName: "alice"}, []int64{6}},
		{"display name exact full", callvault.AuditFilter{DisplayName: "bob viewer"}, []int64{2}},
		{"display name starts with", callvault.AuditFilter{DisplayName: "alice*"}, []int64{1, 3, 6}},
		{"display name ends with", callvault.AuditFilter{DisplayName: "*alice"}, []int64{5, 6}},
		{"display name contains", callvault.AuditFilter{DisplayName: "*ALICE*"}, []int64{1, 3, 5, 6}},
		{"display name contains a space", callvault.AuditFilter{DisplayName: "*m a*"}, []int64{5}},
		{"display name literal % and _", callvault.AuditFilter{DisplayName: "*_50%"}, []int64{4}},
		{"display name % is not a wildcard", callvault.AuditFilter{DisplayName: "%"}, nil},
		{"display name _ is not a wildcard", callvault.AuditFilter{DisplayName: "_ob viewer"}, nil},
		{"display name * alone", callvault.AuditFilter{DisplayName: "*"}, []int64{1, 2, 3, 4, 5, 6}},
		{"combined", callvault.AuditFilter{Services: []string{"platform"}, AuditUserID: "usr_1", From: ts(2)}, []int64{6}},
		{"after seq", callvault.AuditFilter{AfterSeq: 4}, []int64{5, 6}},
		{"max seq", callvault.AuditFilter{MaxSeq: 2}, []int64{1, 2}},
		{"after and max seq", callvault.AuditFilter{AfterSeq: 3, MaxSeq: 5}, []int64{4, 5}},
		{"limit", callvault.AuditFilter{Limit: 2}, []int64{1, 2}},
		{"after seq and limit", callvault.AuditFilter{AfterSeq: 2, Limit: 2}, []int64{3, 4}},
		{"filter and limit", callvault.AuditFilter{DisplayName: "*alice*", Limit: 3}, []int64{1, 3, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tenant := range []string{alpha, beta} {
				f := tc.f
				f.TenantID = tenant
				var seqs []int64
				for _, r := range records(t, s, f) {
					if r.TenantID != tenant {
						t.Errorf("%s: got a record of tenant %q", tenant, r.TenantID)
					}
					seqs = append(seqs, r.Seq)
				}
				if !slices.Equal(seqs, tc.want) {
					t.Errorf("%s: got seqs %v, want %v", tenant, seqs, tc.want)
				}
			}
		})
	}
	// Records come back whole.
	same(t, "records", records(t, s, callvault.AuditFilter{TenantID: alpha, RequestID: "req-3"}), as[3:4])
}

func testAuditPaging(t *testing.T, s callvault.Store) {
	var as []*callvault.AuditRecord
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for i := range 25 {
			a := newAudit(alpha, i)
			as = append(as, a)
			if err := tx.AppendAudit(a, newAudit(beta, i)); err != nil {
				return err
			}
		}
		return nil
	})
	page := func(f callvault.AuditFilter) (sizes []int, all []*callvault.AuditRecord) {
		for {
			recs := records(t, s, f)
			sizes = append(sizes, len(recs))
			all = append(all, recs...)
			if len(recs) < f.Limit {
				return sizes, all
			}
			f.AfterSeq = recs[len(recs)-1].Seq
		}
	}
	sizes, all := page(callvault.AuditFilter{TenantID: alpha, Limit: 10})
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	same(t, "paged records", all, as)
	checkChain(t, "paged records", all)

	// A snapshot at seq 12 holds still while the chain grows.
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(newAudit(alpha, 30)) })
	sizes, all = page(callvault.AuditFilter{TenantID: alpha, MaxSeq: 12, Limit: 5})
	if !slices.Equal(sizes, []int{5, 5, 2}) {
		t.Errorf("snapshot page sizes %v, want [5 5 2]", sizes)
	}
	same(t, "snapshot records", all, as[:12])
}

func testAuditConcurrent(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	const writers, updates, perUpdate = 8, 20, 2
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	stop := make(chan struct{})
	// A reader watches the chain grow: every prefix it sees is contiguous.
	var rwg sync.WaitGroup
	rwg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			recs, err := s.AuditRecords(ctx, callvault.AuditFilter{TenantID: alpha})
			if err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
			for i, r := range recs {
				if r.Seq != int64(i+1) {
					errs <- fmt.Errorf("reader saw seq %d at position %d", r.Seq, i)
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
	for w := range writers {
		wg.Go(func() {
			for u := range updates {
				err := s.Update(ctx, func(tx callvault.Tx) error {
					var recs []*callvault.AuditRecord
					for i := range perUpdate {
						r := newAudit(alpha, w*1000+u*10+i)
						r.DisplayName = fmt.Sprintf("writer %d update %d record %d", w, u, i)
						recs = append(recs, r)
					}
					return tx.AppendAudit(recs...)
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	recs := records(t, s, callvault.AuditFilter{TenantID: alpha})
	if len(recs) != writers*updates*perUpdate {
		t.Fatalf("%d records, want %d", len(recs), writers*updates*perUpdate)
	}
	checkChain(t, "concurrent chain", recs)
	seq, hash, err := s.AuditHead(ctx, alpha)
	wantOK(t, err, "AuditHead")
	if last := recs[len(recs)-1]; seq != last.Seq || hash != last.Hash {
		t.Errorf("AuditHead (%d, %s), want (%d, %s)", seq, hash, last.Seq, last.Hash)
	}
}

func testCheckpoints(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	cps, err := s.Checkpoints(ctx, alpha)
	wantOK(t, err, "Checkpoints")
	if len(cps) != 0 {
		t.Errorf("Checkpoints of a new tenant: %d", len(cps))
	}
	c5 := &callvault.Checkpoint{TenantID: alpha, Seq: 5, Hash: "h5", CreatedAt: at(1), KeyID: "key1", Signature: "sig5"}
	c2 := &callvault.Checkpoint{TenantID: alpha, Seq: 2, Hash: "h2", CreatedAt: at(2), KeyID: "key2", Signature: "sig2"}
	cb := &callvault.Checkpoint{TenantID: beta, Seq: 2, Hash: "hb", CreatedAt: at(3), KeyID: "key1", Signature: "sigb"}
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, c := range []*callvault.Checkpoint{c5, c2, cb} {
			if err := tx.PutCheckpoint(c); err != nil {
				return err
			}
		}
		return nil
	})
	cps, err = s.Checkpoints(ctx, alpha)
	wantOK(t, err, "Checkpoints alpha")
	same(t, "Checkpoints alpha", cps, []*callvault.Checkpoint{c2, c5})
	_ = in(t, s, func(tx callvault.Tx) error {
		cps, err := tx.Checkpoints(ctx, beta)
		wantOK(t, err, "tx.Checkpoints beta")
		same(t, "tx.Checkpoints beta", cps, []*callvault.Checkpoint{cb})
		return nil
	})
	cps, err = s.Checkpoints(ctx, gamma)
	wantOK(t, err, "Checkpoints gamma")
	if len(cps) != 0 {
		t.Errorf("Checkpoints of a tenant without any: %d", len(cps))
	}
	dup := *c2
	dup.Signature = "other"
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.PutCheckpoint(&dup) }),
		callvault.EConflict, "PutCheckpoint duplicate")
}
