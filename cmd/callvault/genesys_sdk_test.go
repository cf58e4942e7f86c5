package main

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/demo"
)

// TestGenesysSDK is the proof of the Genesys Cloud face with the real
// client: it installs purecloud-platform-client-v2 from npm into a
// temporary directory and, pointed at a demo server with setGateway, logs
// in with client credentials, runs a realtime audit query and is denied on
// analytics events with analytics:read only, finds that denial's decision
// trace by its ININ-Correlation-Id; once analytics:export is
// granted to the client, the old token is still denied (a new token is
// required) and a new token reads the events. Skipped when
// CALLVAULT_SKIP_NPM is set or npm/node are missing.
func TestGenesysSDK(t *testing.T) {
	if os.Getenv("CALLVAULT_SKIP_NPM") != "" {
		t.Skip("CALLVAULT_SKIP_NPM is set: not installing purecloud-platform-client-v2 from npm")
	}
	npm, err1 := exec.LookPath("npm")
	node, err2 := exec.LookPath("node")
	if err1 != nil || err2 != nil {
		t.Skip("npm and node are needed to run the Genesys Cloud JS SDK against the server")
	}
	if testing.Short() {
		t.Skip("-short: not installing from npm")
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "genesys", "proof.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proof.js"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"gc-proof","private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "purecloud-platform-client-v2")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, out)
	}

	creds := filepath.Join(t.TempDir(), "creds.json")
	base, _, _ := startCommand(t, "demo", "--data", t.TempDir(), "--credentials-out", creds)
	var cf struct {
		Principals []demo.Principal `json:"principals"`
	}
	if b, err = os.ReadFile(creds); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	var syncApp, admin demo.Principal
	for _, p := range cf.Principals {
		if p.Tenant == "acme" && p.Name == "acme-sync" {
			syncApp = p
		}
		if admin.Login == "" && p.Tenant == "acme" && p.Kind == "user" && strings.Contains(strings.Join(p.Roles, " "), "admin") {
			admin = p
		}
	}
	adminTok := basicToken(t, base, syncApp.ClientID, syncApp.ClientSecret, url.Values{"grant_type": {"password"},
		"username": {admin.Login}, "password": {admin.Password}})
	auth := map[string]string{"Authorization": "Bearer " + adminTok}
	// The dashboard's OAuth client: analytics:read and audits:readonly, its
	// service principal holding the admin role.
	resp := do(t, "POST", base+"/v1/tenants/acme/apps", auth, map[string]any{"name": "Compliance Dashboard",
		"grants": []string{"client_credentials"}, "scopes": []string{"analytics.read", "audit.read"}, "roles": []string{"admin"}})
	if resp.status != 201 {
		t.Fatalf("create app: %d %s", resp.status, resp.raw)
	}
	clientID, secret := resp.body["clientId"].(string), resp.body["clientSecret"].(string)

	u, _ := url.Parse(base)
	run := func(phase, oldToken string) string {
		t.Helper()
		cmd := exec.Command(node, "proof.js")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GC_HOST="+u.Hostname(), "GC_PORT="+u.Port(), "GC_CLIENT_ID="+clientID,
			"GC_CLIENT_SECRET="+secret, "PHASE="+phase, "OLD_TOKEN="+oldToken)
		timer := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node proof.js %s: %v\n%s", phase, err, out)
		}
		return string(out)
	}
	out := run("before", "")
	t.Logf("before:\n%.3000s", out)
	for _, want := range []string{"LOGGED IN token", "AUDIT TOTAL", "EVENTS DENIED STATUS 403",
		`"message":"Access denied. The client does not have permission to access this resource."`,
		`"code":"missing.permissions"`, `"permissions":"[analytics:export]"`, "CORRELATION req_", "TRACE FOUND 1 DENIED", `"layer":"scopes","result":"fail"`} {
		if !strings.Contains(out, want) {
			t.Errorf("before: output lacks %q", want)
		}
	}
	_, rest, _ := strings.Cut(out, "TOKEN ")
	oldToken, _, _ := strings.Cut(rest, "\n")

	resp = do(t, "PATCH", base+"/v1/tenants/acme/apps/"+clientID, auth, map[string]any{
		"scopes": []string{"analytics.read", "analytics.export", "audit.read"}})
	if resp.status != 200 {
		t.Fatalf("grant analytics.export: %d %s", resp.status, resp.raw)
	}
	out = run("after", oldToken)
	t.Logf("after:\n%.3000s", out)
	for _, want := range []string{"OLD TOKEN DENIED STATUS 403", "scope.added.after.token.new.token.required",
		`"newTokenRequired":"true"`, "LOGGED IN token", "EVENTS OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("after: output lacks %q", want)
		}
	}
}
