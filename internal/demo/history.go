package demo

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// historySize is the number of synthetic audit records per tenant.
var historySize = map[string]int{"acme": 240, "globex": 150, "initech": 100}

// history writes each tenant's synthetic audit history: sign-ins (and a
// few refused ones), reads and exports of call records, and changes of
// users' licenses and roles by the tenant's admins, spread between the
// creation of the tenant and now, in time order.
func (s *seeder) history(ctx context.Context) error {
	signIn := map[string]*callvault.App{"acme": s.apps["acme-sync"], "globex": s.apps["globex-helpdesk"], "initech": s.apps["initech-reports"]}
	var recs []*callvault.AuditRecord
	for _, ts := range s.tenants {
		recs = append(recs, s.tenantHistory(ts, signIn[ts.t.ID])...)
	}
	s.d.Shape.AuditRecords += len(recs)
	return s.st.Update(ctx, func(tx callvault.Tx) error { return tx.AppendAudit(recs...) })
}

func (s *seeder) tenantHistory(ts *tenantSpec, app *callvault.App) []*callvault.AuditRecord {
	n := historySize[ts.t.ID]
	from, to := s.created.Add(24*time.Hour), s.o.Now.Add(-2*time.Hour)
	times := make([]time.Time, n)
	for i := range times {
		times[i] = from.Add(time.Duration(s.rng.Int64N(int64(to.Sub(from)))))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var admins, staff []*callvault.User
	for _, u := range ts.users {
		if slices.Contains(u.Roles, callvault.RoleAdmin) {
			admins = append(admins, u)
		} else if u.Status == callvault.UserActive {
			staff = append(staff, u)
		}
	}
	service := !slices.Contains(app.Grants, callvault.GrantPassword)
	var out []*callvault.AuditRecord
	for _, at := range times {
		u := staff[s.rng.IntN(len(staff))]
		r := &callvault.AuditRecord{TenantID: ts.t.ID, Timestamp: at, RequestID: s.id("req"), Outcome: callvault.OutcomeSuccess,
			AuditUserID: u.ID, Principal: "user:" + u.ID + " via app:" + app.ID}
		if service {
			r.AuditUserID, r.Principal = app.ID, "app:"+app.ID
		}
		switch p := s.rng.IntN(100); {
		case p < 35:
			grant := callvault.GrantPassword
			if service {
				grant = callvault.GrantClientCredentials
			}
			r.Service, r.EventType, r.EntityType, r.EntityKey, r.DisplayName = callvault.AuditAuth, callvault.EventIssue, "token", s.id("fam"), app.Name
			r.Details = details(map[string]any{"grant": grant, "scope": callvault.ScopeString(app.Scopes), "refresh": !service}, nil)
		case p < 40 && !service:
			r.Service, r.EventType, r.EntityType, r.EntityKey, r.DisplayName = callvault.AuditAuth, callvault.EventRefuse, "token", app.ID, app.Name
			r.AuditUserID, r.Principal, r.Outcome = app.ID, "app:"+app.ID, callvault.OutcomeDenied
			r.Details = details(map[string]any{"grant": callvault.GrantPassword, "error": "invalid_grant",
				"description": "the username or password is wrong", "username": u.Login}, nil)
		case p < 80:
			day := at.Add(-time.Duration(s.rng.IntN(30*24)) * time.Hour).Truncate(24 * time.Hour)
			r.Service, r.EventType, r.EntityType, r.DisplayName = callvault.AuditData, callvault.EventView, "calls", "call records"
			r.Details = mustJSON(map[string]any{"from": day, "to": day.Add(24 * time.Hour), "count": 20 + s.rng.IntN(80)})
		case p < 88:
			day := at.Add(-time.Duration(s.rng.IntN(90)) * 24 * time.Hour).Truncate(24 * time.Hour)
			r.Service, r.EventType, r.EntityType, r.DisplayName = callvault.AuditData, callvault.EventExport, "calls", "call records (CSV)"
			r.Details = mustJSON(map[string]any{"from": day, "to": day.Add(7 * 24 * time.Hour), "count": 200 + s.rng.IntN(800)})
		default:
			admin := admins[s.rng.IntN(len(admins))]
			r.AuditUserID, r.Principal = admin.ID, "user:"+admin.ID+" via app:"+app.ID
			if service {
				r.Principal = "user:" + admin.ID + " (admin console)"
			}
			r.Service, r.EventType, r.EntityType, r.EntityKey, r.DisplayName = callvault.AuditPlatform, callvault.EventUpdate, "user", u.ID, u.Name
			lics := ts.licenses
			if s.rng.IntN(2) == 0 && u.License != "" {
				old := lics[s.rng.IntN(len(lics))].Name
				r.Details = details(map[string]any{"license": u.License}, map[string]any{"license": old})
			} else {
				r.Details = details(map[string]any{"roles": u.Roles}, map[string]any{"roles": []string{callvault.RoleAgent}})
			}
		}
		out = append(out, r)
	}
	return out
}

// details renders {"new": new, "old": old}.
func details(new, old map[string]any) string {
	if old == nil {
		old = map[string]any{}
	}
	return mustJSON(map[string]any{"new": new, "old": old})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
