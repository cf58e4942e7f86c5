package http

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// TestCallIngestGroupCommit holds the store's group commit busy while
// seven batches arrive, then lets them commit as one group: each request
// gets its own answer (stored, duplicates, an unknown site refused alone),
// and each stored batch its own audit record.
func TestCallIngestGroupCommit(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	site := mustSite(t, acme, "HQ")
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	batch := func(k int, extra map[string]any) []map[string]any {
		var recs []map[string]any
		for i := range 50 {
			recs = append(recs, callRec(fmt.Sprintf("g%d-%d", k, i), start.Add(time.Duration(i)*time.Second), extra))
		}
		return recs
	}
	ac.MustIngest(t, "acme", batch(0, nil)...) // batch 0 is stored before: re-sent below

	// A commit in progress: the requests wait for the next group.
	g := &env.Server.ingestQueue
	g.Lock()
	g.busy = true
	g.Unlock()
	bodies := [][]map[string]any{batch(0, nil), batch(1, nil), batch(2, map[string]any{"siteId": site}),
		batch(3, map[string]any{"siteId": "sit_nosuchsite0000000"}), batch(4, nil), batch(5, nil), batch(6, nil)}
	results := make([]*testResponse, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Go(func() { results[i] = ac.Post(t, "/v1/tenants/acme/calls", b) })
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.Lock()
		n := len(g.waiting)
		g.Unlock()
		if n == len(bodies) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests wait for the group commit", n, len(bodies))
		}
	}
	// End the pretend commit as commitGroup does: hand the group over.
	g.Lock()
	next := g.waiting
	g.waiting = nil
	g.Unlock()
	next[0].lead = next
	close(next[0].done)
	wg.Wait()

	for i, res := range results {
		switch i {
		case 0:
			var r batchResult
			res.Want(t, http.StatusOK).JSON(t, &r)
			if r != (batchResult{Received: 50, Duplicates: 50}) {
				t.Errorf("re-sent batch: %+v", r)
			}
		case 3:
			p := res.WantProblem(t, 400, "siteId")
			if len(p.Errors) != 50 || *p.Errors[0].Index != 0 {
				t.Errorf("unknown site: %d errors", len(p.Errors))
			}
		default:
			var r batchResult
			res.Want(t, http.StatusOK).JSON(t, &r)
			if r != (batchResult{Received: 50, Stored: 50}) {
				t.Errorf("batch %d: %+v", i, r)
			}
		}
	}
	g.Lock()
	busy := g.busy
	g.Unlock()
	if busy {
		t.Errorf("the server's group commit is still marked busy")
	}
	for i := range bodies {
		_, err := env.Store.Call(t.Context(), "acme", fmt.Sprintf("g%d-7", i))
		if stored := err == nil; stored != (i != 3) {
			t.Errorf("batch %d stored: %v (%v)", i, stored, err)
		}
	}
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"callBatch"}})
	if len(recs) != 1+6 {
		t.Fatalf("%d callBatch audit records, want 7", len(recs))
	}
	for _, r := range recs {
		if r.CorrelationID != "" {
			t.Errorf("audit record %s correlated with %s: batches of a group are separate changes", r.EntityKey, r.CorrelationID)
		}
	}
}
