package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// find returns a principal of the credentials file as JSON fields.
func (cf *credentialsFile) find(t *testing.T, tenant, name string) map[string]any {
	t.Helper()
	for _, p := range cf.Principals {
		if p.Tenant == tenant && p.Name == name {
			b, _ := json.Marshal(p)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			return m
		}
	}
	t.Fatalf("no principal %s/%s in the credentials file", tenant, name)
	return nil
}

// TestDemoEndToEnd follows the "done means" on a real listener:
// the demo with a small dataset and its credentials file; listing and
// filtering calls; a CSV download; a recording read with a Range request;
// events making a live call appear and disappear; an Asterisk CSV imported
// while the server runs; reads older than retention refused with a clear
// error; and every one of those reads found in the audit trail by its
// request id.
func TestDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	data, credsPath := filepath.Join(dir, "demo"), filepath.Join(dir, "creds.json")
	base, printed, stop := startCommand(t, "demo", "--data", data, "--records", "2000", "--credentials-out", credsPath)

	raw, err := os.ReadFile(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(credsPath); st.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v", st.Mode().Perm())
	}
	var cf credentialsFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
	if cf.BaseURL != base || cf.Shape.Calls < 2000 || len(cf.Principals) < 100 {
		t.Fatalf("credentials file: base %s, shape %+v, %d principals", cf.BaseURL, cf.Shape, len(cf.Principals))
	}
	maria, sync := cf.find(t, "acme", "maria"), cf.find(t, "acme", "acme-sync")
	viewer := cf.find(t, "acme", "call-log-viewer")
	auditKey, ingestKey := cf.find(t, "acme", "maria-audit-key")["apiKey"].(string), cf.find(t, "acme", "pbx-ingest-key")["apiKey"].(string)
	if !strings.Contains(printed, auditKey) || !strings.Contains(printed, ingestKey) {
		t.Error("the printed walkthrough and the credentials file disagree")
	}
	login := url.Values{"grant_type": {"password"}, "username": {maria["login"].(string)}, "password": {maria["password"].(string)}}
	tok := basicToken(t, base, sync["clientId"].(string), sync["clientSecret"].(string), login)
	auth := map[string]string{"Authorization": "Bearer " + tok}
	calls := base + "/v1/tenants/acme/calls"
	ex := cf.Examples
	now := time.Now().UTC()
	week := now.AddDate(0, 0, -7).Format(time.RFC3339)

	// reads maps the request id of every successful read to its audit
	// event type; refusals those of the reads refused.
	reads, refusals := map[string]string{}, map[string]string{}
	ok := func(r response, want int, eventType string) response {
		t.Helper()
		if r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
		}
		reads[r.header.Get("X-Request-Id")] = eventType
		return r
	}

	// List, then filter.
	list := ok(do(t, "GET", calls+"?limit=5", auth, nil), 200, "view")
	if recs, _ := list.body["records"].([]any); len(recs) == 0 {
		t.Fatalf("no calls in the last 24 hours: %s", list.raw)
	}
	month := now.AddDate(0, 0, -30).Format(time.RFC3339)
	q := url.Values{"from": {month}, "direction": {"Inbound"}, "result": {"Accepted"}, "siteId": {ex["siteId"].(string)}, "limit": {"50"}}
	filtered := ok(do(t, "GET", calls+"?"+q.Encode(), auth, nil), 200, "view")
	frecs, _ := filtered.body["records"].([]any)
	if len(frecs) == 0 {
		t.Fatalf("the filter found nothing: %s", filtered.raw)
	}
	for _, r := range frecs {
		m := r.(map[string]any)
		if m["direction"] != "Inbound" || m["result"] != "Accepted" || m["siteId"] != ex["siteId"] {
			t.Errorf("filtered record %v", m)
		}
	}

	// A CSV download.
	csv := ok(do(t, "GET", calls+"?from="+url.QueryEscape(week), map[string]string{"Authorization": "Bearer " + tok, "Accept": "text/csv"}, nil), 200, "export")
	rows := strings.Split(strings.TrimSpace(csv.raw), "\n")
	if !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || len(rows) < 10 || !strings.Contains(rows[0], "startTime") {
		t.Fatalf("CSV: %s, %d rows, %.200s", csv.header.Get("Content-Type"), len(rows), csv.raw)
	}

	// A recording: metadata, then its first second with a Range request.
	recURL := base + "/v1/tenants/acme/recordings/" + ex["recordingId"].(string)
	meta := ok(do(t, "GET", recURL, auth, nil), 200, "view")
	if meta.body["contentType"] != "audio/wav" {
		t.Fatalf("recording: %s", meta.raw)
	}
	part := ok(do(t, "GET", recURL+"/content", map[string]string{"Authorization": "Bearer " + tok, "Range": "bytes=0-16043"}, nil), 206, "export")
	size := int64(ex["recordingSize"].(float64))
	if len(part.raw) != 16044 || part.header.Get("Content-Range") != fmt.Sprintf("bytes 0-16043/%d", size) ||
		!strings.HasPrefix(part.raw, "RIFF") || part.raw[8:12] != "WAVE" {
		t.Fatalf("range read: %d bytes, Content-Range %q", len(part.raw), part.header.Get("Content-Range"))
	}

	// A live call appears with its ringing event and disappears when it ends.
	ingest := map[string]string{"X-API-Key": ingestKey}
	post := func(ev map[string]any) {
		t.Helper()
		if r := do(t, "POST", base+"/v1/tenants/acme/call-events", ingest, ev); r.status != 200 {
			t.Fatalf("posting %v: %d %s", ev["type"], r.status, r.raw)
		}
	}
	active := func() bool {
		t.Helper()
		r := ok(do(t, "GET", base+"/v1/tenants/acme/active-calls", auth, nil), 200, "view")
		return strings.Contains(r.raw, `"callId":"e2e-call-1"`) || strings.Contains(r.raw, `"callId": "e2e-call-1"`)
	}
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	post(map[string]any{"id": "e2e-ev-1", "callId": "e2e-call-1", "type": "ringing", "timestamp": ts(0), "siteId": ex["siteId"],
		"direction": "Inbound", "from": map[string]any{"phoneNumber": "+14155550100"}, "to": map[string]any{"extensionNumber": "101"}})
	if !active() {
		t.Fatal("the ringing call is not live")
	}
	post(map[string]any{"id": "e2e-ev-2", "callId": "e2e-call-1", "type": "answered", "timestamp": ts(2 * time.Second)})
	post(map[string]any{"id": "e2e-ev-3", "callId": "e2e-call-1", "type": "ended", "timestamp": ts(30 * time.Second)})
	if active() {
		t.Fatal("the ended call is still live")
	}
	if r := ok(do(t, "GET", calls+"/e2e-call-1", auth, nil), 200, "view"); r.body["result"] != "Accepted" || r.body["talkMs"] != 28000.0 {
		t.Errorf("the ended call's record: %s", r.raw)
	}

	// An Asterisk Master.csv imported into the running installation.
	csvPath := masterCSV(t, dir, yesterdayIn(t, "America/New_York"))
	out, _, err := runCmd(t, "", "import", "--data", data, "--tenant", "acme", "--format", "asterisk-csv", "--site", "NYC-PBX", csvPath)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "(6 new, 0 duplicates, 4 bad)") {
		t.Fatalf("import: %v %s", err, out)
	}
	imp := ok(do(t, "GET", calls+"?"+url.Values{"from": {week}, "telephonySessionId": {"1793872800.101"}}.Encode(), auth, nil), 200, "view")
	if recs, _ := imp.body["records"].([]any); len(recs) != 1 {
		t.Fatalf("the imported call is not served: %s", imp.raw)
	}

	// Reads older than retention are refused, saying why and from when.
	refused := func(u string) {
		t.Helper()
		r := do(t, "GET", u, auth, nil)
		if r.status != 400 || r.body["code"] != "out_of_window" || r.body["layer"] != "window" || r.body["hint"] == "" ||
			!strings.Contains(r.body["detail"].(string), "keeps call data for 730 days") {
			t.Fatalf("read older than retention: %d %s", r.status, r.raw)
		}
		refusals[r.header.Get("X-Request-Id")] = "deny"
	}
	refused(calls + "?from=" + url.QueryEscape(now.AddDate(0, 0, -800).Format(time.RFC3339)))
	refused(calls + "/" + url.PathEscape(ex["expiredCallId"].(string)))

	// A denial that explains itself: the viewer app lacks recordings.read.
	vt := basicToken(t, base, viewer["clientId"].(string), viewer["clientSecret"].(string), login)
	den := do(t, "GET", recURL+"/content", map[string]string{"Authorization": "Bearer " + vt}, nil)
	if den.status != 403 || den.body["layer"] != "scopes" || !strings.Contains(den.body["hint"].(string), "recordings.read") {
		t.Fatalf("viewer reading a recording: %d %s", den.status, den.raw)
	}
	refusals[den.header.Get("X-Request-Id")] = "deny"

	// Every read, and every refusal, is in the audit trail.
	key := map[string]string{"X-API-Key": auditKey}
	find := func(rid, eventType string) {
		t.Helper()
		r := do(t, "GET", base+"/v1/tenants/acme/audit?requestId="+url.QueryEscape(rid), key, nil)
		recs, _ := r.body["records"].([]any)
		if r.status != 200 || len(recs) != 1 || recs[0].(map[string]any)["eventType"] != eventType {
			t.Errorf("request %s: audit %d %s, want one %s record", rid, r.status, r.raw, eventType)
		}
	}
	for rid, et := range reads {
		find(rid, et)
	}
	for rid, et := range refusals {
		find(rid, et)
	}
	r := do(t, "GET", base+"/v1/tenants/acme/audit?entityType=callImport", key, nil)
	if recs, _ := r.body["records"].([]any); len(recs) != 1 {
		t.Errorf("import audit record: %s", r.raw)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "audit", "verify", "--data", data); strings.Count(out, ": OK") != 4 {
		t.Fatalf("verify: %s", out)
	}
	if out := mustRun(t, "", "purge", "--data", data, "--dry-run"); !strings.Contains(out, "tenant globex: would purge") {
		t.Errorf("purge dry run: %s", out)
	}
}
