package eightbyeight

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// env is a server with the face mounted over a real SQLite store, with
// tenants acme and globex, an admin and an agent in acme, an admin in
// globex, and API keys.
type env struct {
	*httptestenv.Env
	t                    *testing.T
	admin, agent, gadmin *callvault.User
	auditKey, agentKey   string
	globexKey            string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, Env: httptestenv.New(t, func(c *cvhttp.Config) { c.Faces = []cvhttp.Face{New()} })}
	e.MustTenant(t, "acme", "")
	e.MustTenant(t, "globex", "")
	e.admin = e.MustUser(t, "acme", "admin", "101", callvault.RoleAdmin)
	e.agent = e.MustUser(t, "acme", "agent", "102", callvault.RoleAgent)
	e.gadmin = e.MustUser(t, "globex", "admin", "201", callvault.RoleAdmin)
	e.auditKey = e.key("acme", e.admin.ID, callvault.PermAuditRead)
	e.agentKey = e.key("acme", e.agent.ID, callvault.PermCallsRead)
	e.globexKey = e.key("globex", e.gadmin.ID, callvault.PermAuditRead)
	return e
}

// key stores an API key of a user and returns its text.
func (e *env) key(tenant, userID string, scopes ...callvault.Permission) string {
	k, _ := e.keyWith(tenant, userID, nil, scopes...)
	return k
}

// keyWith stores an API key of a user, changed by mod (when not nil)
// before it is stored, and returns its text and the stored key.
func (e *env) keyWith(tenant, userID string, mod func(*callvault.APIKey), scopes ...callvault.Permission) (string, *callvault.APIKey) {
	k := credential.New(credential.PrefixAPIKey)
	ak := &callvault.APIKey{TenantID: tenant, ID: callvault.NewID("key"), Name: "8x8 audit export",
		Hash: credential.Hash(k), Hint: k[:8], SubjectKind: callvault.SubjectUser, SubjectID: userID,
		Scopes: scopes, CreatedAt: time.Now().UTC()}
	if mod != nil {
		mod(ak)
	}
	e.MustUpdate(e.t, func(tx callvault.Tx) error { return tx.CreateAPIKey(ak) })
	return k, ak
}

// appendAudit stores audit records of tenant.
func (e *env) appendAudit(tenant string, recs ...*callvault.AuditRecord) {
	for _, r := range recs {
		r.TenantID = tenant
		if r.Outcome == "" {
			r.Outcome = callvault.OutcomeSuccess
		}
	}
	e.MustUpdate(e.t, func(tx callvault.Tx) error { return tx.AppendAudit(recs...) })
}

// response is a received response with its whole body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET path (raw, as a client would put it on the wire) with
// headers given as name, value pairs.
func (e *env) get(path string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// decode decodes the body into v, failing on unknown shapes.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// auditErr decodes and checks an Audit Records API error body.
func (r response) auditErr(t *testing.T, status int, message string) auditError {
	t.Helper()
	var b auditError
	r.decode(t, &b)
	if r.status != status || b.Status != status || b.Message != message || b.Error != http.StatusText(status) ||
		b.Path != vendorAuditPath || b.Timestamp == "" || b.RequestID == "" || b.Hint == "" {
		t.Fatalf("got %d %s, want %d with message %q", r.status, r.body, status, message)
	}
	return b
}

func readAll(res *http.Response) ([]byte, error) { return io.ReadAll(res.Body) }
