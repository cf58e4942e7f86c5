package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestGenesysAsyncAuditAcrossNodesOnPostgres runs two `callvault serve` on
// one PostgreSQL database: an asynchronous Genesys audit query submitted
// to node A is polled on node B (status and every results page, and the
// pages alternating between the nodes, with the same records in the same
// order); a tampered transaction id is 404 not.found on both.
func TestGenesysAsyncAuditAcrossNodesOnPostgres(t *testing.T) {
	db := pgDSN(t)
	appID, secret := pgTenant(t, db)
	baseA, _ := startServer(t, "--data", t.TempDir(), "--db", db, "--purge-interval", "0")
	baseB, _ := startServer(t, "--data", t.TempDir(), "--db", db, "--purge-interval", "0")
	tok := basicToken(t, baseA, appID, secret, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin-password-1"}})
	auth := map[string]string{"Authorization": "Bearer " + tok}
	for _, base := range []string{baseA, baseB, baseA} {
		if r := do(t, "POST", base+"/v1/tenants/acme/sites", auth, map[string]any{"name": "Site " + base}); r.status != 201 {
			t.Fatalf("create site: %d %s", r.status, r.raw)
		}
	}
	now := time.Now().UTC()
	iv := now.Add(-time.Hour).Format(time.RFC3339) + "/" + now.Add(time.Hour).Format(time.RFC3339)
	sub := do(t, "POST", baseA+"/api/v2/audits/query", auth, map[string]any{"interval": iv, "serviceName": "ContactCenter",
		"sort": []map[string]string{{"name": "Timestamp", "sortOrder": "descending"}}})
	if sub.status != 202 || sub.body["state"] != "Succeeded" {
		t.Fatalf("submit on A: %d %s", sub.status, sub.raw)
	}
	id := sub.body["id"].(string)
	st := do(t, "GET", baseB+"/api/v2/audits/query/"+id, auth, nil)
	if st.status != 200 || st.body["id"] != id || st.body["startDate"] != sub.body["startDate"] || st.body["interval"] != iv {
		t.Fatalf("status on B: %d %s", st.status, st.raw)
	}
	read := func(nodes ...string) []string {
		t.Helper()
		var ids []string
		cur := ""
		for i := 0; ; i++ {
			p := nodes[i%len(nodes)] + "/api/v2/audits/query/" + id + "/results?pageSize=2"
			if cur != "" {
				p += "&cursor=" + url.QueryEscape(cur)
			}
			r := do(t, "GET", p, auth, nil)
			if r.status != 200 {
				t.Fatalf("results page %d on %s: %d %s", i, nodes[i%len(nodes)], r.status, r.raw)
			}
			for _, x := range r.body["entities"].([]any) {
				ids = append(ids, x.(map[string]any)["id"].(string))
			}
			c, _ := r.body["cursor"].(string)
			if c == "" {
				return ids
			}
			cur = c
		}
	}
	onB := read(baseB)
	if len(onB) < 5 {
		t.Fatalf("want at least 5 records (3 site creations and more) read on B, got %d", len(onB))
	}
	if both := read(baseA, baseB); strings.Join(both, ",") != strings.Join(onB, ",") {
		t.Fatalf("pages alternating A/B differ from B's:\n%v\n%v", both, onB)
	}
	body, sig, _ := strings.Cut(id, ".")
	flip := "A"
	if body[len(body)-1] == 'A' {
		flip = "B"
	}
	bad := body[:len(body)-1] + flip + "." + sig
	for _, base := range []string{baseA, baseB} {
		if r := do(t, "GET", base+"/api/v2/audits/query/"+bad, auth, nil); r.status != 404 || r.body["code"] != "not.found" {
			t.Fatalf("tampered id on %s: %d %s", base, r.status, r.raw)
		}
	}
}
