package access

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

var testNow = time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC)

func testEngine() *Engine { return &Engine{Now: func() time.Time { return testNow }} }

// builtin returns the built-in role as a RoleGrant.
func builtin(name string) RoleGrant {
	for _, r := range callvault.BuiltinRoles() {
		if r.Name == name {
			return RoleGrant{Role: r.Name, Permissions: slices.Clone(r.Permissions)}
		}
	}
	panic("no built-in role " + name)
}

func acmeTenant() *callvault.Tenant {
	return &callvault.Tenant{ID: "acme", Name: "Acme Corp", Region: "us", RetentionDays: 365}
}

// maria is a user of tenant acme with an access token via acme's own app
// 'Acme Sync'; everything the full action needs is in place.
func maria() *Principal {
	return &Principal{
		Kind:         callvault.SubjectUser,
		TenantID:     "acme",
		UserID:       "usr_maria0000000000001",
		UserLogin:    "maria",
		UserStatus:   callvault.UserActive,
		Extension:    "101",
		License:      &callvault.License{TenantID: "acme", Name: "pro", Features: []string{"analytics"}},
		AccessLevels: map[string]callvault.AccessLevel{callvault.ProductAnalytics: callvault.AccessSupervisor},
		SiteScope:    []string{"s_berlin", "s_paris"},
		AppID:        "app_acmesync",
		AppName:      "Acme Sync",
		AppTenant:    "acme",
		AppRegion:    "us",
		AppScopes:    []callvault.Permission{callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermRecordingsRead, callvault.PermAnalyticsRead},
		Tenant:       acmeTenant(),
		Credential: Credential{
			Kind:      "access_token",
			ID:        "tf_maria",
			Grant:     callvault.GrantPassword,
			IssuedAt:  time.Date(2026, 3, 2, 12, 1, 0, 0, time.UTC),
			ExpiresAt: time.Date(2026, 3, 2, 13, 1, 0, 0, time.UTC),
			Scopes:    []callvault.Permission{callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermRecordingsRead, callvault.PermAnalyticsRead},
		},
		Roles: []RoleGrant{builtin(callvault.RoleSupervisor)},
	}
}

// foreignApp turns p into a token of tenant acme through app 'EU Reporter'
// of tenant globex (region eu), admitted by an active consent.
func foreignApp(p *Principal) {
	p.AppID = "app_eureporter"
	p.AppName = "EU Reporter"
	p.AppTenant = "globex"
	p.AppRegion = "eu"
	p.Consent = &callvault.Consent{
		TenantID: "acme", AppID: "app_eureporter", AppTenant: "globex",
		Scopes:    slices.Clone(p.AppScopes),
		CreatedAt: testNow.Add(-30 * 24 * time.Hour),
	}
	p.Tenant.AllowedClientRegions = []string{"EU"}
}

// serviceApp is app 'Acme Sync' as service principal of its home tenant.
func serviceApp() *Principal {
	p := maria()
	p.Kind = callvault.SubjectApp
	p.UserID, p.UserLogin, p.UserStatus, p.Extension = "", "", "", ""
	p.License, p.AccessLevels, p.SiteScope = nil, nil, nil
	p.Credential.Grant = callvault.GrantClientCredentials
	p.Roles = []RoleGrant{builtin(callvault.RoleIntegrator)}
	return p
}

// root is an operator with an API key of the operator tenant.
func root() *Principal {
	return &Principal{
		Kind:       callvault.SubjectUser,
		TenantID:   callvault.OperatorTenant,
		UserID:     "usr_root000000000000001",
		UserLogin:  "root",
		UserStatus: callvault.UserActive,
		Operator:   true,
		Tenant:     &callvault.Tenant{ID: callvault.OperatorTenant, Region: "us"},
		Credential: Credential{Kind: "api_key", ID: "key_root", IssuedAt: testNow.Add(-time.Hour),
			Scopes: slices.Clone(builtin(callvault.RoleOperator).Permissions)},
		Roles: []RoleGrant{builtin(callvault.RoleOperator)},
	}
}

// fullAction exercises every gate.
func fullAction() Action {
	return Action{
		Name:       "analytics.calls.query",
		Permission: callvault.PermCallsRead,
		Feature:    "analytics",
		Product:    callvault.ProductAnalytics,
		MinLevel:   callvault.AccessSupervisor,
		SiteScoped: true,
		Owned:      true,
		Retention:  true,
		MaxWindow:  31 * 24 * time.Hour,
	}
}

func ownCalls() Resource {
	return Resource{
		TenantID:       "acme",
		OwnerExtension: "101",
		SiteID:         "s_berlin",
		SiteName:       "Berlin",
		From:           testNow.Add(-7 * 24 * time.Hour),
		To:             testNow,
	}
}

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

type testCase struct {
	name   string
	p      func() *Principal // nil: maria
	a      func(a *Action)
	r      func(r *Resource)
	mutate func(p *Principal)
	// mutateScopes adds tenants.manage to the token's and app's scopes.
	mutateScopes bool

	allowed       bool
	layer         Layer
	missing       Missing
	reasonHas     []string
	hintHas       []string
	detailHas     string // in the trace line of the deciding (or last) layer
	impersonating bool
}

func TestDecide(t *testing.T) {
	cases := []testCase{
		{name: "allowed, everything in place", allowed: true,
			detailHas: "from within retention of 365 days; range within maximum 31 days"},
		{name: "authentication only", a: func(a *Action) { *a = Action{Name: "me.get"} }, allowed: true},

		// layer 1: credential
		{name: "nil principal", p: func() *Principal { return nil },
			layer: LayerCredential, missing: Missing{Kind: MissingCredential},
			reasonHas: []string{"no valid credential"}, hintHas: []string{"API key", "access token"}},
		{name: "expired credential", mutate: func(p *Principal) { p.Credential.ExpiresAt = testNow.Add(-time.Minute) },
			layer: LayerCredential, missing: Missing{Kind: MissingCredential, Name: "tf_maria"},
			reasonHas: []string{"access token of user 'maria' via app 'Acme Sync'", "expired at 2026-03-02T12:29:00Z"},
			hintHas:   []string{"Request a new access token"}},
		{name: "credential expiring right now", mutate: func(p *Principal) { p.Credential.ExpiresAt = testNow },
			layer: LayerCredential, missing: Missing{Kind: MissingCredential, Name: "tf_maria"},
			reasonHas: []string{"expired at 2026-03-02T12:30:00Z"}},
		{name: "revoked credential", mutate: func(p *Principal) { p.Credential.Revoked = true },
			layer: LayerCredential, missing: Missing{Kind: MissingCredential, Name: "tf_maria"},
			reasonHas: []string{"user 'maria'", "'Acme Sync'", "revoked"}, hintHas: []string{"new access token"}},
		{name: "revoked API key", p: root, mutate: func(p *Principal) { p.Credential.Revoked = true },
			layer: LayerCredential, missing: Missing{Kind: MissingCredential, Name: "key_root"},
			reasonHas: []string{"API key 'key_root' of user 'root'", "revoked"}, hintHas: []string{"Create a new API key"}},
		{name: "disabled user", mutate: func(p *Principal) { p.UserStatus = callvault.UserDisabled },
			layer: LayerCredential, missing: Missing{Kind: MissingCredential, Name: "tf_maria"},
			reasonHas: []string{"User 'maria'", "'acme'", "disabled"}, hintHas: []string{"tenant admin of 'acme'", "re-enable user 'maria'"}},

		// layer 2: tenant
		{name: "cross-tenant without operator", r: func(r *Resource) { r.TenantID = "globex" },
			layer: LayerTenant, missing: Missing{Kind: MissingTenant, Name: "globex"},
			reasonHas: []string{"the credential was issued for tenant 'acme', not 'globex'"},
			hintHas:   []string{"request a token for tenant 'globex'"}},
		{name: "installation-wide resource for non-operator",
			a:     func(a *Action) { *a = Action{Name: "tenants.list", Permission: callvault.PermTenantsManage} },
			r:     func(r *Resource) { *r = Resource{} },
			layer: LayerTenant, missing: Missing{Kind: MissingTenant, Name: callvault.OperatorTenant},
			reasonHas: []string{"'tenants.list'", "whole installation", "user 'maria'", "'acme'", "not an operator"},
			hintHas:   []string{"operator"}},
		{name: "installation-wide resource for operator", p: root,
			a:       func(a *Action) { *a = Action{Name: "tenants.list", Permission: callvault.PermTenantsManage} },
			r:       func(r *Resource) { *r = Resource{} },
			allowed: true},
		{name: "operator impersonating", p: root,
			a: func(a *Action) {
				*a = Action{Name: "calls.list", Permission: callvault.PermCallsReadAll, Retention: true}
			},
			r:       func(r *Resource) { r.Tenant = acmeTenant() },
			allowed: true, impersonating: true},
		{name: "consent missing", mutate: func(p *Principal) { foreignApp(p); p.Consent = nil },
			layer: LayerTenant, missing: Missing{Kind: MissingConsent, Name: "app_eureporter"},
			reasonHas: []string{"Tenant 'acme' has not admitted app 'EU Reporter'", "'globex'"},
			hintHas:   []string{"admin of tenant 'acme'", "'EU Reporter'", "consent"}},
		{name: "consent for another app", mutate: func(p *Principal) { foreignApp(p); p.Consent.AppID = "app_other" },
			layer: LayerTenant, missing: Missing{Kind: MissingConsent, Name: "app_eureporter"}},
		{name: "consent revoked", mutate: func(p *Principal) {
			foreignApp(p)
			p.Consent.RevokedAt = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		},
			layer: LayerTenant, missing: Missing{Kind: MissingConsent, Name: "app_eureporter"},
			reasonHas: []string{"'acme' revoked its consent for app 'EU Reporter'", "2026-03-01T09:00:00Z"},
			hintHas:   []string{"admin of tenant 'acme'", "again"}},
		{name: "foreign app with active consent", mutate: foreignApp, allowed: true},

		// layer 3: region
		{name: "region mismatch", mutate: func(p *Principal) { foreignApp(p); p.Tenant.AllowedClientRegions = nil },
			layer: LayerRegion, missing: Missing{Kind: MissingRegion, Name: "eu"},
			reasonHas: []string{"'EU Reporter'", "region eu", "region us", "'acme'"},
			hintHas:   []string{"allowedClientRegions", "'acme'", "eu"}},
		{name: "region allowed via allowedClientRegions (case-insensitive)", mutate: foreignApp, allowed: true,
			detailHas: "from within"},
		{name: "region unknown fails closed", mutate: func(p *Principal) { p.Tenant = nil },
			layer: LayerRegion, missing: Missing{Kind: MissingRegion, Name: "us"}},
		{name: "user API key without app skips region", p: func() *Principal {
			p := maria()
			p.AppID, p.AppName, p.AppTenant, p.AppRegion, p.AppScopes = "", "", "", "", nil
			p.Credential.Kind = "api_key"
			p.Credential.ID = "key_maria"
			p.Tenant = nil // region not needed without an app
			return p
		}, allowed: true},

		// layer 4: scopes
		{name: "stale token scope", mutate: func(p *Principal) {
			p.Credential.Scopes = []callvault.Permission{callvault.PermCallsRead}
		},
			a:     func(a *Action) { a.Permission = callvault.PermRecordingsRead },
			layer: LayerScopes, missing: Missing{Kind: MissingStaleScope, Name: "recordings.read"},
			reasonHas: []string{"issued at 2026-03-02T12:01:00Z before recordings.read was added to app 'Acme Sync'"},
			hintHas:   []string{"request a new access token", "tokens never gain scopes"},
			detailHas: "recordings.read: not in access token scopes [calls.read]; in app scopes now"},
		{name: "scope removed from app", mutate: func(p *Principal) {
			p.AppScopes = []callvault.Permission{callvault.PermCallsRead}
		},
			a:     func(a *Action) { a.Permission = callvault.PermRecordingsRead },
			layer: LayerScopes, missing: Missing{Kind: MissingScope, Name: "recordings.read"},
			reasonHas: []string{"App 'Acme Sync' no longer holds recordings.read", "effective immediately"},
			hintHas:   []string{"tenant admin of 'acme'", "recordings.read", "'Acme Sync'"},
			detailHas: "recordings.read: in access token scopes; not in app scopes now"},
		{name: "scope in neither token nor app", mutate: func(p *Principal) {
			p.AppScopes = []callvault.Permission{callvault.PermCallsRead}
			p.Credential.Scopes = []callvault.Permission{callvault.PermCallsRead}
		},
			a:     func(a *Action) { a.Permission = callvault.PermRecordingsRead },
			layer: LayerScopes, missing: Missing{Kind: MissingScope, Name: "recordings.read"},
			reasonHas: []string{"App 'Acme Sync' does not hold recordings.read", "[calls.read]"},
			hintHas:   []string{"tenant admin of 'acme' can add recordings.read to the scopes of app 'Acme Sync'", "new access token", "tokens never gain scopes"},
			detailHas: "recordings.read: not in access token scopes [calls.read]; not in app scopes now"},
		{name: "consent lacks scope", mutate: func(p *Principal) {
			foreignApp(p)
			p.Consent.Scopes = []callvault.Permission{callvault.PermCallsRead}
		},
			a:     func(a *Action) { a.Permission = callvault.PermRecordingsRead },
			layer: LayerScopes, missing: Missing{Kind: MissingScope, Name: "recordings.read"},
			reasonHas: []string{"The consent of tenant 'acme' for app 'EU Reporter' does not include recordings.read"},
			hintHas:   []string{"admin of tenant 'acme' can add recordings.read to its consent for app 'EU Reporter'"},
			detailHas: "not in consent scopes of 'acme' now"},
		{name: "user API key lacks scope", p: func() *Principal {
			p := maria()
			p.AppID, p.AppName, p.AppTenant, p.AppRegion, p.AppScopes = "", "", "", "", nil
			p.Credential = Credential{Kind: "api_key", ID: "key_maria", Scopes: []callvault.Permission{callvault.PermCallsRead}}
			return p
		},
			a:     func(a *Action) { a.Permission = callvault.PermRecordingsRead },
			layer: LayerScopes, missing: Missing{Kind: MissingScope, Name: "recordings.read"},
			reasonHas: []string{"API key 'key_maria' of user 'maria'", "[calls.read]", "recordings.read"},
			hintHas:   []string{"Create a new API key that includes recordings.read", "API keys never gain scopes"}},

		// layer 5: subject
		{name: "user role lacks permission", mutate: func(p *Principal) { p.Roles = []RoleGrant{builtin(callvault.RoleAgent)} },
			a:     func(a *Action) { a.Permission = callvault.PermCallsReadAll },
			layer: LayerSubject, missing: Missing{Kind: MissingPermission, Name: "calls.read.all"},
			reasonHas: []string{"User 'maria' holds roles [agent], none grants calls.read.all"},
			hintHas:   []string{"[admin supervisor integrator]", "tenant admin of 'acme'", "user 'maria'"}},
		{name: "user without roles", mutate: func(p *Principal) { p.Roles = nil },
			layer: LayerSubject, missing: Missing{Kind: MissingPermission, Name: "calls.read"},
			reasonHas: []string{"User 'maria' holds no roles"}},
		{name: "service principal role lacks permission", p: serviceApp,
			mutate: func(p *Principal) { p.Roles = []RoleGrant{builtin(callvault.RoleAuditor)} },
			layer:  LayerSubject, missing: Missing{Kind: MissingPermission, Name: "calls.read"},
			reasonHas: []string{"App 'Acme Sync' as a service principal in tenant 'acme' holds roles [auditor]"},
			hintHas:   []string{"roles of app 'Acme Sync'"}},
		{name: "operator-only permission in a customer tenant", mutate: func(p *Principal) { p.Roles = []RoleGrant{builtin(callvault.RoleAdmin)} },
			a:            func(a *Action) { a.Permission = callvault.PermTenantsManage },
			mutateScopes: true,
			layer:        LayerSubject, missing: Missing{Kind: MissingPermission, Name: "tenants.manage"},
			hintHas: []string{"Only operators"}},

		// layer 6: product
		{name: "license lacks feature", mutate: func(p *Principal) { p.License.Features = []string{"recording"} },
			layer: LayerProduct, missing: Missing{Kind: MissingLicense, Name: "analytics"},
			reasonHas: []string{"The license 'pro' of user 'maria' does not include the feature analytics", "'analytics.calls.query'"},
			hintHas:   []string{"tenant admin of 'acme'", "license 'pro'"}},
		{name: "no license", mutate: func(p *Principal) { p.License = nil },
			layer: LayerProduct, missing: Missing{Kind: MissingLicense, Name: "analytics"},
			reasonHas: []string{"User 'maria' has no license assigned", "analytics"},
			hintHas:   []string{"assign user 'maria' a license that includes analytics"}},
		{name: "access level too low", mutate: func(p *Principal) {
			p.AccessLevels[callvault.ProductAnalytics] = callvault.AccessAgent
		},
			layer: LayerProduct, missing: Missing{Kind: MissingAccessLevel, Name: "analytics:supervisor"},
			reasonHas: []string{"User 'maria' has analytics access level agent", "supervisor or higher"},
			hintHas:   []string{"raise the analytics access level of user 'maria' to supervisor"}},
		{name: "no access level", mutate: func(p *Principal) { p.AccessLevels = nil },
			layer: LayerProduct, missing: Missing{Kind: MissingAccessLevel, Name: "analytics:supervisor"},
			reasonHas: []string{"access level none"}},
		{name: "site out of scope", mutate: func(p *Principal) { p.SiteScope = []string{"s_paris"} },
			layer: LayerProduct, missing: Missing{Kind: MissingSite, Name: "s_berlin"},
			reasonHas: []string{"site 'Berlin' (s_berlin)", "site scope [s_paris] of user 'maria'"},
			hintHas:   []string{"add site 'Berlin' (s_berlin) to the site scope of user 'maria'"}},
		{name: "all sites in scope", mutate: func(p *Principal) { p.SiteScope = nil }, allowed: true},
		{name: "another extension without calls.read.all",
			mutate: func(p *Principal) { p.Roles = []RoleGrant{builtin(callvault.RoleAgent)} },
			r:      func(r *Resource) { r.OwnerExtension = "102" },
			layer:  LayerProduct, missing: Missing{Kind: MissingOwnership, Name: "calls.read.all"},
			reasonHas: []string{"extension 102", "extension 101 of user 'maria'", "calls.read.all"},
			hintHas:   []string{"[admin supervisor integrator]", "user 'maria'"}},
		{name: "another extension with calls.read.all role but app lacks the scope",
			mutate: func(p *Principal) { p.AppScopes = []callvault.Permission{callvault.PermCallsRead} },
			r:      func(r *Resource) { r.OwnerExtension = "102" },
			layer:  LayerProduct, missing: Missing{Kind: MissingOwnership, Name: "calls.read.all"},
			reasonHas: []string{"extension 102", "calls.read.all"},
			hintHas:   []string{"scopes of app 'Acme Sync'"}},
		{name: "another extension with calls.read.all",
			r:       func(r *Resource) { r.OwnerExtension = "102" },
			allowed: true},
		{name: "service principal has no product gates", p: serviceApp,
			r:       func(r *Resource) { r.OwnerExtension = "102"; r.SiteID = "s_elsewhere" },
			allowed: true},

		// layer 7: window
		{name: "window outside retention", r: func(r *Resource) { r.From = testNow.Add(-day(400)); r.To = testNow.Add(-day(380)) },
			layer: LayerWindow, missing: Missing{Kind: MissingWindow, Name: "2025-03-02T12:30:00Z"},
			reasonHas: []string{"365 days", "2025-03-02T12:30:00Z", "'acme'"},
			hintHas:   []string{"2025-03-02T12:30:00Z"}},
		{name: "window outside default retention", mutate: func(p *Principal) { p.Tenant.RetentionDays = 0 },
			r:     func(r *Resource) { r.From = testNow.Add(-day(731)); r.To = testNow.Add(-day(720)) },
			layer: LayerWindow, missing: Missing{Kind: MissingWindow, Name: "2024-03-02T12:30:00Z"},
			reasonHas: []string{"730 days"}},
		{name: "window over max", r: func(r *Resource) { r.From = testNow.Add(-day(40)) },
			layer: LayerWindow, missing: Missing{Kind: MissingWindow, Name: "31 days"},
			reasonHas: []string{"40 days", "31 days", "'analytics.calls.query'"},
			hintHas:   []string{"at most 31 days"}},
		{name: "window open-ended counts to now", r: func(r *Resource) { r.From = testNow.Add(-day(40)); r.To = time.Time{} },
			layer: LayerWindow, missing: Missing{Kind: MissingWindow, Name: "31 days"}},
		{name: "window inverted", r: func(r *Resource) { r.From, r.To = r.To, r.From },
			layer: LayerWindow, missing: Missing{Kind: MissingWindow, Name: "2026-03-02T12:30:00Z"},
			reasonHas: []string{"ends at 2026-02-23T12:30:00Z, before it starts at 2026-03-02T12:30:00Z"}},
		{name: "no time range", r: func(r *Resource) { r.From, r.To = time.Time{}, time.Time{} }, allowed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

func runCase(t *testing.T, tc testCase) {
	t.Helper()
	mk := tc.p
	if mk == nil {
		mk = maria
	}
	p := mk()
	if tc.mutate != nil {
		tc.mutate(p)
	}
	if tc.mutateScopes { // give the credential and app the action's permission
		p.Credential.Scopes = append(p.Credential.Scopes, callvault.PermTenantsManage)
		p.AppScopes = append(p.AppScopes, callvault.PermTenantsManage)
	}
	a := fullAction()
	if tc.a != nil {
		tc.a(&a)
	}
	r := ownCalls()
	if tc.r != nil {
		tc.r(&r)
	}
	d := testEngine().Decide(p, a, r)
	checkDecision(t, d, a, tc)
}

func checkDecision(t *testing.T, d Decision, a Action, tc testCase) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("decision: reason=%q hint=%q\n%s", d.Reason, d.Hint, d.TraceTable())
		}
	}()
	if d.Action != a.Name {
		t.Errorf("Action = %q, want %q", d.Action, a.Name)
	}
	if d.Allowed != tc.allowed {
		t.Fatalf("Allowed = %v, want %v (layer %s, missing %+v, reason %q)", d.Allowed, tc.allowed, d.Layer, d.Missing, d.Reason)
	}
	if d.Impersonating != tc.impersonating {
		t.Errorf("Impersonating = %v, want %v", d.Impersonating, tc.impersonating)
	}
	if len(d.Trace) != 7 {
		t.Fatalf("trace has %d steps, want 7", len(d.Trace))
	}
	failAt := len(d.Trace)
	if !tc.allowed {
		failAt = slices.Index(layerOrder[:], tc.layer)
	}
	for i, s := range d.Trace {
		if s.Layer != layerOrder[i] {
			t.Errorf("step %d layer = %s, want %s", i, s.Layer, layerOrder[i])
		}
		switch {
		case i < failAt:
			if s.Result != Pass || s.Detail == "" {
				t.Errorf("step %s = %q %q, want pass with a detail", s.Layer, s.Result, s.Detail)
			}
		case i == failAt:
			if s.Result != Fail || s.Detail == "" {
				t.Errorf("step %s = %q %q, want fail with a detail", s.Layer, s.Result, s.Detail)
			}
		default:
			if s.Result != NotReached || s.Detail != "" {
				t.Errorf("step %s = %q %q, want not reached without detail", s.Layer, s.Result, s.Detail)
			}
		}
	}
	if tc.detailHas != "" {
		i := min(failAt, len(d.Trace)-1)
		if !strings.Contains(d.Trace[i].Detail, tc.detailHas) {
			t.Errorf("%s detail %q lacks %q", d.Trace[i].Layer, d.Trace[i].Detail, tc.detailHas)
		}
	}
	if tc.allowed {
		if d.Layer != "" || d.Missing != (Missing{}) || d.Reason != "" || d.Hint != "" {
			t.Errorf("allowed decision carries denial fields: %+v", d)
		}
		return
	}
	if d.Layer != tc.layer {
		t.Errorf("Layer = %s, want %s", d.Layer, tc.layer)
	}
	if d.Missing != tc.missing {
		t.Errorf("Missing = %+v, want %+v", d.Missing, tc.missing)
	}
	oneSentence(t, "Reason", d.Reason)
	oneSentence(t, "Hint", d.Hint)
	for _, s := range tc.reasonHas {
		if !strings.Contains(strings.ToLower(d.Reason), strings.ToLower(s)) {
			t.Errorf("Reason %q lacks %q", d.Reason, s)
		}
	}
	for _, s := range tc.hintHas {
		if !strings.Contains(strings.ToLower(d.Hint), strings.ToLower(s)) {
			t.Errorf("Hint %q lacks %q", d.Hint, s)
		}
	}
}

// oneSentence checks that s is one capitalized sentence ending in a period.
func oneSentence(t *testing.T, field, s string) {
	t.Helper()
	if s == "" {
		t.Errorf("%s is empty", field)
		return
	}
	if s[0] < 'A' || s[0] > 'Z' || !strings.HasSuffix(s, ".") || strings.Contains(s, ". ") {
		t.Errorf("%s %q is not one capitalized sentence", field, s)
	}
}

// A denial across tenants must not reveal whether the target tenant exists.
func TestCrossTenantDoesNotRevealExistence(t *testing.T) {
	e := testEngine()
	a := fullAction()
	r := ownCalls()
	r.TenantID = "globex"
	known := r
	known.Tenant = &callvault.Tenant{ID: "globex", Name: "Globex", Region: "eu", RetentionDays: 90}
	d1 := e.Decide(maria(), a, r)
	d2 := e.Decide(maria(), a, known)
	if !reflect.DeepEqual(d1, d2) {
		t.Errorf("decisions differ with and without the target tenant's record:\n%+v\n%+v", d1, d2)
	}
}

func TestCredentialPassDetail(t *testing.T) {
	d := testEngine().Decide(maria(), fullAction(), ownCalls())
	want := "access token of user 'maria' via app 'Acme Sync', issued 2026-03-02T12:01:00Z, expires 2026-03-02T13:01:00Z"
	if got := d.Trace[0].Detail; got != want {
		t.Errorf("credential detail = %q, want %q", got, want)
	}
	if got := d.Trace[1].Detail; got != "'acme' is the app's home tenant" {
		t.Errorf("tenant detail = %q", got)
	}
	if got := d.Trace[4].Detail; got != "role 'supervisor' grants calls.read" {
		t.Errorf("subject detail = %q", got)
	}
}

func TestOperatorImpersonationDetail(t *testing.T) {
	r := ownCalls()
	r.Tenant = acmeTenant()
	d := testEngine().Decide(root(), Action{Name: "calls.list", Permission: callvault.PermCallsReadAll}, r)
	if !d.Allowed || !d.Impersonating {
		t.Fatalf("allowed=%v impersonating=%v", d.Allowed, d.Impersonating)
	}
	if got, want := d.Trace[1].Detail, "operator 'root' acting in tenant 'acme'; audited as impersonator"; got != want {
		t.Errorf("tenant detail = %q, want %q", got, want)
	}
}

func TestTraceTable(t *testing.T) {
	p := maria()
	p.AppScopes = []callvault.Permission{callvault.PermCallsRead}
	p.Credential.Scopes = []callvault.Permission{callvault.PermCallsRead}
	d := testEngine().Decide(p, Action{Name: "recordings.get", Permission: callvault.PermRecordingsRead}, ownCalls())
	got := d.TraceTable()
	want := "layer        result  detail\n" +
		"credential   pass    access token of user 'maria' via app 'Acme Sync', issued 2026-03-02T12:01:00Z, expires 2026-03-02T13:01:00Z\n" +
		"tenant       pass    'acme' is the app's home tenant\n" +
		"region       pass    app region us = tenant region us\n" +
		"scopes       FAIL    recordings.read: not in access token scopes [calls.read]; not in app scopes now\n" +
		"subject      (not reached)\n" +
		"product      (not reached)\n" +
		"window       (not reached)\n"
	if got != want {
		t.Errorf("TraceTable:\n%s\nwant:\n%s", got, want)
	}
}

func TestLayerOrderMatchesExported(t *testing.T) {
	if !slices.Equal(Layers, layerOrder[:]) {
		t.Errorf("Layers = %v, engine order %v", Layers, layerOrder)
	}
}

func TestDecideDoesNotMutateInputs(t *testing.T) {
	p := maria()
	foreignApp(p)
	before := maria()
	foreignApp(before)
	a, r := fullAction(), ownCalls()
	r.OwnerExtension = "102"
	testEngine().Decide(p, a, r)
	if !reflect.DeepEqual(p, before) {
		t.Errorf("Decide changed the principal")
	}
}

func TestNilClockUsesWallTime(t *testing.T) {
	var e Engine
	p := maria()
	p.Credential.ExpiresAt = time.Now().Add(time.Hour)
	a := Action{Name: "calls.list", Permission: callvault.PermCallsRead}
	if d := e.Decide(p, a, ownCalls()); !d.Allowed {
		t.Errorf("denied with wall clock: %s", d.Reason)
	}
}

func TestTenantsManageHintNamesOperators(t *testing.T) {
	e := &Engine{Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }}
	tenant := &callvault.Tenant{ID: "acme", Region: "us", RetentionDays: 730}
	p := &Principal{Kind: callvault.SubjectUser, TenantID: "acme", UserID: "usr_1", UserLogin: "maria", UserStatus: callvault.UserActive,
		AppID: "app_1", AppName: "Console", AppTenant: "acme", AppRegion: "us", AppScopes: []callvault.Permission{callvault.PermAdminRead},
		Tenant: tenant, Credential: Credential{Kind: "access_token", Scopes: []callvault.Permission{callvault.PermAdminRead}},
		Roles: []RoleGrant{{Role: "admin", Permissions: []callvault.Permission{callvault.PermAdminRead}}}}
	d := e.Decide(p, Action{Name: "tenants.write", Permission: callvault.PermTenantsManage}, Resource{TenantID: "acme"})
	if d.Allowed || d.Layer != LayerScopes || !strings.Contains(d.Hint, "Only operators") {
		t.Fatalf("decision = %+v", d)
	}
}

func TestTraceSeparatesChecksWithinALayer(t *testing.T) {
	e := &Engine{Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }}
	perms := []callvault.Permission{callvault.PermAnalyticsRead}
	p := &Principal{Kind: callvault.SubjectUser, TenantID: "acme", UserID: "usr_1", UserLogin: "maria", UserStatus: callvault.UserActive,
		License: &callvault.License{Name: "pro", Features: []string{"analytics"}}, AccessLevels: map[string]callvault.AccessLevel{"analytics": "agent"},
		Tenant: &callvault.Tenant{ID: "acme", Region: "us", RetentionDays: 730}, Credential: Credential{Kind: "api_key", Scopes: perms},
		Roles: []RoleGrant{{Role: "supervisor", Permissions: perms}}}
	d := e.Decide(p, Action{Name: "cdr", Permission: callvault.PermAnalyticsRead, Feature: "analytics", Product: "analytics", MinLevel: "supervisor"},
		Resource{TenantID: "acme"})
	if d.Allowed || d.Layer != LayerProduct {
		t.Fatalf("decision = %+v", d)
	}
	if got := d.Trace[5].Detail; got != "license 'pro' includes analytics; analytics access level agent < supervisor" {
		t.Fatalf("product detail = %q", got)
	}
}
