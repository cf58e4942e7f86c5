package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/face/genesys"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// TestRun: the app of org home is admitted by second (with audits:readonly
// and the auditor role) and by third (without audits:readonly); the feed
// merges home's and second's records into one ordered timeline and says
// why third was skipped.
func TestRun(t *testing.T) {
	e := httptestenv.New(t, func(c *cvhttp.Config) { c.Faces = []cvhttp.Face{genesys.New(genesys.Options{})} })
	for _, org := range []string{"home", "second", "third"} {
		e.MustTenant(t, org, "us")
	}
	app, secret := e.MustApp(t, "home", "Compliance Dashboard", []string{callvault.GrantClientCredentials},
		[]callvault.Permission{callvault.PermAuditRead, callvault.PermAnalyticsRead})
	app.Roles = []string{callvault.RoleAuditor}
	n := time.Now().UTC()
	e.MustUpdate(t, func(tx callvault.Tx) error {
		if err := tx.UpdateApp(app); err != nil {
			return err
		}
		if err := tx.PutConsent(&callvault.Consent{TenantID: "second", AppID: app.ID, AppTenant: "home",
			Scopes: []callvault.Permission{callvault.PermAuditRead}, Roles: []string{callvault.RoleAuditor}, CreatedAt: n, UpdatedAt: n}); err != nil {
			return err
		}
		return tx.PutConsent(&callvault.Consent{TenantID: "third", AppID: app.ID, AppTenant: "home",
			Scopes: []callvault.Permission{callvault.PermAnalyticsRead}, Roles: []string{callvault.RoleSupervisor}, CreatedAt: n, UpdatedAt: n})
	})
	var out, errOut bytes.Buffer
	cfg := Config{Base: e.URL, ClientID: app.ID, ClientSecret: secret, Since: time.Hour, Now: time.Now().UTC(), HTTP: http.DefaultClient}
	if err := Run(context.Background(), cfg, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	orgs := map[string]int{}
	last := ""
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var en Entry
		if err := json.Unmarshal(sc.Bytes(), &en); err != nil {
			t.Fatal(err)
		}
		if en.EventDate < last {
			t.Fatalf("not in time order: %s after %s", en.EventDate, last)
		}
		last = en.EventDate
		orgs[en.Org]++
	}
	if orgs["home"] == 0 || orgs["second"] == 0 || orgs["third"] != 0 {
		t.Fatalf("entries per org: %v\n%s", orgs, out.String())
	}
	if s := errOut.String(); !strings.Contains(s, `org "third" skipped`) || !strings.Contains(s, "missing.permissions") ||
		!strings.Contains(s, "ININ-Correlation-Id req_") {
		t.Fatalf("third's refusal: %s", s)
	}
	t.Logf("timeline: %v; skipped: %s", orgs, errOut.String())
}
