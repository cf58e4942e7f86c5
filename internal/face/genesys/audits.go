package genesys

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Audit query limits.
const (
	auditDefaultPage = 25
	auditMaxPage     = 500
	auditMaxRecords  = 100000 // the most records one query reads
	auditMaxInterval = 31 * 24 * time.Hour
	auditTxTTL       = 24 * time.Hour
	// auditMaxQueryBytes bounds an asynchronous query (interval,
	// serviceName, filters and sort, compactly encoded): it travels in
	// the transaction id, which stays under about 1.7 KB.
	auditMaxQueryBytes = 1024
)

// organization is the Organization body of /api/v2/organizations/me.
type organization struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	State                string   `json:"state"`
	Region               string   `json:"region"`
	AllowedClientRegions []string `json:"allowedClientRegions"`
	SelfURI              string   `json:"selfUri"`
}

// handleOrg is GET /api/v2/organizations/me: the token's org.
func (f *Face) handleOrg(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	t, err := f.s.Store().Tenant(r.Context(), c.Tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, organization{ID: t.ID, Name: t.Name, State: "active", Region: t.Region,
		AllowedClientRegions: t.AllowedClientRegions, SelfURI: "/api/v2/organizations/" + t.ID})
	return nil
}

// auditFilter is one filter of an audit query.
type auditFilter struct {
	Property string `json:"property"`
	Value    string `json:"value"`
}

// auditSort is one sort of an audit query.
type auditSort struct {
	Name      string `json:"name"`
	SortOrder string `json:"sortOrder"`
}

// auditQuery is AuditRealtimeQueryRequest (pageNumber and pageSize only for
// the realtime query) and AuditQueryRequest.
type auditQuery struct {
	Interval    string        `json:"interval"`
	ServiceName string        `json:"serviceName"`
	Filters     []auditFilter `json:"filters"`
	Sort        []auditSort   `json:"sort"`
	PageNumber  int           `json:"pageNumber,omitempty"`
	PageSize    int           `json:"pageSize,omitempty"`
}

// entityRef is the {id, name, selfUri} of users, clients and entities.
type entityRef struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`
}

// auditMessage is the message of an AuditLogMessage.
type auditMessage struct {
	LocalizableMessageCode string `json:"localizableMessageCode"`
	Message                string `json:"message"`
}

// auditLogMessage is Genesys Cloud's AuditLogMessage for one callvault
// audit record; context carries callvault's fields (request id,
// principal, outcome, decision trace, details, chain position).
type auditLogMessage struct {
	ID            string            `json:"id"`
	UserHomeOrgID string            `json:"userHomeOrgId"`
	User          *entityRef        `json:"user,omitempty"`
	Client        *entityRef        `json:"client,omitempty"`
	ServiceName   string            `json:"serviceName"`
	Level         string            `json:"level"`
	EventDate     string            `json:"eventDate"`
	Message       auditMessage      `json:"message"`
	Action        string            `json:"action"`
	Entity        entityRef         `json:"entity"`
	EntityType    string            `json:"entityType"`
	Status        string            `json:"status"`
	Context       map[string]string `json:"context"`
}

// toMessage renders an audit record as an AuditLogMessage.
func toMessage(a *callvault.AuditRecord) auditLogMessage {
	m := auditLogMessage{ID: a.ID, UserHomeOrgID: a.TenantID, ServiceName: a.Service, Level: "USER",
		EventDate: a.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z"),
		Message:   auditMessage{LocalizableMessageCode: a.Service + "." + a.EventType, Message: a.DisplayName},
		Action:    strings.ToUpper(a.EventType), Entity: entityRef{ID: a.EntityKey, Name: a.DisplayName},
		EntityType: a.EntityType, Status: strings.ToUpper(a.Outcome),
		Context: map[string]string{"requestId": a.RequestID, "principal": a.Principal, "outcome": a.Outcome,
			"seq": strconv.FormatInt(a.Seq, 10), "hash": a.Hash}}
	if a.AuditUserID != "" {
		m.User = &entityRef{ID: a.AuditUserID}
	}
	if _, app, ok := strings.Cut(a.Principal, "app:"); ok {
		app, _, _ = strings.Cut(app, " ")
		m.Client = &entityRef{ID: app}
	}
	if !strings.HasPrefix(a.Principal, "user:") {
		m.Level = "SYSTEM"
	}
	if a.Trace != "" {
		m.Context["trace"] = a.Trace
	}
	if a.Details != "" {
		m.Context["details"] = a.Details
	}
	if a.Impersonator != "" {
		m.Context["impersonator"] = a.Impersonator
	}
	return m
}

// readBody decodes a JSON request body into v, strictly.
func readBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return badRequest("body", "the request body is too large or unreadable")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body", "the request body is not a valid query: %v", err)
	}
	return nil
}

// parseInterval parses an ISO-8601 interval start/end.
func parseInterval(s string, maxLen time.Duration) (time.Time, time.Time, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return time.Time{}, time.Time{}, badRequest("interval", "interval must be start/end in ISO-8601, e.g. 2024-01-01T00:00:00Z/2024-01-08T00:00:00Z, not %q", s)
	}
	from, err1 := time.Parse(time.RFC3339Nano, a)
	to, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, badRequest("interval", "interval %q: both ends must be ISO-8601 date-times with a zone", s)
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, badRequest("interval", "interval %q: the start must be before the end", s)
	}
	if maxLen > 0 && to.Sub(from) > maxLen {
		return time.Time{}, time.Time{}, badRequest("interval", "interval %q is longer than the maximum of %d days", s, int(maxLen/(24*time.Hour)))
	}
	return from.UTC(), to.UTC(), nil
}

// services maps Genesys serviceName values onto callvault audit services
// (nil: all services). callvault's own names are accepted as well.
func services(name string) ([]string, error) {
	switch strings.ToLower(name) {
	case "", "contactcenter":
		return nil, nil
	case "peoplepermissions":
		return []string{callvault.AuditAuth, callvault.AuditAccess, callvault.AuditPlatform}, nil
	case callvault.AuditPlatform, callvault.AuditData, callvault.AuditAuth, callvault.AuditAccess:
		return []string{strings.ToLower(name)}, nil
	}
	return nil, badRequest("serviceName", "serviceName %q is not supported: use ContactCenter (everything), PeoplePermissions (auth, access, platform) or a callvault service: platform, data, auth, access", name)
}

// filter builds the store filter of a query in org tenant.
func (q *auditQuery) filter(tenant string) (callvault.AuditFilter, error) {
	f := callvault.AuditFilter{TenantID: tenant}
	var err error
	if f.From, f.To, err = parseInterval(q.Interval, auditMaxInterval); err != nil {
		return f, err
	}
	if f.Services, err = services(q.ServiceName); err != nil {
		return f, err
	}
	for _, fl := range q.Filters {
		switch strings.ToLower(fl.Property) {
		case "action", "eventtype":
			f.EventTypes = append(f.EventTypes, strings.ToLower(fl.Value))
		case "entitytype":
			f.EntityTypes = append(f.EntityTypes, fl.Value)
		case "userid":
			f.AuditUserID = fl.Value
		case "requestid", "correlationid", "contextid":
			f.RequestID = fl.Value
		case "clientid":
			f.Principal = "app:" + fl.Value
		default:
			return f, badRequest("filters", "filter property %q is not supported: use Action, EntityType, UserId, RequestId (ININ-Correlation-Id) or ClientId", fl.Property)
		}
	}
	for _, s := range q.Sort {
		if o := strings.ToLower(s.SortOrder); o != "" && o != "ascending" && o != "descending" {
			return f, badRequest("sort", "sortOrder must be ascending or descending, not %q", s.SortOrder)
		}
	}
	return f, nil
}

// descending reports whether the query sorts newest first.
func (q *auditQuery) descending() bool {
	return len(q.Sort) > 0 && strings.EqualFold(q.Sort[0].SortOrder, "descending")
}

// records reads the query's records (up to auditMaxRecords) in the
// query's order; MaxSeq pins a snapshot when > 0.
func (f *Face) records(r *http.Request, q *auditQuery, af callvault.AuditFilter) ([]*callvault.AuditRecord, error) {
	if af.Principal != "" {
		// principals read "user:x via app:y" or "app:y": match the app
		// after reading.
		app := strings.TrimPrefix(af.Principal, "app:")
		af.Principal = ""
		recs, err := f.readAll(r, af)
		if err != nil {
			return nil, err
		}
		recs = slices.DeleteFunc(recs, func(a *callvault.AuditRecord) bool {
			return !strings.Contains(a.Principal, "app:"+app)
		})
		order(q, recs)
		return recs, nil
	}
	recs, err := f.readAll(r, af)
	if err != nil {
		return nil, err
	}
	order(q, recs)
	return recs, nil
}

func (f *Face) readAll(r *http.Request, af callvault.AuditFilter) ([]*callvault.AuditRecord, error) {
	af.Limit = auditMaxRecords
	return f.s.Store().AuditRecords(r.Context(), af)
}

func order(q *auditQuery, recs []*callvault.AuditRecord) {
	if q.descending() {
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Seq > recs[j].Seq })
	}
}

// realtimeResponse is AuditRealtimeQueryResultsResponse.
type realtimeResponse struct {
	Entities   []auditLogMessage `json:"entities"`
	PageSize   int               `json:"pageSize"`
	PageNumber int               `json:"pageNumber"`
	Total      int               `json:"total"`
	PageCount  int               `json:"pageCount"`
}

// handleRealtime is POST /api/v2/audits/query/realtime: the org's audit
// records in the interval, filtered, sorted by time, one page.
func (f *Face) handleRealtime(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	var q auditQuery
	if err := readBody(w, r, &q); err != nil {
		return err
	}
	af, err := q.filter(c.Tenant)
	if err != nil {
		return err
	}
	size, num := q.PageSize, q.PageNumber
	if size == 0 {
		size = auditDefaultPage
	}
	if num == 0 {
		num = 1
	}
	if size < 1 || size > auditMaxPage || num < 1 {
		return badRequest("pageSize", "pageSize must be 1..%d and pageNumber at least 1", auditMaxPage)
	}
	recs, err := f.records(r, &q, af)
	if err != nil {
		return err
	}
	resp := realtimeResponse{Entities: []auditLogMessage{}, PageSize: size, PageNumber: num, Total: len(recs),
		PageCount: (len(recs) + size - 1) / size}
	for i := (num - 1) * size; i < len(recs) && i < num*size; i++ {
		resp.Entities = append(resp.Entities, toMessage(recs[i]))
	}
	if err := f.s.AuditRead(r.Context(), c, callvault.EventView, "audit", c.Tenant, "audit realtime query", nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// auditTx is an asynchronous audit query. It keeps nothing on the node
// that accepted it: everything it is (org, app, query, the snapshot of the
// org's audit chain, start and expiry) is fixed at submit time and sealed
// into its id, a token signed with the server's cursor key (see
// internal/cursor), which every node shares (through the database on
// PostgreSQL). Any node verifies an id and rebuilds the transaction from
// it; another org's or app's, a forged, altered or expired id is not found.
type auditTx struct {
	ID, Tenant, App string
	Query           auditQuery
	Filter          callvault.AuditFilter
	Head            int64 // the org's audit head when submitted (0: empty)
	Started         time.Time
	Expires         time.Time
}

// Kinds of the signed tokens of asynchronous audit queries.
const (
	txKind      = "genesys.audits.tx"
	resultsKind = "genesys.audits.results"
)

// txQuery is the compact form of a transaction's query in its id: filters
// and sorts as [property, value] and [name, sortOrder] pairs.
type txQuery struct {
	Interval    string      `json:"i"`
	ServiceName string      `json:"n,omitempty"`
	Filters     [][2]string `json:"f,omitempty"`
	Sort        [][2]string `json:"o,omitempty"`
}

// txData is what a transaction id carries besides the org and the expiry,
// which the signed envelope holds.
type txData struct {
	App     string  `json:"a"`
	Query   txQuery `json:"q"`
	Head    int64   `json:"h"`
	Started int64   `json:"s"` // Unix milliseconds
}

func compactQuery(q *auditQuery) txQuery {
	c := txQuery{Interval: q.Interval, ServiceName: q.ServiceName}
	for _, f := range q.Filters {
		c.Filters = append(c.Filters, [2]string{f.Property, f.Value})
	}
	for _, s := range q.Sort {
		c.Sort = append(c.Sort, [2]string{s.Name, s.SortOrder})
	}
	return c
}

func (c *txQuery) query() auditQuery {
	q := auditQuery{Interval: c.Interval, ServiceName: c.ServiceName}
	for _, f := range c.Filters {
		q.Filters = append(q.Filters, auditFilter{Property: f[0], Value: f[1]})
	}
	for _, s := range c.Sort {
		q.Sort = append(q.Sort, auditSort{Name: s[0], SortOrder: s[1]})
	}
	return q
}

// checkQuerySize refuses a query too large to travel in a transaction id.
func checkQuerySize(q *auditQuery) error {
	b, err := json.Marshal(compactQuery(q))
	if err != nil {
		return err
	}
	if len(b) > auditMaxQueryBytes {
		return badRequest("body", "the asynchronous audit query is %d bytes (interval, serviceName, filters and sort, compactly encoded); at most %d bytes are accepted, because the query travels in the transaction id: use fewer or shorter filters, or several queries", len(b), auditMaxQueryBytes)
	}
	return nil
}

// seal signs t into its id.
func (t *auditTx) seal(s *cvhttp.Server) (string, error) {
	return s.SignCursor(t.Tenant, txKind, txData{App: t.App, Query: compactQuery(&t.Query), Head: t.Head,
		Started: t.Started.UnixMilli()}, t.Expires)
}

// openTx verifies id for org tenant and rebuilds its transaction; ok is
// false for anything that is not a live transaction of tenant.
func (f *Face) openTx(id, tenant string) (*auditTx, bool) {
	var d txData
	if id == "" || f.s.OpenCursor(tenant, txKind, id, &d) != nil {
		return nil, false
	}
	q := d.Query.query()
	af, err := q.filter(tenant)
	if err != nil {
		return nil, false
	}
	af.MaxSeq = d.Head
	if d.Head == 0 {
		af.MaxSeq = -1
	}
	started := time.UnixMilli(d.Started).UTC()
	return &auditTx{ID: id, Tenant: tenant, App: d.App, Query: q, Filter: af, Head: d.Head,
		Started: started, Expires: started.Add(auditTxTTL)}, true
}

// tag names transaction id in its results cursors.
func txTag(id string) string {
	h := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}

// resultsCursor is the position after a results page, bound to its
// transaction.
type resultsCursor struct {
	Tx     string `json:"x"`
	Offset int    `json:"o"`
}

// txStatus is AuditQueryExecutionStatusResponse.
type txStatus struct {
	ID          string        `json:"id"`
	State       string        `json:"state"`
	StartDate   string        `json:"startDate"`
	Interval    string        `json:"interval"`
	ServiceName string        `json:"serviceName,omitempty"`
	Filters     []auditFilter `json:"filters"`
	Sort        []auditSort   `json:"sort"`
}

func (t *auditTx) status() txStatus {
	s := txStatus{ID: t.ID, State: "Succeeded", StartDate: t.Started.UTC().Format(time.RFC3339Nano), Interval: t.Query.Interval,
		ServiceName: t.Query.ServiceName, Filters: t.Query.Filters, Sort: t.Query.Sort}
	if s.Filters == nil {
		s.Filters = []auditFilter{}
	}
	if s.Sort == nil {
		s.Sort = []auditSort{}
	}
	return s
}

// handleAuditSubmit is POST /api/v2/audits/query: a transaction over a
// snapshot of the org's audit chain; it has Succeeded at once (the results
// are read page by page from the snapshot).
func (f *Face) handleAuditSubmit(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	var q auditQuery
	if err := readBody(w, r, &q); err != nil {
		return err
	}
	if q.PageNumber != 0 || q.PageSize != 0 {
		return badRequest("pageSize", "an asynchronous audit query has no pages: page through GET /api/v2/audits/query/{transactionId}/results with pageSize and cursor")
	}
	af, err := q.filter(c.Tenant)
	if err != nil {
		return err
	}
	if err := checkQuerySize(&q); err != nil {
		return err
	}
	head, _, err := f.s.Store().AuditHead(r.Context(), c.Tenant)
	if err != nil {
		return err
	}
	af.MaxSeq = head
	if head == 0 {
		af.MaxSeq = -1
	}
	now := f.s.Now().UTC().Truncate(time.Millisecond)
	t := &auditTx{Tenant: c.Tenant, App: c.P.AppID, Query: q, Filter: af, Head: head, Started: now, Expires: now.Add(auditTxTTL)}
	if t.ID, err = t.seal(f.s); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, t.status())
	return nil
}

// tx finds the caller's transaction from its id (on any node); another
// org's or app's, a forged, altered or expired one is not found, alike.
func (f *Face) tx(r *http.Request, c *cvhttp.Call) (*auditTx, error) {
	id := r.PathValue("transactionId")
	t, ok := f.openTx(id, c.Tenant)
	if !ok || t.App != c.P.AppID || !f.s.Now().Before(t.Expires) {
		return nil, &vendorError{Status: http.StatusNotFound, Code: "not.found",
			Message: "Audit query transaction " + strconv.Quote(id) + " was not found.", Field: "transactionId",
			Hint: "a transaction id is valid on every node for 24 hours after its submission, for the org and client that submitted it; submit the query again with POST /api/v2/audits/query"}
	}
	return t, nil
}

// handleAuditStatus is GET /api/v2/audits/query/{transactionId}.
func (f *Face) handleAuditStatus(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	t, err := f.tx(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t.status())
	return nil
}

// resultsResponse is AuditQueryExecutionResultsResponse; cursor is absent
// on the last page.
type resultsResponse struct {
	ID       string            `json:"id"`
	PageSize int               `json:"pageSize"`
	Cursor   string            `json:"cursor,omitempty"`
	Entities []auditLogMessage `json:"entities"`
}

// handleAuditResults is GET /api/v2/audits/query/{transactionId}/results:
// one page of the transaction's snapshot; cursor is the position after
// the page's last record.
func (f *Face) handleAuditResults(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	t, err := f.tx(r, c)
	if err != nil {
		return err
	}
	qv := r.URL.Query()
	size := auditDefaultPage
	if v := qv.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditMaxPage {
			return badRequest("pageSize", "pageSize must be an integer from 1 to %d, not %q", auditMaxPage, v)
		}
		size = n
	}
	off := 0
	if v := qv.Get("cursor"); v != "" {
		var rc resultsCursor
		if err := f.s.OpenCursor(c.Tenant, resultsKind, v, &rc); err != nil || rc.Tx != txTag(t.ID) || rc.Offset < 0 {
			return badRequest("cursor", "cursor %q is not one this transaction returned: pass the cursor of the previous results page of this transaction, or none for the first page", v)
		}
		off = rc.Offset
	}
	resp := resultsResponse{ID: t.ID, PageSize: size, Entities: []auditLogMessage{}}
	if t.Head > 0 {
		recs, err := f.records(r, &t.Query, t.Filter)
		if err != nil {
			return err
		}
		for i := off; i < len(recs) && i < off+size; i++ {
			resp.Entities = append(resp.Entities, toMessage(recs[i]))
		}
		if off+size < len(recs) {
			if resp.Cursor, err = f.s.SignCursor(c.Tenant, resultsKind, resultsCursor{Tx: txTag(t.ID), Offset: off + size}, t.Expires); err != nil {
				return err
			}
		}
	}
	if err := f.s.AuditRead(r.Context(), c, callvault.EventView, "audit", c.Tenant, "audit query results", nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
