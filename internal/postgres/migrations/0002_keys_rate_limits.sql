-- 0002: state that several callvault nodes on one database must share.
--
-- keys: named key material (the cursor signing secret, the JWT signing
-- seed, the audit checkpoint seed unless an operator keeps it in a file).
-- The first node to need a key inserts it (INSERT ... ON CONFLICT DO
-- NOTHING), then every node reads what was stored, so all nodes converge on
-- one key set. Anyone who can read this table holds the keys: see
-- docs/scaling.md. Global, small and rarely written: a reference table on
-- Citus.
CREATE TABLE keys (
    name       text COLLATE "C" NOT NULL PRIMARY KEY,
    material   bytea  NOT NULL,
    created_at bigint NOT NULL
);

-- rate_limits: fixed-window counters of failed token requests per client id
-- or client address, moved by one atomic upsert, so a limit holds across
-- nodes. Rows of windows that ended are deleted from time to time. Keyed by
-- the limited key, not by tenant (a failed client authentication has no
-- tenant yet): on Citus, distribute it by key or keep it on the coordinator.
CREATE TABLE rate_limits (
    key          text COLLATE "C" NOT NULL,
    window_start bigint NOT NULL, -- unix microseconds
    count        int    NOT NULL,
    PRIMARY KEY (key, window_start)
);

CREATE INDEX rate_limits_window ON rate_limits (window_start);
