package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlbuild"
	"github.com/callvault/callvault/internal/sqlrow"
)

// Call records.
//
// Calls are listed through calls_start (tenant_id, start_us, id): keyset
// pages walk it backwards from the cursor, ExpiredCalls walks it forwards,
// and aggregates scan the range of their filter.

// callCols are the columns a call record is read from, in scanCall's order.
const callCols = `tenant_id, id, start_us, ingest_seq, direction, type, result, site_id, extension,
	from_number, to_number, session_id, telephony_session_id, legal_hold, answer_us, end_us,
	duration_ms, talk_ms, ingested_us, action, transport, from_name, from_ext_id, from_ext,
	to_name, to_ext_id, to_ext, legs, recording_ids`

// copyCallCols are the columns PutCalls copies, in callRow's order.
var copyCallCols = []string{"tenant_id", "id", "start_us", "ingest_seq", "direction", "type", "result",
	"site_id", "extension", "from_number", "to_number", "session_id", "telephony_session_id",
	"has_recording", "legal_hold", "answer_us", "end_us", "duration_ms", "talk_ms", "ingested_us",
	"action", "transport", "from_name", "from_ext_id", "from_ext", "to_name", "to_ext_id", "to_ext",
	"legs", "recording_ids"}

// callRow is the row of r for copyCallCols.
func callRow(r *callvault.CallRecord, seq, nowUs int64) []any {
	var legs any
	if len(r.Legs) > 0 {
		legs = r.Legs
	}
	var recs any
	if len(r.RecordingIDs) > 0 {
		recs = r.RecordingIDs
	}
	return []any{r.TenantID, r.ID, r.Start.UnixMicro(), seq, r.Direction, r.Type, r.Result,
		r.SiteID, r.Extension, r.From.PhoneNumber, r.To.PhoneNumber, r.SessionID, r.TelephonySessionID,
		len(r.RecordingIDs) > 0, r.LegalHold, sqlrow.MicrosOrNil(r.Answer), sqlrow.MicrosOrNil(r.End), r.DurationMs, r.TalkMs, nowUs,
		r.Action, r.Transport, r.From.Name, r.From.ExtensionID, r.From.ExtensionNumber,
		r.To.Name, r.To.ExtensionID, r.To.ExtensionNumber, legs, recs}
}

func scanCall(sc sqlrow.Scanner) (*callvault.CallRecord, error) {
	var r callvault.CallRecord
	var start, ingested int64
	err := sc.Scan(&r.TenantID, &r.ID, &start, &r.IngestSeq, &r.Direction, &r.Type, &r.Result, &r.SiteID,
		&r.Extension, &r.From.PhoneNumber, &r.To.PhoneNumber, &r.SessionID, &r.TelephonySessionID,
		&r.LegalHold, sqlrow.Time(&r.Answer), sqlrow.Time(&r.End), &r.DurationMs, &r.TalkMs, &ingested,
		&r.Action, &r.Transport, &r.From.Name, &r.From.ExtensionID, &r.From.ExtensionNumber,
		&r.To.Name, &r.To.ExtensionID, &r.To.ExtensionNumber, &r.Legs, &r.RecordingIDs)
	if err != nil {
		return nil, err
	}
	r.Start = time.UnixMicro(start).UTC()
	r.IngestedAt = time.UnixMicro(ingested).UTC()
	return &r, nil
}

// Call returns a call record of the tenant with its legs, or ENotFound.
func (r reader) Call(ctx context.Context, tenantID, id string) (*callvault.CallRecord, error) {
	return getOne(ctx, r.q, "call", id, scanCall,
		`SELECT `+callCols+` FROM calls WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// Calls returns the tenant's records matching f, ordered by Start and then
// ID, both descending, at most f.Limit (all when 0). f.After starts the
// page strictly after that position in this order. EInvalid without
// f.TenantID.
//
// The cursor is the row comparison (start_us, id) < (cursor), which
// PostgreSQL turns into an index condition on calls_start: a deep page
// starts where the cursor points and costs what the first page does.
func (r reader) Calls(ctx context.Context, f callvault.CallFilter) ([]*callvault.CallRecord, error) {
	query, args, err := callsQuery(&f)
	if err != nil {
		return nil, err
	}
	return getAll(ctx, r.q, "calls", scanCall, query, args...)
}

// callsQuery returns the query of Calls(f) and its arguments.
func callsQuery(f *callvault.CallFilter) (string, []any, error) {
	w := sqlbuild.New(sqlbuild.Postgres)
	if err := sqlbuild.CallConds(f, w); err != nil {
		return "", nil, err
	}
	if f.After != nil {
		w.Cond(`(start_us, id) < (?, ?)`, f.After.Start.UnixMicro(), f.After.ID)
	}
	query := `SELECT ` + callCols + ` FROM calls WHERE ` + w.String() + ` ORDER BY start_us DESC, id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ` + w.Arg(f.Limit)
	}
	return query, w.Args(), nil
}

// CallIngestHead returns the highest IngestSeq the tenant's records were
// given (0 when none); it does not go back when records are deleted.
func (r reader) CallIngestHead(ctx context.Context, tenantID string) (int64, error) {
	var seq int64
	err := r.q.QueryRow(ctx, `SELECT ingest_seq FROM call_heads WHERE tenant_id = $1`, tenantID).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, dbError("read call head", err)
	}
	return seq, nil
}

const hourUs = int64(time.Hour / time.Microsecond)

// AggregateCalls counts the tenant's records matching a.Filter (its Limit
// and After ignored) per UTC hour of Start when a.HourBuckets and/or per
// a.GroupBy key ("site", "extension", "direction"), in one GROUP BY.
// Answered records have an answer time; missed records are inbound ones
// without. Only groups with records are returned, ordered by bucket, then
// key; without any grouping that is one bucket of totals, or none. EInvalid
// for another GroupBy or without a tenant.
func (r reader) AggregateCalls(ctx context.Context, a callvault.CallAggregate) ([]*callvault.CallBucket, error) {
	query, args, err := aggregateQuery(&a)
	if err != nil {
		return nil, err
	}
	return getAll(ctx, r.q, "call aggregates", func(sc sqlrow.Scanner) (*callvault.CallBucket, error) {
		var b callvault.CallBucket
		var hour *int64
		if err := sc.Scan(&hour, &b.Key, &b.Calls, &b.Answered, &b.Missed, &b.TalkMs); err != nil {
			return nil, err
		}
		if hour != nil {
			b.Bucket = time.UnixMicro(*hour * hourUs).UTC()
		}
		return &b, nil
	}, query, args...)
}

// aggregateQuery returns the query of AggregateCalls(a) and its arguments.
func aggregateQuery(a *callvault.CallAggregate) (string, []any, error) {
	w := sqlbuild.New(sqlbuild.Postgres)
	keyCol, err := sqlbuild.AggregateConds(a, w)
	if err != nil {
		return "", nil, err
	}
	if keyCol == "" {
		keyCol = `''::text`
	}
	keyCol += ` COLLATE "C"`
	bucketCol := `NULL::bigint`
	if a.HourBuckets {
		// Floor division: PostgreSQL's / truncates toward zero.
		bucketCol = `floor(start_us::numeric / ` + strconv.FormatInt(hourUs, 10) + `)::bigint`
	}
	query := `SELECT ` + bucketCol + `, ` + keyCol + `, count(*), count(answer_us),
		count(*) FILTER (WHERE direction = '` + callvault.DirectionInbound + `' AND answer_us IS NULL),
		coalesce(sum(talk_ms), 0)::bigint
		FROM calls WHERE ` + w.String() + ` GROUP BY 1, 2 ORDER BY 1, 2`
	return query, w.Args(), nil
}

// ExpiredCalls returns up to limit (all when limit <= 0) of the tenant's
// records that started before the cutoff and are not under legal hold,
// oldest first (Start, then ID, ascending). It returns none while the
// tenant itself is under legal hold.
func (r reader) ExpiredCalls(ctx context.Context, tenantID string, before time.Time, limit int) ([]*callvault.CallRecord, error) {
	query := `SELECT ` + callCols + ` FROM calls WHERE tenant_id = $1 AND start_us < $2 AND NOT legal_hold
		AND NOT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $1 AND legal_hold)
		ORDER BY start_us, id`
	args := []any{tenantID, before.UnixMicro()}
	if limit > 0 {
		query += ` LIMIT $3`
		args = append(args, limit)
	}
	return getAll(ctx, r.q, "expired calls", scanCall, query, args...)
}

// atomic runs fn inside a savepoint: when fn fails, whatever it wrote is
// undone and the transaction goes on as before the call.
func (t *tx) atomic(name string, fn func() error) (err error) {
	if _, err := t.run(`SAVEPOINT ` + name); err != nil {
		return dbError(name, err)
	}
	defer func() {
		if err != nil {
			_, _ = t.run(`ROLLBACK TO SAVEPOINT ` + name)
			_, _ = t.run(`RELEASE SAVEPOINT ` + name)
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	if _, err := t.run(`RELEASE SAVEPOINT ` + name); err != nil {
		return dbError(name, err)
	}
	return nil
}

// callHead is a tenant's row of call_heads.
type callHead struct {
	ingest, event int64
}

// distinct returns the tenants sorted, without repeats.
func distinct(tenants []string) []string {
	s := slices.Clone(tenants)
	slices.Sort(s)
	return slices.Compact(s)
}

// lockCallHeads checks that the tenants exist (ENotFound for the first in
// the given order that does not), then locks their call_heads rows
// (creating the missing ones at 0) in tenant order and returns them. Every
// writer of calls and call_events holds the lock of the tenant it writes,
// so what it reads of the tenant's rows stays true until it commits, and
// the numbering has no gaps or repeats across nodes.
func (t *tx) lockCallHeads(tenants []string) (map[string]*callHead, error) {
	sorted := distinct(tenants)
	known := map[string]bool{}
	rows, err := t.tx.Query(t.ctx, `SELECT tenant_id FROM tenants WHERE tenant_id = ANY($1)`, sorted)
	if err != nil {
		return nil, dbError("read tenants", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, dbError("read tenants", err)
		}
		known[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("read tenants", err)
	}
	for _, id := range tenants {
		if !known[id] {
			return nil, sqlrow.NotFound("tenant", id)
		}
	}
	if _, err := t.run(`INSERT INTO call_heads (tenant_id, ingest_seq, event_seq) SELECT unnest($1::text[]), 0, 0
		ORDER BY 1 ON CONFLICT (tenant_id) DO NOTHING`, sorted); err != nil {
		return nil, dbError("create call head", err)
	}
	rows, err = t.tx.Query(t.ctx, `SELECT tenant_id, ingest_seq, event_seq FROM call_heads
		WHERE tenant_id = ANY($1) ORDER BY tenant_id FOR UPDATE`, sorted)
	if err != nil {
		return nil, dbError("lock call heads", err)
	}
	defer rows.Close()
	heads := make(map[string]*callHead, len(sorted))
	for rows.Next() {
		var tenant string
		var h callHead
		if err := rows.Scan(&tenant, &h.ingest, &h.event); err != nil {
			return nil, dbError("lock call heads", err)
		}
		heads[tenant] = &h
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("lock call heads", err)
	}
	return heads, nil
}

// saveCallHeads writes the heads back.
func (t *tx) saveCallHeads(heads map[string]*callHead) error {
	b := &pgx.Batch{}
	for tenant, h := range heads {
		b.Queue(`UPDATE call_heads SET ingest_seq = $1, event_seq = $2 WHERE tenant_id = $3`, h.ingest, h.event, tenant)
	}
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return dbError("move call heads", err)
	}
	return nil
}

// existing returns the keys (tenant, id) of table's rows among the given
// ones, as tenant + "\x00" + id. The caller holds the tenants' head locks.
func (t *tx) existing(table string, tenants, ids []string) (map[string]bool, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT x.tenant_id, x.id FROM `+table+` x
		JOIN unnest($1::text[], $2::text[]) AS k (tenant_id, id) ON x.tenant_id = k.tenant_id AND x.id = k.id`,
		tenants, ids)
	if err != nil {
		return nil, dbError("read "+table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var tenant, id string
		if err := rows.Scan(&tenant, &id); err != nil {
			return nil, dbError("read "+table, err)
		}
		have[tenant+"\x00"+id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read "+table, err)
	}
	return have, nil
}

// PutCalls stores the records whose (TenantID, ID) is not stored yet, in
// order: a record that exists, or that came earlier in the batch, is
// skipped. Stored records get the tenant's next IngestSeq and IngestedAt
// (now, to the microsecond); the others are left unchanged. stored[i]
// reports whether records[i] was stored.
//
// The batch is all or nothing: on error nothing of it is written and no
// record is changed. EInvalid for a nil record or one without tenant, id or
// start time; ENotFound when a record's tenant does not exist.
//
// This is the bulk-ingest path. With the tenants' call_heads rows locked
// (see lockCallHeads), the new rows go to calls in one COPY (pgx
// CopyFrom), numbered as they go, each written once. The COPY first
// assumes that no record of the batch is stored yet (repeats within the
// batch are dropped before it), which is the case of bulk ingest; when
// the primary key says otherwise, that attempt is rolled back and the
// batch is written again after one query has found which ids exist (a
// re-sent batch pays that second pass). docs/benchmarks.md, "COPY ingest",
// has the measurements; a staging table with INSERT ... ON CONFLICT DO
// NOTHING RETURNING writes each row twice and measured slower.
func (t *tx) PutCalls(records []*callvault.CallRecord) ([]bool, error) {
	stored := make([]bool, len(records))
	if err := callvault.CheckCallBatch(records); err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return stored, nil
	}
	now := t.now().UTC().Truncate(time.Microsecond)
	seqs := make([]int64, len(records))
	err := t.atomic("put_calls", func() error { return t.putCalls(records, now, seqs, stored, false) })
	if errors.Is(err, errStoredBefore) {
		clear(seqs)
		clear(stored)
		err = t.atomic("put_calls", func() error { return t.putCalls(records, now, seqs, stored, true) })
	}
	if err != nil {
		return nil, err
	}
	callvault.MarkIngested(records, stored, seqs, now)
	return stored, nil
}

// errStoredBefore is putCalls' answer when, not looking up, its COPY met a
// record that is stored already.
var errStoredBefore = errors.New("postgres: a call record of the batch is stored already")

// putCalls is one attempt of PutCalls, inside its savepoint: it locks the
// heads, finds the ids that are stored already when lookup is set (and
// otherwise assumes none is), and COPYs the rest. It returns
// errStoredBefore when, without lookup, the primary key refused a row.
func (t *tx) putCalls(records []*callvault.CallRecord, now time.Time, seqs []int64, stored []bool, lookup bool) error {
	tenants := make([]string, len(records))
	for i, r := range records {
		tenants[i] = r.TenantID
	}
	heads, err := t.lockCallHeads(tenants)
	if err != nil {
		return err
	}
	// seen holds the keys stored or taken by an earlier record of the batch:
	// the id alone when the batch has one tenant, tenant + "\x00" + id when not.
	key := func(r *callvault.CallRecord) string { return r.ID }
	if len(heads) > 1 {
		key = func(r *callvault.CallRecord) string { return r.TenantID + "\x00" + r.ID }
	}
	seen := make(map[string]bool, len(records))
	if lookup {
		ids := make([]string, len(records))
		for i, r := range records {
			ids[i] = r.ID
		}
		have, err := t.existing("calls", tenants, ids)
		if err != nil {
			return err
		}
		for _, r := range records {
			if have[r.TenantID+"\x00"+r.ID] {
				seen[key(r)] = true
			}
		}
	}
	rows := make([][]any, 0, len(records))
	nowUs := now.UnixMicro()
	for i, r := range records {
		k := key(r)
		if seen[k] {
			continue
		}
		seen[k] = true
		h := heads[r.TenantID]
		h.ingest++
		seqs[i], stored[i] = h.ingest, true
		rows = append(rows, callRow(r, h.ingest, nowUs))
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"calls"}, copyCallCols, pgx.CopyFromRows(rows)); err != nil {
		if !lookup && isUniqueOn(err, "calls_pkey") {
			return errStoredBefore
		}
		return dbError("copy calls", err)
	}
	return t.saveCallHeads(heads)
}

// DeleteCalls deletes the tenant's call records with the given ids and the
// recordings whose CallID is one of them, and returns those recordings by
// id. Ids the tenant does not have are skipped. All or nothing.
func (t *tx) DeleteCalls(tenantID string, ids []string) ([]*callvault.Recording, error) {
	var recs []*callvault.Recording
	err := t.atomic("delete_calls", func() error {
		got, err := getAll(t.ctx, t.tx, "recordings", sqlrow.ScanRecording,
			`DELETE FROM recordings WHERE tenant_id = $1 AND call_id = ANY($2) RETURNING `+sqlrow.RecordingCols, tenantID, ids)
		if err != nil {
			return err
		}
		recs = got
		if _, err := t.run(`DELETE FROM calls WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids); err != nil {
			return dbError("delete calls", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b *callvault.Recording) int { return strings.Compare(a.ID, b.ID) })
	return recs, nil
}

// SetCallLegalHold sets or clears a call's legal hold; ENotFound if the
// tenant has no such call.
func (t *tx) SetCallLegalHold(tenantID, id string, hold bool) error {
	return t.change("update", "call", id, `UPDATE calls SET legal_hold = $1 WHERE tenant_id = $2 AND id = $3`, hold, tenantID, id)
}

// AttachRecording adds recordingID to the call's RecordingIDs (once) and
// marks it as having a recording; ENotFound if the tenant has no such call.
// One statement: concurrent attachments to one call both land.
func (t *tx) AttachRecording(tenantID, callID, recordingID string) error {
	return t.change("update", "call", callID, `UPDATE calls SET
		recording_ids = CASE WHEN $1 = ANY(coalesce(recording_ids, '{}')) THEN recording_ids
			ELSE array_append(coalesce(recording_ids, '{}'), $1) END,
		has_recording = true
		WHERE tenant_id = $2 AND id = $3`, recordingID, tenantID, callID)
}

// PutCallEvents stores the events whose (TenantID, ID) is not stored yet,
// in order, giving each the tenant's next Seq and, when it has none,
// ReceivedAt (now); Timestamp and ReceivedAt are truncated to the
// microsecond in UTC. Skipped events are left unchanged. stored[i] reports
// whether events[i] was stored.
//
// All or nothing, like PutCalls, and written the same way (head locks, one
// lookup, one COPY). EInvalid for a nil event or one without tenant, id or
// call id; ENotFound when an event's tenant does not exist.
func (t *tx) PutCallEvents(events []*callvault.CallEvent) ([]bool, error) {
	stored := make([]bool, len(events))
	tenants := make([]string, len(events))
	ids := make([]string, len(events))
	if err := sqlrow.CheckCallEvents(events); err != nil {
		return nil, err
	}
	for i, e := range events {
		tenants[i], ids[i] = e.TenantID, e.ID
	}
	if len(events) == 0 {
		return stored, nil
	}
	now := t.now().UTC().Truncate(time.Microsecond)
	out := make([]callvault.CallEvent, len(events))
	err := t.atomic("put_call_events", func() error {
		heads, err := t.lockCallHeads(tenants)
		if err != nil {
			return err
		}
		have, err := t.existing("call_events", tenants, ids)
		if err != nil {
			return err
		}
		var rows [][]any
		for i, in := range events {
			key := in.TenantID + "\x00" + in.ID
			if have[key] {
				continue
			}
			have[key] = true
			h := heads[in.TenantID]
			h.event++
			e := *in
			e.Seq = h.event
			e.Timestamp = e.Timestamp.UTC().Truncate(time.Microsecond)
			if e.ReceivedAt.IsZero() {
				e.ReceivedAt = now
			}
			e.ReceivedAt = e.ReceivedAt.UTC().Truncate(time.Microsecond)
			rows = append(rows, []any{e.TenantID, e.Seq, e.ID, e.CallID, e.Type, sqlrow.MicrosOrNil(e.Timestamp), e.SiteID,
				e.Direction, e.From, e.To, e.Result, e.RecordingID, e.TransferTo, sqlrow.MicrosOrNil(e.ReceivedAt)})
			out[i], stored[i] = e, true
		}
		if len(rows) == 0 {
			return nil
		}
		if _, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"call_events"}, callEventColList, pgx.CopyFromRows(rows)); err != nil {
			return dbError("copy call events", err)
		}
		return t.saveCallHeads(heads)
	})
	if err != nil {
		return nil, err
	}
	for i := range events {
		if stored[i] {
			*events[i] = out[i]
		}
	}
	return stored, nil
}

// callEventColList is sqlrow.CallEventCols as CopyFrom takes them.
var callEventColList = strings.Split(strings.Join(strings.Fields(sqlrow.CallEventCols), ""), ",")

// Recordings.

// Recording returns a recording's metadata, or ENotFound.
func (r reader) Recording(ctx context.Context, tenantID, id string) (*callvault.Recording, error) {
	return getOne(ctx, r.q, "recording", id, sqlrow.ScanRecording,
		`SELECT `+sqlrow.RecordingCols+` FROM recordings WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// RecordingBlobInUse reports whether a recording of the tenant has the
// SHA-256; never for the empty one (a recording not uploaded yet).
func (r reader) RecordingBlobInUse(ctx context.Context, tenantID, sha256 string) (bool, error) {
	if sha256 == "" {
		return false, nil
	}
	var used bool
	err := r.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recordings WHERE tenant_id = $1 AND sha256 = $2)`,
		tenantID, sha256).Scan(&used)
	if err != nil {
		return false, dbError("read recordings", err)
	}
	return used, nil
}

// CreateRecording stores a recording's metadata; EConflict if the id exists
// in the tenant. The call record need not exist (yet), and its RecordingIDs
// are not changed.
func (t *tx) CreateRecording(x *callvault.Recording) error {
	if x == nil {
		return sqlrow.NilArg("recording")
	}
	if err := sqlrow.Required("id", x.ID); err != nil {
		return err
	}
	if err := sqlrow.Required("callId", x.CallID); err != nil {
		return err
	}
	return t.create("recording", x.ID, x.TenantID, `INSERT INTO recordings (`+sqlrow.RecordingCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		x.TenantID, x.ID, x.CallID, x.Type, x.ContentType, x.DurationMs, x.Size, x.SHA256, sqlrow.Time(&x.CreatedAt), sqlrow.Time(&x.UploadedAt))
}

// UpdateRecording replaces a recording's metadata but CreatedAt; ENotFound
// if the tenant has no such recording.
func (t *tx) UpdateRecording(x *callvault.Recording) error {
	if x == nil {
		return sqlrow.NilArg("recording")
	}
	if err := sqlrow.Required("callId", x.CallID); err != nil {
		return err
	}
	return t.change("update", "recording", x.ID, `UPDATE recordings SET call_id = $1, type = $2, content_type = $3,
		duration_ms = $4, size = $5, sha256 = $6, uploaded_at = $7 WHERE tenant_id = $8 AND id = $9`,
		x.CallID, x.Type, x.ContentType, x.DurationMs, x.Size, x.SHA256, sqlrow.Time(&x.UploadedAt), x.TenantID, x.ID)
}

// Active calls.

// ActiveCall returns a live call of the tenant, or ENotFound.
func (r reader) ActiveCall(ctx context.Context, tenantID, callID string) (*callvault.ActiveCall, error) {
	return getOne(ctx, r.q, "active call", callID, codec.ScanActiveCall,
		`SELECT `+sqlrow.ActiveCallCols+` FROM active_calls WHERE tenant_id = $1 AND call_id = $2`, tenantID, callID)
}

// ActiveCalls lists the tenant's live calls, oldest first (StartedAt, then
// CallID).
func (r reader) ActiveCalls(ctx context.Context, tenantID string) ([]*callvault.ActiveCall, error) {
	return getAll(ctx, r.q, "active calls", codec.ScanActiveCall,
		`SELECT `+sqlrow.ActiveCallCols+` FROM active_calls WHERE tenant_id = $1 ORDER BY started_at, call_id`, tenantID)
}

// PutActiveCall creates a live call or replaces every field of it;
// ENotFound when the tenant does not exist.
func (t *tx) PutActiveCall(a *callvault.ActiveCall) error {
	if a == nil {
		return sqlrow.NilArg("active call")
	}
	if err := sqlrow.Required("callId", a.CallID); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO active_calls (`+sqlrow.ActiveCallCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (tenant_id, call_id) DO UPDATE SET site_id = excluded.site_id, direction = excluded.direction,
			state = excluded.state, from_party = excluded.from_party, to_party = excluded.to_party,
			extension = excluded.extension, recording = excluded.recording, started_at = excluded.started_at,
			answered_at = excluded.answered_at, updated_at = excluded.updated_at`,
		a.TenantID, a.CallID, a.SiteID, a.Direction, a.State, a.From, a.To, a.Extension, a.Recording,
		sqlrow.Time(&a.StartedAt), sqlrow.Time(&a.AnsweredAt), sqlrow.Time(&a.UpdatedAt))
	return errs.Create("active call", a.CallID, a.TenantID, err)
}

// DeleteActiveCall deletes a live call; ENotFound if the tenant has none
// with that id.
func (t *tx) DeleteActiveCall(tenantID, callID string) error {
	return t.change("delete", "active call", callID, `DELETE FROM active_calls WHERE tenant_id = $1 AND call_id = $2`, tenantID, callID)
}

// Call events.

// CallEvents returns the tenant's events with Seq > f.AfterSeq (and <=
// f.MaxSeq when set, Timestamp in [f.From, f.To) when set), in Seq order, at
// most f.Limit (all when 0). EInvalid without f.TenantID.
func (r reader) CallEvents(ctx context.Context, f callvault.EventFilter) ([]*callvault.CallEvent, error) {
	w := sqlbuild.New(sqlbuild.Postgres)
	if err := sqlbuild.EventConds(&f, w); err != nil {
		return nil, err
	}
	query := `SELECT ` + sqlrow.CallEventCols + ` FROM call_events WHERE ` + w.String() + ` ORDER BY seq`
	if f.Limit > 0 {
		query += ` LIMIT ` + w.Arg(f.Limit)
	}
	return getAll(ctx, r.q, "call events", codec.ScanCallEvent, query, w.Args()...)
}

// CallEventsOf returns the events of one live call of the tenant in Seq
// order; none for a call it does not have.
func (r reader) CallEventsOf(ctx context.Context, tenantID, callID string) ([]*callvault.CallEvent, error) {
	return getAll(ctx, r.q, "call events", codec.ScanCallEvent,
		`SELECT `+sqlrow.CallEventCols+` FROM call_events WHERE tenant_id = $1 AND call_id = $2 ORDER BY seq`, tenantID, callID)
}
