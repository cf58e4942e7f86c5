package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlbuild"
	"github.com/callvault/callvault/internal/sqlrow"
)

// chainHead is the last record of a tenant's chain.
type chainHead struct {
	seq  int64
	hash string
}

// AuditHead returns the Seq and Hash of the tenant's last audit record,
// (0, "") when there is none.
func (r reader) AuditHead(ctx context.Context, tenantID string) (int64, string, error) {
	h, err := r.head(ctx, tenantID)
	return h.seq, h.hash, err
}

func (r reader) head(ctx context.Context, tenantID string) (chainHead, error) {
	var h chainHead
	err := r.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_heads WHERE tenant_id = ?`, tenantID).Scan(&h.seq, &h.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return chainHead{}, nil
	}
	if err != nil {
		return chainHead{}, dbError("read audit head", err)
	}
	return h, nil
}

// AuditRecords returns the tenant's records matching f in ascending Seq
// order, at most f.Limit (all when 0). Services, event types and entity
// types match case-insensitively; DisplayName is exact or has a leading
// and/or trailing '*' wildcard, and matches case-insensitively (ASCII
// letters only, as SQLite's LIKE does). EInvalid without f.TenantID.
func (r reader) AuditRecords(ctx context.Context, f callvault.AuditFilter) ([]*callvault.AuditRecord, error) {
	w := sqlbuild.New(sqlbuild.SQLite)
	if err := sqlbuild.AuditConds(&f, w); err != nil {
		return nil, err
	}
	query := `SELECT ` + sqlrow.AuditCols + ` FROM audit WHERE ` + w.String() + ` ORDER BY seq`
	if f.Limit > 0 {
		query += ` LIMIT ` + w.Arg(f.Limit)
	}
	return getAll(ctx, r.q, "audit records", sqlrow.ScanAudit, query, w.Args()...)
}

// Checkpoints lists the tenant's signed checkpoints in ascending Seq order.
func (r reader) Checkpoints(ctx context.Context, tenantID string) ([]*callvault.Checkpoint, error) {
	return getAll(ctx, r.q, "checkpoints", sqlrow.ScanCheckpoint,
		`SELECT tenant_id, seq, hash, created_at, key_id, signature FROM checkpoints
		 WHERE tenant_id = ? ORDER BY seq, key_id`, tenantID)
}

// PutCheckpoint stores a signed checkpoint; EConflict if the tenant already
// has one at that Seq signed by the same key.
func (t *tx) PutCheckpoint(c *callvault.Checkpoint) error {
	if c == nil {
		return sqlrow.NilArg("checkpoint")
	}
	if err := sqlrow.Required("tenantId", c.TenantID); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO checkpoints (tenant_id, seq, hash, created_at, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)`,
		c.TenantID, c.Seq, c.Hash, sqlrow.Time(&c.CreatedAt), c.KeyID, c.Signature)
	if isUnique(err) {
		return callvault.Errorf(callvault.EConflict, "checkpoint at seq %d already exists", c.Seq)
	}
	if err != nil {
		return dbError("put checkpoint", err)
	}
	return nil
}

// AppendAudit appends records to their tenants' chains in order: each
// Timestamp is truncated to the microsecond in UTC, a record without an ID
// gets callvault.NewID("aud"), Seq is the tenant's head Seq + 1, PrevHash
// the head's Hash ("" for the first record) and Hash the record's
// ComputeHash. Records of several tenants may be mixed. The tenants' rows in
// audit_heads move in the same transaction.
//
// The append is all or nothing, even inside a transaction that goes on to
// commit: on error nothing of it is written and the records are unchanged.
// EInvalid for a nil record or one without a tenant; EConflict if a record's
// ID already exists in its tenant.
func (t *tx) AppendAudit(recs ...*callvault.AuditRecord) (err error) {
	if len(recs) == 0 {
		return nil
	}
	if err := sqlrow.CheckAuditRecords(recs); err != nil {
		return err
	}
	if _, err := t.exec(`SAVEPOINT append_audit`); err != nil {
		return dbError("append audit", err)
	}
	defer func() {
		if err != nil {
			_, _ = t.exec(`ROLLBACK TO append_audit`)
			_, _ = t.exec(`RELEASE append_audit`)
		}
	}()

	stmt, err := t.tx.PrepareContext(t.ctx, `INSERT INTO audit (`+sqlrow.AuditCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return dbError("append audit", err)
	}
	defer stmt.Close()

	heads := map[string]*chainHead{}
	var order []string // tenants in first-seen order, for deterministic head writes
	out := make([]callvault.AuditRecord, len(recs))
	for i, in := range recs {
		h := heads[in.TenantID]
		if h == nil {
			loaded, err := t.head(t.ctx, in.TenantID)
			if err != nil {
				return err
			}
			h = &loaded
			heads[in.TenantID] = h
			order = append(order, in.TenantID)
		}
		r := *in
		r.Timestamp = r.Timestamp.UTC().Truncate(time.Microsecond)
		if r.ID == "" {
			r.ID = callvault.NewID("aud")
		}
		r.Seq = h.seq + 1
		r.PrevHash = h.hash
		r.Hash = r.ComputeHash()
		if _, err := stmt.ExecContext(t.ctx, r.TenantID, r.Seq, r.ID, r.Service, r.DisplayName, r.Timestamp.UnixMicro(),
			r.EventType, r.EntityType, r.EntityKey, r.AuditUserID, r.Impersonator, r.Details, r.CorrelationType,
			r.CorrelationID, r.RequestID, r.Principal, r.Outcome, r.Trace, r.PrevHash, r.Hash); err != nil {
			if isUnique(err) {
				return callvault.Errorf(callvault.EConflict, "audit record %q already exists", r.ID)
			}
			return dbError("append audit", err)
		}
		h.seq, h.hash = r.Seq, r.Hash
		out[i] = r
	}
	for _, tenant := range order {
		h := heads[tenant]
		if _, err := t.exec(`INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
			tenant, h.seq, h.hash); err != nil {
			return dbError("move audit head", err)
		}
	}
	if _, err := t.exec(`RELEASE append_audit`); err != nil {
		return dbError("append audit", err)
	}
	for i := range recs {
		*recs[i] = out[i]
	}
	return nil
}
