package eightbyeight

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Audit Records API limits and vocabulary.
const (
	auditDefaultSize = 20
	auditMaxSize     = 100
	auditMaxWindow   = 31 * 24 * time.Hour
	scrollTTL        = 24 * time.Hour
	scrollKind       = "8x8.audit"
)

// Services are the audit services the face serves: 8x8's platform and
// callvault's further streams.
var Services = []string{callvault.AuditPlatform, callvault.AuditData, callvault.AuditAuth, callvault.AuditAccess}

// EventTypes are the event types the face accepts: 8x8's five and
// callvault's credential and denial events.
var EventTypes = []string{callvault.EventCreate, callvault.EventUpdate, callvault.EventDelete, callvault.EventView,
	callvault.EventExport, callvault.EventIssue, callvault.EventRefuse, callvault.EventRevoke, callvault.EventDeny}

// msgTimeRange is 8x8's message for every startTime/endTime problem.
const msgTimeRange = "Provide both startTime and endTime within range of 31 days, with startTime less than endTime."

// auditMeta and auditItem are the Audit Records API's response shapes.
type auditMeta struct {
	TotalRecordCount int     `json:"totalRecordCount"`
	ScrollID         *string `json:"scrollId"`
}

type auditItem struct {
	ID              string  `json:"id"`
	DisplayName     string  `json:"displayName"`
	CustomerID      string  `json:"customerId"`
	AuditTimestamp  string  `json:"auditTimestamp"`
	EventType       string  `json:"eventType"`
	Service         string  `json:"service"`
	EntityType      string  `json:"entityType"`
	EntityKey       string  `json:"entityKey"`
	AuditUserID     string  `json:"auditUserId"`
	Impersonator    *string `json:"impersonator"`
	Details         *string `json:"details"`
	CorrelationType *string `json:"correlationType"`
	CorrelationID   *string `json:"correlationId"`
}

type auditResponse struct {
	Meta auditMeta   `json:"meta"`
	Data []auditItem `json:"data"`
}

// scroll is the position of a scroll: the last seq returned, the chain
// head when the scroll started (its snapshot, so records written
// meanwhile neither shift nor join the pages) and the canonical filter it
// was started with.
type scroll struct {
	After  int64  `json:"a"`
	Max    int64  `json:"m"`
	Filter string `json:"f"`
}

// timestampLayout is 8x8's auditTimestamp form, e.g.
// 2023-05-02T20:57:34.956+00:00.
const timestampLayout = "2006-01-02T15:04:05.000-07:00"

// handleAudits is GET /administration/audit/v1/audits.
func (f *Face) handleAudits(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	q := r.URL.Query()
	flt, key, err := auditFilter(q)
	if err != nil {
		return err
	}
	flt.TenantID = c.Tenant
	ctx := r.Context()
	if sid := strings.TrimSpace(q.Get("scrollId")); sid != "" {
		var cur scroll
		if err := f.s.OpenCursor(c.Tenant, scrollKind, sid, &cur); err != nil {
			return badRequest("Invalid scrollId", "scrollId "+strconv.Quote(sid)+": "+err.Error()+
				"; a scrollId is the meta.scrollId of this server's previous page of the same query (for this customer); leave it out for the first page")
		}
		if cur.Filter != key {
			return badRequest("Invalid scrollId", "this scrollId belongs to a query with other parameters; repeat the same startTime, endTime, service and filters with it")
		}
		flt.AfterSeq, flt.MaxSeq = cur.After, cur.Max
	} else {
		head, _, err := f.s.Store().AuditHead(ctx, c.Tenant)
		if err != nil {
			return err
		}
		flt.MaxSeq = head
	}
	resp := auditResponse{Data: []auditItem{}}
	if flt.MaxSeq > 0 {
		want := flt.Limit
		flt.Limit = want + 1
		recs, err := f.s.Store().AuditRecords(ctx, flt)
		if err != nil {
			return err
		}
		if len(recs) > want {
			recs = recs[:want]
			next, err := f.s.SignCursor(c.Tenant, scrollKind,
				scroll{After: recs[len(recs)-1].Seq, Max: flt.MaxSeq, Filter: key}, f.s.Now().Add(scrollTTL))
			if err != nil {
				return err
			}
			resp.Meta.ScrollID = &next
		}
		for _, rec := range recs {
			resp.Data = append(resp.Data, item(rec))
		}
	}
	resp.Meta.TotalRecordCount = len(resp.Data)
	if err := f.s.AuditRead(ctx, c, callvault.EventView, "audit", c.Tenant, "8x8 audit records query", nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// item is a record in 8x8's shape: absent optional fields are null.
func item(rec *callvault.AuditRecord) auditItem {
	null := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return auditItem{ID: rec.ID, DisplayName: rec.DisplayName, CustomerID: rec.TenantID,
		AuditTimestamp: rec.Timestamp.UTC().Format(timestampLayout), EventType: rec.EventType, Service: rec.Service,
		EntityType: rec.EntityType, EntityKey: rec.EntityKey, AuditUserID: rec.AuditUserID,
		Impersonator: null(rec.Impersonator), Details: null(rec.Details),
		CorrelationType: null(rec.CorrelationType), CorrelationID: null(rec.CorrelationID)}
}

// auditFilter validates the query as 8x8 does and returns the filter
// (without tenant and position) and its canonical key, which binds a
// scrollId to the query it continues.
func auditFilter(q url.Values) (callvault.AuditFilter, string, error) {
	var flt callvault.AuditFilter
	from, errFrom := parseAuditTime(q.Get("startTime"))
	to, errTo := parseAuditTime(q.Get("endTime"))
	const timeHint = "startTime and endTime are ISO 8601 times such as 2023-05-01T18:30:00.000Z (without a zone they are UTC), "
	switch {
	case q.Get("startTime") == "" || q.Get("endTime") == "":
		return flt, "", badRequest(msgTimeRange, timeHint+"and both are required")
	case errFrom != nil:
		return flt, "", badRequest(msgTimeRange, timeHint+"not startTime="+strconv.Quote(q.Get("startTime")))
	case errTo != nil:
		return flt, "", badRequest(msgTimeRange, timeHint+"not endTime="+strconv.Quote(q.Get("endTime")))
	case !from.Before(to):
		return flt, "", badRequest(msgTimeRange, "startTime ("+from.Format(time.RFC3339Nano)+") must be before endTime ("+to.Format(time.RFC3339Nano)+")")
	case to.Sub(from) > auditMaxWindow:
		return flt, "", badRequest(msgTimeRange, "startTime and endTime are "+to.Sub(from).String()+" apart, more than 31 days (744h0m0s); query the range in windows of at most 31 days")
	}
	// endTime is inclusive; the store's To is exclusive, to the microsecond.
	flt.From, flt.To = from, to.Add(time.Microsecond)

	flt.Services = list(q.Get("service"))
	if len(flt.Services) == 0 {
		return flt, "", badRequest("Required request parameter 'service' for method parameter type String is not present",
			"give service=platform (administrative changes), or one of callvault's further services: "+strings.Join(Services[1:], ", "))
	}
	for i, s := range flt.Services {
		flt.Services[i] = strings.ToLower(s)
		if !slices.Contains(Services, flt.Services[i]) {
			return flt, "", badRequest("Invalid service: "+s, "services are "+strings.Join(Services, ", "))
		}
	}
	flt.EventTypes = list(q.Get("eventTypes"))
	for i, e := range flt.EventTypes {
		flt.EventTypes[i] = strings.ToLower(e)
		if !slices.Contains(EventTypes, flt.EventTypes[i]) {
			return flt, "", badRequest("Invalid eventTypes: "+e, "event types are "+strings.Join(EventTypes, ", ")+" (any case, comma-separated)")
		}
	}
	flt.EntityTypes = list(q.Get("entityTypes"))
	for i, e := range flt.EntityTypes {
		flt.EntityTypes[i] = strings.ToLower(e)
	}
	flt.DisplayName = strings.TrimSpace(q.Get("displayName"))
	flt.AuditUserID = strings.TrimSpace(q.Get("auditUserId"))
	flt.Limit = auditDefaultSize
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > auditMaxSize {
			return flt, "", badRequest("Invalid size: "+v, "size must be an integer greater than zero and at most 100 (default 20)")
		}
		flt.Limit = n
	}
	key := url.Values{"from": {flt.From.Format(time.RFC3339Nano)}, "to": {flt.To.Format(time.RFC3339Nano)},
		"service": flt.Services, "eventTypes": flt.EventTypes, "entityTypes": flt.EntityTypes,
		"displayName": {flt.DisplayName}, "auditUserId": {flt.AuditUserID}}
	return flt, key.Encode(), nil
}

// parseAuditTime parses an ISO 8601 time; without a zone it is UTC.
func parseAuditTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", v)
}

// list splits a comma-separated list, trimming spaces and dropping empty
// items.
func list(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
