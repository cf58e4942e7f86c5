package http

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/ingest"
)

// The native call-data API: ingest of call records, call events, recording
// content and FreeSWITCH CDRs; reads of call records, recordings, live
// calls, the raw event stream and aggregates; legal holds. The routes are
// in callRoutes; the handlers in calls_*.go.
//
// Every read is decided twice by the engine: once by the route wrapper on
// the bare tenant (credential, tenant, region, scopes, subject and the
// license feature), and once by the handler on the concrete resource it
// learned from the request or the store (a record's extension, site and
// start; a query's range, extension and sites) with Server.decide, so the
// product gates (site scope, ownership) and the window gates (retention,
// maximum window) always see real values. Every successful read writes its
// view or export audit record before the response goes out.
//
// Choices, written down here:
//   - Without calls.read.all in force (roles and scopes), a user listing
//     call records or live calls without naming an extension gets those of
//     their own extension, and the response says so in X-Callvault-Scope
//     ("own-extension"); naming another extension is the engine's ownership
//     denial. A user without an extension owns no calls: the list is empty.
//     A user with a site scope who names no site gets the sites in scope
//     ("site-scope"). Service principals (apps) have no product gates.
//   - A record without an extension (e.g. trunk to trunk) and a recording
//     whose call record has not arrived belong to nobody: only principals
//     reading all calls see them (ownerless).
//   - Ids of call records, events and recordings are the source's (a PBX
//     uniqueid, a UUID, a client's own id): 1 to 128 printable characters,
//     the rule of internal/ingest, so whatever was stored can be named in
//     a path (URL-escaped).
//   - Reads are audited through the group-commit writer when read auditing
//     is on; a read whose audit record cannot be written fails (500) rather
//     than go unrecorded.

// Actions of the call-data API.
var (
	actCallsWrite = access.Action{Name: "calls.write", Permission: callvault.PermCallsWrite}
	actCallsRead  = access.Action{Name: "calls.read", Permission: callvault.PermCallsRead,
		Owned: true, SiteScoped: true, Retention: true}
	actRecordingsRead = access.Action{Name: "recordings.read", Permission: callvault.PermRecordingsRead,
		Owned: true, SiteScoped: true, Retention: true}
	actActiveCallsRead = access.Action{Name: "active_calls.read", Permission: callvault.PermActiveCallsRead,
		Owned: true, SiteScoped: true}
	actEventsExport = access.Action{Name: "analytics.export", Permission: callvault.PermAnalyticsExport,
		SiteScoped: true, Retention: true, MaxWindow: eventsMaxWindow}
	actAnalyticsRead = access.Action{Name: "analytics.read", Permission: callvault.PermAnalyticsRead,
		Feature: callvault.ProductAnalytics, SiteScoped: true, Retention: true, MaxWindow: analyticsMaxWindow}
	// actCallsReadAll is never a route's action: call-data reads ask the
	// engine whether it is in force to decide what "own" means.
	actCallsReadAll = access.Action{Name: "calls.read.all", Permission: callvault.PermCallsReadAll}
)

// Windows of the call-data reads.
const (
	eventsMaxWindow    = 31 * 24 * time.Hour
	analyticsMaxWindow = 366 * 24 * time.Hour
	defaultCallRange   = 24 * time.Hour // GET /calls and /events without from
)

// callRoutes returns the call-data routes under /v1/tenants/{tenant}.
func (s *Server) callRoutes() []Route {
	const t = "/v1/tenants/{tenant}"
	route := func(method, path string, a access.Action, h handlerFunc) Route {
		return Route{Method: method, Pattern: t + path, Action: a, Handle: h}
	}
	return []Route{
		route("POST", "/calls", actCallsWrite, s.handleCallIngest),
		route("GET", "/calls", actCallsRead, s.handleCallList),
		route("GET", "/calls/{id}", actCallsRead, s.handleCallGet),
		route("POST", "/calls/{id}/legal-hold", actAdminWrite, s.handleLegalHold(true)),
		route("DELETE", "/calls/{id}/legal-hold", actAdminWrite, s.handleLegalHold(false)),
		route("POST", "/call-events", actCallsWrite, s.handleEventIngest),
		route("GET", "/events", actEventsExport, s.handleEventExport),
		route("GET", "/active-calls", actActiveCallsRead, s.handleActiveCalls),
		route("PUT", "/recordings/{id}/content", actCallsWrite, s.handleRecordingUpload),
		route("GET", "/recordings/{id}", actRecordingsRead, s.handleRecordingGet),
		route("GET", "/recordings/{id}/content", actRecordingsRead, s.handleRecordingContent),
		route("GET", "/analytics/calls", actAnalyticsRead, s.handleCallAnalytics),
		{Method: "POST", Pattern: t + "/freeswitch/cdr", Action: actCallsWrite, BasicKey: true, Handle: s.handleFreeSWITCHCDR},
	}
}

// validSourceID reports whether s can be the id of a call record, event or
// recording: 1 to ingest.MaxIDLen printable characters, as ingest accepts.
func validSourceID(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > ingest.MaxIDLen {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

// pathSourceID returns the {id} path value, or a 400 naming it.
func pathSourceID(r *http.Request, what string) (string, error) {
	id := r.PathValue("id")
	if !validSourceID(id) {
		return "", callvault.FieldError("id", "%q is not a valid %s id: 1 to %d printable characters", id, what, ingest.MaxIDLen)
	}
	return id, nil
}

// unassigned is the owner extension the engine is asked about for data
// that belongs to no extension: only calls.read.all reads it.
const unassigned = "(unassigned)"

// owner returns the extension data belongs to, for the ownership gate.
func owner(ext string) string {
	if ext == "" {
		return unassigned
	}
	return ext
}

// callScope is what a principal reads of a tenant's call data when a
// request names no extension or site itself.
type callScope struct {
	all   bool     // every extension: calls.read.all in force, or a service principal
	ext   string   // the caller's own extension, when !all
	sites []string // the caller's site scope; empty: every site
}

// scopeOf asks the engine whether calls.read.all is in force for the call's
// principal in its tenant (roles and token, app and consent scopes), and
// collects the user's extension and site scope.
func (s *Server) scopeOf(ctx context.Context, c *Call) (callScope, error) {
	p := c.P
	if p.Kind == callvault.SubjectApp {
		return callScope{all: true}, nil
	}
	res := access.Resource{TenantID: c.Tenant}
	if c.Tenant != p.TenantID {
		t, err := s.store.Tenant(ctx, c.Tenant)
		if err != nil {
			return callScope{}, err
		}
		res.Tenant = t
	}
	all := s.engine.Decide(p, actCallsReadAll, res).Allowed
	return callScope{all: all, ext: p.Extension, sites: p.SiteScope}, nil
}

// narrow applies the scope to a query's extension and sites when the
// request named none, and returns the restrictions it applied (the value of
// X-Callvault-Scope) and whether the caller can see nothing at all (a user
// without an extension and without calls.read.all).
func (sc callScope) narrow(ext *string, sites *[]string) (applied []string, nothing bool) {
	if *ext == "" && !sc.all {
		applied = append(applied, "own-extension")
		*ext = sc.ext
		nothing = sc.ext == ""
	}
	if len(*sites) == 0 && len(sc.sites) > 0 {
		applied = append(applied, "site-scope")
		*sites = slices.Clone(sc.sites)
	}
	return applied, nothing
}

// setScopeHeader tells the client which restrictions the server applied.
func setScopeHeader(w http.ResponseWriter, applied []string) {
	if len(applied) > 0 {
		w.Header().Set("X-Callvault-Scope", strings.Join(applied, ", "))
	}
}

// decideQuery decides a query over call data: the extension it names (if
// any), every site it names, and its time range.
func (s *Server) decideQuery(r *http.Request, c *Call, ext string, sites []string, from, to time.Time) error {
	res := access.Resource{OwnerExtension: ext, From: from, To: to}
	if len(sites) == 0 {
		return s.decide(r, c, res)
	}
	for _, site := range sites {
		res.SiteID = site
		if err := s.decide(r, c, res); err != nil {
			return err
		}
	}
	return nil
}

// auditRead records a successful read of call data (event view or export)
// when read auditing is on, durably, before the response goes out. details
// (may be nil) is marshalled as the record's details.
func (s *Server) auditRead(ctx context.Context, c *Call, event, entityType, key, name string, details any) error {
	if !s.cfg.AuditReads {
		return nil
	}
	rec := s.record(c, callvault.AuditData, event, entityType, key, name)
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		rec.Details = string(b)
	}
	return s.audit.Append(ctx, rec)
}

// readDetails are the details of a read's audit record.
type readDetails map[string]any

// add sets k to v when set is true.
func (d readDetails) add(k string, v any, set bool) readDetails {
	if set {
		d[k] = v
	}
	return d
}

// checkParams refuses query parameters a route does not know, naming the
// known ones.
func checkParams(q url.Values, known ...string) error {
	for k := range q {
		if !slices.Contains(known, k) {
			return callvault.FieldError(k, "unknown query parameter %q; known: %s", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// parseLimit reads the limit parameter: def when absent, else an integer
// from 1 to max.
func parseLimit(q url.Values, def, max int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, callvault.FieldError("limit", "limit must be an integer from 1 to %d, not %q", max, v)
	}
	return n, nil
}

// parseRange reads from and to (RFC 3339). A missing to is now; a missing
// from is to minus def, or a 400 naming from when def is 0 (required).
func parseRange(q url.Values, now time.Time, def time.Duration) (from, to time.Time, err error) {
	if from, err = parseTimeParam(q, "from"); err != nil {
		return
	}
	if to, err = parseTimeParam(q, "to"); err != nil {
		return
	}
	if to.IsZero() {
		if def == 0 {
			return from, to, callvault.FieldError("to", "to is required: an RFC 3339 time such as 2026-01-02T00:00:00Z")
		}
		to = now
	}
	if from.IsZero() {
		if def == 0 {
			return from, to, callvault.FieldError("from", "from is required: an RFC 3339 time such as 2026-01-01T00:00:00Z")
		}
		from = to.Add(-def)
	}
	if !from.Before(to) {
		return from, to, callvault.FieldError("from", "from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from.UTC(), to.UTC(), nil
}

// enumParam reads a list parameter whose values must be among allowed
// (case-insensitively), returning them spelled as in allowed.
func enumParam(q url.Values, key string, allowed []string) ([]string, error) {
	var out []string
	for _, v := range listParam(q, key) {
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, v) })
		if i < 0 {
			return nil, callvault.FieldError(key, "%s %q is not one of %s", key, v, strings.Join(allowed, ", "))
		}
		if !slices.Contains(out, allowed[i]) {
			out = append(out, allowed[i])
		}
	}
	return out, nil
}

// abortStream ends a streamed response whose body has begun after a
// failure: the client sees a truncated response, never a complete-looking
// one, and the cause is logged.
func (s *Server) abortStream(r *http.Request, err error) {
	s.log.Error("stream aborted", "requestId", RequestID(r.Context()), "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// flush sends what a streamed response has buffered.
func flush(w http.ResponseWriter) {
	_ = http.NewResponseController(w).Flush()
}
