package eightbyeight

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Work Analytics limits.
const (
	cdrMaxPageSize = 7000
	cdrMaxParties  = 125
	cdrScanBatch   = 500
	cdrScrollKind  = "8x8.cdr"
	noData         = "No Data"
	localLayout    = "2006-01-02 15:04:05"
	wireLocal      = "2006-01-02T15:04:05.000-0700"
	cdrErrorCode   = "105-400-038"
	// legLookback is how long before startTime a call may have started
	// for its legs to be found: call legs are selected by their own
	// disconnect (or connect) time, which comes after the call's start.
	legLookback = 24 * time.Hour
)

// actCDRRoute is the route action of the CDR endpoints: analytics.read
// first, then actCDR on each PBX and the time range.
var actCDRRoute = access.Action{Name: "8x8.cdr.route", Permission: callvault.PermAnalyticsRead}

// actCDR reads call detail records: the gate of 8x8's error 105-400-038,
// a license including analytics, Analytics Supervisor access and the PBX
// (site) in the user's scope, then the tenant's retention.
var actCDR = access.Action{Name: "8x8.cdr.read", Permission: callvault.PermAnalyticsRead,
	Feature: callvault.ProductAnalytics, Product: callvault.ProductAnalytics, MinLevel: callvault.AccessSupervisor,
	SiteScoped: true, Retention: true}

// cdrError is the Work Analytics error body: 8x8's status, message and
// code, plus timestamp and path, and callvault's hint and request id.
type cdrError struct {
	Timestamp string `json:"timestamp"`
	Status    int    `json:"status"`
	Error     string `json:"error,omitempty"`
	Message   string `json:"message"`
	Code      string `json:"code,omitempty"`
	Path      string `json:"path"`
	Hint      string `json:"hint,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// gateError is a denial by the CDR gate, with 8x8's code and message.
type gateError struct {
	Status  int
	Code    string
	Message string
	Hint    string
}

func (e *gateError) Error() string { return e.Message }

// renderCDR writes err as a Work Analytics error body.
func renderCDR(w http.ResponseWriter, r *http.Request, err error) {
	body := cdrError{Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000-0700"), Path: r.URL.Path,
		RequestID: cvhttp.RequestID(r.Context())}
	var ge *gateError
	var ve *vendorError
	var denial *cvhttp.DenialError
	var authErr *cvhttp.AuthError
	switch {
	case errors.As(err, &ge):
		body.Status, body.Code, body.Message, body.Hint = ge.Status, ge.Code, ge.Message, ge.Hint
	case errors.As(err, &ve):
		body.Status, body.Message, body.Hint = ve.Status, ve.Message, ve.Hint
	case errors.As(err, &authErr):
		writeJSON(w, http.StatusUnauthorized, grantError{Error: "invalid_token", ErrorDescription: "Cannot convert access token to JSON",
			Hint: authErr.Reason + "; " + authErr.Hint, RequestID: body.RequestID})
		return
	case errors.As(err, &denial):
		d := denial.Decision
		if d.Layer == access.LayerCredential {
			writeJSON(w, http.StatusUnauthorized, grantError{Error: "invalid_token", ErrorDescription: "Access token expired: " + d.Reason,
				Hint: d.Hint, RequestID: body.RequestID})
			return
		}
		body.Status, body.Error, body.Message, body.Hint = http.StatusForbidden, "Access Denied", d.Reason, d.Hint
	default:
		switch callvault.ErrorCode(err) {
		case callvault.EInvalid:
			body.Status, body.Message = http.StatusBadRequest, err.Error()
		case callvault.EUnavailable:
			body.Status, body.Message = http.StatusServiceUnavailable, "Service Unavailable"
		default:
			body.Status, body.Message = http.StatusInternalServerError, "Internal Server Error"
		}
	}
	if body.Error == "" {
		body.Error = http.StatusText(body.Status)
	}
	writeJSON(w, body.Status, body)
}

// cdrMeta, cdrRecord and cdrLeg are the response shapes of the reference.
type cdrMeta struct {
	TotalRecordCount int    `json:"totalRecordCount"`
	ScrollID         string `json:"scrollId"`
}

type cdrResponse struct {
	Meta cdrMeta `json:"meta"`
	Data []any   `json:"data"`
}

type cdrRecord struct {
	CallID              string   `json:"callId"`
	DNIS                string   `json:"dnis"`
	AADestination       *string  `json:"aaDestination"`
	StartTimeUTC        int64    `json:"startTimeUTC"`
	StartTime           string   `json:"startTime"`
	ConnectTimeUTC      int64    `json:"connectTimeUTC"`
	ConnectTime         string   `json:"connectTime"`
	DisconnectedTimeUTC int64    `json:"disconnectedTimeUTC"`
	DisconnectedTime    string   `json:"disconnectedTime"`
	TalkTimeMS          int64    `json:"talkTimeMS"`
	Caller              string   `json:"caller"`
	CallerName          string   `json:"callerName"`
	Callee              string   `json:"callee"`
	CalleeName          string   `json:"calleeName"`
	Direction           string   `json:"direction"`
	CallerID            string   `json:"callerId"`
	Missed              string   `json:"missed"`
	Abandoned           string   `json:"abandoned"`
	Answered            string   `json:"answered"`
	PbxID               string   `json:"pbxId"`
	SipCallID           string   `json:"sipCallId"`
	LastLegDisposition  string   `json:"lastLegDisposition"`
	CallLegCount        int      `json:"callLegCount"`
	CallTime            int64    `json:"callTime"`
	RingDuration        int64    `json:"ringDuration"`
	WaitTimeMS          int64    `json:"waitTimeMS"`
	WaitTime            string   `json:"waitTime"`
	Departments         []string `json:"departments"`
	Branches            []string `json:"branches"`
}

type cdrLeg struct {
	CallID              string `json:"callId"`
	LegID               string `json:"legId"`
	LegType             string `json:"legType"`
	StartTimeUTC        int64  `json:"startTimeUTC"`
	StartTime           string `json:"startTime"`
	ConnectTimeUTC      int64  `json:"connectTimeUTC"`
	ConnectTime         string `json:"connectTime"`
	DisconnectedTimeUTC int64  `json:"disconnectedTimeUTC"`
	DisconnectedTime    string `json:"disconnectedTime"`
	CallTime            int64  `json:"callTime"`
	Caller              string `json:"caller"`
	CallerName          string `json:"callerName"`
	Callee              string `json:"callee"`
	CalleeName          string `json:"calleeName"`
	Direction           string `json:"direction"`
	Disposition         string `json:"disposition"`
	PbxID               string `json:"pbxId"`
}

// cdrScroll is a scroll position: after the record (Start, ID), pinned to
// the ingest snapshot, bound to the query, with the total of the first
// page. Done marks a scroll whose next answer is "No Data".
type cdrScroll struct {
	Start  time.Time `json:"s"`
	ID     string    `json:"i"`
	Max    int64     `json:"m"`
	Filter string    `json:"f"`
	Total  int       `json:"t"`
	Done   bool      `json:"d,omitempty"`
}

// cdrQuery is a validated call-records or call-legs request.
type cdrQuery struct {
	sites    []*callvault.Site
	names    []string // requested pbx names, for 8x8's message
	loc      *time.Location
	from, to time.Time
	size     int
	caller   []string
	callee   []string
	either   []string
	legs     bool
	// Call legs only: simplified omits forking, recording and monitoring
	// legs and child calls that never connected (isSimplified);
	// connectTime selects legs by their connect time instead of their
	// disconnect time (isConnectTime).
	simplified, connectTime bool
	key                     string
}

// handleCDR is GET /analytics/work/v2/call-records (legs false) and
// /v2/call-legs (legs true).
func (f *Face) handleCDR(legs bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		if _, app, ke := f.analyticsApp(r); ke != nil || app.ID != c.P.AppID {
			if ke == nil {
				ke = &keyError{Status: 400, Message: "Invalid 8x8-apikey", Code: "SHA001",
					Details: []keyDetail{{Type: "invalidValue", Location: "header", Path: []string{analyticsKeyHeader}, Hint: "Please provide valid apikey..."}},
					Hint:    "the 8x8-apikey is not the key of the app the bearer token was issued to", RequestID: c.RequestID}
			}
			writeJSON(w, ke.Status, ke)
			return nil
		}
		q, err := f.cdrQuery(r, c, legs)
		if err != nil {
			return err
		}
		if err := f.gate(r, c, q); err != nil {
			return err
		}
		return f.cdrPage(w, r, c, q)
	}
}

type handler = func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error

// cdrQuery validates the query parameters.
func (f *Face) cdrQuery(r *http.Request, c *cvhttp.Call, legs bool) (*cdrQuery, error) {
	v := r.URL.Query()
	q := &cdrQuery{legs: legs}
	pbx := strings.TrimSpace(v.Get("pbxId"))
	if pbx == "" {
		return nil, badRequest("Required parameter pbxId is missing", "give pbxId: one PBX (site) id or name, a comma-separated list, or allpbxes")
	}
	all, err := f.s.Store().Sites(r.Context(), c.Tenant)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(pbx, "allpbxes") {
		q.names = []string{"allpbxes"}
		for _, s := range all {
			if len(c.P.SiteScope) == 0 || slices.Contains(c.P.SiteScope, s.ID) {
				q.sites = append(q.sites, s)
			}
		}
	} else {
		for _, id := range list(pbx) {
			i := slices.IndexFunc(all, func(s *callvault.Site) bool { return s.ID == id || strings.EqualFold(s.Name, id) })
			if i < 0 {
				// An unknown PBX is answered like one outside the scope.
				return nil, f.gateDenied(c, []string{id}, "no PBX "+strconv.Quote(id)+" that this user may read in this customer; pbxId is a site id or name, or allpbxes")
			}
			q.sites = append(q.sites, all[i])
			q.names = append(q.names, all[i].Name)
		}
	}
	tz := strings.TrimSpace(v.Get("timeZone"))
	if tz == "" {
		return nil, badRequest("Required parameter timeZone is missing", "give timeZone as an IANA zone such as America/New_York or UTC")
	}
	if q.loc, err = time.LoadLocation(tz); err != nil {
		return nil, badRequest("Invalid timeZone: "+tz, "timeZone is an IANA zone such as America/New_York or UTC")
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"startTime", &q.from}, {"endTime", &q.to}} {
		s := strings.TrimSpace(v.Get(p.name))
		if s == "" {
			return nil, badRequest("Required parameter "+p.name+" is missing", p.name+" is YYYY-MM-DD HH:MM:SS local to timeZone")
		}
		t, err := time.ParseInLocation(localLayout, s, q.loc)
		if err != nil {
			return nil, badRequest("Invalid "+p.name+": "+s, p.name+" is YYYY-MM-DD HH:MM:SS local to timeZone, e.g. 2022-02-03 09:00:00")
		}
		*p.t = t
	}
	if !q.from.Before(q.to) {
		return nil, badRequest("startTime must be before endTime", "startTime and endTime are local to timeZone "+tz)
	}
	ps := strings.TrimSpace(v.Get("pageSize"))
	if ps == "" {
		return nil, badRequest("Required parameter pageSize is missing", "give pageSize from 1 to 7000")
	}
	if q.size, err = strconv.Atoi(ps); err != nil || q.size < 1 || q.size > cdrMaxPageSize {
		return nil, badRequest("Invalid pageSize: "+ps, "pageSize is from 1 to 7000")
	}
	q.caller, q.callee, q.either = list(v.Get("caller")), list(v.Get("callee")), list(v.Get("callerOrCallee"))
	if len(q.either) > 0 && (len(q.caller) > 0 || len(q.callee) > 0) {
		return nil, badRequest("callerOrCallee cannot be combined with caller or callee", "use callerOrCallee alone, or caller and/or callee")
	}
	for name, l := range map[string][]string{"caller": q.caller, "callee": q.callee, "callerOrCallee": q.either} {
		if len(l) > cdrMaxParties {
			return nil, badRequest(fmt.Sprintf("%s accepts at most %d extensions", name, cdrMaxParties), fmt.Sprintf("%s has %d; split the query", name, len(l)))
		}
	}
	if legs {
		// isSimplified and isConnectTime apply to call legs only; on call
		// records they are ignored, as 8x8 documents them "not valid" there.
		if q.simplified, err = boolParam(v, "isSimplified"); err != nil {
			return nil, err
		}
		if q.connectTime, err = boolParam(v, "isConnectTime"); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(q.sites))
	for i, s := range q.sites {
		ids[i] = s.ID
	}
	q.key = strings.Join([]string{strings.Join(ids, ","), q.from.UTC().Format(time.RFC3339), q.to.UTC().Format(time.RFC3339),
		strings.Join(q.caller, ","), strings.Join(q.callee, ","), strings.Join(q.either, ","), strconv.FormatBool(legs),
		strconv.FormatBool(q.simplified), strconv.FormatBool(q.connectTime)}, "|")
	return q, nil
}

// boolParam reads an optional boolean query parameter: true or false in
// any case; absent or empty is false (8x8's default).
func boolParam(v map[string][]string, name string) (bool, error) {
	vals := v[name]
	if len(vals) == 0 {
		return false, nil
	}
	s := strings.TrimSpace(vals[0])
	switch {
	case s == "", strings.EqualFold(s, "false"):
		return false, nil
	case strings.EqualFold(s, "true"):
		return true, nil
	}
	return false, badRequest("Invalid "+name+": "+vals[0], name+" is true or false (default false)")
}

// gateDenied is 8x8's 105-400-038 with callvault's hint.
func (f *Face) gateDenied(c *cvhttp.Call, names []string, hint string) error {
	user := c.P.UserID
	if c.P.UserLogin != "" {
		user = c.P.UserLogin
	}
	return &gateError{Status: http.StatusBadRequest, Code: cdrErrorCode,
		Message: "user(" + user + ") does not have access to api category(CDR) for pbxId([" + strings.Join(names, ", ") + "]).", Hint: hint}
}

// gate asks the engine about actCDR for every PBX of the query (once,
// without a site, for an allpbxes query with no site): a product denial
// is 8x8's 105-400-038 naming the license, access level or PBX to fix; a
// window denial says the data is older than the tenant's retention.
func (f *Face) gate(r *http.Request, c *cvhttp.Call, q *cdrQuery) error {
	res := []access.Resource{{From: q.from, To: q.to}}
	if len(q.sites) > 0 {
		res = res[:0]
		for _, s := range q.sites {
			res = append(res, access.Resource{SiteID: s.ID, SiteName: s.Name, From: q.from, To: q.to})
		}
	}
	for _, rs := range res {
		err := f.s.Decide(r, c, actCDR, rs)
		var denial *cvhttp.DenialError
		if !errors.As(err, &denial) {
			if err != nil {
				return err
			}
			continue
		}
		d := denial.Decision
		switch d.Layer {
		case access.LayerProduct:
			names := q.names
			if d.Missing.Kind == access.MissingSite {
				names = []string{rs.SiteName}
			}
			return f.gateDenied(c, names, "missing "+missingName(d.Missing.Kind)+": "+d.Reason+" "+d.Hint)
		case access.LayerWindow:
			return &gateError{Status: http.StatusBadRequest, Code: "105-400-039",
				Message: "Data older than the customer's retention period is not available.", Hint: d.Reason + " " + d.Hint}
		}
		return err
	}
	return nil
}

// missingName names the gate's three requirements in the hint.
func missingName(kind string) string {
	switch kind {
	case access.MissingLicense:
		return "license (a license that includes analytics)"
	case access.MissingAccessLevel:
		return "access level (Analytics: Supervisor)"
	case access.MissingSite:
		return "PBX scope (the PBX in the user's site scope)"
	}
	return kind
}

// match reports whether a record passes the caller/callee filters.
func (q *cdrQuery) match(rec *callvault.CallRecord) bool {
	in := func(l []string, p callvault.Party) bool {
		return slices.Contains(l, p.ExtensionNumber) || (p.PhoneNumber != "" && slices.Contains(l, p.PhoneNumber))
	}
	if len(q.either) > 0 {
		return in(q.either, rec.From) || in(q.either, rec.To)
	}
	return (len(q.caller) == 0 || in(q.caller, rec.From)) && (len(q.callee) == 0 || in(q.callee, rec.To))
}

// scan calls fn for each matching record after pos, in the store's order,
// reading cdrScanBatch records at a time, until fn returns false.
func (f *Face) scan(r *http.Request, c *cvhttp.Call, q *cdrQuery, max int64, after *callvault.CallCursor, fn func(*callvault.CallRecord) bool) error {
	from := q.from
	if q.legs {
		from = from.Add(-legLookback)
	}
	flt := callvault.CallFilter{TenantID: c.Tenant, From: from, To: q.to, MaxIngestSeq: max, After: after, Limit: cdrScanBatch}
	for _, s := range q.sites {
		flt.SiteIDs = append(flt.SiteIDs, s.ID)
	}
	for {
		recs, err := f.s.Store().Calls(r.Context(), flt)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if q.match(rec) && !fn(rec) {
				return nil
			}
		}
		if len(recs) < flt.Limit {
			return nil
		}
		last := recs[len(recs)-1]
		flt.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
	}
}

// cdrPage answers one page.
func (f *Face) cdrPage(w http.ResponseWriter, r *http.Request, c *cvhttp.Call, q *cdrQuery) error {
	kind := cdrScrollKind
	var cur cdrScroll
	if sid := strings.TrimSpace(r.URL.Query().Get("scrollId")); sid != "" {
		if err := f.s.OpenCursor(c.Tenant, kind, sid, &cur); err != nil || cur.Filter != q.key {
			hint := "this scrollId belongs to another query; repeat the same parameters with it"
			if err != nil {
				hint = err.Error()
			}
			return badRequest("Invalid scrollId", hint+"; leave scrollId out for the first page")
		}
	} else {
		head, err := f.s.Store().CallIngestHead(r.Context(), c.Tenant)
		if err != nil {
			return err
		}
		cur = cdrScroll{Max: head, Filter: q.key}
		if head == 0 {
			cur.Done = true
		} else if err := f.scan(r, c, q, head, nil, func(rec *callvault.CallRecord) bool {
			if q.legs {
				cur.Total += len(q.legsOf(rec))
			} else {
				cur.Total++
			}
			return true
		}); err != nil {
			return err
		}
	}
	resp := cdrResponse{Meta: cdrMeta{ScrollID: noData}, Data: []any{}}
	if !cur.Done && cur.Total > 0 {
		var after *callvault.CallCursor
		if cur.ID != "" {
			after = &callvault.CallCursor{Start: cur.Start, ID: cur.ID}
		}
		more := false
		var last *callvault.CallRecord
		sites := map[string]string{}
		for _, s := range q.sites {
			sites[s.ID] = s.Name
		}
		err := f.scan(r, c, q, cur.Max, after, func(rec *callvault.CallRecord) bool {
			items := f.items(rec, q, sites[rec.SiteID])
			if len(resp.Data) > 0 && len(resp.Data)+len(items) > q.size {
				more = true
				return false
			}
			resp.Data = append(resp.Data, items...)
			last = rec
			return true
		})
		if err != nil {
			return err
		}
		next := cdrScroll{Max: cur.Max, Filter: q.key, Total: cur.Total, Done: !more}
		if last != nil {
			next.Start, next.ID = last.Start, last.ID
		}
		sid, err := f.s.SignCursor(c.Tenant, kind, next, f.s.Now().Add(scrollTTL))
		if err != nil {
			return err
		}
		resp.Meta = cdrMeta{TotalRecordCount: cur.Total, ScrollID: sid}
		if len(resp.Data) == 0 {
			resp.Meta = cdrMeta{ScrollID: noData}
		}
	}
	if err := f.s.AuditRead(r.Context(), c, callvault.EventView, "calls", c.Tenant, "8x8 work analytics call records",
		map[string]any{"from": q.from, "to": q.to, "count": len(resp.Data)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// items renders a record as one call record, or as its legs.
func (f *Face) items(rec *callvault.CallRecord, q *cdrQuery, pbx string) []any {
	loc := q.loc
	local := func(t time.Time) string {
		if t.IsZero() {
			return "0"
		}
		return t.In(loc).Format(wireLocal)
	}
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	num := func(p callvault.Party) string {
		if p.ExtensionNumber != "" {
			return p.ExtensionNumber
		}
		return p.PhoneNumber
	}
	dir := func(d string) string {
		switch d {
		case callvault.DirectionInbound:
			return "Incoming"
		case callvault.DirectionOutbound:
			return "Outgoing"
		}
		return d
	}
	if q.legs {
		legs := q.legsOf(rec)
		out := make([]any, len(legs))
		for i, l := range legs {
			out[i] = cdrLeg{CallID: rec.ID, LegID: rec.ID + "-" + strconv.Itoa(l.n), LegType: l.LegType,
				StartTimeUTC: ms(l.Start), StartTime: local(l.Start), ConnectTimeUTC: ms(l.connect), ConnectTime: local(l.connect),
				DisconnectedTimeUTC: ms(l.end), DisconnectedTime: local(l.end),
				CallTime: l.DurationMs, Caller: num(l.From), CallerName: l.From.Name, Callee: num(l.To), CalleeName: l.To.Name,
				Direction: dir(l.Direction), Disposition: l.Result, PbxID: pbx}
		}
		return out
	}
	answered, missed := "-", "-"
	if !rec.Answer.IsZero() {
		answered = "Answered"
	} else if rec.Direction == callvault.DirectionInbound {
		missed = "Missed"
	}
	ringEnd := rec.Answer
	if ringEnd.IsZero() {
		ringEnd = rec.End
	}
	var ring int64
	if !ringEnd.IsZero() {
		ring = int64(ringEnd.Sub(rec.Start) / time.Second)
	}
	callerID := num(rec.From)
	if rec.From.Name != "" {
		callerID = rec.From.Name + "," + callerID
	}
	branches := []string{}
	if pbx != "" {
		branches = append(branches, pbx)
	}
	return []any{cdrRecord{CallID: rec.ID, DNIS: rec.To.PhoneNumber, StartTimeUTC: ms(rec.Start), StartTime: local(rec.Start),
		ConnectTimeUTC: ms(rec.Answer), ConnectTime: local(rec.Answer), DisconnectedTimeUTC: ms(rec.End), DisconnectedTime: local(rec.End),
		TalkTimeMS: rec.TalkMs, Caller: num(rec.From), CallerName: rec.From.Name, Callee: num(rec.To), CalleeName: rec.To.Name,
		Direction: dir(rec.Direction), CallerID: callerID, Missed: missed, Abandoned: "-", Answered: answered, PbxID: pbx,
		SipCallID: rec.SessionID, LastLegDisposition: rec.Result, CallLegCount: max(len(rec.Legs), 1), CallTime: rec.DurationMs,
		RingDuration: ring, WaitTime: "00:00:00", Departments: []string{}, Branches: branches}}
}

// leg is a call leg with its number in the call (1-based, stable whatever
// isSimplified omits) and its connect and disconnect times.
type leg struct {
	callvault.Leg
	n            int
	connect, end time.Time
}

// legsOf returns the legs of rec that the call-legs query returns: all of
// them (a record without legs has one master leg mirroring it), or with
// isSimplified only those a simplified view keeps; then those whose
// disconnect time, or with isConnectTime whose connect time, is in
// [startTime, endTime). A leg that never connected has no connect time,
// so isConnectTime never returns it.
func (q *cdrQuery) legsOf(rec *callvault.CallRecord) []leg {
	legs := rec.Legs
	if len(legs) == 0 {
		legs = []callvault.Leg{{LegType: "Accept", Master: true, Direction: rec.Direction, Result: rec.Result, From: rec.From, To: rec.To,
			Start: rec.Start, DurationMs: rec.DurationMs}}
	}
	var out []leg
	for i, l := range legs {
		if q.simplified && !simple(l) {
			continue
		}
		lg := leg{Leg: l, n: i + 1, end: l.Start.Add(time.Duration(l.DurationMs) * time.Millisecond)}
		switch {
		case l.Master && !rec.Answer.IsZero():
			lg.connect = rec.Answer
		case l.Result == callvault.ResultAccepted:
			lg.connect = l.Start
		}
		at := lg.end
		if q.connectTime {
			at = lg.connect
		}
		if at.IsZero() || at.Before(q.from) || !at.Before(q.to) {
			continue
		}
		out = append(out, lg)
	}
	return out
}

// simple reports whether isSimplified keeps a leg: the master leg always;
// never a call-forking, recording or monitoring leg; otherwise a leg that
// connected (the conversation, a transfer, the member who answered), not a
// child call that only rang (a find-me, queue or ring-group member who did
// not answer).
func simple(l callvault.Leg) bool {
	if l.Master {
		return true
	}
	t := strings.ToLower(l.LegType)
	for _, w := range []string{"fork", "record", "monitor"} {
		if strings.Contains(t, w) {
			return false
		}
	}
	return l.Result == callvault.ResultAccepted
}
