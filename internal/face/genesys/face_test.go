package genesys

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// gcEnv is a server with the face over a real SQLite store: org "home"
// (region us) with the dashboard app and call records, org "second" (us)
// and org "faraway" (eu).
type gcEnv struct {
	*httptestenv.Env
	t      *testing.T
	app    *callvault.App
	secret string
	now    time.Time
}

func newGC(t *testing.T, opts ...Options) *gcEnv {
	t.Helper()
	o := Options{}
	if len(opts) > 0 {
		o = opts[0]
	}
	e := &gcEnv{t: t, Env: httptestenv.New(t, func(c *cvhttp.Config) { c.Faces = []cvhttp.Face{New(o)}; c.TokenFailures = 3 }),
		now: time.Now().UTC().Truncate(time.Millisecond)}
	e.MustTenant(t, "home", "us")
	e.MustTenant(t, "second", "us")
	e.MustTenant(t, "faraway", "eu")
	e.app, e.secret = e.MustApp(t, "home", "Compliance Dashboard", []string{callvault.GrantClientCredentials},
		[]callvault.Permission{callvault.PermAnalyticsRead, callvault.PermAuditRead})
	e.app.Roles = []string{callvault.RoleAdmin}
	e.saveApp()
	at := func(h int) time.Time { return e.now.Add(-time.Duration(h) * time.Hour) }
	var calls []*callvault.CallRecord
	for i, dir := range []string{callvault.DirectionInbound, callvault.DirectionOutbound, callvault.DirectionInbound} {
		start := at(i + 1)
		calls = append(calls, &callvault.CallRecord{TenantID: "home", ID: "c" + string(rune('1'+i)), Start: start, End: start.Add(time.Minute),
			DurationMs: 60000, Direction: dir, Type: callvault.CallVoice, Result: callvault.ResultAccepted,
			From: callvault.Party{PhoneNumber: "+1650555000" + string(rune('1'+i))}, To: callvault.Party{ExtensionNumber: "101"}})
	}
	events := []*callvault.CallEvent{
		{TenantID: "home", ID: "ev1", CallID: "live1", Type: callvault.EventRinging, Timestamp: at(0), Direction: callvault.DirectionInbound, ReceivedAt: e.now},
		{TenantID: "home", ID: "ev2", CallID: "live1", Type: callvault.EventAnswered, Timestamp: at(0), Direction: callvault.DirectionInbound, ReceivedAt: e.now},
	}
	e.MustUpdate(t, func(tx callvault.Tx) error {
		if _, err := tx.PutCalls(calls); err != nil {
			return err
		}
		_, err := tx.PutCallEvents(events)
		return err
	})
	return e
}

func (e *gcEnv) saveApp() {
	e.MustUpdate(e.t, func(tx callvault.Tx) error { return tx.UpdateApp(e.app) })
}

func (e *gcEnv) setScopes(perms ...callvault.Permission) {
	e.app.Scopes = perms
	e.app.UpdatedAt = time.Now().UTC()
	e.saveApp()
}

func (e *gcEnv) consent(tenant string, scopes []callvault.Permission, roles ...string) {
	n := time.Now().UTC()
	e.MustUpdate(e.t, func(tx callvault.Tx) error {
		return tx.PutConsent(&callvault.Consent{TenantID: tenant, AppID: e.app.ID, AppTenant: "home", Scopes: scopes, Roles: roles, CreatedAt: n, UpdatedAt: n})
	})
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *gcEnv) do(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req)
}

func (e *gcEnv) send(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

// token fetches a client-credentials token at path for org ("" = home).
func (e *gcEnv) token(path, org string) resp {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if org != "" {
		form.Set("tenant", org)
	}
	req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.app.ID, e.secret)
	return e.send(req)
}

func (e *gcEnv) mustToken(org string) string {
	e.t.Helper()
	r := e.token("/oauth/token", org)
	if r.status != 200 {
		e.t.Fatalf("token for %q: %d %s", org, r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

// wantDenied checks a 403 ErrorBody with code and detail errorCode.
func wantDenied(t *testing.T, r resp, code, detailCode string) {
	t.Helper()
	if r.status != 403 || r.body["code"] != code || int(r.body["status"].(float64)) != 403 {
		t.Fatalf("want 403 %s, got %d %s", code, r.status, r.raw)
	}
	if r.body["contextId"] != r.header.Get("ININ-Correlation-Id") || r.header.Get("x-genesys-cloud-request-id") == "" {
		t.Fatalf("contextId %v does not match headers %v", r.body["contextId"], r.header)
	}
	if detailCode != "" {
		ds, _ := r.body["details"].([]any)
		if len(ds) == 0 || ds[0].(map[string]any)["errorCode"] != detailCode {
			t.Fatalf("want detail %s, got %s", detailCode, r.raw)
		}
	}
	if h, _ := r.body["hint"].(string); h == "" {
		t.Fatalf("no hint: %s", r.raw)
	}
}

func TestTokenAndOrg(t *testing.T) {
	e := newGC(t)
	for _, path := range []string{"/oauth/token", TokenPath} {
		r := e.token(path, "")
		if r.status != 200 || r.body["access_token"] == "" || !strings.EqualFold(r.body["token_type"].(string), "bearer") {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
	}
	r := e.token(TokenPath, "")
	if r.header.Get("ININ-Correlation-Id") == "" || r.body["org"] != "home" || !strings.Contains(r.body["scope"].(string), ScopeAnalyticsRead) {
		t.Fatalf("face token: %v %s", r.header, r.raw)
	}
	// Bad secret: the vendor's AuthErrorResponse.
	req, _ := http.NewRequest("POST", e.URL+TokenPath, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.app.ID, "wrong")
	bad := e.send(req)
	if bad.status != 401 || bad.body["error"] != "invalid_client" || bad.body["description"] == "" || bad.body["error_description"] == "" {
		t.Fatalf("bad secret: %d %s", bad.status, bad.raw)
	}
	tok := e.mustToken("")
	org := e.do("GET", "/api/v2/organizations/me", tok, nil)
	if org.status != 200 || org.body["id"] != "home" || org.body["region"] != "us" || org.header.Get("ININ-Correlation-Id") == "" {
		t.Fatalf("org: %d %s", org.status, org.raw)
	}
	none := e.do("GET", "/api/v2/organizations/me", "", nil)
	if none.status != 401 || none.body["code"] != "authentication.required" || none.header.Get("ININ-Correlation-Id") == "" {
		t.Fatalf("no token: %d %s", none.status, none.raw)
	}
	unknown := e.do("GET", "/api/v2/nothing", tok, nil)
	if unknown.status != 404 || unknown.body["code"] != "not.found" {
		t.Fatalf("unknown: %d %s", unknown.status, unknown.raw)
	}
}

// TestSeedScopes: analytics:read alone is the seed's 403 on events; adding
// analytics:export does not change the old token (new token required); a
// new token works; removing a scope is effective at once; the denial's
// correlation id finds its decision trace through the audit query.
func TestSeedScopes(t *testing.T) {
	e := newGC(t)
	tok := e.mustToken("")
	r := e.do("GET", "/api/v2/analytics/events", tok, nil)
	wantDenied(t, r, CodeMissingPermissions, DetailScopeMissing)
	if r.body["message"] != deniedMessage || r.body["messageParams"].(map[string]any)["permissions"] != "[analytics:export]" {
		t.Fatalf("seed 403: %s", r.raw)
	}
	e.setScopes(callvault.PermAnalyticsRead, callvault.PermAnalyticsExport, callvault.PermAuditRead)
	r = e.do("GET", "/api/v2/analytics/events", tok, nil)
	wantDenied(t, r, CodeMissingPermissions, DetailStaleScope)
	if r.body["messageParams"].(map[string]any)["newTokenRequired"] != "true" {
		t.Fatalf("stale: %s", r.raw)
	}
	cid := r.header.Get("ININ-Correlation-Id")

	tok2 := e.mustToken("")
	ok := e.do("GET", "/api/v2/analytics/events?pageSize=1", tok2, nil)
	if ok.status != 200 || len(ok.body["entities"].([]any)) != 1 || ok.body["cursor"] == nil {
		t.Fatalf("events: %d %s", ok.status, ok.raw)
	}
	next := e.do("GET", "/api/v2/analytics/events?pageSize=1&cursor="+ok.body["cursor"].(string), tok2, nil)
	if next.status != 200 || len(next.body["entities"].([]any)) != 1 || next.body["cursor"] != nil {
		t.Fatalf("events page 2: %d %s", next.status, next.raw)
	}

	// The denial's trace, found by its correlation id.
	q := map[string]any{"interval": e.now.Add(-time.Hour).Format(time.RFC3339) + "/" + e.now.Add(time.Hour).Format(time.RFC3339),
		"filters": []map[string]string{{"property": "RequestId", "value": cid}}}
	a := e.do("POST", "/api/v2/audits/query/realtime", tok2, q)
	if a.status != 200 || a.body["total"].(float64) < 1 {
		t.Fatalf("trace lookup: %d %s", a.status, a.raw)
	}
	ent := a.body["entities"].([]any)[0].(map[string]any)
	if tr, _ := ent["context"].(map[string]any)["trace"].(string); !strings.Contains(tr, "scopes") {
		t.Fatalf("no trace: %s", a.raw)
	}

	// Removed: effective at once on the new token.
	e.setScopes(callvault.PermAnalyticsRead, callvault.PermAuditRead)
	wantDenied(t, e.do("GET", "/api/v2/analytics/events", tok2, nil), CodeMissingPermissions, DetailScopeRemoved)
}

// TestSecondaryOrgs: no consent, consent without the scope, service
// principal without the role, data residency: each a named denial.
func TestSecondaryOrgs(t *testing.T) {
	e := newGC(t)
	e.setScopes(callvault.PermAnalyticsRead, callvault.PermAnalyticsExport, callvault.PermAuditRead)
	// No consent: no token for that org.
	r := e.token(TokenPath, "second")
	if r.status != 400 || r.body["error"] != "invalid_grant" || !strings.Contains(r.raw, "no active consent") {
		t.Fatalf("no consent: %d %s", r.status, r.raw)
	}
	// Consent without analytics.export.
	e.consent("second", []callvault.Permission{callvault.PermAnalyticsRead, callvault.PermAuditRead}, callvault.RoleAdmin)
	tok := e.mustToken("second")
	org := e.do("GET", "/api/v2/organizations/me", tok, nil)
	if org.body["id"] != "second" {
		t.Fatalf("org: %s", org.raw)
	}
	wantDenied(t, e.do("GET", "/api/v2/analytics/events", tok, nil), CodeMissingPermissions, DetailConsentScope)
	// Consent with the scope, but the service principal's role lacks it.
	e.consent("second", []callvault.Permission{callvault.PermAnalyticsRead, callvault.PermAnalyticsExport, callvault.PermAuditRead}, callvault.RoleSupervisor)
	tok = e.mustToken("second")
	r = e.do("GET", "/api/v2/analytics/events", tok, nil)
	wantDenied(t, r, CodeMissingPermissions, DetailRoleMissing)
	if !strings.Contains(r.body["hint"].(string), "supervisor") {
		t.Fatalf("role denial names no role: %s", r.raw)
	}
	// The seed's fix: org second gives the service principal an
	// "Analytics - Export" role.
	n := time.Now().UTC()
	e.MustUpdate(t, func(tx callvault.Tx) error {
		return tx.CreateRole(&callvault.Role{TenantID: "second", Name: "Analytics - Export",
			Permissions: []callvault.Permission{callvault.PermAnalyticsExport}, CreatedAt: n, UpdatedAt: n})
	})
	e.consent("second", []callvault.Permission{callvault.PermAnalyticsRead, callvault.PermAnalyticsExport, callvault.PermAuditRead},
		callvault.RoleSupervisor, callvault.RoleAuditor, "Analytics - Export")
	if r := e.do("GET", "/api/v2/analytics/events", tok, nil); r.status != 200 {
		t.Fatalf("with role: %d %s", r.status, r.raw)
	}
	// The trustors listing names the admitting org.
	home := e.mustToken("")
	tr := e.do("GET", "/api/v2/orgauthorization/trustors", home, nil)
	if tr.status != 200 || tr.body["total"].(float64) != 1 || tr.body["entities"].([]any)[0].(map[string]any)["id"] != "second" {
		t.Fatalf("trustors: %d %s", tr.status, tr.raw)
	}
	// Consent revoked after the token: the org has not authorized the app.
	e.MustUpdate(t, func(tx callvault.Tx) error { return tx.DeleteConsent("second", e.app.ID) })
	wantDenied(t, e.do("GET", "/api/v2/analytics/events", tok, nil), CodeNoConsent, CodeNoConsent)

	// Data residency: org faraway is in eu, the app in us.
	e.consent("faraway", []callvault.Permission{callvault.PermAnalyticsRead, callvault.PermAnalyticsExport}, callvault.RoleIntegrator)
	tok = e.mustToken("faraway")
	r = e.do("GET", "/api/v2/analytics/events", tok, nil)
	wantDenied(t, r, CodeDataResidency, CodeDataResidency)
	if h := r.body["hint"].(string); !strings.Contains(h, "us") || !strings.Contains(h, "eu") || !strings.Contains(h, "allowedClientRegions") {
		t.Fatalf("residency hint: %s", r.raw)
	}
	ten := e.MustTenant(t, "faraway", "")
	ten.AllowedClientRegions = []string{"us"}
	e.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateTenant(ten) })
	if r := e.do("GET", "/api/v2/analytics/events", tok, nil); r.status != 200 {
		t.Fatalf("allowed region: %d %s", r.status, r.raw)
	}
}

func TestAsyncAuditQuery(t *testing.T) {
	e := newGC(t)
	tok := e.mustToken("")
	for range 3 {
		e.do("GET", "/api/v2/analytics/events", tok, nil) // denials to find
	}
	iv := e.now.Add(-time.Hour).Format(time.RFC3339) + "/" + e.now.Add(time.Hour).Format(time.RFC3339)
	sub := e.do("POST", "/api/v2/audits/query", tok, map[string]any{"interval": iv, "serviceName": "access",
		"sort": []map[string]string{{"name": "Timestamp", "sortOrder": "descending"}}})
	if sub.status != 202 || sub.body["state"] != "Succeeded" {
		t.Fatalf("submit: %d %s", sub.status, sub.raw)
	}
	id := sub.body["id"].(string)
	st := e.do("GET", "/api/v2/audits/query/"+id, tok, nil)
	if st.status != 200 || st.body["id"] != id {
		t.Fatalf("status: %d %s", st.status, st.raw)
	}
	seen, cur, last := 0, "", ""
	for {
		p := "/api/v2/audits/query/" + id + "/results?pageSize=2"
		if cur != "" {
			p += "&cursor=" + cur
		}
		r := e.do("GET", p, tok, nil)
		if r.status != 200 {
			t.Fatalf("results: %d %s", r.status, r.raw)
		}
		for _, x := range r.body["entities"].([]any) {
			d := x.(map[string]any)["eventDate"].(string)
			if last != "" && d > last {
				t.Fatalf("not descending: %s after %s", d, last)
			}
			last = d
			seen++
		}
		c, _ := r.body["cursor"].(string)
		if c == "" {
			break
		}
		cur = c
	}
	if seen != 3 {
		t.Fatalf("want the 3 denials, saw %d", seen)
	}
	if r := e.do("GET", "/api/v2/audits/query/nope/results", tok, nil); r.status != 404 || r.body["code"] != "not.found" {
		t.Fatalf("unknown tx: %d %s", r.status, r.raw)
	}
	bad := e.do("POST", "/api/v2/audits/query/realtime", tok, map[string]any{"interval": "yesterday"})
	if bad.status != 400 || bad.body["code"] != "bad.request" {
		t.Fatalf("bad interval: %d %s", bad.status, bad.raw)
	}
}

func TestConversationDetails(t *testing.T) {
	e := newGC(t)
	tok := e.mustToken("")
	iv := e.now.Add(-24*time.Hour).Format(time.RFC3339) + "/" + e.now.Add(time.Hour).Format(time.RFC3339)
	r := e.do("POST", "/api/v2/analytics/conversations/details/query", tok, map[string]any{"interval": iv, "order": "desc",
		"segmentFilters": []map[string]any{{"type": "and", "predicates": []map[string]string{{"dimension": "direction", "value": "inbound"}}}},
		"paging":         map[string]int{"pageSize": 1, "pageNumber": 1}})
	if r.status != 200 || r.body["totalHits"].(float64) != 2 {
		t.Fatalf("details: %d %s", r.status, r.raw)
	}
	cs := r.body["conversations"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["conversationId"] != "c1" {
		t.Fatalf("details page: %s", r.raw)
	}
	r = e.do("POST", "/api/v2/analytics/conversations/details/query", tok, map[string]any{"interval": iv,
		"paging": map[string]int{"pageSize": 25, "pageNumber": 1}})
	cs = r.body["conversations"].([]any)
	if len(cs) != 3 || cs[0].(map[string]any)["conversationId"] != "c3" {
		t.Fatalf("details asc: %s", r.raw)
	}
	r = e.do("POST", "/api/v2/analytics/conversations/details/query", tok, map[string]any{"interval": iv, "aggregations": []any{},
		"evaluationFilters": []any{}})
	if r.status != 200 {
		t.Fatalf("empty unsupported parts: %d %s", r.status, r.raw)
	}
	r = e.do("POST", "/api/v2/analytics/conversations/details/query", tok, map[string]any{"interval": iv,
		"surveyFilters": []map[string]any{{"type": "and"}}})
	if r.status != 400 || r.body["code"] != "bad.request" || !strings.Contains(r.raw, "surveyFilters") {
		t.Fatalf("survey filters: %d %s", r.status, r.raw)
	}
	e.setScopes(callvault.PermAuditRead)
	r = e.do("POST", "/api/v2/analytics/conversations/details/query", tok, map[string]any{"interval": iv})
	wantDenied(t, r, CodeMissingPermissions, DetailScopeRemoved)
}

func TestRateLimitBody(t *testing.T) {
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v2/analytics/events", nil)
	render(w, req, &cvhttp.RateLimitError{Reason: "too fast", RetryAfter: 41500 * time.Millisecond})
	var b map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &b)
	if w.Code != 429 || w.Header().Get("Retry-After") != "42" || b["code"] != "too.many.requests.retry.after" ||
		b["message"] != "Rate limit exceeded the maximum. Retry the request in [42] seconds" {
		t.Fatalf("429: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

// TestRateLimits: the client's API requests per window, then failed
// token requests, end in the vendor's 429 with Retry-After.
func TestRateLimits(t *testing.T) {
	e := newGC(t, Options{RequestsPerMinute: 2, Window: time.Hour})
	tok := e.mustToken("")
	for i := range 2 {
		if r := e.do("GET", "/api/v2/organizations/me", tok, nil); r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.raw)
		}
	}
	r := e.do("GET", "/api/v2/organizations/me", tok, nil)
	if r.status != 429 || r.body["code"] != "too.many.requests.retry.after" || r.header.Get("Retry-After") == "" ||
		!strings.HasPrefix(r.body["message"].(string), "Rate limit exceeded the maximum. Retry the request in [") ||
		r.body["contextId"] != r.header.Get("ININ-Correlation-Id") {
		t.Fatalf("429: %d %v %s", r.status, r.header, r.raw)
	}
	// Failed token requests (TokenFailures = 3).
	var last resp
	for range 5 {
		req, _ := http.NewRequest("POST", e.URL+TokenPath, strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.app.ID, "wrong")
		last = e.send(req)
	}
	if last.status != 429 || last.body["code"] != "too.many.requests.retry.after" || last.header.Get("Retry-After") == "" {
		t.Fatalf("token 429: %d %v %s", last.status, last.header, last.raw)
	}
}
