// Package retention deletes call data that has outlived its tenant's
// retention policy: call records (with their legs and recording metadata)
// that started more than retention_days ago, and the recording content in
// the blob store once no other recording of the tenant uses it.
//
// `callvault purge` runs it once; `callvault serve` runs it periodically
// (Loop). Both share Purger, so the command and the background job delete
// exactly the same things and write the same audit record.
//
// Rules:
//
//   - The cutoff is now minus the tenant's RetentionDays (DefaultRetentionDays
//     when unset), the same instant before which the permission engine's
//     window layer refuses reads, so nothing the API would still serve is
//     purged.
//   - A tenant under legal hold is skipped entirely; a call under legal hold
//     is never returned by the store's ExpiredCalls and so never deleted.
//   - Work goes in bounded batches: each batch of at most Batch records is
//     listed with ExpiredCalls and deleted with DeleteCalls in its own
//     durable transaction, so memory stays bounded and an interrupted run
//     keeps what it finished; the next run continues from there.
//   - A batch's transaction also asks RecordingBlobInUse, for each deleted
//     recording's content (deduplicated per tenant), whether a remaining
//     recording still refers to it; after the commit the unused contents
//     are deleted from the blob store, each checked once more right before
//     its delete.
//   - A run that deleted anything writes one audit record per tenant
//     (service "data", eventType "delete", entityType "retentionPurge",
//     entityKey the cutoff) whose details hold the counts and the cutoff
//     under "old" (what was removed; "blobs" counts the contents found
//     unused). It is appended in the transaction of the run's last batch;
//     when the run stops early (an error, a cancelled context) it is
//     written on its own with the error in the details. A run that found
//     nothing to delete, and a dry run, write nothing: an hourly job would
//     otherwise fill the trail with empty records.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
)

// DefaultBatch is how many call records one purge transaction deletes.
const DefaultBatch = 1000

// EntityType is the audit entityType of a purge run's record.
const EntityType = "retentionPurge"

// Purger deletes expired call data. Store and Blobs are required; the other
// fields have defaults.
type Purger struct {
	Store callvault.Store
	Blobs blob.Store
	// Guard is shared with the HTTP server so that content an upload is
	// about to reference is never purged; nil in offline runs.
	Guard *blob.Guard
	// Batch is the most call records deleted per transaction (DefaultBatch).
	Batch int
	// Actor names who runs the purge in audit records, e.g. "cli:alice" or
	// "system:retention" (the default).
	Actor string
	// Now is the clock (time.Now).
	Now func() time.Time
	// Log receives blob deletion failures and per-tenant summaries.
	Log *slog.Logger
}

// Result is what a run did (or, in a dry run, would do) in one tenant.
type Result struct {
	Tenant        string    `json:"tenant"`
	RetentionDays int       `json:"retentionDays"`
	Cutoff        time.Time `json:"cutoff"`
	// LegalHold is set when the tenant is under legal hold and was skipped.
	LegalHold  bool  `json:"legalHold,omitempty"`
	DryRun     bool  `json:"dryRun,omitempty"`
	Calls      int64 `json:"calls"`
	Recordings int64 `json:"recordings"`
	// Blobs counts recording contents deleted from the blob store; Shared
	// those kept because another recording still uses them.
	Blobs      int64 `json:"blobs"`
	Shared     int64 `json:"shared,omitempty"`
	BlobErrors int64 `json:"blobErrors,omitempty"`
	Batches    int   `json:"batches"`
}

// String is a one-line summary of the result.
func (r *Result) String() string {
	switch {
	case r.LegalHold:
		return fmt.Sprintf("tenant %s: under legal hold, nothing purged", r.Tenant)
	case r.DryRun:
		return fmt.Sprintf("tenant %s: would purge %d calls and %d recordings started before %s (retention %d days)",
			r.Tenant, r.Calls, r.Recordings, r.Cutoff.Format(time.RFC3339), r.RetentionDays)
	case r.Calls == 0:
		return fmt.Sprintf("tenant %s: nothing started before %s (retention %d days)", r.Tenant, r.Cutoff.Format(time.RFC3339), r.RetentionDays)
	}
	s := fmt.Sprintf("tenant %s: purged %d calls, %d recordings, %d blobs started before %s (retention %d days)",
		r.Tenant, r.Calls, r.Recordings, r.Blobs, r.Cutoff.Format(time.RFC3339), r.RetentionDays)
	if r.BlobErrors > 0 {
		s += fmt.Sprintf("; %d blobs could not be deleted (see the log)", r.BlobErrors)
	}
	return s
}

// Cutoff returns the instant before which the tenant's call data has expired
// at now: now minus RetentionDays days (DefaultRetentionDays when not set).
func Cutoff(t *callvault.Tenant, now time.Time) time.Time {
	days := t.RetentionDays
	if days <= 0 {
		days = callvault.DefaultRetentionDays
	}
	return now.UTC().Add(-time.Duration(days) * 24 * time.Hour)
}

func (p *Purger) batch() int {
	if p.Batch > 0 {
		return p.Batch
	}
	return DefaultBatch
}

func (p *Purger) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Purger) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.DiscardHandler)
}

// All purges every tenant, or only tenant when it is not empty, and returns
// one Result per tenant. It stops at the first error, returning the results
// so far.
func (p *Purger) All(ctx context.Context, tenant string, dryRun bool) ([]*Result, error) {
	var tenants []*callvault.Tenant
	if tenant != "" {
		t, err := p.Store.Tenant(ctx, tenant)
		if err != nil {
			return nil, err
		}
		tenants = []*callvault.Tenant{t}
	} else {
		var err error
		if tenants, err = p.Store.Tenants(ctx); err != nil {
			return nil, err
		}
	}
	var out []*Result
	for _, t := range tenants {
		r, err := p.Tenant(ctx, t, dryRun)
		if r != nil {
			out = append(out, r)
		}
		if err != nil {
			return out, fmt.Errorf("purging tenant %s: %w", t.ID, err)
		}
	}
	return out, nil
}

// Tenant purges one tenant's expired call data (or, with dryRun, only counts
// it) and returns what it did. On an error it returns the partial result;
// whatever was committed stays deleted and is in the run's audit record.
func (p *Purger) Tenant(ctx context.Context, t *callvault.Tenant, dryRun bool) (*Result, error) {
	now := p.now()
	r := &Result{Tenant: t.ID, RetentionDays: t.RetentionDays, Cutoff: Cutoff(t, now), DryRun: dryRun}
	if r.RetentionDays <= 0 {
		r.RetentionDays = callvault.DefaultRetentionDays
	}
	if t.LegalHold {
		r.LegalHold = true
		return r, nil
	}
	if dryRun {
		return r, p.count(ctx, r)
	}
	recorded, err := p.purge(ctx, r, now)
	if err != nil && r.Calls > 0 && !recorded {
		// The run stopped after deleting something: its record is written
		// on its own, saying so (also when ctx was cancelled midway).
		aerr := p.Store.Update(context.WithoutCancel(ctx), func(tx callvault.Tx) error {
			return tx.AppendAudit(p.record(r, now, err))
		})
		err = errors.Join(err, aerr)
	}
	if r.Calls > 0 || err != nil {
		p.log().Info("retention purge", "tenant", r.Tenant, "cutoff", r.Cutoff, "calls", r.Calls,
			"recordings", r.Recordings, "blobs", r.Blobs, "blobErrors", r.BlobErrors, "err", err)
	}
	return r, err
}

// purge deletes expired records batch by batch until none is left. Each
// batch's transaction also finds the recording contents the batch left
// unused; the last batch's transaction appends the run's audit record. It
// reports whether that record was written.
func (p *Purger) purge(ctx context.Context, r *Result, now time.Time) (recorded bool, err error) {
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		// One more than a batch tells whether this batch is the last.
		expired, err := p.Store.ExpiredCalls(ctx, r.Tenant, r.Cutoff, p.batch()+1)
		if err != nil || len(expired) == 0 {
			return false, err
		}
		last := len(expired) <= p.batch()
		expired = expired[:min(len(expired), p.batch())]
		ids := make([]string, len(expired))
		for i, c := range expired {
			ids[i] = c.ID
		}
		var recs []*callvault.Recording
		var unused []string
		var shared int64
		err = p.Store.Update(ctx, func(tx callvault.Tx) error {
			var err error
			if recs, err = tx.DeleteCalls(r.Tenant, ids); err != nil {
				return err
			}
			unused, shared = nil, 0
			seen := map[string]bool{}
			for _, rec := range recs {
				if rec.SHA256 == "" || seen[rec.SHA256] {
					continue
				}
				seen[rec.SHA256] = true
				inUse, err := tx.RecordingBlobInUse(ctx, r.Tenant, rec.SHA256)
				if err != nil {
					return err
				}
				if inUse {
					shared++
				} else {
					unused = append(unused, rec.SHA256)
				}
			}
			if !last {
				return nil
			}
			final := *r
			final.Batches++
			final.Calls += int64(len(ids))
			final.Recordings += int64(len(recs))
			final.Shared += shared
			final.Blobs += int64(len(unused))
			return tx.AppendAudit(p.record(&final, now, nil))
		})
		if err != nil {
			return false, err
		}
		r.Batches++
		r.Calls += int64(len(ids))
		r.Recordings += int64(len(recs))
		r.Shared += shared
		p.deleteBlobs(ctx, r, unused)
		if last {
			return true, nil
		}
	}
}

// deleteBlobs deletes the recording contents a committed batch left unused,
// checking again right before each delete that no recording has taken it up
// since. A failed delete is logged and counted, not fatal: the metadata is
// gone, and orphaned content is harmless.
func (p *Purger) deleteBlobs(ctx context.Context, r *Result, shas []string) {
	ctx = context.WithoutCancel(ctx)
	guard := p.Guard
	if guard == nil {
		guard = &blob.Guard{}
	}
	for _, sha := range shas {
		deleted, err := guard.DeleteUnused(ctx, p.Blobs, r.Tenant, sha, func(ctx context.Context) (bool, error) {
			return p.Store.RecordingBlobInUse(ctx, r.Tenant, sha)
		})
		if err == nil && !deleted {
			r.Shared++
			continue
		}
		if err != nil {
			r.BlobErrors++
			p.log().Error("retention purge: deleting recording content", "tenant", r.Tenant, "sha256", sha, "err", err)
			continue
		}
		r.Blobs++
	}
}

// count fills a dry run's counts by paging through the calls that started
// before the cutoff, skipping those under legal hold, without holding more
// than one page.
func (p *Purger) count(ctx context.Context, r *Result) error {
	f := callvault.CallFilter{TenantID: r.Tenant, To: r.Cutoff, Limit: p.batch()}
	for {
		page, err := p.Store.Calls(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range page {
			if !c.LegalHold {
				r.Calls++
				r.Recordings += int64(len(c.RecordingIDs))
			}
		}
		if len(page) < f.Limit {
			return nil
		}
		last := page[len(page)-1]
		f.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
	}
}

// record is the audit record of a run that deleted something.
func (p *Purger) record(r *Result, now time.Time, runErr error) *callvault.AuditRecord {
	actor := p.Actor
	if actor == "" {
		actor = "system:retention"
	}
	old := map[string]any{
		"cutoff": r.Cutoff.Format(time.RFC3339), "retentionDays": r.RetentionDays,
		"calls": r.Calls, "recordings": r.Recordings, "blobs": r.Blobs, "batches": r.Batches,
	}
	if r.Shared > 0 {
		old["blobsStillShared"] = r.Shared
	}
	if r.BlobErrors > 0 {
		old["blobErrors"] = r.BlobErrors
	}
	if runErr != nil {
		old["incomplete"] = true
		old["error"] = runErr.Error()
	}
	det, _ := json.Marshal(map[string]any{"new": map[string]any{}, "old": old})
	return &callvault.AuditRecord{
		TenantID: r.Tenant, Service: callvault.AuditData, EventType: callvault.EventDelete,
		EntityType: EntityType, EntityKey: r.Cutoff.Format(time.RFC3339),
		DisplayName: fmt.Sprintf("retention purge: %d calls older than %d days", r.Calls, r.RetentionDays),
		Timestamp:   now, AuditUserID: actor, Principal: actor, Outcome: callvault.OutcomeSuccess, Details: string(det),
	}
}

// Loop runs p.All over every tenant each interval until ctx is done; an
// interval <= 0 disables it. Errors are logged; the next run retries.
func Loop(ctx context.Context, p *Purger, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := p.All(ctx, "", false); err != nil && ctx.Err() == nil {
				p.log().Error("retention purge", "err", err)
			}
		}
	}
}
