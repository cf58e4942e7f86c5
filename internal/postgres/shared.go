package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callvault"
)

// State that several nodes on one database share: keys and rate limit
// counters (migration 0002).

var (
	_ callvault.KeyStore         = (*DB)(nil)
	_ callvault.RateLimitStore   = (*DB)(nil)
	_ callvault.RequestRateStore = (*DB)(nil)
)

// LoadOrCreateKey returns the key material stored under name. When there is
// none, it stores what generate returns, unless another node stored a key
// under that name first (INSERT ... ON CONFLICT DO NOTHING, then SELECT):
// every node gets the same bytes. generate is called only when no key is
// stored yet; its error is returned as is.
func (db *DB) LoadOrCreateKey(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	if name == "" {
		return nil, callvault.FieldError("name", "a key name is required")
	}
	k, err := db.loadKey(ctx, name)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return k, err
	}
	material, err := generate()
	if err != nil {
		return nil, err
	}
	if len(material) == 0 {
		return nil, callvault.Errorf(callvault.EInvalid, "key %q: no key material generated", name)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO keys (name, material, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, material, db.now().UnixMicro()); err != nil {
		return nil, dbError("store key "+name, err)
	}
	return db.loadKey(ctx, name)
}

// loadKey reads one key; pgx.ErrNoRows (unwrapped) when there is none.
func (db *DB) loadKey(ctx context.Context, name string) ([]byte, error) {
	var k []byte
	err := db.pool.QueryRow(ctx, `SELECT material FROM keys WHERE name = $1`, name).Scan(&k)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if err != nil {
		return nil, dbError("load key "+name, err)
	}
	return k, nil
}

// maxRateKey is the longest rate_limits key stored as it is: a longer one
// would not fit a btree entry of the primary key (about 2.7 kB).
const maxRateKey = 512

// rateKey is how key is stored in rate_limits. Keys carry values a client
// chooses (a token request's client_id): one too long to index, or that
// is not text to PostgreSQL (invalid UTF-8, a NUL byte), is stored as its
// SHA-256 instead, so that it is counted like any other rather than
// failing the statement (which would refuse the request as unavailable).
func rateKey(key string) string {
	if len(key) <= maxRateKey && utf8.ValidString(key) && !strings.ContainsRune(key, 0) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// AddRate adds one to the counter of key in the window starting at start
// (one atomic upsert) and returns the new count.
func (db *DB) AddRate(ctx context.Context, key string, start time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
		RETURNING count`, rateKey(key), start.UnixMicro()).Scan(&n)
	if err != nil {
		return 0, dbError("count rate", err)
	}
	return n, nil
}

// CountRequest adds one to the counter of key in the window starting at
// start and returns the new count: one statement, one round trip (once pgx
// has prepared it on the connection). The statement turns
// synchronous_commit off for its own transaction (set_config(..., true) is
// SET LOCAL), so its commit does not wait for the WAL flush: a request
// counter is not an acknowledged record, and a database crash may forget
// the last fraction of a second of counts. Every other commit of the
// connection stays durable.
func (db *DB) CountRequest(ctx context.Context, key string, start time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
		INSERT INTO rate_limits (key, window_start, count) SELECT $1::text, $2::bigint, 1 FROM async
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
		RETURNING count`, rateKey(key), start.UnixMicro()).Scan(&n)
	if err != nil {
		return 0, dbError("count request", err)
	}
	return n, nil
}

// Rate returns the counter of key in the window starting at start, 0 when
// there is none.
func (db *DB) Rate(ctx context.Context, key string, start time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(count), 0) FROM rate_limits WHERE key = $1 AND window_start = $2`,
		rateKey(key), start.UnixMicro()).Scan(&n)
	if err != nil {
		return 0, dbError("read rate", err)
	}
	return n, nil
}

// PruneRates deletes the counters of windows that started before t.
func (db *DB) PruneRates(ctx context.Context, before time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, before.UnixMicro()); err != nil {
		return dbError("prune rates", err)
	}
	return nil
}
