// Package sqlbuild builds the engine-independent parts of the stores'
// queries: AND-ed conditions with their arguments, written in the
// placeholder style of one engine, and the conditions of the call, call
// event and audit filters. What differs between the engines on purpose (the
// keyset cursor predicate, how a list and a case-insensitive match are
// written) is chosen by the Style; everything else is shared by
// internal/sqlite and internal/postgres.
package sqlbuild

import (
	"strconv"
	"strings"

	"github.com/callvault/callvault/internal/callvault"
)

// Style is an engine's SQL dialect, as far as this package writes it.
type Style int

const (
	// SQLite writes '?' placeholders, lists as IN (?, ...), case-insensitive
	// lists with COLLATE NOCASE and case-insensitive patterns with LIKE
	// (ASCII letters only).
	SQLite Style = iota
	// Postgres writes $1, $2, ... placeholders, lists as = ANY($n) of one
	// array argument, case-insensitive lists with lower() and
	// case-insensitive patterns with ILIKE.
	Postgres
)

// Where builds the AND-ed conditions of a query and collects their
// arguments.
type Where struct {
	style Style
	sb    strings.Builder
	args  []any
}

// New returns an empty Where writing placeholders in style.
func New(style Style) *Where { return &Where{style: style} }

// String returns the conditions, joined by AND.
func (w *Where) String() string { return w.sb.String() }

// Args returns the arguments of the conditions and of Arg, in order.
func (w *Where) Args() []any { return w.args }

// Arg adds an argument and returns its placeholder ('?' or $n).
func (w *Where) Arg(v any) string {
	w.args = append(w.args, v)
	if w.style == Postgres {
		return "$" + strconv.Itoa(len(w.args))
	}
	return "?"
}

// Cond adds a condition; each '?' in sql takes the next of args.
func (w *Where) Cond(sql string, args ...any) {
	if w.sb.Len() > 0 {
		w.sb.WriteString(" AND ")
	}
	if w.style != Postgres {
		w.sb.WriteString(sql)
		w.args = append(w.args, args...)
		return
	}
	for _, c := range sql {
		if c == '?' {
			w.sb.WriteString(w.Arg(args[0]))
			args = args[1:]
			continue
		}
		w.sb.WriteRune(c)
	}
}

// In adds a condition that col is one of vals, unless vals is empty.
func (w *Where) In(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	if w.style == Postgres {
		w.Cond(col+` = ANY(?)`, vals)
		return
	}
	w.Cond(col+` IN (`+marks(len(vals))+`)`, anys(vals)...)
}

// InFold adds a condition that col is one of vals, ignoring case, unless
// vals is empty.
func (w *Where) InFold(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	if w.style == Postgres {
		lower := make([]string, len(vals))
		for i, v := range vals {
			lower[i] = strings.ToLower(v)
		}
		w.Cond(`lower(`+col+`) = ANY(?)`, lower)
		return
	}
	w.Cond(col+` COLLATE NOCASE IN (`+marks(len(vals))+`)`, anys(vals)...)
}

// LikeFold adds a condition that col matches the LIKE pattern, with '\' as
// its escape, ignoring case.
func (w *Where) LikeFold(col, pattern string) {
	op := ` LIKE `
	if w.style == Postgres {
		op = ` ILIKE `
	}
	w.Cond(col+op+`? ESCAPE '\'`, pattern)
}

func marks(n int) string { return strings.Repeat(", ?", n)[2:] }

func anys(vals []string) []any {
	a := make([]any, len(vals))
	for i, v := range vals {
		a[i] = v
	}
	return a
}

// CallConds adds the conditions of f but its cursor to w. EInvalid without
// a tenant.
func CallConds(f *callvault.CallFilter, w *Where) error {
	if f.TenantID == "" {
		return callvault.FieldError("tenantId", "a call query needs a tenant")
	}
	w.Cond(`tenant_id = ?`, f.TenantID)
	if !f.From.IsZero() {
		w.Cond(`start_us >= ?`, f.From.UnixMicro())
	}
	if !f.To.IsZero() && (f.After == nil || f.To.UnixMicro() <= f.After.Start.UnixMicro()) {
		// With a cursor before To, the cursor's bound is the tighter one.
		w.Cond(`start_us < ?`, f.To.UnixMicro())
	}
	w.In(`direction`, f.Directions)
	w.In(`type`, f.Types)
	w.In(`result`, f.Results)
	w.In(`site_id`, f.SiteIDs)
	if f.Extension != "" {
		w.Cond(`extension = ?`, f.Extension)
	}
	if f.PhoneNumber != "" {
		w.Cond(`(from_number = ? OR to_number = ?)`, f.PhoneNumber, f.PhoneNumber)
	}
	if f.SessionID != "" {
		w.Cond(`session_id = ?`, f.SessionID)
	}
	if f.TelephonySessionID != "" {
		w.Cond(`telephony_session_id = ?`, f.TelephonySessionID)
	}
	if f.HasRecording != nil {
		w.Cond(`has_recording = ?`, *f.HasRecording)
	}
	if f.MaxIngestSeq > 0 {
		w.Cond(`ingest_seq <= ?`, f.MaxIngestSeq)
	}
	return nil
}

// AggregateConds adds the conditions of a.Filter but its cursor to w and
// returns the column a.GroupBy groups by: "" for none, else site_id,
// extension or direction. EInvalid for another GroupBy or without a tenant.
func AggregateConds(a *callvault.CallAggregate, w *Where) (string, error) {
	var col string
	switch a.GroupBy {
	case "":
	case "site":
		col = `site_id`
	case "extension":
		col = `extension`
	case "direction":
		col = `direction`
	default:
		return "", callvault.FieldError("groupBy", "cannot group calls by %q (want site, extension or direction)", a.GroupBy)
	}
	f := a.Filter
	f.After = nil
	if err := CallConds(&f, w); err != nil {
		return "", err
	}
	return col, nil
}

// EventConds adds the conditions of f to w (its Limit is the caller's):
// Seq after f.AfterSeq and up to f.MaxSeq when set, Timestamp in [f.From,
// f.To) when set. EInvalid without a tenant.
func EventConds(f *callvault.EventFilter, w *Where) error {
	if f.TenantID == "" {
		return callvault.FieldError("tenantId", "an event query needs a tenant")
	}
	w.Cond(`tenant_id = ?`, f.TenantID)
	if f.AfterSeq > 0 {
		w.Cond(`seq > ?`, f.AfterSeq)
	}
	if f.MaxSeq > 0 {
		w.Cond(`seq <= ?`, f.MaxSeq)
	}
	if !f.From.IsZero() {
		w.Cond(`ts >= ?`, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		w.Cond(`ts < ?`, f.To.UnixMicro())
	}
	return nil
}

// AuditConds adds the conditions of f to w (its Limit is the caller's).
// Services, event types and entity types match case-insensitively;
// DisplayName is exact or has a leading and/or trailing '*' wildcard
// (LikePattern), and matches case-insensitively. EInvalid without a tenant.
func AuditConds(f *callvault.AuditFilter, w *Where) error {
	if f.TenantID == "" {
		return callvault.FieldError("tenantId", "an audit query needs a tenant")
	}
	w.Cond(`tenant_id = ?`, f.TenantID)
	if !f.From.IsZero() {
		w.Cond(`ts >= ?`, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		w.Cond(`ts < ?`, f.To.UnixMicro())
	}
	w.InFold("service", f.Services)
	w.InFold("event_type", f.EventTypes)
	w.InFold("entity_type", f.EntityTypes)
	if f.AuditUserID != "" {
		w.Cond(`audit_user_id = ?`, f.AuditUserID)
	}
	if f.Principal != "" {
		w.Cond(`principal = ?`, f.Principal)
	}
	if f.RequestID != "" {
		w.Cond(`request_id = ?`, f.RequestID)
	}
	if f.DisplayName != "" {
		w.LikeFold(`display_name`, LikePattern(f.DisplayName))
	}
	if f.AfterSeq > 0 {
		w.Cond(`seq > ?`, f.AfterSeq)
	}
	if f.MaxSeq > 0 {
		w.Cond(`seq <= ?`, f.MaxSeq)
	}
	return nil
}

// LikePattern turns a display-name filter into a LIKE pattern with '\' as
// its escape: a leading '*' matches any prefix, a trailing '*' any suffix;
// everything else, including LIKE's own '%' and '_', is literal.
func LikePattern(s string) string {
	lead := strings.HasPrefix(s, "*")
	if lead {
		s = s[1:]
	}
	trail := strings.HasSuffix(s, "*")
	if trail {
		s = s[:len(s)-1]
	}
	s = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
	if lead {
		s = "%" + s
	}
	if trail {
		s += "%"
	}
	return s
}
