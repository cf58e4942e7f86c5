package ringcentral

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Wire shapes of the Call Log API.
type (
	party struct {
		PhoneNumber     string `json:"phoneNumber,omitempty"`
		ExtensionNumber string `json:"extensionNumber,omitempty"`
		ExtensionID     string `json:"extensionId,omitempty"`
		Name            string `json:"name,omitempty"`
	}
	ref struct {
		ID  string `json:"id"`
		URI string `json:"uri"`
	}
	recordingRef struct {
		URI        string `json:"uri"`
		ID         string `json:"id"`
		Type       string `json:"type"`
		ContentURI string `json:"contentUri"`
	}
	leg struct {
		StartTime  string `json:"startTime"`
		Duration   int64  `json:"duration"`
		DurationMs int64  `json:"durationMs"`
		Type       string `json:"type"`
		Direction  string `json:"direction"`
		Action     string `json:"action"`
		Result     string `json:"result"`
		Transport  string `json:"transport,omitempty"`
		From       party  `json:"from"`
		To         party  `json:"to"`
		LegType    string `json:"legType"`
		Master     bool   `json:"master"`
	}
	record struct {
		URI                string        `json:"uri"`
		ID                 string        `json:"id"`
		SessionID          string        `json:"sessionId,omitempty"`
		TelephonySessionID string        `json:"telephonySessionId,omitempty"`
		StartTime          string        `json:"startTime"`
		Duration           int64         `json:"duration"`
		DurationMs         int64         `json:"durationMs"`
		Type               string        `json:"type"`
		Direction          string        `json:"direction"`
		Action             string        `json:"action"`
		Result             string        `json:"result"`
		Transport          string        `json:"transport,omitempty"`
		From               party         `json:"from"`
		To                 party         `json:"to"`
		Extension          *ref          `json:"extension,omitempty"`
		Recording          *recordingRef `json:"recording,omitempty"`
		Deleted            bool          `json:"deleted"`
		LastModifiedTime   string        `json:"lastModifiedTime,omitempty"`
		Legs               []leg         `json:"legs,omitempty"`
	}
	pageURI struct {
		URI string `json:"uri"`
	}
	paging struct {
		Page      int  `json:"page"`
		PerPage   int  `json:"perPage"`
		PageStart *int `json:"pageStart,omitempty"`
		PageEnd   *int `json:"pageEnd,omitempty"`
	}
	navigation struct {
		FirstPage    *pageURI `json:"firstPage,omitempty"`
		NextPage     *pageURI `json:"nextPage,omitempty"`
		PreviousPage *pageURI `json:"previousPage,omitempty"`
	}
	listResponse struct {
		URI        string     `json:"uri"`
		Records    []*record  `json:"records"`
		Paging     paging     `json:"paging"`
		Navigation navigation `json:"navigation"`
	}
)

func rcTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// target is the account and extension a request names, resolved.
type target struct {
	tenant string
	user   *callvault.User // nil for account-wide requests
	owner  string          // the owner extension the engine is asked about
}

// resolve reads {extensionId} ("~" is the token's user) for extension
// routes; account routes read the whole account. An unknown extension is
// answered like another extension the caller may not read (see hide).
func (f *Face) resolve(ctx context.Context, r *http.Request, c *cvhttp.Call, a access.Action, extension bool) (*target, error) {
	t := &target{tenant: c.Tenant, owner: accountOwner}
	if !extension {
		return t, nil
	}
	id := r.PathValue("extensionId")
	if id == "~" {
		if c.P.UserID == "" || c.P.TenantID != c.Tenant {
			return nil, f.hide(r, c, a, notFound("extensionId", id))
		}
		id = c.P.UserID
	}
	u, err := f.s.Store().User(ctx, c.Tenant, id)
	if callvault.IsNotFound(err) {
		return nil, f.hide(r, c, a, notFound("extensionId", r.PathValue("extensionId")))
	}
	if err != nil {
		return nil, err
	}
	t.user = u
	t.owner = u.Extension
	if t.owner == "" {
		t.owner = "(no extension)"
	}
	return t, nil
}

// owner is the owner extension the engine is asked about: the caller's
// own extension as is, any other as accountOwner. Reading another
// extension's data needs FullCompanyCallLog whichever extension it is,
// and the denial (its hint included) must read the same whether that
// extension, or the object named, exists or not.
func owner(c *cvhttp.Call, ext string) string {
	if ext != "" && c.P.Extension != "" && ext == c.P.Extension {
		return ext
	}
	return accountOwner
}

// hide answers a missing object (notFound) as the engine would answer an
// existing object of another extension: a caller who may not read other
// extensions' data gets that denial, so the answer does not reveal
// whether the object exists; others get notFound.
func (f *Face) hide(r *http.Request, c *cvhttp.Call, a access.Action, notFound error) error {
	if err := f.s.Decide(r, c, a, access.Resource{OwnerExtension: accountOwner}); err != nil {
		return err
	}
	return notFound
}

// query is a parsed call-log request.
type query struct {
	f             callvault.CallFilter
	detailed      bool
	transports    []string
	recordingType string
	page, perPage int
	showDeleted   bool
}

// multi returns the values of a multi-valued parameter: repeated keys,
// and comma-separated lists too.
func multi(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func enum(q url.Values, key string, allowed ...string) ([]string, error) {
	var out []string
	for _, v := range multi(q, key) {
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, v) })
		if i < 0 {
			return nil, invalidParam(key, v, key+" must be one of "+strings.Join(allowed, ", "))
		}
		if !slices.Contains(out, allowed[i]) {
			out = append(out, allowed[i])
		}
	}
	return out, nil
}

func parseTime(q url.Values, key string) (time.Time, error) {
	v := q.Get(key)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalidParam(key, v, key+" must be an ISO 8601 time with a time zone, such as 2026-01-02T15:04:05.000Z")
}

func parseBool(q url.Values, key string) (*bool, error) {
	v := q.Get(key)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, invalidParam(key, v, key+" must be true or false")
	}
	return &b, nil
}

// parsePaging reads page (>= 1) and perPage (1..1000 or max; above 1000
// is clamped).
func parsePaging(q url.Values) (page, perPage int, err error) {
	page, perPage = 1, 100
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return 0, 0, invalidParam("page", v, "page must be an integer of at least 1")
		}
	}
	if v := q.Get("perPage"); v != "" {
		if strings.EqualFold(v, "max") {
			perPage = 1000
		} else if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 {
			return 0, 0, invalidParam("perPage", v, "perPage must be an integer from 1 to 1000, or max")
		}
		perPage = min(perPage, 1000)
	}
	return page, perPage, nil
}

// parseQuery reads the call-log parameters of the reference.
func (f *Face) parseQuery(r *http.Request, c *cvhttp.Call) (*query, error) {
	q := r.URL.Query()
	cq := &query{f: callvault.CallFilter{TenantID: c.Tenant}}
	var err error
	if cq.f.From, err = parseTime(q, "dateFrom"); err != nil {
		return nil, err
	}
	if cq.f.To, err = parseTime(q, "dateTo"); err != nil {
		return nil, err
	}
	if cq.f.To.IsZero() {
		cq.f.To = f.s.Now().UTC().Truncate(time.Millisecond)
	}
	if cq.f.From.IsZero() {
		cq.f.From = cq.f.To.Add(-24 * time.Hour)
	}
	if !cq.f.From.Before(cq.f.To) {
		return nil, invalidParam("dateFrom", q.Get("dateFrom"), "dateFrom must be before dateTo")
	}
	switch v := q.Get("view"); {
	case v == "" || strings.EqualFold(v, "Simple"):
	case strings.EqualFold(v, "Detailed"):
		cq.detailed = true
	default:
		return nil, invalidParam("view", v, "view must be Simple or Detailed")
	}
	if cq.f.Types, err = enum(q, "type", callvault.CallVoice, callvault.CallFax); err != nil {
		return nil, err
	}
	if cq.f.Directions, err = enum(q, "direction", callvault.DirectionInbound, callvault.DirectionOutbound); err != nil {
		return nil, err
	}
	if cq.transports, err = enum(q, "transport", callvault.TransportPSTN, callvault.TransportVoIP); err != nil {
		return nil, err
	}
	rt, err := enum(q, "recordingType", "Automatic", "OnDemand", "All")
	if err != nil {
		return nil, err
	}
	if len(rt) > 0 {
		cq.recordingType = rt[0]
		yes := true
		cq.f.HasRecording = &yes
	} else if b, err := parseBool(q, "withRecording"); err != nil {
		return nil, err
	} else {
		cq.f.HasRecording = b
	}
	pn, en, sid := q.Get("phoneNumber"), q.Get("extensionNumber"), q.Get("sessionId")
	if sid != "" && en != "" {
		return nil, &vendorError{Status: http.StatusBadRequest, Code: "CLG-110",
			Message: "Parameter [sessionId] is not allowed for usage along with parameter [extensionNumber]", Param: "sessionId", Value: sid,
			Hint: "a session id names one call already; drop extensionNumber (or sessionId)"}
	}
	if pn != "" && en != "" {
		return nil, &vendorError{Status: http.StatusBadRequest, Code: "CLG-110",
			Message: "Parameter [phoneNumber] is not allowed for usage along with parameter [extensionNumber]", Param: "phoneNumber", Value: pn,
			Hint: "filter by phoneNumber or by extensionNumber, not both"}
	}
	if pn != "" {
		cq.f.PhoneNumber = "+" + strings.TrimPrefix(pn, "+")
	}
	cq.f.Extension = en
	cq.f.SessionID = sid
	cq.f.TelephonySessionID = q.Get("telephonySessionId")
	if _, err := parseBool(q, "showBlocked"); err != nil {
		return nil, err
	}
	if b, err := parseBool(q, "showDeleted"); err != nil {
		return nil, err
	} else if b != nil {
		cq.showDeleted = *b
	}
	if cq.page, cq.perPage, err = parsePaging(q); err != nil {
		return nil, err
	}
	return cq, nil
}

// scanBatch is how many records one store read returns while paging.
const scanBatch = 500

// handleCallLog is GET .../call-log (account or extension): the engine
// decides the owner (account-wide or another extension's log needs
// FullCompanyCallLog) and the date range (retention); the records are
// read a batch at a time, skipping earlier pages, so memory is bounded by
// one page plus one batch.
func (f *Face) handleCallLog(extension bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		ctx := r.Context()
		cq, err := f.parseQuery(r, c)
		if err != nil {
			return err
		}
		t, err := f.resolve(ctx, r, c, actCallLog, extension)
		if err != nil {
			return err
		}
		ownerExt := t.owner
		if !extension && cq.f.Extension != "" {
			ownerExt = cq.f.Extension
		}
		res := access.Resource{OwnerExtension: owner(c, ownerExt), From: cq.f.From, To: cq.f.To}
		if err := f.s.Decide(r, c, actCallLog, res); err != nil {
			return err
		}
		if t.user != nil {
			cq.f.Extension = t.user.Extension
		}
		if c.P.Kind == callvault.SubjectUser && len(c.P.SiteScope) > 0 {
			cq.f.SiteIDs = slices.Clone(c.P.SiteScope)
		}
		skip := (cq.page - 1) * cq.perPage
		var out []*record
		more := false
		names := f.extensionIDs(ctx, c.Tenant)
		if t.user == nil || t.user.Extension != "" {
			fl := cq.f
			fl.Limit = scanBatch
		scan:
			for {
				recs, err := f.s.Store().Calls(ctx, fl)
				if err != nil {
					return err
				}
				for _, rec := range recs {
					ok, err := f.matches(ctx, cq, rec)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
					if skip > 0 {
						skip--
						continue
					}
					if len(out) == cq.perPage {
						more = true
						break scan
					}
					out = append(out, f.record(ctx, r, c.Tenant, rec, cq.detailed, names))
				}
				if len(recs) < fl.Limit {
					break
				}
				last := recs[len(recs)-1]
				fl.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
			}
		}
		if err := f.s.AuditRead(ctx, c, callvault.EventView, "calls", "", "call log (RingCentral)",
			map[string]any{"from": cq.f.From, "to": cq.f.To, "owner": ownerExt, "page": cq.page, "count": len(out)}); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, f.list(r, cq, out, more))
		return nil
	}
}

// matches applies the filters the store does not: transport, the
// recording's type, deleted records (callvault deletes none).
func (f *Face) matches(ctx context.Context, cq *query, rec *callvault.CallRecord) (bool, error) {
	if len(cq.transports) > 0 && !slices.Contains(cq.transports, rec.Transport) {
		return false, nil
	}
	if cq.recordingType == "Automatic" || cq.recordingType == "OnDemand" {
		if len(rec.RecordingIDs) == 0 {
			return false, nil
		}
		rg, err := f.s.Store().Recording(ctx, rec.TenantID, rec.RecordingIDs[0])
		if callvault.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return rg.Type == cq.recordingType, nil
	}
	return true, nil
}

// extensionIDs maps extension numbers to user ids, for the records'
// extension references.
func (f *Face) extensionIDs(ctx context.Context, tenant string) map[string]string {
	m := map[string]string{}
	users, err := f.s.Store().Users(ctx, tenant)
	if err != nil {
		return m
	}
	for _, u := range users {
		if u.Extension != "" {
			m[u.Extension] = u.ID
		}
	}
	return m
}

// list builds the response body: the request's URI, paging and navigation
// with absolute URIs from the public base URL (dateFrom and dateTo pinned,
// so following them reads the same range).
func (f *Face) list(r *http.Request, cq *query, out []*record, more bool) listResponse {
	if out == nil {
		out = []*record{}
	}
	q := r.URL.Query()
	q.Del("access_token")
	q.Set("dateFrom", rcTime(cq.f.From))
	q.Set("dateTo", rcTime(cq.f.To))
	q.Set("perPage", strconv.Itoa(cq.perPage))
	at := func(page int) *pageURI {
		q.Set("page", strconv.Itoa(page))
		return &pageURI{URI: f.s.BaseURL() + r.URL.Path + "?" + q.Encode()}
	}
	resp := listResponse{Records: out, Paging: paging{Page: cq.page, PerPage: cq.perPage}}
	resp.URI = at(cq.page).URI
	resp.Navigation.FirstPage = at(1)
	if more {
		resp.Navigation.NextPage = at(cq.page + 1)
	}
	if cq.page > 1 {
		resp.Navigation.PreviousPage = at(cq.page - 1)
	}
	if len(out) > 0 {
		start := (cq.page - 1) * cq.perPage
		end := start + len(out) - 1
		resp.Paging.PageStart, resp.Paging.PageEnd = &start, &end
	}
	return resp
}

func toParty(p callvault.Party) party {
	return party{PhoneNumber: p.PhoneNumber, ExtensionNumber: p.ExtensionNumber, ExtensionID: p.ExtensionID, Name: p.Name}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// record renders a call record in RingCentral's shape.
func (f *Face) record(ctx context.Context, r *http.Request, tenant string, rec *callvault.CallRecord, detailed bool, ext map[string]string) *record {
	base := f.s.BaseURL() + "/restapi/v1.0/account/" + url.PathEscape(tenant)
	view := "Simple"
	if detailed {
		view = "Detailed"
	}
	out := &record{URI: base + "/call-log/" + url.PathEscape(rec.ID) + "?view=" + view, ID: rec.ID,
		SessionID: rec.SessionID, TelephonySessionID: rec.TelephonySessionID, StartTime: rcTime(rec.Start),
		Duration: (rec.DurationMs + 500) / 1000, DurationMs: rec.DurationMs, Type: orDefault(rec.Type, callvault.CallVoice),
		Direction: rec.Direction, Action: orDefault(rec.Action, "Phone Call"), Result: rec.Result, Transport: rec.Transport,
		From: toParty(rec.From), To: toParty(rec.To)}
	if id, ok := ext[rec.Extension]; ok {
		out.Extension = &ref{ID: id, URI: base + "/extension/" + url.PathEscape(id)}
	}
	if len(rec.RecordingIDs) > 0 {
		id := rec.RecordingIDs[0]
		typ := "Automatic"
		if rg, err := f.s.Store().Recording(ctx, tenant, id); err == nil && rg.Type != "" {
			typ = rg.Type
		}
		out.Recording = &recordingRef{URI: base + "/recording/" + url.PathEscape(id), ID: id, Type: typ,
			ContentURI: base + "/recording/" + url.PathEscape(id) + "/content"}
	}
	if detailed {
		out.LastModifiedTime = rcTime(rec.IngestedAt)
		for _, l := range rec.Legs {
			out.Legs = append(out.Legs, leg{StartTime: rcTime(l.Start), Duration: (l.DurationMs + 500) / 1000, DurationMs: l.DurationMs,
				Type: out.Type, Direction: l.Direction, Action: orDefault(l.Action, out.Action), Result: l.Result, Transport: l.Transport,
				From: toParty(l.From), To: toParty(l.To), LegType: l.LegType, Master: l.Master})
		}
	}
	return out
}

// handleCallRecord is GET .../call-log/{callRecordId}: one record, decided
// on its owner, site and start; on an extension route it must be that
// extension's.
func (f *Face) handleCallRecord(extension bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		ctx := r.Context()
		t, err := f.resolve(ctx, r, c, actCallLog, extension)
		if err != nil {
			return err
		}
		id := r.PathValue("callRecordId")
		rec, err := f.s.Store().Call(ctx, c.Tenant, id)
		if callvault.IsNotFound(err) || (err == nil && t.user != nil && rec.Extension != t.user.Extension) {
			return f.hide(r, c, actCallLog, notFound("callRecordId", id))
		}
		if err != nil {
			return err
		}
		if err := f.decideRecord(r, c, actCallLog, rec); err != nil {
			return err
		}
		if err := f.s.AuditRead(ctx, c, callvault.EventView, "call", rec.ID, "call record (RingCentral)", nil); err != nil {
			return err
		}
		detailed := strings.EqualFold(r.URL.Query().Get("view"), "Detailed")
		writeJSON(w, http.StatusOK, f.record(ctx, r, c.Tenant, rec, detailed, f.extensionIDs(ctx, c.Tenant)))
		return nil
	}
}

// decideRecord asks the engine about a on one call record.
func (f *Face) decideRecord(r *http.Request, c *cvhttp.Call, a access.Action, rec *callvault.CallRecord) error {
	return f.s.Decide(r, c, a, access.Resource{OwnerExtension: owner(c, rec.Extension), SiteID: rec.SiteID, From: rec.Start})
}

// handleActiveCalls is GET .../active-calls: live calls newest first, in
// the call-log shape, paged.
func (f *Face) handleActiveCalls(extension bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		ctx := r.Context()
		q := r.URL.Query()
		t, err := f.resolve(ctx, r, c, actActiveCalls, extension)
		if err != nil {
			return err
		}
		if err := f.s.Decide(r, c, actActiveCalls, access.Resource{OwnerExtension: owner(c, t.owner)}); err != nil {
			return err
		}
		dirs, err := enum(q, "direction", callvault.DirectionInbound, callvault.DirectionOutbound)
		if err != nil {
			return err
		}
		types, err := enum(q, "type", callvault.CallVoice, callvault.CallFax)
		if err != nil {
			return err
		}
		if _, err := enum(q, "view", "Simple", "Detailed"); err != nil {
			return err
		}
		page, perPage, err := parsePaging(q)
		if err != nil {
			return err
		}
		all, err := f.s.Store().ActiveCalls(ctx, c.Tenant)
		if err != nil {
			return err
		}
		slices.Reverse(all) // newest first
		sites := c.P.SiteScope
		now := f.s.Now()
		ext := f.extensionIDs(ctx, c.Tenant)
		base := f.s.BaseURL() + "/restapi/v1.0/account/" + url.PathEscape(c.Tenant)
		var out []*record
		skip, more := (page-1)*perPage, false
		for _, a := range all {
			if (t.user != nil && a.Extension != t.user.Extension) || (len(dirs) > 0 && !slices.Contains(dirs, a.Direction)) ||
				(len(types) > 0 && !slices.Contains(types, callvault.CallVoice)) ||
				(c.P.Kind == callvault.SubjectUser && len(sites) > 0 && !slices.Contains(sites, a.SiteID)) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(out) == perPage {
				more = true
				break
			}
			d := now.Sub(a.StartedAt).Milliseconds()
			rec := &record{URI: base + "/call-log/" + url.PathEscape(a.CallID), ID: a.CallID, SessionID: a.CallID,
				StartTime: rcTime(a.StartedAt), Duration: d / 1000, DurationMs: d, Type: callvault.CallVoice, Direction: a.Direction,
				Action: "Phone Call", Result: "In Progress", From: toParty(a.From), To: toParty(a.To)}
			if id, ok := ext[a.Extension]; ok {
				rec.Extension = &ref{ID: id, URI: base + "/extension/" + url.PathEscape(id)}
			}
			out = append(out, rec)
		}
		if err := f.s.AuditRead(ctx, c, callvault.EventView, "activeCalls", "", "live calls (RingCentral)", map[string]any{"count": len(out)}); err != nil {
			return err
		}
		cq := &query{page: page, perPage: perPage}
		cq.f.To = now
		cq.f.From = now.Add(-24 * time.Hour)
		writeJSON(w, http.StatusOK, f.list(r, cq, out, more))
		return nil
	}
}

// loadRecording reads {recordingId} and decides a on it: owner, site and
// start from its call record (ownerless until the record arrives).
func (f *Face) loadRecording(r *http.Request, c *cvhttp.Call, a access.Action) (*callvault.Recording, error) {
	ctx := r.Context()
	id := r.PathValue("recordingId")
	rg, err := f.s.Store().Recording(ctx, c.Tenant, id)
	if callvault.IsNotFound(err) {
		return nil, f.hide(r, c, a, notFound("recordingId", id))
	}
	if err != nil {
		return nil, err
	}
	call, err := f.s.Store().Call(ctx, c.Tenant, rg.CallID)
	switch {
	case callvault.IsNotFound(err):
		err = f.s.Decide(r, c, a, access.Resource{OwnerExtension: accountOwner})
	case err == nil:
		err = f.decideRecord(r, c, a, call)
	}
	if err != nil {
		return nil, err
	}
	return rg, nil
}

// handleRecordingMeta is GET .../recording/{recordingId}: ReadCallLog (the
// route's action), then ReadCallRecording on the recording.
func (f *Face) handleRecordingMeta(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	rg, err := f.loadRecording(r, c, actRecording)
	if err != nil {
		return err
	}
	if err := f.s.AuditRead(r.Context(), c, callvault.EventView, "recording", rg.ID, "recording of call "+rg.CallID, nil); err != nil {
		return err
	}
	base := f.s.BaseURL() + "/restapi/v1.0/account/" + url.PathEscape(c.Tenant) + "/recording/" + url.PathEscape(rg.ID)
	writeJSON(w, http.StatusOK, map[string]any{"uri": base, "id": rg.ID, "contentUri": base + "/content",
		"contentType": orDefault(rg.ContentType, "audio/wav"), "duration": (rg.DurationMs + 500) / 1000})
	return nil
}

// handleRecordingContent is GET .../recording/{recordingId}/content:
// ReadCallRecording only; the audio with Range support; the token may come
// as ?access_token=; contentDisposition=Inline|Attachment (and
// contentDispositionFilename) set Content-Disposition.
func (f *Face) handleRecordingContent(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	rg, err := f.loadRecording(r, c, actRecording)
	if err != nil {
		return err
	}
	if rg.SHA256 == "" {
		return notFound("recordingId", rg.ID)
	}
	q := r.URL.Query()
	disp := "inline"
	switch v := q.Get("contentDisposition"); {
	case v == "" || strings.EqualFold(v, "Inline"):
	case strings.EqualFold(v, "Attachment"):
		disp = "attachment"
	default:
		return invalidParam("contentDisposition", v, "contentDisposition must be Inline or Attachment")
	}
	bs, err := f.s.Blobs()
	if err != nil {
		return err
	}
	ctx := r.Context()
	rd, err := bs.Open(ctx, c.Tenant, rg.SHA256)
	if err != nil {
		return err
	}
	defer rd.Close()
	if err := f.s.AuditRead(ctx, c, callvault.EventExport, "recording", rg.ID, "recording of call "+rg.CallID,
		map[string]any{"range": r.Header.Get("Range"), "size": rd.Size()}); err != nil {
		return err
	}
	name := q.Get("contentDispositionFilename")
	if name == "" {
		name = rg.ID + map[bool]string{true: ".mp3", false: ".wav"}[rg.ContentType == "audio/mpeg"]
	}
	h := w.Header()
	h.Set("Content-Type", rg.ContentType)
	h.Set("Content-Disposition", disp+`; filename="`+strings.NewReplacer(`"`, "", "\\", "", "\r", "", "\n", "").Replace(name)+`"`)
	h.Set("ETag", `"`+rg.SHA256+`"`)
	http.ServeContent(w, r, "", rg.UploadedAt, rd)
	return nil
}
