package http

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// TestAuthorizationMatrix is generated from the route table: every
// authenticated route × every kind of bad or insufficient credential must
// be denied with the right status and layer, and the answer must be the
// same whether the object named in the path exists or not. A route whose
// path parameter has no fixture here fails the test, so a new route cannot
// slip past it.
func TestAuthorizationMatrix(t *testing.T) {
	env := newTestEnv(t)
	now := time.Now().UTC().Truncate(time.Microsecond)

	// acme (us) with one object of every kind; globex (eu) next to it.
	acme := env.MustAdmin(t, "acme")
	env.MustUpdate(t, func(tx callvault.Tx) error {
		return tx.CreateTenant(&callvault.Tenant{ID: "globex", Name: "Globex", Region: "eu", Timezone: "UTC",
			RetentionDays: 730, AuditRetentionDays: 2557, AllowedClientRegions: []string{}, CreatedAt: now, UpdatedAt: now})
	})
	globex := env.MustAdmin(t, "globex")
	ac := acme.Client()
	site := ac.Post(t, "/v1/tenants/acme/sites", map[string]any{"name": "HQ"}).Want(t, 201).Map(t)
	ac.Post(t, "/v1/tenants/acme/roles", map[string]any{"name": "reviewer", "permissions": []string{"calls.read"}}).Want(t, 201)
	ac.Post(t, "/v1/tenants/acme/licenses", map[string]any{"name": "pro", "features": []string{"analytics"}}).Want(t, 201)
	key := ac.Post(t, "/v1/tenants/acme/api-keys", map[string]any{"name": "k", "subjectKind": "user", "subjectId": acme.User.ID,
		"scopes": []string{"admin.read"}}).Want(t, 201).Map(t)
	jwtc := ac.Post(t, "/v1/tenants/acme/jwt-credentials", map[string]any{"userId": acme.User.ID, "name": "j"}).Want(t, 201).Map(t)
	// globex's app, admitted into acme with every scope: its region (eu) is not acme's.
	euApp, euSecret := env.MustApp(t, "globex", "EU Sync", []string{callvault.GrantClientCredentials}, tenantScopes, callvault.RoleAdmin)
	ac.Post(t, "/v1/tenants/acme/consents", map[string]any{"appId": euApp.ID, "scopes": []string{"admin.read", "admin.write", "audit.read"},
		"roles": []string{"admin"}}).Want(t, 201)

	// A call record of acme with a recording.
	call := &callvault.CallRecord{TenantID: "acme", ID: "matrix-call-1", Start: now.Add(-time.Hour), End: now.Add(-time.Hour + time.Minute),
		DurationMs: 60000, Direction: callvault.DirectionInbound, Type: callvault.CallVoice, Result: callvault.ResultMissed}
	env.MustUpdate(t, func(tx callvault.Tx) error {
		if _, err := tx.PutCalls([]*callvault.CallRecord{call}); err != nil {
			return err
		}
		return tx.CreateRecording(&callvault.Recording{TenantID: "acme", ID: "matrix-rec-1", CallID: call.ID, Type: "Automatic", CreatedAt: now})
	})

	real := map[string]string{
		"sites": site["id"].(string), "users": acme.User.ID, "roles": "reviewer", "licenses": "pro",
		"apps": acme.App.ID, "api-keys": key["id"].(string), "consents": euApp.ID, "jwt-credentials": jwtc["id"].(string),
		"calls": call.ID, "recordings": "matrix-rec-1",
	}
	fake := map[string]string{
		"sites": callvault.NewID("sit"), "users": callvault.NewID("usr"), "roles": "no-such-role", "licenses": "no-such-license",
		"apps": callvault.NewID("app"), "api-keys": callvault.NewID("key"), "consents": callvault.NewID("app"), "jwt-credentials": callvault.NewID("jwt"),
		"calls": "matrix-call-0", "recordings": "matrix-rec-0",
	}

	// The credentials of the matrix.
	mint := func(tenant, appID, userID string, scopes []callvault.Permission, expires time.Time, revoked bool) string {
		tok := credential.New(credential.PrefixAccessToken)
		tk := &callvault.Token{Hash: credential.Hash(tok), TenantID: tenant, Kind: callvault.TokenAccess, AppID: appID, UserID: userID,
			Scopes: scopes, Grant: callvault.GrantPassword, FamilyID: callvault.NewID("tfm"), IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: expires}
		if revoked {
			tk.RevokedAt = now.Add(-time.Minute)
		}
		env.MustUpdate(t, func(tx callvault.Tx) error { return tx.CreateToken(tk) })
		return tok
	}
	strangerApp, _ := env.MustApp(t, "globex", "Stranger", allGrants, tenantScopes, callvault.RoleAdmin)
	noScopes := env.MustActor(t, "acme", "no-scopes", []callvault.Permission{}, callvault.RoleAdmin)
	noRoles := env.MustActor(t, "acme", "no-roles", tenantScopes)
	euToken := env.MustToken(t, euApp.ID, euSecret, url.Values{"grant_type": {"client_credentials"}, "tenant": {"acme"}})

	type credCase struct {
		name   string
		header http.Header
		layer  access.Layer // expected failing layer on acme's routes
		// self is the expected layer on routes about the caller (/v1/me,
		// explain); "" when those are allowed for this credential.
		self access.Layer
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	// A different last (checksum) character: replacing it with the one it
	// already has (1 run in 62) would leave the token valid.
	badSum := acme.Token[:len(acme.Token)-1] + "x"
	if strings.HasSuffix(acme.Token, "x") {
		badSum = acme.Token[:len(acme.Token)-1] + "y"
	}
	cases := []credCase{
		{"no credential", http.Header{}, access.LayerCredential, access.LayerCredential},
		{"malformed bearer", bearer("not-a-token"), access.LayerCredential, access.LayerCredential},
		{"bearer with bad checksum", bearer(badSum), access.LayerCredential, access.LayerCredential},
		{"basic scheme", http.Header{"Authorization": {"Basic YTpi"}}, access.LayerCredential, access.LayerCredential},
		{"malformed api key", http.Header{"X-Api-Key": {"cvk_123"}}, access.LayerCredential, access.LayerCredential},
		{"unknown token", bearer(credential.New(credential.PrefixAccessToken)), access.LayerCredential, access.LayerCredential},
		{"unknown api key", http.Header{"X-Api-Key": {credential.New(credential.PrefixAPIKey)}}, access.LayerCredential, access.LayerCredential},
		{"expired token", bearer(mint("acme", acme.App.ID, acme.User.ID, tenantScopes, now.Add(-time.Hour), false)), access.LayerCredential, access.LayerCredential},
		{"revoked token", bearer(mint("acme", acme.App.ID, acme.User.ID, tenantScopes, now.Add(time.Hour), true)), access.LayerCredential, access.LayerCredential},
		{"another tenant's credential", bearer(globex.Token), access.LayerTenant, ""},
		{"app without consent", bearer(mint("acme", strangerApp.ID, "", tenantScopes, now.Add(time.Hour), false)), access.LayerTenant, access.LayerTenant},
		{"app from another region", bearer(euToken), access.LayerRegion, access.LayerRegion},
		{"token without the scope", bearer(noScopes.Token), access.LayerScopes, ""},
		{"user without the role", bearer(noRoles.Token), access.LayerSubject, ""},
	}

	for _, rt := range env.Server.Routes() {
		if rt.Public {
			continue
		}
		tenantRoute := strings.Contains(rt.Pattern, "{tenant}")
		installation := !tenantRoute && strings.HasPrefix(rt.Pattern, "/v1/tenants")
		realPath, fakePath := concretePaths(t, rt.Pattern, real, fake)
		for _, cc := range cases {
			want := cc.layer
			switch {
			case installation && cc.layer != access.LayerCredential:
				want = access.LayerTenant // only operators reach installation-wide routes
			case !tenantRoute && !installation:
				want = cc.self
			case rt.Action.Permission == "" && (cc.layer == access.LayerScopes || cc.layer == access.LayerSubject):
				want = ""
			case rt.Action.Permission == callvault.PermTenantsManage && cc.layer == access.LayerSubject:
				want = access.LayerScopes // no tenant app may hold tenants.manage
			}
			if want == "" {
				continue
			}
			t.Run(rt.Method+" "+rt.Pattern+"/"+cc.name, func(t *testing.T) {
				status := http.StatusForbidden
				if want == access.LayerCredential {
					status = http.StatusUnauthorized
				}
				var bodies [2]string
				for i, path := range []string{realPath, fakePath} {
					res := (&testClient{env: env, header: cc.header}).Do(t, rt.Method, path, matrixBody(rt.Method))
					p := res.WantProblem(t, status, "")
					if p.Layer != want {
						t.Fatalf("%s %s: layer %q, want %q: %s", rt.Method, path, p.Layer, want, res.Body)
					}
					if p.Hint == "" || p.Detail == "" || p.RequestID != res.Header.Get("X-Request-Id") {
						t.Fatalf("%s %s: denial without detail, hint or request id: %s", rt.Method, path, res.Body)
					}
					bodies[i] = normalize(res.Body, path)
				}
				if bodies[0] != bodies[1] {
					t.Fatalf("the answer reveals whether the object exists:\n real: %s\n fake: %s", bodies[0], bodies[1])
				}
			})
		}
	}

	// Object-level isolation: globex's admin, allowed in globex, naming
	// acme's objects gets exactly what a nonexistent id gets.
	gc := globex.Client()
	for _, rt := range env.Server.Routes() {
		if rt.Public || !strings.Contains(rt.Pattern, "{tenant}") || strings.Count(rt.Pattern, "{") < 2 {
			continue
		}
		realPath, fakePath := concretePaths(t, rt.Pattern, real, fake)
		realPath = strings.Replace(realPath, "/acme/", "/globex/", 1)
		fakePath = strings.Replace(fakePath, "/acme/", "/globex/", 1)
		t.Run("cross-tenant id/"+rt.Method+" "+rt.Pattern, func(t *testing.T) {
			a := gc.Do(t, rt.Method, realPath, matrixBody(rt.Method))
			b := gc.Do(t, rt.Method, fakePath, matrixBody(rt.Method))
			if a.Status < 400 || a.Status != b.Status || normalize(a.Body, realPath) != normalize(b.Body, fakePath) {
				t.Fatalf("acme's object is visible from globex:\n real %d %s\n fake %d %s", a.Status, a.Body, b.Status, b.Body)
			}
		})
	}
	// Nothing above changed acme's objects.
	ac.Get(t, "/v1/tenants/acme/sites/"+real["sites"]).Want(t, 200)
	ac.Get(t, "/v1/tenants/acme/api-keys/"+real["api-keys"]).Want(t, 200)
}

// concretePaths fills a route pattern with acme and with a real and a fake
// key for its object parameter.
func concretePaths(t *testing.T, pattern string, real, fake map[string]string) (realPath, fakePath string) {
	t.Helper()
	segs := strings.Split(pattern, "/")
	r, f := append([]string{}, segs...), append([]string{}, segs...)
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		if s == "{tenant}" {
			r[i], f[i] = "acme", "acme"
			continue
		}
		coll := segs[i-1]
		rv, ok := real[coll]
		if !ok {
			t.Fatalf("route %s: no matrix fixture for %s under %q; add one to TestAuthorizationMatrix", pattern, s, coll)
		}
		r[i], f[i] = rv, fake[coll]
	}
	return strings.Join(r, "/"), strings.Join(f, "/")
}

func matrixBody(method string) any {
	if method == http.MethodPost || method == http.MethodPatch {
		return map[string]any{}
	}
	return nil
}

// normalize drops what legitimately differs between two responses: the
// request id, the path, and the object key the request itself named.
func normalize(body []byte, path string) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return string(body)
	}
	delete(m, "requestId")
	delete(m, "instance")
	b, _ := json.Marshal(m)
	segs := strings.Split(path, "/")
	for _, seg := range segs[min(5, len(segs)):] { // after /v1/tenants/{tenant}/{collection}
		b = regexp.MustCompile(`\b`+regexp.QuoteMeta(seg)+`\b`).ReplaceAll(b, []byte("{key}"))
	}
	return string(b)
}

func TestRouteWithoutActionCannotBeRegistered(t *testing.T) {
	env := newTestEnv(t)
	defer func() {
		if recover() == nil {
			t.Fatal("a route without an action was accepted")
		}
	}()
	env.Server.wrap(Route{Method: "GET", Pattern: "/v1/sneaky", Handle: func(http.ResponseWriter, *http.Request, *Call) error { return nil }})
}
