package genesys

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// TestRateLimitsAcrossNodes runs the face on two servers over one
// PostgreSQL database: a client's requests alternating between the nodes
// count against one limit in its org, not one per node.
func TestRateLimitsAcrossNodes(t *testing.T) {
	const limit = 4
	nodes := httptestenv.NewPostgresNodes(t, 2, func(c *cvhttp.Config) {
		c.Faces = []cvhttp.Face{New(Options{RequestsPerMinute: limit})}
	})
	nodes[0].MustTenant(t, "home", "us")
	app, secret := nodes[0].MustApp(t, "home", "Compliance Dashboard", []string{callvault.GrantClientCredentials},
		[]callvault.Permission{callvault.PermAnalyticsRead, callvault.PermAuditRead})
	app.Roles = []string{callvault.RoleAdmin}
	nodes[0].MustUpdate(t, func(tx callvault.Tx) error { return tx.UpdateApp(app) })
	env := func(i int) *gcEnv { // the fixture's request helpers, on node i
		return &gcEnv{Env: &httptestenv.Env{URL: nodes[i%2].URL}, t: t, app: app, secret: secret}
	}
	tok := env(1).mustToken("")
	httptestenv.AwayFromWindowEnd(t, time.Minute, 10*time.Second)
	for i := 1; i <= limit; i++ {
		if r := env(i).do("GET", "/api/v2/organizations/me", tok, nil); r.status != 200 {
			t.Fatalf("request %d (node %d): %d %s", i, i%2, r.status, r.raw)
		}
	}
	for i := limit + 1; i <= limit+2; i++ { // refused on both nodes
		r := env(i).do("GET", "/api/v2/organizations/me", tok, nil)
		if r.status != 429 || r.body["code"] != "too.many.requests.retry.after" || r.header.Get("Retry-After") == "" ||
			!strings.HasPrefix(r.body["message"].(string), "Rate limit exceeded the maximum. Retry the request in [") {
			t.Fatalf("request %d (node %d) over the limit of both nodes: %d %v %s", i, i%2, r.status, r.header, r.raw)
		}
	}
}

// failingLimiter cannot count: the shared store is unavailable.
type failingLimiter struct{}

func (failingLimiter) Take(context.Context, string, int, time.Duration) (cvhttp.RequestRate, error) {
	return cvhttp.RequestRate{}, &callvault.Error{Code: callvault.EUnavailable, Message: "the request could not be counted", Err: errors.New("connection refused")}
}

// TestRateLimitFailsClosed: a request that cannot be counted is refused
// with 503 service.unavailable and Retry-After, never served unlimited.
func TestRateLimitFailsClosed(t *testing.T) {
	base := httptestenv.New(t, func(c *cvhttp.Config) {
		c.Faces, c.RequestLimiter = []cvhttp.Face{New(Options{})}, failingLimiter{}
	})
	base.MustTenant(t, "home", "us")
	app, secret := base.MustApp(t, "home", "Compliance Dashboard", []string{callvault.GrantClientCredentials},
		[]callvault.Permission{callvault.PermAnalyticsRead})
	e := &gcEnv{Env: base, t: t, app: app, secret: secret}
	r := e.do("GET", "/api/v2/organizations/me", e.mustToken(""), nil)
	if r.status != 503 || r.body["code"] != "service.unavailable" || r.header.Get("Retry-After") != "2" {
		t.Fatalf("not counted: %d %v %s; want 503 service.unavailable with Retry-After", r.status, r.header, r.raw)
	}
}
