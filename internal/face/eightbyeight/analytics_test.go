package eightbyeight

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// cdrEnv adds to env: sites "acmecorppbx" and "branchpbx", license
// "X6" (analytics) and "X2" (none), supervisors with each of the gate's
// three requirements missing, an Analytics app with its key, and calls.
type cdrEnv struct {
	*env
	main, branch                        *callvault.Site
	sup, noLicense, agentLevel, oneSite *callvault.User
	appKey                              string
	base                                time.Time // 2026-01-02 09:00 UTC, a Friday
}

func newCDR(t *testing.T) *cdrEnv {
	e := &cdrEnv{env: newEnv(t), base: time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)}
	now := time.Now().UTC()
	e.main = &callvault.Site{TenantID: "acme", ID: "site_main", Name: "acmecorppbx", CreatedAt: now, UpdatedAt: now}
	e.branch = &callvault.Site{TenantID: "acme", ID: "site_branch", Name: "branchpbx", CreatedAt: now, UpdatedAt: now}
	e.MustUpdate(t, func(tx callvault.Tx) error {
		for _, s := range []*callvault.Site{e.main, e.branch} {
			if err := tx.CreateSite(s); err != nil {
				return err
			}
		}
		if err := tx.CreateLicense(&callvault.License{TenantID: "acme", Name: "X6", Features: []string{"analytics"}, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.CreateLicense(&callvault.License{TenantID: "acme", Name: "X2", Features: []string{}, CreatedAt: now, UpdatedAt: now})
	})
	user := func(login, license string, level callvault.AccessLevel, scope ...string) *callvault.User {
		u := e.MustUser(t, "acme", login, "", callvault.RoleSupervisor)
		u.License, u.AccessLevels, u.SiteScope = license, map[string]callvault.AccessLevel{"analytics": level}, append([]string{}, scope...)
		e.MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateUser(u) })
		return u
	}
	e.sup = user("jane", "X6", callvault.AccessSupervisor)
	e.noLicense = user("nolicense", "X2", callvault.AccessSupervisor)
	e.agentLevel = user("agentlevel", "X6", callvault.AccessAgent)
	e.oneSite = user("branchonly", "X6", callvault.AccessSupervisor, "site_branch")
	app, _ := e.MustApp(t, "acme", "Analytics export", []string{callvault.GrantPassword}, []callvault.Permission{callvault.PermAnalyticsRead})
	e.appKey = credential.New(credential.PrefixAPIKey)
	e.MustUpdate(t, func(tx callvault.Tx) error {
		return tx.CreateAPIKey(&callvault.APIKey{TenantID: "acme", ID: callvault.NewID("key"), Name: "Analytics for 8x8 Work",
			Hash: credential.Hash(e.appKey), Hint: e.appKey[:8], SubjectKind: callvault.SubjectApp, SubjectID: app.ID,
			Scopes: []callvault.Permission{callvault.PermAnalyticsRead}, CreatedAt: now})
	})
	// 25 calls at the main site, one a minute from base; 5 at the branch.
	var calls []*callvault.CallRecord
	for i := range 30 {
		site, ext := e.main.ID, fmt.Sprintf("%d", 1000+i%5)
		if i >= 25 {
			site, ext = e.branch.ID, "2000"
		}
		start := e.base.Add(time.Duration(i) * time.Minute)
		c := &callvault.CallRecord{TenantID: "acme", ID: fmt.Sprintf("call%02d", i), SiteID: site, Start: start,
			Answer: start.Add(5 * time.Second), End: start.Add(30 * time.Second), DurationMs: 30000, TalkMs: 25000,
			Direction: callvault.DirectionInbound, Type: callvault.CallVoice, Result: "Accepted",
			From: callvault.Party{PhoneNumber: "+15555551220", Name: "MARK SMITH"}, To: callvault.Party{ExtensionNumber: ext, Name: "Jane Li"},
			Extension: ext, SessionID: "sip-" + fmt.Sprint(i),
			Legs: []callvault.Leg{{LegType: "Accept", Master: true, Direction: callvault.DirectionInbound, Result: "Accepted", Start: start, DurationMs: 30000},
				{LegType: "FindMe", Direction: callvault.DirectionInbound, Result: "Missed", Start: start, DurationMs: 5000}}}
		calls = append(calls, c)
	}
	e.MustUpdate(t, func(tx callvault.Tx) error { _, err := tx.PutCalls(calls); return err })
	return e
}

// token posts username and password to the token endpoint with key.
func (e *cdrEnv) token(t *testing.T, key, login, password string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.URL+TokenPath, strings.NewReader(url.Values{"username": {login}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("8x8-apikey", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b []byte
	b, _ = readAll(res)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (e *cdrEnv) bearer(t *testing.T, u *callvault.User) string {
	t.Helper()
	res := e.token(t, e.appKey, u.Login, httptestenv.Password)
	var tr tokenResponse
	res.decode(t, &tr)
	if res.status != 200 || tr.AccessToken == "" || tr.TokenType != "bearer" || tr.ExpiresIn <= 0 {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	return tr.AccessToken
}

func (e *cdrEnv) cdr(t *testing.T, path, tok, q string) response {
	t.Helper()
	return e.get(path+"?"+q, "Authorization", "Bearer "+tok, "8x8-apikey", e.appKey)
}

func TestTokenErrors(t *testing.T) {
	e := newCDR(t)
	for _, key := range []string{"", "nonsense", credential.New(credential.PrefixAPIKey), e.auditKey} {
		res := e.token(t, key, "jane", httptestenv.Password)
		var b keyError
		res.decode(t, &b)
		if res.status != 400 || b.Message != "Invalid 8x8-apikey" || b.Code != "SHA001" || len(b.Details) != 1 || b.Details[0].Path[0] != "8x8-apikey" || b.Hint == "" {
			t.Errorf("key %q: %d %s", key, res.status, res.body)
		}
	}
	res := e.token(t, e.appKey, "nobody", "x")
	if res.status != 400 || !strings.Contains(string(res.body), `"error_description":"USER_NOTFOUND_ERROR","error":"invalid_grant"`) {
		t.Errorf("unknown user: %d %s", res.status, res.body)
	}
	if res := e.token(t, e.appKey, "jane", "wrong"); res.status != 400 || !strings.Contains(string(res.body), `"invalid_grant"`) {
		t.Errorf("wrong password: %d %s", res.status, res.body)
	}
}

func TestCDRGate(t *testing.T) {
	e := newCDR(t)
	q := "pbxId=acmecorppbx&startTime=2026-01-02%2000:00:00&endTime=2026-01-03%2000:00:00&timeZone=UTC&pageSize=100"
	hints := map[string]bool{}
	for _, c := range []struct {
		u       *callvault.User
		pbx     string
		missing string
	}{
		{e.noLicense, "acmecorppbx", "missing license"},
		{e.agentLevel, "acmecorppbx", "missing access level"},
		{e.oneSite, "acmecorppbx", "missing PBX scope"},
	} {
		res := e.cdr(t, CallRecordsPath, e.bearer(t, c.u), q)
		var b cdrError
		res.decode(t, &b)
		want := "user(" + c.u.Login + ") does not have access to api category(CDR) for pbxId([" + c.pbx + "])."
		if res.status != 400 || b.Status != 400 || b.Code != "105-400-038" || b.Message != want || b.RequestID == "" ||
			!strings.HasPrefix(b.Hint, c.missing) || b.Path != CallRecordsPath {
			t.Errorf("%s: %d %s", c.u.Login, res.status, res.body)
		}
		hints[b.Hint] = true
	}
	if len(hints) != 3 {
		t.Errorf("hints are not distinct: %v", hints)
	}
	// The branch-only user reads the branch, and allpbxes means its scope.
	tok := e.bearer(t, e.oneSite)
	for _, pbx := range []string{"branchpbx", "allpbxes", "site_branch"} {
		res := e.cdr(t, CallRecordsPath, tok, strings.Replace(q, "acmecorppbx", pbx, 1))
		var b struct {
			Meta cdrMeta
			Data []cdrRecord
		}
		res.decode(t, &b)
		if res.status != 200 || b.Meta.TotalRecordCount != 5 || len(b.Data) != 5 || b.Data[0].PbxID != "branchpbx" {
			t.Errorf("%s: %d %s", pbx, res.status, res.body)
		}
	}
	// Retention: data older than two years is not served.
	res := e.cdr(t, CallRecordsPath, e.bearer(t, e.sup), strings.Replace(q, "2026-01-02%2000", "2020-01-02%2000", 1))
	if res.status != 400 || !strings.Contains(string(res.body), "retention") {
		t.Errorf("retention: %d %s", res.status, res.body)
	}
	// A token without its app's key.
	res = e.get(CallRecordsPath+"?"+q, "Authorization", "Bearer "+tok)
	if res.status != 400 || !strings.Contains(string(res.body), "SHA001") {
		t.Errorf("no 8x8-apikey: %d %s", res.status, res.body)
	}
}

func TestCDRPaging(t *testing.T) {
	e := newCDR(t)
	tok := e.bearer(t, e.sup)
	// 04:00 to 04:30 in New York is 09:00 to 09:30 UTC: call00..call29.
	q := "pbxId=acmecorppbx,branchpbx&startTime=2026-01-02%2004:00:00&endTime=2026-01-02%2004:30:00&timeZone=America/New_York&pageSize=7"
	var ids []string
	sid := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("no end")
		}
		qq := q
		if sid != "" {
			qq += "&scrollId=" + url.QueryEscape(sid)
		}
		res := e.cdr(t, CallRecordsPath, tok, qq)
		var b struct {
			Meta cdrMeta
			Data []cdrRecord
		}
		res.decode(t, &b)
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if b.Meta.ScrollID == noData {
			if b.Meta.TotalRecordCount != 0 || len(b.Data) != 0 || !strings.Contains(string(res.body), `"data":[]`) {
				t.Errorf("end: %s", res.body)
			}
			break
		}
		if b.Meta.TotalRecordCount != 30 || len(b.Data) > 7 {
			t.Errorf("page %d: %+v, %d", page, b.Meta, len(b.Data))
		}
		if page == 0 {
			r := b.Data[0]
			var raw []map[string]any
			var whole struct{ Data []map[string]any }
			_ = json.Unmarshal(res.body, &whole)
			raw = whole.Data
			if r.CallID != "call29" || r.StartTimeUTC != e.base.Add(29*time.Minute).UnixMilli() ||
				r.StartTime != "2026-01-02T04:29:00.000-0500" || r.Direction != "Incoming" || r.Answered != "Answered" ||
				r.CallerID != "MARK SMITH,+15555551220" || r.CallLegCount != 2 || r.PbxID != "branchpbx" || raw[0]["aaDestination"] != nil {
				t.Errorf("first record %+v", r)
			}
		}
		for _, r := range b.Data {
			ids = append(ids, r.CallID)
		}
		sid = b.Meta.ScrollID
	}
	if len(ids) != 30 {
		t.Errorf("got %d records: %v", len(ids), ids)
	}
	// Caller/callee filters.
	count := func(path, extra string) int {
		res := e.cdr(t, path, tok, strings.Replace(q, "pageSize=7", "pageSize=7000", 1)+extra)
		var b struct{ Meta cdrMeta }
		res.decode(t, &b)
		if res.status != 200 {
			t.Fatalf("%s: %d %s", extra, res.status, res.body)
		}
		return b.Meta.TotalRecordCount
	}
	if n := count(CallRecordsPath, "&callee=1000,%201001"); n != 10 {
		t.Errorf("callee: %d", n)
	}
	if n := count(CallRecordsPath, "&callerOrCallee=2000"); n != 5 {
		t.Errorf("callerOrCallee: %d", n)
	}
	if n := count(CallLegsPath, ""); n != 60 {
		t.Errorf("legs: %d", n)
	}
	many := strings.Repeat("1,", 126)
	for _, extra := range []string{"&callerOrCallee=1&caller=2", "&caller=" + many, "&pageSize=7001", "&pageSize=0"} {
		res := e.cdr(t, CallRecordsPath, tok, strings.Replace(q, "&pageSize=7", "", 1)+"&pageSize=7"+extra)
		if strings.HasPrefix(extra, "&pageSize") {
			res = e.cdr(t, CallRecordsPath, tok, strings.Replace(q, "&pageSize=7", extra, 1))
		}
		if res.status != 400 {
			t.Errorf("%.40s: %d %s", extra, res.status, res.body)
		}
	}
	for _, bad := range []string{
		strings.Replace(q, "America/New_York", "Mars/Olympus", 1),
		strings.Replace(q, "2026-01-02%2004:00:00", "2026-01-02T04:00:00Z", 1),
		strings.Replace(q, "&pageSize=7", "", 1),
	} {
		if res := e.cdr(t, CallRecordsPath, tok, bad); res.status != 400 {
			t.Errorf("%s: %d %s", bad, res.status, res.body)
		}
	}
}

// TestCDRTimeZones asks for the same UTC window in three zones: the same
// records, with local strings in the zone asked for.
func TestCDRTimeZones(t *testing.T) {
	e := newCDR(t)
	tok := e.bearer(t, e.sup)
	for _, c := range []struct{ zone, start, end, first string }{
		{"UTC", "2026-01-02%2009:00:00", "2026-01-02%2009:10:00", "2026-01-02T09:09:00.000+0000"},
		{"Asia/Kolkata", "2026-01-02%2014:30:00", "2026-01-02%2014:40:00", "2026-01-02T14:39:00.000+0530"},
		{"America/Los_Angeles", "2026-01-02%2001:00:00", "2026-01-02%2001:10:00", "2026-01-02T01:09:00.000-0800"},
	} {
		res := e.cdr(t, CallRecordsPath, tok, "pbxId=acmecorppbx&pageSize=100&timeZone="+c.zone+"&startTime="+c.start+"&endTime="+c.end)
		var b struct {
			Meta cdrMeta
			Data []cdrRecord
		}
		res.decode(t, &b)
		if res.status != 200 || b.Meta.TotalRecordCount != 10 || len(b.Data) != 10 || b.Data[0].StartTime != c.first ||
			b.Data[0].StartTimeUTC != e.base.Add(9*time.Minute).UnixMilli() {
			t.Errorf("%s: %d %s", c.zone, res.status, res.body)
		}
	}
}

// TestTokenIsSignedAndRevocable: the bearer token is a signed JWT wrapping
// callvault's opaque token; altering it is refused, and revoking the inner
// token stops it at once.
func TestTokenIsSignedAndRevocable(t *testing.T) {
	e := newCDR(t)
	q := "pbxId=acmecorppbx&startTime=2026-01-02%2000:00:00&endTime=2026-01-03%2000:00:00&timeZone=UTC&pageSize=100"
	tok := e.bearer(t, e.sup)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q is not a signed JWT", tok)
	}
	if res := e.cdr(t, CallRecordsPath, tok, q); res.status != 200 {
		t.Fatalf("signed token: %d %s", res.status, res.body)
	}
	forged := []byte(tok)
	i := strings.LastIndex(tok, ".") + 5
	if forged[i] == 'A' {
		forged[i] = 'B'
	} else {
		forged[i] = 'A'
	}
	if res := e.cdr(t, CallRecordsPath, string(forged), q); res.status != 401 {
		t.Fatalf("altered token: %d %s", res.status, res.body)
	}
	inner, err := credential.OpenAccessToken(e.JWTKey.Public().(ed25519.PublicKey), tok, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.MustUpdate(t, func(tx callvault.Tx) error { return tx.RevokeToken(credential.Hash(inner), time.Now()) })
	if res := e.cdr(t, CallRecordsPath, tok, q); res.status != 401 {
		t.Fatalf("revoked inner token: %d %s", res.status, res.body)
	}
}

// legCalls stores four calls around the window 2026-01-03 10:00-11:00 UTC
// at acmecorppbx, built so that each of isSimplified and isConnectTime
// changes which legs come back:
//
//	callA 09:50-10:05: master (ends in the window), a find-me that rang
//	  before it, a recording leg ending in it; it started before the window.
//	callB 10:30-10:40: master, a find-me and a queue member who did not
//	  answer, the member who did.
//	callC 10:55-11:10: master and its accept leg connect in the window but
//	  end after it; a monitoring leg connects in it and ends at 11:00.
//	callD 10:10, missed, without legs: one master leg that never connected.
func (e *cdrEnv) legCalls(t *testing.T) {
	at := func(hms string) time.Time {
		tm, err := time.Parse(time.DateTime, "2026-01-03 "+hms)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	ms := func(from, to string) int64 { return at(to).Sub(at(from)).Milliseconds() }
	caller := callvault.Party{PhoneNumber: "+15555551220", Name: "MARK SMITH"}
	callee := callvault.Party{ExtensionNumber: "1000", Name: "Jane Li"}
	agent := func(ext string) callvault.Party { return callvault.Party{ExtensionNumber: ext, Name: "Agent " + ext} }
	call := func(id, start, answer, end string, result string, legs ...callvault.Leg) *callvault.CallRecord {
		c := &callvault.CallRecord{TenantID: "acme", ID: id, SiteID: e.main.ID, Start: at(start), End: at(end),
			DurationMs: ms(start, end), Direction: callvault.DirectionInbound, Type: callvault.CallVoice, Result: result,
			From: caller, To: callee, Extension: "1000", Legs: legs}
		if answer != "" {
			c.Answer = at(answer)
			c.TalkMs = ms(answer, end)
		}
		return c
	}
	leg := func(typ string, master bool, result, start, end string, to callvault.Party) callvault.Leg {
		return callvault.Leg{LegType: typ, Master: master, Direction: callvault.DirectionInbound, Result: result,
			From: caller, To: to, Start: at(start), DurationMs: ms(start, end)}
	}
	calls := []*callvault.CallRecord{
		call("callA", "09:50:00", "09:50:10", "10:05:00", callvault.ResultAccepted,
			leg("PstnToSip", true, callvault.ResultAccepted, "09:50:00", "10:05:00", callee),
			leg("FindMe", false, callvault.ResultNoAnswer, "09:50:01", "09:50:09", callvault.Party{PhoneNumber: "+15555550000"}),
			leg("CallRecording", false, callvault.ResultAccepted, "09:50:10", "10:05:00", callee)),
		call("callB", "10:30:00", "10:30:20", "10:40:00", callvault.ResultAccepted,
			leg("PstnToSip", true, callvault.ResultAccepted, "10:30:00", "10:40:00", callee),
			leg("FindMe", false, callvault.ResultNoAnswer, "10:30:01", "10:30:16", callvault.Party{PhoneNumber: "+15555550000"}),
			leg("Hunting", false, callvault.ResultMissed, "10:30:00", "10:30:20", agent("1001")),
			leg("Hunting", false, callvault.ResultAccepted, "10:30:20", "10:40:00", agent("1002"))),
		call("callC", "10:55:00", "10:55:05", "11:10:00", callvault.ResultAccepted,
			leg("PstnToSip", true, callvault.ResultAccepted, "10:55:00", "11:10:00", callee),
			leg("Accept", false, callvault.ResultAccepted, "10:55:05", "11:10:00", callee),
			leg("Monitoring", false, callvault.ResultAccepted, "10:56:00", "11:00:00", agent("1003"))),
		call("callD", "10:10:00", "", "10:10:30", callvault.ResultMissed),
	}
	e.MustUpdate(t, func(tx callvault.Tx) error { _, err := tx.PutCalls(calls); return err })
}

// legsQuery is the window of legCalls.
const legsQuery = "pbxId=acmecorppbx&startTime=2026-01-03%2010:00:00&endTime=2026-01-03%2011:00:00&timeZone=UTC"

// TestCallLegsOptions: call legs are selected by their disconnect time
// (default) or connect time (isConnectTime=true), in the window, whatever
// the call's start; isSimplified=true drops forking, recording and
// monitoring legs and child calls that never connected; legIds stay those
// of the full view; totals, paging and scrollIds follow the options;
// invalid values are a 400 naming the parameter.
func TestCallLegsOptions(t *testing.T) {
	e := newCDR(t)
	e.legCalls(t)
	tok := e.bearer(t, e.sup)
	type page struct {
		Meta cdrMeta
		Data []cdrLeg
	}
	legs := func(extra string) (ids []string, all []cdrLeg) {
		t.Helper()
		res := e.cdr(t, CallLegsPath, tok, legsQuery+"&pageSize=100"+extra)
		var b page
		res.decode(t, &b)
		if res.status != 200 || b.Meta.TotalRecordCount != len(b.Data) {
			t.Fatalf("%s: %d %s", extra, res.status, res.body)
		}
		for _, l := range b.Data {
			ids = append(ids, l.LegID)
		}
		slices.Sort(ids)
		return ids, b.Data
	}
	for _, c := range []struct {
		extra string
		want  []string
	}{
		{"", []string{"callA-1", "callA-3", "callB-1", "callB-2", "callB-3", "callB-4", "callD-1"}},
		{"&isSimplified=false&isConnectTime=false", []string{"callA-1", "callA-3", "callB-1", "callB-2", "callB-3", "callB-4", "callD-1"}},
		{"&isSimplified=&isConnectTime=", []string{"callA-1", "callA-3", "callB-1", "callB-2", "callB-3", "callB-4", "callD-1"}},
		{"&isConnectTime=true", []string{"callB-1", "callB-4", "callC-1", "callC-2", "callC-3"}},
		{"&isSimplified=true", []string{"callA-1", "callB-1", "callB-4", "callD-1"}},
		{"&isSimplified=TRUE&isConnectTime=True", []string{"callB-1", "callB-4", "callC-1", "callC-2"}},
	} {
		if got, _ := legs(c.extra); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v, want %v", c.extra, got, c.want)
		}
	}
	// Connect times are on the wire: the master leg's is the call's
	// answer, a leg that never connected has 0 and "0".
	_, all := legs("")
	for _, l := range all {
		switch l.LegID {
		case "callB-1":
			if l.ConnectTimeUTC != time.Date(2026, 1, 3, 10, 30, 20, 0, time.UTC).UnixMilli() || l.ConnectTime != "2026-01-03T10:30:20.000+0000" {
				t.Errorf("callB master leg: %+v", l)
			}
		case "callB-2", "callD-1":
			if l.ConnectTimeUTC != 0 || l.ConnectTime != "0" {
				t.Errorf("%s never connected: %+v", l.LegID, l)
			}
		}
	}

	// Paging a simplified scroll: one leg a page, the same total on every
	// page, then "No Data"; its scrollId does not continue the full view.
	var ids []string
	sid, first := "", ""
	for n := 0; ; n++ {
		if n > 10 {
			t.Fatal("no end")
		}
		q := legsQuery + "&pageSize=1&isSimplified=true"
		if sid != "" {
			q += "&scrollId=" + url.QueryEscape(sid)
		}
		res := e.cdr(t, CallLegsPath, tok, q)
		var b page
		res.decode(t, &b)
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if b.Meta.ScrollID == noData {
			break
		}
		if b.Meta.TotalRecordCount != 4 {
			t.Errorf("page %d: total %d, want 4", n, b.Meta.TotalRecordCount)
		}
		for _, l := range b.Data {
			ids = append(ids, l.LegID)
		}
		sid = b.Meta.ScrollID
		if first == "" {
			first = sid
		}
	}
	slices.Sort(ids)
	if want := []string{"callA-1", "callB-1", "callB-4", "callD-1"}; !slices.Equal(ids, want) {
		t.Errorf("simplified scroll: %v, want %v", ids, want)
	}
	res := e.cdr(t, CallLegsPath, tok, legsQuery+"&pageSize=1&scrollId="+url.QueryEscape(first))
	if res.status != 400 || !strings.Contains(string(res.body), "Invalid scrollId") {
		t.Errorf("a simplified scrollId on the full view: %d %s", res.status, res.body)
	}

	// Invalid values: 400 in the face's format, naming the parameter.
	for _, c := range []struct{ extra, msg string }{
		{"&isSimplified=maybe", "Invalid isSimplified: maybe"},
		{"&isConnectTime=1", "Invalid isConnectTime: 1"},
		{"&isSimplified=true&isConnectTime=yes", "Invalid isConnectTime: yes"},
	} {
		res := e.cdr(t, CallLegsPath, tok, legsQuery+"&pageSize=100"+c.extra)
		var b cdrError
		res.decode(t, &b)
		if res.status != 400 || b.Status != 400 || b.Error != "Bad Request" || b.Message != c.msg || b.Path != CallLegsPath ||
			!strings.Contains(b.Hint, "true or false") || b.RequestID == "" || b.Timestamp == "" {
			t.Errorf("%s: %d %s", c.extra, res.status, res.body)
		}
	}

	// Call records select by the call's start and ignore both options.
	for _, extra := range []string{"", "&isSimplified=true&isConnectTime=true", "&isSimplified=maybe"} {
		res := e.cdr(t, CallRecordsPath, tok, legsQuery+"&pageSize=100"+extra)
		var b struct {
			Meta cdrMeta
			Data []cdrRecord
		}
		res.decode(t, &b)
		if res.status != 200 || b.Meta.TotalRecordCount != 3 {
			t.Errorf("call records %q: %d %s", extra, res.status, res.body)
		}
	}
}
