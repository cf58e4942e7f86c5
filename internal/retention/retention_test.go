package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/retention"
	"github.com/callvault/callvault/internal/sqlite"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st    *sqlite.DB
	blobs blob.Store
	shaA  string // content used only by an expired recording
	shaB  string // content shared by an expired and a live recording
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, blobs: blob.NewMem()}
	put := func(tenant, content string) string {
		info, err := f.blobs.Put(ctx, tenant, strings.NewReader(content), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return info.SHA256
	}
	f.shaA, f.shaB = put("acme", "content A"), put("acme", "content B")
	put("frozen", "content A")

	call := func(tenant, id string, age time.Duration, recs ...string) *callvault.CallRecord {
		start := now.Add(-age)
		return &callvault.CallRecord{TenantID: tenant, ID: id, Start: start, End: start.Add(time.Minute), DurationMs: 60000,
			Direction: callvault.DirectionInbound, Type: callvault.CallVoice, Result: callvault.ResultAccepted, RecordingIDs: recs}
	}
	day := 24 * time.Hour
	calls := []*callvault.CallRecord{
		call("acme", "old-a", 100*day, "rec-a"),
		call("acme", "old-b", 90*day, "rec-b"),
		call("acme", "held", 80*day),
		call("acme", "recent", 5*day, "rec-live"),
		call("frozen", "frozen-old", 400*day, "rec-f"),
	}
	for i := range 5 {
		calls = append(calls, call("acme", fmt.Sprintf("old-%d", i), time.Duration(40+i)*day))
	}
	recording := func(tenant, id, callID, sha string) *callvault.Recording {
		return &callvault.Recording{TenantID: tenant, ID: id, CallID: callID, Type: "Automatic", ContentType: "audio/wav",
			Size: 9, SHA256: sha, CreatedAt: now, UploadedAt: now}
	}
	err = st.Update(ctx, func(tx callvault.Tx) error {
		for _, tn := range []*callvault.Tenant{
			{ID: "acme", Name: "Acme", Region: "us", Timezone: "UTC", RetentionDays: 30},
			{ID: "frozen", Name: "Frozen", Region: "us", Timezone: "UTC", RetentionDays: 30, LegalHold: true},
		} {
			tn.AuditRetentionDays, tn.AllowedClientRegions, tn.CreatedAt, tn.UpdatedAt = 365, []string{}, now, now
			if err := tx.CreateTenant(tn); err != nil {
				return err
			}
			if err := tx.UpdateTenant(tn); err != nil { // sets the legal hold
				return err
			}
		}
		if _, err := tx.PutCalls(calls); err != nil {
			return err
		}
		for _, r := range []*callvault.Recording{
			recording("acme", "rec-a", "old-a", f.shaA), recording("acme", "rec-b", "old-b", f.shaB),
			recording("acme", "rec-live", "recent", f.shaB), recording("frozen", "rec-f", "frozen-old", f.shaA),
		} {
			if err := tx.CreateRecording(r); err != nil {
				return err
			}
		}
		return tx.SetCallLegalHold("acme", "held", true)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) purger() *retention.Purger {
	return &retention.Purger{Store: f.st, Blobs: f.blobs, Batch: 2, Actor: "test", Now: func() time.Time { return now }}
}

func (f *fixture) exists(t *testing.T, tenant, id string) bool {
	t.Helper()
	_, err := f.st.Call(context.Background(), tenant, id)
	if err != nil && !callvault.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) purgeRecords(t *testing.T, tenant string) []*callvault.AuditRecord {
	t.Helper()
	recs, err := f.st.AuditRecords(context.Background(), callvault.AuditFilter{TenantID: tenant, EntityTypes: []string{retention.EntityType}})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestDryRunDeletesNothing(t *testing.T) {
	f := newFixture(t)
	res, err := f.purger().All(context.Background(), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Tenant != "acme" || res[0].Calls != 7 || res[0].Recordings != 2 || !res[1].LegalHold {
		t.Fatalf("dry run = %+v %+v", res[0], res[1])
	}
	if !strings.Contains(res[0].String(), "would purge 7 calls and 2 recordings") {
		t.Errorf("summary %q", res[0])
	}
	if !f.exists(t, "acme", "old-a") || len(f.purgeRecords(t, "acme")) != 0 {
		t.Fatal("a dry run deleted or recorded something")
	}
}

// TestPurge checks the rules: only calls older than the tenant's retention
// go, not those under legal hold, nothing of a tenant under legal hold;
// recording content goes only when no remaining recording uses it; one
// audit record per run that deleted something.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	res, err := f.purger().All(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	acme := res[0]
	if acme.Calls != 7 || acme.Recordings != 2 || acme.Blobs != 1 || acme.Shared != 1 || acme.Batches != 4 {
		t.Fatalf("acme result = %+v", acme)
	}
	wantCutoff := now.Add(-30 * 24 * time.Hour)
	if !acme.Cutoff.Equal(wantCutoff) {
		t.Errorf("cutoff %v, want %v", acme.Cutoff, wantCutoff)
	}
	for id, want := range map[string]bool{"old-a": false, "old-b": false, "old-0": false, "old-4": false, "held": true, "recent": true} {
		if got := f.exists(t, "acme", id); got != want {
			t.Errorf("call %s exists = %v, want %v", id, got, want)
		}
	}
	if _, err := f.st.Recording(ctx, "acme", "rec-a"); !callvault.IsNotFound(err) {
		t.Errorf("recording of a purged call: %v", err)
	}
	if _, err := f.st.Recording(ctx, "acme", "rec-live"); err != nil {
		t.Errorf("recording of a live call: %v", err)
	}
	if ok, _ := f.blobs.Exists(ctx, "acme", f.shaA); ok {
		t.Error("unused content was kept")
	}
	if ok, _ := f.blobs.Exists(ctx, "acme", f.shaB); !ok {
		t.Error("content still used by a live recording was deleted")
	}

	// The tenant under legal hold keeps everything, its content too.
	if !res[1].LegalHold || !f.exists(t, "frozen", "frozen-old") {
		t.Errorf("tenant under legal hold: %+v", res[1])
	}
	if ok, _ := f.blobs.Exists(ctx, "frozen", f.shaA); !ok {
		t.Error("content of a tenant under legal hold was deleted")
	}
	if n := len(f.purgeRecords(t, "frozen")); n != 0 {
		t.Errorf("tenant under legal hold got %d purge records", n)
	}

	recs := f.purgeRecords(t, "acme")
	if len(recs) != 1 {
		t.Fatalf("purge records = %d, want 1", len(recs))
	}
	r := recs[0]
	if r.Service != callvault.AuditData || r.EventType != callvault.EventDelete || r.AuditUserID != "test" {
		t.Errorf("record = %+v", r)
	}
	var det struct {
		Old map[string]any `json:"old"`
	}
	if err := json.Unmarshal([]byte(r.Details), &det); err != nil {
		t.Fatal(err)
	}
	if det.Old["calls"] != 7.0 || det.Old["recordings"] != 2.0 || det.Old["blobs"] != 1.0 || det.Old["cutoff"] != wantCutoff.Format(time.RFC3339) {
		t.Errorf("details = %s", r.Details)
	}

	// Nothing is left to purge: a second run deletes and records nothing.
	res, err = f.purger().All(ctx, "acme", false)
	if err != nil || res[0].Calls != 0 {
		t.Fatalf("second run = %+v, %v", res, err)
	}
	if n := len(f.purgeRecords(t, "acme")); n != 1 {
		t.Errorf("a run that deleted nothing wrote a record (%d)", n)
	}

	// Releasing the call's hold lets the next run purge it.
	if err := f.st.Update(ctx, func(tx callvault.Tx) error { return tx.SetCallLegalHold("acme", "held", false) }); err != nil {
		t.Fatal(err)
	}
	if res, err = f.purger().All(ctx, "acme", false); err != nil || res[0].Calls != 1 || f.exists(t, "acme", "held") {
		t.Fatalf("after releasing the hold: %+v, %v", res[0], err)
	}
}

func TestUnknownTenant(t *testing.T) {
	f := newFixture(t)
	if _, err := f.purger().All(context.Background(), "nope", false); !callvault.IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoopRunsAndStops(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { retention.Loop(ctx, f.purger(), 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.exists(t, "acme", "old-a") {
		if time.Now().After(deadline) {
			t.Fatal("the loop never purged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	retention.Loop(context.Background(), f.purger(), 0) // disabled: returns at once
}
