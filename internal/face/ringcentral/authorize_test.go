package ringcentral

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/http/httptestenv"
)

// TestAuthorizationCode runs the authorization_code grant end to end as a
// browser and a client would: GET the login and consent page, POST the
// form, follow the redirect, exchange the code (PKCE S256 and plain) and
// use the token; a wrong verifier, a reused code, a foreign redirect_uri
// and a wrong password are refused.
func TestAuthorizationCode(t *testing.T) {
	e := newRC(t, Options{})
	const cb = "https://app.example/callback"
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorizeURL := func(extra url.Values) string {
		q := url.Values{"response_type": {"code"}, "client_id": {e.full.ID}, "redirect_uri": {cb}, "state": {"xyz&1"}}
		for k, v := range extra {
			q[k] = v
		}
		return e.URL + "/restapi/oauth/authorize?" + q.Encode()
	}
	// login GETs the page, checks it, and posts its form with the
	// credentials; it returns the redirect's query.
	login := func(extra url.Values, password, decision string) (int, url.Values) {
		t.Helper()
		br := newBrowser(t)
		res, err := br.Get(authorizeURL(extra))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page := string(b)
		if res.StatusCode != 200 || !strings.Contains(page, "Call Log Reader") || !strings.Contains(page, "<li>ReadCallLog</li>") ||
			!strings.Contains(page, "<li>ReadCallRecording</li>") || !strings.Contains(page, `name="password"`) {
			t.Fatalf("consent page %d: %s", res.StatusCode, page)
		}
		form := url.Values{}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
			form.Set(m[1], htmlUnescape(m[2]))
		}
		form.Set("username", "admin")
		form.Set("password", password)
		form.Set("decision", decision)
		res, err = br.PostForm(e.URL+"/restapi/oauth/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound {
			return res.StatusCode, nil
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), cb+"?") {
			t.Fatalf("redirect to %q", res.Header.Get("Location"))
		}
		if loc.Query().Get("state") != "xyz&1" {
			t.Fatalf("state not echoed: %s", loc)
		}
		return res.StatusCode, loc.Query()
	}
	exchange := func(code, verifier string) *rcResponse {
		t.Helper()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cb}}
		if verifier != "" {
			form.Set("code_verifier", verifier)
		}
		return e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form.Encode(), e.full)
	}
	oauErr := func(r *rcResponse, wantErr string) {
		t.Helper()
		m := r.want(t, 400).Map(t)
		code, _ := m["errors"].([]any)[0].(map[string]any)["errorCode"].(string)
		if m["error"] != wantErr || !strings.HasPrefix(code, "OAU-") {
			t.Fatalf("error body: %s", r.Body)
		}
	}

	// PKCE S256.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	_, q := login(url.Values{"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}, httptestenv.Password, "allow")
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code: %v", q)
	}
	tr := exchange(code, verifier).want(t, 200).Map(t)
	if tr["owner_id"] != e.admin.ID || !strings.Contains(tr["scope"].(string), ReadCallLog) || tr["refresh_token"] == nil {
		t.Fatalf("token: %v", tr)
	}
	if got := ids(t, e.get(t, logPath, tr["access_token"].(string))); len(got) != 4 {
		t.Fatalf("call log with the code's token: %v", got)
	}
	oauErr(exchange(code, verifier), "invalid_grant") // reused

	// A wrong verifier; the code is spent by that attempt.
	_, q = login(url.Values{"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}, httptestenv.Password, "allow")
	oauErr(exchange(q.Get("code"), "wrong-verifier-wrong-verifier-wrong-verifier"), "invalid_grant")
	oauErr(exchange(q.Get("code"), verifier), "invalid_grant")
	// No verifier for a code with a challenge.
	_, q = login(url.Values{"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}, httptestenv.Password, "allow")
	oauErr(exchange(q.Get("code"), ""), "invalid_grant")

	// PKCE plain.
	_, q = login(url.Values{"code_challenge": {"plain-verifier-0123456789-0123456789-0123"}, "code_challenge_method": {"plain"}}, httptestenv.Password, "allow")
	exchange(q.Get("code"), "plain-verifier-0123456789-0123456789-0123").want(t, 200)

	// The code is bound to its client.
	_, q = login(nil, httptestenv.Password, "allow")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cb}}
	oauErr(e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form.Encode(), e.logOnly), "invalid_grant")

	// Deny; a wrong password shows the page again.
	if _, q = login(nil, httptestenv.Password, "deny"); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}
	if status, _ := login(nil, "wrong", "allow"); status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", status)
	}

	// A redirect_uri not registered: an error page, no redirect.
	res, err := noRedirect.Get(authorizeURL(url.Values{"redirect_uri": {"https://evil.example/cb"}}))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 || res.Header.Get("Location") != "" {
		t.Fatalf("foreign redirect_uri: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// An unsupported response_type goes back to the client.
	res, err = noRedirect.Get(authorizeURL(url.Values{"response_type": {"token"}}))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != 302 || loc.Query().Get("error") != "unsupported_response_type" {
		t.Fatalf("response_type=token: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The code is no bearer credential.
	_, q = login(nil, httptestenv.Password, "allow")
	e.get(t, logPath, q.Get("code")).want(t, 401)
}

// newBrowser is an HTTP client that keeps cookies and does not follow
// redirects, as a browser on the consent page.
func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// htmlUnescape undoes html/template's escaping of attribute values.
func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}
