package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlite"
)

// runCmd runs one command and returns its outputs and error.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb syncBuffer
	err = run(context.Background(), append([]string{"callvault"}, args...), noEnv, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

// withStore opens the data directory's database while no server runs.
func withStore(t *testing.T, data string, fn func(st *sqlite.DB)) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "callvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fn(st)
}

// newTenantWithSite makes tenant acme (New York time) with the site
// NYC-PBX and returns the site's id.
func newTenantWithSite(t *testing.T, data string) string {
	t.Helper()
	mustRun(t, "", "tenant", "create", "--data", data, "--id", "acme", "--name", "Acme", "--timezone", "America/New_York")
	site := &callvault.Site{TenantID: "acme", ID: callvault.NewID("sit"), Name: "NYC-PBX", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	withStore(t, data, func(st *sqlite.DB) {
		if err := st.Update(context.Background(), func(tx callvault.Tx) error { return tx.CreateSite(site) }); err != nil {
			t.Fatal(err)
		}
	})
	return site.ID
}

// masterCSV writes a Master.csv as Asterisk's cdr_csv writes it (18
// columns: loguniqueid and loguserfield on, dates in the PBX's local time)
// from yesterday, with four bad lines, and returns its path.
func masterCSV(t *testing.T, dir string, day time.Time) string {
	t.Helper()
	at := func(h, m, s int) string {
		return day.Add(time.Duration(h*3600+m*60+s) * time.Second).Format(time.DateTime)
	}
	lines := []string{
		// 1: inbound, answered
		fmt.Sprintf(`"","+14155550142","1001","from-trunk",""""" <+14155550142>","PJSIP/trunk-00000001","PJSIP/1001-00000002","Dial","PJSIP/1001,30,tT","%s","%s","%s",200,194,"ANSWERED","DOCUMENTATION","1793872800.101",""`, at(9, 0, 0), at(9, 0, 6), at(9, 3, 20)),
		// 2: outbound, answered
		fmt.Sprintf(`"","1002","+16505550199","from-internal","""Jane Roe"" <1002>","PJSIP/1002-00000003","PJSIP/trunk-00000004","Dial","PJSIP/trunk/+16505550199","%s","%s","%s",95,90,"ANSWERED","DOCUMENTATION","1793873100.105",""`, at(9, 5, 0), at(9, 5, 5), at(9, 6, 35)),
		// 3: wrong column count
		`"","1001","1002","from-internal","x","PJSIP/1001-5","PJSIP/1002-6","Dial","PJSIP/1002"`,
		// 4: internal, answered
		fmt.Sprintf(`"","1001","1002","from-internal","""Alice Johnson"" <1001>","PJSIP/1001-00000005","PJSIP/1002-00000006","Dial","PJSIP/1002,20","%s","%s","%s",124,120,"ANSWERED","DOCUMENTATION","1793873400.110",""`, at(9, 10, 0), at(9, 10, 4), at(9, 12, 4)),
		// 5: a timestamp that is no date
		`"","1001","1003","from-internal","","PJSIP/1001-7","PJSIP/1003-8","Dial","","2026-13-45 25:61:00","","2026-13-45 25:62:00",60,0,"NO ANSWER","DOCUMENTATION","1793873500.111",""`,
		// 6: inbound, not answered (answer empty and unquoted)
		fmt.Sprintf(`"","+16505550123","1003","from-trunk",""""" <+16505550123>","PJSIP/trunk-00000009","PJSIP/1003-0000000a","Dial","PJSIP/1003,30","%s",,"%s",30,0,"NO ANSWER","DOCUMENTATION","1793873600.120",""`, at(10, 0, 0), at(10, 0, 30)),
		// 7: a negative duration
		fmt.Sprintf(`"","1002","1003","from-internal","","PJSIP/1002-b","PJSIP/1003-c","Dial","","%s","","%s",-30,0,"NO ANSWER","DOCUMENTATION","1793873700.121",""`, at(10, 5, 0), at(10, 5, 30)),
		// 8: busy
		fmt.Sprintf(`"","1003","+12125550100","from-internal","","PJSIP/1003-d","PJSIP/trunk-e","Dial","","%s",,"%s",3,0,"BUSY","DOCUMENTATION","1793873800.130",""`, at(11, 0, 0), at(11, 0, 3)),
		// 9: fax
		fmt.Sprintf(`"","+14155550177","1004","from-trunk","","PJSIP/trunk-f","PJSIP/1004-10","ReceiveFAX","/tmp/fax.tif","%s","%s","%s",61,60,"ANSWERED","DOCUMENTATION","1793873900.140",""`, at(11, 30, 0), at(11, 30, 1), at(11, 31, 1)),
	}
	// 10: the PBX crashed while writing the last line.
	body := strings.Join(lines, "\n") + "\n" + `"","+14155550142","1001","from-trunk",""""" <+1415`
	path := filepath.Join(dir, "Master.csv")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func yesterdayIn(t *testing.T, tz string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := time.Now().In(loc).AddDate(0, 0, -1).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func importRecords(t *testing.T, data string) []*callvault.AuditRecord {
	t.Helper()
	var recs []*callvault.AuditRecord
	withStore(t, data, func(st *sqlite.DB) {
		var err error
		recs, err = st.AuditRecords(context.Background(), callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{importEntityType}})
		if err != nil {
			t.Fatal(err)
		}
	})
	return recs
}

// TestImportAsteriskCSV imports a real-looking Master.csv with bad lines:
// each bad line is named with its line number and field, every good line is
// stored, the exit status says lines were bad, a re-run stores nothing new,
// and each run leaves one audit record.
func TestImportAsteriskCSV(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	siteID := newTenantWithSite(t, data)
	day := yesterdayIn(t, "America/New_York")
	csv := masterCSV(t, dir, day)

	// The tenant has sites: a PBX file must say which one it comes from.
	_, _, err := runCmd(t, "", "import", "--data", data, "--tenant", "acme", "--format", "asterisk-csv", csv)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "--site") || !strings.Contains(err.Error(), "NYC-PBX") {
		t.Fatalf("import without --site: %v", err)
	}

	out, stderr, err := runCmd(t, "", "import", "--data", data, "--tenant", "acme", "--format", "asterisk-csv", "--site", "nyc-pbx",
		"--batch", "2", "--progress-every", "1ns", csv)
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "4 bad lines") {
		t.Fatalf("exit: %v\n%s\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "imported 6 records (6 new, 0 duplicates, 4 bad)") {
		t.Errorf("summary: %q", out)
	}
	for _, want := range []string{
		csv + ":3: ", // wrong column count
		csv + ":5: start: \"2026-13-45 25:61:00\"", // bad timestamp
		csv + ":7: duration: -30 is negative",      // negative duration
		csv + ":10: ",                              // truncated
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(csv)+`:\d+: `).FindAllString(stderr, -1)); n != 4 {
		t.Errorf("%d bad-line reports, want 4:\n%s", n, stderr)
	}
	// Plain progress lines (standard error is no terminal here).
	if !regexp.MustCompile(`(?m)^imported 2 records \(2 new, 0 duplicates, \d bad\) \d+ rec/s`).MatchString(stderr) {
		t.Errorf("no plain progress line:\n%s", stderr)
	}

	withStore(t, data, func(st *sqlite.DB) {
		calls, err := st.Calls(context.Background(), callvault.CallFilter{TenantID: "acme", Limit: 100})
		if err != nil || len(calls) != 6 {
			t.Fatalf("stored %d calls, %v", len(calls), err)
		}
		for _, c := range calls {
			if c.SiteID != siteID {
				t.Errorf("call %s has site %q, want %q", c.ID, c.SiteID, siteID)
			}
		}
		// The first line's 09:00:00 is New York time.
		if calls[5].Start != day.Add(9*time.Hour).UTC() || calls[5].Direction != callvault.DirectionInbound {
			t.Errorf("first call: %+v", calls[5])
		}
	})

	out, _, _ = runCmd(t, "", "import", "--data", data, "--tenant", "acme", "--format", "asterisk-csv", "--site", siteID, csv)
	if !strings.Contains(out, "imported 6 records (0 new, 6 duplicates, 4 bad)") {
		t.Errorf("re-import: %q", out)
	}
	recs := importRecords(t, data)
	if len(recs) != 2 {
		t.Fatalf("%d import audit records, want 2", len(recs))
	}
	var det struct {
		New map[string]any `json:"new"`
	}
	if err := json.Unmarshal([]byte(recs[1].Details), &det); err != nil {
		t.Fatal(err)
	}
	if recs[1].Service != callvault.AuditData || recs[1].EventType != callvault.EventCreate || det.New["stored"] != 0.0 ||
		det.New["duplicates"] != 6.0 || det.New["badLines"] != 4.0 || det.New["format"] != "asterisk-csv" {
		t.Errorf("audit record %+v", recs[1])
	}
}

// TestImportNDJSONAndFreeSWITCH imports the native format (whose records
// name their own sites) from standard input and FreeSWITCH CDR files.
func TestImportNDJSONAndFreeSWITCH(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	siteID := newTenantWithSite(t, data)
	start := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	nd := strings.Join([]string{
		`{"id":"n-1","siteId":"` + siteID + `","startTime":"` + start + `","durationMs":60000,"direction":"Inbound","from":{"phoneNumber":"+14155550100"},"to":{"extensionNumber":"101"}}`,
		`{"id":"n-2","startTime":"` + start + `","durationMs":30000,"direction":"Outbound","from":{"extensionNumber":"102"},"to":{"phoneNumber":"+14155550101"}}`,
		`{"id":"n-3","siteId":"sit_nowhere","startTime":"` + start + `","durationMs":1000,"direction":"Inbound"}`,
		``,
		`{"id":"n-4","startTime":"yesterday"}`,
	}, "\n")
	out, stderr, err := runCmd(t, nd, "import", "--data", data, "--tenant", "acme", "--format", "ndjson", "-")
	if err == nil || !strings.Contains(out, "imported 2 records (2 new, 0 duplicates, 2 bad)") {
		t.Fatalf("ndjson: %v\n%s\n%s", err, out, stderr)
	}
	if !strings.Contains(stderr, `-:3: siteId: tenant "acme" has no site "sit_nowhere"`) || !strings.Contains(stderr, "-:5: startTime") {
		t.Errorf("ndjson bad lines:\n%s", stderr)
	}

	fs := filepath.Join("..", "..", "internal", "ingest", "testdata", "freeswitch-import.ndjson")
	out, stderr, err = runCmd(t, "", "import", "--data", data, "--tenant", "acme", "--format", "freeswitch-json", "--site", "NYC-PBX", fs)
	if err != nil || !strings.Contains(out, "imported 4 records (4 new, 0 duplicates, 0 bad)") || !strings.Contains(out, "skipped 1 FreeSWITCH B-leg") {
		t.Fatalf("freeswitch: %v\n%s\n%s", err, out, stderr)
	}
	withStore(t, data, func(st *sqlite.DB) {
		c, err := st.Call(context.Background(), "acme", "62f746b4-84e6-4ceb-95bd-447e7184d454")
		if err != nil || c.SiteID != siteID {
			t.Errorf("FreeSWITCH call: %+v %v", c, err)
		}
	})
	if n := len(importRecords(t, data)); n != 2 {
		t.Errorf("%d import audit records, want 2", n)
	}
}

func TestImportErrors(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, "", "tenant", "create", "--data", data, "--id", "acme")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "ndjson", "x"}, "--tenant is required"},
		{[]string{"--tenant", "acme", "--format", "xml", "x"}, "--format must be one of"},
		{[]string{"--tenant", "acme", "--format", "ndjson"}, "name at least one file"},
		{[]string{"--tenant", "acme", "--format", "ndjson", "--timezone", "UTC", "x"}, "--timezone applies only"},
		{[]string{"--tenant", "acme", "--format", "ndjson", "/nonexistent/file"}, "no such file"},
		{[]string{"--tenant", "nope", "--format", "ndjson", "-"}, `no tenant "nope"`},
		{[]string{"--tenant", "acme", "--format", "asterisk-csv", "--site", "Mars", "-"}, `--site "Mars" is not a site`},
	} {
		_, _, err := runCmd(t, "", append([]string{"import", "--data", data}, tc.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v", tc.args, err)
		}
	}
}

// TestProgressBar draws the terminal bar into a buffer: counts, records/s
// and the share of bytes read.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	start := time.Now()
	clock := start
	b := newBar(&buf, 1000, func() time.Time { return clock })
	clock = start.Add(2 * time.Second)
	b.Update(importCounts{Records: 5000, Stored: 4900, Duplicates: 100, Bad: 1}, 500)
	b.Say("x.csv:3: start: bad")
	b.Finish()
	for _, want := range []string{"5000 rec (4900 new, 100 dup, 1 bad) 2500 rec/s", "x.csv:3: start: bad", "100%"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("bar output lacks %q: %q", want, buf.String())
		}
	}
	if _, ok := newProgress(&buf, 1000, time.Second, time.Now).(*lines); !ok {
		t.Error("a writer that is not a terminal got a bar")
	}
}

// TestPurgeCommand imports calls older than retention and purges them,
// sparing the one under legal hold.
func TestPurgeCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, "", "tenant", "create", "--data", data, "--id", "acme")
	old := time.Now().UTC().AddDate(0, 0, -800).Format(time.RFC3339)
	recent := time.Now().UTC().AddDate(0, 0, -2).Format(time.RFC3339)
	var nd strings.Builder
	for i, start := range []string{old, old, old, recent} {
		fmt.Fprintf(&nd, `{"id":"c-%d","startTime":"%s","durationMs":60000,"direction":"Inbound","from":{"phoneNumber":"+14155550100"}}`+"\n", i, start)
	}
	mustRun(t, nd.String(), "import", "--data", data, "--tenant", "acme", "--format", "ndjson", "-")
	withStore(t, data, func(st *sqlite.DB) {
		if err := st.Update(context.Background(), func(tx callvault.Tx) error { return tx.SetCallLegalHold("acme", "c-0", true) }); err != nil {
			t.Fatal(err)
		}
	})
	if out := mustRun(t, "", "purge", "--data", data, "--tenant", "acme", "--dry-run"); !strings.Contains(out, "tenant acme: would purge 2 calls") {
		t.Errorf("dry run: %q", out)
	}
	if out := mustRun(t, "", "purge", "--data", data, "--batch", "1"); !strings.Contains(out, "tenant acme: purged 2 calls, 0 recordings, 0 blobs") {
		t.Errorf("purge: %q", out)
	}
	withStore(t, data, func(st *sqlite.DB) {
		ctx := context.Background()
		for id, want := range map[string]bool{"c-0": true, "c-1": false, "c-2": false, "c-3": true} {
			if _, err := st.Call(ctx, "acme", id); (err == nil) != want {
				t.Errorf("call %s kept = %v, want %v", id, err == nil, want)
			}
		}
		recs, err := st.AuditRecords(ctx, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"retentionPurge"}})
		if err != nil || len(recs) != 1 || !strings.HasPrefix(recs[0].AuditUserID, "cli") || !strings.Contains(recs[0].Details, `"calls":2`) {
			t.Errorf("purge audit records: %+v %v", recs, err)
		}
	})
	if _, _, err := runCmd(t, "", "purge", "--data", data, "--tenant", "nope"); err == nil || !strings.Contains(err.Error(), `no tenant "nope"`) {
		t.Errorf("unknown tenant: %v", err)
	}
}
