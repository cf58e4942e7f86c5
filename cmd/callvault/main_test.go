package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/sqlite"
)

// syncBuffer is a goroutine-safe output sink for run.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// mustRun runs one offline command and returns its standard output.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var out, errb syncBuffer
	err := run(context.Background(), append([]string{"callvault"}, args...), noEnv, strings.NewReader(stdin), &out, &errb)
	if err != nil {
		t.Fatalf("callvault %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// startServer runs `callvault serve` on a free port and returns its base URL
// and a function that stops it gracefully and returns run's error.
func startServer(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	base, _, stop := startCommand(t, "serve", args...)
	return base, stop
}

// startCommand runs a serving command (serve or demo) on a free port and
// returns its base URL, its standard output so far (everything up to the
// listening line) and a function that stops it gracefully and returns
// run's error.
func startCommand(t *testing.T, cmd string, args ...string) (string, string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"callvault", cmd, "--addr", "127.0.0.1:0"}, args...), noEnv, strings.NewReader(""), pw, &errb)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			fmt.Fprintln(&out, sc.Text())
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-urlc:
	case err := <-done:
		t.Fatalf("%s exited early: %v\n%s", cmd, err, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start\n%s", cmd, errb.String())
	}
	// Poll /healthz until it answers.
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			t.Fatalf("healthz never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return base, out.String(), stop
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, method, u string, header map[string]string, body any) response {
	t.Helper()
	header = maps.Clone(header) // callers share their header maps between goroutines
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd = strings.NewReader(b.Encode())
		if header == nil {
			header = map[string]string{}
		}
		header["Content-Type"] = "application/x-www-form-urlencoded"
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
		if header == nil {
			header = map[string]string{}
		}
		header["Content-Type"] = "application/json"
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func basicToken(t *testing.T, base, clientID, secret string, form url.Values) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

var (
	clientIDRE = regexp.MustCompile(`client_id (app_[0-9a-z]+)`)
	secretRE   = regexp.MustCompile(`secret \(shown once, store it now\): (\S+)`)
)

// TestNewcomerWalkthrough is the README's promise end to end on a real
// listener and a real SQLite file: offline admin commands, a token, /v1/me,
// creating a user and an app through the API, a denial that explains
// itself, finding it by request id, a graceful stop, `audit verify`
// passing, and `audit verify` naming the record edited behind its back.
func TestNewcomerWalkthrough(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mustRun(t, "", "tenant", "create", "--data", data, "--id", "acme", "--name", "Acme", "--region", "us", "--timezone", "America/New_York")
	mustRun(t, "admin-password-1\n", "user", "create", "--data", data, "--tenant", "acme", "--login", "admin", "--name", "Ada Admin", "--role", "admin")
	out := mustRun(t, "", "app", "create", "--data", data, "--tenant", "acme", "--name", "Console",
		"--grant", "password", "--scope", "admin.read,admin.write,audit.read,calls.read", "--role", "admin")
	appID, appSecret := clientIDRE.FindStringSubmatch(out)[1], secretRE.FindStringSubmatch(out)[1]

	base, stop := startServer(t, "--data", data)
	admin := basicToken(t, base, appID, appSecret, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin-password-1"}})
	auth := map[string]string{"Authorization": "Bearer " + admin}

	me := do(t, "GET", base+"/v1/me", auth, nil)
	if me.status != 200 || me.body["kind"] != "user" || me.header.Get("X-Request-Id") == "" {
		t.Fatalf("/v1/me = %d %s", me.status, me.raw)
	}

	// A newcomer creates a user and an app through the API.
	u := do(t, "POST", base+"/v1/tenants/acme/users", auth, map[string]any{
		"login": "newbie", "name": "New Bie", "password": "newbie-password-1", "roles": []string{"agent"}, "extension": "201"})
	if u.status != 201 {
		t.Fatalf("create user = %d %s", u.status, u.raw)
	}
	a := do(t, "POST", base+"/v1/tenants/acme/apps", auth, map[string]any{
		"name": "Newbie Tool", "grants": []string{"password"}, "scopes": []string{"calls.read", "admin.read"}})
	if a.status != 201 {
		t.Fatalf("create app = %d %s", a.status, a.raw)
	}
	nb := basicToken(t, base, a.body["clientId"].(string), a.body["clientSecret"].(string),
		url.Values{"grant_type": {"password"}, "username": {"newbie"}, "password": {"newbie-password-1"}})

	// The agent may not list users: the subject layer says which role grants it.
	den := do(t, "GET", base+"/v1/tenants/acme/users", map[string]string{"Authorization": "Bearer " + nb}, nil)
	if den.status != 403 || den.body["layer"] != "subject" || !strings.Contains(den.raw, "admin.read") || den.body["hint"] == "" {
		t.Fatalf("denial = %d %s", den.status, den.raw)
	}
	rid := den.header.Get("X-Request-Id")
	if den.body["requestId"] != rid {
		t.Fatalf("body requestId %v != header %s", den.body["requestId"], rid)
	}
	found := do(t, "GET", base+"/v1/tenants/acme/audit?requestId="+url.QueryEscape(rid), auth, nil)
	recs, _ := found.body["records"].([]any)
	if found.status != 200 || len(recs) != 1 {
		t.Fatalf("audit by request id = %d %s", found.status, found.raw)
	}
	rec := recs[0].(map[string]any)
	if rec["eventType"] != "deny" || rec["outcome"] != "denied" || !strings.Contains(rec["trace"].(string), `"layer":"subject"`) {
		t.Fatalf("denial record = %v", rec)
	}

	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if out := mustRun(t, "", "audit", "verify", "--data", data); !strings.Contains(out, "tenant acme: OK") {
		t.Fatalf("verify: %s", out)
	}

	// Edit one record in the database file behind callvault's back.
	db := filepath.Join(data, "callvault.db")
	tamper := `UPDATE audit SET display_name = 'nobody' WHERE tenant_id = 'acme' AND seq = 2;`
	if sqlite3, err := exec.LookPath("sqlite3"); err == nil {
		if out, err := exec.Command(sqlite3, db, tamper).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v %s", err, out)
		}
	} else {
		t.Log("sqlite3 shell not installed; editing through the driver instead")
		h, err := sqlite.OpenRaw(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Exec(tamper); err != nil {
			t.Fatal(err)
		}
		h.Close()
	}
	var vout, verr syncBuffer
	err := run(context.Background(), []string{"callvault", "audit", "verify", "--data", data}, noEnv, strings.NewReader(""), &vout, &verr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 {
		t.Fatalf("verify after tampering: err %v, out %s", err, vout.String())
	}
	if !strings.Contains(vout.String(), "tenant acme: BROKEN at record seq 2") {
		t.Fatalf("verify did not name the record: %s", vout.String())
	}
}

func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"callvault"}, 2, "a command is required"},
		{[]string{"callvault", "frobnicate"}, 2, "unknown command"},
		{[]string{"callvault", "serve", "--log-format", "xml", "--data", t.TempDir()}, 2, "--log-format"},
		{[]string{"callvault", "tenant", "create", "--data", t.TempDir(), "--id", "Bad Id"}, 2, "--id"},
	} {
		var out, errb syncBuffer
		err := run(context.Background(), tc.args, noEnv, strings.NewReader(""), &out, &errb)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v", tc.args, err)
		}
	}
	if out := mustRun(t, "", "version"); !strings.HasPrefix(out, "callvault ") {
		t.Errorf("version = %q", out)
	}
}

// TestConfigFromEnvironment starts the server configured only through
// CALLVAULT_* variables, and checks a flag wins over its variable.
func TestConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CALLVAULT_DATA": dir, "CALLVAULT_ADDR": "127.0.0.1:0", "CALLVAULT_BASE_URL": "https://calls.example.com/",
		"CALLVAULT_LOG_FORMAT": "json", "CALLVAULT_REGION": "eu", "CALLVAULT_ACCESS_TTL": "10m",
	}
	getenv := func(k string) string { return vars[k] }
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"callvault", "serve", "--region", "us"}, getenv, strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("no listening line: %s %s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "listening on https://calls.example.com (data "+dir+")") {
		t.Errorf("base URL or data dir not taken from the environment: %s", out.String())
	}
	var line map[string]any
	first := strings.SplitN(errb.String(), "\n", 2)[0]
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Errorf("log is not JSON: %q", first)
	}
	if !strings.Contains(errb.String(), `"region":"us"`) {
		t.Errorf("--region flag did not win over CALLVAULT_REGION: %s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "callvault.db")); err != nil {
		t.Errorf("the database is not in CALLVAULT_DATA: %v", err)
	}
}

// TestDemoQuickstart runs `callvault demo` and follows the quick-start it
// prints: the secrets it shows work, the viewer app is denied with a hint,
// and the denial is found by its request id with the printed API key.
func TestDemoQuickstart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	data := filepath.Join(t.TempDir(), "demo")
	go func() {
		done <- run(ctx, []string{"callvault", "demo", "--addr", "127.0.0.1:0", "--data", data}, noEnv, strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("demo did not start: %s %s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	text := out.String()
	base := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(text)[1]
	app := regexp.MustCompile(`"Acme Sync"\s+client_id (\S+)\s+client_secret (\S+)`).FindStringSubmatch(text)
	viewer := regexp.MustCompile(`"Call Log Viewer"\s+client_id (\S+)\s+client_secret (\S+)`).FindStringSubmatch(text)
	key := regexp.MustCompile(`api key:\s+(\S+)`).FindStringSubmatch(text)
	if app == nil || viewer == nil || key == nil {
		t.Fatalf("demo output lacks credentials:\n%s", text)
	}
	maria := url.Values{"grant_type": {"password"}, "username": {"maria"}, "password": {"maria-demo-password"}}
	tok := basicToken(t, base, app[1], app[2], maria)
	if me := do(t, "GET", base+"/v1/me", map[string]string{"Authorization": "Bearer " + tok}, nil); me.status != 200 {
		t.Fatalf("me: %d %s", me.status, me.raw)
	}
	vt := basicToken(t, base, viewer[1], viewer[2], maria)
	den := do(t, "GET", base+"/v1/tenants/acme/users", map[string]string{"Authorization": "Bearer " + vt}, nil)
	if den.status != 403 || den.body["layer"] != "scopes" || !strings.Contains(den.body["hint"].(string), "admin.read") {
		t.Fatalf("viewer: %d %s", den.status, den.raw)
	}
	found := do(t, "GET", base+"/v1/tenants/acme/audit?requestId="+den.header.Get("X-Request-Id"), map[string]string{"X-API-Key": key[1]}, nil)
	if recs, _ := found.body["records"].([]any); found.status != 200 || len(recs) != 1 {
		t.Fatalf("denial by request id: %d %s", found.status, found.raw)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "audit", "verify", "--data", data); strings.Count(out, ": OK") != 4 {
		t.Fatalf("verify after demo: %s", out)
	}
}
