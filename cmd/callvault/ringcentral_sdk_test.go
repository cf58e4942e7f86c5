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

// TestRingCentralSDK is the proof of the RingCentral face with the real
// client: it installs @ringcentral/sdk 5.x from npm into a temporary
// directory and runs the seed's snippet (testdata/ringcentral/seed.js,
// changed only by the await SDK 5 needs) against a demo server, then the
// rest of the proof (more.js): paging by navigation.nextPage, recording
// content, an access token expiring under the SDK, a denial's message.
// Skipped when CALLVAULT_SKIP_NPM is set or npm/node are missing.
func TestRingCentralSDK(t *testing.T) {
	if os.Getenv("CALLVAULT_SKIP_NPM") != "" {
		t.Skip("CALLVAULT_SKIP_NPM is set: not installing @ringcentral/sdk from npm")
	}
	npm, err1 := exec.LookPath("npm")
	node, err2 := exec.LookPath("node")
	if err1 != nil || err2 != nil {
		t.Skip("npm and node are needed to run the RingCentral JS SDK against the server")
	}
	if testing.Short() {
		t.Skip("-short: not installing from npm")
	}
	dir := t.TempDir()
	for _, f := range []string{"seed.js", "more.js"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ringcentral", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"rc-proof","private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "@ringcentral/sdk@5", "dotenv@16")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, out)
	}

	creds := filepath.Join(t.TempDir(), "creds.json")
	base, _, _ := startCommand(t, "demo", "--data", t.TempDir(), "--credentials-out", creds, "--access-ttl", "3s",
		"--rc-rate-limits", "Auth=100000,Heavy=100000,Light=100000")
	var cf struct {
		Principals []demo.Principal `json:"principals"`
	}
	b, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	find := func(tenant, name string) demo.Principal {
		for _, p := range cf.Principals {
			if p.Tenant == tenant && p.Name == name {
				return p
			}
		}
		t.Fatalf("no demo principal %s/%s", tenant, name)
		return demo.Principal{}
	}
	syncApp, viewer, samJWT := find("acme", "acme-sync"), find("acme", "call-log-viewer"), find("acme", "sam-jwt")
	var admin demo.Principal
	for _, p := range cf.Principals {
		if p.Tenant == "acme" && p.Kind == "user" && strings.Contains(strings.Join(p.Roles, " "), "admin") {
			admin = p
			break
		}
	}
	// A JWT credential for acme's admin (FullCompanyCallLog), made with the
	// native admin API.
	tok := basicToken(t, base, syncApp.ClientID, syncApp.ClientSecret, url.Values{"grant_type": {"password"},
		"username": {admin.Login}, "password": {admin.Password}})
	resp := do(t, "POST", base+"/v1/tenants/acme/jwt-credentials", map[string]string{"Authorization": "Bearer " + tok},
		map[string]any{"userId": admin.UserID, "name": "sdk proof"})
	if resp.status != 201 {
		t.Fatalf("jwt credential: %d %s", resp.status, resp.raw)
	}
	adminJWT := resp.body["jwt"].(string)

	run := func(script, clientID, secret, jwt string) string {
		t.Helper()
		cmd := exec.Command(node, script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "RC_SERVER_URL="+base, "RC_CLIENT_ID="+clientID, "RC_CLIENT_SECRET="+secret, "RC_JWT="+jwt,
			"RC_NARROW_ID="+viewer.ClientID, "RC_NARROW_SECRET="+viewer.ClientSecret)
		timer := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node %s: %v\n%s", script, err, out)
		}
		return string(out)
	}

	// The seed's snippet as an admin: the account's call log is printed.
	out := run("seed.js", syncApp.ClientID, syncApp.ClientSecret, adminJWT)
	t.Logf("seed.js (admin):\n%.1500s", out)
	for _, want := range []string{"Account level call log data", "records: [", "uri: '" + base + "/restapi/v1.0/account/~/call-log?dateFrom=", "navigation: {", "paging: {"} {
		if !strings.Contains(out, want) {
			t.Errorf("seed.js output lacks %q", want)
		}
	}
	// As an agent (no FullCompanyCallLog): the snippet prints the denial.
	out = run("seed.js", syncApp.ClientID, syncApp.ClientSecret, samJWT.JWT)
	t.Logf("seed.js (agent):\n%s", out)
	if want := "In order to call this API endpoint, user needs to have [FullCompanyCallLog] permission for requested resource."; !strings.Contains(out, want) {
		t.Errorf("seed.js as an agent: want %q", want)
	}

	out = run("more.js", syncApp.ClientID, syncApp.ClientSecret, adminJWT)
	t.Logf("more.js:\n%s", out)
	for _, want := range []string{"PAGES 4 RECORDS 20 DISTINCT 20", "MAGIC RIFF", "refreshed=",
		"DENIED In order to call this API endpoint, application needs to have [ReadCallRecording] permission",
		`"errors":[{"errorCode":"CMN-401","message":"In order to call this API endpoint, application needs to have [ReadCallRecording] permission","permissionName":"ReadCallRecording"}],"permissionName":"ReadCallRecording"`} {
		if !strings.Contains(out, want) {
			t.Errorf("more.js output lacks %q", want)
		}
	}
	if !strings.Contains(out, "refreshedOn401=1") {
		t.Errorf("the SDK did not refresh (once) on the 401 of its expired access token")
	}
}
