package http

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Tests of ingest bodies that are one JSON object pretty-printed over
// several lines (POST .../calls and .../call-events): a batch of one,
// whatever the Content-Type; NDJSON and arrays as before.

// prettyJSON marshals v indented over several lines, with white space
// around it.
func prettyJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return "\n  " + string(b) + "\n\n"
}

func TestIngestPrettyPrintedObject(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxBatchBytes = 4096 })
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	nd := ac.withHeader("Content-Type", "application/x-ndjson")
	site := mustSite(t, acme, "HQ")
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	caller := map[string]any{"phoneNumber": "+14155550142", "name": "Alice"}

	// A pretty-printed event drives a live call, under either Content-Type.
	var res eventResult
	ac.Post(t, "/v1/tenants/acme/call-events", prettyJSON(t, ev("p1", "pretty-1", "ringing", t0, map[string]any{"siteId": site,
		"from": caller, "to": map[string]any{"extensionNumber": "101"}}))).Want(t, 200).JSON(t, &res)
	if res.Received != 1 || res.Applied != 1 {
		t.Fatalf("pretty ringing: %+v", res)
	}
	nd.Post(t, "/v1/tenants/acme/call-events", prettyJSON(t, ev("p2", "pretty-1", "answered", t0.Add(5*time.Second), nil))).Want(t, 200).JSON(t, &res)
	if res.Received != 1 || res.Applied != 1 {
		t.Fatalf("pretty answered (NDJSON Content-Type): %+v", res)
	}
	live := activeCalls(t, ac, "")
	if len(live) != 1 || live[0].CallID != "pretty-1" || live[0].State != "answered" || live[0].Extension != "101" || live[0].SiteID != site {
		t.Fatalf("live calls: %+v", live)
	}
	// Re-sent pretty-printed: a duplicate.
	ac.Post(t, "/v1/tenants/acme/call-events", prettyJSON(t, ev("p2", "pretty-1", "answered", t0.Add(5*time.Second), nil))).Want(t, 200).JSON(t, &res)
	if res.Received != 1 || res.Applied != 0 || res.Duplicates != 1 {
		t.Fatalf("pretty duplicate: %+v", res)
	}

	// A pretty-printed call record is stored, under either Content-Type.
	var br batchResult
	ac.Post(t, "/v1/tenants/acme/calls", prettyJSON(t, callRec("pr-1", start, map[string]any{"siteId": site}))).Want(t, 200).JSON(t, &br)
	if br != (batchResult{Received: 1, Stored: 1}) {
		t.Fatalf("pretty record: %+v", br)
	}
	nd.Post(t, "/v1/tenants/acme/calls", prettyJSON(t, callRec("pr-2", start.Add(time.Minute), nil))).Want(t, 200).JSON(t, &br)
	if br != (batchResult{Received: 1, Stored: 1}) {
		t.Fatalf("pretty record (NDJSON Content-Type): %+v", br)
	}
	var rec struct {
		ID, SiteID, Direction string
		DurationMs            int64
	}
	ac.Get(t, "/v1/tenants/acme/calls/pr-1").Want(t, 200).JSON(t, &rec)
	if rec.ID != "pr-1" || rec.SiteID != site || rec.Direction != "Inbound" || rec.DurationMs != 60000 {
		t.Fatalf("stored pretty record: %+v", rec)
	}

	// NDJSON and arrays as before.
	var lines []string
	for _, r := range []map[string]any{callRec("nd-1", start, nil), callRec("nd-2", start, nil)} {
		b, _ := json.Marshal(r)
		lines = append(lines, string(b))
	}
	nd.Post(t, "/v1/tenants/acme/calls", strings.Join(lines, "\n")+"\n").Want(t, 200).JSON(t, &br)
	if br != (batchResult{Received: 2, Stored: 2}) {
		t.Fatalf("NDJSON: %+v", br)
	}
	ac.Post(t, "/v1/tenants/acme/calls", []map[string]any{callRec("ar-1", start, nil), callRec("nd-1", start, nil)}).Want(t, 200).JSON(t, &br)
	if br != (batchResult{Received: 2, Stored: 1, Duplicates: 1}) {
		t.Fatalf("array: %+v", br)
	}
	b1, _ := json.Marshal(ev("q1", "pretty-2", "ringing", t0, map[string]any{"from": caller}))
	b2, _ := json.Marshal(ev("q2", "pretty-2", "held", t0.Add(time.Second), nil))
	p := nd.Post(t, "/v1/tenants/acme/call-events", string(b1)+"\n"+string(b2)+"\n").WantProblem(t, http.StatusConflict, "type")
	if len(p.Errors) != 1 || *p.Errors[0].Index != 1 {
		t.Fatalf("NDJSON events, held before answered: %s", mustJSON(p))
	}
	// A bad first NDJSON line is still reported by line, with the lines
	// after it.
	body := `{"id":"bad-1","startTime":` + "\n" + lines[0] + "\n" + `{"id":"bad-3","startTime":"x","direction":"Inbound"}` + "\n"
	p = nd.Post(t, "/v1/tenants/acme/calls", body).WantProblem(t, 400, "")
	if len(p.Errors) != 2 || p.Errors[0].Line != 1 || p.Errors[1].Line != 3 || p.Errors[1].Field != "startTime" {
		t.Fatalf("NDJSON with a bad first line: %s", mustJSON(p))
	}

	// A truncated pretty-printed object: a 400 naming the problem and
	// where, nothing stored.
	whole := prettyJSON(t, callRec("tr-1", start, nil))
	p = ac.Post(t, "/v1/tenants/acme/calls", whole[:strings.Index(whole, `"startTime"`)]).WantProblem(t, 400, "")
	if !strings.Contains(p.Detail, "ends inside its JSON object (begun on line 2)") || !strings.Contains(p.Detail, "the last data is at line 8, column") || len(p.Errors) != 0 {
		t.Fatalf("truncated record: %s", mustJSON(p))
	}
	wholeEv := prettyJSON(t, ev("tr-e", "pretty-3", "ringing", t0, map[string]any{"from": caller}))
	p = nd.Post(t, "/v1/tenants/acme/call-events", wholeEv[:len(wholeEv)-4]).WantProblem(t, 400, "")
	if !strings.Contains(p.Detail, "ends inside its JSON object") || !strings.Contains(p.Detail, "line ") {
		t.Fatalf("truncated event: %s", mustJSON(p))
	}
	// Broken JSON inside it: the line, column and byte of the problem.
	p = ac.Post(t, "/v1/tenants/acme/calls", strings.Replace(whole, `"Inbound",`, `"Inbound"`, 1)).WantProblem(t, 400, "")
	if !strings.Contains(p.Detail, "not a valid JSON object (begun on line 2) at line 4, column 3 (byte 33)") || !strings.Contains(p.Detail, "(byte ") {
		t.Fatalf("broken record: %s", mustJSON(p))
	}
	// Two pretty-printed objects: one object or a batch, not both.
	p = ac.Post(t, "/v1/tenants/acme/calls", whole+whole).WantProblem(t, 400, "")
	if !strings.Contains(p.Detail, "more data after it") {
		t.Fatalf("two objects: %s", mustJSON(p))
	}

	// A pretty-printed object with an invalid field: the item error, with
	// index 0 and the field.
	p = ac.Post(t, "/v1/tenants/acme/calls", prettyJSON(t, callRec("bad-dur", start, map[string]any{"durationMs": -5}))).WantProblem(t, 400, "")
	if len(p.Errors) != 1 || p.Errors[0].Index == nil || *p.Errors[0].Index != 0 || p.Errors[0].Field != "durationMs" || !strings.Contains(p.Detail, "1 invalid record") {
		t.Fatalf("invalid pretty record: %s", mustJSON(p))
	}
	p = nd.Post(t, "/v1/tenants/acme/call-events", prettyJSON(t, ev("bad-t", "pretty-4", "teleported", t0, nil))).WantProblem(t, 400, "")
	if len(p.Errors) != 1 || p.Errors[0].Index == nil || *p.Errors[0].Index != 0 || p.Errors[0].Field != "type" {
		t.Fatalf("invalid pretty event: %s", mustJSON(p))
	}
	p = ac.Post(t, "/v1/tenants/acme/call-events", prettyJSON(t, ev("bad-s", "pretty-5", "ringing", t0, map[string]any{"from": caller, "siteId": "sit_nosuchsite0000000"}))).
		WantProblem(t, 400, "siteId")
	if len(p.Errors) != 1 || *p.Errors[0].Index != 0 {
		t.Fatalf("pretty event of an unknown site: %s", mustJSON(p))
	}

	// Over the body limit: a 413 naming it, whether streamed or not.
	huge := prettyJSON(t, callRec("huge", start, map[string]any{"action": strings.Repeat("x", 5000)}))
	if p := ac.Post(t, "/v1/tenants/acme/calls", huge).WantProblem(t, 413, ""); !strings.Contains(p.Detail, "4096 bytes") {
		t.Fatalf("too large: %s", p.Detail)
	}
	req := mustRequest(t, ac, "POST", "/v1/tenants/acme/calls", []byte(huge))
	req.ContentLength = -1
	if p := env.send(t, req).WantProblem(t, 413, ""); !strings.Contains(p.Detail, "4096 bytes") {
		t.Fatalf("too large, chunked: %s", p.Detail)
	}

	// Nothing of the refused bodies was stored.
	got := ids(listCalls(t, ac, "acme", "limit=100"))
	slices.Sort(got)
	if want := []string{"ar-1", "nd-1", "nd-2", "pr-1", "pr-2"}; !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	if live := activeCalls(t, ac, ""); len(live) != 1 || live[0].CallID != "pretty-1" {
		t.Fatalf("refused events changed live calls: %+v", live)
	}
}
