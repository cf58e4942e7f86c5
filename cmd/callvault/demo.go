package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/template"
	"time"

	"github.com/callvault/callvault/internal/demo"
	"github.com/callvault/callvault/internal/retention"
)

// demoFlags are the flags of `callvault demo` besides serve's.
type demoFlags struct {
	records  int
	seed     int64
	credsOut string
}

func (f *demoFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.records, "records", demo.DefaultRecords, "call records to generate over 30 months")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the generated dataset (same seed, same data)")
	fs.StringVar(&f.credsOut, "credentials-out", "", "write every demo credential as JSON to this file (mode 0600)")
}

// credentialsFile is the JSON that --credentials-out writes.
type credentialsFile struct {
	BaseURL    string           `json:"baseUrl"`
	DataDir    string           `json:"dataDir"`
	Principals []demo.Principal `json:"principals"`
	Examples   map[string]any   `json:"examples"`
	Shape      demo.Shape       `json:"shape"`
}

// seedDemo seeds a demo installation unless the data directory has one, and
// prints the credentials and a curl walkthrough.
func (e *env) seedDemo(ctx context.Context, d *data, base string, f demoFlags) error {
	seeded, err := demo.Seeded(ctx, d.store)
	if err != nil {
		return err
	}
	if seeded {
		fmt.Fprintf(e.stdout, "The database %s already holds the demo; its secrets were printed when it was seeded.\n", d.where)
		return nil
	}
	if f.records < 1 {
		return &exitError{code: 2, msg: "--records must be at least 1"}
	}
	start := time.Now()
	dm, err := demo.Seed(ctx, d.store, demo.Options{Records: f.records, Seed: f.seed, Now: start, Blobs: d.blobs,
		JWTKey: d.jwtKey, BaseURL: base})
	if err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}
	if f.credsOut != "" {
		cf := credentialsFile{BaseURL: base, DataDir: d.dir, Principals: dm.Principals, Shape: dm.Shape, Examples: map[string]any{
			"tenant": dm.Tenant, "siteId": dm.SiteID, "siteName": dm.SiteName, "recordingId": dm.RecordingID,
			"recordingSize": dm.RecordingLen, "expiredCallId": dm.ExpiredCall}}
		b, _ := json.MarshalIndent(cf, "", "  ")
		if err := os.WriteFile(f.credsOut, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("writing --credentials-out: %w", err)
		}
	}
	t, err := d.store.Tenant(ctx, dm.Tenant)
	if err != nil {
		return err
	}
	cutoff := retention.Cutoff(t, start)
	return walkthrough.Execute(e.stdout, map[string]any{
		"D": dm, "S": dm.Shape, "Base": base, "Dir": d.dir, "DB": d.dbArg, "Took": time.Since(start).Round(10 * time.Millisecond), "CredsOut": f.credsOut,
		"Week": start.UTC().AddDate(0, 0, -7).Format(time.DateOnly), "Today": start.UTC().Format(time.DateOnly),
		"TooOld": cutoff.AddDate(0, -1, 0).UTC().Format(time.DateOnly), "Cutoff": cutoff.UTC().Format(time.RFC3339),
		"RangeEnd": 16043, // the 44-byte WAV header and the first second (8 kHz, 16-bit)
	})
}

// walkthrough is what the demo prints after seeding: what is there, the
// secrets (shown once) and curl lines that succeed and that are denied.
var walkthrough = template.Must(template.New("demo").Parse(`
callvault demo — seeded {{.Dir}} in {{.Took}}
  tenants:  acme (region us), globex (region eu, admits app "Acme Sync" for audit.read), initech (region us), operator
  data:     {{.S.Calls}} call records {{.S.EarliestCall.Format "2006-01-02"}} .. {{.S.LatestCall.Format "2006-01-02"}} ({{.S.ExpiredCalls}} older than retention),
            {{.S.Recordings}} recordings with audio, {{.S.ActiveCalls}} live calls, {{.S.Events}} call events, {{.S.Users}} users, {{.S.Apps}} apps, {{.S.AuditRecords}} audit records
  users:    acme admin  {{.D.AdminLogin}} / {{.D.AdminPassword}}     acme agent  {{.D.AgentLogin}} / {{.D.AgentPassword}}     operator  {{.D.OperatorLogin}} / {{.D.OperatorPass}}
            every other user: password demo-user-password
  app:      "Acme Sync"        client_id {{.D.AppID}}  client_secret {{.D.AppSecret}}
  app:      "Call Log Viewer"  client_id {{.D.NarrowAppID}}  client_secret {{.D.NarrowAppSecret}}  (scope calls.read only)
  api key:  {{.D.APIKey}}   (maria's, scopes audit.read admin.read)
  ingest:   {{.D.IngestKey}}   (the PBX connector's API key, scopes calls.write active_calls.read)
  JWT:      sam's user JWT credential for the jwt-bearer grant:
            {{.D.AgentJWT}}
{{- if .CredsOut}}
  every credential of the demo, with what each is meant to show: {{.CredsOut}}
{{- else}}
  every credential of the demo, with what each is meant to show: run with --credentials-out FILE
{{- end}}
These secrets are shown once; only their hashes are stored.

Try:
  # a token for maria through Acme Sync, then who am I
  TOKEN=$(curl -s -u {{.D.AppID}}:{{.D.AppSecret}} -d grant_type=password -d username={{.D.AdminLogin}} -d password={{.D.AdminPassword}} {{.Base}}/oauth/token | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
  curl -s -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/me

  # call records of the last 24 hours; answered inbound calls of {{.D.SiteName}} since {{.Week}}
  curl -s -H "Authorization: Bearer $TOKEN" "{{.Base}}/v1/tenants/acme/calls?limit=5"
  curl -s -H "Authorization: Bearer $TOKEN" "{{.Base}}/v1/tenants/acme/calls?from={{.Week}}T00:00:00Z&direction=Inbound&result=Accepted&siteId={{.D.SiteID}}&limit=5"

  # the last week as CSV
  curl -s -H "Authorization: Bearer $TOKEN" -H "Accept: text/csv" "{{.Base}}/v1/tenants/acme/calls?from={{.Week}}T00:00:00Z" -o calls.csv
{{- if .D.RecordingID}}

  # a recording: its metadata, its first second with a Range request (206), the whole file to play
  curl -s -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/tenants/acme/recordings/{{.D.RecordingID}}
  curl -s -i -H "Authorization: Bearer $TOKEN" -H "Range: bytes=0-{{.RangeEnd}}" {{.Base}}/v1/tenants/acme/recordings/{{.D.RecordingID}}/content -o first-second.wav
  curl -s -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/tenants/acme/recordings/{{.D.RecordingID}}/content -o recording.wav
{{- end}}

  # a live call: the PBX connector posts events; watch the call appear, end it, watch it go (it is now a call record)
  curl -s -H "X-API-Key: {{.D.IngestKey}}" -H "Content-Type: application/json" {{.Base}}/v1/tenants/acme/call-events \
    -d '{"id":"demo-ev-1","callId":"demo-call-1","type":"ringing","timestamp":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'","siteId":"{{.D.SiteID}}","from":{"phoneNumber":"+14155550100"},"to":{"extensionNumber":"101"}}'
  curl -s -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/tenants/acme/active-calls
  curl -s -H "X-API-Key: {{.D.IngestKey}}" -H "Content-Type: application/json" {{.Base}}/v1/tenants/acme/call-events \
    -d '{"id":"demo-ev-2","callId":"demo-call-1","type":"ended","timestamp":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'"}'
  curl -s -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/tenants/acme/active-calls
  curl -s -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/tenants/acme/calls/demo-call-1

  # import an Asterisk Master.csv from NYC-PBX (a progress bar on a terminal; bad lines are listed and skipped)
  go run ./cmd/callvault import --data {{.Dir}}{{.DB}} --tenant acme --format asterisk-csv --site {{.D.SiteName}} internal/ingest/testdata/Master.csv

  # reads older than retention (acme keeps call data until {{.Cutoff}}) are refused, saying why
  curl -s -i -H "Authorization: Bearer $TOKEN" "{{.Base}}/v1/tenants/acme/calls?from={{.TooOld}}T00:00:00Z"
{{- if .D.ExpiredCall}}
  curl -s -i -H "Authorization: Bearer $TOKEN" {{.Base}}/v1/tenants/acme/calls/{{.D.ExpiredCall}}    # kept under legal hold, still not served
{{- end}}

  # denials that explain themselves: the viewer app holds only calls.read
  VIEW=$(curl -s -u {{.D.NarrowAppID}}:{{.D.NarrowAppSecret}} -d grant_type=password -d username={{.D.AdminLogin}} -d password={{.D.AdminPassword}} {{.Base}}/oauth/token | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
  curl -s -i -H "Authorization: Bearer $VIEW" {{.Base}}/v1/tenants/acme/users
{{- if .D.RecordingID}}
  curl -s -i -H "Authorization: Bearer $VIEW" {{.Base}}/v1/tenants/acme/recordings/{{.D.RecordingID}}/content
{{- end}}

  # every read above is in the audit trail; a denial is found by its request id (X-Request-Id of the response)
  curl -s -H "X-API-Key: {{.D.APIKey}}" "{{.Base}}/v1/tenants/acme/audit?service=data&from={{.Today}}T00:00:00Z"
  curl -s -H "X-API-Key: {{.D.APIKey}}" "{{.Base}}/v1/tenants/acme/audit?requestId=REQUEST_ID"

  # what retention will purge (the server purges hourly), and the audit chains verified offline (after stopping the server)
  go run ./cmd/callvault purge --data {{.Dir}}{{.DB}} --dry-run
  go run ./cmd/callvault audit verify --data {{.Dir}}{{.DB}}

`))
