package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEightByEightAuditDemo runs the seed's Audit Records request (one
// line, spaces percent-encoded, only host and key changed) against the
// demo server with maria's audit key: the seed's foreign scrollId is
// refused with 8x8's error body; without it the (empty, 2023) window
// answers a null scrollId; a window over the demo's recent history of
// every service returns its records, scrolled to a null end.
func TestEightByEightAuditDemo(t *testing.T) {
	dir := t.TempDir()
	credsPath := filepath.Join(dir, "creds.json")
	base, _, _ := startCommand(t, "demo", "--data", filepath.Join(dir, "demo"), "--records", "200", "--credentials-out", credsPath)
	raw, err := os.ReadFile(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	var cf credentialsFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
	key := cf.find(t, "acme", "maria-audit-key")["apiKey"].(string)
	h := map[string]string{"x-api-key": key, "Accept": "application/json"}
	const seed = "/administration/audit/v1/audits?size=1&startTime=2023-05-01T18:30:00.000&endTime=2023-05-31T23:59:59.651" +
		"&service=platform&displayName=*Bes*&auditUserId=DctVyxEFR86EYyyDFoSLNA&entityTypes=RingGROUP,%20Agentgroup" +
		"&eventTypes=create,%20update&scrollId=6bca6d01-774c-4115-8a03-eff95f430b06"
	r := do(t, "GET", base+seed, h, nil)
	if r.status != 400 || r.body["message"] != "Invalid scrollId" || r.body["path"] != "/v1/audits" || r.body["error"] != "Bad Request" {
		t.Fatalf("seed request: %d %s", r.status, r.raw)
	}
	first, _, _ := strings.Cut(seed, "&scrollId=")
	r = do(t, "GET", base+first, h, nil)
	if r.status != 200 || !strings.Contains(r.raw, `"scrollId":null`) || !strings.Contains(r.raw, `"data":[]`) {
		t.Fatalf("seed request without scrollId: %d %s", r.status, r.raw)
	}

	now := time.Now().UTC()
	q := base + "/administration/audit/v1/audits?service=platform,%20data,%20auth,%20access&size=100&startTime=" +
		now.AddDate(0, 0, -31).Format(time.RFC3339) + "&endTime=" + now.Format(time.RFC3339)
	total, u := 0, q
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("the scroll does not end")
		}
		r = do(t, "GET", u, h, nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.raw)
		}
		meta := r.body["meta"].(map[string]any)
		data := r.body["data"].([]any)
		if int(meta["totalRecordCount"].(float64)) != len(data) {
			t.Fatalf("page %d: meta %v with %d records", page, meta, len(data))
		}
		for _, d := range data {
			if svc := d.(map[string]any)["service"]; svc != "platform" && svc != "data" && svc != "auth" && svc != "access" {
				t.Fatalf("record %v", d)
			}
		}
		total += len(data)
		sid, ok := meta["scrollId"].(string)
		if !ok {
			break
		}
		u = q + "&scrollId=" + sid
	}
	if total == 0 {
		t.Error("no audit records in the demo's last 31 days")
	}
}

// TestEightByEightAnalyticsDemo follows the Work Analytics flow on the
// demo: maria (acme's admin) creates an Analytics key for the Acme Sync
// app through the native API; a script's token request with that key and
// a user's password, then call records of every PBX paged to "No Data";
// lee, scoped to Austin-PBX, is refused NYC-PBX with 105-400-038 and a
// hint naming the PBX scope.
func TestEightByEightAnalyticsDemo(t *testing.T) {
	dir := t.TempDir()
	credsPath := filepath.Join(dir, "creds.json")
	base, _, _ := startCommand(t, "demo", "--data", filepath.Join(dir, "demo"), "--records", "300", "--credentials-out", credsPath)
	raw, err := os.ReadFile(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	var cf credentialsFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
	maria, lee, sync := cf.find(t, "acme", "maria"), cf.find(t, "acme", "lee"), cf.find(t, "acme", "acme-sync")
	admin := basicToken(t, base, sync["clientId"].(string), sync["clientSecret"].(string),
		url.Values{"grant_type": {"password"}, "username": {maria["login"].(string)}, "password": {maria["password"].(string)}})
	r := do(t, "POST", base+"/v1/tenants/acme/api-keys", map[string]string{"Authorization": "Bearer " + admin},
		map[string]any{"name": "Analytics for 8x8 Work", "subjectKind": "app", "subjectId": sync["clientId"], "scopes": []string{"analytics.read"}})
	key, _ := r.body["key"].(string)
	if r.status != 201 || key == "" {
		t.Fatalf("creating the Analytics key: %d %s", r.status, r.raw)
	}
	token := func(u map[string]any) string {
		r := do(t, "POST", base+"/analytics/work/v1/oauth/token", map[string]string{"8x8-apikey": key},
			url.Values{"username": {u["login"].(string)}, "password": {u["password"].(string)}})
		tok, _ := r.body["access_token"].(string)
		if r.status != 200 || tok == "" || r.body["token_type"] != "bearer" || r.body["expires_in"] == nil {
			t.Fatalf("8x8 token: %d %s", r.status, r.raw)
		}
		return tok
	}
	now := time.Now().UTC()
	q := "/analytics/work/v2/call-records?pbxId=allpbxes&timeZone=America/Chicago&pageSize=50&startTime=" +
		url.QueryEscape(now.AddDate(0, 0, -3).In(mustZone(t, "America/Chicago")).Format("2006-01-02 15:04:05")) +
		"&endTime=" + url.QueryEscape(now.In(mustZone(t, "America/Chicago")).Format("2006-01-02 15:04:05"))
	h := map[string]string{"Authorization": "Bearer " + token(maria), "8x8-apikey": key}
	total, seen, u := -1, 0, base+q
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("the scroll does not end")
		}
		r := do(t, "GET", u, h, nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.raw)
		}
		meta := r.body["meta"].(map[string]any)
		sid := meta["scrollId"].(string)
		if sid == "No Data" {
			break
		}
		n := int(meta["totalRecordCount"].(float64))
		if total >= 0 && n != total {
			t.Fatalf("page %d: totalRecordCount %d, was %d", page, n, total)
		}
		total = n
		seen += len(r.body["data"].([]any))
		u = base + q + "&scrollId=" + url.QueryEscape(sid)
	}
	if total <= 0 || seen != total {
		t.Errorf("paged %d records, totalRecordCount %d", seen, total)
	}

	h["Authorization"] = "Bearer " + token(lee)
	r = do(t, "GET", base+strings.Replace(q, "allpbxes", "NYC-PBX", 1), h, nil)
	want := "user(" + lee["login"].(string) + ") does not have access to api category(CDR) for pbxId([NYC-PBX])."
	if hint, _ := r.body["hint"].(string); r.status != 400 || r.body["code"] != "105-400-038" || r.body["message"] != want ||
		!strings.HasPrefix(hint, "missing PBX scope") || r.body["requestId"] == "" {
		t.Errorf("lee at NYC-PBX: %d %s", r.status, r.raw)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
