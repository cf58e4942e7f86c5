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
