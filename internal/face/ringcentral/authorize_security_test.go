package ringcentral

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	"github.com/callvault/callvault/internal/cursor"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

const authCallback = "https://app.example/callback"

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm GETs the consent page in browser br for e.full with the
// extra authorize parameters and returns the response and its form's
// hidden fields.
func consentForm(t *testing.T, e *rcEnv, br *http.Client, extra url.Values) (*http.Response, url.Values) {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {e.full.ID}, "redirect_uri": {authCallback}, "state": {"st-1"}}
	for k, v := range extra {
		q[k] = v
	}
	res, err := br.Get(e.URL + "/restapi/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("consent page %d: %s", res.StatusCode, b)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(b), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	return res, form
}

// submit POSTs the consent form from browser br as the admin with
// password and decision; it returns the status, the Location and the body.
func submit(t *testing.T, e *rcEnv, br *http.Client, form url.Values, password, decision string) (int, string, string) {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = append([]string(nil), v...)
	}
	f.Set("username", "admin")
	f.Set("password", password)
	f.Set("decision", decision)
	res, err := br.PostForm(e.URL+"/restapi/oauth/authorize", f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// TestAuthorizeCSRF checks the anti-CSRF token of the consent form: the
// page sets the browser's secret cookie, carries a token and cannot be
// framed; a POST without the token, without the cookie, with another
// browser's token, with changed parameters, with an altered, expired or
// foreign-key token is refused with a 403 page (no code, no redirect,
// deny included); the genuine form works, also after a wrong password.
func TestAuthorizeCSRF(t *testing.T) {
	e := newRC(t, Options{})
	victim := newBrowser(t)
	res, form := consentForm(t, e, victim, nil)
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Fatalf("X-Frame-Options %q", got)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == csrfCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/restapi/oauth/authorize" {
		t.Fatalf("browser secret cookie: %+v", cookie)
	}
	token := form.Get(csrfField)
	if token == "" {
		t.Fatalf("no %s in the form: %v", csrfField, form)
	}
	// The same browser keeps its secret; another one gets its own, and
	// so its own token.
	if res, _ := consentForm(t, e, victim, nil); len(res.Cookies()) != 0 {
		t.Fatalf("the browser's secret was replaced: %v", res.Cookies())
	}
	attacker := newBrowser(t)
	_, attackerForm := consentForm(t, e, attacker, nil)
	if attackerForm.Get(csrfField) == token {
		t.Fatal("two browsers got the same token")
	}

	refused := func(name string, br *http.Client, f url.Values, decision, wantMsg string) {
		t.Helper()
		status, loc, body := submit(t, e, br, f, httptestenv.Password, decision)
		if status != http.StatusForbidden || loc != "" || strings.Contains(body, "code=") || !strings.Contains(body, wantMsg) {
			t.Fatalf("%s: %d Location %q: %s", name, status, loc, body)
		}
	}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for k, vs := range form {
			f[k] = vs
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	refused("no token", victim, with(csrfField, ""), "allow", "anti-forgery token or cookie is missing")
	refused("no token, deny", victim, with(csrfField, ""), "deny", "anti-forgery token or cookie is missing")
	refused("no cookie", newBrowser(t), form, "allow", "anti-forgery token or cookie is missing")
	refused("another browser's token", victim, with(csrfField, attackerForm.Get(csrfField)), "allow", "does not match")
	refused("the victim's token in the attacker's browser", attacker, form, "allow", "does not match")
	refused("changed state", victim, with("state", "other"), "allow", "does not match")
	refused("added code_challenge", victim, with("code_challenge", "x-challenge-x-challenge-x-challenge-x-chall"), "allow", "does not match")
	refused("altered token", victim, with(csrfField, token[:len(token)-2]+"xx"), "allow", "does not match")
	refused("garbage token", victim, with(csrfField, "not-a-token"), "allow", "does not match")

	// Tokens signed with another key, or expired, for the right browser
	// and request.
	u, _ := url.Parse(e.URL + "/restapi/oauth/authorize")
	var secret string
	for _, c := range victim.Jar.Cookies(u) {
		if c.Name == csrfCookie {
			secret = c.Value
		}
	}
	ar := &authRequest{responseType: "code", clientID: e.full.ID, redirect: authCallback, state: "st-1"}
	claims := csrfClaims{Browser: hashString(secret), Request: ar.requestBinding()}
	good, err := cursor.Sign(e.Config.CursorKey, e.full.ID, csrfKind, claims, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if good == "" || secret == "" {
		t.Fatal("no secret")
	}
	foreign, _ := cursor.Sign([]byte("another key of thirty-two bytes!"), e.full.ID, csrfKind, claims, time.Now().Add(time.Minute))
	refused("another key", victim, with(csrfField, foreign), "allow", "does not match")
	otherApp, _ := cursor.Sign(e.Config.CursorKey, e.logOnly.ID, csrfKind, claims, time.Now().Add(time.Minute))
	refused("signed for another app", victim, with(csrfField, otherApp), "allow", "does not match")
	expired, _ := cursor.Sign(e.Config.CursorKey, e.full.ID, csrfKind, claims, time.Now().Add(-time.Minute))
	refused("expired", victim, with(csrfField, expired), "allow", "expired")

	// The genuine form: a wrong password shows the page again with a
	// token that works; deny and allow go back to the client.
	status, _, body := submit(t, e, victim, with(csrfField, good), "wrong", "allow")
	if status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", status, body)
	}
	again := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		again.Set(m[1], htmlUnescape(m[2]))
	}
	if again.Get(csrfField) == "" {
		t.Fatalf("no token on the page shown again: %s", body)
	}
	if status, loc, _ := submit(t, e, victim, form, httptestenv.Password, "deny"); status != http.StatusFound || !strings.Contains(loc, "error=access_denied") {
		t.Fatalf("deny: %d %s", status, loc)
	}
	status, loc, body := submit(t, e, victim, again, httptestenv.Password, "allow")
	if status != http.StatusFound || !strings.HasPrefix(loc, authCallback+"?code=cvac_") {
		t.Fatalf("allow: %d %s %s", status, loc, body)
	}
}

// authCode signs the admin in through a fresh browser and returns the code.
func authCode(t *testing.T, e *rcEnv) string {
	t.Helper()
	br := newBrowser(t)
	_, form := consentForm(t, e, br, nil)
	status, loc, body := submit(t, e, br, form, httptestenv.Password, "allow")
	u, err := url.Parse(loc)
	if status != http.StatusFound || err != nil || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q %s", status, loc, body)
	}
	return u.Query().Get("code")
}

func (e *rcEnv) exchangeCode(t *testing.T, code string) *rcResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {authCallback}}
	return e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form.Encode(), e.full)
}

func (e *rcEnv) refresh(t *testing.T, rt string) *rcResponse {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	return e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form.Encode(), e.full)
}

// wantOAU checks a RingCentral token error body: 400, error and errorCode.
func wantOAU(t *testing.T, r *rcResponse, wantErr, wantCode string) map[string]any {
	t.Helper()
	m := r.want(t, 400).Map(t)
	items, _ := m["errors"].([]any)
	if len(items) != 1 || m["error"] != wantErr || items[0].(map[string]any)["errorCode"] != wantCode {
		t.Fatalf("error body: %s", r.Body)
	}
	return m
}

// TestAuthorizationCodeReuseRevokesTokens: a code exchanged a second time
// is refused with OAU-140 and every token issued from it, refresh tokens
// rotated since included, is revoked (RFC 6749 §4.1.2), audited once;
// the user's other tokens stay valid.
func TestAuthorizationCodeReuseRevokesTokens(t *testing.T) {
	e := newRC(t, Options{})
	other := e.access(t, e.full, "admin") // the same user's password-grant token

	// Exchange, use, replay: the access token is dead, its refresh
	// token refused.
	code := authCode(t, e)
	tr := e.exchangeCode(t, code).want(t, 200).Map(t)
	at, rt := tr["access_token"].(string), tr["refresh_token"].(string)
	e.get(t, logPath, at).want(t, 200)
	m := wantOAU(t, e.exchangeCode(t, code), "invalid_grant", "OAU-140")
	if d, _ := m["error_description"].(string); !strings.Contains(d, "already used") || !strings.Contains(d, "revoked") {
		t.Fatalf("description: %v", m["error_description"])
	}
	if body := e.get(t, logPath, at).want(t, 401).Map(t); body["errors"].([]any)[0].(map[string]any)["errorCode"] != "OAU-213" {
		t.Fatalf("revoked access token: %v", body)
	}
	wantOAU(t, e.refresh(t, rt), "invalid_grant", "OAU-140")
	e.get(t, logPath, other).want(t, 200)

	// Tokens rotated from the code's refresh token go too.
	code = authCode(t, e)
	tr = e.exchangeCode(t, code).want(t, 200).Map(t)
	tr2 := e.refresh(t, tr["refresh_token"].(string)).want(t, 200).Map(t)
	at2, rt2 := tr2["access_token"].(string), tr2["refresh_token"].(string)
	e.get(t, logPath, at2).want(t, 200)
	wantOAU(t, e.exchangeCode(t, code), "invalid_grant", "OAU-140")
	e.get(t, logPath, at2).want(t, 401)
	e.get(t, logPath, tr["access_token"].(string)).want(t, 401)
	wantOAU(t, e.refresh(t, rt2), "invalid_grant", "OAU-140")
	e.get(t, logPath, other).want(t, 200)

	// One revocation record per code, in the code's tenant; a third
	// exchange changes nothing.
	wantOAU(t, e.exchangeCode(t, code), "invalid_grant", "OAU-140")
	var reuse int
	for _, r := range e.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EventTypes: []string{callvault.EventRevoke}}) {
		if strings.Contains(r.Details, "authorization code reuse") {
			reuse++
		}
	}
	if reuse != 2 {
		t.Fatalf("%d code reuse revocation records, want 2", reuse)
	}

	// The use record is not a credential.
	if rec, err := e.Store.Token(context.Background(), codeUseHash(credential.Hash(code))); err != nil || rec.Kind != tokenCodeUse || rec.TenantID != "acme" {
		t.Fatalf("use record: %+v %v", rec, err)
	}
}

// TestAuthorizationCodeReplayInFlight: a replay that comes while the first
// exchange has consumed the code but not yet issued its tokens finds no
// use record and leaves one, revoked, so the first exchange issues nothing.
func TestAuthorizationCodeReplayInFlight(t *testing.T) {
	e := newRC(t, Options{})
	code := authCode(t, e)
	ctx := context.Background()
	codeTok, err := e.Store.Token(ctx, credential.Hash(code))
	if err != nil {
		t.Fatal(err)
	}
	// The replay, in the first exchange's window.
	f := &Face{s: e.Server}
	oe := f.codeReused(httptest.NewRequest(http.MethodPost, "/restapi/oauth/token", nil), e.full, codeTok)
	if oe == nil || oe.Code != "invalid_grant" {
		t.Fatalf("replay: %+v", oe)
	}
	use, err := e.Store.Token(ctx, codeUseHash(codeTok.Hash))
	if err != nil || use.Kind != tokenCodeUse || use.RevokedAt.IsZero() || use.TenantID != "acme" {
		t.Fatalf("use record after the replay: %+v %v", use, err)
	}
	// The first exchange goes on (the code is still unconsumed here, so
	// it passes every check) and issues nothing.
	m := wantOAU(t, e.exchangeCode(t, code), "invalid_grant", "OAU-140")
	if m["access_token"] != nil {
		t.Fatalf("tokens issued: %v", m)
	}
}

// TestAuthorizationCodeConcurrentExchanges: of concurrent exchanges of one
// code at most one gets tokens, and those are revoked by the others.
func TestAuthorizationCodeConcurrentExchanges(t *testing.T) {
	e := newRC(t, Options{})
	code := authCode(t, e)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {authCallback}}.Encode()
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	bodies := make([][]byte, 8)
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/restapi/oauth/token", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e.full.ID, e.secrets[e.full.ID])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			bodies[i], _ = io.ReadAll(res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	ok := 0
	for i, st := range statuses {
		switch st {
		case 200:
			ok++
			r := &rcResponse{Status: st, Body: bodies[i]}
			e.get(t, logPath, r.Map(t)["access_token"].(string)).want(t, 401)
		case 400:
			wantOAU(t, &rcResponse{Status: st, Body: bodies[i]}, "invalid_grant", "OAU-140")
		default:
			t.Fatalf("exchange %d: %d %s", i, st, bodies[i])
		}
	}
	if ok > 1 {
		t.Fatalf("%d exchanges of one code succeeded", ok)
	}
}

// TestAuthorizeCSRFCookieHTTPS: behind an https base URL the browser
// secret is a __Host- cookie: Secure, Path=/.
func TestAuthorizeCSRFCookieHTTPS(t *testing.T) {
	env := httptestenv.New(t, func(c *cvhttp.Config) {
		c.Faces = []cvhttp.Face{New(Options{Limits: generous})}
		c.BaseURL = "https://rc.example"
	})
	env.MustTenant(t, "acme", "")
	app, _ := env.MustApp(t, "acme", "Secure App", rcGrants, callScopes, authCallback)
	q := url.Values{"response_type": {"code"}, "client_id": {app.ID}, "redirect_uri": {authCallback}}
	res, err := http.Get(env.URL + "/restapi/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cs := res.Cookies()
	if res.StatusCode != 200 || len(cs) != 1 || cs[0].Name != csrfCookieSecure || !cs[0].Secure || !cs[0].HttpOnly ||
		cs[0].Path != "/" || cs[0].Domain != "" || cs[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("%d cookies %+v", res.StatusCode, cs)
	}
}

// TestRefusedCodeExchange: a refused authorization_code exchange is
// audited as a token refusal in the app's tenant, like every refused
// grant, and counts as a failed token request: after the server's limit
// (10 per client) the client is blocked, even with a good password.
func TestRefusedCodeExchange(t *testing.T) {
	e := newRC(t, Options{})
	for i := range 10 {
		r := e.exchangeCode(t, credential.New(prefixCode)) // well formed, never issued
		m := wantOAU(t, r, "invalid_grant", "OAU-140")
		if i == 0 {
			recs := e.MustAudit(t, callvault.AuditFilter{TenantID: "acme", RequestID: r.Header.Get("RCRequestId")})
			if len(recs) != 1 || recs[0].EventType != callvault.EventRefuse || recs[0].Service != callvault.AuditAuth ||
				!strings.Contains(recs[0].Details, `"grant":"authorization_code"`) {
				t.Fatalf("audit of a refused code exchange (%v): %+v", m, recs)
			}
		}
	}
	form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {httptestenv.Password}}
	r := e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form.Encode(), e.full)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("after 10 refused code exchanges, a password grant of the same client: %d %s, want 429", r.Status, r.Body)
	}
}

// failIssuing is a store whose next transaction that issues an access
// token fails (after its writes, so they are rolled back), once armed.
type failIssuing struct {
	callvault.Store
	armed atomic.Bool
}

type watchTx struct {
	callvault.Tx
	issued *bool
}

func (t watchTx) CreateToken(x *callvault.Token) error {
	if x.Kind == callvault.TokenAccess {
		*t.issued = true
	}
	return t.Tx.CreateToken(x)
}

func (s *failIssuing) Update(ctx context.Context, fn func(tx callvault.Tx) error) error {
	return s.Store.Update(ctx, func(tx callvault.Tx) error {
		issued := false
		if err := fn(watchTx{Tx: tx, issued: &issued}); err != nil {
			return err
		}
		if issued && s.armed.CompareAndSwap(true, false) {
			return callvault.Errorf(callvault.EUnavailable, "injected store failure")
		}
		return nil
	})
}

// TestCodeExchangeStoreFailure: when the transaction that issues a code's
// tokens fails, the code is not spent: the 503 says retry, and the retry
// gets the tokens (the code is consumed in that same transaction).
func TestCodeExchangeStoreFailure(t *testing.T) {
	var fs *failIssuing
	e := newRC(t, Options{}, func(c *cvhttp.Config) {
		fs = &failIssuing{Store: c.Store}
		c.Store = fs
	})
	code := authCode(t, e)
	fs.armed.Store(true)
	r := e.exchangeCode(t, code)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("exchange with the store failing: %d %s, want 503", r.Status, r.Body)
	}
	if fs.armed.Load() {
		t.Fatal("the injected failure did not happen")
	}
	m := e.exchangeCode(t, code).want(t, 200).Map(t)
	e.get(t, logPath, m["access_token"].(string)).want(t, 200)
}
