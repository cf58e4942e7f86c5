package http

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Limiter counts failures per key (a client id or a client address) and
// says when a key has had too many. Server uses one for failed token
// requests: NewMemoryLimiter on a single node, NewStoreLimiter when several
// nodes share a store that keeps counters (callvault.RateLimitStore), so a
// client cannot multiply its attempts by the number of nodes.
type Limiter interface {
	// Blocked reports whether key is over its limit, and for how long it
	// stays blocked. An error means the limiter could not tell.
	Blocked(ctx context.Context, key string) (bool, time.Duration, error)
	// Fail counts one failure for key.
	Fail(ctx context.Context, key string) error
}

// memoryLimiter counts failures per key in fixed windows that start at a
// key's first failure. A key that reached its limit is blocked until its
// window ends. It is node-local.
type memoryLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	keys   map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// NewMemoryLimiter returns a node-local Limiter that allows limit failures
// per key in a window that starts at the key's first failure.
func NewMemoryLimiter(limit int, w time.Duration, now func() time.Time) Limiter {
	if now == nil {
		now = time.Now
	}
	return &memoryLimiter{limit: limit, window: w, now: now, keys: map[string]*window{}}
}

// Blocked reports whether key is over its limit, and for how long.
func (l *memoryLimiter) Blocked(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.keys[key]
	if !ok {
		return false, 0, nil
	}
	now := l.now()
	end := w.start.Add(l.window)
	if !now.Before(end) {
		delete(l.keys, key)
		return false, 0, nil
	}
	if w.n >= l.limit {
		return true, end.Sub(now), nil
	}
	return false, 0, nil
}

// Fail counts one failure for key.
func (l *memoryLimiter) Fail(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w, ok := l.keys[key]
	if !ok || !now.Before(w.start.Add(l.window)) {
		w = &window{start: now}
		l.keys[key] = w
	}
	w.n++
	if len(l.keys) > 100000 { // bound memory under a flood of distinct keys
		for k, v := range l.keys {
			if !now.Before(v.start.Add(l.window)) {
				delete(l.keys, k)
			}
		}
	}
	return nil
}

// storeLimiter counts failures in the store, in fixed windows aligned to
// multiples of the window length (every node computes the same window
// start), so every node sharing the store sees every node's failures. A key
// that reached its limit is blocked until the aligned window ends; at a
// window boundary a client may thus get up to twice the limit in one
// window's time, the usual price of fixed windows.
type storeLimiter struct {
	store  callvault.RateLimitStore
	limit  int
	window time.Duration
	now    func() time.Time

	lastPrune atomic.Int64 // unix nanoseconds of the last PruneRates
}

// NewStoreLimiter returns a Limiter that keeps its counters in store,
// shared by every node using it: limit failures per key per window.
func NewStoreLimiter(store callvault.RateLimitStore, limit int, w time.Duration, now func() time.Time) Limiter {
	if now == nil {
		now = time.Now
	}
	return &storeLimiter{store: store, limit: limit, window: w, now: now}
}

// start returns the start of the window holding t.
func (l *storeLimiter) start(t time.Time) time.Time { return t.Truncate(l.window) }

// Blocked reports whether key reached its limit in the current window, and
// how long until that window ends.
func (l *storeLimiter) Blocked(ctx context.Context, key string) (bool, time.Duration, error) {
	now := l.now()
	start := l.start(now)
	n, err := l.store.Rate(ctx, key, start)
	if err != nil || n < l.limit {
		return false, 0, err
	}
	return true, start.Add(l.window).Sub(now), nil
}

// Fail counts one failure for key in the current window. At most once a
// window per node, it also deletes the counters of windows that ended.
func (l *storeLimiter) Fail(ctx context.Context, key string) error {
	now := l.now()
	start := l.start(now)
	if _, err := l.store.AddRate(ctx, key, start); err != nil {
		return err
	}
	if last := l.lastPrune.Load(); now.UnixNano()-last >= int64(l.window) && l.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return l.store.PruneRates(ctx, start)
	}
	return nil
}
