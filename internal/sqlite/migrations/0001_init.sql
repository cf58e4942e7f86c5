-- 0001: the initial schema.
--
-- Every table's primary key starts with tenant_id: a tenant is the unit of
-- isolation and the shard key of a distributed PostgreSQL. Global lookups
-- used by authentication (client id, API key hash, token hash) have their own
-- unique indexes.
--
-- Times are INTEGER unix microseconds in UTC; NULL is the zero time.
-- Slices and maps are JSON text.
--
-- Tenant-scoped rows reference tenants(tenant_id) without ON DELETE CASCADE:
-- DeleteTenant removes them explicitly, and a table it forgets makes the
-- delete fail instead of silently leaving orphans. Audit records, chain heads
-- and checkpoints have no foreign key: they outlive their tenant.

CREATE TABLE tenants (
    tenant_id              TEXT    NOT NULL PRIMARY KEY,
    name                   TEXT    NOT NULL,
    region                 TEXT    NOT NULL,
    timezone               TEXT    NOT NULL,
    retention_days         INTEGER NOT NULL,
    audit_retention_days   INTEGER NOT NULL,
    allowed_client_regions TEXT    NOT NULL,
    created_at             INTEGER,
    updated_at             INTEGER
) STRICT, WITHOUT ROWID;

CREATE TABLE sites (
    tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER,
    updated_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id),
    id            TEXT NOT NULL,
    login         TEXT NOT NULL,
    login_key     TEXT NOT NULL, -- lower-cased login: unique per tenant
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    extension     TEXT NOT NULL,
    home_site_id  TEXT NOT NULL,
    license       TEXT NOT NULL,
    access_levels TEXT NOT NULL,
    roles         TEXT NOT NULL,
    site_scope    TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    INTEGER,
    updated_at    INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX users_login ON users (tenant_id, login_key);

CREATE TABLE roles (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (tenant_id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    permissions TEXT    NOT NULL,
    built_in    INTEGER NOT NULL,
    created_at  INTEGER,
    updated_at  INTEGER,
    PRIMARY KEY (tenant_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE licenses (
    tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id),
    name       TEXT NOT NULL,
    features   TEXT NOT NULL,
    created_at INTEGER,
    updated_at INTEGER,
    PRIMARY KEY (tenant_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE apps (
    tenant_id         TEXT NOT NULL REFERENCES tenants (tenant_id),
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    secret_hash       TEXT NOT NULL,
    grants            TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    roles             TEXT NOT NULL,
    redirect_uris     TEXT NOT NULL,
    secret_rotated_at INTEGER,
    created_at        INTEGER,
    updated_at        INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- Client ids are global: AppByID finds an app before its tenant is known.
CREATE UNIQUE INDEX apps_id ON apps (id);

CREATE TABLE consents (
    tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id),
    app_id        TEXT NOT NULL,
    app_tenant_id TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    roles         TEXT NOT NULL,
    created_at    INTEGER,
    updated_at    INTEGER,
    revoked_at    INTEGER,
    PRIMARY KEY (tenant_id, app_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX consents_app ON consents (app_id, tenant_id);
CREATE INDEX consents_app_tenant ON consents (app_tenant_id);

CREATE TABLE api_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (tenant_id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL,
    hint         TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);

CREATE TABLE tokens (
    tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id),
    hash       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    grant_type TEXT NOT NULL,
    family_id  TEXT NOT NULL,
    issued_at  INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER,
    PRIMARY KEY (tenant_id, hash)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX tokens_hash ON tokens (hash);
CREATE INDEX tokens_family ON tokens (tenant_id, family_id);
CREATE INDEX tokens_app ON tokens (app_id, tenant_id);

CREATE TABLE jwt_credentials (
    tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id),
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- The audit trail: one hash chain per tenant. A rowid table, since records
-- carry large details and traces.
CREATE TABLE audit (
    tenant_id        TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    id               TEXT    NOT NULL,
    service          TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    ts               INTEGER NOT NULL,
    event_type       TEXT    NOT NULL,
    entity_type      TEXT    NOT NULL,
    entity_key       TEXT    NOT NULL,
    audit_user_id    TEXT    NOT NULL,
    impersonator     TEXT    NOT NULL,
    details          TEXT    NOT NULL,
    correlation_type TEXT    NOT NULL,
    correlation_id   TEXT    NOT NULL,
    request_id       TEXT    NOT NULL,
    principal        TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    trace            TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;

CREATE UNIQUE INDEX audit_id ON audit (tenant_id, id);
CREATE INDEX audit_ts ON audit (tenant_id, ts);
CREATE INDEX audit_request ON audit (tenant_id, request_id);

-- The head of each tenant's chain, updated in the same transaction as the
-- records. PostgreSQL locks this row (SELECT ... FOR UPDATE) to serialize
-- appends per tenant; SQLite's single writer already does.
CREATE TABLE audit_heads (
    tenant_id TEXT    NOT NULL PRIMARY KEY,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
    tenant_id  TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    key_id     TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    created_at INTEGER,
    signature  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, seq, key_id)
) STRICT, WITHOUT ROWID;
