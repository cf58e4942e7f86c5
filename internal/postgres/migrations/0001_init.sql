-- 0001: the whole schema: identities, credentials, the audit trail and call
-- data, as the SQLite store has them after its migrations 0001 and 0002.
--
-- Distribution by tenant (Citus): tenant_id leads every primary key and every
-- index. There are no global sequences: the per-tenant counters (audit chain
-- head, call ingest and event sequences) live in head rows that the appending
-- transaction locks with SELECT ... FOR UPDATE. Foreign keys only point from
-- a tenant's rows to its own tenants row, on tenant_id (colocated); none
-- crosses tenants. The few global lookups of authentication (client id, API
-- key hash, token hash) have unique indexes of their own: on Citus those
-- tables become reference tables or the lookups go through a small
-- reference table (see docs/scaling.md once written).
--
-- Times are bigint unix microseconds in UTC; NULL is the zero time. Slices
-- and maps are jsonb (NULL for nil). Identifiers and names are text COLLATE
-- "C", so that ORDER BY and keyset comparisons follow byte order, as Go
-- and SQLite compare strings, whatever the database's locale.
--
-- Tenant-scoped rows reference tenants (tenant_id) without ON DELETE CASCADE:
-- DeleteTenant removes them explicitly, and a table it forgets makes the
-- delete fail instead of leaving orphans. Audit records, chain heads,
-- checkpoints and call heads have no foreign key: they outlive their tenant.

CREATE TABLE tenants (
    tenant_id              text COLLATE "C" NOT NULL PRIMARY KEY,
    name                   text   NOT NULL,
    region                 text   NOT NULL,
    timezone               text   NOT NULL,
    retention_days         int    NOT NULL,
    audit_retention_days   int    NOT NULL,
    allowed_client_regions jsonb,
    legal_hold             bool   NOT NULL DEFAULT false,
    created_at             bigint,
    updated_at             bigint
);

CREATE TABLE sites (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id         text COLLATE "C" NOT NULL,
    name       text   NOT NULL,
    created_at bigint,
    updated_at bigint,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE users (
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id            text COLLATE "C" NOT NULL,
    login         text   NOT NULL,
    login_key     text COLLATE "C" NOT NULL, -- lower-cased login: unique per tenant
    name          text   NOT NULL,
    email         text   NOT NULL,
    password_hash text   NOT NULL,
    extension     text   NOT NULL,
    home_site_id  text   NOT NULL,
    license       text   NOT NULL,
    access_levels jsonb,
    roles         jsonb,
    site_scope    jsonb,
    status        text   NOT NULL,
    created_at    bigint,
    updated_at    bigint,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX users_login ON users (tenant_id, login_key);

CREATE TABLE roles (
    tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    name        text COLLATE "C" NOT NULL,
    description text   NOT NULL,
    permissions jsonb,
    built_in    bool   NOT NULL,
    created_at  bigint,
    updated_at  bigint,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE licenses (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    name       text COLLATE "C" NOT NULL,
    features   jsonb,
    created_at bigint,
    updated_at bigint,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE apps (
    tenant_id         text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id                text COLLATE "C" NOT NULL,
    name              text   NOT NULL,
    secret_hash       text   NOT NULL,
    grants            jsonb,
    scopes            jsonb,
    roles             jsonb,
    redirect_uris     jsonb,
    secret_rotated_at bigint,
    created_at        bigint,
    updated_at        bigint,
    PRIMARY KEY (tenant_id, id)
);

-- Client ids are global: AppByID finds an app before its tenant is known.
CREATE UNIQUE INDEX apps_id ON apps (id);

CREATE TABLE consents (
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    app_id        text COLLATE "C" NOT NULL,
    app_tenant_id text COLLATE "C" NOT NULL,
    scopes        jsonb,
    roles         jsonb,
    created_at    bigint,
    updated_at    bigint,
    revoked_at    bigint,
    PRIMARY KEY (tenant_id, app_id)
);

-- ConsentsForApp and DeleteApp look consents up by app across tenants.
CREATE INDEX consents_app ON consents (app_id, tenant_id);

CREATE TABLE api_keys (
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id           text COLLATE "C" NOT NULL,
    name         text   NOT NULL,
    hash         text   NOT NULL,
    hint         text   NOT NULL,
    subject_kind text   NOT NULL,
    subject_id   text   NOT NULL,
    scopes       jsonb,
    created_at   bigint,
    expires_at   bigint,
    revoked_at   bigint,
    last_used_at bigint,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);

CREATE TABLE tokens (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    hash       text COLLATE "C" NOT NULL,
    kind       text   NOT NULL,
    app_id     text COLLATE "C" NOT NULL,
    user_id    text   NOT NULL,
    scopes     jsonb,
    grant_type text   NOT NULL,
    family_id  text COLLATE "C" NOT NULL,
    issued_at  bigint,
    expires_at bigint,
    revoked_at bigint,
    PRIMARY KEY (tenant_id, hash)
);

CREATE UNIQUE INDEX tokens_hash ON tokens (hash);
CREATE INDEX tokens_family ON tokens (tenant_id, family_id);
CREATE INDEX tokens_app ON tokens (app_id, tenant_id);

CREATE TABLE jwt_credentials (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id         text COLLATE "C" NOT NULL,
    user_id    text   NOT NULL,
    app_id     text   NOT NULL,
    name       text   NOT NULL,
    created_at bigint,
    expires_at bigint,
    revoked_at bigint,
    PRIMARY KEY (tenant_id, id)
);

-- The audit trail: one hash chain per tenant.
CREATE TABLE audit (
    tenant_id        text COLLATE "C" NOT NULL,
    seq              bigint NOT NULL,
    id               text COLLATE "C" NOT NULL,
    service          text   NOT NULL,
    display_name     text   NOT NULL,
    ts               bigint NOT NULL,
    event_type       text   NOT NULL,
    entity_type      text   NOT NULL,
    entity_key       text   NOT NULL,
    audit_user_id    text   NOT NULL,
    impersonator     text   NOT NULL,
    details          text   NOT NULL,
    correlation_type text   NOT NULL,
    correlation_id   text   NOT NULL,
    request_id       text   NOT NULL,
    principal        text   NOT NULL,
    outcome          text   NOT NULL,
    trace            text   NOT NULL,
    prev_hash        text   NOT NULL,
    hash             text   NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE UNIQUE INDEX audit_id ON audit (tenant_id, id);
CREATE INDEX audit_ts ON audit (tenant_id, ts);
CREATE INDEX audit_request ON audit (tenant_id, request_id);

-- The head of each tenant's chain. AppendAudit locks the row (SELECT ...
-- FOR UPDATE) before it numbers records, so appends of one tenant from any
-- number of callvault nodes are serialized and the chain stays one chain.
CREATE TABLE audit_heads (
    tenant_id text COLLATE "C" NOT NULL PRIMARY KEY,
    seq       bigint NOT NULL,
    hash      text   NOT NULL
);

CREATE TABLE checkpoints (
    tenant_id  text COLLATE "C" NOT NULL,
    seq        bigint NOT NULL,
    key_id     text COLLATE "C" NOT NULL,
    hash       text   NOT NULL,
    created_at bigint,
    signature  text   NOT NULL,
    PRIMARY KEY (tenant_id, seq, key_id)
);

-- Call detail records. Every column a listing filters on is a scalar
-- column; legs are json (kept as sent, cheaper to ingest than jsonb).
CREATE TABLE calls (
    tenant_id            text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id                   text COLLATE "C" NOT NULL,
    start_us             bigint NOT NULL,
    ingest_seq           bigint NOT NULL, -- per tenant, increasing in arrival order
    direction            text   NOT NULL,
    type                 text   NOT NULL,
    result               text   NOT NULL,
    site_id              text   NOT NULL,
    extension            text   NOT NULL,
    from_number          text   NOT NULL,
    to_number            text   NOT NULL,
    session_id           text   NOT NULL,
    telephony_session_id text   NOT NULL,
    has_recording        bool   NOT NULL,
    legal_hold           bool   NOT NULL,
    answer_us            bigint,
    end_us               bigint,
    duration_ms          bigint NOT NULL,
    talk_ms              bigint NOT NULL,
    ingested_us          bigint NOT NULL,
    action               text   NOT NULL,
    transport            text   NOT NULL,
    from_name            text   NOT NULL,
    from_ext_id          text   NOT NULL,
    from_ext             text   NOT NULL,
    to_name              text   NOT NULL,
    to_ext_id            text   NOT NULL,
    to_ext               text   NOT NULL,
    legs                 json,
    recording_ids        text[],
    PRIMARY KEY (tenant_id, id)
);

-- Keyset listings walk this index backwards from their cursor, retention
-- walks it forwards, aggregates scan the range of their filter.
CREATE INDEX calls_start ON calls (tenant_id, start_us, id);

CREATE TABLE recordings (
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    id           text COLLATE "C" NOT NULL,
    call_id      text COLLATE "C" NOT NULL, -- no foreign key: a recording may arrive before its call record
    type         text   NOT NULL,
    content_type text   NOT NULL,
    duration_ms  bigint NOT NULL,
    size         bigint NOT NULL,
    sha256       text   NOT NULL,
    created_at   bigint,
    uploaded_at  bigint,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX recordings_call ON recordings (tenant_id, call_id);
CREATE INDEX recordings_sha256 ON recordings (tenant_id, sha256);

CREATE TABLE active_calls (
    tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    call_id     text COLLATE "C" NOT NULL,
    site_id     text   NOT NULL,
    direction   text   NOT NULL,
    state       text   NOT NULL,
    from_party  jsonb,
    to_party    jsonb,
    extension   text   NOT NULL,
    recording   bool   NOT NULL,
    started_at  bigint,
    answered_at bigint,
    updated_at  bigint,
    PRIMARY KEY (tenant_id, call_id)
);

-- Raw call events, in per-tenant arrival order (seq).
CREATE TABLE call_events (
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    seq          bigint NOT NULL,
    id           text COLLATE "C" NOT NULL,
    call_id      text COLLATE "C" NOT NULL,
    type         text   NOT NULL,
    ts           bigint,
    site_id      text   NOT NULL,
    direction    text   NOT NULL,
    from_party   jsonb,
    to_party     jsonb,
    result       text   NOT NULL,
    recording_id text   NOT NULL,
    transfer_to  jsonb,
    received_at  bigint,
    PRIMARY KEY (tenant_id, seq)
);

CREATE UNIQUE INDEX call_events_id ON call_events (tenant_id, id);
CREATE INDEX call_events_call ON call_events (tenant_id, call_id, seq);

-- The per-tenant counters behind calls.ingest_seq and call_events.seq,
-- locked (SELECT ... FOR UPDATE) and moved in the transaction that appends.
-- No foreign key: they outlive a deleted tenant, so a tenant created again
-- with the same id never reuses a sequence number a snapshot may hold.
CREATE TABLE call_heads (
    tenant_id  text COLLATE "C" NOT NULL PRIMARY KEY,
    ingest_seq bigint NOT NULL,
    event_seq  bigint NOT NULL
);
