package genesys

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	cvhttp "github.com/callvault/callvault/internal/http"
)

// DefaultRequestsPerMinute is Genesys Cloud's usual limit of API requests
// per OAuth client token per minute.
const DefaultRequestsPerMinute = 300

// limiter counts API requests per client and org in fixed windows, in
// this node's memory.
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(o Options, now func() time.Time) *limiter {
	l := &limiter{limit: o.RequestsPerMinute, window: o.Window, now: now, windows: map[string]*window{}}
	if l.limit == 0 {
		l.limit = DefaultRequestsPerMinute
	}
	if l.window == 0 {
		l.window = time.Minute
	}
	return l
}

// take counts one request of key and returns how long to wait when the
// window's limit is reached (0: allowed).
func (l *limiter) take(key string) time.Duration {
	if l.limit < 0 {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= l.window {
		if len(l.windows) > 100000 {
			for k, o := range l.windows {
				if now.Sub(o.start) >= l.window {
					delete(l.windows, k)
				}
			}
		}
		w = &window{start: now}
		l.windows[key] = w
	}
	if w.n >= l.limit {
		return w.start.Add(l.window).Sub(now)
	}
	w.n++
	return 0
}

// limited counts the request against its client (app, or user) in its
// org before the handler runs: over the limit, a 429
// too.many.requests.retry.after with Retry-After.
func (f *Face) limited(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		who := c.P.AppID
		if who == "" {
			who = "user:" + c.P.UserID
		}
		if wait := f.limits.take(who + "/" + c.Tenant); wait > 0 {
			return &cvhttp.RateLimitError{RetryAfter: wait,
				Reason: "more than " + strconv.Itoa(f.limits.limit) + " requests of this client in org " + strconv.Quote(c.Tenant) + " within " + f.limits.window.String() + "; retry after the window ends"}
		}
		return h(w, r, c)
	}
}
