// Package sqlite is callvault's embedded Store: one SQLite file in WAL mode
// with foreign keys on and durable (synchronous=FULL) commits, one writer
// connection that begins every transaction with BEGIN IMMEDIATE, and a pool
// of query-only reader connections. The schema is embedded as versioned
// migrations (see migrate.go) and applied by Open.
//
// Reads outside a transaction go to the reader pool and see the latest
// committed state; reads inside Update go through the writer and see the
// transaction's own writes. Update, TouchAPIKey and Close must not be called
// from inside an Update function: the single writer connection would wait
// for itself. Reads through the DB inside an Update function are fine (they
// see the state before the transaction).
//
// The driver (github.com/mattn/go-sqlite3, cgo) is named in one place,
// driver.go.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlrow"
)

// Defaults for Open.
const (
	DefaultReadConns   = 4
	DefaultBusyTimeout = 5 * time.Second
)

// Option configures Open.
type Option func(*config)

type config struct {
	now         callvault.Clock
	readConns   int
	busyTimeout time.Duration
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

// WithReadConns sets the size of the reader pool (DefaultReadConns).
func WithReadConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readConns = n
		}
	}
}

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before failing (DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.busyTimeout = d
		}
	}
}

// DB is the SQLite Store. It is safe for concurrent use.
type DB struct {
	reader // Reader methods over the reader pool

	path  string
	now   callvault.Clock
	write *sql.DB // exactly one connection
	read  *sql.DB // query_only connections

	closeOnce sync.Once
	closeErr  error
}

var (
	_ callvault.Store      = (*DB)(nil)
	_ callvault.Tx         = (*tx)(nil)
	_ callvault.CallReader = (*DB)(nil)
	_ callvault.CallTx     = (*tx)(nil)
)

// Open opens the SQLite database at path, creating the file (mode 0600) and
// its directory if needed, and applies every pending migration.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	cfg := config{now: time.Now, readConns: DefaultReadConns, busyTimeout: DefaultBusyTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" || path == ":memory:" {
		return nil, callvault.FieldError("path", "the SQLite store needs a file path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolve %s: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}
	if err := initFile(ctx, abs, cfg.busyTimeout); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	db := &DB{path: abs, now: cfg.now}
	spec := connSpec{path: abs, busyTimeout: cfg.busyTimeout}
	if db.write, err = openPool(ctx, spec, 1); err != nil {
		return nil, err
	}
	spec.readOnly = true
	if db.read, err = openPool(ctx, spec, cfg.readConns); err != nil {
		db.write.Close()
		return nil, err
	}
	db.reader = reader{q: db.read}
	if err := db.Migrate(ctx); err != nil {
		db.read.Close()
		db.write.Close()
		return nil, err
	}
	return db, nil
}

// createFile makes the directory and an empty database file readable only
// by the owner, unless the file exists. SQLite gives its -wal and -shm files
// the same mode.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("sqlite: create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return f.Close()
}

// openPool opens and pings a pool of at most n connections.
func openPool(ctx context.Context, spec connSpec, n int) (*sql.DB, error) {
	pool := sql.OpenDB(connector(spec))
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", spec.path, err)
	}
	return pool, nil
}

// OpenRaw opens the database file at path with plain database/sql, the same
// driver and pragmas as the writer, and no migrations. It is for tests and
// tooling that must inspect rows or tamper with them (say, to show that
// audit verification catches an altered record); the server never uses it.
// The caller closes the returned pool.
func OpenRaw(ctx context.Context, path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolve %s: %w", path, err)
	}
	return openPool(ctx, connSpec{path: abs, busyTimeout: DefaultBusyTimeout}, 1)
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Update runs fn in one BEGIN IMMEDIATE transaction on the writer connection
// and commits it durably when fn returns nil. It rolls back and returns fn's
// error otherwise (and rolls back and re-panics if fn panics). Beginning or
// committing fails with EUnavailable when another process holds the database
// lock beyond the busy timeout.
func (db *DB) Update(ctx context.Context, fn func(tx callvault.Tx) error) error {
	// The transaction runs on a *sql.Conn, so that bulk writes can reach
	// the driver connection under it (see PutCalls).
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return dbError("begin transaction", err)
	}
	defer conn.Close() // after the rollback below: Close waits for the transaction
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return dbError("begin transaction", err)
	}
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{reader: reader{q: sqlTx}, ctx: ctx, tx: sqlTx, conn: conn, now: db.now}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return dbError("commit", err)
	}
	return nil
}

// TouchAPIKey records that the key was used at t, unless a later use is
// already recorded. It returns ENotFound when the tenant has no such key.
func (db *DB) TouchAPIKey(ctx context.Context, tenantID, id string, t time.Time) error {
	res, err := db.write.ExecContext(ctx,
		`UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, ?1), ?1)
		 WHERE tenant_id = ?2 AND id = ?3`, sqlrow.Time(&t), tenantID, id)
	if err != nil {
		return dbError("touch api key", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbError("touch api key", err)
	} else if n == 0 {
		return callvault.Errorf(callvault.ENotFound, "api key %q not found", id)
	}
	return nil
}

// Ping checks that both the writer and the reader pool answer a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.write.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return dbError("ping writer", err)
	}
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return dbError("ping readers", err)
	}
	return nil
}

// Close closes the reader pool, checkpoints the WAL into the database file
// and closes the writer. Closing twice returns the first result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		errRead := db.read.Close()
		_, errCkpt := db.write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		if errCkpt != nil {
			errCkpt = fmt.Errorf("sqlite: wal checkpoint: %w", errCkpt)
		}
		errWrite := db.write.Close()
		db.closeErr = errors.Join(errRead, errCkpt, errWrite)
	})
	return db.closeErr
}

// dbError wraps an unexpected database error with what was being done. A
// lock held by another process beyond the busy timeout becomes EUnavailable.
func dbError(what string, err error) error {
	if isBusy(err) {
		return &callvault.Error{Code: callvault.EUnavailable, Message: "the database is busy; retry later", Err: fmt.Errorf("sqlite: %s: %w", what, err)}
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}
