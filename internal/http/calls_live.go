package http

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Live calls and the raw event stream.

// eventExportPage is how many events GET /events reads per page.
const eventExportPage = 1000

// handleActiveCalls is GET /v1/tenants/{tenant}/active-calls: the live
// calls, oldest first, optionally of one extension and some sites; without
// calls.read.all only the caller's own extension's.
func (s *Server) handleActiveCalls(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	if err := checkParams(q, "extension", "siteId"); err != nil {
		return err
	}
	ext, sites := q.Get("extension"), listParam(q, "siteId")
	if err := s.decideQuery(r, c, ext, sites, time.Time{}, time.Time{}); err != nil {
		return err
	}
	ctx := r.Context()
	sc, err := s.scopeOf(ctx, c)
	if err != nil {
		return err
	}
	applied, nothing := sc.narrow(&ext, &sites)
	out := []*callvault.ActiveCall{}
	if !nothing {
		all, err := s.store.ActiveCalls(ctx, c.Tenant)
		if err != nil {
			return err
		}
		for _, a := range all {
			if (ext == "" || a.Extension == ext) && (len(sites) == 0 || slices.Contains(sites, a.SiteID)) {
				out = append(out, a)
			}
		}
	}
	details := readDetails{"count": len(out)}.add("extension", ext, ext != "").add("siteId", sites, len(sites) > 0)
	if err := s.auditRead(ctx, c, callvault.EventView, "activeCalls", "", "live calls", details); err != nil {
		return err
	}
	setScopeHeader(w, applied)
	writeJSON(w, http.StatusOK, itemList[*callvault.ActiveCall]{Items: out})
	return nil
}

// handleEventExport is GET /v1/tenants/{tenant}/events: the raw call events
// with Timestamp in [from, to) (default: the last 24 hours; at most 31
// days, inside retention) and Seq > afterSeq, in Seq order, as NDJSON
// (application/x-ndjson), read and flushed a page at a time. A user with a
// site scope gets the events of those sites only. Events that arrive while
// the export runs may be included; resume with afterSeq = the last seq
// received.
func (s *Server) handleEventExport(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	if err := checkParams(q, "from", "to", "afterSeq"); err != nil {
		return err
	}
	from, to, err := parseRange(q, s.now(), defaultCallRange)
	if err != nil {
		return err
	}
	var after int64
	if v := q.Get("afterSeq"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return callvault.FieldError("afterSeq", "afterSeq must be a non-negative integer (the seq of the last event received), not %q", v)
		}
	}
	if err := s.decideQuery(r, c, "", nil, from, to); err != nil {
		return err
	}
	ctx := r.Context()
	sc, err := s.scopeOf(ctx, c)
	if err != nil {
		return err
	}
	var sites []string
	sc.all = true // the stream has no owners: only the site scope applies
	applied, _ := sc.narrow(new(string), &sites)
	details := readDetails{"from": from, "to": to, "afterSeq": after}.add("siteId", sites, len(sites) > 0)
	if err := s.auditRead(ctx, c, callvault.EventExport, "callEvents", "", "call event stream", details); err != nil {
		return err
	}
	setScopeHeader(w, applied)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	f := callvault.EventFilter{TenantID: c.Tenant, From: from, To: to, AfterSeq: after, Limit: eventExportPage}
	for {
		evs, err := s.store.CallEvents(ctx, f)
		if err != nil {
			s.abortStream(r, err)
		}
		for _, e := range evs {
			if len(sites) > 0 && !slices.Contains(sites, e.SiteID) {
				continue
			}
			if err := enc.Encode(e); err != nil {
				return nil // the client went away
			}
		}
		flush(w)
		if len(evs) < f.Limit {
			return nil
		}
		f.AfterSeq = evs[len(evs)-1].Seq
	}
}
