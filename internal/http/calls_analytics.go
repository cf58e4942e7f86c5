package http

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Call analytics: GET /v1/tenants/{tenant}/analytics/calls.
//
// The store aggregates per UTC hour; the handler folds the hours into the
// tenant's hours, days or weeks (weeks start on Monday) in its timezone, so
// a day bucket runs from local midnight to local midnight, 23 or 25 hours
// long on the days daylight saving time changes. For the few timezones
// whose offset is not a whole number of hours (e.g. Asia/Kolkata), an hour
// bucket is a UTC hour shown in local time (starting at :30), and a day
// bucket gathers the UTC hours that start on that local day.
//
// Aggregates are not call records: there is no ownership gate (analytics
// is the supervisors' and integrators' permission), but a user's site
// scope applies as it does to listings.

// analyticsParams are the query parameters of GET /analytics/calls.
var analyticsParams = []string{"from", "to", "interval", "groupBy", "siteId"}

// analyticsBucket is one bucket of the response.
type analyticsBucket struct {
	Start              time.Time `json:"start"`
	Key                string    `json:"key,omitempty"`
	Calls              int64     `json:"calls"`
	Answered           int64     `json:"answered"`
	Missed             int64     `json:"missed"`
	TalkSeconds        float64   `json:"talkSeconds"`
	AverageTalkSeconds float64   `json:"averageTalkSeconds"` // over answered calls
	talkMs             int64
}

// analyticsResponse is the body of GET /analytics/calls.
type analyticsResponse struct {
	From     time.Time          `json:"from"`
	To       time.Time          `json:"to"`
	Interval string             `json:"interval"`
	Timezone string             `json:"timezone"`
	GroupBy  string             `json:"groupBy,omitempty"`
	Buckets  []*analyticsBucket `json:"buckets"`
}

// handleCallAnalytics is GET /v1/tenants/{tenant}/analytics/calls: counts,
// answered, missed, total and average talk time per hour, day or week
// (interval, default day) of the tenant's timezone, optionally per site,
// extension or direction (groupBy), over [from, to) (both required, at
// most 366 days, inside retention).
func (s *Server) handleCallAnalytics(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	if err := checkParams(q, analyticsParams...); err != nil {
		return err
	}
	from, to, err := parseRange(q, s.now(), 0)
	if err != nil {
		return err
	}
	interval := q.Get("interval")
	if interval == "" {
		interval = "day"
	}
	if !slices.Contains([]string{"hour", "day", "week"}, interval) {
		return callvault.FieldError("interval", "interval must be hour, day or week, not %q", interval)
	}
	groupBy := q.Get("groupBy")
	if groupBy != "" && !slices.Contains([]string{"site", "extension", "direction"}, groupBy) {
		return callvault.FieldError("groupBy", "groupBy must be site, extension or direction, not %q", groupBy)
	}
	sites := listParam(q, "siteId")
	if err := s.decideQuery(r, c, "", sites, from, to); err != nil {
		return err
	}
	ctx := r.Context()
	sc, err := s.scopeOf(ctx, c)
	if err != nil {
		return err
	}
	sc.all = true // aggregates have no owners: only the site scope applies
	applied, _ := sc.narrow(new(string), &sites)
	t, err := s.targetTenant(ctx, c)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		s.log.Warn("tenant timezone", "tenant", t.ID, "timezone", t.Timezone, "err", err)
		loc = time.UTC
	}
	hours, err := s.store.AggregateCalls(ctx, callvault.CallAggregate{HourBuckets: true, GroupBy: groupBy,
		Filter: callvault.CallFilter{TenantID: c.Tenant, From: from, To: to, SiteIDs: sites}})
	if err != nil {
		return err
	}
	resp := analyticsResponse{From: from.In(loc), To: to.In(loc), Interval: interval, Timezone: loc.String(),
		GroupBy: groupBy, Buckets: foldBuckets(hours, interval, loc)}
	details := readDetails{"from": from, "to": to, "interval": interval, "buckets": len(resp.Buckets)}.
		add("groupBy", groupBy, groupBy != "").add("siteId", sites, len(sites) > 0)
	if err := s.auditRead(ctx, c, callvault.EventView, "callAnalytics", "", "call analytics", details); err != nil {
		return err
	}
	setScopeHeader(w, applied)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// foldBuckets folds UTC hour buckets into buckets of interval in loc,
// ordered by start, then key.
func foldBuckets(hours []*callvault.CallBucket, interval string, loc *time.Location) []*analyticsBucket {
	type k struct {
		start int64
		key   string
	}
	m := map[k]*analyticsBucket{}
	for _, h := range hours {
		start := bucketStart(h.Bucket, interval, loc)
		b := m[k{start.UnixNano(), h.Key}]
		if b == nil {
			b = &analyticsBucket{Start: start, Key: h.Key}
			m[k{start.UnixNano(), h.Key}] = b
		}
		b.Calls += h.Calls
		b.Answered += h.Answered
		b.Missed += h.Missed
		b.talkMs += h.TalkMs
	}
	out := make([]*analyticsBucket, 0, len(m))
	for _, b := range m {
		b.TalkSeconds = float64(b.talkMs) / 1000
		if b.Answered > 0 {
			b.AverageTalkSeconds = math.Round(float64(b.talkMs)/float64(b.Answered)) / 1000
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *analyticsBucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// bucketStart is the start of the interval of loc that the UTC hour h
// falls in: the hour itself, local midnight, or the local midnight of the
// week's Monday.
func bucketStart(h time.Time, interval string, loc *time.Location) time.Time {
	lt := h.In(loc)
	switch interval {
	case "day":
		return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	case "week":
		back := (int(lt.Weekday()) + 6) % 7 // days since Monday
		return time.Date(lt.Year(), lt.Month(), lt.Day()-back, 0, 0, 0, 0, loc)
	}
	return lt
}

// targetTenant returns the record of the call's target tenant.
func (s *Server) targetTenant(ctx context.Context, c *Call) (*callvault.Tenant, error) {
	if c.P.Tenant != nil && c.P.Tenant.ID == c.Tenant {
		return c.P.Tenant, nil
	}
	return s.store.Tenant(ctx, c.Tenant)
}
