// Package audit writes and verifies callvault's tamper-evident audit trail.
//
// Writer appends records with group commit: concurrent requests hand their
// records to one goroutine, which writes everything pending in one durable
// transaction and then releases every waiter, so a record is durable before
// its response is sent while fsyncs are shared under load. Each tenant's
// records form a hash chain (see callvault.AuditRecord.ComputeHash); the
// Writer also stores Ed25519-signed checkpoints of chain heads, and Verify
// checks a chain and its checkpoints offline.
package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// MaxBatch is the most records written in one group-commit transaction.
const MaxBatch = 1024

// DefaultCheckpointEvery is how many records of a tenant pass between two
// signed checkpoints.
const DefaultCheckpointEvery = 256

type request struct {
	recs []*callvault.AuditRecord
	done chan error
}

// Writer appends audit records with group commit. It is safe for concurrent
// use. Close flushes everything pending.
type Writer struct {
	store callvault.Store
	key   ed25519.PrivateKey
	now   func() time.Time
	log   *slog.Logger
	every int64

	mu      sync.Mutex
	closed  bool
	pending chan *request
	stopped chan struct{}
	// checkpointed holds, per tenant, the Seq of the last checkpoint written
	// by this writer (or found in the store).
	checkpointed map[string]int64
}

// NewWriter starts a Writer over store that signs checkpoints with key.
func NewWriter(store callvault.Store, key ed25519.PrivateKey, now func() time.Time, log *slog.Logger) *Writer {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		store: store, key: key, now: now, log: log, every: DefaultCheckpointEvery,
		pending:      make(chan *request, 4096),
		stopped:      make(chan struct{}),
		checkpointed: map[string]int64{},
	}
	go w.loop()
	return w
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit writer closed")

// Append writes recs durably and returns once they are committed (or the
// commit failed). Records get their Seq, PrevHash and Hash from the store.
func (w *Writer) Append(ctx context.Context, recs ...*callvault.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	req := &request{recs: recs, done: make(chan error, 1)}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.pending <- req
	w.mu.Unlock()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The records may still be written; the caller must treat the
		// outcome as unknown.
		return ctx.Err()
	}
}

// Close stops accepting records, writes everything pending, signs a
// checkpoint of every tenant's head not checkpointed yet, and returns the
// first error of that final work.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.stopped
		return nil
	}
	w.closed = true
	close(w.pending)
	w.mu.Unlock()
	<-w.stopped
	return w.CheckpointAll(context.Background())
}

func (w *Writer) loop() {
	defer close(w.stopped)
	for first := range w.pending {
		batch := []*request{first}
		n := len(first.recs)
	collect:
		for n < MaxBatch {
			select {
			case r, ok := <-w.pending:
				if !ok {
					break collect
				}
				batch = append(batch, r)
				n += len(r.recs)
			default:
				break collect
			}
		}
		err := w.write(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (w *Writer) write(batch []*request) error {
	var all []*callvault.AuditRecord
	for _, r := range batch {
		all = append(all, r.recs...)
	}
	err := w.store.Update(context.Background(), func(tx callvault.Tx) error {
		if err := tx.AppendAudit(all...); err != nil {
			return err
		}
		return w.checkpointCrossed(tx, all)
	})
	if err != nil {
		w.log.Error("audit append failed", "records", len(all), "err", err)
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// checkpointCrossed signs a checkpoint inside tx for each tenant whose head
// has moved at least w.every records past its last checkpoint.
func (w *Writer) checkpointCrossed(tx callvault.Tx, recs []*callvault.AuditRecord) error {
	heads := map[string]*callvault.AuditRecord{}
	for _, r := range recs {
		heads[r.TenantID] = r
	}
	for tenant, head := range heads {
		last, ok := w.checkpointed[tenant]
		if !ok {
			cps, err := tx.Checkpoints(context.Background(), tenant)
			if err != nil {
				return err
			}
			if len(cps) > 0 {
				last = cps[len(cps)-1].Seq
			}
			w.checkpointed[tenant] = last
		}
		if head.Seq-last < w.every {
			continue
		}
		if err := putCheckpoint(tx, w.sign(tenant, head.Seq, head.Hash)); err != nil {
			return err
		}
		w.checkpointed[tenant] = head.Seq
	}
	return nil
}

// CheckpointAll signs and stores a checkpoint of every tenant's chain head
// that is not checkpointed yet. Close calls it; a server may call it
// periodically, since changes written in their own transactions (admin
// changes, token issuance) do not pass through the writer's batches.
func (w *Writer) CheckpointAll(ctx context.Context) error {
	tenants, err := w.store.Tenants(ctx)
	if err != nil {
		return err
	}
	return w.store.Update(ctx, func(tx callvault.Tx) error {
		for _, t := range tenants {
			if err := CheckpointHead(ctx, tx, w.key, t.ID, w.now()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *Writer) sign(tenant string, seq int64, hash string) *callvault.Checkpoint {
	return Sign(w.key, tenant, seq, hash, w.now())
}

// CheckpointHead signs and stores a checkpoint of the tenant's current chain
// head inside tx, unless the head is empty or already checkpointed.
func CheckpointHead(ctx context.Context, tx callvault.Tx, key ed25519.PrivateKey, tenant string, now time.Time) error {
	seq, hash, err := tx.AuditHead(ctx, tenant)
	if err != nil || seq == 0 {
		return err
	}
	cps, err := tx.Checkpoints(ctx, tenant)
	if err != nil {
		return err
	}
	if len(cps) > 0 && cps[len(cps)-1].Seq == seq {
		return nil
	}
	return putCheckpoint(tx, Sign(key, tenant, seq, hash, now))
}

// putCheckpoint stores c; another node having checkpointed the same head
// with the same key at the same moment is not an error.
func putCheckpoint(tx callvault.Tx, c *callvault.Checkpoint) error {
	if err := tx.PutCheckpoint(c); err != nil && !callvault.IsConflict(err) {
		return err
	}
	return nil
}

// Sign returns a checkpoint of (tenant, seq, hash) signed with key.
func Sign(key ed25519.PrivateKey, tenant string, seq int64, hash string, now time.Time) *callvault.Checkpoint {
	c := &callvault.Checkpoint{
		TenantID:  tenant,
		Seq:       seq,
		Hash:      hash,
		CreatedAt: now.UTC().Truncate(time.Microsecond),
		KeyID:     credential.KeyID(key.Public().(ed25519.PublicKey)),
	}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, checkpointMessage(c)))
	return c
}

// checkpointMessage is the byte string a checkpoint signature covers.
func checkpointMessage(c *callvault.Checkpoint) []byte {
	return []byte("callvault-checkpoint-v1\n" + c.TenantID + "\n" + strconv.FormatInt(c.Seq, 10) + "\n" +
		c.Hash + "\n" + c.CreatedAt.UTC().Format(time.RFC3339Nano) + "\n")
}

// VerifyCheckpoint reports whether c carries a valid signature by pub.
func VerifyCheckpoint(pub ed25519.PublicKey, c *callvault.Checkpoint) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || c.KeyID != credential.KeyID(pub) {
		return false
	}
	return ed25519.Verify(pub, checkpointMessage(c), sig)
}
