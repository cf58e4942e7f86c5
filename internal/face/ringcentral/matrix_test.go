package ringcentral

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// TestAuthorizationMatrix is generated from the face's route table, as
// internal/http's is from the native one: every authenticated route ×
// every kind of bad or insufficient credential gets RingCentral's status
// and code, and the same answer whether the object named in the path (a
// call record, a recording, an extension) exists or not. A route with a
// path parameter that has no fixture here fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	e := newRC(t, Options{})
	e.MustTenant(t, "globex", "")
	e.MustUser(t, "globex", "admin-globex", "101", callvault.RoleAdmin)
	gapp, gsecret := e.MustApp(t, "globex", "Globex Reader", rcGrants, callScopes)
	e.secrets[gapp.ID] = gsecret
	noRoles := e.MustUser(t, "acme", "no-roles", "103")

	real := map[string]string{"accountId": "acme", "extensionId": e.admin.ID, "callRecordId": "c1", "recordingId": "rec1"}
	fake := map[string]string{"accountId": "acme", "extensionId": callvault.NewID("usr"), "callRecordId": "c0", "recordingId": "rec0"}

	type credCase struct {
		name, token string
		// want returns the expected status and error code on a route
		// (0 when the route is allowed for this credential).
		want func(pattern string) (int, string)
	}
	always := func(status int, code string) func(string) (int, string) {
		return func(string) (int, string) { return status, code }
	}
	recording := func(p string) bool { return strings.Contains(p, "/recording/") }
	content := func(p string) bool { return strings.HasSuffix(p, "/content") }
	cases := []credCase{
		{"no credential", "", always(401, "AGW-401")},
		{"malformed token", "not-a-token", always(401, "OAU-149")},
		{"expired token", e.mint(t, e.full, e.admin, e.now.Add(-time.Minute), false), always(401, "OAU-128")},
		{"revoked token", e.mint(t, e.full, e.admin, e.now.Add(time.Hour), true), always(401, "OAU-213")},
		{"another account's token", e.access(t, gapp, "admin-globex"), always(404, "CMN-102")},
		{"app without ReadCallLog", e.access(t, e.recs, "admin"), func(p string) (int, string) {
			if content(p) {
				return 0, ""
			}
			return 403, "CMN-401"
		}},
		{"app without ReadCallRecording", e.access(t, e.logOnly, "admin"), func(p string) (int, string) {
			if recording(p) {
				return 403, "CMN-401"
			}
			return 0, ""
		}},
		{"user without FullCompanyCallLog", e.access(t, e.full, "agent"), always(403, "CMN-408")},
		{"user without any call permission", e.access(t, e.full, noRoles.Login), always(403, "CMN-408")},
	}

	n := 0
	for _, rt := range e.Server.Routes() {
		if rt.Public || !strings.HasPrefix(rt.Pattern, "/restapi/") {
			continue
		}
		n++
		realPath, fakePath := fill(t, rt.Pattern, real), fill(t, rt.Pattern, fake)
		for _, cc := range cases {
			status, code := cc.want(rt.Pattern)
			if status == 0 {
				continue
			}
			t.Run(rt.Method+" "+rt.Pattern+"/"+cc.name, func(t *testing.T) {
				var bodies [2]string
				for i, path := range []string{realPath, fakePath} {
					r := e.get(t, path, cc.token).want(t, status)
					m := r.Map(t)
					got, _ := m["errorCode"].(string)
					if errs, ok := m["errors"].([]any); ok && len(errs) > 0 {
						got = errs[0].(map[string]any)["errorCode"].(string)
					}
					if got != code {
						t.Fatalf("%s: code %s, want %s: %s", path, got, code, r.Body)
					}
					if m["requestId"] != r.Header.Get("RCRequestId") || m["hint"] == "" {
						t.Fatalf("%s: no hint or request id: %s", path, r.Body)
					}
					bodies[i] = normalize(m, path, rt.Pattern)
				}
				if bodies[0] != bodies[1] {
					t.Fatalf("the answer reveals whether the object exists:\n real: %s\n fake: %s", bodies[0], bodies[1])
				}
			})
		}
	}
	if n < 8 {
		t.Fatalf("only %d face routes in the matrix", n)
	}
}

// fill puts values into a route pattern's parameters.
func fill(t *testing.T, pattern string, values map[string]string) string {
	t.Helper()
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			v, ok := values[strings.Trim(s, "{}")]
			if !ok {
				t.Fatalf("route %s: no matrix fixture for %s; add one to TestAuthorizationMatrix", pattern, s)
			}
			segs[i] = v
		}
	}
	return strings.Join(segs, "/")
}

// normalize drops what legitimately differs between the two answers: the
// request id, and the object ids the request itself named.
func normalize(m map[string]any, path, pattern string) string {
	delete(m, "requestId")
	b, _ := json.Marshal(m)
	ps, ss := strings.Split(path, "/"), strings.Split(pattern, "/")
	for i, s := range ss {
		if strings.HasPrefix(s, "{") && s != "{accountId}" {
			b = regexp.MustCompile(`\b`+regexp.QuoteMeta(ps[i])+`\b`).ReplaceAll(b, []byte(s))
		}
	}
	return string(b)
}
