-- 0002: call data: call detail records, recordings, live calls, raw call
-- events, and the tenants' legal hold.
--
-- As in 0001, every key starts with tenant_id, times are INTEGER unix
-- microseconds in UTC (NULL is the zero time), and tenant-scoped rows
-- reference tenants(tenant_id) without ON DELETE CASCADE: DeleteTenant
-- removes them explicitly.

ALTER TABLE tenants ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;

-- Call detail records. A rowid table: rows are appended in arrival order
-- (cheap for bulk ingest) and found through the primary key (by id) or
-- calls_start (by time). Every
-- column a listing filters on is a scalar column; the rest of the record
-- (action, transport, the parties' names and extensions, legs, recording
-- ids) is JSON text in body, written and read only by the store (see
-- callbody.go). Filtered columns come first, so that SQLite reads little of
-- a row to reject it.
CREATE TABLE calls (
    tenant_id            TEXT    NOT NULL REFERENCES tenants (tenant_id),
    id                   TEXT    NOT NULL,
    start_us             INTEGER NOT NULL,
    ingest_seq           INTEGER NOT NULL, -- per tenant, increasing in arrival order
    direction            TEXT    NOT NULL,
    type                 TEXT    NOT NULL,
    result               TEXT    NOT NULL,
    site_id              TEXT    NOT NULL,
    extension            TEXT    NOT NULL,
    from_number          TEXT    NOT NULL,
    to_number            TEXT    NOT NULL,
    session_id           TEXT    NOT NULL,
    telephony_session_id TEXT    NOT NULL,
    has_recording        INTEGER NOT NULL,
    legal_hold           INTEGER NOT NULL,
    answer_us            INTEGER,
    end_us               INTEGER,
    duration_ms          INTEGER NOT NULL,
    talk_ms              INTEGER NOT NULL,
    ingested_us          INTEGER NOT NULL,
    body                 TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

-- The one secondary index of calls. Listings walk it backwards from their
-- keyset cursor in (start_us, id) order; retention walks it forwards;
-- aggregates scan the range of their filter. Beyond its key it carries every
-- column that listings filter on and aggregates read (but the long
-- telephony_session_id), so that SQLite checks those filters, the snapshot
-- and the aggregates on index entries and reads a table row only for a
-- record it returns: index entries are appended at ingest (records arrive
-- roughly in time order), so the extra bytes cost ingest little. Separate
-- indexes for extension, session or phone number lookups would each be
-- another B-tree written at random places per record. docs/benchmarks.md,
-- "Call store (SQLite)", has the measurements behind this choice.
CREATE INDEX calls_start ON calls (tenant_id, start_us, id, ingest_seq, direction, type, result, site_id,
    extension, from_number, to_number, session_id, has_recording, answer_us, talk_ms);

CREATE TABLE recordings (
    tenant_id    TEXT    NOT NULL REFERENCES tenants (tenant_id),
    id           TEXT    NOT NULL,
    call_id      TEXT    NOT NULL, -- no foreign key: a recording may arrive before its call record
    type         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    duration_ms  INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    created_at   INTEGER,
    uploaded_at  INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX recordings_call ON recordings (tenant_id, call_id);
CREATE INDEX recordings_sha256 ON recordings (tenant_id, sha256);

CREATE TABLE active_calls (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (tenant_id),
    call_id     TEXT    NOT NULL,
    site_id     TEXT    NOT NULL,
    direction   TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    from_party  TEXT    NOT NULL, -- JSON
    to_party    TEXT    NOT NULL, -- JSON
    extension   TEXT    NOT NULL,
    recording   INTEGER NOT NULL,
    started_at  INTEGER,
    answered_at INTEGER,
    updated_at  INTEGER,
    PRIMARY KEY (tenant_id, call_id)
) STRICT, WITHOUT ROWID;

-- Raw call events, in per-tenant arrival order (seq).
CREATE TABLE call_events (
    tenant_id    TEXT    NOT NULL REFERENCES tenants (tenant_id),
    seq          INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    call_id      TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    ts           INTEGER,
    site_id      TEXT    NOT NULL,
    direction    TEXT    NOT NULL,
    from_party   TEXT    NOT NULL, -- JSON
    to_party     TEXT    NOT NULL, -- JSON
    result       TEXT    NOT NULL,
    recording_id TEXT    NOT NULL,
    transfer_to  TEXT    NOT NULL, -- JSON
    received_at  INTEGER,
    PRIMARY KEY (tenant_id, seq)
) STRICT;

CREATE UNIQUE INDEX call_events_id ON call_events (tenant_id, id);
CREATE INDEX call_events_call ON call_events (tenant_id, call_id, seq);

-- The per-tenant counters behind calls.ingest_seq and call_events.seq, moved
-- in the same transaction as the rows (like audit_heads; PostgreSQL locks
-- the row). No foreign key: the counters outlive a deleted tenant, so a
-- tenant created again with the same id never reuses a sequence number that
-- a client's snapshot cursor may still hold.
CREATE TABLE call_heads (
    tenant_id  TEXT    NOT NULL PRIMARY KEY,
    ingest_seq INTEGER NOT NULL,
    event_seq  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
