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
// window per node, it also deletes the counters of windows that started
// more than max(window, pruneHorizon) ago (not every window before its
// own: the table holds the request limiters' counters too, whose windows
// may be longer).
func (l *storeLimiter) Fail(ctx context.Context, key string) error {
	now := l.now()
	start := l.start(now)
	if _, err := l.store.AddRate(ctx, key, start); err != nil {
		return err
	}
	if last := l.lastPrune.Load(); now.UnixNano()-last >= int64(l.window) && l.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return l.store.PruneRates(ctx, now.Add(-max(l.window, pruneHorizon)))
	}
	return nil
}

// RequestLimiter counts requests per key in fixed windows and says whether
// one more is allowed: the request limits of the API faces (RingCentral's
// Light/Medium/Heavy/Auth groups, Genesys Cloud's requests per client and
// org). The Server has one (Server.RequestLimiter), picked from its store:
// NewStoreRequestLimiter when the store is a callvault.RequestRateStore
// (PostgreSQL: every node counts in the same rows, so N nodes do not
// multiply a limit by N), NewMemoryRequestLimiter otherwise (SQLite: one
// node per database file, whose memory is exact and costs nothing).
//
// Keys are global to the limiter (and, shared, to the store's rate_limits
// table, next to the failed-token counters): users of one limiter prefix
// their keys (e.g. "ringcentral/", "genesys/"), and use one key with one
// window length only.
type RequestLimiter interface {
	// Take counts one request of key against limit requests per window
	// and reports whether it is allowed. Every request is counted, the
	// refused ones too. A limit of 0 or less means no limit: nothing is
	// counted, the request is allowed. An error means the request could
	// not be counted (the shared store is unavailable: an EUnavailable
	// error); callers refuse the request (fail closed, 503 with
	// Retry-After), as the server does for every request it cannot serve
	// without its database.
	Take(ctx context.Context, key string, limit int, window time.Duration) (RequestRate, error)
}

// RequestRate is what RequestLimiter.Take says about one request.
type RequestRate struct {
	// Allowed: the request is within the limit (Count <= limit).
	Allowed bool
	// Count is the number of requests of the key in the window, this one
	// included.
	Count int
	// Remaining is how many more requests the key may make in the window,
	// max(limit-Count, 0).
	Remaining int
	// Reset is the time until the window ends (when a refused key may try
	// again: Retry-After).
	Reset time.Duration
}

func rateOf(n, limit int, reset time.Duration) RequestRate {
	return RequestRate{Allowed: n <= limit, Count: n, Remaining: max(limit-n, 0), Reset: reset}
}

// maxRequestWindows bounds the memory request limiter's table.
const maxRequestWindows = 100000

// memoryRequestLimiter counts requests per key in this node's memory, in
// fixed windows that start at a key's first request.
type memoryRequestLimiter struct {
	now       func() time.Time
	mu        sync.Mutex
	keys      map[string]*reqWindow
	overflow  map[overflowKey]*reqWindow // keys the full table had no room for
	lastPurge time.Time
}

// reqWindow is one key's window: it ends at start + length.
type reqWindow struct {
	start  time.Time
	length time.Duration
	n      int
}

func (w *reqWindow) ended(now time.Time) bool { return !now.Before(w.start.Add(w.length)) }

// overflowKey names the shared window of the keys a full table had no
// room for, one per limit and window length.
type overflowKey struct {
	limit  int
	length time.Duration
}

// NewMemoryRequestLimiter returns a node-local RequestLimiter: requests
// are counted in memory, in windows that start at a key's first request.
// Its table is bounded (100,000 keys). When it is full, windows that
// ended are dropped (at most once a second, each by its own length); a
// new key that still finds no room is counted in one window shared by
// every such key with the same limit and window length, so that a flood
// of distinct keys (say, made-up client ids) is limited together instead
// of not at all, while the keys already in the table keep their own
// counts. It is exact for one node and costs no I/O; with several nodes
// each node counts alone, so use NewStoreRequestLimiter there.
func NewMemoryRequestLimiter(now func() time.Time) RequestLimiter {
	if now == nil {
		now = time.Now
	}
	return &memoryRequestLimiter{now: now, keys: map[string]*reqWindow{}, overflow: map[overflowKey]*reqWindow{}}
}

// Take counts one request of key in its current window.
func (l *memoryRequestLimiter) Take(_ context.Context, key string, limit int, w time.Duration) (RequestRate, error) {
	if limit <= 0 {
		return RequestRate{Allowed: true}, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	win := l.keys[key]
	if win == nil {
		if len(l.keys) >= maxRequestWindows && now.Sub(l.lastPurge) >= time.Second {
			l.lastPurge = now
			for k, o := range l.keys {
				if o.ended(now) {
					delete(l.keys, k)
				}
			}
		}
		if len(l.keys) < maxRequestWindows {
			win = &reqWindow{start: now, length: w}
			l.keys[key] = win
		} else {
			ok := overflowKey{limit, w}
			if win = l.overflow[ok]; win == nil {
				win = &reqWindow{start: now, length: w}
				l.overflow[ok] = win
			}
		}
	}
	if win.ended(now) {
		// A new window, in the old one's place (a full table must not
		// leave a known key uncounted).
		win.start, win.length, win.n = now, w, 0
	}
	win.n++
	return rateOf(win.n, limit, win.start.Add(win.length).Sub(now)), nil
}

// pruneHorizon is how old a counter's window must be before a store
// limiter deletes it: limiters with different windows (failed token
// requests, each face's request limits) share one table, and a limiter
// that deleted every window before its own current one would delete the
// current windows of limiters with longer ones. Windows up to an hour are
// therefore safe in a shared table; a limiter with a longer window keeps
// its own rows (its horizon is its window) but not against the others'
// pruning.
const pruneHorizon = time.Hour

// storeRequestLimiter counts requests in a callvault.RequestRateStore.
type storeRequestLimiter struct {
	store callvault.RequestRateStore
	now   func() time.Time

	lastPrune atomic.Int64 // unix nanoseconds of the last PruneRates
}

// NewStoreRequestLimiter returns a RequestLimiter that counts in store,
// shared by every node using it, in fixed windows aligned to multiples of
// the window length (every node computes the same window start, as
// NewStoreLimiter does): a client sending alternately to any number of
// nodes gets limit requests per window in all, not per node. At a window
// boundary a client may get up to twice the limit in one window's time,
// the usual price of fixed windows. Each Take is one round trip
// (callvault.RequestRateStore.CountRequest); at most once a minute (or
// once a window, when longer) per node, a Take also starts, in the
// background, the deletion of counters whose windows started more than
// max(window, 1 h) ago. A store error fails the request closed: Take
// returns an EUnavailable error.
func NewStoreRequestLimiter(store callvault.RequestRateStore, now func() time.Time) RequestLimiter {
	if now == nil {
		now = time.Now
	}
	return &storeRequestLimiter{store: store, now: now}
}

// Take counts one request of key in the current aligned window.
func (l *storeRequestLimiter) Take(ctx context.Context, key string, limit int, w time.Duration) (RequestRate, error) {
	if limit <= 0 {
		return RequestRate{Allowed: true}, nil
	}
	now := l.now()
	start := now.Truncate(w)
	n, err := l.store.CountRequest(ctx, key, start)
	if err != nil {
		return RequestRate{}, &callvault.Error{Code: callvault.EUnavailable,
			Message: "the request could not be counted against its rate limit; retry later", Err: err}
	}
	l.prune(ctx, now, w)
	return rateOf(n, limit, start.Add(w).Sub(now)), nil
}

// prune deletes, in the background, the counters of windows that started
// more than max(w, pruneHorizon) before now, at most once per max(w,
// minute) on this node.
func (l *storeRequestLimiter) prune(ctx context.Context, now time.Time, w time.Duration) {
	every := max(w, time.Minute)
	last := l.lastPrune.Load()
	if now.UnixNano()-last < int64(every) || !l.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	before := now.Add(-max(w, pruneHorizon))
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = l.store.PruneRates(ctx, before) // retried a minute later on failure
	}()
}
