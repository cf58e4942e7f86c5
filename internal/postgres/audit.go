package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

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
	var h chainHead
	err := r.q.QueryRow(ctx, `SELECT seq, hash FROM audit_heads WHERE tenant_id = $1`, tenantID).Scan(&h.seq, &h.hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", dbError("read audit head", err)
	}
	return h.seq, h.hash, nil
}

// AuditRecords returns the tenant's records matching f in ascending Seq
// order, at most f.Limit (all when 0). Services, event types and entity
// types match case-insensitively; DisplayName is exact or has a leading
// and/or trailing '*' wildcard, and matches case-insensitively (ILIKE).
// EInvalid without f.TenantID.
func (r reader) AuditRecords(ctx context.Context, f callvault.AuditFilter) ([]*callvault.AuditRecord, error) {
	w := sqlbuild.New(sqlbuild.Postgres)
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
		 WHERE tenant_id = $1 ORDER BY seq, key_id`, tenantID)
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
	_, err := t.exec(`INSERT INTO checkpoints (tenant_id, seq, hash, created_at, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.TenantID, c.Seq, c.Hash, sqlrow.Time(&c.CreatedAt), c.KeyID, c.Signature)
	if isUnique(err) {
		return callvault.Errorf(callvault.EConflict, "checkpoint at seq %d already exists", c.Seq)
	}
	if err != nil {
		return dbError("put checkpoint", err)
	}
	return nil
}

// lockAuditHeads locks the audit_heads rows of the tenants (creating the
// missing ones at seq 0) in tenant order, so that two transactions locking
// overlapping sets cannot deadlock, and returns the heads. A head row that
// another transaction is appending to makes this one wait for its commit,
// then read the moved head: appends from any number of nodes make one chain.
func (t *tx) lockAuditHeads(tenants []string) (map[string]*chainHead, error) {
	sorted := slices.Clone(tenants)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if _, err := t.run(`INSERT INTO audit_heads (tenant_id, seq, hash) SELECT unnest($1::text[]), 0, ''
		ORDER BY 1 ON CONFLICT (tenant_id) DO NOTHING`, sorted); err != nil {
		return nil, dbError("create audit head", err)
	}
	rows, err := t.tx.Query(t.ctx, `SELECT tenant_id, seq, hash FROM audit_heads
		WHERE tenant_id = ANY($1) ORDER BY tenant_id FOR UPDATE`, sorted)
	if err != nil {
		return nil, dbError("lock audit heads", err)
	}
	defer rows.Close()
	heads := make(map[string]*chainHead, len(sorted))
	for rows.Next() {
		var tenant string
		var h chainHead
		if err := rows.Scan(&tenant, &h.seq, &h.hash); err != nil {
			return nil, dbError("lock audit heads", err)
		}
		heads[tenant] = &h
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("lock audit heads", err)
	}
	return heads, nil
}

// AppendAudit appends records to their tenants' chains in order: each
// Timestamp is truncated to the microsecond in UTC, a record without an ID
// gets callvault.NewID("aud"), Seq is the tenant's head Seq + 1, PrevHash
// the head's Hash ("" for the first record) and Hash the record's
// ComputeHash. Records of several tenants may be mixed.
//
// The tenants' rows in audit_heads are locked (SELECT ... FOR UPDATE) before
// the heads are read, and moved in the same transaction: appends of one
// tenant from concurrent transactions, on this node or another, wait for
// each other, and the chain never forks.
//
// The append is all or nothing, even inside a transaction that goes on to
// commit: on error nothing of it is written and the records are unchanged.
// EInvalid for a nil record or one without a tenant; EConflict if a record's
// ID already exists in its tenant.
func (t *tx) AppendAudit(recs ...*callvault.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if err := sqlrow.CheckAuditRecords(recs); err != nil {
		return err
	}
	tenants := make([]string, 0, len(recs))
	for _, r := range recs {
		tenants = append(tenants, r.TenantID)
	}
	out := make([]callvault.AuditRecord, len(recs))
	err := t.atomic("append_audit", func() error {
		heads, err := t.lockAuditHeads(tenants)
		if err != nil {
			return err
		}
		rows := make([][]any, len(recs))
		for i, in := range recs {
			h := heads[in.TenantID]
			r := *in
			r.Timestamp = r.Timestamp.UTC().Truncate(time.Microsecond)
			if r.ID == "" {
				r.ID = callvault.NewID("aud")
			}
			r.Seq = h.seq + 1
			r.PrevHash = h.hash
			r.Hash = r.ComputeHash()
			rows[i] = []any{r.TenantID, r.Seq, r.ID, r.Service, r.DisplayName, r.Timestamp.UnixMicro(),
				r.EventType, r.EntityType, r.EntityKey, r.AuditUserID, r.Impersonator, r.Details, r.CorrelationType,
				r.CorrelationID, r.RequestID, r.Principal, r.Outcome, r.Trace, r.PrevHash, r.Hash}
			h.seq, h.hash = r.Seq, r.Hash
			out[i] = r
		}
		b := &pgx.Batch{}
		for _, row := range rows {
			b.Queue(`INSERT INTO audit (`+sqlrow.AuditCols+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`, row...)
		}
		for tenant, h := range heads {
			b.Queue(`UPDATE audit_heads SET seq = $1, hash = $2 WHERE tenant_id = $3`, h.seq, h.hash, tenant)
		}
		if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
			if isUniqueOn(err, "audit_id") {
				return callvault.Errorf(callvault.EConflict, "an audit record id already exists in its tenant")
			}
			return dbError("append audit", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range recs {
		*recs[i] = out[i]
	}
	return nil
}
