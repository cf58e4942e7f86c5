package http

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/cursor"
)

// Audit query limits.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
	cursorTTL         = 24 * time.Hour
)

// auditCursor is the position of an audit listing: the last seq returned
// and the chain head when the listing started (the snapshot), plus the
// filter the listing was started with, so a cursor cannot be replayed with
// another filter.
type auditCursor struct {
	After  int64  `json:"a"`
	Max    int64  `json:"m"`
	Filter string `json:"f"`
}

type auditPage struct {
	Records    []*callvault.AuditRecord `json:"records"`
	NextCursor *string                  `json:"nextCursor"`
	HeadSeq    int64                    `json:"headSeq"`
}

// handleAuditQuery is GET /v1/tenants/{tenant}/audit: the tenant's audit
// trail by time range, services, event types, entity types, principal,
// audit user, request id and display name, in ascending seq order, with an
// opaque signed cursor bound to the tenant, the filter and a snapshot.
func (s *Server) handleAuditQuery(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	f := callvault.AuditFilter{TenantID: c.Tenant}
	var err error
	if f.From, err = parseTimeParam(q, "from"); err != nil {
		return err
	}
	if f.To, err = parseTimeParam(q, "to"); err != nil {
		return err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return callvault.FieldError("from", "from (%s) must be before to (%s)", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	f.Services = listParam(q, "service")
	f.EventTypes = listParam(q, "eventType")
	f.EntityTypes = listParam(q, "entityType")
	f.AuditUserID = q.Get("auditUserId")
	f.Principal = q.Get("principal")
	f.RequestID = q.Get("requestId")
	f.DisplayName = q.Get("displayName")
	f.Limit = auditDefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditMaxLimit {
			return callvault.FieldError("limit", "limit must be an integer from 1 to %d, not %q", auditMaxLimit, v)
		}
		f.Limit = n
	}
	for k := range q {
		if !auditParams[k] {
			return callvault.FieldError(k, "unknown query parameter %q; known: from, to, service, eventType, entityType, auditUserId, principal, requestId, displayName, limit, cursor", k)
		}
	}
	fkey := filterKey(q)
	ctx := r.Context()
	if cs := q.Get("cursor"); cs != "" {
		var cur auditCursor
		if err := cursor.Open(s.cfg.CursorKey, cs, c.Tenant, "audit", s.now(), &cur); err != nil {
			return callvault.FieldError("cursor", "%s", err.Error())
		}
		if cur.Filter != fkey {
			return callvault.FieldError("cursor", "the cursor belongs to a listing with other filters; repeat the same filters with it")
		}
		f.AfterSeq, f.MaxSeq = cur.After, cur.Max
	} else {
		head, _, err := s.store.AuditHead(ctx, c.Tenant)
		if err != nil {
			return err
		}
		f.MaxSeq = head
		if head == 0 {
			f.MaxSeq = -1 // nothing yet: an empty snapshot
		}
	}
	page := auditPage{Records: []*callvault.AuditRecord{}, HeadSeq: max(f.MaxSeq, 0)}
	if f.MaxSeq > 0 {
		want := f.Limit
		f.Limit = want + 1
		recs, err := s.store.AuditRecords(ctx, f)
		if err != nil {
			return err
		}
		if len(recs) > want {
			recs = recs[:want]
			next, err := cursor.Sign(s.cfg.CursorKey, c.Tenant, "audit",
				auditCursor{After: recs[len(recs)-1].Seq, Max: f.MaxSeq, Filter: fkey}, s.now().Add(cursorTTL))
			if err != nil {
				return err
			}
			page.NextCursor = &next
		}
		page.Records = recs
	}
	s.auditView(ctx, c, "audit", c.Tenant, "audit query")
	writeJSON(w, http.StatusOK, page)
	return nil
}

var auditParams = map[string]bool{"from": true, "to": true, "service": true, "eventType": true, "entityType": true,
	"auditUserId": true, "principal": true, "requestId": true, "displayName": true, "limit": true, "cursor": true}

// filterKey is a canonical form of the query without cursor and limit.
func filterKey(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		if k != "cursor" && k != "limit" {
			c[k] = v
		}
	}
	return c.Encode()
}

// listParam reads a multi-valued parameter given as repeated keys and/or
// comma-separated lists, trimming spaces.
func listParam(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, part := range strings.Split(v, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func parseTimeParam(q url.Values, key string) (time.Time, error) {
	v := q.Get(key)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, callvault.FieldError(key, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", key, v)
	}
	return t, nil
}
