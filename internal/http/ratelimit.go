package http

import (
	"sync"
	"time"
)

// limiter counts failures per key in fixed windows. A key that reached its
// limit is blocked until its window ends. It is node-local: several nodes
// behind one balancer each keep their own counts (sharing them through the
// store is part of the PostgreSQL scale-out work).
type limiter struct {
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

func newLimiter(limit int, w time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: w, now: now, keys: map[string]*window{}}
}

// blocked reports whether key is over its limit, and for how long.
func (l *limiter) blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.keys[key]
	if !ok {
		return false, 0
	}
	now := l.now()
	end := w.start.Add(l.window)
	if !now.Before(end) {
		delete(l.keys, key)
		return false, 0
	}
	if w.n >= l.limit {
		return true, end.Sub(now)
	}
	return false, 0
}

// fail counts one failure for key.
func (l *limiter) fail(key string) {
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
}
