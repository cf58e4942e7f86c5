package genesys

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// otherNode is a second server on e's store, audit writer and keys, with a
// face of its own (nothing in memory shared with e's): another node behind
// the same load balancer.
func (e *gcEnv) otherNode() *gcEnv {
	e.t.Helper()
	s := cvhttp.New(e.Config)
	ts := httptest.NewServer(s.Handler())
	e.t.Cleanup(ts.Close)
	env := *e.Env
	env.Server, env.HTTP, env.URL = s, ts, ts.URL
	return &gcEnv{Env: &env, t: e.t, app: e.app, secret: e.secret, now: e.now}
}

func (e *gcEnv) interval() string {
	return e.now.Add(-time.Hour).Format(time.RFC3339) + "/" + e.now.Add(time.Hour).Format(time.RFC3339)
}

// submit posts an asynchronous query and returns its id.
func (e *gcEnv) submit(tok string, q map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/api/v2/audits/query", tok, q)
	if r.status != 202 || r.body["state"] != "Succeeded" {
		e.t.Fatalf("submit: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	if url.PathEscape(id) != id || strings.ContainsAny(id, "/?#%+") {
		e.t.Fatalf("id is not URL-safe: %q", id)
	}
	return id
}

// pages reads every results page of id, pageSize 1, alternating between
// the nodes given, and returns the audit record ids in order.
func pages(t *testing.T, id, tok string, nodes ...*gcEnv) []string {
	t.Helper()
	var ids []string
	cur := ""
	for i := 0; ; i++ {
		p := "/api/v2/audits/query/" + id + "/results?pageSize=1"
		if cur != "" {
			p += "&cursor=" + url.QueryEscape(cur)
		}
		r := nodes[i%len(nodes)].do("GET", p, tok, nil)
		if r.status != 200 || r.body["id"] != id || r.body["pageSize"].(float64) != 1 {
			t.Fatalf("results page %d on node %d: %d %s", i, i%len(nodes), r.status, r.raw)
		}
		for _, x := range r.body["entities"].([]any) {
			ids = append(ids, x.(map[string]any)["id"].(string))
		}
		c, _ := r.body["cursor"].(string)
		if c == "" {
			return ids
		}
		cur = c
	}
}

func wantNotFound(t *testing.T, what string, r resp) {
	t.Helper()
	if r.status != 404 || r.body["code"] != "not.found" || int(r.body["status"].(float64)) != 404 {
		t.Fatalf("%s: want 404 not.found, got %d %s", what, r.status, r.raw)
	}
	if h, _ := r.body["hint"].(string); strings.Contains(h, "memory") || !strings.Contains(h, "24 hours") {
		t.Fatalf("%s: hint %q", what, h)
	}
}

// TestAsyncAuditQueryAcrossNodes: a transaction submitted to one node is
// polled, status and every results page, on another node of the same
// store and keys, and on both alternately; the snapshot holds against
// records written after the submission.
func TestAsyncAuditQueryAcrossNodes(t *testing.T) {
	a := newGC(t)
	b := a.otherNode()
	tok := a.mustToken("")
	for range 4 {
		a.do("GET", "/api/v2/analytics/events", tok, nil) // denials to find
	}
	q := map[string]any{"interval": a.interval(), "serviceName": "access",
		"filters": []map[string]string{{"property": "Action", "value": "deny"}},
		"sort":    []map[string]string{{"name": "Timestamp", "sortOrder": "descending"}}}
	sub := a.do("POST", "/api/v2/audits/query", tok, q)
	if sub.status != 202 {
		t.Fatalf("submit: %d %s", sub.status, sub.raw)
	}
	id := sub.body["id"].(string)
	if len(id) > 600 {
		t.Errorf("id of a small query is %d characters", len(id))
	}
	st := b.do("GET", "/api/v2/audits/query/"+id, tok, nil)
	if st.status != 200 {
		t.Fatalf("status on the other node: %d %s", st.status, st.raw)
	}
	// The status is the submit response, on any node.
	var want, got map[string]any
	_ = json.Unmarshal([]byte(sub.raw), &want)
	_ = json.Unmarshal([]byte(st.raw), &got)
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Fatalf("status differs from submit:\n%s\n%s", wb, gb)
	}
	if st.body["interval"] != q["interval"] || st.body["serviceName"] != "access" ||
		len(st.body["filters"].([]any)) != 1 || len(st.body["sort"].([]any)) != 1 {
		t.Fatalf("status: %s", st.raw)
	}
	onB := pages(t, id, tok, b)
	if len(onB) != 4 {
		t.Fatalf("want the 4 denials on the other node, got %d: %v", len(onB), onB)
	}
	// More denials after the submission are outside the snapshot.
	b.do("GET", "/api/v2/analytics/events", tok, nil)
	a.do("GET", "/api/v2/analytics/events", tok, nil)
	for _, ids := range [][]string{pages(t, id, tok, a), pages(t, id, tok, a, b), pages(t, id, tok, b, a)} {
		if strings.Join(ids, ",") != strings.Join(onB, ",") {
			t.Fatalf("pages differ between nodes: %v vs %v", ids, onB)
		}
	}
	// A results cursor from one node continues on the other, not on
	// another transaction.
	first := a.do("GET", "/api/v2/audits/query/"+id+"/results?pageSize=1", tok, nil)
	cur := first.body["cursor"].(string)
	if _, err := strconv.Atoi(cur); err == nil {
		t.Fatalf("cursor is a bare offset: %q", cur)
	}
	next := b.do("GET", "/api/v2/audits/query/"+id+"/results?pageSize=1&cursor="+url.QueryEscape(cur), tok, nil)
	if next.status != 200 || next.body["entities"].([]any)[0].(map[string]any)["id"] != onB[1] {
		t.Fatalf("cursor on the other node: %d %s", next.status, next.raw)
	}
	other := a.submit(tok, map[string]any{"interval": a.interval()})
	for _, c := range []string{cur, "1", "2", tamper(cur)} {
		r := b.do("GET", "/api/v2/audits/query/"+other+"/results?cursor="+url.QueryEscape(c), tok, nil)
		if r.status != 400 || r.body["code"] != "bad.request" {
			t.Fatalf("cursor %q on another transaction: %d %s", c, r.status, r.raw)
		}
	}
}

// tamper flips one character of a signed token's body.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) / 4
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestAsyncAuditQueryNotFound: a tampered id, one re-signed by another key,
// another org's, another app's and an expired id are each the same 404
// not.found, on status and results.
func TestAsyncAuditQueryNotFound(t *testing.T) {
	e := newGC(t)
	tok := e.mustToken("")
	id := e.submit(tok, map[string]any{"interval": e.interval(), "serviceName": "ContactCenter"})
	b := e.otherNode()
	// check asks nodes (e and b when none are given) for id's status and
	// results.
	check := func(what, id, tok string, nodes ...*gcEnv) {
		t.Helper()
		if len(nodes) == 0 {
			nodes = []*gcEnv{e, b}
		}
		for _, n := range nodes {
			wantNotFound(t, what+" status", n.do("GET", "/api/v2/audits/query/"+url.PathEscape(id), tok, nil))
			wantNotFound(t, what+" results", n.do("GET", "/api/v2/audits/query/"+url.PathEscape(id)+"/results", tok, nil))
		}
	}
	if r := e.do("GET", "/api/v2/audits/query/"+id, tok, nil); r.status != 200 {
		t.Fatalf("own id: %d %s", r.status, r.raw)
	}
	check("unknown", "nope", tok)
	check("tampered", tamper(id), tok)

	// The envelope rewritten to say another app, with the old signature.
	body, sig, _ := strings.Cut(id, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	var env map[string]any
	_ = json.Unmarshal(raw, &env)
	env["d"].(map[string]any)["a"] = "someone-else"
	raw, _ = json.Marshal(env)
	check("re-addressed", base64.RawURLEncoding.EncodeToString(raw)+"."+sig, tok)

	// Another server with another cursor key: the id is forged there.
	cfg := e.Config
	cfg.CursorKey = []byte("another key of thirty-two bytes!")
	s := cvhttp.New(cfg)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	env2 := *e.Env
	env2.Server, env2.URL = s, ts.URL
	check("other key", id, tok, &gcEnv{Env: &env2, t: t, app: e.app, secret: e.secret, now: e.now})

	// Another org: the same app with a token for org second.
	e.consent("second", []callvault.Permission{callvault.PermAuditRead}, callvault.RoleAdmin)
	tokSecond := e.mustToken("second")
	check("another org's", id, tokSecond)
	idSecond := e.submit(tokSecond, map[string]any{"interval": e.interval()})
	check("another org's (reverse)", idSecond, tok)

	// Another app of the same org.
	app2, secret2 := e.MustApp(t, "home", "Other Client", []string{callvault.GrantClientCredentials}, []callvault.Permission{callvault.PermAuditRead})
	app2.Roles = []string{callvault.RoleAdmin}
	e.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateApp(app2) })
	other := &gcEnv{Env: e.Env, t: t, app: app2, secret: secret2, now: e.now}
	tok2 := other.mustToken("")
	check("another app's", id, tok2)
	if r := other.do("GET", "/api/v2/audits/query/"+other.submit(tok2, map[string]any{"interval": e.interval()}), tok2, nil); r.status != 200 {
		t.Fatalf("the other app's own id: %d %s", r.status, r.raw)
	}

	// Expired: a transaction sealed 25 hours ago by this server's key.
	started := time.Now().UTC().Add(-25 * time.Hour).Truncate(time.Millisecond)
	old := &auditTx{Tenant: "home", App: e.app.ID, Query: auditQuery{Interval: e.interval()}, Head: 1,
		Started: started, Expires: started.Add(auditTxTTL)}
	expired, err := old.seal(e.Server)
	if err != nil {
		t.Fatal(err)
	}
	check("expired", expired, tok)
	// The same, sealed with an expiry still ahead but started more than
	// 24 hours ago, is expired as well.
	old.Expires = time.Now().Add(time.Hour)
	stale, _ := old.seal(e.Server)
	check("started 25 hours ago", stale, tok)
	// And one sealed 23 hours ago still answers.
	old.Started = time.Now().UTC().Add(-23 * time.Hour).Truncate(time.Millisecond)
	old.Expires = old.Started.Add(auditTxTTL)
	live, _ := old.seal(e.Server)
	if r := e.do("GET", "/api/v2/audits/query/"+live+"/results", tok, nil); r.status != 200 {
		t.Fatalf("23 hours old: %d %s", r.status, r.raw)
	}
}

// TestAsyncAuditQueryTooLarge: a query too large for its id is refused at
// submit with a 400 naming the limit; the realtime query has no such limit.
func TestAsyncAuditQueryTooLarge(t *testing.T) {
	e := newGC(t)
	tok := e.mustToken("")
	var filters []map[string]string
	for i := range 40 {
		filters = append(filters, map[string]string{"property": "RequestId", "value": "req_" + strings.Repeat("x", 20) + string(rune('a'+i%26))})
	}
	q := map[string]any{"interval": e.interval(), "filters": filters}
	r := e.do("POST", "/api/v2/audits/query", tok, q)
	if r.status != 400 || r.body["code"] != "bad.request" || !strings.Contains(r.body["message"].(string), "1024 bytes") {
		t.Fatalf("over-large query: %d %s", r.status, r.raw)
	}
	if rt := e.do("POST", "/api/v2/audits/query/realtime", tok, q); rt.status != 200 {
		t.Fatalf("realtime with the same query: %d %s", rt.status, rt.raw)
	}
	// Just under the limit: accepted, and its id stays short enough for
	// a URL.
	q["filters"] = filters[:20]
	id := e.submit(tok, q)
	if len(id) > 2000 {
		t.Fatalf("id of a query under the limit is %d characters", len(id))
	}
	if r := e.do("GET", "/api/v2/audits/query/"+id, tok, nil); r.status != 200 || len(r.body["filters"].([]any)) != 20 {
		t.Fatalf("status of a large query: %d %s", r.status, r.raw)
	}
}
