package eightbyeight

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// seedAudits stores demo-like audit records of acme (and one of globex
// that matches the seed's query in every field).
func (e *env) seedAudits() {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			e.t.Fatal(err)
		}
		return t
	}
	const user = "DctVyxEFR86EYyyDFoSLNA"
	rec := func(ts, event, entity, key, name, by string) *callvault.AuditRecord {
		return &callvault.AuditRecord{Service: callvault.AuditPlatform, Timestamp: at(ts), EventType: event,
			EntityType: entity, EntityKey: key, DisplayName: name, AuditUserID: by}
	}
	first := rec("2023-05-02T20:57:34.956Z", "create", "AgentGroup", "100", "test_bes", user)
	first.ID = "1fc519a4-2008-4234-b720-9cfdaf8866e6"
	first.Details = `{"new":{"id":41,"name":"ungroup","agent_count":13},"old":{}}`
	second := rec("2023-05-10T08:00:00Z", "update", "RingGroup", "7", "Best Ring Group", user)
	second.ID = "2d7a0c1e-0000-4000-8000-000000000002"
	second.Details = `{"new":{"name":"Best Ring Group"},"old":{"name":"Ring Group"}}`
	second.Impersonator, second.CorrelationType, second.CorrelationID = "8x8-support-17", "user", "usr_42"
	e.appendAudit("acme",
		rec("2023-04-20T10:00:00Z", "create", "AgentGroup", "90", "test_bes_april", user), // before startTime
		first,
		rec("2023-05-03T10:00:00Z", "create", "AgentGroup", "101", "test_bes2", "someoneElse"), // other user
		rec("2023-05-04T10:00:00Z", "delete", "RingGroup", "8", "Bestie", user),                // other event
		rec("2023-05-05T10:00:00Z", "create", "user", "u1", "Bes Smith", user),                 // other entity
		rec("2023-05-06T10:00:00Z", "create", "AgentGroup", "102", "other", user),              // other name
		second,
		&callvault.AuditRecord{Service: callvault.AuditData, Timestamp: at("2023-05-07T10:00:00Z"), EventType: "create",
			EntityType: "RingGroup", EntityKey: "9", DisplayName: "Best data", AuditUserID: user}, // other service
		rec("2023-06-01T00:00:00Z", "create", "AgentGroup", "103", "test_bes_june", user), // after endTime
	)
	e.appendAudit("globex", rec("2023-05-02T21:00:00Z", "create", "AgentGroup", "100", "test_bes_globex", user))
}

// seedCurl is the seed's full request on one line: spaces percent-encoded,
// only the host (the test server) and the key changed.
const seedCurl = "/administration/audit/v1/audits?size=1&startTime=2023-05-01T18:30:00.000&endTime=2023-05-31T23:59:59.651" +
	"&service=platform&displayName=*Bes*&auditUserId=DctVyxEFR86EYyyDFoSLNA&entityTypes=RingGROUP,%20Agentgroup" +
	"&eventTypes=create,%20update&scrollId=6bca6d01-774c-4115-8a03-eff95f430b06"

// TestSeedRequest runs the seed's request. Its scrollId was issued by 8x8,
// not this server: it is refused (400 "Invalid scrollId", a hint saying to
// leave it out for the first page) rather than silently restarting the
// scroll. Without it the request returns the seed's record first and
// scrolls to a null scrollId; the zone-less startTime is read as UTC.
func TestSeedRequest(t *testing.T) {
	e := newEnv(t)
	e.seedAudits()
	res := e.get(seedCurl, "x-api-key", e.auditKey, "Accept", "application/json")
	if b := res.auditErr(t, 400, "Invalid scrollId"); !strings.Contains(b.Hint, "leave it out for the first page") {
		t.Errorf("hint %q", b.Hint)
	}

	path, _, _ := strings.Cut(seedCurl, "&scrollId=")
	var got []auditItem
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("the scroll does not end")
		}
		res := e.get(path, "x-api-key", e.auditKey, "Accept", "application/json")
		if res.status != 200 || res.header.Get("Content-Type") != "application/json;charset=UTF-8" {
			t.Fatalf("page %d: %d %s %s", page, res.status, res.header.Get("Content-Type"), res.body)
		}
		var body auditResponse
		res.decode(t, &body)
		if body.Meta.TotalRecordCount != len(body.Data) || len(body.Data) > 1 {
			t.Fatalf("page %d: meta %+v with %d records", page, body.Meta, len(body.Data))
		}
		got = append(got, body.Data...)
		if body.Meta.ScrollID == nil {
			if !strings.Contains(string(res.body), `"scrollId":null`) {
				t.Errorf("last page %s: scrollId is not null", res.body)
			}
			break
		}
		path = strings.SplitN(seedCurl, "&scrollId=", 2)[0] + "&scrollId=" + url.QueryEscape(*body.Meta.ScrollID)
	}
	if len(got) != 2 {
		t.Fatalf("got %d records, want the seed's AgentGroup create and the RingGroup update: %+v", len(got), got)
	}
	r := got[0]
	if r.ID != "1fc519a4-2008-4234-b720-9cfdaf8866e6" || r.DisplayName != "test_bes" || r.CustomerID != "acme" ||
		r.AuditTimestamp != "2023-05-02T20:57:34.956+00:00" || r.EventType != "create" || r.Service != "platform" ||
		r.EntityType != "AgentGroup" || r.EntityKey != "100" || r.AuditUserID != "DctVyxEFR86EYyyDFoSLNA" ||
		r.Impersonator != nil || r.CorrelationType != nil || r.CorrelationID != nil ||
		r.Details == nil || *r.Details != `{"new":{"id":41,"name":"ungroup","agent_count":13},"old":{}}` {
		t.Errorf("first record %+v", r)
	}
	r = got[1]
	if r.EntityType != "RingGroup" || r.EventType != "update" || r.Impersonator == nil || *r.Impersonator != "8x8-support-17" ||
		r.CorrelationType == nil || *r.CorrelationType != "user" || r.CorrelationID == nil || *r.CorrelationID != "usr_42" {
		t.Errorf("second record %+v", r)
	}
}

// query sends an audit query with the admin's key and returns the
// records of one page and its scrollId.
func (e *env) query(t *testing.T, key, q string) ([]auditItem, *string) {
	t.Helper()
	res := e.get(AuditPath+"?"+q, "x-api-key", key)
	if res.status != 200 {
		t.Fatalf("%s: %d %s", q, res.status, res.body)
	}
	var body auditResponse
	res.decode(t, &body)
	return body.Data, body.Meta.ScrollID
}

const may = "startTime=2023-05-01T00:00:00Z&endTime=2023-05-31T00:00:00Z&service=platform"

// TestFilters checks each filter alone.
func TestFilters(t *testing.T) {
	e := newEnv(t)
	e.seedAudits()
	keys := func(q string) []string {
		recs, _ := e.query(t, e.auditKey, may+"&size=100&"+q)
		var out []string
		for _, r := range recs {
			out = append(out, r.EntityKey)
		}
		return out
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"", []string{"100", "101", "8", "u1", "102", "7"}},
		{"displayName=test_bes", []string{"100"}},
		{"displayName=test*", []string{"100", "101"}},
		{"displayName=*ring%20group", []string{"7"}},
		{"displayName=*bes*", []string{"100", "101", "8", "u1", "7"}},
		{"eventTypes=DELETE", []string{"8"}},
		{"eventTypes=+create+,+Update", []string{"100", "101", "u1", "102", "7"}},
		{"entityTypes=ringgroup", []string{"8", "7"}},
		{"entityTypes=RingGROUP,%20Agentgroup", []string{"100", "101", "8", "102", "7"}},
		{"auditUserId=someoneElse", []string{"101"}},
		{"service=data", []string{"9"}},
		{"service=platform,data", []string{"100", "101", "8", "u1", "102", "7", "9"}},
	} {
		q := c.q
		if strings.HasPrefix(q, "service=") {
			q = strings.Replace(may, "service=platform", q, 1) + "&size=100"
			recs, _ := e.query(t, e.auditKey, q)
			var got []string
			for _, r := range recs {
				got = append(got, r.EntityKey)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.q, got, c.want)
			}
			continue
		}
		if got := keys(q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.q, got, c.want)
		}
	}
	// The default size is 20, at most 100 per page.
	var many []*callvault.AuditRecord
	for i := range 130 {
		many = append(many, &callvault.AuditRecord{Service: callvault.AuditPlatform, EventType: "update", EntityType: "user",
			EntityKey: "bulk", DisplayName: "bulk", Timestamp: time.Date(2023, 5, 20, 0, 0, i, 0, time.UTC)})
	}
	e.appendAudit("acme", many...)
	if recs, next := e.query(t, e.auditKey, may+"&displayName=bulk"); len(recs) != 20 || next == nil {
		t.Errorf("default size: %d records, next %v", len(recs), next)
	}
	if recs, next := e.query(t, e.auditKey, may+"&displayName=bulk&size=100"); len(recs) != 100 || next == nil {
		t.Errorf("size 100: %d records, next %v", len(recs), next)
	}
}

// TestScroll walks a scroll to its null end while records are written
// (the scroll is a snapshot), and refuses a scrollId of another customer,
// of another query, or altered.
func TestScroll(t *testing.T) {
	e := newEnv(t)
	e.seedAudits()
	q := may + "&size=2"
	var got []string
	var next *string
	first := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("the scroll does not end")
		}
		qq := q
		if next != nil {
			qq += "&scrollId=" + url.QueryEscape(*next)
		}
		var recs []auditItem
		recs, next = e.query(t, e.auditKey, qq)
		for _, r := range recs {
			got = append(got, r.EntityKey)
		}
		if page == 0 {
			first = *next
			// A record written mid-scroll, inside the window, is not
			// part of this scroll.
			e.appendAudit("acme", &callvault.AuditRecord{Service: callvault.AuditPlatform, EventType: "create",
				EntityType: "user", EntityKey: "late", DisplayName: "late", Timestamp: time.Date(2023, 5, 1, 1, 0, 0, 0, time.UTC)})
		}
		if next == nil {
			break
		}
	}
	if want := []string{"100", "101", "8", "u1", "102", "7"}; !slices.Equal(got, want) {
		t.Errorf("scroll: got %v, want %v", got, want)
	}
	if recs, _ := e.query(t, e.auditKey, may+"&size=100"); len(recs) != 7 {
		t.Errorf("a new query sees the late record: %d records", len(recs))
	}
	for name, c := range map[string]struct{ key, q string }{
		"another customer": {e.globexKey, q + "&scrollId=" + url.QueryEscape(first)},
		"another query":    {e.auditKey, q + "&eventTypes=create&scrollId=" + url.QueryEscape(first)},
		"altered":          {e.auditKey, q + "&scrollId=" + url.QueryEscape(first[:len(first)-2]+"xx")},
	} {
		t.Run(name, func(t *testing.T) {
			e.get(AuditPath+"?"+c.q, "x-api-key", c.key).auditErr(t, 400, "Invalid scrollId")
		})
	}
	// The same scrollId with another size continues the same scroll.
	if recs, _ := e.query(t, e.auditKey, may+"&size=100&scrollId="+url.QueryEscape(first)); len(recs) != 4 {
		t.Errorf("continuing with size=100: %d records, want 4", len(recs))
	}
}

// TestValidation hits each validation error with 8x8's message.
func TestValidation(t *testing.T) {
	e := newEnv(t)
	const svc = "&service=platform"
	for name, c := range map[string]struct{ q, msg string }{
		"no startTime":       {"endTime=2023-05-31T00:00:00Z" + svc, msgTimeRange},
		"no endTime":         {"startTime=2023-05-01T00:00:00Z" + svc, msgTimeRange},
		"bad startTime":      {"startTime=yesterday&endTime=2023-05-31T00:00:00Z" + svc, msgTimeRange},
		"bad endTime":        {"startTime=2023-05-01T00:00:00Z&endTime=2023-05-31" + svc, msgTimeRange},
		"start after end":    {"startTime=2023-05-31T00:00:00Z&endTime=2023-05-01T00:00:00Z" + svc, msgTimeRange},
		"start equals end":   {"startTime=2023-05-01T00:00:00Z&endTime=2023-05-01T00:00:00Z" + svc, msgTimeRange},
		"over 31 days":       {"startTime=2023-05-01T00:00:00Z&endTime=2023-06-01T00:00:00.001Z" + svc, msgTimeRange},
		"no service":         {may[:strings.Index(may, "&service")], "Required request parameter 'service' for method parameter type String is not present"},
		"unknown service":    {strings.Replace(may, "platform", "billing", 1), "Invalid service: billing"},
		"unknown event type": {may + "&eventTypes=create,%20purge", "Invalid eventTypes: purge"},
		"size 0":             {may + "&size=0", "Invalid size: 0"},
		"size 101":           {may + "&size=101", "Invalid size: 101"},
		"size not a number":  {may + "&size=ten", "Invalid size: ten"},
		"foreign scrollId":   {may + "&scrollId=012345677-89abb-cdef-0123-456789abcdef", "Invalid scrollId"},
	} {
		t.Run(name, func(t *testing.T) {
			e.get(AuditPath+"?"+c.q, "x-api-key", e.auditKey).auditErr(t, 400, c.msg)
		})
	}
	// Exactly 31 days is allowed.
	e.query(t, e.auditKey, "startTime=2023-05-01T00:00:00Z&endTime=2023-06-01T00:00:00Z&service=platform")
}

// TestAuth checks the x-api-key authentication and the audit.read gate.
func TestAuth(t *testing.T) {
	e := newEnv(t)
	e.get(AuditPath+"?"+may).auditErr(t, 401, msgUnauthorized)
	e.get(AuditPath+"?"+may, "x-api-key", "eght_etk_039jfadf98j3f9a8jfa098fj3").auditErr(t, 401, msgUnauthorized)
	e.get(AuditPath+"?"+may, "Authorization", "Bearer cvat_x").auditErr(t, 401, msgUnauthorized)
	b := e.get(AuditPath+"?"+may, "x-api-key", e.agentKey).auditErr(t, 403, "Access Denied")
	if !strings.Contains(b.Hint, "audit.read") {
		t.Errorf("denial hint %q does not name audit.read", b.Hint)
	}
	// The denial is in the access service, found by its request id.
	now := time.Now().UTC()
	q := "startTime=" + now.Add(-time.Hour).Format(time.RFC3339) + "&endTime=" + now.Add(time.Hour).Format(time.RFC3339) + "&service=access"
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, _ := e.query(t, e.auditKey, q)
		if len(recs) > 0 && recs[0].EventType == callvault.EventDeny {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no denial in service access: %+v", recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuthExpiredAndRevokedKeys: an expired key and a revoked key each
// get 8x8's 401 body (whose hint says which), while a good key, one that
// expires later included, keeps working.
func TestAuthExpiredAndRevokedKeys(t *testing.T) {
	e := newEnv(t)
	e.seedAudits()
	now := time.Now().UTC()
	expired, _ := e.keyWith("acme", e.admin.ID, func(k *callvault.APIKey) {
		k.CreatedAt, k.ExpiresAt = now.Add(-48*time.Hour), now.Add(-time.Minute)
	}, callvault.PermAuditRead)
	later, _ := e.keyWith("acme", e.admin.ID, func(k *callvault.APIKey) { k.ExpiresAt = now.Add(time.Hour) }, callvault.PermAuditRead)
	revoked, rk := e.keyWith("acme", e.admin.ID, nil, callvault.PermAuditRead)

	// Before revocation every key but the expired one reads the seed's
	// records.
	for name, k := range map[string]string{"good": e.auditKey, "expires later": later, "to be revoked": revoked} {
		if recs, _ := e.query(t, k, may+"&size=100"); len(recs) != 6 {
			t.Errorf("%s key: %d records, want 6", name, len(recs))
		}
	}
	b := e.get(AuditPath+"?"+may, "x-api-key", expired, "Accept", "application/json").auditErr(t, 401, msgUnauthorized)
	if !strings.Contains(b.Hint, "expired") {
		t.Errorf("expired key: hint %q does not say it expired", b.Hint)
	}

	_, next := e.query(t, revoked, may+"&size=2")
	if next == nil {
		t.Fatal("no scrollId after the first of three pages")
	}
	// Revoke the key (as DELETE /v1/tenants/{tenant}/api-keys/{id} does):
	// its very next request is refused.
	rk.RevokedAt = time.Now().UTC()
	e.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateAPIKey(rk) })
	res := e.get(AuditPath+"?"+may, "x-api-key", revoked, "Accept", "application/json")
	b = res.auditErr(t, 401, msgUnauthorized)
	if !strings.Contains(b.Hint, "revoked") {
		t.Errorf("revoked key: hint %q does not say it was revoked", b.Hint)
	}
	if strings.Contains(string(res.body), `"data"`) || res.header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Errorf("revoked key: %s %s", res.header.Get("Content-Type"), res.body)
	}
	// A scroll started with the key does not outlive its revocation.
	e.get(AuditPath+"?"+may+"&size=2&scrollId="+url.QueryEscape(*next), "x-api-key", revoked).auditErr(t, 401, msgUnauthorized)

	// The other keys still work.
	for name, k := range map[string]string{"good": e.auditKey, "expires later": later} {
		if recs, _ := e.query(t, k, may+"&size=100"); len(recs) != 6 {
			t.Errorf("%s key after the revocation: %d records, want 6", name, len(recs))
		}
	}
}
