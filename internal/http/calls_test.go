package http

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
)

// Tests of the call-data API: ingest, listings, cursors, CSV, ownership,
// site scope, retention, legal holds. Recordings, live calls, events,
// analytics and FreeSWITCH are in the other calls_*_test.go files.

// callRec is a call record as a client sends it: inbound to extension
// 101 unless extra says otherwise, one minute long.
func callRec(id string, start time.Time, extra map[string]any) map[string]any {
	m := map[string]any{"id": id, "startTime": start.UTC().Format(time.RFC3339Nano), "durationMs": 60000,
		"direction": "Inbound", "from": map[string]any{"phoneNumber": "+14155550100"},
		"to": map[string]any{"extensionNumber": "101"}}
	maps.Copy(m, extra)
	return m
}

// MustIngest posts records to POST .../calls and returns the answer.
func (c *testClient) MustIngest(tb testing.TB, tenant string, recs ...map[string]any) batchResult {
	tb.Helper()
	var res batchResult
	c.Post(tb, "/v1/tenants/"+tenant+"/calls", recs).Want(tb, http.StatusOK).JSON(tb, &res)
	return res
}

// withHeader returns a copy of c that also sends the header.
func (c *testClient) withHeader(k, v string) *testClient {
	h := c.header.Clone()
	h.Set(k, v)
	return &testClient{env: c.env, header: h}
}

// ids lists the ids of a call page.
func ids(p callPage) []string {
	out := make([]string, len(p.Records))
	for i, r := range p.Records {
		out[i] = r.ID
	}
	return out
}

// listCalls gets a page of GET .../calls with the query.
func listCalls(tb testing.TB, c *testClient, tenant, query string) callPage {
	tb.Helper()
	var p callPage
	c.Get(tb, "/v1/tenants/"+tenant+"/calls?"+query).Want(tb, http.StatusOK).JSON(tb, &p)
	return p
}

// mustCallActor is MustActor with the user's extension and site scope set.
func (e *testEnv) mustCallActor(tb testing.TB, tenant, login, ext string, sites []string, scopes []callvault.Permission, roles ...string) *testActor {
	tb.Helper()
	a := e.MustActor(tb, tenant, login, scopes, roles...)
	a.User.Extension, a.User.SiteScope = ext, append([]string{}, sites...)
	e.MustUpdate(tb, func(tx callvault.Tx) error { return tx.UpdateUser(a.User) })
	return a
}

// mustSite creates a site through the API and returns its id.
func mustSite(tb testing.TB, admin *testActor, name string) string {
	tb.Helper()
	return admin.Client().Post(tb, "/v1/tenants/"+admin.Tenant.ID+"/sites", map[string]any{"name": name}).Want(tb, 201).Map(tb)["id"].(string)
}

func TestCallIngestIdempotentAllOrNothing(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxBatchRecords = 5; c.MaxBatchBytes = 4096 })
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	start := time.Now().Add(-time.Hour)
	batch := []map[string]any{callRec("c1", start, nil), callRec("c2", start.Add(time.Minute), nil), callRec("c3", start.Add(2*time.Minute), nil)}

	if got := ac.MustIngest(t, "acme", batch...); got != (batchResult{Received: 3, Stored: 3}) {
		t.Fatalf("first ingest: %+v", got)
	}
	if got := ac.MustIngest(t, "acme", batch...); got != (batchResult{Received: 3, Stored: 0, Duplicates: 3}) {
		t.Fatalf("re-sent ingest: %+v", got)
	}
	// NDJSON: a new record and a re-sent one.
	var nd bytes.Buffer
	for _, r := range []map[string]any{callRec("c4", start, nil), batch[0]} {
		b, _ := json.Marshal(r)
		nd.Write(append(b, '\n'))
	}
	var res batchResult
	ac.withHeader("Content-Type", "application/x-ndjson").Do(t, "POST", "/v1/tenants/acme/calls", nd.String()).Want(t, 200).JSON(t, &res)
	if res != (batchResult{Received: 2, Stored: 1, Duplicates: 1}) {
		t.Fatalf("NDJSON ingest: %+v", res)
	}

	// All or nothing: every bad record is listed with its index and field.
	bad := []map[string]any{
		callRec("ok-1", start, nil),
		callRec("bad-ts", start, map[string]any{"startTime": "yesterday"}),
		callRec("bad-dur", start, map[string]any{"durationMs": -5}),
		callRec("ok-2", start, nil),
	}
	p := ac.Post(t, "/v1/tenants/acme/calls", bad).WantProblem(t, 400, "")
	if len(p.Errors) != 2 || *p.Errors[0].Index != 1 || p.Errors[0].Field != "startTime" || *p.Errors[1].Index != 2 || p.Errors[1].Field != "durationMs" {
		t.Fatalf("errors: %+v", p.Errors)
	}
	if !strings.Contains(p.Detail, "2 invalid records") || !strings.Contains(p.Detail, "nothing was stored") {
		t.Fatalf("detail: %s", p.Detail)
	}
	// NDJSON: a truncated line and a wrong type, by line.
	body := `{"id":"ok-3","startTime":"` + start.Format(time.RFC3339) + `","durationMs":1000,"direction":"Inbound"}` + "\n" +
		`{"id":"trunc","startTime":"` + "\n" +
		`{"id":"neg","startTime":"` + start.Format(time.RFC3339) + `","durationMs":"long","direction":"Inbound"}` + "\n"
	p = ac.withHeader("Content-Type", "application/x-ndjson").Do(t, "POST", "/v1/tenants/acme/calls", body).WantProblem(t, 400, "")
	if len(p.Errors) != 2 || p.Errors[0].Line != 2 || p.Errors[1].Line != 3 || p.Errors[1].Field != "durationMs" {
		t.Fatalf("NDJSON errors: %s", mustJSON(p.Errors))
	}
	// Unknown site: named with its index; known sites pass.
	site := mustSite(t, acme, "HQ")
	p = ac.Post(t, "/v1/tenants/acme/calls", []map[string]any{
		callRec("s-1", start, map[string]any{"siteId": site}),
		callRec("s-2", start, map[string]any{"siteId": "sit_nosuchsite0000000"}),
	}).WantProblem(t, 400, "siteId")
	if len(p.Errors) != 1 || *p.Errors[0].Index != 1 || p.Errors[0].Field != "siteId" || !strings.Contains(p.Errors[0].Detail, "sit_nosuchsite0000000") {
		t.Fatalf("unknown site errors: %+v", p.Errors)
	}
	// Unknown extensions are plain numbers: stored.
	ac.MustIngest(t, "acme", callRec("s-1", start, map[string]any{"siteId": site, "to": map[string]any{"extensionNumber": "999"}}))

	// Nothing of the refused batches was stored.
	got := ids(listCalls(t, ac, "acme", "limit=100"))
	slices.Sort(got)
	if want := []string{"c1", "c2", "c3", "c4", "s-1"}; !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}

	// Limits are named.
	six := make([]map[string]any, 6)
	for i := range six {
		six[i] = callRec(fmt.Sprintf("n%d", i), start, nil)
	}
	if p := ac.Post(t, "/v1/tenants/acme/calls", six).WantProblem(t, 413, ""); !strings.Contains(p.Detail, "5 records") {
		t.Fatalf("too many records: %s", p.Detail)
	}
	huge := callRec("huge", start, map[string]any{"action": strings.Repeat("x", 5000)})
	if p := ac.Post(t, "/v1/tenants/acme/calls", []map[string]any{huge}).WantProblem(t, 413, ""); !strings.Contains(p.Detail, "4096 bytes") {
		t.Fatalf("too large: %s", p.Detail)
	}
	// Streamed without a Content-Length, the limit is found while reading.
	b, _ := json.Marshal([]map[string]any{huge})
	req := mustRequest(t, ac, "POST", "/v1/tenants/acme/calls", b)
	req.ContentLength = -1
	if p := env.send(t, req).WantProblem(t, 413, ""); !strings.Contains(p.Detail, "4096 bytes") {
		t.Fatalf("too large, chunked: %s", p.Detail)
	}
	ac.withHeader("Content-Type", "text/csv").Do(t, "POST", "/v1/tenants/acme/calls", "a,b").WantProblem(t, 415, "")

	// One audit record per stored batch, in the data service.
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"callBatch"}})
	if len(recs) != 4 {
		t.Fatalf("%d callBatch records, want 4 (two batches, NDJSON, unknown extension)", len(recs))
	}
	if r := recs[1]; r.Service != callvault.AuditData || r.EventType != callvault.EventCreate ||
		r.Details != `{"new":{"duplicates":3,"received":3,"stored":0},"old":{}}` {
		t.Fatalf("batch record: %+v", r)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCallListFilters(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	hq, branch := mustSite(t, acme, "HQ"), mustSite(t, acme, "Branch")
	t0 := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	ac.MustIngest(t, "acme",
		callRec("in-hq", t0, map[string]any{"siteId": hq, "sessionId": "S1", "answerTime": t0.Add(5 * time.Second).Format(time.RFC3339)}),
		callRec("out-br", t0.Add(time.Minute), map[string]any{"siteId": branch, "direction": "Outbound",
			"from": map[string]any{"extensionNumber": "102"}, "to": map[string]any{"phoneNumber": "+4930123456"}, "telephonySessionId": "T9"}),
		callRec("fax", t0.Add(2*time.Minute), map[string]any{"type": "Fax", "to": map[string]any{"extensionNumber": "103"}}),
		callRec("old", t0.Add(-30*time.Hour), nil),
	)
	env.MustUpdate(t, func(tx callvault.Tx) error { // a recording named by a record
		return tx.CreateRecording(&callvault.Recording{TenantID: "acme", ID: "r1", CallID: "in-hq", CreatedAt: time.Now()})
	})
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"fax", "out-br", "in-hq"}}, // the last 24 hours, newest first
		{"from=" + url.QueryEscape(t0.Add(-31*time.Hour).Format(time.RFC3339)), []string{"fax", "out-br", "in-hq", "old"}},
		{"to=" + url.QueryEscape(t0.Add(90*time.Second).Format(time.RFC3339)), []string{"out-br", "in-hq"}},
		{"direction=outbound", []string{"out-br"}},
		{"direction=Inbound,Outbound", []string{"fax", "out-br", "in-hq"}},
		{"type=Fax", []string{"fax"}},
		{"result=Accepted", []string{"in-hq"}},
		{"result=Missed&result=No+Answer", []string{"fax", "out-br"}},
		{"siteId=" + hq, []string{"in-hq"}},
		{"siteId=" + hq + "," + branch, []string{"out-br", "in-hq"}},
		{"extension=102", []string{"out-br"}},
		{"phoneNumber=%2B4930123456", []string{"out-br"}},
		{"phoneNumber=%2B14155550100", []string{"fax", "in-hq"}},
		{"sessionId=S1", []string{"in-hq"}},
		{"telephonySessionId=T9", []string{"out-br"}},
		{"hasRecording=false", []string{"fax", "out-br", "in-hq"}}, // records are immutable: recordingIds come from the source
	}
	for _, tc := range cases {
		if got := ids(listCalls(t, ac, "acme", tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("?%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	for _, bad := range []struct{ query, field, says string }{
		{"limit=0", "limit", "1 to 1000"},
		{"limit=1001", "limit", "1 to 1000"},
		{"limit=many", "limit", "1 to 1000"},
		{"direction=sideways", "direction", "Inbound, Outbound, Internal"},
		{"result=Great", "result", "Accepted"},
		{"type=Video", "type", "Voice, Fax"},
		{"hasRecording=maybe", "hasRecording", "true or false"},
		{"from=yesterday", "from", "RFC 3339"},
		{"colour=blue", "colour", "known:"},
	} {
		p := ac.Get(t, "/v1/tenants/acme/calls?"+bad.query).WantProblem(t, 400, bad.field)
		if !strings.Contains(p.Detail, bad.says) {
			t.Errorf("?%s: %q does not say %q", bad.query, p.Detail, bad.says)
		}
	}
	// One record with its legs.
	var rec callvault.CallRecord
	ac.Get(t, "/v1/tenants/acme/calls/in-hq").Want(t, 200).JSON(t, &rec)
	if rec.ID != "in-hq" || len(rec.Legs) != 1 || !rec.Legs[0].Master || rec.TalkMs != 55000 || rec.SiteID != hq {
		t.Fatalf("record: %+v", rec)
	}
	ac.Get(t, "/v1/tenants/acme/calls/nope").WantProblem(t, 404, "")
}

func TestCallListSnapshotPagesUnderIngest(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	base := time.Now().Add(-20 * time.Hour).Truncate(time.Second)
	var first []map[string]any
	for i := range 45 {
		// Pairs share a start, so the keyset must order by id too.
		first = append(first, callRec(fmt.Sprintf("a%02d", i), base.Add(time.Duration(i/2)*time.Minute), nil))
	}
	ac.MustIngest(t, "acme", first...)

	p := listCalls(t, ac, "acme", "limit=10")
	seen := ids(p)
	// Concurrent ingest between pages, with starts all over the range:
	// none of it may appear in this listing, nothing may repeat or go missing.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 { // not MustIngest: Fatal belongs to the test's goroutine
				b, _ := json.Marshal([]map[string]any{callRec(fmt.Sprintf("b%d-%d", w, i), base.Add(time.Duration(w*5+i)*time.Minute+time.Second), nil)})
				resp, err := env.HTTP.Client().Do(mustRequest(t, ac, "POST", "/v1/tenants/acme/calls", b))
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("concurrent ingest: %v %v", resp, err)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	pages := 1
	for p.NextCursor != nil {
		p = listCalls(t, ac, "acme", "limit=10&cursor="+url.QueryEscape(*p.NextCursor))
		seen = append(seen, ids(p)...)
		pages++
	}
	wg.Wait()
	want := make([]string, 0, 45)
	for _, r := range first {
		want = append(want, r["id"].(string))
	}
	got := slices.Clone(seen)
	slices.Sort(got)
	if !slices.Equal(got, want) || pages != 5 {
		t.Fatalf("%d pages covering %v, want each of %v once", pages, seen, want)
	}
	// Newest first, ties by id descending.
	if seen[0] != "a44" || seen[1] != "a43" || seen[len(seen)-1] != "a00" {
		t.Fatalf("order: %v", seen)
	}
	// A new listing sees the new records.
	if n := len(listCalls(t, ac, "acme", "limit=1000").Records); n != 65 {
		t.Fatalf("new listing: %d records, want 65", n)
	}
}

func TestCallCursorRejected(t *testing.T) {
	env := newTestEnv(t)
	acme, globex := env.MustAdmin(t, "acme"), env.MustAdmin(t, "globex")
	ac, gc := acme.Client(), globex.Client()
	start := time.Now().Add(-time.Hour)
	ac.MustIngest(t, "acme", callRec("x1", start, nil), callRec("x2", start.Add(time.Second), nil), callRec("x3", start.Add(2*time.Second), nil))
	gc.MustIngest(t, "globex", callRec("g1", start, nil), callRec("g2", start.Add(time.Second), nil))
	p := listCalls(t, ac, "acme", "limit=1&direction=Inbound")
	cur := *p.NextCursor
	forged := []byte(cur)
	forged[5] ^= 1
	for name, tc := range map[string]struct {
		c     *testClient
		path  string
		hints string
	}{
		"altered":      {ac, "/v1/tenants/acme/calls?limit=1&direction=Inbound&cursor=" + url.QueryEscape(string(forged)), "malformed or was altered"},
		"garbage":      {ac, "/v1/tenants/acme/calls?cursor=abc", "malformed"},
		"other tenant": {gc, "/v1/tenants/globex/calls?limit=1&direction=Inbound&cursor=" + url.QueryEscape(cur), "not issued for this tenant"},
		"other filter": {ac, "/v1/tenants/acme/calls?limit=1&direction=Outbound&cursor=" + url.QueryEscape(cur), "other filters"},
		"audit cursor": {ac, "/v1/tenants/acme/calls?cursor=" + url.QueryEscape(auditCursorOf(t, ac)), "malformed"},
	} {
		p := tc.c.Get(t, tc.path).WantProblem(t, 400, "cursor")
		if !strings.Contains(p.Detail, tc.hints) {
			t.Errorf("%s: %q does not say %q", name, p.Detail, tc.hints)
		}
	}
	// The same filters, limit changed, continue fine.
	if got := ids(listCalls(t, ac, "acme", "limit=5&direction=Inbound&cursor="+url.QueryEscape(cur))); !slices.Equal(got, []string{"x2", "x1"}) {
		t.Fatalf("continued: %v", got)
	}
}

// mustRequest builds a request of c with a JSON body.
func mustRequest(tb testing.TB, c *testClient, method, path string, body []byte) *http.Request {
	req, err := http.NewRequest(method, c.env.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Error(err)
		return nil
	}
	req.Header = c.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	return req
}

// auditCursorOf returns a valid audit-trail cursor of acme.
func auditCursorOf(t *testing.T, c *testClient) string {
	t.Helper()
	var page auditPage
	c.Get(t, "/v1/tenants/acme/audit?limit=1").Want(t, 200).JSON(t, &page)
	if page.NextCursor == nil {
		t.Fatal("no audit cursor")
	}
	return *page.NextCursor
}

func TestCallCSVExport(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.AuditReads = true })
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	base := time.Now().Add(-10 * time.Hour)
	var recs []map[string]any
	for i := range 2500 {
		recs = append(recs, callRec(fmt.Sprintf("csv-%04d", i), base.Add(time.Duration(i)*time.Second),
			map[string]any{"from": map[string]any{"phoneNumber": "+1415555" + fmt.Sprintf("%04d", i), "name": `Ann "the, caller" Lee`}}))
	}
	ac.MustIngest(t, "acme", recs[:1250]...)
	ac.MustIngest(t, "acme", recs[1250:]...)
	res := ac.withHeader("Accept", "text/csv").Get(t, "/v1/tenants/acme/calls?direction=Inbound&limit=10").Want(t, 200)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if len(rows) != 2501 || rows[0][0] != "id" || rows[1][0] != "csv-2499" || rows[2500][0] != "csv-0000" {
		t.Fatalf("%d rows; header %v; first %v", len(rows), rows[0], rows[1])
	}
	col := slices.Index(rows[0], "fromName")
	if rows[1][col] != `Ann "the, caller" Lee` {
		t.Fatalf("fromName %q", rows[1][col])
	}
	exp := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EventTypes: []string{callvault.EventExport}, EntityTypes: []string{"calls"}})
	if len(exp) != 1 || !strings.Contains(exp[0].Details, `"count":2500`) || !strings.Contains(exp[0].Details, `"direction":["Inbound"]`) {
		t.Fatalf("export audit: %+v", exp)
	}
	// A cursor has no place in an export.
	p := listCalls(t, ac, "acme", "limit=1")
	ac.withHeader("Accept", "text/csv").Get(t, "/v1/tenants/acme/calls?limit=1&cursor="+url.QueryEscape(*p.NextCursor)).WantProblem(t, 400, "cursor")
}

func TestCallOwnershipAndSiteScope(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	hq, branch := mustSite(t, acme, "HQ"), mustSite(t, acme, "Branch")
	start := time.Now().Add(-time.Hour)
	to := func(ext string) map[string]any { return map[string]any{"extensionNumber": ext} }
	ac.MustIngest(t, "acme",
		callRec("mine-1", start, map[string]any{"to": to("101"), "siteId": hq}),
		callRec("mine-2", start.Add(time.Second), map[string]any{"to": to("101"), "siteId": branch}),
		callRec("theirs", start.Add(2*time.Second), map[string]any{"to": to("102"), "siteId": hq}),
		callRec("nobody", start.Add(3*time.Second), map[string]any{"to": map[string]any{"phoneNumber": "+15550001"}}),
	)
	agent := env.mustCallActor(t, "acme", "agent-ann", "101", nil, []callvault.Permission{callvault.PermCallsRead, callvault.PermRecordingsRead}, callvault.RoleAgent)
	gc := agent.Client()

	res := gc.Get(t, "/v1/tenants/acme/calls").Want(t, 200)
	var p callPage
	res.JSON(t, &p)
	if got := ids(p); !slices.Equal(got, []string{"mine-2", "mine-1"}) || res.Header.Get("X-Callvault-Scope") != "own-extension" {
		t.Fatalf("agent sees %v (scope %q)", got, res.Header.Get("X-Callvault-Scope"))
	}
	listCalls(t, gc, "acme", "extension=101")
	for _, path := range []string{"/v1/tenants/acme/calls?extension=102", "/v1/tenants/acme/calls/theirs", "/v1/tenants/acme/calls/nobody"} {
		p := gc.Get(t, path).WantProblem(t, 403, "")
		if p.Layer != access.LayerProduct || p.Missing.Kind != access.MissingOwnership || p.Missing.Name != "calls.read.all" ||
			!strings.Contains(p.Hint, "calls.read.all") {
			t.Fatalf("%s: %+v", path, p)
		}
	}
	gc.Get(t, "/v1/tenants/acme/calls/mine-1").Want(t, 200)

	// A supervisor holding calls.read.all in roles but not in the token is
	// still limited to their own extension (scopes decide too).
	narrow := env.mustCallActor(t, "acme", "sup-narrow", "105", nil, []callvault.Permission{callvault.PermCallsRead}, callvault.RoleSupervisor)
	if got := ids(listCalls(t, narrow.Client(), "acme", "")); len(got) != 0 {
		t.Fatalf("supervisor without the calls.read.all scope sees %v", got)
	}
	// A user without an extension owns nothing.
	noExt := env.mustCallActor(t, "acme", "no-ext", "", nil, []callvault.Permission{callvault.PermCallsRead}, callvault.RoleAgent)
	if got := ids(listCalls(t, noExt.Client(), "acme", "")); len(got) != 0 {
		t.Fatalf("user without extension sees %v", got)
	}

	// A supervisor scoped to HQ reads every extension of HQ only.
	sup := env.mustCallActor(t, "acme", "sup-hq", "200", []string{hq}, tenantScopes, callvault.RoleSupervisor)
	sc := sup.Client()
	res = sc.Get(t, "/v1/tenants/acme/calls").Want(t, 200)
	res.JSON(t, &p)
	if got := ids(p); !slices.Equal(got, []string{"theirs", "mine-1"}) || res.Header.Get("X-Callvault-Scope") != "site-scope" {
		t.Fatalf("site-scoped supervisor sees %v (scope %q)", got, res.Header.Get("X-Callvault-Scope"))
	}
	for _, path := range []string{"/v1/tenants/acme/calls?siteId=" + branch, "/v1/tenants/acme/calls/mine-2"} {
		p := sc.Get(t, path).WantProblem(t, 403, "")
		if p.Layer != access.LayerProduct || p.Missing.Kind != access.MissingSite || p.Missing.Name != branch {
			t.Fatalf("%s: %+v", path, p)
		}
	}
	// The admin (calls.read.all, all sites) sees everything, unrestricted.
	res = ac.Get(t, "/v1/tenants/acme/calls").Want(t, 200)
	res.JSON(t, &p)
	if len(p.Records) != 4 || res.Header.Get("X-Callvault-Scope") != "" {
		t.Fatalf("admin sees %v (scope %q)", ids(p), res.Header.Get("X-Callvault-Scope"))
	}
	// The denials are in the trail with their trace.
	if d := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EventTypes: []string{callvault.EventDeny}, AuditUserID: agent.User.ID}); len(d) != 3 ||
		!strings.Contains(d[0].Trace, `"missing":{"kind":"ownership"`) {
		t.Fatalf("denials: %+v", d)
	}
}

func TestCallRetentionWindow(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	now := time.Now()
	ac.MustIngest(t, "acme", callRec("recent", now.Add(-time.Hour), nil), callRec("ancient", now.Add(-60*24*time.Hour), nil))
	ac.Patch(t, "/v1/tenants/acme/settings", map[string]any{"retentionDays": 30}).Want(t, 200)

	from := url.QueryEscape(now.Add(-45 * 24 * time.Hour).Format(time.RFC3339))
	for _, path := range []string{"/v1/tenants/acme/calls?from=" + from, "/v1/tenants/acme/calls/ancient"} {
		res := ac.Get(t, path)
		p := res.WantProblem(t, 400, "")
		if p.Code != callvault.EOutOfWindow || p.Layer != access.LayerWindow || !strings.Contains(p.Detail, "30 days") ||
			!strings.Contains(p.Detail, "earliest time available is "+p.Missing.Name) {
			t.Fatalf("%s: %s", path, res.Body)
		}
		earliest, err := time.Parse(time.RFC3339, p.Missing.Name)
		if err != nil || earliest.Sub(now.Add(-30*24*time.Hour)).Abs() > time.Minute {
			t.Fatalf("earliest %q, want about %s", p.Missing.Name, now.Add(-30*24*time.Hour))
		}
	}
	ac.Get(t, "/v1/tenants/acme/calls/recent").Want(t, 200)
}

func TestLegalHold(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	ac.MustIngest(t, "acme", callRec("held", time.Now().Add(-time.Hour), nil))
	ac.Post(t, "/v1/tenants/acme/calls/held/legal-hold", nil).Want(t, 200)
	ac.Post(t, "/v1/tenants/acme/calls/held/legal-hold", nil).Want(t, 200) // no change, no record
	var rec callvault.CallRecord
	ac.Get(t, "/v1/tenants/acme/calls/held").Want(t, 200).JSON(t, &rec)
	if !rec.LegalHold {
		t.Fatal("the call is not held")
	}
	ac.Delete(t, "/v1/tenants/acme/calls/held/legal-hold").Want(t, 200)
	var after callvault.CallRecord
	ac.Get(t, "/v1/tenants/acme/calls/held").Want(t, 200).JSON(t, &after)
	if after.LegalHold {
		t.Fatal("the hold was not released")
	}
	ac.Post(t, "/v1/tenants/acme/calls/nope/legal-hold", nil).WantProblem(t, 404, "")
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"call"}})
	if len(recs) != 2 || recs[0].Details != `{"new":{"legalHold":true},"old":{"legalHold":false}}` || recs[1].EntityKey != "held" {
		t.Fatalf("legal hold records: %+v", recs)
	}
	// The tenant's legal hold is a setting.
	s := ac.Patch(t, "/v1/tenants/acme/settings", map[string]any{"legalHold": true}).Want(t, 200).Map(t)
	if s["legalHold"] != true {
		t.Fatalf("settings: %v", s)
	}
	if tn, _ := env.Store.Tenant(context.Background(), "acme"); !tn.LegalHold {
		t.Fatal("tenant legal hold not stored")
	}
}
