package http

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	"github.com/callvault/callvault/internal/callvault"
)

// change runs fn in one write transaction; the audit records fn adds are
// appended in that same transaction, so a change and its audit record are
// durable together or not at all. Records after the first that share its
// change set get the first as their correlation parent unless they name one.
func (s *Server) change(ctx context.Context, fn func(tx callvault.Tx, add func(*callvault.AuditRecord)) error) error {
	return s.store.Update(ctx, func(tx callvault.Tx) error {
		var recs []*callvault.AuditRecord
		if err := fn(tx, func(r *callvault.AuditRecord) { recs = append(recs, r) }); err != nil {
			return err
		}
		for _, r := range recs[min(1, len(recs)):] {
			if r.CorrelationType == "" {
				r.CorrelationType, r.CorrelationID = recs[0].EntityType, recs[0].EntityKey
			}
		}
		return tx.AppendAudit(recs...)
	})
}

// ignoredInDiff are attributes that change on every update and say nothing.
var ignoredInDiff = []string{"createdAt", "updatedAt", "tenantId"}

// diffDetails returns the audit details of a change from old to new (either
// may be nil, for a create or a delete) as {"new": {...}, "old": {...}},
// holding only the attributes that differ: "new" has added and changed
// attributes with their new values, "old" deleted and changed ones with
// their old values. Secrets never appear: their fields are not marshalled.
func diffDetails(old, new any) string {
	o, n := attrs(old), attrs(new)
	d := map[string]map[string]any{"new": {}, "old": {}}
	for _, k := range slices.Sorted(maps.Keys(n)) {
		if ov, ok := o[k]; !ok || !reflect.DeepEqual(ov, n[k]) {
			d["new"][k] = n[k]
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if nv, ok := n[k]; !ok || !reflect.DeepEqual(nv, o[k]) {
			d["old"][k] = o[k]
		}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func attrs(v any) map[string]any {
	m := map[string]any{}
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil()) {
		return m
	}
	b, err := json.Marshal(v)
	if err != nil {
		return m
	}
	_ = json.Unmarshal(b, &m)
	for _, k := range ignoredInDiff {
		delete(m, k)
	}
	for k, x := range m { // absent and empty are the same attribute state
		if x == nil || reflect.DeepEqual(x, "") || reflect.DeepEqual(x, []any{}) || reflect.DeepEqual(x, map[string]any{}) {
			delete(m, k)
		}
	}
	return m
}
