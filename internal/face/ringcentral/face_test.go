package ringcentral

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

const (
	acc     = "/restapi/v1.0/account/~"
	logPath = acc + "/call-log"
)

// The seed's two 403 bodies, verbatim.
const (
	seedReadCallLog = `{
    "errorCode": "InsufficientPermissions",
    "message": "In order to call this API endpoint, application needs to have [ReadCallLog] permission",
    "errors": [
        {
            "errorCode": "CMN-401",
            "message": "In order to call this API endpoint, application needs to have [ReadCallLog] permission",
            "permissionName": "ReadCallLog"
        }
    ],
    "permissionName": "ReadCallLog"
}`
	seedReadCallRecording = `{
    "errorCode": "InsufficientPermissions",
    "message": "In order to call this API endpoint, application needs to have [ReadCallRecording] permission",
    "errors": [
        {
            "errorCode": "CMN-401",
            "message": "In order to call this API endpoint, application needs to have [ReadCallRecording] permission",
            "permissionName": "ReadCallRecording"
        }
    ],
    "permissionName": "ReadCallRecording"
}`
)

func TestUnauthenticated(t *testing.T) {
	e := newRC(t, Options{})
	wantBody(t, e.get(t, logPath, ""), 401, `{"errorCode":"AGW-401","message":"Authorization header is not specified"}`)
	wantBody(t, e.get(t, logPath, "not-a-token"), 401,
		`{"errorCode":"TokenInvalid","message":"Invalid token","errors":[{"errorCode":"OAU-149","message":"Invalid token"}]}`)
	wantBody(t, e.get(t, logPath, credential.New(credential.PrefixAccessToken)), 401,
		`{"errorCode":"TokenInvalid","message":"Token not found","errors":[{"errorCode":"OAU-213","message":"Token not found"}]}`)
	wantBody(t, e.get(t, logPath, e.mint(t, e.full, e.admin, e.now.Add(-time.Minute), false)), 401,
		`{"errorCode":"TokenInvalid","message":"Access token expired","errors":[{"errorCode":"OAU-128","message":"Access token expired"}]}`)
	wantBody(t, e.get(t, logPath, e.mint(t, e.full, e.admin, e.now.Add(time.Hour), true)), 401,
		`{"errorCode":"TokenInvalid","message":"Token not found","errors":[{"errorCode":"OAU-213","message":"Token not found"}]}`)
	// A refresh token is not an access token.
	rt := e.token(t, e.full, "admin")["refresh_token"].(string)
	wantBody(t, e.get(t, logPath, rt), 401,
		`{"errorCode":"TokenInvalid","message":"Invalid token","errors":[{"errorCode":"OAU-149","message":"Invalid token"}]}`)
	if r := e.get(t, logPath, ""); r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

func TestSeedPermissionErrors(t *testing.T) {
	e := newRC(t, Options{})
	logOnly := e.access(t, e.logOnly, "admin")
	recsOnly := e.access(t, e.recs, "admin")
	cases := []struct {
		path, token, body string
	}{
		{logPath, recsOnly, seedReadCallLog},
		{acc + "/extension/~/call-log", recsOnly, seedReadCallLog},
		{acc + "/extension/~/active-calls", recsOnly, seedReadCallLog},
		{acc + "/recording/rec1", recsOnly, seedReadCallLog},      // metadata needs both
		{acc + "/recording/rec1", logOnly, seedReadCallRecording}, // ... and both
		{acc + "/recording/rec1/content", logOnly, seedReadCallRecording},
	}
	for _, c := range cases {
		r := e.get(t, c.path, c.token)
		b := wantBody(t, r, 403, c.body)
		// The request id finds the denial and its trace in the audit trail.
		recs := e.MustAudit(t, callvault.AuditFilter{TenantID: "acme", RequestID: b["requestId"].(string)})
		if len(recs) != 1 || recs[0].EventType != callvault.EventDeny || recs[0].Trace == "" {
			t.Fatalf("%s: audit records of %v: %+v", c.path, b["requestId"], recs)
		}
		if !strings.Contains(b["hint"].(string), "scope") {
			t.Fatalf("hint does not explain the denial: %v", b["hint"])
		}
	}
	// Content needs ReadCallRecording only.
	e.get(t, acc+"/recording/rec1/content", recsOnly).want(t, 200)
}

func TestFullCompanyCallLog(t *testing.T) {
	e := newRC(t, Options{})
	agent := e.access(t, e.full, "agent")
	const body = `{"errorCode":"InsufficientPermissions",
		"message":"In order to call this API endpoint, user needs to have [FullCompanyCallLog] permission for requested resource.",
		"errors":[{"errorCode":"CMN-408","message":"In order to call this API endpoint, user needs to have [FullCompanyCallLog] permission for requested resource.","permissionName":"FullCompanyCallLog"}],
		"permissionName":"FullCompanyCallLog"}`
	for _, p := range []string{logPath, acc + "/extension/" + e.admin.ID + "/call-log", acc + "/call-log/c1", acc + "/active-calls",
		acc + "/extension/" + e.admin.ID + "/active-calls", acc + "/recording/rec1", acc + "/recording/rec1/content"} {
		wantBody(t, e.get(t, p, agent), 403, body)
	}
	if got := ids(t, e.get(t, acc+"/extension/~/call-log", agent)); !slices.Equal(got, []string{"c3", "c4"}) {
		t.Fatalf("the agent's own log: %v", got)
	}
	e.get(t, acc+"/extension/~/call-log/c3", agent).want(t, 200)
	e.get(t, acc+"/call-log/c3", agent).want(t, 200) // a single own record through the account route
}

func TestNotFound(t *testing.T) {
	e := newRC(t, Options{})
	tok := e.access(t, e.full, "admin")
	nf := func(param string) string {
		return `{"errorCode":"CMN-102","message":"Resource for parameter [` + param + `] is not found",
			"errors":[{"errorCode":"CMN-102","message":"Resource for parameter [` + param + `] is not found","parameterName":"` + param + `","parameterValue":"%s"}]}`
	}
	for _, c := range []struct{ path, param, value string }{
		{logPath + "/nope", "callRecordId", "nope"},
		{acc + "/extension/nope/call-log", "extensionId", "nope"},
		{acc + "/extension/~/call-log/c3", "callRecordId", "c3"}, // another extension's record
		{acc + "/recording/nope", "recordingId", "nope"},
		{acc + "/recording/rec2/content", "recordingId", "rec2"}, // no content yet
		{"/restapi/v1.0/account/~/sms", "path", "/restapi/v1.0/account/~/sms"},
	} {
		wantBody(t, e.get(t, c.path, tok), 404, strings.Replace(nf(c.param), "%s", c.value, 1))
	}
	// Another account: CMN-102 for the account.
	e.MustTenant(t, "globex", "")
	wantBody(t, e.get(t, "/restapi/v1.0/account/globex/call-log", tok), 404,
		`{"errorCode":"CMN-102","message":"Resource for parameter [accountId] is not found","errors":[{"errorCode":"CMN-102","message":"Resource for parameter [accountId] is not found","parameterName":"accountId"}]}`)
}

func TestRateLimits(t *testing.T) {
	e := newRC(t, Options{Limits: map[string]int{groupHeavy: 3, groupAuth: 100, groupLight: 7}})
	tok := e.access(t, e.full, "admin")
	for i := 1; i <= 3; i++ {
		r := e.get(t, logPath, tok).want(t, 200)
		if g, l, rem, w := r.Header.Get("X-Rate-Limit-Group"), r.Header.Get("X-Rate-Limit-Limit"),
			r.Header.Get("X-Rate-Limit-Remaining"), r.Header.Get("X-Rate-Limit-Window"); g != "Heavy" || l != "3" || rem != strconv.Itoa(3-i) || w != "60" {
			t.Fatalf("request %d: group %s limit %s remaining %s window %s", i, g, l, rem, w)
		}
	}
	r := e.get(t, logPath, tok)
	wantBody(t, r, 429, `{"errorCode":"CMN-301","message":"Request rate exceeded","errors":[{"errorCode":"CMN-301","message":"Request rate exceeded"}]}`)
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Per app and user: another user of the same app has its own window
	// (the agent is decided, not throttled: CMN-408 on the account log).
	e.get(t, logPath, e.access(t, e.full, "agent")).want(t, 403)
	// The groups: the token endpoint is Auth, unknown paths Light.
	tr := e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", "grant_type=password&username=admin&password=x", e.full)
	if tr.Header.Get("X-Rate-Limit-Group") != "Auth" || tr.Header.Get("X-Rate-Limit-Limit") != "100" {
		t.Fatalf("token endpoint: group %q limit %q", tr.Header.Get("X-Rate-Limit-Group"), tr.Header.Get("X-Rate-Limit-Limit"))
	}
	if r := e.get(t, "/restapi/v1.0/nothing", tok); r.Header.Get("X-Rate-Limit-Group") != "Light" || r.Header.Get("X-Rate-Limit-Limit") != "7" {
		t.Fatalf("unknown path: group %q limit %q", r.Header.Get("X-Rate-Limit-Group"), r.Header.Get("X-Rate-Limit-Limit"))
	}

	// Per-app limits.
	pe := newRCWithAppLimit(t)
	ptok := pe.access(t, pe.full, "admin")
	for i := 0; i < 5; i++ {
		if r := pe.get(t, logPath, ptok).want(t, 200); r.Header.Get("X-Rate-Limit-Limit") != "5" {
			t.Fatalf("per-app limit: %q", r.Header.Get("X-Rate-Limit-Limit"))
		}
	}
	pe.get(t, logPath, ptok).want(t, 429)
	if r := pe.get(t, logPath, pe.access(t, pe.logOnly, "admin")).want(t, 200); r.Header.Get("X-Rate-Limit-Limit") != "2" {
		t.Fatalf("other app's limit: %q", r.Header.Get("X-Rate-Limit-Limit"))
	}
}

// newRCWithAppLimit is an env whose Heavy limit is 2, and 5 for the full
// app. The app's id is only known after seeding, so its entry is added to
// the AppLimits map the face holds before any request is made.
func newRCWithAppLimit(t *testing.T) *rcEnv {
	t.Helper()
	opts := Options{Limits: map[string]int{groupHeavy: 2, groupAuth: 100}, AppLimits: map[string]map[string]int{}}
	e := newRC(t, opts)
	// The face reads opts.AppLimits when it counts: fill it now.
	opts.AppLimits[e.full.ID] = map[string]int{groupHeavy: 5}
	return e
}

func TestValidation(t *testing.T) {
	e := newRC(t, Options{})
	tok := e.access(t, e.full, "admin")
	cmn101 := func(param, value string) string {
		return `{"errorCode":"CMN-101","message":"Parameter [` + param + `] value is invalid","errors":[{"errorCode":"CMN-101","message":"Parameter [` + param + `] value is invalid","parameterName":"` + param + `","parameterValue":"` + value + `"}]}`
	}
	for _, c := range []struct{ query, param, value string }{
		{"direction=Sideways", "direction", "Sideways"},
		{"type=SMS", "type", "SMS"},
		{"transport=Pigeon", "transport", "Pigeon"},
		{"view=Full", "view", "Full"},
		{"recordingType=Some", "recordingType", "Some"},
		{"withRecording=maybe", "withRecording", "maybe"},
		{"showBlocked=maybe", "showBlocked", "maybe"},
		{"showDeleted=maybe", "showDeleted", "maybe"},
		{"dateFrom=yesterday", "dateFrom", "yesterday"},
		{"perPage=0", "perPage", "0"},
		{"perPage=-1", "perPage", "-1"},
		{"perPage=ten", "perPage", "ten"},
		{"page=0", "page", "0"},
	} {
		wantBody(t, e.get(t, logPath+"?"+c.query, tok), 400, cmn101(c.param, c.value))
	}
	wantBody(t, e.get(t, logPath+"?sessionId=s1&extensionNumber=101", tok), 400,
		`{"errorCode":"CLG-110","message":"Parameter [sessionId] is not allowed for usage along with parameter [extensionNumber]",
		"errors":[{"errorCode":"CLG-110","message":"Parameter [sessionId] is not allowed for usage along with parameter [extensionNumber]","parameterName":"sessionId","parameterValue":"s1"}]}`)
	wantBody(t, e.get(t, logPath+"?phoneNumber=1650&extensionNumber=101", tok), 400,
		`{"errorCode":"CLG-110","message":"Parameter [phoneNumber] is not allowed for usage along with parameter [extensionNumber]",
		"errors":[{"errorCode":"CLG-110","message":"Parameter [phoneNumber] is not allowed for usage along with parameter [extensionNumber]","parameterName":"phoneNumber","parameterValue":"1650"}]}`)
	for q, want := range map[string]float64{"perPage=1": 1, "perPage=1000": 1000, "perPage=1001": 1000, "perPage=max": 1000, "perPage=MAX": 1000, "": 100} {
		m := e.get(t, logPath+"?"+q, tok).want(t, 200).Map(t)
		if got := m["paging"].(map[string]any)["perPage"]; got != want {
			t.Fatalf("%s: perPage %v, want %v", q, got, want)
		}
	}
}

func TestFilters(t *testing.T) {
	e := newRC(t, Options{})
	tok := e.access(t, e.full, "admin")
	day2 := "&dateFrom=" + url.QueryEscape(e.now.Add(-48*time.Hour).Format(time.RFC3339))
	for q, want := range map[string][]string{
		"":                                     {"c1", "c2", "c3", "c4"},
		"type=Fax":                             {"c3"},
		"type=Voice":                           {"c1", "c2", "c4"},
		"direction=Outbound":                   {"c2", "c4"},
		"direction=Inbound&direction=Outbound": {"c1", "c2", "c3", "c4"},
		"direction=Inbound,Outbound":           {"c1", "c2", "c3", "c4"},
		"transport=VoIP":                       {"c2", "c4"},
		"transport=PSTN":                       {"c1", "c3"},
		"recordingType=Automatic":              {"c1"},
		"recordingType=OnDemand":               {"c2"},
		"recordingType=All":                    {"c1", "c2"},
		"withRecording=true":                   {"c1", "c2"},
		"withRecording=false":                  {"c3", "c4"},
		"recordingType=OnDemand&withRecording=false": {"c2"}, // withRecording is ignored with recordingType
		"phoneNumber=16505550001":                    {"c1"},
		"phoneNumber=%2B14155550002":                 {"c2"},
		"extensionNumber=102":                        {"c3", "c4"},
		"sessionId=s2":                               {"c2"},
		"telephonySessionId=ts-1":                    {"c1"},
		"showBlocked=true":                           {"c1", "c2", "c3", "c4"},
		"showBlocked=false":                          {"c1", "c2", "c3", "c4"},
		"showDeleted=true":                           {"c1", "c2", "c3", "c4"},
		"metadataCategory=x":                         {"c1", "c2", "c3", "c4"},
		"sessionId=s5":                               {},
		"sessionId=s5" + day2:                        {"c5"},
		"x=1" + day2:                                 {"c1", "c2", "c3", "c4", "c5"},
		"dateTo=" + url.QueryEscape(e.now.Add(-150*time.Minute).Format(time.RFC3339)): {"c3", "c4"}, // dateFrom = dateTo - 24h
	} {
		got := ids(t, e.get(t, logPath+"?"+q, tok))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}
	// The extension log: own (~), by id, with transport and direction.
	if got := ids(t, e.get(t, acc+"/extension/~/call-log", tok)); !slices.Equal(got, []string{"c1", "c2"}) {
		t.Fatalf("~ extension: %v", got)
	}
	if got := ids(t, e.get(t, "/restapi/v1.0/account/acme/extension/"+e.agent.ID+"/call-log?transport=VoIP", tok)); !slices.Equal(got, []string{"c4"}) {
		t.Fatalf("agent extension VoIP: %v", got)
	}

	// Views: Simple has no legs; Detailed has them and lastModifiedTime.
	rec := func(q string) map[string]any {
		m := e.get(t, logPath+"?sessionId=s1&"+q, tok).want(t, 200).Map(t)
		return m["records"].([]any)[0].(map[string]any)
	}
	if s := rec("view=Simple"); s["legs"] != nil || s["lastModifiedTime"] != nil {
		t.Fatalf("Simple view has detail: %v", s)
	}
	d := rec("view=Detailed")
	legs, _ := d["legs"].([]any)
	if len(legs) != 2 || d["lastModifiedTime"] == nil {
		t.Fatalf("Detailed view: %v", d)
	}
	l0 := legs[0].(map[string]any)
	if l0["legType"] != "Accept" || l0["master"] != true || legs[1].(map[string]any)["legType"] != "FindMe" {
		t.Fatalf("legs: %v", legs)
	}
	if d["id"] != "c1" || d["sessionId"] != "s1" || d["telephonySessionId"] != "ts-1" || d["duration"] != 61.0 || d["durationMs"] != 61000.0 ||
		d["direction"] != "Inbound" || d["type"] != "Voice" || d["transport"] != "PSTN" || d["result"] != "Accepted" {
		t.Fatalf("record: %v", d)
	}
	if d["from"].(map[string]any)["phoneNumber"] != "+16505550001" || d["to"].(map[string]any)["extensionNumber"] != "101" {
		t.Fatalf("parties: %v", d)
	}
	if ex := d["extension"].(map[string]any); ex["id"] != e.admin.ID || ex["uri"] != e.URL+"/restapi/v1.0/account/acme/extension/"+e.admin.ID {
		t.Fatalf("extension: %v", ex)
	}
	rg := d["recording"].(map[string]any)
	if rg["id"] != "rec1" || rg["type"] != "Automatic" || rg["contentUri"] != e.URL+"/restapi/v1.0/account/acme/recording/rec1/content" {
		t.Fatalf("recording: %v", rg)
	}
	// A single record, Detailed.
	one := e.get(t, logPath+"/c1?view=Detailed", tok).want(t, 200).Map(t)
	if one["id"] != "c1" || len(one["legs"].([]any)) != 2 {
		t.Fatalf("single record: %v", one)
	}
	// Active calls.
	if got := ids(t, e.get(t, acc+"/active-calls", tok)); !slices.Equal(got, []string{"live1"}) {
		t.Fatalf("active calls: %v", got)
	}
	if got := ids(t, e.get(t, acc+"/extension/"+e.agent.ID+"/active-calls", tok)); len(got) != 0 {
		t.Fatalf("agent's active calls: %v", got)
	}
}

func TestPagingAndNavigation(t *testing.T) {
	e := newRC(t, Options{})
	tok := e.access(t, e.full, "admin")
	type page struct {
		URI     string `json:"uri"`
		Records []struct {
			ID  string `json:"id"`
			URI string `json:"uri"`
		} `json:"records"`
		Paging struct {
			Page, PerPage      int
			PageStart, PageEnd *int
		} `json:"paging"`
		Navigation map[string]struct {
			URI string `json:"uri"`
		} `json:"navigation"`
	}
	read := func(u string) page {
		var p page
		if err := json.Unmarshal(e.get(t, u, tok).want(t, 200).Body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := read(logPath + "?perPage=3&direction=Inbound&direction=Outbound")
	if len(p1.Records) != 3 || p1.Paging.Page != 1 || p1.Paging.PerPage != 3 || *p1.Paging.PageStart != 0 || *p1.Paging.PageEnd != 2 {
		t.Fatalf("page 1: %+v", p1)
	}
	if _, ok := p1.Navigation["previousPage"]; ok {
		t.Fatal("page 1 has a previous page")
	}
	next := p1.Navigation["nextPage"].URI
	for _, u := range []string{p1.URI, next, p1.Navigation["firstPage"].URI, p1.Records[0].URI} {
		if !strings.HasPrefix(u, e.URL+"/restapi/v1.0/account/") {
			t.Fatalf("URI not absolute from the base URL: %s", u)
		}
	}
	nu, _ := url.Parse(next)
	if q := nu.Query(); q.Get("page") != "2" || q.Get("perPage") != "3" || q.Get("dateFrom") == "" || q.Get("dateTo") == "" || len(q["direction"]) != 2 {
		t.Fatalf("nextPage: %s", next)
	}
	p2 := read(next)
	if len(p2.Records) != 1 || p2.Records[0].ID != "c4" || p2.Paging.Page != 2 || *p2.Paging.PageStart != 3 {
		t.Fatalf("page 2: %+v", p2)
	}
	if _, ok := p2.Navigation["nextPage"]; ok {
		t.Fatal("the last page has a next page")
	}
	if read(p2.Navigation["previousPage"].URI).Records[0].ID != "c1" {
		t.Fatal("previousPage")
	}
	if p := read(p1.Records[0].URI); len(p.Records) != 0 && p.URI == "" {
		t.Fatal("record URI")
	}
	// Beyond the end: no records, no paging positions.
	p9 := read(logPath + "?page=9&perPage=3")
	if len(p9.Records) != 0 || p9.Paging.PageStart != nil {
		t.Fatalf("page 9: %+v", p9)
	}
	// ~ and the account id read the same.
	if a, b := ids(t, e.get(t, logPath, tok)), ids(t, e.get(t, "/restapi/v1.0/account/acme/call-log", tok)); !slices.Equal(a, b) {
		t.Fatalf("~ %v, acme %v", a, b)
	}
}

func TestRecordingContent(t *testing.T) {
	e := newRC(t, Options{})
	tok := e.access(t, e.full, "admin")
	meta := e.get(t, acc+"/recording/rec1", tok).want(t, 200).Map(t)
	if meta["id"] != "rec1" || meta["contentType"] != "audio/wav" || meta["duration"] != 61.0 ||
		meta["contentUri"] != e.URL+"/restapi/v1.0/account/acme/recording/rec1/content" {
		t.Fatalf("metadata: %v", meta)
	}
	content := meta["contentUri"].(string)
	full := e.get(t, content, tok).want(t, 200)
	if string(full.Body) != string(e.audio) || full.Header.Get("Accept-Ranges") != "bytes" ||
		full.Header.Get("Content-Disposition") != `inline; filename="rec1.wav"` || full.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("content: %d bytes, headers %v", len(full.Body), full.Header)
	}
	part := e.get(t, content, tok, "Range", "bytes=5-9").want(t, 206)
	if string(part.Body) != string(e.audio[5:10]) || part.Header.Get("Content-Range") != "bytes 5-9/"+strconv.Itoa(len(e.audio)) {
		t.Fatalf("range: %q %v", part.Body, part.Header)
	}
	e.get(t, content, tok, "Range", "bytes=999999-").want(t, 416)
	att := e.get(t, content+"?contentDisposition=Attachment&contentDispositionFilename=call.wav", tok).want(t, 200)
	if att.Header.Get("Content-Disposition") != `attachment; filename="call.wav"` {
		t.Fatalf("Content-Disposition %q", att.Header.Get("Content-Disposition"))
	}
	// The token as a query parameter, as a player follows the link.
	if r := e.get(t, content+"?access_token="+tok, ""); r.want(t, 200) != nil && string(r.Body) != string(e.audio) {
		t.Fatal("content by access_token")
	}
	wantBody(t, e.get(t, content+"?access_token=nope", ""), 401,
		`{"errorCode":"TokenInvalid","message":"Invalid token","errors":[{"errorCode":"OAU-149","message":"Invalid token"}]}`)
	// Only content accepts it.
	e.get(t, logPath+"?access_token="+tok, "").want(t, 401)
}

func TestRevokeLeniency(t *testing.T) {
	e := newRC(t, Options{})
	unusable := func(tok string) {
		t.Helper()
		e.get(t, logPath, tok).want(t, 401)
	}
	// Form.
	tok := e.access(t, e.full, "admin")
	e.get(t, logPath, tok).want(t, 200)
	r := e.post(t, "/restapi/oauth/revoke", "application/x-www-form-urlencoded", "token="+tok, e.full).want(t, 200)
	if len(r.Body) != 0 {
		t.Fatalf("revoke body: %q", r.Body)
	}
	unusable(tok)
	// Query.
	tok = e.access(t, e.full, "admin")
	e.post(t, "/restapi/oauth/revoke?token="+tok, "application/x-www-form-urlencoded", "", e.full).want(t, 200)
	unusable(tok)
	// The old Go client's malformed JSON.
	tok = e.access(t, e.full, "admin")
	e.post(t, "/restapi/oauth/revoke", "application/json", `{token: "`+tok+`"}`, e.full).want(t, 200)
	unusable(tok)
	// Well-formed JSON too.
	tok = e.access(t, e.full, "admin")
	e.post(t, "/restapi/oauth/revoke", "application/json", `{"token": "`+tok+`"}`, e.full).want(t, 200)
	unusable(tok)
	// A refresh token takes its family; unknown tokens, no token and a
	// wrong client are 200 and change nothing.
	tr := e.token(t, e.full, "admin")
	e.post(t, "/restapi/oauth/revoke", "application/x-www-form-urlencoded", "token="+tr["refresh_token"].(string), e.full).want(t, 200)
	unusable(tr["access_token"].(string))
	tok = e.access(t, e.full, "admin")
	e.post(t, "/restapi/oauth/revoke", "application/x-www-form-urlencoded", "token=nope", e.full).want(t, 200)
	e.post(t, "/restapi/oauth/revoke", "text/plain", "garbage", e.full).want(t, 200)
	e.post(t, "/restapi/oauth/revoke", "application/x-www-form-urlencoded", "token="+tok, e.logOnly).want(t, 200)
	e.get(t, logPath, tok).want(t, 200)
}

func TestTokenEndpoint(t *testing.T) {
	e := newRC(t, Options{})
	tr := e.token(t, e.full, "admin")
	if tr["token_type"] != "bearer" || tr["expires_in"] != 3600.0 || tr["refresh_token_expires_in"] == nil ||
		tr["owner_id"] != e.admin.ID || tr["endpoint_id"] == "" {
		t.Fatalf("token response: %v", tr)
	}
	if sc := strings.Split(tr["scope"].(string), " "); !slices.Contains(sc, ReadCallLog) || !slices.Contains(sc, ReadCallRecording) {
		t.Fatalf("scope %q", tr["scope"])
	}
	// user*ext and the extension field name the user by extension number.
	e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"password"}, "username": {"+16505550100*102"}, "password": {"correct-horse-battery"}}.Encode(), e.full).want(t, 200)
	bad := e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", "grant_type=password&username=admin&password=wrong", e.full).want(t, 400).Map(t)
	if bad["error"] != "invalid_grant" || bad["errors"].([]any)[0].(map[string]any)["errorCode"] != "OAU-140" {
		t.Fatalf("bad password: %v", bad)
	}
	if r := e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", "grant_type=password&username=admin&password=x", nil); r.Status != 400 {
		t.Fatalf("no client: %d %s", r.Status, r.Body)
	}
	// Refresh: the new token works.
	rf := e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token="+tr["refresh_token"].(string), e.full).want(t, 200).Map(t)
	e.get(t, logPath, rf["access_token"].(string)).want(t, 200)
}
