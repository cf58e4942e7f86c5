package ringcentral

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// limiter counts requests per client and group in fixed windows, in
// memory, bounded: windows that ended are dropped when the table grows.
type limiter struct {
	o      Options
	now    func() time.Time
	mu     sync.Mutex
	counts map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// maxWindows bounds the limiter's table.
const maxWindows = 100000

func newLimiter(o Options, now func() time.Time) *limiter {
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	return &limiter{o: o, now: now, counts: map[string]*window{}}
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
// to wait when over the limit.
func (l *limiter) take(w http.ResponseWriter, key, app, group string) (wait time.Duration) {
	limit := l.limit(app, group)
	now := l.now()
	l.mu.Lock()
	k := group + "\x00" + key
	win := l.counts[k]
	if win == nil || now.Sub(win.start) >= l.o.Window {
		if win == nil && len(l.counts) >= maxWindows {
			for kk, ww := range l.counts {
				if now.Sub(ww.start) >= l.o.Window {
					delete(l.counts, kk)
				}
			}
		}
		win = &window{start: now}
		if len(l.counts) < maxWindows {
			l.counts[k] = win
		}
	}
	win.n++
	n, start := win.n, win.start
	l.mu.Unlock()
	remaining := max(limit-n, 0)
	h := w.Header()
	h.Set("X-Rate-Limit-Group", group)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Window", strconv.Itoa(int(l.o.Window/time.Second)))
	if limit > 0 && n > limit {
		return start.Add(l.o.Window).Sub(now)
	}
	return 0
}

// limited wraps an authenticated handler: the RCRequestId header, the
// client's rate limit (per app and user), then the handler.
func (f *Face) limited(group string, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		w.Header().Set("RCRequestId", c.RequestID)
		key := "app:" + c.P.AppID + "/user:" + c.P.UserID
		if wait := f.limits.take(w, key, c.P.AppID, group); wait > 0 {
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
