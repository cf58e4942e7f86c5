package http

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// Tests of live calls, call events, the event export, analytics, the
// FreeSWITCH endpoint, and the audit records of every call-data read.

// ev is a call event as a client sends it.
func ev(id, callID, typ string, at time.Time, extra map[string]any) map[string]any {
	m := map[string]any{"id": id, "callId": callID, "type": typ, "timestamp": at.UTC().Format(time.RFC3339Nano)}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// postEvents posts events and returns the response.
func postEvents(tb testing.TB, c *testClient, tenant string, body any) *testResponse {
	tb.Helper()
	return c.Post(tb, "/v1/tenants/"+tenant+"/call-events", body)
}

// activeCalls lists the live calls.
func activeCalls(tb testing.TB, c *testClient, query string) []callvault.ActiveCall {
	tb.Helper()
	var l itemList[callvault.ActiveCall]
	c.Get(tb, "/v1/tenants/acme/active-calls?"+query).Want(tb, 200).JSON(tb, &l)
	return l.Items
}

func TestCallEventsDriveActiveCalls(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	site := mustSite(t, acme, "HQ")
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	caller := map[string]any{"phoneNumber": "+14155550142", "name": "Alice"}

	// One event, as a single JSON object.
	var res eventResult
	postEvents(t, ac, "acme", ev("e1", "live-1", "ringing", t0, map[string]any{"siteId": site, "from": caller,
		"to": map[string]any{"extensionNumber": "101"}})).Want(t, 200).JSON(t, &res)
	if res.Received != 1 || res.Applied != 1 {
		t.Fatalf("ringing: %+v", res)
	}
	live := activeCalls(t, ac, "")
	if len(live) != 1 || live[0].CallID != "live-1" || live[0].State != "ringing" || live[0].Extension != "101" || live[0].SiteID != site {
		t.Fatalf("after ringing: %+v", live)
	}
	// A batch, NDJSON; the answered event re-sent is a duplicate.
	var nd bytes.Buffer
	for _, e := range []map[string]any{
		ev("e2", "live-1", "answered", t0.Add(5*time.Second), nil),
		ev("e2", "live-1", "answered", t0.Add(5*time.Second), nil),
		ev("e3", "live-1", "recording_started", t0.Add(6*time.Second), map[string]any{"recordingId": "rec-live-1"}),
		ev("f1", "live-2", "ringing", t0.Add(7*time.Second), map[string]any{"from": caller, "to": map[string]any{"extensionNumber": "102"}}),
	} {
		b, _ := json.Marshal(e)
		nd.Write(append(b, '\n'))
	}
	ac.withHeader("Content-Type", "application/x-ndjson").Do(t, "POST", "/v1/tenants/acme/call-events", nd.String()).Want(t, 200).JSON(t, &res)
	if res.Received != 4 || res.Applied != 3 || res.Duplicates != 1 || len(res.Ended) != 0 {
		t.Fatalf("batch: %+v", res)
	}
	live = activeCalls(t, ac, "")
	if len(live) != 2 || live[0].State != "answered" || !live[0].Recording || live[1].CallID != "live-2" {
		t.Fatalf("after batch: %+v", live)
	}
	// The agent of 101 sees only their call, and is denied 102's.
	agent := env.mustCallActor(t, "acme", "agent-ann", "101", nil, []callvault.Permission{callvault.PermActiveCallsRead, callvault.PermCallsRead}, callvault.RoleAgent)
	res2 := agent.Client().Get(t, "/v1/tenants/acme/active-calls").Want(t, 200)
	var mine itemList[callvault.ActiveCall]
	res2.JSON(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].CallID != "live-1" || res2.Header.Get("X-Callvault-Scope") != "own-extension" {
		t.Fatalf("agent's live calls: %+v", mine.Items)
	}
	if p := agent.Client().Get(t, "/v1/tenants/acme/active-calls?extension=102").WantProblem(t, 403, ""); p.Missing.Kind != access.MissingOwnership {
		t.Fatalf("agent on 102: %+v", p)
	}

	// All or nothing: a bad batch stores nothing, naming index and field.
	p := postEvents(t, ac, "acme", []map[string]any{
		ev("g1", "live-3", "ringing", t0.Add(8*time.Second), map[string]any{"from": caller}),
		ev("g2", "live-3", "answered", t0, nil), // older than ringing
	}).WantProblem(t, http.StatusConflict, "timestamp")
	if len(p.Errors) != 1 || *p.Errors[0].Index != 1 || p.Errors[0].Field != "timestamp" {
		t.Fatalf("out of order: %s", mustJSON(p))
	}
	p = postEvents(t, ac, "acme", []map[string]any{
		ev("h1", "live-4", "answered", t0, nil), // never rang
	}).WantProblem(t, http.StatusConflict, "callId")
	if *p.Errors[0].Index != 0 {
		t.Fatalf("never rang: %s", mustJSON(p))
	}
	p = postEvents(t, ac, "acme", []map[string]any{
		ev("i1", "live-5", "ringing", t0, map[string]any{"from": caller}),
		ev("i2", "live-5", "teleported", t0, nil),
		ev("", "live-5", "ended", t0, nil),
		ev("i4", "live-5", "ringing", t0, map[string]any{"siteId": "sit_nosuchsite0000000", "from": caller}),
	}).WantProblem(t, 400, "")
	if len(p.Errors) != 2 || *p.Errors[0].Index != 1 || p.Errors[0].Field != "type" || *p.Errors[1].Index != 2 || p.Errors[1].Field != "id" {
		t.Fatalf("invalid events: %s", mustJSON(p))
	}
	p = postEvents(t, ac, "acme", []map[string]any{ev("i4", "live-5", "ringing", t0, map[string]any{"siteId": "sit_nosuchsite0000000", "from": caller})}).
		WantProblem(t, 400, "siteId")
	if *p.Errors[0].Index != 0 {
		t.Fatalf("unknown site: %s", mustJSON(p))
	}
	if live := activeCalls(t, ac, ""); len(live) != 2 {
		t.Fatalf("refused batches changed live calls: %+v", live)
	}

	// ended finishes the call: gone from live calls, a record with its
	// recording id, listed.
	postEvents(t, ac, "acme", []map[string]any{ev("e9", "live-1", "ended", t0.Add(65*time.Second), nil)}).Want(t, 200).JSON(t, &res)
	if !slices.Equal(res.Ended, []string{"live-1"}) {
		t.Fatalf("ended: %+v", res)
	}
	if live := activeCalls(t, ac, ""); len(live) != 1 || live[0].CallID != "live-2" {
		t.Fatalf("after ended: %+v", live)
	}
	var rec callvault.CallRecord
	ac.Get(t, "/v1/tenants/acme/calls/live-1").Want(t, 200).JSON(t, &rec)
	if rec.Result != callvault.ResultAccepted || rec.TalkMs != 60000 || rec.SiteID != site || !slices.Equal(rec.RecordingIDs, []string{"rec-live-1"}) {
		t.Fatalf("finished record: %+v", rec)
	}
	if got := ids(listCalls(t, ac, "acme", "hasRecording=true")); !slices.Equal(got, []string{"live-1"}) {
		t.Fatalf("listed: %v", got)
	}
	// After ended, the call takes no more events.
	postEvents(t, ac, "acme", []map[string]any{ev("e10", "live-1", "held", t0.Add(70*time.Second), nil)}).WantProblem(t, http.StatusConflict, "callId")
	// One audit record per applied batch.
	if n := len(env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"callEventBatch"}})); n != 3 {
		t.Fatalf("%d event batch records, want 3", n)
	}
}

func TestEventExport(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	t0 := time.Now().Add(-time.Hour)
	var evs []map[string]any
	for i := range 1500 {
		evs = append(evs, ev("ev-"+strconv.Itoa(i), "call-"+strconv.Itoa(i), "ringing", t0.Add(time.Duration(i)*time.Millisecond),
			map[string]any{"to": map[string]any{"extensionNumber": "101"}}))
	}
	postEvents(t, ac, "acme", evs).Want(t, 200)

	res := ac.Get(t, "/v1/tenants/acme/events").Want(t, 200)
	if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	var n int
	var last int64
	for sc.Scan() {
		var e callvault.CallEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if e.Seq <= last {
			t.Fatalf("seq %d after %d", e.Seq, last)
		}
		last = e.Seq
		n++
	}
	if n != 1500 {
		t.Fatalf("%d events exported, want 1500", n)
	}
	// afterSeq resumes.
	res = ac.Get(t, "/v1/tenants/acme/events?afterSeq=1400").Want(t, 200)
	if got := bytes.Count(res.Body, []byte("\n")); got != 100 {
		t.Fatalf("after seq 1400: %d events", got)
	}
	// The window: at most 31 days, inside retention.
	from := url.QueryEscape(time.Now().Add(-40 * 24 * time.Hour).Format(time.RFC3339))
	if p := ac.Get(t, "/v1/tenants/acme/events?from="+from).WantProblem(t, 400, ""); p.Code != callvault.EOutOfWindow || !strings.Contains(p.Detail, "31 days") {
		t.Fatalf("window: %+v", p)
	}
	// analytics.read is not analytics.export: a supervisor is denied, with the hint.
	sup := env.mustCallActor(t, "acme", "sup", "200", nil, tenantScopes, callvault.RoleSupervisor)
	p := sup.Client().Get(t, "/v1/tenants/acme/events").WantProblem(t, 403, "")
	if p.Layer != access.LayerSubject || p.Missing.Name != "analytics.export" || !strings.Contains(p.Hint, "integrator") {
		t.Fatalf("supervisor: %+v", p)
	}
}

func TestCallAnalytics(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	ac.Patch(t, "/v1/tenants/acme/settings", map[string]any{"timezone": "America/New_York"}).Want(t, 200)
	ny, _ := time.LoadLocation("America/New_York")
	d := time.Now().In(ny).AddDate(0, 0, -10)
	midnight := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, ny)
	at := func(offset time.Duration) string { return midnight.Add(offset).UTC().Format(time.RFC3339) }
	ac.MustIngest(t, "acme",
		callRec("before", midnight.Add(-30*time.Minute), nil), // the evening before, local time
		callRec("after-1", midnight.Add(30*time.Minute), map[string]any{"answerTime": at(30*time.Minute + 10*time.Second)}),
		callRec("after-2", midnight.Add(2*time.Hour), map[string]any{"direction": "Outbound", "from": map[string]any{"extensionNumber": "101"},
			"to": map[string]any{"phoneNumber": "+15550002"}, "answerTime": at(2*time.Hour + 30*time.Second)}),
	)
	q := "from=" + url.QueryEscape(midnight.Add(-24*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(midnight.Add(24*time.Hour).Format(time.RFC3339))

	// The admin has no license with analytics: the product gate says so.
	p := ac.Get(t, "/v1/tenants/acme/analytics/calls?"+q).WantProblem(t, 403, "")
	if p.Layer != access.LayerProduct || p.Missing.Kind != access.MissingLicense || p.Missing.Name != "analytics" {
		t.Fatalf("license gate: %+v", p)
	}
	ac.Post(t, "/v1/tenants/acme/licenses", map[string]any{"name": "pro", "features": []string{"analytics"}}).Want(t, 201)
	ac.Patch(t, "/v1/tenants/acme/users/"+acme.User.ID, map[string]any{"license": "pro"}).Want(t, 200)

	var got analyticsResponse
	ac.Get(t, "/v1/tenants/acme/analytics/calls?"+q).Want(t, 200).JSON(t, &got)
	if got.Timezone != "America/New_York" || len(got.Buckets) != 2 {
		t.Fatalf("day buckets: %s", mustJSON(got))
	}
	b0, b1 := got.Buckets[0], got.Buckets[1]
	if !b0.Start.Equal(midnight.AddDate(0, 0, -1)) || b0.Calls != 1 || b0.Missed != 1 ||
		!b1.Start.Equal(midnight) || b1.Calls != 2 || b1.Answered != 2 || b1.TalkSeconds != 80 || b1.AverageTalkSeconds != 40 {
		t.Fatalf("day buckets: %s", mustJSON(got))
	}
	// The bucket starts at local midnight, written with the tenant's offset.
	var raw struct {
		Buckets []struct{ Start string } `json:"buckets"`
	}
	ac.Get(t, "/v1/tenants/acme/analytics/calls?"+q).Want(t, 200).JSON(t, &raw)
	if raw.Buckets[1].Start != midnight.Format(time.RFC3339) {
		t.Fatalf("bucket start %s, want %s", raw.Buckets[1].Start, midnight.Format(time.RFC3339))
	}
	ac.Get(t, "/v1/tenants/acme/analytics/calls?"+q+"&interval=hour&groupBy=direction").Want(t, 200).JSON(t, &got)
	if len(got.Buckets) != 3 || got.Buckets[2].Key != "Outbound" || !got.Buckets[2].Start.Equal(midnight.Add(2*time.Hour)) {
		t.Fatalf("hour buckets by direction: %s", mustJSON(got))
	}
	ac.Get(t, "/v1/tenants/acme/analytics/calls?"+q+"&interval=week").Want(t, 200).JSON(t, &got)
	for _, b := range got.Buckets {
		if lt := b.Start.In(ny); lt.Weekday() != time.Monday || lt.Hour() != 0 {
			t.Fatalf("week bucket %s does not start on a local Monday midnight", b.Start)
		}
	}
	for _, bad := range []struct{ query, field string }{
		{"", "to"},
		{q + "&interval=month", "interval"},
		{q + "&groupBy=colour", "groupBy"},
	} {
		ac.Get(t, "/v1/tenants/acme/analytics/calls?"+bad.query).WantProblem(t, 400, bad.field)
	}
	long := "from=" + url.QueryEscape(time.Now().Add(-400*24*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(time.Now().Format(time.RFC3339))
	if p := ac.Get(t, "/v1/tenants/acme/analytics/calls?"+long).WantProblem(t, 400, ""); p.Code != callvault.EOutOfWindow || !strings.Contains(p.Detail, "366 days") {
		t.Fatalf("max window: %+v", p)
	}
}

// fsVariant reads one of ingest's FreeSWITCH HTTP samples: its
// Content-Type and body.
func fsVariant(tb testing.TB, name string) (string, []byte) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", "testdata", "freeswitch-http", name))
	if err != nil {
		tb.Fatal(err)
	}
	head, body, _ := bytes.Cut(b, []byte("\n\n"))
	return strings.TrimSpace(strings.TrimPrefix(string(head), "Content-Type:")), body
}

func TestFreeSWITCHEndpoint(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	site := mustSite(t, acme, "FS PBX")
	newKey := func(scopes ...string) string {
		k := ac.Post(t, "/v1/tenants/acme/api-keys", map[string]any{"name": "freeswitch", "subjectKind": "user",
			"subjectId": acme.User.ID, "scopes": scopes}).Want(t, 201).Map(t)
		return k["key"].(string)
	}
	key := newKey("calls.write")
	post := func(user, pass, ctype string, body []byte) *testResponse {
		// The module appends ?uuid= to a url that has a query already.
		req, _ := http.NewRequest("POST", env.URL+"/v1/tenants/acme/freeswitch/cdr?siteId="+site+"?uuid=62f746b4-84e6-4ceb-95bd-447e7184d454", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("User-Agent", "freeswitch-json/1.0")
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		return env.send(t, req)
	}
	for i, name := range []string{"01-default.http", "02-raw.http", "03-form.http", "04-base64.http", "05-nocontinue.http"} {
		ctype, body := fsVariant(t, name)
		var res fsResult
		post("freeswitch", key, ctype, body).Want(t, 200).JSON(t, &res)
		want := batchResult{Received: 1, Duplicates: 1} // every variant carries the same call
		if i == 0 {
			want = batchResult{Received: 1, Stored: 1}
		}
		if res.batchResult != want {
			t.Fatalf("%s: %+v", name, res)
		}
	}
	var rec callvault.CallRecord
	ac.Get(t, "/v1/tenants/acme/calls/62f746b4-84e6-4ceb-95bd-447e7184d454").Want(t, 200).JSON(t, &rec)
	if rec.SiteID != site || rec.From.PhoneNumber == "" || len(rec.Legs) == 0 {
		t.Fatalf("stored CDR: %+v", rec)
	}
	// Variant 06 cannot be recovered: 400 naming cdr, nothing stored.
	ctype, body := fsVariant(t, "06-double.http")
	if p := post("freeswitch", key, ctype, body).WantProblem(t, 400, "cdr"); !strings.Contains(p.Detail, "encode-values=false") {
		t.Fatalf("variant 06: %s", p.Detail)
	}
	ctype, body = fsVariant(t, "02-raw.http")
	post("freeswitch", "", ctype, body).WantProblem(t, 401, "")
	post("freeswitch", credential.New(credential.PrefixAPIKey), ctype, body).WantProblem(t, 401, "") // unknown
	post("freeswitch", "not-a-key", ctype, body).WantProblem(t, 401, "")                             // malformed
	post("freeswitch", newKey("calls.read"), ctype, body).WantProblem(t, 403, "")
	post("freeswitch", key, ctype, []byte("not a cdr")).WantProblem(t, 400, "")
	// Basic with an API key works only where a route declares it.
	req, _ := http.NewRequest("GET", env.URL+"/v1/tenants/acme/calls", nil)
	req.SetBasicAuth("freeswitch", key)
	env.send(t, req).WantProblem(t, 401, "")
}

func TestCallReadsAudited(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.AuditReads = true })
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	ac.Post(t, "/v1/tenants/acme/licenses", map[string]any{"name": "pro", "features": []string{"analytics"}}).Want(t, 201)
	ac.Patch(t, "/v1/tenants/acme/users/"+acme.User.ID, map[string]any{"license": "pro"}).Want(t, 200)
	t0 := time.Now().Add(-time.Hour)
	ac.MustIngest(t, "acme", callRec("a1", t0, nil), callRec("a2", t0.Add(time.Second), nil))
	postEvents(t, ac, "acme", []map[string]any{ev("e1", "l1", "ringing", t0, map[string]any{"to": map[string]any{"extensionNumber": "101"}})}).Want(t, 200)

	reads := []struct {
		path, event, entity, detail string
	}{
		{"/v1/tenants/acme/calls?direction=Inbound", "view", "calls", `"count":2`},
		{"/v1/tenants/acme/calls/a1", "view", "call", ""},
		{"/v1/tenants/acme/active-calls", "view", "activeCalls", `"count":1`},
		{"/v1/tenants/acme/events", "export", "callEvents", `"afterSeq":0`},
		{"/v1/tenants/acme/analytics/calls?from=" + url.QueryEscape(t0.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(time.Now().Format(time.RFC3339)), "view", "callAnalytics", `"buckets":1`},
	}
	for _, rd := range reads {
		res := ac.Get(t, rd.path).Want(t, 200)
		recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", RequestID: res.Header.Get("X-Request-Id")})
		if len(recs) != 1 || recs[0].Service != callvault.AuditData || recs[0].EventType != rd.event || recs[0].EntityType != rd.entity ||
			!strings.Contains(recs[0].Details, rd.detail) || recs[0].AuditUserID != acme.User.ID {
			t.Errorf("%s: audit %+v", rd.path, recs)
		}
	}
}
