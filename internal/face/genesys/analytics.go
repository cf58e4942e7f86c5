package genesys

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Analytics limits.
const (
	eventsDefaultPage  = 100
	eventsMaxPage      = 1000
	detailsDefaultPage = 25
	detailsMaxPage     = 1000
	detailsMaxRecords  = 100000
	analyticsMaxRange  = 31 * 24 * time.Hour
)

// callEvent is one raw call event of /api/v2/analytics/events.
type callEvent struct {
	EventID        string `json:"eventId"`
	ConversationID string `json:"conversationId"`
	EventType      string `json:"eventType"`
	EventTime      string `json:"eventTime"`
	Sequence       int64  `json:"sequence"`
	Direction      string `json:"direction,omitempty"`
	Ani            string `json:"ani,omitempty"`
	Dnis           string `json:"dnis,omitempty"`
	Result         string `json:"result,omitempty"`
	SiteID         string `json:"siteId,omitempty"`
}

// eventsResponse is a page of raw events; cursor is absent on the last.
type eventsResponse struct {
	Entities []callEvent `json:"entities"`
	PageSize int         `json:"pageSize"`
	Cursor   string      `json:"cursor,omitempty"`
}

func partyAddr(p callvault.Party) string {
	if p.PhoneNumber != "" {
		return p.PhoneNumber
	}
	return p.ExtensionNumber
}

// handleEvents is GET /api/v2/analytics/events?interval=&pageSize=&cursor=:
// the org's raw call events in arrival order (needs analytics:export).
func (f *Face) handleEvents(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	q := r.URL.Query()
	ef := callvault.EventFilter{TenantID: c.Tenant, Limit: eventsDefaultPage}
	if v := q.Get("interval"); v != "" {
		from, to, err := parseInterval(v, analyticsMaxRange)
		if err != nil {
			return err
		}
		if err := f.s.Decide(r, c, c.Action, access.Resource{From: from, To: to}); err != nil {
			return err
		}
		ef.From, ef.To = from, to
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > eventsMaxPage {
			return badRequest("pageSize", "pageSize must be an integer from 1 to %d, not %q", eventsMaxPage, v)
		}
		ef.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badRequest("cursor", "cursor %q is not one this endpoint returned", v)
		}
		ef.AfterSeq = n
	}
	want := ef.Limit
	ef.Limit++
	evs, err := f.s.Store().CallEvents(r.Context(), ef)
	if err != nil {
		return err
	}
	resp := eventsResponse{Entities: []callEvent{}, PageSize: want}
	if len(evs) > want {
		evs = evs[:want]
		resp.Cursor = strconv.FormatInt(evs[len(evs)-1].Seq, 10)
	}
	for _, e := range evs {
		resp.Entities = append(resp.Entities, callEvent{EventID: e.ID, ConversationID: e.CallID, EventType: e.Type,
			EventTime: e.Timestamp.UTC().Format(time.RFC3339Nano), Sequence: e.Seq, Direction: strings.ToLower(e.Direction),
			Ani: partyAddr(e.From), Dnis: partyAddr(e.To), Result: e.Result, SiteID: e.SiteID})
	}
	if err := f.s.AuditRead(r.Context(), c, callvault.EventExport, "callEvents", c.Tenant, "analytics events", map[string]any{"count": len(evs)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// predicate, filter, paging and conversationQuery are ConversationQuery.
type predicate struct {
	Type      string `json:"type,omitempty"`
	Dimension string `json:"dimension,omitempty"`
	Metric    string `json:"metric,omitempty"`
	Operator  string `json:"operator,omitempty"`
	Value     string `json:"value,omitempty"`
}

type filter struct {
	Type       string      `json:"type"`
	Clauses    []filter    `json:"clauses,omitempty"`
	Predicates []predicate `json:"predicates,omitempty"`
}

type paging struct {
	PageSize   int `json:"pageSize"`
	PageNumber int `json:"pageNumber"`
}

type conversationQuery struct {
	Interval            string   `json:"interval"`
	ConversationFilters []filter `json:"conversationFilters,omitempty"`
	SegmentFilters      []filter `json:"segmentFilters,omitempty"`
	Order               string   `json:"order,omitempty"`
	OrderBy             string   `json:"orderBy,omitempty"`
	Paging              *paging  `json:"paging,omitempty"`
	// Accepted when empty, refused otherwise (not implemented).
	EvaluationFilters []filter `json:"evaluationFilters,omitempty"`
	SurveyFilters     []filter `json:"surveyFilters,omitempty"`
	ResolutionFilters []filter `json:"resolutionFilters,omitempty"`
	Aggregations      []any    `json:"aggregations,omitempty"`
}

// unsupported refuses the parts of a ConversationQuery the face does not
// implement, naming them.
func (q *conversationQuery) unsupported() error {
	for name, n := range map[string]int{"evaluationFilters": len(q.EvaluationFilters), "surveyFilters": len(q.SurveyFilters),
		"resolutionFilters": len(q.ResolutionFilters), "aggregations": len(q.Aggregations)} {
		if n > 0 {
			return badRequest(name, "%s are not supported by this server: use conversationFilters and segmentFilters", name)
		}
	}
	return nil
}

// Conversation detail wire shapes.
type segment struct {
	SegmentStart   string `json:"segmentStart"`
	SegmentEnd     string `json:"segmentEnd,omitempty"`
	SegmentType    string `json:"segmentType"`
	DisconnectType string `json:"disconnectType,omitempty"`
}

type session struct {
	MediaType   string    `json:"mediaType"`
	Direction   string    `json:"direction"`
	Ani         string    `json:"ani,omitempty"`
	Dnis        string    `json:"dnis,omitempty"`
	AddressFrom string    `json:"addressFrom,omitempty"`
	AddressTo   string    `json:"addressTo,omitempty"`
	Recording   bool      `json:"recording"`
	Segments    []segment `json:"segments"`
}

type participant struct {
	ParticipantID   string    `json:"participantId"`
	ParticipantName string    `json:"participantName,omitempty"`
	Purpose         string    `json:"purpose"`
	UserID          string    `json:"userId,omitempty"`
	Sessions        []session `json:"sessions"`
}

type conversation struct {
	ConversationID       string        `json:"conversationId"`
	ConversationStart    string        `json:"conversationStart"`
	ConversationEnd      string        `json:"conversationEnd,omitempty"`
	OriginatingDirection string        `json:"originatingDirection"`
	DivisionIDs          []string      `json:"divisionIds"`
	Participants         []participant `json:"participants"`
}

type detailsResponse struct {
	Conversations []conversation `json:"conversations"`
	TotalHits     int            `json:"totalHits"`
	Aggregations  []any          `json:"aggregations"`
}

// predicates applies a filter list (every filter must match; a filter's
// predicates and clauses combine by its type) to the store filter where it
// can (direction), and returns the rest as a matcher.
func matches(fs []filter, rec *callvault.CallRecord) (bool, error) {
	for _, fl := range fs {
		ok, err := matchFilter(fl, rec)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func matchFilter(fl filter, rec *callvault.CallRecord) (bool, error) {
	or := strings.EqualFold(fl.Type, "or")
	if !or && fl.Type != "" && !strings.EqualFold(fl.Type, "and") {
		return false, badRequest("type", "filter type must be and or or, not %q", fl.Type)
	}
	var results []bool
	for _, p := range fl.Predicates {
		ok, err := matchPredicate(p, rec)
		if err != nil {
			return false, err
		}
		results = append(results, ok)
	}
	for _, cl := range fl.Clauses {
		ok, err := matchFilter(cl, rec)
		if err != nil {
			return false, err
		}
		results = append(results, ok)
	}
	if len(results) == 0 {
		return true, nil
	}
	if or {
		return slices.Contains(results, true), nil
	}
	return !slices.Contains(results, false), nil
}

func matchPredicate(p predicate, rec *callvault.CallRecord) (bool, error) {
	if p.Operator != "" && !strings.EqualFold(p.Operator, "matches") {
		return false, badRequest("operator", "predicate operator %q is not supported: use matches", p.Operator)
	}
	v := p.Value
	switch strings.ToLower(p.Dimension) {
	case "direction", "originatingdirection":
		return strings.EqualFold(rec.Direction, v), nil
	case "conversationid":
		return rec.ID == v || rec.SessionID == v, nil
	case "ani":
		return partyAddr(rec.From) == v, nil
	case "dnis":
		return partyAddr(rec.To) == v, nil
	case "userid":
		return rec.From.ExtensionID == v || rec.To.ExtensionID == v, nil
	case "mediatype":
		return strings.EqualFold(media(rec), v), nil
	case "disconnecttype", "result":
		return strings.EqualFold(rec.Result, v), nil
	}
	return false, badRequest("dimension", "predicate dimension %q is not supported: use direction, conversationId, ani, dnis, userId, mediaType or result", p.Dimension)
}

func media(rec *callvault.CallRecord) string {
	if rec.Type == callvault.CallFax {
		return "fax"
	}
	return "voice"
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// toConversation renders a call record as an analytics conversation.
func toConversation(rec *callvault.CallRecord) conversation {
	dir := strings.ToLower(rec.Direction)
	seg := segment{SegmentStart: ts(rec.Start), SegmentEnd: ts(rec.End), SegmentType: "interact", DisconnectType: rec.Result}
	part := func(id, purpose string, p callvault.Party) participant {
		return participant{ParticipantID: id, ParticipantName: p.Name, Purpose: purpose, UserID: p.ExtensionID,
			Sessions: []session{{MediaType: media(rec), Direction: dir, Ani: partyAddr(rec.From), Dnis: partyAddr(rec.To),
				AddressFrom: partyAddr(rec.From), AddressTo: partyAddr(rec.To), Recording: len(rec.RecordingIDs) > 0,
				Segments: []segment{seg}}}}
	}
	purpose := func(p callvault.Party) string {
		if p.ExtensionID != "" {
			return "agent"
		}
		return "external"
	}
	return conversation{ConversationID: rec.ID, ConversationStart: ts(rec.Start), ConversationEnd: ts(rec.End),
		OriginatingDirection: dir, DivisionIDs: []string{},
		Participants: []participant{part(rec.ID+"-from", purpose(rec.From), rec.From), part(rec.ID+"-to", purpose(rec.To), rec.To)}}
}

// handleDetails is POST /api/v2/analytics/conversations/details/query
// over the org's call records (needs analytics:read).
func (f *Face) handleDetails(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	var q conversationQuery
	if err := readBody(w, r, &q); err != nil {
		return err
	}
	if err := q.unsupported(); err != nil {
		return err
	}
	from, to, err := parseInterval(q.Interval, analyticsMaxRange)
	if err != nil {
		return err
	}
	if err := f.s.Decide(r, c, c.Action, access.Resource{From: from, To: to}); err != nil {
		return err
	}
	size, num := detailsDefaultPage, 1
	if q.Paging != nil {
		if q.Paging.PageSize != 0 {
			size = q.Paging.PageSize
		}
		if q.Paging.PageNumber != 0 {
			num = q.Paging.PageNumber
		}
	}
	if size < 1 || size > detailsMaxPage || num < 1 {
		return badRequest("paging", "paging.pageSize must be 1..%d and paging.pageNumber at least 1", detailsMaxPage)
	}
	desc := false
	switch strings.ToLower(q.Order) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return badRequest("order", "order must be asc or desc, not %q", q.Order)
	}
	by := q.OrderBy
	switch by {
	case "", "conversationStart", "segmentStart":
		by = "start"
	case "conversationEnd", "segmentEnd":
		by = "end"
	default:
		return badRequest("orderBy", "orderBy must be conversationStart, segmentStart, segmentEnd or conversationEnd, not %q", q.OrderBy)
	}
	recs, err := f.s.Store().Calls(r.Context(), callvault.CallFilter{TenantID: c.Tenant, From: from, To: to, Limit: detailsMaxRecords})
	if err != nil {
		return err
	}
	var kept []*callvault.CallRecord
	for _, rec := range recs {
		ok, err := matches(q.ConversationFilters, rec)
		if err != nil {
			return err
		}
		if ok {
			if ok, err = matches(q.SegmentFilters, rec); err != nil {
				return err
			}
		}
		if ok {
			kept = append(kept, rec)
		}
	}
	key := func(rec *callvault.CallRecord) time.Time {
		if by == "end" {
			return rec.End
		}
		return rec.Start
	}
	slices.SortStableFunc(kept, func(a, b *callvault.CallRecord) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	resp := detailsResponse{Conversations: []conversation{}, TotalHits: len(kept), Aggregations: []any{}}
	for i := (num - 1) * size; i < len(kept) && i < num*size; i++ {
		resp.Conversations = append(resp.Conversations, toConversation(kept[i]))
	}
	if err := f.s.AuditRead(r.Context(), c, callvault.EventView, "callRecords", c.Tenant, "conversation details query", map[string]any{"count": len(resp.Conversations)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
