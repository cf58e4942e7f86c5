package ringcentral

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// TestRateLimitsAcrossNodes runs the face on two servers over one
// PostgreSQL database: requests alternating between the nodes count
// against one limit (not one per node): the Auth group's token requests
// and the Heavy group's call-log reads are refused after exactly limit
// requests in all, with CMN-301 and Retry-After, and
// X-Rate-Limit-Remaining goes down across the nodes.
func TestRateLimitsAcrossNodes(t *testing.T) {
	const heavy, auth = 5, 3
	nodes := httptestenv.NewPostgresNodes(t, 2, func(c *cvhttp.Config) {
		c.Faces = []cvhttp.Face{New(Options{Limits: map[string]int{groupHeavy: heavy, groupAuth: auth, groupLight: 100, groupMedium: 100}})}
	})
	nodes[0].MustTenant(t, "acme", "")
	nodes[0].MustUser(t, "acme", "admin", "101", callvault.RoleAdmin)
	app, secret := nodes[0].MustApp(t, "acme", "Call Log Reader", rcGrants, callScopes)
	env := func(i int) *rcEnv { // the fixture's request helpers, on node i
		return &rcEnv{Env: &httptestenv.Env{URL: nodes[i%2].URL}, t: t, secrets: map[string]string{app.ID: secret}}
	}
	httptestenv.AwayFromWindowEnd(t, time.Minute, 10*time.Second)

	form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {httptestenv.Password}}.Encode()
	var tok string
	for i := 1; i <= auth; i++ {
		r := env(i).post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form, app).want(t, 200)
		if rem := r.Header.Get("X-Rate-Limit-Remaining"); rem != strconv.Itoa(auth-i) {
			t.Fatalf("token request %d (node %d): X-Rate-Limit-Remaining %s, want %d", i, i%2, rem, auth-i)
		}
		tok = r.Map(t)["access_token"].(string)
	}
	r := env(auth+1).post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form, app)
	wantBody(t, r, 429, `{"errorCode":"CMN-301","message":"Request rate exceeded","errors":[{"errorCode":"CMN-301","message":"Request rate exceeded"}]}`)
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("token 429: Retry-After %q", r.Header.Get("Retry-After"))
	}

	for i := 1; i <= heavy; i++ {
		r := env(i).get(t, logPath, tok).want(t, 200)
		if g, l, rem, w := r.Header.Get("X-Rate-Limit-Group"), r.Header.Get("X-Rate-Limit-Limit"),
			r.Header.Get("X-Rate-Limit-Remaining"), r.Header.Get("X-Rate-Limit-Window"); g != "Heavy" || l != strconv.Itoa(heavy) || rem != strconv.Itoa(heavy-i) || w != "60" {
			t.Fatalf("request %d (node %d): group %s limit %s remaining %s window %s; want the count of both nodes", i, i%2, g, l, rem, w)
		}
	}
	for i := heavy + 1; i <= heavy+2; i++ { // refused on both nodes
		r := env(i).get(t, logPath, tok)
		wantBody(t, r, 429, `{"errorCode":"CMN-301","message":"Request rate exceeded","errors":[{"errorCode":"CMN-301","message":"Request rate exceeded"}]}`)
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 || r.Header.Get("X-Rate-Limit-Remaining") != "0" {
			t.Fatalf("request %d (node %d): Retry-After %q, X-Rate-Limit-Remaining %q", i, i%2, r.Header.Get("Retry-After"), r.Header.Get("X-Rate-Limit-Remaining"))
		}
	}
	// The count is the database's, refused requests included.
	var n int
	if err := nodes[1].DB.Pool().QueryRow(context.Background(),
		`SELECT sum(count) FROM rate_limits WHERE key LIKE 'ringcentral/Heavy/%'`).Scan(&n); err != nil || n != heavy+2 {
		t.Fatalf("Heavy requests counted in the database: %d (%v), want %d", n, err, heavy+2)
	}
}

// failingLimiter cannot count: the shared store is unavailable.
type failingLimiter struct{}

func (failingLimiter) Take(context.Context, string, int, time.Duration) (cvhttp.RequestRate, error) {
	return cvhttp.RequestRate{}, &callvault.Error{Code: callvault.EUnavailable, Message: "the request could not be counted", Err: errors.New("connection refused")}
}

// TestRateLimitFailsClosed: a request that cannot be counted against its
// limit is refused with 503 CMN-211 and Retry-After (the rate-limit
// headers still present), never served unlimited; so is a token request.
func TestRateLimitFailsClosed(t *testing.T) {
	base := httptestenv.New(t, func(c *cvhttp.Config) {
		c.Faces, c.RequestLimiter = []cvhttp.Face{New(Options{})}, failingLimiter{}
	})
	e := &rcEnv{Env: base, t: t, now: time.Now().UTC().Truncate(time.Millisecond), secrets: map[string]string{}}
	e.MustTenant(t, "acme", "")
	admin := e.MustUser(t, "acme", "admin", "101", callvault.RoleAdmin)
	app, secret := e.MustApp(t, "acme", "Call Log Reader", rcGrants, callScopes)
	e.secrets[app.ID] = secret
	const unavailable = `{"errorCode":"CMN-211","message":"Service is temporarily unavailable","errors":[{"errorCode":"CMN-211","message":"Service is temporarily unavailable"}]}`
	r := e.get(t, logPath, e.mint(t, app, admin, e.now.Add(time.Hour), false))
	wantBody(t, r, 503, unavailable)
	if r.Header.Get("Retry-After") != "2" {
		t.Fatalf("503 without Retry-After 2: %v", r.Header)
	}
	form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {httptestenv.Password}}.Encode()
	r = e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form, app)
	wantBody(t, r, 503, unavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("token 503 without Retry-After: %v", r.Header)
	}
}
