package http

import (
	"context"
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/cursor"
)

// Call listing limits.
const (
	callDefaultLimit = 100
	callMaxLimit     = 1000
	callExportPage   = 1000 // records read per page of a CSV export
)

// callListParams are the query parameters of GET /calls.
var callListParams = []string{"from", "to", "direction", "type", "result", "siteId", "extension", "phoneNumber",
	"sessionId", "telephonySessionId", "hasRecording", "limit", "cursor"}

// callsCursor is the position of a call listing: the last record returned
// (keyset), the snapshot (the tenant's ingest head at the first page), the
// range the first page resolved (from and to default to the last 24 hours
// ending at the first page) and the filter the listing was started with,
// so a cursor cannot be replayed with another filter.
type callsCursor struct {
	Start  time.Time `json:"s"`
	ID     string    `json:"i"`
	Max    int64     `json:"m"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Filter string    `json:"f"`
}

// callPage is the JSON body of GET /calls.
type callPage struct {
	Records    []*callvault.CallRecord `json:"records"`
	NextCursor *string                 `json:"nextCursor"`
	From       time.Time               `json:"from"`
	To         time.Time               `json:"to"`
}

// callQuery is a parsed GET /calls request.
type callQuery struct {
	f       callvault.CallFilter
	fkey    string
	after   *callvault.CallCursor
	applied []string // restrictions of the caller's scope
	nothing bool     // the caller can see no record at all
}

// parseCallQuery parses the filters of GET /calls, opens the cursor, and
// decides the request on its range, extension and sites; it then narrows
// the filter to the caller's scope.
func (s *Server) parseCallQuery(r *http.Request, c *Call) (*callQuery, error) {
	q := r.URL.Query()
	if err := checkParams(q, callListParams...); err != nil {
		return nil, err
	}
	cq := &callQuery{f: callvault.CallFilter{TenantID: c.Tenant}, fkey: filterKey(q)}
	f := &cq.f
	var err error
	if f.From, f.To, err = parseRange(q, s.now(), defaultCallRange); err != nil {
		return nil, err
	}
	if f.Directions, err = enumParam(q, "direction", []string{callvault.DirectionInbound, callvault.DirectionOutbound, callvault.DirectionInternal}); err != nil {
		return nil, err
	}
	if f.Types, err = enumParam(q, "type", []string{callvault.CallVoice, callvault.CallFax}); err != nil {
		return nil, err
	}
	if f.Results, err = enumParam(q, "result", callvault.CallResults); err != nil {
		return nil, err
	}
	f.SiteIDs = listParam(q, "siteId")
	f.Extension = q.Get("extension")
	f.PhoneNumber = q.Get("phoneNumber")
	f.SessionID = q.Get("sessionId")
	f.TelephonySessionID = q.Get("telephonySessionId")
	switch v := q.Get("hasRecording"); v {
	case "":
	case "true", "false":
		b := v == "true"
		f.HasRecording = &b
	default:
		return nil, callvault.FieldError("hasRecording", "hasRecording must be true or false, not %q", v)
	}
	if f.Limit, err = parseLimit(q, callDefaultLimit, callMaxLimit); err != nil {
		return nil, err
	}
	if cs := q.Get("cursor"); cs != "" {
		var cur callsCursor
		if err := cursor.Open(s.cfg.CursorKey, cs, c.Tenant, "calls", s.now(), &cur); err != nil {
			return nil, callvault.FieldError("cursor", "%s", err.Error())
		}
		if cur.Filter != cq.fkey {
			return nil, callvault.FieldError("cursor", "the cursor belongs to a listing with other filters; repeat the same filters with it")
		}
		f.From, f.To, f.MaxIngestSeq = cur.From, cur.To, cur.Max
		cq.after = &callvault.CallCursor{Start: cur.Start, ID: cur.ID}
	}
	if err := s.decideQuery(r, c, f.Extension, f.SiteIDs, f.From, f.To); err != nil {
		return nil, err
	}
	sc, err := s.scopeOf(r.Context(), c)
	if err != nil {
		return nil, err
	}
	cq.applied, cq.nothing = sc.narrow(&f.Extension, &f.SiteIDs)
	return cq, nil
}

// snapshot pins the listing to the tenant's ingest head, unless a cursor
// already did. It reports false when the tenant has no records at all.
func (s *Server) snapshot(ctx context.Context, cq *callQuery) (bool, error) {
	if cq.nothing {
		return false, nil
	}
	if cq.f.MaxIngestSeq > 0 {
		return true, nil
	}
	head, err := s.store.CallIngestHead(ctx, cq.f.TenantID)
	if err != nil {
		return false, err
	}
	cq.f.MaxIngestSeq = head
	return head > 0, nil
}

// handleCallList is GET /v1/tenants/{tenant}/calls: the tenant's call
// records, newest first, filtered; with Accept: text/csv the whole listing
// as a CSV stream.
func (s *Server) handleCallList(w http.ResponseWriter, r *http.Request, c *Call) error {
	cq, err := s.parseCallQuery(r, c)
	if err != nil {
		return err
	}
	ctx := r.Context()
	some, err := s.snapshot(ctx, cq)
	if err != nil {
		return err
	}
	setScopeHeader(w, cq.applied)
	if wantsCSV(r) {
		if cq.after != nil {
			return callvault.FieldError("cursor", "a CSV export streams the whole listing in one response; send it without a cursor")
		}
		return s.exportCallsCSV(w, r, c, cq, some)
	}
	page := callPage{Records: []*callvault.CallRecord{}, From: cq.f.From, To: cq.f.To}
	if some {
		f := cq.f
		f.After = cq.after
		f.Limit = cq.f.Limit + 1
		recs, err := s.store.Calls(ctx, f)
		if err != nil {
			return err
		}
		if len(recs) > cq.f.Limit {
			recs = recs[:cq.f.Limit]
			last := recs[len(recs)-1]
			next, err := cursor.Sign(s.cfg.CursorKey, c.Tenant, "calls", callsCursor{Start: last.Start, ID: last.ID,
				Max: cq.f.MaxIngestSeq, From: cq.f.From, To: cq.f.To, Filter: cq.fkey}, s.now().Add(cursorTTL))
			if err != nil {
				return err
			}
			page.NextCursor = &next
		}
		page.Records = recs
	}
	if err := s.auditRead(ctx, c, callvault.EventView, "calls", "", "call records", callReadDetails(cq, len(page.Records))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// callReadDetails are the audit details of a listing or export: the
// effective filter (with the caller's scope applied) and how many records
// it returned.
func callReadDetails(cq *callQuery, count int) readDetails {
	f := cq.f
	return readDetails{"from": f.From, "to": f.To, "count": count, "snapshot": f.MaxIngestSeq}.
		add("direction", f.Directions, len(f.Directions) > 0).
		add("type", f.Types, len(f.Types) > 0).
		add("result", f.Results, len(f.Results) > 0).
		add("siteId", f.SiteIDs, len(f.SiteIDs) > 0).
		add("extension", f.Extension, f.Extension != "").
		add("phoneNumber", f.PhoneNumber, f.PhoneNumber != "").
		add("sessionId", f.SessionID, f.SessionID != "").
		add("telephonySessionId", f.TelephonySessionID, f.TelephonySessionID != "").
		add("hasRecording", f.HasRecording, f.HasRecording != nil).
		add("scope", cq.applied, len(cq.applied) > 0)
}

// wantsCSV reports whether the request's Accept header asks for text/csv.
func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

// csvColumn is one column of the CSV export.
type csvColumn struct {
	name  string
	value func(*callvault.CallRecord) string
}

// csvTime renders a time for the CSV export: RFC 3339 in UTC, "" for zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// callCSVColumns are the columns of the CSV export, in order.
var callCSVColumns = []csvColumn{
	{"id", func(c *callvault.CallRecord) string { return c.ID }},
	{"siteId", func(c *callvault.CallRecord) string { return c.SiteID }},
	{"sessionId", func(c *callvault.CallRecord) string { return c.SessionID }},
	{"telephonySessionId", func(c *callvault.CallRecord) string { return c.TelephonySessionID }},
	{"startTime", func(c *callvault.CallRecord) string { return csvTime(c.Start) }},
	{"answerTime", func(c *callvault.CallRecord) string { return csvTime(c.Answer) }},
	{"endTime", func(c *callvault.CallRecord) string { return csvTime(c.End) }},
	{"durationMs", func(c *callvault.CallRecord) string { return strconv.FormatInt(c.DurationMs, 10) }},
	{"talkMs", func(c *callvault.CallRecord) string { return strconv.FormatInt(c.TalkMs, 10) }},
	{"direction", func(c *callvault.CallRecord) string { return c.Direction }},
	{"type", func(c *callvault.CallRecord) string { return c.Type }},
	{"action", func(c *callvault.CallRecord) string { return c.Action }},
	{"result", func(c *callvault.CallRecord) string { return c.Result }},
	{"transport", func(c *callvault.CallRecord) string { return c.Transport }},
	{"fromPhoneNumber", func(c *callvault.CallRecord) string { return c.From.PhoneNumber }},
	{"fromName", func(c *callvault.CallRecord) string { return c.From.Name }},
	{"fromExtension", func(c *callvault.CallRecord) string { return c.From.ExtensionNumber }},
	{"toPhoneNumber", func(c *callvault.CallRecord) string { return c.To.PhoneNumber }},
	{"toName", func(c *callvault.CallRecord) string { return c.To.Name }},
	{"toExtension", func(c *callvault.CallRecord) string { return c.To.ExtensionNumber }},
	{"extension", func(c *callvault.CallRecord) string { return c.Extension }},
	{"legs", func(c *callvault.CallRecord) string { return strconv.Itoa(len(c.Legs)) }},
	{"recordingIds", func(c *callvault.CallRecord) string { return strings.Join(c.RecordingIDs, " ") }},
	{"legalHold", func(c *callvault.CallRecord) string { return strconv.FormatBool(c.LegalHold) }},
	{"ingestedAt", func(c *callvault.CallRecord) string { return csvTime(c.IngestedAt) }},
}

// exportCallsCSV streams every record of the listing's snapshot (from its
// first record) as CSV: a header row, then one row per record, read and
// flushed a page at a time so memory stays bounded whatever the size. The
// export is counted first, so its audit record (written before the first
// byte) says how many rows it holds. limit does not cap an export, and a
// cursor has no place in one.
func (s *Server) exportCallsCSV(w http.ResponseWriter, r *http.Request, c *Call, cq *callQuery, some bool) error {
	ctx := r.Context()
	count := 0
	if some {
		buckets, err := s.store.AggregateCalls(ctx, callvault.CallAggregate{Filter: cq.f})
		if err != nil {
			return err
		}
		for _, b := range buckets {
			count += int(b.Calls)
		}
	}
	if err := s.auditRead(ctx, c, callvault.EventExport, "calls", "", "call records (CSV)", callReadDetails(cq, count)); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="calls.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	row := make([]string, len(callCSVColumns))
	for i, col := range callCSVColumns {
		row[i] = col.name
	}
	_ = cw.Write(row)
	if some {
		f := cq.f
		f.Limit = callExportPage
		for {
			recs, err := s.store.Calls(ctx, f)
			if err != nil {
				s.abortStream(r, err)
			}
			for _, rec := range recs {
				for i, col := range callCSVColumns {
					row[i] = col.value(rec)
				}
				_ = cw.Write(row)
			}
			cw.Flush()
			if err := cw.Error(); err != nil {
				return nil // the client went away
			}
			flush(w)
			if len(recs) < f.Limit {
				break
			}
			last := recs[len(recs)-1]
			f.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
		}
	}
	cw.Flush()
	return nil
}

// handleCallGet is GET /v1/tenants/{tenant}/calls/{id}: one record with its
// legs, decided on the record's extension, site and start. Another
// tenant's record is not found, exactly like a missing one.
func (s *Server) handleCallGet(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathSourceID(r, "call")
	if err != nil {
		return err
	}
	ctx := r.Context()
	rec, err := s.store.Call(ctx, c.Tenant, id)
	if err != nil {
		return err
	}
	if err := s.decideRecord(r, c, rec); err != nil {
		return err
	}
	if err := s.auditRead(ctx, c, callvault.EventView, "call", rec.ID, callName(rec), nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// decideRecord decides the call's action on one call record: its
// extension (ownership), site (site scope) and start (retention).
func (s *Server) decideRecord(r *http.Request, c *Call, rec *callvault.CallRecord) error {
	return s.decideQuery(r, c, owner(rec.Extension), nonEmpty(rec.SiteID), rec.Start, time.Time{})
}

// nonEmpty is a list of v, or nil for "".
func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// callName is the display name of a call record in audit records.
func callName(rec *callvault.CallRecord) string {
	party := func(p callvault.Party) string {
		for _, v := range []string{p.ExtensionNumber, p.PhoneNumber, p.Name} {
			if v != "" {
				return v
			}
		}
		return "?"
	}
	return rec.Direction + " call " + party(rec.From) + " -> " + party(rec.To)
}
