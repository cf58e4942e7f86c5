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
