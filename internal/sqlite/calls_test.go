package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// TestCallsQueryPlan keeps listings on calls_start: a keyset page must seek
// to its cursor (not scan from the newest record), filters must not make
// SQLite sort, and aggregates must not read the table.
func TestCallsQueryPlan(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "cv.db"))
	plan := func(query string, args ...any) string {
		t.Helper()
		rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", query, err)
		}
		defer rows.Close()
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		return strings.Join(steps, " | ")
	}
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	cursor := &callvault.CallCursor{Start: now.Add(-time.Minute), ID: "cdr_x"}
	for name, f := range map[string]callvault.CallFilter{
		"page 1":           {From: now.Add(-24 * time.Hour), To: now, MaxIngestSeq: 9, Limit: 100},
		"deep page":        {From: now.Add(-24 * time.Hour), To: now, MaxIngestSeq: 9, Limit: 100, After: cursor},
		"deep page, no to": {MaxIngestSeq: 9, Limit: 100, After: cursor},
		"filters": {Extension: "101", PhoneNumber: "+1", SessionID: "s", Directions: []string{"Inbound"},
			SiteIDs: []string{"a", "b"}, HasRecording: new(bool), Limit: 100, After: cursor},
	} {
		f.TenantID = "acme"
		query, args, err := callsQuery(&f)
		if err != nil {
			t.Fatal(err)
		}
		p := plan(query, args...)
		want := "SEARCH calls USING INDEX calls_start (tenant_id=?"
		if f.After != nil || !f.From.IsZero() {
			want += " AND start_us"
		}
		if !strings.HasPrefix(p, want) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want a search of calls_start (%s...) without a sort", name, p, want)
		}
	}
	for _, a := range []callvault.CallAggregate{
		{HourBuckets: true, GroupBy: "site", Filter: callvault.CallFilter{From: now.Add(-time.Hour), Extension: "101",
			Directions: []string{"Inbound"}, MaxIngestSeq: 9}},
		{GroupBy: "extension", Filter: callvault.CallFilter{PhoneNumber: "+1", HasRecording: new(bool)}},
	} {
		a.Filter.TenantID = "acme"
		query, args, err := aggregateQuery(&a)
		if err != nil {
			t.Fatal(err)
		}
		if p := plan(query, args...); !strings.Contains(p, "USING COVERING INDEX calls_start") {
			t.Errorf("aggregate %+v: plan %q, want the covering calls_start", a, p)
		}
	}
}
