package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlbuild"
	"github.com/callvault/callvault/internal/sqlrow"
)

// Call records.
//
// Calls are listed through calls_start (tenant_id, start_us, id, ...):
// keyset pages walk it backwards from the cursor, and every other filter is
// checked on its entries, which carry the filtered columns, before a table
// row is read. ExpiredCalls walks it forwards, and aggregates scan the range
// of their filter in it alone (see 0002_calls.sql).

// callCols are the columns a call record is read from, in scanCall's order.
const callCols = `tenant_id, id, start_us, ingest_seq, direction, type, result, site_id, extension,
	from_number, to_number, session_id, telephony_session_id, legal_hold, answer_us, end_us,
	duration_ms, talk_ms, ingested_us, body`

// insertCall stores one record unless its (tenant_id, id) exists.
const insertCall = `INSERT INTO calls (tenant_id, id, start_us, ingest_seq, direction, type, result,
	site_id, extension, from_number, to_number, session_id, telephony_session_id, has_recording,
	legal_hold, answer_us, end_us, duration_ms, talk_ms, ingested_us, body)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (tenant_id, id) DO NOTHING`

func scanCall(sc sqlrow.Scanner) (*callvault.CallRecord, error) {
	var r callvault.CallRecord
	var start, ingested int64
	var body []byte
	err := sc.Scan(&r.TenantID, &r.ID, &start, &r.IngestSeq, &r.Direction, &r.Type, &r.Result, &r.SiteID,
		&r.Extension, &r.From.PhoneNumber, &r.To.PhoneNumber, &r.SessionID, &r.TelephonySessionID,
		&r.LegalHold, sqlrow.Time(&r.Answer), sqlrow.Time(&r.End), &r.DurationMs, &r.TalkMs, &ingested, &body)
	if err != nil {
		return nil, err
	}
	r.Start = time.UnixMicro(start).UTC()
	r.IngestedAt = time.UnixMicro(ingested).UTC()
	if err := decodeCallBody(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Call returns a call record of the tenant with its legs, or ENotFound.
func (r reader) Call(ctx context.Context, tenantID, id string) (*callvault.CallRecord, error) {
	return getOne(ctx, r.q, "call", id, scanCall,
		`SELECT `+callCols+` FROM calls WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// Calls returns the tenant's records matching f, ordered by Start and then
// ID, both descending, at most f.Limit (all when 0). f.After starts the
// page strictly after that position in this order. EInvalid without
// f.TenantID.
//
// The cursor is written as start_us <= ? AND (start_us < ? OR (start_us = ?
// AND id < ?)) rather than as a row value: SQLite seeks calls_start to the
// first bound and checks the second on the few rows that share the
// cursor's start, so a deep page costs what the first does.
func (r reader) Calls(ctx context.Context, f callvault.CallFilter) ([]*callvault.CallRecord, error) {
	query, args, err := callsQuery(&f)
	if err != nil {
		return nil, err
	}
	return getAll(ctx, r.q, "calls", scanCall, query, args...)
}

// callsQuery returns the query of Calls(f) and its arguments.
func callsQuery(f *callvault.CallFilter) (string, []any, error) {
	w := sqlbuild.New(sqlbuild.SQLite)
	if err := sqlbuild.CallConds(f, w); err != nil {
		return "", nil, err
	}
	if f.After != nil {
		s := f.After.Start.UnixMicro()
		w.Cond(`start_us <= ? AND (start_us < ? OR (start_us = ? AND id < ?))`, s, s, s, f.After.ID)
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
	h, err := r.callHead(ctx, tenantID)
	return h.ingest, err
}

// callHead is a tenant's row of call_heads.
type callHead struct {
	ingest, event int64
}

func (r reader) callHead(ctx context.Context, tenantID string) (callHead, error) {
	var h callHead
	err := r.q.QueryRowContext(ctx, `SELECT ingest_seq, event_seq FROM call_heads WHERE tenant_id = ?`, tenantID).
		Scan(&h.ingest, &h.event)
	if errors.Is(err, sql.ErrNoRows) {
		return callHead{}, nil
	}
	if err != nil {
		return callHead{}, dbError("read call head", err)
	}
	return h, nil
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
		var hour sql.NullInt64
		if err := sc.Scan(&hour, &b.Key, &b.Calls, &b.Answered, &b.Missed, &b.TalkMs); err != nil {
			return nil, err
		}
		if hour.Valid {
			b.Bucket = time.UnixMicro(hour.Int64 * hourUs).UTC()
		}
		return &b, nil
	}, query, args...)
}

// aggregateQuery returns the query of AggregateCalls(a) and its arguments.
// It reads only columns that calls_start carries.
func aggregateQuery(a *callvault.CallAggregate) (string, []any, error) {
	w := sqlbuild.New(sqlbuild.SQLite)
	keyCol, err := sqlbuild.AggregateConds(a, w)
	if err != nil {
		return "", nil, err
	}
	if keyCol == "" {
		keyCol = `''`
	}
	bucketCol := `NULL`
	if a.HourBuckets {
		// Floor division: SQLite's / truncates toward zero.
		h := strconv.FormatInt(hourUs, 10)
		bucketCol = `(start_us - ((start_us % ` + h + `) + ` + h + `) % ` + h + `) / ` + h
	}
	query := `SELECT ` + bucketCol + `, ` + keyCol + `, count(*), coalesce(sum(answer_us IS NOT NULL), 0),
		coalesce(sum(direction = '` + callvault.DirectionInbound + `' AND answer_us IS NULL), 0), coalesce(sum(talk_ms), 0)
		FROM calls WHERE ` + w.String() + ` GROUP BY 1, 2 HAVING count(*) > 0 ORDER BY 1, 2`
	return query, w.Args(), nil
}

// ExpiredCalls returns up to limit (all when limit <= 0) of the tenant's
// records that started before the cutoff and are not under legal hold,
// oldest first (Start, then ID, ascending). It returns none while the
// tenant itself is under legal hold.
func (r reader) ExpiredCalls(ctx context.Context, tenantID string, before time.Time, limit int) ([]*callvault.CallRecord, error) {
	query := `SELECT ` + callCols + ` FROM calls WHERE tenant_id = ?1 AND start_us < ?2 AND legal_hold = 0
		AND NOT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = ?1 AND legal_hold <> 0)
		ORDER BY start_us, id`
	args := []any{tenantID, before.UnixMicro()}
	if limit > 0 {
		query += ` LIMIT ?3`
		args = append(args, limit)
	}
	return getAll(ctx, r.q, "expired calls", scanCall, query, args...)
}

// atomic runs fn inside a savepoint: when fn fails, whatever it wrote is
// undone and the transaction goes on as before the call.
func (t *tx) atomic(name string, fn func() error) (err error) {
	if _, err := t.exec(`SAVEPOINT ` + name); err != nil {
		return dbError(name, err)
	}
	defer func() {
		if err != nil {
			_, _ = t.exec(`ROLLBACK TO ` + name)
			_, _ = t.exec(`RELEASE ` + name)
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	if _, err := t.exec(`RELEASE ` + name); err != nil {
		return dbError(name, err)
	}
	return nil
}

// heads loads and keeps the call_heads rows a write moves.
type heads struct {
	t     *tx
	m     map[string]*callHead
	order []string // tenants in first-seen order, for deterministic writes
	last  string   // the tenant of the last get, and its head: batches are
	lastH *callHead
}

func (t *tx) heads() *heads { return &heads{t: t, m: map[string]*callHead{}} }

func (h *heads) get(tenantID string) (*callHead, error) {
	if h.lastH != nil && h.last == tenantID {
		return h.lastH, nil
	}
	p := h.m[tenantID]
	if p == nil {
		loaded, err := h.t.callHead(h.t.ctx, tenantID)
		if err != nil {
			return nil, err
		}
		p = &loaded
		h.m[tenantID] = p
		h.order = append(h.order, tenantID)
	}
	h.last, h.lastH = tenantID, p
	return p, nil
}

// save writes the loaded heads back.
func (h *heads) save() error {
	for _, tenant := range h.order {
		p := h.m[tenant]
		if _, err := h.t.exec(`INSERT INTO call_heads (tenant_id, ingest_seq, event_seq) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET ingest_seq = excluded.ingest_seq, event_seq = excluded.event_seq`,
			tenant, p.ingest, p.event); err != nil {
			return dbError("move call head", err)
		}
	}
	return nil
}

// checkCancelEvery is how many rows a batch write stores between checks of
// its context.
const checkCancelEvery = 1024

// PutCalls stores the records whose (TenantID, ID) is not stored yet, in
// order, with one prepared INSERT ... ON CONFLICT DO NOTHING: a record that
// exists, or that came earlier in the batch, is skipped. Stored records get
// the tenant's next IngestSeq and IngestedAt (now, to the microsecond); the
// others are left unchanged. stored[i] reports whether records[i] was
// stored.
//
// The batch is all or nothing: on error nothing of it is written and no
// record is changed. EInvalid for a nil record or one without tenant, id or
// start time; ENotFound when a record's tenant does not exist.
//
// This is the bulk-ingest path, so the rows go to the driver connection
// under the transaction directly (database/sql/driver interfaces, no
// database/sql per row): one prepared statement, one reused argument slice,
// the body encoded into one reused buffer, no read per row. See
// docs/benchmarks.md, "Call store (SQLite)".
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
	err := t.atomic("put_calls", func() error {
		// The heads are read before, and written after, the rows: while
		// Raw holds the connection, the transaction cannot use it.
		hs := t.heads()
		for _, r := range records {
			if _, err := hs.get(r.TenantID); err != nil {
				return err
			}
		}
		err := t.conn.Raw(func(dc any) error {
			return putCallRows(t.ctx, dc, records, hs, now.UnixMicro(), seqs, stored)
		})
		if err != nil {
			return err
		}
		return hs.save()
	})
	if err != nil {
		return nil, err
	}
	callvault.MarkIngested(records, stored, seqs, now)
	return stored, nil
}

// putCallRows inserts the records through the driver connection dc,
// numbering the stored ones from their tenants' heads in hs (which it
// moves) into seqs and stored.
func putCallRows(ctx context.Context, dc any, records []*callvault.CallRecord, hs *heads, nowUs int64, seqs []int64, stored []bool) error {
	cp, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("sqlite: put calls: driver connection %T cannot prepare", dc)
	}
	st, err := cp.PrepareContext(ctx, insertCall)
	if err != nil {
		return dbError("put calls", err)
	}
	defer st.Close()
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		return fmt.Errorf("sqlite: put calls: driver statement %T cannot execute", st)
	}
	// Executing under a context that can be canceled makes the driver
	// watch it from a goroutine per statement; the loop checks ctx itself
	// instead, every checkCancelEvery rows.
	noCancel := context.WithoutCancel(ctx)
	args := make([]driver.NamedValue, 21)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	var body []byte
	for i, r := range records {
		if i%checkCancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		h, err := hs.get(r.TenantID) // loaded: no query
		if err != nil {
			return err
		}
		seq := h.ingest + 1
		body = appendCallBody(body[:0], r)
		v := func(i int, x driver.Value) { args[i].Value = x }
		v(0, r.TenantID)
		v(1, r.ID)
		v(2, r.Start.UnixMicro())
		v(3, seq)
		v(4, r.Direction)
		v(5, r.Type)
		v(6, r.Result)
		v(7, r.SiteID)
		v(8, r.Extension)
		v(9, r.From.PhoneNumber)
		v(10, r.To.PhoneNumber)
		v(11, r.SessionID)
		v(12, r.TelephonySessionID)
		v(13, len(r.RecordingIDs) > 0)
		v(14, r.LegalHold)
		v(15, sqlrow.MicrosOrNil(r.Answer))
		v(16, sqlrow.MicrosOrNil(r.End))
		v(17, r.DurationMs)
		v(18, r.TalkMs)
		v(19, nowUs)
		// The driver binds text as SQLITE_TRANSIENT (SQLite copies it), so
		// the reused buffer can be bound without a copy of its own.
		v(20, unsafe.String(unsafe.SliceData(body), len(body)))
		res, err := ex.ExecContext(noCancel, args)
		if isForeignKey(err) {
			return sqlrow.NotFound("tenant", r.TenantID)
		}
		if err != nil {
			return dbError("put call "+r.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbError("put call "+r.ID, err)
		}
		if n > 0 {
			h.ingest = seq
			seqs[i] = seq
			stored[i] = true
		}
	}
	return nil
}

// deleteChunk is how many ids one DELETE names.
const deleteChunk = 500

// DeleteCalls deletes the tenant's call records with the given ids and the
// recordings whose CallID is one of them, and returns those recordings by
// id. Ids the tenant does not have are skipped. All or nothing.
func (t *tx) DeleteCalls(tenantID string, ids []string) ([]*callvault.Recording, error) {
	var recs []*callvault.Recording
	err := t.atomic("delete_calls", func() error {
		for chunk := range slices.Chunk(ids, deleteChunk) {
			args := make([]any, 0, len(chunk)+1)
			args = append(args, tenantID)
			for _, id := range chunk {
				args = append(args, id)
			}
			marks := strings.Repeat(", ?", len(chunk))[2:]
			got, err := getAll(t.ctx, t.tx, "recordings", sqlrow.ScanRecording,
				`DELETE FROM recordings WHERE tenant_id = ? AND call_id IN (`+marks+`) RETURNING `+sqlrow.RecordingCols, args...)
			if err != nil {
				return err
			}
			recs = append(recs, got...)
			if _, err := t.exec(`DELETE FROM calls WHERE tenant_id = ? AND id IN (`+marks+`)`, args...); err != nil {
				return dbError("delete calls", err)
			}
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
	return t.change("update", "call", id, `UPDATE calls SET legal_hold = ? WHERE tenant_id = ? AND id = ?`, hold, tenantID, id)
}

// AttachRecording adds recordingID to the call's RecordingIDs (once) and
// marks it as having a recording; ENotFound if the tenant has no such call.
func (t *tx) AttachRecording(tenantID, callID, recordingID string) error {
	r, err := t.Call(t.ctx, tenantID, callID)
	if err != nil {
		return err
	}
	if slices.Contains(r.RecordingIDs, recordingID) {
		return nil
	}
	r.RecordingIDs = append(r.RecordingIDs, recordingID)
	return t.change("update", "call", callID, `UPDATE calls SET body = ?, has_recording = 1 WHERE tenant_id = ? AND id = ?`,
		string(appendCallBody(nil, r)), tenantID, callID)
}

// Recordings.

// Recording returns a recording's metadata, or ENotFound.
func (r reader) Recording(ctx context.Context, tenantID, id string) (*callvault.Recording, error) {
	return getOne(ctx, r.q, "recording", id, sqlrow.ScanRecording,
		`SELECT `+sqlrow.RecordingCols+` FROM recordings WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// RecordingBlobInUse reports whether a recording of the tenant has the
// SHA-256; never for the empty one (a recording not uploaded yet).
func (r reader) RecordingBlobInUse(ctx context.Context, tenantID, sha256 string) (bool, error) {
	if sha256 == "" {
		return false, nil
	}
	var used bool
	err := r.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM recordings WHERE tenant_id = ? AND sha256 = ?)`,
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
	return t.create("recording", x.ID, x.TenantID, `INSERT INTO recordings (`+sqlrow.RecordingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
	return t.change("update", "recording", x.ID, `UPDATE recordings SET call_id = ?, type = ?, content_type = ?,
		duration_ms = ?, size = ?, sha256 = ?, uploaded_at = ? WHERE tenant_id = ? AND id = ?`,
		x.CallID, x.Type, x.ContentType, x.DurationMs, x.Size, x.SHA256, sqlrow.Time(&x.UploadedAt), x.TenantID, x.ID)
}

// Active calls.

// ActiveCall returns a live call of the tenant, or ENotFound.
func (r reader) ActiveCall(ctx context.Context, tenantID, callID string) (*callvault.ActiveCall, error) {
	return getOne(ctx, r.q, "active call", callID, codec.ScanActiveCall,
		`SELECT `+sqlrow.ActiveCallCols+` FROM active_calls WHERE tenant_id = ? AND call_id = ?`, tenantID, callID)
}

// ActiveCalls lists the tenant's live calls, oldest first (StartedAt, then
// CallID).
func (r reader) ActiveCalls(ctx context.Context, tenantID string) ([]*callvault.ActiveCall, error) {
	return getAll(ctx, r.q, "active calls", codec.ScanActiveCall,
		`SELECT `+sqlrow.ActiveCallCols+` FROM active_calls WHERE tenant_id = ? ORDER BY started_at, call_id`, tenantID)
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
	_, err := t.exec(`INSERT INTO active_calls (`+sqlrow.ActiveCallCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, call_id) DO UPDATE SET site_id = excluded.site_id, direction = excluded.direction,
			state = excluded.state, from_party = excluded.from_party, to_party = excluded.to_party,
			extension = excluded.extension, recording = excluded.recording, started_at = excluded.started_at,
			answered_at = excluded.answered_at, updated_at = excluded.updated_at`,
		a.TenantID, a.CallID, a.SiteID, a.Direction, a.State, js(&a.From), js(&a.To), a.Extension, a.Recording,
		sqlrow.Time(&a.StartedAt), sqlrow.Time(&a.AnsweredAt), sqlrow.Time(&a.UpdatedAt))
	return errs.Create("active call", a.CallID, a.TenantID, err)
}

// DeleteActiveCall deletes a live call; ENotFound if the tenant has none
// with that id.
func (t *tx) DeleteActiveCall(tenantID, callID string) error {
	return t.change("delete", "active call", callID, `DELETE FROM active_calls WHERE tenant_id = ? AND call_id = ?`, tenantID, callID)
}

// Call events.

// CallEvents returns the tenant's events with Seq > f.AfterSeq (and <=
// f.MaxSeq when set, Timestamp in [f.From, f.To) when set), in Seq order, at
// most f.Limit (all when 0). EInvalid without f.TenantID.
func (r reader) CallEvents(ctx context.Context, f callvault.EventFilter) ([]*callvault.CallEvent, error) {
	w := sqlbuild.New(sqlbuild.SQLite)
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
		`SELECT `+sqlrow.CallEventCols+` FROM call_events WHERE tenant_id = ? AND call_id = ? ORDER BY seq`, tenantID, callID)
}

// PutCallEvents stores the events whose (TenantID, ID) is not stored yet,
// in order, giving each the tenant's next Seq and, when it has none,
// ReceivedAt (now); Timestamp and ReceivedAt are truncated to the
// microsecond in UTC. Skipped events are left unchanged. stored[i] reports
// whether events[i] was stored.
//
// All or nothing, like PutCalls. EInvalid for a nil event or one without
// tenant, id or call id; ENotFound when an event's tenant does not exist.
func (t *tx) PutCallEvents(events []*callvault.CallEvent) ([]bool, error) {
	stored := make([]bool, len(events))
	if err := sqlrow.CheckCallEvents(events); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return stored, nil
	}
	now := t.now().UTC().Truncate(time.Microsecond)
	out := make([]callvault.CallEvent, len(events))
	err := t.atomic("put_call_events", func() error {
		stmt, err := t.tx.PrepareContext(t.ctx, `INSERT INTO call_events (`+sqlrow.CallEventCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`)
		if err != nil {
			return dbError("put call events", err)
		}
		defer stmt.Close()
		ctx := context.WithoutCancel(t.ctx) // see PutCalls
		hs := t.heads()
		for i, in := range events {
			if i%checkCancelEvery == 0 {
				if err := t.ctx.Err(); err != nil {
					return err
				}
			}
			h, err := hs.get(in.TenantID)
			if err != nil {
				return err
			}
			e := *in
			e.Seq = h.event + 1
			e.Timestamp = e.Timestamp.UTC().Truncate(time.Microsecond)
			if e.ReceivedAt.IsZero() {
				e.ReceivedAt = now
			}
			e.ReceivedAt = e.ReceivedAt.UTC().Truncate(time.Microsecond)
			res, err := stmt.ExecContext(ctx, e.TenantID, e.Seq, e.ID, e.CallID, e.Type, sqlrow.Time(&e.Timestamp), e.SiteID,
				e.Direction, js(&e.From), js(&e.To), e.Result, e.RecordingID, js(&e.TransferTo), sqlrow.Time(&e.ReceivedAt))
			if isForeignKey(err) {
				return sqlrow.NotFound("tenant", e.TenantID)
			}
			if err != nil {
				return dbError("put call event "+e.ID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return dbError("put call event "+e.ID, err)
			}
			if n > 0 {
				h.event = e.Seq
				out[i] = e
				stored[i] = true
			}
		}
		return hs.save()
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
