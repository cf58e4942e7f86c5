package genesys

import (
	"context"
	"net/http"
	"strconv"
	"time"

	cvhttp "github.com/callvault/callvault/internal/http"
)

// DefaultRequestsPerMinute is Genesys Cloud's usual limit of API requests
// per OAuth client token per minute.
const DefaultRequestsPerMinute = 300

// limiter applies the face's limit (API requests per client and org per
// window) through the server's request limiter: in the database, shared by
// every node, on PostgreSQL; in this node's memory on SQLite (see
// cvhttp.RequestLimiter).
type limiter struct {
	limit  int
	window time.Duration
	rl     cvhttp.RequestLimiter
}

func newLimiter(o Options, rl cvhttp.RequestLimiter) *limiter {
	l := &limiter{limit: o.RequestsPerMinute, window: o.Window, rl: rl}
	if l.limit == 0 {
		l.limit = DefaultRequestsPerMinute
	}
	if l.window == 0 {
		l.window = time.Minute
	}
	return l
}

// take counts one request of key and returns how long to wait when the
// window's limit is reached (0: allowed). An error means the request could
// not be counted (the database is unavailable: EUnavailable); the caller
// refuses the request (fail closed).
func (l *limiter) take(ctx context.Context, key string) (time.Duration, error) {
	if l.limit < 0 {
		return 0, nil
	}
	rate, err := l.rl.Take(ctx, "genesys/"+key, l.limit, l.window)
	if err != nil {
		return 0, err
	}
	if !rate.Allowed {
		return max(rate.Reset, time.Nanosecond), nil
	}
	return 0, nil
}

// unavailableRetry is the Retry-After, in seconds, of a request refused
// because it could not be counted (the server's own 503s say 2 s).
const unavailableRetry = "2"

// limited counts the request against its client (app, or user) in its
// org before the handler runs: over the limit, a 429
// too.many.requests.retry.after with Retry-After; not counted (the
// database is unavailable), a 503 service.unavailable with Retry-After.
func (f *Face) limited(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		who := c.P.AppID
		if who == "" {
			who = "user:" + c.P.UserID
		}
		wait, err := f.limits.take(r.Context(), who+"/"+c.Tenant)
		if err != nil {
			w.Header().Set("Retry-After", unavailableRetry)
			return err
		}
		if wait > 0 {
			return &cvhttp.RateLimitError{RetryAfter: wait,
				Reason: "more than " + strconv.Itoa(f.limits.limit) + " requests of this client in org " + strconv.Quote(c.Tenant) + " within " + f.limits.window.String() + "; retry after the window ends"}
		}
		return h(w, r, c)
	}
}
