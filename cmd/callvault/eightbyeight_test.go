package main

import (
	"encoding/json"
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
