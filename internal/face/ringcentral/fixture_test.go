package ringcentral

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// rcEnv is a server with the face mounted over a real SQLite store, and
// tenant acme seeded: an admin (extension 101), an agent (102), apps
// holding every call permission, only ReadCallLog and only
// ReadCallRecording, and call records of both extensions.
type rcEnv struct {
	*httptestenv.Env
	t                   *testing.T
	now                 time.Time
	admin, agent        *callvault.User
	full, logOnly, recs *callvault.App
	secrets             map[string]string
	audio               []byte
}

// generous are rate limits no test reaches but the rate-limit test.
var generous = map[string]int{groupLight: 100000, groupMedium: 100000, groupHeavy: 100000, groupAuth: 100000}

var callScopes = []callvault.Permission{callvault.PermCallsRead, callvault.PermCallsReadAll,
	callvault.PermRecordingsRead, callvault.PermActiveCallsRead}

var rcGrants = []string{callvault.GrantPassword, callvault.GrantRefreshToken, callvault.GrantJWTBearer, callvault.GrantAuthorizationCode}

// newRC starts the server with the face (opts; generous limits when
// opts.Limits is nil), changed further by config, and seeds acme.
func newRC(t *testing.T, opts Options, config ...func(*cvhttp.Config)) *rcEnv {
	t.Helper()
	if opts.Limits == nil {
		opts.Limits = generous
	}
	config = append([]func(*cvhttp.Config){func(c *cvhttp.Config) { c.Faces = []cvhttp.Face{New(opts)} }}, config...)
	e := &rcEnv{t: t, Env: httptestenv.New(t, config...),
		now: time.Now().UTC().Truncate(time.Millisecond), secrets: map[string]string{}}
	e.MustTenant(t, "acme", "")
	e.admin = e.MustUser(t, "acme", "admin", "101", callvault.RoleAdmin)
	e.agent = e.MustUser(t, "acme", "agent", "102", callvault.RoleAgent)
	app := func(name string, scopes ...callvault.Permission) *callvault.App {
		a, s := e.MustApp(t, "acme", name, rcGrants, scopes, "https://app.example/callback")
		e.secrets[a.ID] = s
		return a
	}
	e.full = app("Call Log Reader", callScopes...)
	e.logOnly = app("Log Only", callvault.PermCallsRead, callvault.PermCallsReadAll)
	e.recs = app("Recordings Only", callvault.PermRecordingsRead)
	e.seedCalls()
	return e
}

// seedCalls stores c1..c5 (c5 older than a day), recordings rec1
// (Automatic, with content) of c1 and rec2 (OnDemand, no content) of c2,
// and a live call of extension 101.
func (e *rcEnv) seedCalls() {
	t := e.t
	at := func(h int) time.Time { return e.now.Add(-time.Duration(h) * time.Hour) }
	pstn := func(n string) callvault.Party { return callvault.Party{PhoneNumber: n} }
	ext := func(u *callvault.User) callvault.Party {
		return callvault.Party{ExtensionNumber: u.Extension, ExtensionID: u.ID, Name: u.Name}
	}
	calls := []*callvault.CallRecord{
		{ID: "c1", Start: at(1), DurationMs: 61000, Direction: callvault.DirectionInbound, Type: callvault.CallVoice,
			Result: "Accepted", Transport: callvault.TransportPSTN, From: pstn("+16505550001"), To: ext(e.admin), Extension: "101",
			SessionID: "s1", TelephonySessionID: "ts-1", RecordingIDs: []string{"rec1"},
			Legs: []callvault.Leg{
				{LegType: "Accept", Master: true, Direction: callvault.DirectionInbound, Result: "Accepted", From: pstn("+16505550001"), To: ext(e.admin), Start: at(1), DurationMs: 61000},
				{LegType: "FindMe", Direction: callvault.DirectionInbound, Result: "Missed", From: pstn("+16505550001"), To: ext(e.agent), Start: at(1), DurationMs: 5000},
			}},
		{ID: "c2", Start: at(2), DurationMs: 30000, Direction: callvault.DirectionOutbound, Type: callvault.CallVoice,
			Result: "Call connected", Transport: callvault.TransportVoIP, From: ext(e.admin), To: pstn("+14155550002"), Extension: "101",
			SessionID: "s2", TelephonySessionID: "ts-2", RecordingIDs: []string{"rec2"}},
		{ID: "c3", Start: at(3), DurationMs: 20000, Direction: callvault.DirectionInbound, Type: callvault.CallFax,
			Result: "Received", Transport: callvault.TransportPSTN, From: pstn("+12125550003"), To: ext(e.agent), Extension: "102", SessionID: "s3"},
		{ID: "c4", Start: at(4), DurationMs: 10000, Direction: callvault.DirectionOutbound, Type: callvault.CallVoice,
			Result: "No Answer", Transport: callvault.TransportVoIP, From: ext(e.agent), To: pstn("+13125550004"), Extension: "102", SessionID: "s4"},
		{ID: "c5", Start: at(30), DurationMs: 10000, Direction: callvault.DirectionInbound, Type: callvault.CallVoice,
			Result: "Missed", Transport: callvault.TransportPSTN, From: pstn("+13125550005"), To: ext(e.admin), Extension: "101", SessionID: "s5"},
	}
	for _, c := range calls {
		c.TenantID = "acme"
		c.End = c.Start.Add(time.Duration(c.DurationMs) * time.Millisecond)
	}
	e.audio = bytes.Repeat([]byte("RIFF-audio-"), 100)
	info, err := e.Blobs.Put(context.Background(), "acme", bytes.NewReader(e.audio), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	e.MustUpdate(t, func(tx callvault.Tx) error {
		if _, err := tx.PutCalls(calls); err != nil {
			return err
		}
		if err := tx.CreateRecording(&callvault.Recording{TenantID: "acme", ID: "rec1", CallID: "c1", Type: "Automatic",
			ContentType: "audio/wav", DurationMs: 61000, Size: info.Size, SHA256: info.SHA256, CreatedAt: e.now, UploadedAt: e.now}); err != nil {
			return err
		}
		if err := tx.CreateRecording(&callvault.Recording{TenantID: "acme", ID: "rec2", CallID: "c2", Type: "OnDemand", CreatedAt: e.now}); err != nil {
			return err
		}
		return tx.PutActiveCall(&callvault.ActiveCall{TenantID: "acme", CallID: "live1", Direction: callvault.DirectionInbound,
			State: "answered", From: pstn("+16505550009"), To: ext(e.admin), Extension: "101", StartedAt: at(0).Add(-time.Minute), UpdatedAt: e.now})
	})
}

// rcResponse is a received response with its whole body.
type rcResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Map decodes a JSON object body.
func (r *rcResponse) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return m
}

// want fails unless the status is status.
func (r *rcResponse) want(t *testing.T, status int) *rcResponse {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// send sends req and checks what every /restapi response carries:
// RCRequestId (= X-Request-Id) and the four rate-limit headers.
func (e *rcEnv) send(t *testing.T, req *http.Request) *rcResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header
	if id := h.Get("RCRequestId"); id == "" || id != h.Get("X-Request-Id") {
		t.Fatalf("%s %s: RCRequestId %q, X-Request-Id %q", req.Method, req.URL, id, h.Get("X-Request-Id"))
	}
	for _, k := range []string{"X-Rate-Limit-Group", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Window"} {
		if h.Get(k) == "" {
			t.Fatalf("%s %s: no %s header (status %d)", req.Method, req.URL, k, resp.StatusCode)
		}
	}
	return &rcResponse{Status: resp.StatusCode, Header: h, Body: b}
}

// get sends GET path (relative to the server, or absolute) with the
// access token (none when "") and extra header pairs.
func (e *rcEnv) get(t *testing.T, path, token string, header ...string) *rcResponse {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.URL + path
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token) // the JS SDK's lower case
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.send(t, req)
}

// post sends a body with a Content-Type and Basic client authentication
// of app (none when nil).
func (e *rcEnv) post(t *testing.T, path, contentType, body string, app *callvault.App) *rcResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if app != nil {
		req.SetBasicAuth(app.ID, e.secrets[app.ID])
	}
	return e.send(t, req)
}

// token signs login in through app with the password grant.
func (e *rcEnv) token(t *testing.T, app *callvault.App, login string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {login}, "password": {httptestenv.Password}}
	return e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form.Encode(), app).want(t, 200).Map(t)
}

// access is token's access_token.
func (e *rcEnv) access(t *testing.T, app *callvault.App, login string) string {
	t.Helper()
	return e.token(t, app, login)["access_token"].(string)
}

// mint stores an access token directly (expired or revoked ones).
func (e *rcEnv) mint(t *testing.T, app *callvault.App, user *callvault.User, expires time.Time, revoked bool) string {
	t.Helper()
	tok := credential.New(credential.PrefixAccessToken)
	tk := &callvault.Token{Hash: credential.Hash(tok), TenantID: app.TenantID, Kind: callvault.TokenAccess, AppID: app.ID,
		Scopes: app.Scopes, Grant: callvault.GrantPassword, FamilyID: callvault.NewID("tfm"), IssuedAt: e.now.Add(-2 * time.Hour), ExpiresAt: expires}
	if user != nil {
		tk.UserID = user.ID
	}
	if revoked {
		tk.RevokedAt = e.now.Add(-time.Minute)
	}
	e.MustUpdate(t, func(tx callvault.Tx) error { return tx.CreateToken(tk) })
	return tok
}

// wantBody fails unless the JSON body, without callvault's hint and
// requestId, equals want exactly; it checks that requestId is the
// response's RCRequestId and that a hint is present.
func wantBody(t *testing.T, r *rcResponse, status int, want string) map[string]any {
	t.Helper()
	r.want(t, status)
	got := r.Map(t)
	if got["requestId"] != r.Header.Get("RCRequestId") {
		t.Fatalf("requestId %v, RCRequestId %q", got["requestId"], r.Header.Get("RCRequestId"))
	}
	if h, _ := got["hint"].(string); h == "" {
		t.Fatalf("no hint: %s", r.Body)
	}
	full := map[string]any{}
	for k, v := range got {
		full[k] = v
	}
	delete(got, "hint")
	delete(got, "requestId")
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected body: %v", err)
	}
	if !reflect.DeepEqual(got, w) {
		gb, _ := json.Marshal(got)
		t.Fatalf("body\n got %s\nwant %s", gb, want)
	}
	return full
}

// ids are the ids of a call-log response's records, in order.
func ids(t *testing.T, r *rcResponse) []string {
	t.Helper()
	var l struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	if err := json.Unmarshal(r.want(t, 200).Body, &l); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, x := range l.Records {
		out = append(out, x.ID)
	}
	return out
}
