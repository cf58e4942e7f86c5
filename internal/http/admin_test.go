package http

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

// crudCase drives one kind of admin object through create, get, list,
// patch and delete over HTTP and checks the audit trail of the changes.
type crudCase struct {
	entityType string         // audit entity type
	path       string         // collection path below /v1/tenants/{tenant}
	keyField   string         // the response field holding the key
	create     map[string]any // create body
	patch      map[string]any // patch body: each field must change
}

func TestAdminCRUD(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	cl := acme.Client()
	site := cl.Post(t, "/v1/tenants/acme/sites", map[string]any{"name": "Scope site"}).Want(t, http.StatusCreated).Map(t)
	cl.Post(t, "/v1/tenants/acme/licenses", map[string]any{"name": "basic", "features": []string{}}).Want(t, http.StatusCreated)

	cases := []crudCase{
		{entityType: "site", path: "/sites", keyField: "id",
			create: map[string]any{"name": "Berlin PBX"}, patch: map[string]any{"name": "Berlin HQ PBX"}},
		{entityType: "user", path: "/users", keyField: "id",
			create: map[string]any{"login": "maria", "name": "Maria", "email": "maria@example.com", "password": "secret-password-1",
				"extension": "101", "roles": []string{"agent"}, "accessLevels": map[string]string{"analytics": "agent"}},
			patch: map[string]any{"name": "Maria Lopez", "roles": []string{"agent", "supervisor"}, "siteScope": []string{site["id"].(string)},
				"license": "basic", "homeSiteId": site["id"]}},
		{entityType: "role", path: "/roles", keyField: "name",
			create: map[string]any{"name": "reporting", "description": "Reports", "permissions": []string{"analytics.read"}},
			patch:  map[string]any{"permissions": []string{"analytics.read", "analytics.export"}}},
		{entityType: "license", path: "/licenses", keyField: "name",
			create: map[string]any{"name": "pro", "features": []string{"analytics"}},
			patch:  map[string]any{"features": []string{"analytics", "recording"}}},
		{entityType: "app", path: "/apps", keyField: "clientId",
			create: map[string]any{"name": "Acme Sync", "scopes": []string{"calls.read"}, "roles": []string{"integrator"}},
			patch: map[string]any{"name": "Acme Sync 2", "scopes": []string{"calls.read", "recordings.read"},
				"redirectUris": []string{"https://sync.example.com/cb"}}},
	}
	for _, tc := range cases {
		t.Run(tc.entityType, func(t *testing.T) { testCRUD(t, env, cl, "acme", tc) })
	}
}

func testCRUD(t *testing.T, env *testEnv, cl *testClient, tenant string, tc crudCase) {
	base := "/v1/tenants/" + tenant + tc.path
	created := cl.Post(t, base, tc.create).Want(t, http.StatusCreated).Map(t)
	key, _ := created[tc.keyField].(string)
	if key == "" {
		t.Fatalf("create response has no %s: %v", tc.keyField, created)
	}
	one := base + "/" + key
	secret, _ := created["clientSecret"].(string)
	delete(created, "clientSecret") // shown once, never read back
	if tc.entityType == "app" && !strings.HasPrefix(secret, "cvcs_") {
		t.Errorf("app create returned no client secret: %v", secret)
	}

	got := cl.Get(t, one).Want(t, http.StatusOK).Map(t)
	if !equalJSON(got, created) {
		t.Errorf("GET %s = %v, want the created object %v", one, got, created)
	}
	if !slices.ContainsFunc(cl.Get(t, base).Want(t, http.StatusOK).Items(t), func(m map[string]any) bool { return m[tc.keyField] == key }) {
		t.Errorf("list %s lacks %s", base, key)
	}

	patched := cl.Patch(t, one, tc.patch).Want(t, http.StatusOK).Map(t)
	for f, want := range tc.patch {
		if !equalJSON(patched[f], want) {
			t.Errorf("after patch %s = %v, want %v", f, patched[f], want)
		}
	}
	if !equalJSON(cl.Get(t, one).Want(t, http.StatusOK).Map(t), patched) {
		t.Errorf("GET after patch differs from the patch response")
	}

	cl.Delete(t, one).Want(t, http.StatusNoContent)
	cl.Get(t, one).WantProblem(t, http.StatusNotFound, "")
	cl.Delete(t, one).WantProblem(t, http.StatusNotFound, "")

	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: tenant, EntityTypes: []string{tc.entityType}})
	byEvent := map[string]*callvault.AuditRecord{}
	for _, r := range recs {
		if r.EntityKey == key {
			byEvent[r.EventType] = r
		}
	}
	for _, ev := range []string{callvault.EventCreate, callvault.EventUpdate, callvault.EventDelete} {
		r := byEvent[ev]
		if r == nil {
			t.Fatalf("no %s audit record for %s %s", ev, tc.entityType, key)
		}
		if r.Service != callvault.AuditPlatform || r.Outcome != callvault.OutcomeSuccess || r.DisplayName == "" || r.RequestID == "" {
			t.Errorf("%s record: %+v", ev, r)
		}
	}
	newD, oldD := details(t, byEvent[callvault.EventUpdate])
	if want := slices.Sorted(maps.Keys(tc.patch)); !slices.Equal(slices.Sorted(maps.Keys(newD)), want) {
		t.Errorf("update details new has %v, want only the changed %v", slices.Sorted(maps.Keys(newD)), want)
	}
	for k := range oldD {
		if _, ok := tc.patch[k]; !ok {
			t.Errorf("update details old has unchanged attribute %q", k)
		}
	}
	if newD, oldD := details(t, byEvent[callvault.EventCreate]); len(oldD) != 0 || len(newD) == 0 {
		t.Errorf("create details: new %v old %v", newD, oldD)
	}
	if newD, oldD := details(t, byEvent[callvault.EventDelete]); len(newD) != 0 || len(oldD) == 0 {
		t.Errorf("delete details: new %v old %v", newD, oldD)
	}
}

// details decodes an audit record's details.
func details(t *testing.T, r *callvault.AuditRecord) (newD, oldD map[string]any) {
	t.Helper()
	var d struct{ New, Old map[string]any }
	if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
		t.Fatalf("details %q: %v", r.Details, err)
	}
	return d.New, d.Old
}

// equalJSON compares two values by their JSON encodings.
func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	ja, _ = json.Marshal(x)
	jb, _ = json.Marshal(y)
	return string(ja) == string(jb)
}

func TestAdminUsers(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	cl := acme.Client()
	users := "/v1/tenants/acme/users"

	u := cl.Post(t, users, map[string]any{"login": "maria", "password": "secret-password-1"}).Want(t, http.StatusCreated).Map(t)
	if u["status"] != "active" || u["password"] != nil || strings.Contains(fmt.Sprint(u), "argon2") {
		t.Errorf("created user: %v", u)
	}
	t.Run("duplicate login", func(t *testing.T) {
		p := cl.Post(t, users, map[string]any{"login": "MARIA", "password": "secret-password-2"}).WantProblem(t, http.StatusConflict, "login")
		if p.Code != callvault.EConflict {
			t.Errorf("code %q", p.Code)
		}
	})
	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no login", map[string]any{"password": "secret-password-1"}, "login"},
		{"no password", map[string]any{"login": "x"}, "password"},
		{"short password", map[string]any{"login": "x", "password": "short"}, "password"},
		{"space in login", map[string]any{"login": "a b", "password": "secret-password-1"}, "login"},
		{"long login", map[string]any{"login": strings.Repeat("a", 129), "password": "secret-password-1"}, "login"},
		{"unknown role", map[string]any{"login": "x", "password": "secret-password-1", "roles": []string{"agent", "nope"}}, "roles[1]"},
		{"operator role", map[string]any{"login": "x", "password": "secret-password-1", "roles": []string{"operator"}}, "roles[0]"},
		{"unknown site", map[string]any{"login": "x", "password": "secret-password-1", "homeSiteId": callvault.NewID("sit")}, "homeSiteId"},
		{"unknown scope site", map[string]any{"login": "x", "password": "secret-password-1", "siteScope": []string{callvault.NewID("sit")}}, "siteScope[0]"},
		{"unknown license", map[string]any{"login": "x", "password": "secret-password-1", "license": "gold"}, "license"},
		{"bad level", map[string]any{"login": "x", "password": "secret-password-1", "accessLevels": map[string]string{"analytics": "boss"}}, "accessLevels.analytics"},
		{"bad status", map[string]any{"login": "x", "password": "secret-password-1", "status": "gone"}, "status"},
		{"wrong type", map[string]any{"login": 5, "password": "secret-password-1"}, "login"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) { cl.Post(t, users, tc.body).WantProblem(t, http.StatusBadRequest, tc.field) })
	}

	t.Run("password change", func(t *testing.T) {
		id := u["id"].(string)
		cl.Patch(t, users+"/"+id, map[string]any{"password": "another-password-2"}).Want(t, http.StatusOK)
		recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"user"}, EventTypes: []string{"update"}})
		if len(recs) == 0 {
			t.Fatal("no update record")
		}
		if got := recs[len(recs)-1].Details; got != `{"new":{"password":"(changed)"},"old":{}}` {
			t.Errorf("details %s", got)
		}
		// The new password works.
		env.MustToken(t, acme.App.ID, acme.Secret, url.Values{"grant_type": {"password"},
			"username": {"maria"}, "password": {"another-password-2"}, "tenant": {"acme"}})
	})

	t.Run("self", func(t *testing.T) {
		self := users + "/" + acme.User.ID
		cl.Patch(t, self, map[string]any{"status": "disabled"}).WantProblem(t, http.StatusConflict, "")
		cl.Delete(t, self).WantProblem(t, http.StatusConflict, "")
	})

	t.Run("no secrets in the trail", func(t *testing.T) {
		for _, r := range env.MustAudit(t, callvault.AuditFilter{TenantID: "acme"}) {
			if strings.Contains(r.Details, "argon2") || strings.Contains(r.Details, "secret-password") {
				t.Errorf("audit record %s leaks a password: %s", r.ID, r.Details)
			}
		}
	})
}

func TestAdminBodyErrors(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxBodyBytes = 512 })
	cl := env.MustAdmin(t, "acme").Client()
	sites := "/v1/tenants/acme/sites"
	site := cl.Post(t, sites, map[string]any{"name": "HQ"}).Want(t, http.StatusCreated).Map(t)
	one := sites + "/" + site["id"].(string)

	p := cl.Post(t, sites, map[string]any{"name": "x", "colour": "red"}).WantProblem(t, http.StatusBadRequest, "colour")
	if !strings.Contains(p.Detail, "colour") {
		t.Errorf("unknown field detail %q", p.Detail)
	}
	cl.Post(t, sites, `{"name": "x"`).WantProblem(t, http.StatusBadRequest, "")
	cl.Post(t, sites, `{"name": }`).WantProblem(t, http.StatusBadRequest, "")
	cl.Post(t, sites, ``).WantProblem(t, http.StatusBadRequest, "")
	p = cl.Post(t, sites, map[string]any{"name": strings.Repeat("x", 600)}).WantProblem(t, http.StatusRequestEntityTooLarge, "")
	if !strings.Contains(p.Detail, "512") {
		t.Errorf("413 detail %q does not name the limit", p.Detail)
	}
	cl.Post(t, sites, map[string]any{}).WantProblem(t, http.StatusBadRequest, "name")
	cl.Post(t, sites, map[string]any{"name": "  "}).WantProblem(t, http.StatusBadRequest, "name")
	cl.Patch(t, one, map[string]any{}).WantProblem(t, http.StatusBadRequest, "")
	cl.Patch(t, one, map[string]any{"nme": "x"}).WantProblem(t, http.StatusBadRequest, "nme")
	cl.Patch(t, "/v1/tenants/acme/settings", map[string]any{}).WantProblem(t, http.StatusBadRequest, "")
	r := cl.Do(t, http.MethodPost, sites, nil)
	r.WantProblem(t, http.StatusBadRequest, "")
}

func TestAdminPathIDs(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	globex := env.MustAdmin(t, "globex")
	cl := acme.Client()

	for _, tc := range []struct{ path, field string }{
		{"/users/not-an-id", "id"},
		{"/sites/sit_SHOUTING", "id"},
		{"/apps/x", "id"},
		{"/api-keys/key_", "id"},
		{"/jwt-credentials/jwt_1", "id"},
		{"/consents/nope", "appId"},
		{"/roles/Bad_Name", "name"},
		{"/licenses/-x", "name"},
	} {
		path := "/v1/tenants/acme" + tc.path
		cl.Get(t, path).WantProblem(t, http.StatusBadRequest, tc.field)
		cl.Delete(t, path).WantProblem(t, http.StatusBadRequest, tc.field)
		if !strings.HasPrefix(tc.path, "/api-keys") && !strings.HasPrefix(tc.path, "/jwt") && !strings.HasPrefix(tc.path, "/consents") {
			cl.Patch(t, path, map[string]any{"name": "x"}).WantProblem(t, http.StatusBadRequest, tc.field)
		}
	}

	// Another tenant's objects read exactly like missing ones.
	gsite := globex.Client().Post(t, "/v1/tenants/globex/sites", map[string]any{"name": "G"}).Want(t, http.StatusCreated).Map(t)
	globex.Client().Post(t, "/v1/tenants/globex/roles", map[string]any{"name": "gr", "permissions": []string{"calls.read"}}).Want(t, http.StatusCreated)
	for _, tc := range []struct{ theirs, missing string }{
		{"/users/" + globex.User.ID, "/users/" + callvault.NewID("usr")},
		{"/sites/" + gsite["id"].(string), "/sites/" + callvault.NewID("sit")},
		{"/apps/" + globex.App.ID, "/apps/" + callvault.NewID("app")},
		{"/roles/gr", "/roles/nonexistent"},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
			var body any
			if method == http.MethodPatch {
				body = map[string]any{"name": "x"}
				if strings.HasPrefix(tc.theirs, "/roles") {
					body = map[string]any{"description": "x"}
				}
			}
			a := cl.Do(t, method, "/v1/tenants/acme"+tc.theirs, body).WantProblem(t, http.StatusNotFound, "")
			b := cl.Do(t, method, "/v1/tenants/acme"+tc.missing, body).WantProblem(t, http.StatusNotFound, "")
			keyA, keyB := tc.theirs[strings.LastIndex(tc.theirs, "/")+1:], tc.missing[strings.LastIndex(tc.missing, "/")+1:]
			if a.Code != b.Code || a.Title != b.Title || strings.ReplaceAll(a.Detail, keyA, "K") != strings.ReplaceAll(b.Detail, keyB, "K") {
				t.Errorf("%s %s: %+v differs from missing %+v", method, tc.theirs, a, b)
			}
		}
	}
	// Globex's objects are untouched.
	globex.Client().Get(t, "/v1/tenants/globex/sites/"+gsite["id"].(string)).Want(t, http.StatusOK)
	// And acme's admin cannot reach globex's routes at all.
	cl.Get(t, "/v1/tenants/globex/users").WantProblem(t, http.StatusForbidden, "")
}

func TestAdminRoles(t *testing.T) {
	env := newTestEnv(t)
	cl := env.MustAdmin(t, "acme").Client()
	roles := "/v1/tenants/acme/roles"

	items := cl.Get(t, roles).Want(t, http.StatusOK).Items(t)
	for _, b := range callvault.BuiltinRoles() {
		i := slices.IndexFunc(items, func(m map[string]any) bool { return m["name"] == b.Name })
		if b.Name == callvault.RoleOperator {
			if i >= 0 {
				t.Errorf("the operator role is listed outside the operator tenant")
			}
			continue
		}
		if i < 0 || items[i]["builtIn"] != true {
			t.Errorf("built-in role %s: %v", b.Name, items)
		}
	}
	if r := cl.Get(t, roles+"/admin").Want(t, http.StatusOK).Map(t); r["builtIn"] != true {
		t.Errorf("GET admin role: %v", r)
	}
	cl.Post(t, roles, map[string]any{"name": "admin", "permissions": []string{"calls.read"}}).WantProblem(t, http.StatusConflict, "name")
	p := cl.Patch(t, roles+"/agent", map[string]any{"description": "x"}).WantProblem(t, http.StatusConflict, "")
	if !strings.Contains(p.Detail, "built-in roles cannot be changed") {
		t.Errorf("detail %q", p.Detail)
	}
	cl.Delete(t, roles+"/agent").WantProblem(t, http.StatusConflict, "")
	cl.Post(t, roles, map[string]any{"name": "boss", "permissions": []string{"tenants.manage"}}).WantProblem(t, http.StatusBadRequest, "permissions[0]")
	cl.Post(t, roles, map[string]any{"name": "boss", "permissions": []string{"calls.read", "calls.fly"}}).WantProblem(t, http.StatusBadRequest, "permissions[1]")
	cl.Post(t, roles, map[string]any{"name": "boss", "permissions": []string{"calls.read", "calls.read"}}).WantProblem(t, http.StatusBadRequest, "permissions[1]")
	cl.Post(t, roles, map[string]any{"name": "boss"}).WantProblem(t, http.StatusBadRequest, "permissions")
	cl.Post(t, roles, map[string]any{"name": "Boss", "permissions": []string{"calls.read"}}).WantProblem(t, http.StatusBadRequest, "name")

	// A role in use cannot be deleted; once unused it can.
	cl.Post(t, roles, map[string]any{"name": "boss", "permissions": []string{"calls.read"}}).Want(t, http.StatusCreated)
	cl.Post(t, roles, map[string]any{"name": "boss", "permissions": []string{"calls.read"}}).WantProblem(t, http.StatusConflict, "")
	u := cl.Post(t, "/v1/tenants/acme/users", map[string]any{"login": "b", "password": "secret-password-1", "roles": []string{"boss"}}).
		Want(t, http.StatusCreated).Map(t)
	p = cl.Delete(t, roles+"/boss").WantProblem(t, http.StatusConflict, "")
	if !strings.Contains(p.Detail, "user 'b'") {
		t.Errorf("in-use detail %q does not name the user", p.Detail)
	}
	cl.Patch(t, "/v1/tenants/acme/users/"+u["id"].(string), map[string]any{"roles": []string{}}).Want(t, http.StatusOK)
	cl.Delete(t, roles+"/boss").Want(t, http.StatusNoContent)
}

func TestAdminInUse(t *testing.T) {
	env := newTestEnv(t)
	cl := env.MustAdmin(t, "acme").Client()
	site := cl.Post(t, "/v1/tenants/acme/sites", map[string]any{"name": "HQ"}).Want(t, http.StatusCreated).Map(t)
	cl.Post(t, "/v1/tenants/acme/licenses", map[string]any{"name": "pro", "features": []string{"analytics"}}).Want(t, http.StatusCreated)
	u := cl.Post(t, "/v1/tenants/acme/users", map[string]any{"login": "m", "password": "secret-password-1",
		"homeSiteId": site["id"], "license": "pro"}).Want(t, http.StatusCreated).Map(t)
	cl.Delete(t, "/v1/tenants/acme/sites/"+site["id"].(string)).WantProblem(t, http.StatusConflict, "")
	cl.Delete(t, "/v1/tenants/acme/licenses/pro").WantProblem(t, http.StatusConflict, "")
	cl.Patch(t, "/v1/tenants/acme/users/"+u["id"].(string), map[string]any{"homeSiteId": "", "license": ""}).Want(t, http.StatusOK)
	cl.Delete(t, "/v1/tenants/acme/sites/"+site["id"].(string)).Want(t, http.StatusNoContent)
	cl.Delete(t, "/v1/tenants/acme/licenses/pro").Want(t, http.StatusNoContent)
}

func TestAdminTenants(t *testing.T) {
	env := newTestEnv(t)
	op := env.MustOperator(t)
	cl := op.Client()

	body := map[string]any{"id": "initech", "name": "Initech", "timezone": "America/Chicago",
		"admin": map[string]any{"login": "bill", "name": "Bill", "password": "tps-reports-1"}}
	tn := cl.Post(t, "/v1/tenants", body).Want(t, http.StatusCreated).Map(t)
	if tn["region"] != testRegion || tn["retentionDays"] != float64(730) || tn["auditRetentionDays"] != float64(callvault.DefaultAuditRetentionDays) {
		t.Errorf("defaults: %v", tn)
	}
	cl.Post(t, "/v1/tenants", body).WantProblem(t, http.StatusConflict, "")
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"id": "x_y", "name": "X"}, "id"},
		{map[string]any{"id": "xy", "name": "X", "timezone": "Mars/Olympus"}, "timezone"},
		{map[string]any{"id": "xy", "name": "X", "retentionDays": 0}, "retentionDays"},
		{map[string]any{"id": "xy", "name": "X", "auditRetentionDays": 36501}, "auditRetentionDays"},
		{map[string]any{"id": "xy", "name": "X", "allowedClientRegions": []string{"eu", "EU!"}}, "allowedClientRegions[1]"},
		{map[string]any{"id": "xy"}, "name"},
		{map[string]any{"id": "xy", "name": "X", "admin": map[string]any{"login": "a", "password": "short"}}, "admin.password"},
	} {
		cl.Post(t, "/v1/tenants", tc.body).WantProblem(t, http.StatusBadRequest, tc.field)
	}

	// The tenant and its first admin are one change set in the new
	// tenant's trail, the admin's record correlated to the tenant.
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "initech", EventTypes: []string{"create"}})
	if len(recs) != 2 || recs[0].EntityType != "tenant" || recs[1].EntityType != "user" {
		t.Fatalf("create records: %+v", recs)
	}
	if recs[1].CorrelationType != "tenant" || recs[1].CorrelationID != "initech" || recs[1].DisplayName != "Bill" {
		t.Errorf("admin record: %+v", recs[1])
	}
	if recs[0].Impersonator != op.User.ID || recs[0].AuditUserID != op.User.ID {
		t.Errorf("tenant record actor: %+v", recs[0])
	}
	if strings.Contains(recs[1].Details, "tps-reports") || strings.Contains(recs[1].Details, "argon2") {
		t.Errorf("admin record leaks the password: %s", recs[1].Details)
	}

	// The first admin can sign in and administer the tenant.
	app, secret := env.MustApp(t, "initech", "Initech console", allGrants, tenantScopes)
	bill := env.MustPasswordTokenWith(t, app.ID, secret, "initech", "bill", "tps-reports-1")
	env.Bearer(bill).Get(t, "/v1/tenants/initech/users").Want(t, http.StatusOK)

	if items := cl.Get(t, "/v1/tenants").Want(t, http.StatusOK).Items(t); len(items) != 2 {
		t.Errorf("tenant list: %v", items)
	}
	env.Bearer(bill).Get(t, "/v1/tenants").WantProblem(t, http.StatusForbidden, "")
	env.Bearer(bill).Get(t, "/v1/tenants/initech").Want(t, http.StatusOK)

	got := cl.Patch(t, "/v1/tenants/initech", map[string]any{"region": "eu", "allowedClientRegions": []string{"us"}, "retentionDays": 365}).
		Want(t, http.StatusOK).Map(t)
	if got["region"] != "eu" || got["retentionDays"] != float64(365) {
		t.Errorf("patched tenant: %v", got)
	}
	env.Bearer(bill).Patch(t, "/v1/tenants/initech", map[string]any{"name": "x"}).WantProblem(t, http.StatusForbidden, "")
	cl.Patch(t, "/v1/tenants/initech", map[string]any{}).WantProblem(t, http.StatusBadRequest, "")
	cl.Patch(t, "/v1/tenants/nowhere", map[string]any{"name": "x"}).WantProblem(t, http.StatusNotFound, "")

	cl.Delete(t, "/v1/tenants/"+callvault.OperatorTenant).WantProblem(t, http.StatusConflict, "")
	cl.Delete(t, "/v1/tenants/initech").Want(t, http.StatusNoContent)
	cl.Get(t, "/v1/tenants/initech").WantProblem(t, http.StatusNotFound, "")
	if del := env.MustAudit(t, callvault.AuditFilter{TenantID: "initech", EventTypes: []string{"delete"}}); len(del) != 1 {
		t.Errorf("delete records: %+v", del)
	}
}

// MustPasswordTokenWith is MustPasswordToken with another password.
func (e *testEnv) MustPasswordTokenWith(tb testing.TB, clientID, secret, tenant, login, password string) string {
	tb.Helper()
	return e.MustToken(tb, clientID, secret, url.Values{"grant_type": {callvault.GrantPassword},
		"username": {login}, "password": {password}, "tenant": {tenant}})
}

func TestAdminSettings(t *testing.T) {
	env := newTestEnv(t)
	cl := env.MustAdmin(t, "acme").Client()
	s := cl.Get(t, "/v1/tenants/acme/settings").Want(t, http.StatusOK).Map(t)
	if s["region"] != testRegion || s["name"] != "Tenant acme" {
		t.Errorf("settings: %v", s)
	}
	got := cl.Patch(t, "/v1/tenants/acme/settings", map[string]any{"timezone": "Europe/Berlin", "allowedClientRegions": []string{"eu"}}).
		Want(t, http.StatusOK).Map(t)
	if got["timezone"] != "Europe/Berlin" || !equalJSON(got["allowedClientRegions"], []string{"eu"}) {
		t.Errorf("patched settings: %v", got)
	}
	p := cl.Patch(t, "/v1/tenants/acme/settings", map[string]any{"region": "eu"}).WantProblem(t, http.StatusBadRequest, "region")
	if !strings.Contains(p.Detail, "operator") || !strings.Contains(p.Detail, "PATCH /v1/tenants/{tenant}") {
		t.Errorf("region detail %q", p.Detail)
	}
	cl.Patch(t, "/v1/tenants/acme/settings", map[string]any{"timezone": "Local"}).WantProblem(t, http.StatusBadRequest, "timezone")
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"tenant"}, EventTypes: []string{"update"}})
	if len(recs) != 1 {
		t.Fatalf("settings records: %+v", recs)
	}
	if newD, _ := details(t, recs[0]); !equalJSON(slices.Sorted(maps.Keys(newD)), []string{"allowedClientRegions", "timezone"}) {
		t.Errorf("settings details: %s", recs[0].Details)
	}
	// A patch that changes nothing records nothing.
	cl.Patch(t, "/v1/tenants/acme/settings", map[string]any{"timezone": "Europe/Berlin"}).Want(t, http.StatusOK)
	if again := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"tenant"}, EventTypes: []string{"update"}}); len(again) != 1 {
		t.Errorf("a no-op patch was recorded: %+v", again)
	}
}

func TestAdminAppSecret(t *testing.T) {
	env := newTestEnv(t)
	cl := env.MustAdmin(t, "acme").Client()
	app := cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "Sync", "scopes": []string{"calls.read", "admin.read"},
		"roles": []string{"auditor"}}).Want(t, http.StatusCreated).Map(t)
	id, old := app["clientId"].(string), app["clientSecret"].(string)
	if !equalJSON(app["grants"], defaultGrants) {
		t.Errorf("default grants: %v", app["grants"])
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	tok := env.MustToken(t, id, old, cc)
	env.Bearer(tok).Get(t, "/v1/me").Want(t, http.StatusOK)

	rot := cl.Post(t, "/v1/tenants/acme/apps/"+id+"/secret", nil).Want(t, http.StatusOK).Map(t)
	fresh, _ := rot["clientSecret"].(string)
	if fresh == "" || fresh == old || rot["secretRotatedAt"] == nil {
		t.Fatalf("rotation response: %v", rot)
	}
	res := env.PostForm(t, "/oauth/token", id, old, cc)
	res.Want(t, http.StatusUnauthorized)
	if m := res.Map(t); m["error"] != "invalid_client" {
		t.Errorf("old secret: %v", m)
	}
	env.MustToken(t, id, fresh, cc)
	env.Bearer(tok).Get(t, "/v1/me").Want(t, http.StatusOK) // tokens survive a plain rotation

	rec := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"app"}, EventTypes: []string{"update"}})
	if len(rec) != 1 || !strings.Contains(rec[0].Details, `"clientSecret":"(changed)"`) || strings.Contains(rec[0].Details, fresh) {
		t.Errorf("rotation record: %+v", rec)
	}

	// Rotation with revokeTokens kills the app's tokens at once, as child
	// records of the change set.
	rot = cl.Post(t, "/v1/tenants/acme/apps/"+id+"/secret", map[string]any{"revokeTokens": true}).Want(t, http.StatusOK).Map(t)
	env.Bearer(tok).Get(t, "/v1/me").WantProblem(t, http.StatusUnauthorized, "")
	kids := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"token"}, EventTypes: []string{"revoke"}})
	if len(kids) != 1 || kids[0].CorrelationType != "app" || kids[0].CorrelationID != id {
		t.Errorf("token revocation records: %+v", kids)
	}
	cl.Post(t, "/v1/tenants/acme/apps/"+id+"/secret", map[string]any{"revokeToken": true}).WantProblem(t, http.StatusBadRequest, "revokeToken")

	// Public apps have no secret to show or rotate.
	pub := cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "CLI", "public": true, "grants": []string{"password", "refresh_token"}}).
		Want(t, http.StatusCreated).Map(t)
	if _, ok := pub["clientSecret"]; ok {
		t.Errorf("public app got a secret: %v", pub)
	}
	cl.Post(t, "/v1/tenants/acme/apps/"+pub["clientId"].(string)+"/secret", nil).WantProblem(t, http.StatusConflict, "")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "CLI", "public": true}).WantProblem(t, http.StatusBadRequest, "grants")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "CLI", "public": true, "grants": []string{"client_credentials"}}).
		WantProblem(t, http.StatusBadRequest, "grants")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "X", "grants": []string{"implicit"}}).WantProblem(t, http.StatusBadRequest, "grants[0]")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "X", "grants": []string{"authorization_code"}}).WantProblem(t, http.StatusBadRequest, "redirectUris")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "X", "redirectUris": []string{"/relative"}}).WantProblem(t, http.StatusBadRequest, "redirectUris[0]")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "X", "roles": []string{"operator"}}).WantProblem(t, http.StatusBadRequest, "roles[0]")
	cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "X", "scopes": []string{"tenants.manage"}}).WantProblem(t, http.StatusBadRequest, "scopes[0]")
}

func TestAdminAPIKeys(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	cl := acme.Client()
	keys := "/v1/tenants/acme/api-keys"

	k := cl.Post(t, keys, map[string]any{"name": "reporting", "subjectKind": "user", "subjectId": acme.User.ID,
		"scopes": []string{"admin.read"}, "expiresInDays": 30}).Want(t, http.StatusCreated).Map(t)
	text, _ := k["key"].(string)
	if !strings.HasPrefix(text, "cvk_") || k["expiresAt"] == nil || !strings.HasSuffix(text, strings.TrimPrefix(k["hint"].(string), "cvk_…")) {
		t.Fatalf("created key: %v", k)
	}
	id := k["id"].(string)
	me := env.WithAPIKey(text).Get(t, "/v1/me").Want(t, http.StatusOK).Map(t)
	if me["kind"] != "user" {
		t.Errorf("me with key: %v", me)
	}
	env.WithAPIKey(text).Get(t, "/v1/tenants/acme/sites").Want(t, http.StatusOK)
	got := cl.Get(t, keys+"/"+id).Want(t, http.StatusOK).Map(t)
	if _, ok := got["key"]; ok || got["hint"] != k["hint"] {
		t.Errorf("GET key: %v", got)
	}
	if items := cl.Get(t, keys).Want(t, http.StatusOK).Items(t); len(items) != 1 {
		t.Errorf("list: %v", items)
	}

	cl.Delete(t, keys+"/"+id).Want(t, http.StatusNoContent)
	env.WithAPIKey(text).Get(t, "/v1/me").WantProblem(t, http.StatusUnauthorized, "")
	cl.Delete(t, keys+"/"+id).WantProblem(t, http.StatusConflict, "")
	if got := cl.Get(t, keys+"/"+id).Want(t, http.StatusOK).Map(t); got["revokedAt"] == nil {
		t.Errorf("revoked key: %v", got)
	}
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"apiKey"}})
	if len(recs) != 2 || recs[0].EventType != "create" || recs[1].EventType != "revoke" {
		t.Fatalf("key records: %+v", recs)
	}
	if newD, oldD := details(t, recs[1]); len(newD) != 1 || newD["revokedAt"] == nil || len(oldD) != 0 {
		t.Errorf("revoke details: %s", recs[1].Details)
	}

	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"subjectKind": "user", "subjectId": acme.User.ID, "scopes": []string{"calls.read"}}, "name"},
		{map[string]any{"name": "k", "subjectKind": "robot", "subjectId": acme.User.ID, "scopes": []string{"calls.read"}}, "subjectKind"},
		{map[string]any{"name": "k", "subjectKind": "user", "subjectId": callvault.NewID("usr"), "scopes": []string{"calls.read"}}, "subjectId"},
		{map[string]any{"name": "k", "subjectKind": "app", "subjectId": acme.App.ID, "scopes": []string{"tenants.manage"}}, "scopes[0]"},
		{map[string]any{"name": "k", "subjectKind": "user", "subjectId": acme.User.ID, "scopes": []string{}}, "scopes"},
		{map[string]any{"name": "k", "subjectKind": "user", "subjectId": acme.User.ID, "scopes": []string{"calls.read"}, "expiresInDays": 0}, "expiresInDays"},
		{map[string]any{"name": "k", "subjectKind": "user", "subjectId": acme.User.ID, "scopes": []string{"calls.read"}, "expiresInDays": 3651}, "expiresInDays"},
	} {
		cl.Post(t, keys, tc.body).WantProblem(t, http.StatusBadRequest, tc.field)
	}

	// An app's key holds only the app's scopes; another tenant's app is
	// not a subject here.
	narrow := cl.Post(t, "/v1/tenants/acme/apps", map[string]any{"name": "Narrow", "scopes": []string{"calls.read"}}).Want(t, http.StatusCreated).Map(t)
	cl.Post(t, keys, map[string]any{"name": "k", "subjectKind": "app", "subjectId": narrow["clientId"], "scopes": []string{"calls.read", "audit.read"}}).
		WantProblem(t, http.StatusBadRequest, "scopes[1]")
	ak := cl.Post(t, keys, map[string]any{"name": "k", "subjectKind": "app", "subjectId": narrow["clientId"], "scopes": []string{"calls.read"}}).
		Want(t, http.StatusCreated).Map(t)
	globex := env.MustAdmin(t, "globex")
	cl.Post(t, keys, map[string]any{"name": "k", "subjectKind": "app", "subjectId": globex.App.ID, "scopes": []string{"calls.read"}}).
		WantProblem(t, http.StatusBadRequest, "subjectId")

	// Deleting the app revokes its keys, correlated to the app's delete.
	cl.Delete(t, "/v1/tenants/acme/apps/"+narrow["clientId"].(string)).Want(t, http.StatusNoContent)
	if got := cl.Get(t, keys+"/"+ak["id"].(string)).Want(t, http.StatusOK).Map(t); got["revokedAt"] == nil {
		t.Errorf("key of a deleted app not revoked: %v", got)
	}
	recs = env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"apiKey"}, EventTypes: []string{"revoke"}})
	if last := recs[len(recs)-1]; last.EntityKey != ak["id"] || last.CorrelationType != "app" || last.CorrelationID != narrow["clientId"] {
		t.Errorf("child revoke record: %+v", last)
	}
}

func TestAdminConsents(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	globex := env.MustAdmin(t, "globex")
	vendor, secret := env.MustApp(t, "acme", "Acme Analytics", allGrants,
		[]callvault.Permission{callvault.PermCallsRead, callvault.PermAdminRead})
	gcl := globex.Client()
	consents := "/v1/tenants/globex/consents"

	forGlobex := url.Values{"grant_type": {"client_credentials"}, "tenant": {"globex"}}
	env.PostForm(t, "/oauth/token", vendor.ID, secret, forGlobex).Want(t, http.StatusBadRequest)

	cs := gcl.Post(t, consents, map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read"}, "roles": []string{"auditor"}}).
		Want(t, http.StatusCreated).Map(t)
	if cs["appTenantId"] != "acme" || !equalJSON(cs["scopes"], []string{"admin.read"}) {
		t.Errorf("consent: %v", cs)
	}
	tok := env.MustToken(t, vendor.ID, secret, forGlobex)
	env.Bearer(tok).Get(t, "/v1/tenants/globex/sites").Want(t, http.StatusOK)
	gcl.Get(t, consents+"/"+vendor.ID).Want(t, http.StatusOK)
	if items := gcl.Get(t, consents).Want(t, http.StatusOK).Items(t); len(items) != 1 {
		t.Errorf("consents: %v", items)
	}

	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"appId": vendor.ID, "scopes": []string{"audit.read"}}, "scopes[0]"},
		{map[string]any{"appId": globex.App.ID, "scopes": []string{"admin.read"}}, "appId"},
		{map[string]any{"appId": callvault.NewID("app"), "scopes": []string{"admin.read"}}, "appId"},
		{map[string]any{"appId": "nope", "scopes": []string{"admin.read"}}, "appId"},
		{map[string]any{"appId": vendor.ID}, "scopes"},
		{map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read"}, "roles": []string{"ghost"}}, "roles[0]"},
	} {
		gcl.Post(t, consents, tc.body).WantProblem(t, http.StatusBadRequest, tc.field)
	}

	// Revoking kills the app's tokens for this tenant at once; its tokens
	// at home live on.
	home := env.MustToken(t, vendor.ID, secret, url.Values{"grant_type": {"client_credentials"}})
	gcl.Delete(t, consents+"/"+vendor.ID).Want(t, http.StatusNoContent)
	env.Bearer(tok).Get(t, "/v1/tenants/globex/sites").WantProblem(t, http.StatusUnauthorized, "")
	env.Bearer(home).Get(t, "/v1/me").Want(t, http.StatusOK)
	env.PostForm(t, "/oauth/token", vendor.ID, secret, forGlobex).Want(t, http.StatusBadRequest)
	gcl.Delete(t, consents+"/"+vendor.ID).WantProblem(t, http.StatusConflict, "")
	if got := gcl.Get(t, consents+"/"+vendor.ID).Want(t, http.StatusOK).Map(t); got["revokedAt"] == nil {
		t.Errorf("revoked consent: %v", got)
	}
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "globex", EntityTypes: []string{"consent", "token"},
		EventTypes: []string{"create", "revoke"}})
	if len(recs) != 3 || recs[1].EventType != "revoke" || recs[1].DisplayName != "Acme Analytics" ||
		recs[2].EntityType != "token" || recs[2].CorrelationType != "consent" || recs[2].CorrelationID != vendor.ID {
		t.Errorf("consent records: %+v", recs)
	}

	// A new POST admits the app again.
	gcl.Post(t, consents, map[string]any{"appId": vendor.ID, "scopes": []string{"admin.read"}, "roles": []string{"auditor"}}).Want(t, http.StatusOK)
	env.MustToken(t, vendor.ID, secret, forGlobex)
	_ = acme
}

func TestAdminJWTCredentials(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	cl := acme.Client()
	creds := "/v1/tenants/acme/jwt-credentials"

	c := cl.Post(t, creds, map[string]any{"userId": acme.User.ID, "appId": acme.App.ID, "name": "batch", "expiresInDays": 7}).
		Want(t, http.StatusCreated).Map(t)
	jwt, _ := c["jwt"].(string)
	if strings.Count(jwt, ".") != 2 {
		t.Fatalf("created credential: %v", c)
	}
	grant := url.Values{"grant_type": {callvault.GrantJWTBearer}, "assertion": {jwt}}
	tok := env.MustToken(t, acme.App.ID, acme.Secret, grant)
	env.Bearer(tok).Get(t, "/v1/me").Want(t, http.StatusOK)
	id := c["id"].(string)
	if got := cl.Get(t, creds+"/"+id).Want(t, http.StatusOK).Map(t); got["jwt"] != nil || got["userId"] != acme.User.ID {
		t.Errorf("GET credential: %v", got)
	}
	if items := cl.Get(t, creds).Want(t, http.StatusOK).Items(t); len(items) != 1 {
		t.Errorf("list: %v", items)
	}
	cl.Delete(t, creds+"/"+id).Want(t, http.StatusNoContent)
	env.PostForm(t, "/oauth/token", acme.App.ID, acme.Secret, grant).Want(t, http.StatusBadRequest)
	cl.Delete(t, creds+"/"+id).WantProblem(t, http.StatusConflict, "")

	cl.Post(t, creds, map[string]any{"userId": callvault.NewID("usr"), "name": "x"}).WantProblem(t, http.StatusBadRequest, "userId")
	cl.Post(t, creds, map[string]any{"userId": acme.User.ID, "appId": callvault.NewID("app"), "name": "x"}).WantProblem(t, http.StatusBadRequest, "appId")
	cl.Post(t, creds, map[string]any{"userId": acme.User.ID}).WantProblem(t, http.StatusBadRequest, "name")
}

func TestAdminUserDeleteRevokesCredentials(t *testing.T) {
	env := newTestEnv(t)
	cl := env.MustAdmin(t, "acme").Client()
	u := cl.Post(t, "/v1/tenants/acme/users", map[string]any{"login": "temp", "password": "secret-password-1", "roles": []string{"agent"}}).
		Want(t, http.StatusCreated).Map(t)
	uid := u["id"].(string)
	k := cl.Post(t, "/v1/tenants/acme/api-keys", map[string]any{"name": "k", "subjectKind": "user", "subjectId": uid,
		"scopes": []string{"calls.read"}}).Want(t, http.StatusCreated).Map(t)
	j := cl.Post(t, "/v1/tenants/acme/jwt-credentials", map[string]any{"userId": uid, "name": "j"}).Want(t, http.StatusCreated).Map(t)
	cl.Delete(t, "/v1/tenants/acme/users/"+uid).Want(t, http.StatusNoContent)
	for _, p := range []string{"/api-keys/" + k["id"].(string), "/jwt-credentials/" + j["id"].(string)} {
		if got := cl.Get(t, "/v1/tenants/acme"+p).Want(t, http.StatusOK).Map(t); got["revokedAt"] == nil {
			t.Errorf("%s not revoked with its user: %v", p, got)
		}
	}
}

func TestAdminReadsAudited(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.AuditReads = true })
	acme := env.MustAdmin(t, "acme")
	acme.Client().Get(t, "/v1/tenants/acme/users/"+acme.User.ID).Want(t, http.StatusOK)
	acme.Client().Get(t, "/v1/tenants/acme/users").Want(t, http.StatusOK)
	recs := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EventTypes: []string{"view"}, EntityTypes: []string{"user"}})
	if len(recs) != 2 || recs[0].EntityKey != acme.User.ID || recs[0].DisplayName != acme.User.Name {
		t.Errorf("view records: %+v", recs)
	}
}

func TestAdminRoutesDeclareActions(t *testing.T) {
	env := newTestEnv(t)
	for _, rt := range env.Server.adminRoutes() {
		want := actAdminWrite
		if rt.Method == http.MethodGet {
			want = actAdminRead
		}
		if rt.Action != want || !strings.HasPrefix(rt.Pattern, "/v1/tenants/{tenant}/") {
			t.Errorf("%s %s: action %v", rt.Method, rt.Pattern, rt.Action)
		}
	}
	// A user without admin permissions is denied every admin route.
	agent := env.MustActor(t, "acme", "agent", tenantScopes, callvault.RoleAgent)
	agent.Client().Get(t, "/v1/tenants/acme/users").WantProblem(t, http.StatusForbidden, "")
	agent.Client().Post(t, "/v1/tenants/acme/sites", map[string]any{"name": "x"}).WantProblem(t, http.StatusForbidden, "")
}

func TestAdminUserLoginPatchConflict(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	cl := acme.Client()
	u := cl.Post(t, "/v1/tenants/acme/users", map[string]any{"login": "Maria", "password": "secret-password-1"}).Want(t, http.StatusCreated).Map(t)
	one := "/v1/tenants/acme/users/" + u["id"].(string)
	cl.Patch(t, one, map[string]any{"login": acme.User.Login}).WantProblem(t, http.StatusConflict, "login")
	if got := cl.Patch(t, one, map[string]any{"login": "maria"}).Want(t, http.StatusOK).Map(t); got["login"] != "maria" {
		t.Errorf("re-cased login: %v", got)
	}
}

func TestOperatorRoleOnlyInOperatorTenant(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	acme.Client().Get(t, "/v1/tenants/acme/roles/operator").WantProblem(t, 404, "")
	acme.Client().Get(t, "/v1/tenants/acme/roles/admin").Want(t, 200)
}
