// Command compliance-aggregate is the seed user's dashboard feed: one
// OAuth client (client credentials) pulls the audit records of its home
// org and of every org that admitted it, through callvault's Genesys
// Cloud-compatible face, and merges them into one timeline.
//
// It lists the admitting orgs with GET /api/v2/orgauthorization/trustors,
// fetches a token per org (POST /oauth/token with the form field
// tenant=<org>, issued under that org's consent), runs an asynchronous
// audit query per org (POST /api/v2/audits/query, then
// GET .../{transactionId}/results page by page with the cursor) and prints
// the merged records, oldest first, one JSON object a line. An org that
// refuses (no audits:readonly in its consent, a role without audit.read,
// data residency) is reported on stderr with the server's explanation and
// correlation id, and the others still appear.
//
//	GC_CLIENT_ID=app_... GC_CLIENT_SECRET=cs_... compliance-aggregate -base http://127.0.0.1:8080 -since 168h
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// Config is what the feed needs.
type Config struct {
	Base         string // the server's base URL
	ClientID     string
	ClientSecret string
	Since        time.Duration // how far back
	Now          time.Time
	HTTP         *http.Client
}

// Entry is one merged timeline entry.
type Entry struct {
	Org         string            `json:"org"`
	EventDate   string            `json:"eventDate"`
	ServiceName string            `json:"serviceName"`
	Action      string            `json:"action"`
	EntityType  string            `json:"entityType"`
	Entity      map[string]any    `json:"entity"`
	Status      string            `json:"status"`
	Message     map[string]any    `json:"message"`
	Context     map[string]string `json:"context,omitempty"`
	ID          string            `json:"id"`
}

func main() {
	cfg := Config{ClientID: os.Getenv("GC_CLIENT_ID"), ClientSecret: os.Getenv("GC_CLIENT_SECRET"), Now: time.Now().UTC(), HTTP: http.DefaultClient}
	flag.StringVar(&cfg.Base, "base", "http://127.0.0.1:8080", "callvault base URL")
	flag.DurationVar(&cfg.Since, "since", 7*24*time.Hour, "how far back to read (at most 31 days)")
	flag.Parse()
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		fmt.Fprintln(os.Stderr, "set GC_CLIENT_ID and GC_CLIENT_SECRET")
		os.Exit(2)
	}
	if err := Run(context.Background(), cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Run writes the merged timeline to out, one JSON entry a line; refusals
// of single orgs go to errOut.
func Run(ctx context.Context, cfg Config, out, errOut io.Writer) error {
	home, _, err := token(ctx, cfg, "")
	if err != nil {
		return err
	}
	var trustors struct {
		Entities []struct {
			ID string `json:"id"`
		} `json:"entities"`
	}
	if err := call(ctx, cfg, home, "GET", "/api/v2/orgauthorization/trustors", nil, &trustors); err != nil {
		return err
	}
	orgs := []string{""}
	for _, t := range trustors.Entities {
		orgs = append(orgs, t.ID)
	}
	var all []Entry
	for _, org := range orgs {
		entries, err := orgAudit(ctx, cfg, org)
		if err != nil {
			fmt.Fprintf(errOut, "org %q skipped: %v\n", orgLabel(org), err)
			continue
		}
		all = append(all, entries...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].EventDate < all[j].EventDate })
	enc := json.NewEncoder(out)
	for _, e := range all {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

func orgLabel(org string) string {
	if org == "" {
		return "(home)"
	}
	return org
}

// orgAudit reads one org's audit records through an asynchronous query.
func orgAudit(ctx context.Context, cfg Config, org string) ([]Entry, error) {
	tok, orgID, err := token(ctx, cfg, org)
	if err != nil {
		return nil, err
	}
	q := map[string]any{"interval": cfg.Now.Add(-cfg.Since).Format(time.RFC3339) + "/" + cfg.Now.Add(time.Minute).Format(time.RFC3339),
		"serviceName": "ContactCenter", "sort": []map[string]string{{"name": "Timestamp", "sortOrder": "ascending"}}}
	var st struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := call(ctx, cfg, tok, "POST", "/api/v2/audits/query", q, &st); err != nil {
		return nil, err
	}
	for st.State == "Queued" || st.State == "Running" {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if err := call(ctx, cfg, tok, "GET", "/api/v2/audits/query/"+url.PathEscape(st.ID), nil, &st); err != nil {
			return nil, err
		}
	}
	if st.State != "Succeeded" {
		return nil, fmt.Errorf("audit query %s ended %s", st.ID, st.State)
	}
	var entries []Entry
	cursor := ""
	for {
		p := "/api/v2/audits/query/" + url.PathEscape(st.ID) + "/results?pageSize=500"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Cursor   string  `json:"cursor"`
			Entities []Entry `json:"entities"`
		}
		if err := call(ctx, cfg, tok, "GET", p, nil, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Entities {
			e.Org = orgID
			entries = append(entries, e)
		}
		if page.Cursor == "" {
			return entries, nil
		}
		cursor = page.Cursor
	}
}

// token fetches a client-credentials token for org ("" = the app's home)
// and returns it with the org it is bound to.
func token(ctx context.Context, cfg Config, org string) (string, string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if org != "" {
		form.Set("tenant", org)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", cfg.Base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cfg.ClientID, cfg.ClientSecret)
	res, err := cfg.HTTP.Do(req)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Tenant      string `json:"tenant"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return "", "", fmt.Errorf("token for %s: %s: %v", orgLabel(org), res.Status, err)
	}
	if res.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("token for %s: %s %s: %s", orgLabel(org), res.Status, body.Error, body.Description)
	}
	return body.AccessToken, body.Tenant, nil
}

// call sends a JSON request and decodes a 2xx answer into v; any other
// answer becomes an error with the ErrorBody's message, callvault's hint
// and the correlation id that finds the decision in the org's audit trail.
func call(ctx context.Context, cfg Config, tok, method, path string, in, v any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, cfg.Base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var eb struct {
			Message string `json:"message"`
			Code    string `json:"code"`
			Hint    string `json:"hint"`
		}
		_ = json.Unmarshal(b, &eb)
		return fmt.Errorf("%s %s: %d %s: %s %s (ININ-Correlation-Id %s)", method, path, res.StatusCode, eb.Code, eb.Message, eb.Hint,
			res.Header.Get("ININ-Correlation-Id"))
	}
	return json.Unmarshal(b, v)
}
