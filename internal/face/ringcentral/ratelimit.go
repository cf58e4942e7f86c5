package ringcentral

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	cvhttp "github.com/callvault/callvault/internal/http"
)

// RingCentral's rate-limit groups.
const (
	groupLight  = "Light"
	groupMedium = "Medium"
	groupHeavy  = "Heavy"
	groupAuth   = "Auth"
)

// defaultLimits are RingCentral's documented defaults per minute.
var defaultLimits = map[string]int{groupLight: 50, groupMedium: 40, groupHeavy: 10, groupAuth: 5}

// limiter applies RingCentral's limits (per group, per app) through the
// server's request limiter: in the database, shared by every node, on
// PostgreSQL; in this node's memory on SQLite (see
// cvhttp.RequestLimiter).
type limiter struct {
	o  Options
	rl cvhttp.RequestLimiter
}

func newLimiter(o Options, rl cvhttp.RequestLimiter) *limiter {
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	return &limiter{o: o, rl: rl}
}

func (l *limiter) limit(app, group string) int {
	if m, ok := l.o.AppLimits[app]; ok {
		if n, ok := m[group]; ok {
			return n
		}
	}
	if n, ok := l.o.Limits[group]; ok {
		return n
	}
	return defaultLimits[group]
}

// take counts one request of key (app is the client id, for per-app
// limits) in group, sets the X-Rate-Limit-* headers and reports how long
// to wait when over the limit. An error means the request could not be
// counted (the database is unavailable: EUnavailable): the caller refuses
// the request with 503 (fail closed); the headers then say Remaining 0.
func (l *limiter) take(r *http.Request, w http.ResponseWriter, key, app, group string) (wait time.Duration, err error) {
	limit := l.limit(app, group)
	rate, err := l.rl.Take(r.Context(), "ringcentral/"+group+"/"+key, limit, l.o.Window)
	h := w.Header()
	h.Set("X-Rate-Limit-Group", group)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(rate.Remaining))
	h.Set("X-Rate-Limit-Window", strconv.Itoa(int(l.o.Window/time.Second)))
	if err != nil {
		return 0, err
	}
	if !rate.Allowed {
		return max(rate.Reset, time.Nanosecond), nil
	}
	return 0, nil
}

// unavailableRetry is the Retry-After of a request refused because it
// could not be counted against its limit (the server's own 503s say 2 s).
const unavailableRetry = 2

// limited wraps an authenticated handler: the RCRequestId header, the
// client's rate limit (per app and user), then the handler.
func (f *Face) limited(group string, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		w.Header().Set("RCRequestId", c.RequestID)
		key := "app:" + c.P.AppID + "/user:" + c.P.UserID
		wait, err := f.limits.take(r, w, key, c.P.AppID, group)
		if err != nil {
			retryHeader(w, unavailableRetry)
			return err
		}
		if wait > 0 {
			secs := int((wait + time.Second - 1) / time.Second)
			retryHeader(w, secs)
			return &cvhttp.RateLimitError{Reason: "more than " + w.Header().Get("X-Rate-Limit-Limit") + " " + group +
				" requests in " + w.Header().Get("X-Rate-Limit-Window") + " s by this app and user; retry after " + strconv.Itoa(max(secs, 1)) + " s",
				RetryAfter: wait}
		}
		return h(w, r, c)
	}
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ParseLimits reads rate limits written as comma-separated
// [clientId:]Group=N items, e.g. "Heavy=20,Light=100,app_123:Heavy=500":
// items without a client id set Limits, the others AppLimits.
func ParseLimits(s string) (limits map[string]int, apps map[string]map[string]int, err error) {
	limits, apps = map[string]int{}, map[string]map[string]int{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		kv, val, ok := strings.Cut(item, "=")
		n, nerr := strconv.Atoi(strings.TrimSpace(val))
		app, group, hasApp := strings.Cut(kv, ":")
		if !hasApp {
			app, group = "", kv
		}
		i := slices.IndexFunc([]string{groupLight, groupMedium, groupHeavy, groupAuth}, func(g string) bool { return strings.EqualFold(g, group) })
		if !ok || nerr != nil || n < 0 || i < 0 {
			return nil, nil, fmt.Errorf("rate limit %q: want [clientId:]Group=N with Group one of Light, Medium, Heavy, Auth", item)
		}
		group = []string{groupLight, groupMedium, groupHeavy, groupAuth}[i]
		if !hasApp {
			limits[group] = n
			continue
		}
		if apps[app] == nil {
			apps[app] = map[string]int{}
		}
		apps[app][group] = n
	}
	return limits, apps, nil
}
