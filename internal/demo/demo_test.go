package demo_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audio"
	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/demo"
	"github.com/callvault/callvault/internal/retention"
	"github.com/callvault/callvault/internal/sqlite"
)

var now = time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)

type seeded struct {
	st    *sqlite.DB
	blobs *blob.FS
	d     *demo.Demo
	key   ed25519.PrivateKey
}

func seed(t *testing.T, records int, seedNum int64) *seeded {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "cv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bs, err := blob.NewFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	d, err := demo.Seed(ctx, st, demo.Options{Records: records, Seed: seedNum, Now: now, Blobs: bs, JWTKey: key, BaseURL: "http://demo.test"})
	if err != nil {
		t.Fatal(err)
	}
	return &seeded{st: st, blobs: bs, d: d, key: key}
}

// TestShape checks the promised dataset against the store itself.
func TestShape(t *testing.T) {
	ctx := context.Background()
	s := seed(t, 3000, 1)
	st := s.st

	tenants, err := st.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]bool{}
	var customers []*callvault.Tenant
	for _, tn := range tenants {
		if tn.ID != callvault.OperatorTenant {
			customers = append(customers, tn)
			regions[tn.Region] = true
		}
	}
	if len(customers) < 3 || len(regions) < 2 {
		t.Fatalf("%d customer tenants in %d regions", len(customers), len(regions))
	}

	users, licenses, levels, roles := 0, map[string]bool{}, map[callvault.AccessLevel]bool{}, map[string]bool{}
	scoped, disabled, calls := 0, 0, 0
	for _, tn := range customers {
		sites, err := st.Sites(ctx, tn.ID)
		if err != nil || len(sites) < 2 {
			t.Errorf("tenant %s: %d sites, %v", tn.ID, len(sites), err)
		}
		us, err := st.Users(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		users += len(us)
		for _, u := range us {
			licenses[tn.ID+"/"+u.License] = true
			levels[u.AccessLevels[callvault.ProductAnalytics]] = true
			for _, r := range u.Roles {
				roles[r] = true
			}
			if len(u.SiteScope) > 0 {
				scoped++
			}
			if u.Status == callvault.UserDisabled {
				disabled++
			}
		}
		// Calls older than the tenant's retention exist: the purge has work.
		cutoff := retention.Cutoff(tn, now)
		old, err := st.ExpiredCalls(ctx, tn.ID, cutoff, 10)
		if err != nil || len(old) == 0 {
			t.Errorf("tenant %s: no calls older than retention (%v)", tn.ID, err)
		}
		n := 0
		f := callvault.CallFilter{TenantID: tn.ID, Limit: 1000}
		for {
			page, err := st.Calls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page)
			for _, c := range page {
				if c.Start.After(now) {
					t.Fatalf("call %s starts in the future: %v", c.ID, c.Start)
				}
			}
			if len(page) < f.Limit {
				break
			}
			last := page[len(page)-1]
			f.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
		}
		if n != s.d.Shape.CallsByTenant[tn.ID] {
			t.Errorf("tenant %s: %d calls stored, shape says %d", tn.ID, n, s.d.Shape.CallsByTenant[tn.ID])
		}
		calls += n
		active, err := st.ActiveCalls(ctx, tn.ID)
		if err != nil || len(active) == 0 {
			t.Errorf("tenant %s: no active calls (%v)", tn.ID, err)
		}
		evs, err := st.CallEvents(ctx, callvault.EventFilter{TenantID: tn.ID, Limit: 10})
		if err != nil || len(evs) == 0 {
			t.Errorf("tenant %s: no call events (%v)", tn.ID, err)
		}
		recs, err := st.AuditRecords(ctx, callvault.AuditFilter{TenantID: tn.ID, Services: []string{callvault.AuditData}, Limit: 5})
		if err != nil || len(recs) == 0 {
			t.Errorf("tenant %s: no audit history of reads (%v)", tn.ID, err)
		}
		rep, err := audit.Verify(ctx, st, tn.ID, s.key.Public().(ed25519.PublicKey))
		if err != nil || !rep.OK {
			t.Errorf("tenant %s: chain does not verify: %v %v", tn.ID, rep, err)
		}
	}
	if users < 100 || len(licenses) < 6 || len(levels) < 4 || len(roles) < 4 || scoped == 0 || disabled == 0 {
		t.Errorf("users %d, licenses %v, levels %v, roles %v, scoped %d, disabled %d", users, licenses, levels, roles, scoped, disabled)
	}
	if calls < 3000 || calls != s.d.Shape.Calls {
		t.Errorf("%d calls, shape %d", calls, s.d.Shape.Calls)
	}
	sh := s.d.Shape
	if span := sh.LatestCall.Sub(sh.EarliestCall); span < 29*30*24*time.Hour || span > 31*31*24*time.Hour {
		t.Errorf("calls span %v .. %v, not about 30 months", sh.EarliestCall, sh.LatestCall)
	}

	// Apps with different scope sets, and the consents.
	var noRecordings, noExport, onlyCalls bool
	for _, tn := range customers {
		apps, _ := st.Apps(ctx, tn.ID)
		for _, a := range apps {
			noRecordings = noRecordings || !slices.Contains(a.Scopes, callvault.PermRecordingsRead)
			noExport = noExport || !slices.Contains(a.Scopes, callvault.PermAnalyticsExport)
			onlyCalls = onlyCalls || slices.Equal(a.Scopes, []callvault.Permission{callvault.PermCallsRead})
		}
	}
	if !noRecordings || !noExport || !onlyCalls {
		t.Errorf("scope sets: without recordings %v, without export %v, only calls.read %v", noRecordings, noExport, onlyCalls)
	}
	cs, err := st.Consent(ctx, "globex", s.d.AppID)
	if err != nil || cs.AppTenant != "acme" || !cs.Active() {
		t.Errorf("consent of globex to Acme Sync: %+v %v", cs, err)
	}

	// Recordings are real WAV files in the blob store.
	if sh.Recordings < 24 || len(sh.RecordingIDs) != sh.Recordings {
		t.Fatalf("%d recordings", sh.Recordings)
	}
	for _, key := range sh.RecordingIDs {
		tenant, id, _ := strings.Cut(key, "/")
		rec, err := st.Recording(ctx, tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.blobs.Open(ctx, tenant, rec.SHA256)
		if err != nil {
			t.Fatalf("recording %s: %v", key, err)
		}
		w, err := audio.WAVInfo(r, r.Size())
		r.Close()
		if err != nil || w.Duration.Milliseconds() != rec.DurationMs || w.SampleRate != audio.GeneratedSampleRate || r.Size() != rec.Size {
			t.Errorf("recording %s: %+v %v (metadata %+v)", key, w, err, rec)
		}
		call, err := st.Call(ctx, tenant, rec.CallID)
		if err != nil || !slices.Contains(call.RecordingIDs, rec.ID) {
			t.Errorf("recording %s: call %s does not name it (%v)", key, rec.CallID, err)
		}
	}
	held, err := st.Call(ctx, "acme", s.d.ExpiredCall)
	if err != nil || !held.LegalHold || !held.Start.Before(now.AddDate(-2, 0, 0)) {
		t.Errorf("expired call under legal hold: %+v %v", held, err)
	}
}

// TestDeterministic seeds twice with the same seed and once with another:
// ids and calls repeat exactly; secrets never do.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	a, b, c := seed(t, 500, 7), seed(t, 500, 7), seed(t, 500, 8)
	list := func(s *seeded) []string {
		page, err := s.st.Calls(ctx, callvault.CallFilter{TenantID: "acme", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range page {
			out = append(out, r.ID+r.Start.String()+r.From.PhoneNumber+r.To.Name)
		}
		return out
	}
	if !slices.Equal(list(a), list(b)) || slices.Equal(list(a), list(c)) {
		t.Error("the same seed gave different calls, or another seed the same")
	}
	if a.d.AdminID != b.d.AdminID || a.d.AppID != b.d.AppID || a.d.RecordingID != b.d.RecordingID {
		t.Error("the same seed gave different ids")
	}
	if a.d.AppSecret == b.d.AppSecret || a.d.APIKey == b.d.APIKey {
		t.Error("two seeds share a secret")
	}
}

// TestPrincipals checks the credential list covers every user and
// integration, and says what each shows.
func TestPrincipals(t *testing.T) {
	s := seed(t, 200, 1)
	kinds := map[string]int{}
	for _, p := range s.d.Principals {
		kinds[p.Kind]++
		if p.Shows == "" || p.Tenant == "" {
			t.Errorf("principal %+v lacks tenant or purpose", p)
		}
		switch p.Kind {
		case "user":
			if p.Login == "" || p.Password == "" || p.UserID == "" {
				t.Errorf("user principal %+v", p)
			}
		case "app":
			if p.ClientID == "" || (p.ClientSecret == "" && p.Name != "globex-helpdesk") {
				t.Errorf("app principal %+v", p)
			}
		}
	}
	if kinds["user"] != s.d.Shape.Users || kinds["app"] != s.d.Shape.Apps || kinds["apiKey"] < 2 || kinds["jwt"] != 1 {
		t.Errorf("principals by kind %v, shape %+v", kinds, s.d.Shape)
	}
	if p := s.d.Principal("acme", "call-log-viewer"); p == nil || !strings.Contains(p.Shows, "lacks recordings.read") {
		t.Errorf("call-log-viewer: %+v", p)
	}
	if p := s.d.Principal("acme", "insights-dashboard"); p == nil || !strings.Contains(p.Shows, "lacks analytics.export") {
		t.Errorf("insights-dashboard: %+v", p)
	}
}
