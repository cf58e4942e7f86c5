// Package postgres is callvault's scale-out Store: PostgreSQL through pgx
// (a pgxpool.Pool), with the schema embedded as versioned migrations (see
// migrate.go) that Open applies.
//
// Several callvault nodes may share one database. Nothing this package keeps
// in memory decides correctness: the per-tenant counters (the audit chain
// head, the call ingest and event sequences) are rows that the appending
// transaction locks with SELECT ... FOR UPDATE, so appends of one tenant are
// serialized across nodes and every chain stays one chain. The rest of what
// nodes must agree on lives in the database too (shared.go): key material
// (callvault.KeyStore: the cursor, JWT and audit checkpoint keys) and the
// counters of rate limits (callvault.RateLimitStore).
//
// Transactions run at READ COMMITTED. That is enough for the Store contract:
// every read-modify-write of shared state is either one statement (UPDATE
// ... WHERE, INSERT ... ON CONFLICT) or guarded by a head-row lock taken
// before the read, and each statement of a transaction sees the commits that
// preceded it, so two writers never number from the same head. Commits are
// durable: every connection sets synchronous_commit = on.
//
// A failing statement aborts a PostgreSQL transaction, while the Store
// contract lets a Tx go on after, say, an EConflict. Every write that can
// fail on a constraint therefore runs inside a savepoint (sent in the same
// round trip as the statement), and the batch writes (PutCalls,
// PutCallEvents, AppendAudit, DeleteCalls) are all-or-nothing through one.
//
// Schema: tenant_id leads every primary key and index; no foreign key
// crosses tenants and there is no global sequence, so the tables can be
// distributed by tenant_id (Citus).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/callvault/callvault/internal/callvault"
)

// Option configures Open.
type Option func(*config)

type config struct {
	now      callvault.Clock
	maxConns int32
}

// WithClock sets the clock used for bookkeeping times (when a migration was
// applied, when call records and events arrived). The default is time.Now.
func WithClock(now callvault.Clock) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithMaxConns sets the most connections the pool opens (pgxpool's default,
// the larger of 4 and the number of CPUs, when not set).
func WithMaxConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxConns = int32(n)
		}
	}
}

// DB is the PostgreSQL Store. It is safe for concurrent use.
type DB struct {
	reader // Reader methods over the pool

	pool *pgxpool.Pool
	now  callvault.Clock

	closeOnce sync.Once
}

var (
	_ callvault.Store      = (*DB)(nil)
	_ callvault.Tx         = (*tx)(nil)
	_ callvault.CallReader = (*DB)(nil)
	_ callvault.CallTx     = (*tx)(nil)
)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string, as pgx reads them; search_path=... selects a
// schema), checks that it answers, and applies every pending migration.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may repeat the DSN, password included: say only what failed.
		return nil, callvault.FieldError("db", "cannot parse the PostgreSQL connection string")
	}
	if cfg.maxConns > 0 {
		pc.MaxConns = cfg.maxConns
	}
	// Durable commits whatever the server's default, and UTC for anything
	// the server formats.
	pc.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	boundWaits(pc)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, dbError("connect", err)
	}
	db := &DB{reader: reader{q: pool}, pool: pool, now: cfg.now}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Bounds on waiting for a database that went away. A request never waits
// longer than connectTimeout for a new connection (unless the DSN sets
// connect_timeout), and a connection whose server stopped answering is found
// dead by TCP keepalive within about keepAliveIdle + keepAliveCount *
// keepAliveInterval while it waits for a reply. Either way the request gets
// EUnavailable (503 with Retry-After on the API), not a hang.
const (
	connectTimeout    = 5 * time.Second
	keepAliveIdle     = 10 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
)

// boundWaits sets the connect timeout (when the DSN has none) and TCP
// keepalive probes on the pool's connections.
func boundWaits(pc *pgxpool.Config) {
	timeout := pc.ConnConfig.ConnectTimeout
	if timeout == 0 {
		timeout = connectTimeout
		pc.ConnConfig.ConnectTimeout = timeout
	}
	d := &net.Dialer{Timeout: timeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount,
	}}
	pc.ConnConfig.DialFunc = d.DialContext
}

// Pool returns the connection pool, for tests and tools that inspect rows.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Update runs fn in one READ COMMITTED transaction and commits it when fn
// returns nil; it rolls back and returns fn's error otherwise (and rolls back
// and re-panics if fn panics). The commit is durable (synchronous_commit =
// on). A lost connection or a server that is going away gives EUnavailable.
//
// Unlike the SQLite store, transactions of this store run concurrently;
// appends to a tenant's audit chain and call sequences serialize on that
// tenant's head rows. Update may be called again from inside fn (it opens an
// independent transaction on another connection), though that transaction
// then waits for any head row fn has locked.
func (db *DB) Update(ctx context.Context, fn func(tx callvault.Tx) error) error {
	pgTx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return dbError("begin transaction", err)
	}
	done := false
	defer func() {
		if !done {
			// Rolling back on a fresh context: ctx may be what ended fn.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = pgTx.Rollback(rctx)
			cancel()
		}
	}()
	if err := fn(&tx{reader: reader{q: pgTx}, ctx: ctx, tx: pgTx, now: db.now}); err != nil {
		return err
	}
	done = true
	if err := pgTx.Commit(ctx); err != nil {
		return dbError("commit", err)
	}
	return nil
}

// TouchAPIKey records that the key was used at t, unless a later use is
// already recorded. It returns ENotFound when the tenant has no such key.
func (db *DB) TouchAPIKey(ctx context.Context, tenantID, id string, t time.Time) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, $1), $1)
		 WHERE tenant_id = $2 AND id = $3`, t.UnixMicro(), tenantID, id)
	if err != nil {
		return dbError("touch api key", err)
	}
	if tag.RowsAffected() == 0 {
		return callvault.Errorf(callvault.ENotFound, "api key %q not found", id)
	}
	return nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return dbError("ping", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
// Closing twice is harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(db.pool.Close)
	return nil
}

// PostgreSQL error codes the store tells apart.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeBadText             = "22021" // character_not_in_repertoire: a NUL byte, or bytes that are not UTF-8
)

// isBadText reports whether err is PostgreSQL refusing a text argument it
// cannot hold (a NUL byte, or bytes that are not UTF-8). No stored row
// holds such a value, so a lookup by it finds nothing.
func isBadText(err error) bool { return pgCode(err) == codeBadText }

// pgCode returns the SQLSTATE of err, "" when it is not a server error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUnique reports whether err violates a unique index or primary key.
func isUnique(err error) bool { return pgCode(err) == codeUniqueViolation }

// isUniqueOn reports whether err violates the named unique index.
func isUniqueOn(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == constraint
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool { return pgCode(err) == codeForeignKeyViolation }

// unavailable reports whether err says the database cannot serve now but
// may later: the connection failed or was lost, the server is shutting
// down or out of resources, or a transaction lost a serialization or
// deadlock race.
func unavailable(err error) bool {
	if code := pgCode(err); code != "" {
		switch {
		case code[:2] == "08", // connection exception
			code[:2] == "53",                    // insufficient resources
			code[:2] == "57" && code != "57014", // operator intervention (shutdown), not a canceled query
			code == "40001", code == "40P01":    // serialization failure, deadlock
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// dbError wraps an unexpected database error with what was being done. A
// database that cannot serve now (see unavailable) becomes EUnavailable.
func dbError(what string, err error) error {
	if isBadText(err) {
		return callvault.Errorf(callvault.EInvalid, "%s: a text value holds a NUL byte or bytes that are not UTF-8", what)
	}
	if unavailable(err) {
		return &callvault.Error{Code: callvault.EUnavailable, Message: "the database is unavailable; retry later",
			Err: fmt.Errorf("postgres: %s: %w", what, err)}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}
