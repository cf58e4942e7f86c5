package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

func TestRequestIDIsKeptOrMade(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct {
		in   string
		keep bool
	}{
		{"", false},
		{"client-trace-12345", true},
		{"short", false},
		{"has spaces in it!", false},
		{strings.Repeat("a", 129), false},
	} {
		req, _ := http.NewRequest("GET", env.URL+"/healthz", nil)
		if tc.in != "" {
			req.Header.Set("X-Request-Id", tc.in)
		}
		res := env.send(t, req)
		got := res.Header.Get("X-Request-Id")
		if tc.keep && got != tc.in || !tc.keep && (got == tc.in || !strings.HasPrefix(got, "req_")) {
			t.Errorf("X-Request-Id %q -> %q", tc.in, got)
		}
	}
	// Errors carry it in the body too, and unknown routes are problems.
	res := env.Anon().Get(t, "/v1/nope")
	p := res.WantProblem(t, 404, "")
	if p.RequestID == "" || p.RequestID != res.Header.Get("X-Request-Id") {
		t.Fatalf("problem requestId %q, header %q", p.RequestID, res.Header.Get("X-Request-Id"))
	}
}

// downStore is a store whose Ping fails while down is set.
type downStore struct {
	callvault.Store
	down *atomic.Bool
}

func (d downStore) Ping(ctx context.Context) error {
	if d.down.Load() {
		return errors.New("database unreachable")
	}
	return d.Store.Ping(ctx)
}

func TestHealthReadyMetrics(t *testing.T) {
	down := &atomic.Bool{}
	env := newTestEnv(t, func(c *Config) { c.Store = downStore{c.Store, down} })
	env.Anon().Get(t, "/healthz").Want(t, 200)
	env.Anon().Get(t, "/readyz").Want(t, 200)
	acme := env.MustAdmin(t, "acme")
	acme.Client().Get(t, "/v1/me").Want(t, 200)
	env.Anon().Get(t, "/v1/me").Want(t, 401)
	viewer := env.MustActor(t, "acme", "viewer", []callvault.Permission{callvault.PermCallsRead}, callvault.RoleAgent)
	viewer.Client().Get(t, "/v1/tenants/acme/users").Want(t, 403)

	res := env.Anon().Get(t, "/metrics").Want(t, 200)
	body := string(res.Body)
	for _, want := range []string{
		`callvault_http_requests_total{route="GET /v1/me",status="200"} 1`,
		`callvault_http_requests_total{route="GET /v1/me",status="401"} 1`,
		`callvault_access_denials_total{layer="credential"} 1`,
		`callvault_access_denials_total{layer="scopes"} 1`,
		`callvault_http_request_duration_seconds_bucket{route="GET /v1/me",le=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// readyz fails while the store is unreachable, and recovers.
	down.Store(true)
	r := env.Anon().Get(t, "/readyz")
	r.WantProblem(t, 503, "")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	down.Store(false)
	env.Anon().Get(t, "/readyz").Want(t, 200)
}

func TestMeShowsEffectivePermissionsAndTheirLayer(t *testing.T) {
	env := newTestEnv(t)
	agent := env.MustActor(t, "acme", "sam", []callvault.Permission{callvault.PermCallsRead, callvault.PermAdminRead}, callvault.RoleAgent)
	m := agent.Client().Get(t, "/v1/me").Want(t, 200).Map(t)
	if m["kind"] != "user" || m["tenants"].([]any)[0] != "acme" {
		t.Fatalf("me = %v", m)
	}
	perms := map[string]map[string]any{}
	for _, p := range m["permissions"].([]any) {
		pm := p.(map[string]any)
		perms[pm["permission"].(string)] = pm
	}
	if len(perms) != len(callvault.Permissions) {
		t.Fatalf("%d permissions listed, want %d", len(perms), len(callvault.Permissions))
	}
	if p := perms["calls.read"]; p["effective"] != true || !strings.Contains(p["source"].(string), "agent") {
		t.Errorf("calls.read = %v", p)
	}
	// admin.read is in the token but no role grants it: stops at subject.
	if p := perms["admin.read"]; p["effective"] != false || p["layer"] != "subject" || p["hint"] == "" {
		t.Errorf("admin.read = %v", p)
	}
	// recordings.read is granted by the role but not held by the app: stops at scopes.
	if p := perms["recordings.read"]; p["effective"] != false || p["layer"] != "scopes" {
		t.Errorf("recordings.read = %v", p)
	}
}

func TestExplain(t *testing.T) {
	env := newTestEnv(t)
	admin := env.MustAdmin(t, "acme")
	agent := env.MustActor(t, "acme", "sam", []callvault.Permission{callvault.PermCallsRead}, callvault.RoleAgent)

	// The caller's own decision for a method and path.
	m := agent.Client().Post(t, "/v1/access/explain", map[string]any{"method": "get", "path": "/v1/tenants/acme/users"}).Want(t, 200).Map(t)
	d := m["decision"].(map[string]any)
	if m["route"] != "GET /v1/tenants/{tenant}/users" || d["allowed"] != false || d["layer"] != "scopes" {
		t.Fatalf("explain = %v", m)
	}
	if !strings.Contains(m["table"].(string), "scopes") || !strings.Contains(m["table"].(string), "FAIL") {
		t.Fatalf("table = %s", m["table"])
	}
	// Explaining a route changes nothing and is not itself a denial.
	// For a permission and a resource.
	m = agent.Client().Post(t, "/v1/access/explain", map[string]any{"permission": "calls.read"}).Want(t, 200).Map(t)
	if m["decision"].(map[string]any)["allowed"] != true {
		t.Fatalf("calls.read for agent = %v", m)
	}
	// A tenant admin explains for another user of the tenant.
	m = admin.Client().Post(t, "/v1/access/explain", map[string]any{"permission": "admin.read", "userId": agent.User.ID}).Want(t, 200).Map(t)
	d = m["decision"].(map[string]any)
	if d["allowed"] != false || d["layer"] != "subject" || !strings.Contains(m["principal"].(string), agent.User.ID) {
		t.Fatalf("admin explaining for agent = %v", m)
	}
	// An agent may not explain for someone else: that is an admin read.
	res := agent.Client().Post(t, "/v1/access/explain", map[string]any{"permission": "admin.read", "userId": admin.User.ID})
	if p := res.WantProblem(t, 403, ""); p.Missing == nil || p.Missing.Name != "admin.read" {
		t.Fatalf("agent explaining for admin: %s", res.Body)
	}
	// Nobody explains for a user of another tenant (it looks like no user at all).
	other := env.MustActor(t, "globex", "gus", nil, callvault.RoleAgent)
	admin.Client().Post(t, "/v1/access/explain", map[string]any{"permission": "admin.read", "userId": other.User.ID}).WantProblem(t, 400, "userId")
	// Bad requests name the field.
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "method"},
		{map[string]any{"method": "GET"}, "method"},
		{map[string]any{"method": "GET", "path": "/nowhere"}, "path"},
		{map[string]any{"permission": "calls.fly"}, "permission"},
		{map[string]any{"action": "no.such"}, "action"},
		{map[string]any{"bogus": 1}, "bogus"},
	} {
		admin.Client().Post(t, "/v1/access/explain", tc.body).WantProblem(t, 400, tc.field)
	}
}

func TestAuditQueryFiltersAndCursor(t *testing.T) {
	env := newTestEnv(t)
	admin := env.MustAdmin(t, "acme")
	c := admin.Client()
	for i := range 7 {
		c.Post(t, "/v1/tenants/acme/sites", map[string]any{"name": fmt.Sprintf("Site %d", i)}).Want(t, 201)
	}
	viewer := env.MustActor(t, "acme", "viewer", []callvault.Permission{callvault.PermCallsRead}, callvault.RoleAgent)
	den := viewer.Client().Get(t, "/v1/tenants/acme/users").Want(t, 403)

	type page struct {
		Records    []callvault.AuditRecord `json:"records"`
		NextCursor *string                 `json:"nextCursor"`
		HeadSeq    int64                   `json:"headSeq"`
	}
	get := func(q string) page {
		t.Helper()
		var p page
		c.Get(t, "/v1/tenants/acme/audit?"+q).Want(t, 200).JSON(t, &p)
		return p
	}
	// The denial is found by its request id, with its trace.
	p := get("requestId=" + den.Header.Get("X-Request-Id"))
	if len(p.Records) != 1 || p.Records[0].EventType != "deny" || !strings.Contains(p.Records[0].Trace, `"layer":"scopes"`) {
		t.Fatalf("denial by request id = %+v", p.Records)
	}
	// Filters: entity types are case-insensitive and comma-separated.
	p = get("entityType=SITE,%20apiKey&eventType=create")
	if len(p.Records) != 7 {
		t.Fatalf("site creates = %d", len(p.Records))
	}
	p = get("displayName=Site%205")
	if len(p.Records) != 1 || p.Records[0].DisplayName != "Site 5" {
		t.Fatalf("displayName exact = %+v", p.Records)
	}
	if p = get("displayName=site*&service=platform"); len(p.Records) != 7 {
		t.Fatalf("displayName prefix = %d", len(p.Records))
	}
	if p = get("auditUserId=" + admin.User.ID + "&service=platform"); len(p.Records) != 7 {
		t.Fatalf("by user = %d", len(p.Records))
	}

	// Walk pages of 3 while records keep arriving: the listing stays on its
	// snapshot, pages do not overlap and nothing is skipped.
	var seen []int64
	p = get("service=platform&limit=3")
	head := p.HeadSeq
	for {
		for _, r := range p.Records {
			seen = append(seen, r.Seq)
		}
		c.Post(t, "/v1/tenants/acme/sites", map[string]any{"name": "late"}).Want(t, 201)
		if p.NextCursor == nil {
			break
		}
		p = get("service=platform&limit=3&cursor=" + url.QueryEscape(*p.NextCursor))
	}
	if len(seen) != 7 {
		t.Fatalf("walked %v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] || seen[i] > head {
			t.Fatalf("pages out of order or past the snapshot %d: %v", head, seen)
		}
	}

	// Cursor abuse: forged, another filter, another tenant.
	first := get("service=platform&limit=2")
	cur := *first.NextCursor
	c.Get(t, "/v1/tenants/acme/audit?service=platform&limit=2&cursor=x"+cur[1:]).WantProblem(t, 400, "cursor")
	c.Get(t, "/v1/tenants/acme/audit?service=auth&limit=2&cursor="+url.QueryEscape(cur)).WantProblem(t, 400, "cursor")
	globex := env.MustAdmin(t, "globex")
	res := globex.Client().Get(t, "/v1/tenants/globex/audit?service=platform&limit=2&cursor="+url.QueryEscape(cur))
	if p := res.WantProblem(t, 400, "cursor"); !strings.Contains(p.Detail, "not issued for this tenant") {
		t.Fatalf("other tenant's cursor: %s", res.Body)
	}
	// Limits and bad parameters name themselves.
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "from=yesterday", "to=2026-13-01", "bogus=1",
		"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		field := strings.SplitN(q, "=", 2)[0]
		c.Get(t, "/v1/tenants/acme/audit?"+q).WantProblem(t, 400, field)
	}
}

func TestAuditReadsAreRecordedAndCanBeTurnedOff(t *testing.T) {
	for _, on := range []bool{true, false} {
		env := newTestEnv(t, func(c *Config) { c.AuditReads = on })
		admin := env.MustAdmin(t, "acme")
		res := admin.Client().Get(t, "/v1/me").Want(t, 200)
		recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", RequestID: res.Header.Get("X-Request-Id")})
		if on && (len(recs) != 1 || recs[0].EventType != callvault.EventView || recs[0].Service != callvault.AuditData) {
			t.Fatalf("reads on: %+v", recs)
		}
		if !on && len(recs) != 0 {
			t.Fatalf("reads off: %+v", recs)
		}
	}
}

func TestOversizeAndMalformedBodies(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxBodyBytes = 256 })
	admin := env.MustAdmin(t, "acme")
	big := `{"name":"` + strings.Repeat("x", 300) + `"}`
	p := admin.Client().Post(t, "/v1/tenants/acme/sites", big).WantProblem(t, 413, "")
	if !strings.Contains(p.Detail, "256 bytes") {
		t.Fatalf("413 does not name the limit: %+v", p)
	}
	admin.Client().Post(t, "/v1/tenants/acme/sites", `{"name":`).WantProblem(t, 400, "")
	admin.Client().Post(t, "/v1/tenants/acme/sites", `{"name":1}`).WantProblem(t, 400, "name")
	admin.Client().Post(t, "/v1/tenants/acme/sites", `{"name":"a"}{"name":"b"}`).WantProblem(t, 400, "")
	req, _ := http.NewRequest("POST", env.URL+"/v1/tenants/acme/sites", strings.NewReader("name=a"))
	req.Header.Set("Authorization", "Bearer "+admin.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	env.send(t, req).WantProblem(t, 415, "")
	// Nothing was written by any of them.
	if sites, _ := env.Store.Sites(t.Context(), "acme"); len(sites) != 0 {
		t.Fatalf("sites written: %d", len(sites))
	}
}

// TestConcurrentRequestsKeepOneChain drives many writers and denials at
// once and checks the tenant's chain afterwards.
func TestConcurrentRequestsKeepOneChain(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.AuditReads = true })
	admin := env.MustAdmin(t, "acme")
	viewer := env.MustActor(t, "acme", "viewer", []callvault.Permission{callvault.PermCallsRead}, callvault.RoleAgent)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				switch j % 3 {
				case 0:
					admin.Client().Post(t, "/v1/tenants/acme/sites", map[string]any{"name": fmt.Sprintf("s%d-%d", i, j)}).Want(t, 201)
				case 1:
					admin.Client().Get(t, "/v1/me").Want(t, 200)
				default:
					viewer.Client().Get(t, "/v1/tenants/acme/sites").Want(t, 403)
				}
			}
		}()
	}
	wg.Wait()
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme"})
	prev := ""
	for i, r := range recs {
		if r.Seq != int64(i+1) || r.PrevHash != prev || r.Hash != r.ComputeHash() {
			t.Fatalf("chain broken at %d: %+v", i, r)
		}
		prev = r.Hash
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	env := newTestEnv(t)
	res := env.Anon().Do(t, "PUT", "/v1/me", nil)
	p := res.WantProblem(t, 405, "")
	if res.Header.Get("Allow") != "GET" || p.Code != EMethodNotAllowed {
		t.Fatalf("405: Allow %q, %+v", res.Header.Get("Allow"), p)
	}
	if got := env.Anon().Do(t, "DELETE", "/v1/tenants/acme/users", nil).Header.Get("Allow"); got != "GET, POST" {
		t.Fatalf("Allow = %q", got)
	}
	env.Anon().Get(t, "/v1/unknown/path").WantProblem(t, 404, "")
}
