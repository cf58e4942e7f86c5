package sqlbuild

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

func TestLikePattern(t *testing.T) {
	for in, want := range map[string]string{
		"abc":     "abc",
		"*abc":    "%abc",
		"abc*":    "abc%",
		"*abc*":   "%abc%",
		"*":       "%",
		"**":      "%%",
		"a*c":     "a*c",
		"50%_off": `50\%\_off`,
		`back\`:   `back\\`,
	} {
		if got := LikePattern(in); got != want {
			t.Errorf("LikePattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCallConds(t *testing.T) {
	yes := true
	f := &callvault.CallFilter{TenantID: "t", From: time.UnixMicro(10), Directions: []string{"Inbound", "Outbound"},
		Extension: "101", PhoneNumber: "+1", HasRecording: &yes, MaxIngestSeq: 7}
	for _, c := range []struct {
		style Style
		sql   string
		args  []any
	}{
		{SQLite, `tenant_id = ? AND start_us >= ? AND direction IN (?, ?) AND extension = ? AND (from_number = ? OR to_number = ?) AND has_recording = ? AND ingest_seq <= ?`,
			[]any{"t", int64(10), "Inbound", "Outbound", "101", "+1", "+1", true, int64(7)}},
		{Postgres, `tenant_id = $1 AND start_us >= $2 AND direction = ANY($3) AND extension = $4 AND (from_number = $5 OR to_number = $6) AND has_recording = $7 AND ingest_seq <= $8`,
			[]any{"t", int64(10), []string{"Inbound", "Outbound"}, "101", "+1", "+1", true, int64(7)}},
	} {
		w := New(c.style)
		if err := CallConds(f, w); err != nil {
			t.Fatal(err)
		}
		if w.String() != c.sql || !reflect.DeepEqual(w.Args(), c.args) {
			t.Errorf("style %d: %s %v\nwant %s %v", c.style, w.String(), w.Args(), c.sql, c.args)
		}
	}
	if err := CallConds(&callvault.CallFilter{}, New(SQLite)); callvault.ErrorCode(err) != callvault.EInvalid {
		t.Errorf("no tenant: %v", err)
	}
}

func TestAuditConds(t *testing.T) {
	f := &callvault.AuditFilter{TenantID: "t", Services: []string{"Calls", "ADMIN"}, DisplayName: "*Bob", AfterSeq: 3}
	for _, c := range []struct {
		style Style
		sql   string
		args  []any
	}{
		{SQLite, `tenant_id = ? AND service COLLATE NOCASE IN (?, ?) AND display_name LIKE ? ESCAPE '\' AND seq > ?`,
			[]any{"t", "Calls", "ADMIN", "%Bob", int64(3)}},
		{Postgres, `tenant_id = $1 AND lower(service) = ANY($2) AND display_name ILIKE $3 ESCAPE '\' AND seq > $4`,
			[]any{"t", []string{"calls", "admin"}, "%Bob", int64(3)}},
	} {
		w := New(c.style)
		if err := AuditConds(f, w); err != nil {
			t.Fatal(err)
		}
		if w.String() != c.sql || !reflect.DeepEqual(w.Args(), c.args) {
			t.Errorf("style %d: %s %v\nwant %s %v", c.style, w.String(), w.Args(), c.sql, c.args)
		}
	}
}

func TestEventConds(t *testing.T) {
	f := &callvault.EventFilter{TenantID: "t", AfterSeq: 3, MaxSeq: 9, From: time.UnixMicro(10), To: time.UnixMicro(20)}
	for style, sql := range map[Style]string{
		SQLite:   `tenant_id = ? AND seq > ? AND seq <= ? AND ts >= ? AND ts < ?`,
		Postgres: `tenant_id = $1 AND seq > $2 AND seq <= $3 AND ts >= $4 AND ts < $5`,
	} {
		w := New(style)
		if err := EventConds(f, w); err != nil {
			t.Fatal(err)
		}
		want := []any{"t", int64(3), int64(9), int64(10), int64(20)}
		if w.String() != sql || !reflect.DeepEqual(w.Args(), want) {
			t.Errorf("style %d: %s %v\nwant %s %v", style, w.String(), w.Args(), sql, want)
		}
	}
	if err := EventConds(&callvault.EventFilter{}, New(SQLite)); callvault.ErrorCode(err) != callvault.EInvalid {
		t.Errorf("no tenant: %v, want EInvalid", err)
	}
}

func TestAggregateConds(t *testing.T) {
	a := &callvault.CallAggregate{GroupBy: "site", Filter: callvault.CallFilter{TenantID: "t",
		After: &callvault.CallCursor{Start: time.UnixMicro(5), ID: "x"}}}
	w := New(SQLite)
	col, err := AggregateConds(a, w)
	if err != nil || col != "site_id" || w.String() != `tenant_id = ?` || a.Filter.After == nil {
		t.Errorf("AggregateConds = %q, %v; conditions %s; After %v", col, err, w.String(), a.Filter.After)
	}
	if col, err := AggregateConds(&callvault.CallAggregate{Filter: callvault.CallFilter{TenantID: "t"}}, New(SQLite)); col != "" || err != nil {
		t.Errorf("no GroupBy: %q, %v", col, err)
	}
	// The GroupBy is checked before the tenant.
	var e *callvault.Error
	if _, err := AggregateConds(&callvault.CallAggregate{GroupBy: "hour"}, New(SQLite)); !errors.As(err, &e) || e.Field != "groupBy" {
		t.Errorf("bad GroupBy: %v, want EInvalid on groupBy", err)
	}
}
