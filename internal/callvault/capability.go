package callvault

import (
	"context"
	"time"
)

// Optional Store capabilities. A Store that several callvault nodes share
// (PostgreSQL) implements them, so that nothing node-local decides
// correctness; callers find them with a type assertion and fall back to
// node-local state (files in the data directory, in-memory counters) when
// the Store does not have them.

// KeyStore keeps named key material in the store, so that every node using
// the store signs and verifies with the same keys (cursors, JWT
// credentials, audit checkpoints).
type KeyStore interface {
	// LoadOrCreateKey returns the key stored under name. When there is none,
	// it calls generate and stores the result, unless another node stored a
	// key under that name first: every caller, on any node, gets the same
	// bytes, whatever the race. generate's error is returned as is.
	LoadOrCreateKey(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
}

// RateLimitStore keeps fixed-window counters in the store, so that every
// node counts against the same limit (failed token requests). Windows are
// identified by their start; the caller aligns them.
type RateLimitStore interface {
	// AddRate adds one to the counter of key in the window starting at
	// start, atomically, and returns the new count.
	AddRate(ctx context.Context, key string, start time.Time) (int, error)
	// Rate returns the counter of key in the window starting at start, 0
	// when nothing was counted.
	Rate(ctx context.Context, key string, start time.Time) (int, error)
	// PruneRates deletes the counters of windows that started before t.
	PruneRates(ctx context.Context, before time.Time) error
}

// RequestRateStore is a RateLimitStore whose counters every node using the
// store shares, cheap enough to move on every API request (the request
// limits of the API faces). A Store implements it only when several nodes
// may run on it (PostgreSQL); the server then counts requests in the store
// instead of in each node's memory. SQLite, one node per database file,
// does not: a durable write per request through its single writer would
// cost far more than the limit is worth, and one node's memory is exact.
type RequestRateStore interface {
	RateLimitStore
	// CountRequest adds one to the counter of key in the window starting at
	// start, atomically, in one round trip, and returns the new count.
	// Unlike AddRate, the increment need not be durable: a database crash
	// may forget the counts of its last moments (request counters are not
	// records; a client gets at most a few more requests).
	CountRequest(ctx context.Context, key string, start time.Time) (int, error)
}
