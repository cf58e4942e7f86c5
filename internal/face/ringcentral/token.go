package ringcentral

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// tokenResponse is RingCentral's token body: numbers for the lifetimes,
// scope as RingCentral permission names, owner_id the user.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope"`
	OwnerID               string `json:"owner_id"`
	EndpointID            string `json:"endpoint_id"`
}

// oauthErrorBody is RingCentral's token endpoint error.
type oauthErrorBody struct {
	Error       string      `json:"error"`
	Description string      `json:"error_description"`
	Errors      []errorItem `json:"errors"`
	RequestID   string      `json:"requestId,omitempty"`
}

// oauthCodes maps RFC 6749 errors to RingCentral's OAU codes.
var oauthCodes = map[string]string{
	"invalid_request":        "OAU-120",
	"invalid_client":         "OAU-123",
	"invalid_grant":          "OAU-140",
	"unauthorized_client":    "OAU-251",
	"unsupported_grant_type": "OAU-250",
	"invalid_scope":          "OAU-160",
}

// writeOAuth writes a token endpoint error: 400 with the OAU body (as
// RingCentral answers every token error), 429 CMN-301 or 503 as they are.
func writeOAuth(w http.ResponseWriter, r *http.Request, oe *cvhttp.OAuthError) {
	rid := cvhttp.RequestID(r.Context())
	h := w.Header()
	h.Set("RCRequestId", rid)
	switch oe.Status {
	case http.StatusTooManyRequests:
		retryHeader(w, int((oe.RetryAfter()+time.Second-1)/time.Second))
		b := one("CMN-301", "Request rate exceeded")
		b.Hint, b.RequestID = oe.Description, rid
		writeJSON(w, http.StatusTooManyRequests, b)
		return
	case http.StatusServiceUnavailable:
		retryHeader(w, int((oe.RetryAfter()+time.Second-1)/time.Second))
		b := one("CMN-211", "Service is temporarily unavailable")
		b.Hint, b.RequestID = oe.Description, rid
		writeJSON(w, http.StatusServiceUnavailable, b)
		return
	}
	code := oauthCodes[oe.Code]
	if code == "" {
		code = "OAU-120"
	}
	h.Set("Pragma", "no-cache")
	writeJSON(w, http.StatusBadRequest, oauthErrorBody{Error: oe.Code, Description: oe.Description,
		Errors: []errorItem{{ErrorCode: code, Message: oe.Description}}, RequestID: rid})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// handleToken is POST /restapi/oauth/token: client authentication and the
// grants are the server's (internal/http); the face resolves RingCentral's
// usernames and renders RingCentral's bodies.
func (f *Face) handleToken(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	w.Header().Set("RCRequestId", c.RequestID)
	key := "addr:" + clientAddr(r)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		f.limits.take(r, w, key, "", groupAuth)
		writeOAuth(w, r, &cvhttp.OAuthError{Status: 400, Code: "invalid_request",
			Description: "the body must be application/x-www-form-urlencoded"})
		return nil
	}
	if err := r.ParseForm(); err != nil {
		f.limits.take(r, w, key, "", groupAuth)
		writeOAuth(w, r, &cvhttp.OAuthError{Status: 400, Code: "invalid_request", Description: "the form body is malformed or too large"})
		return nil
	}
	app := ""
	if id, _, ok := r.BasicAuth(); ok {
		app = id
	} else {
		app = r.PostForm.Get("client_id")
	}
	wait, err := f.limits.take(r, w, "client:"+app+"/"+key, app, groupAuth)
	if err != nil { // not counted: refused (fail closed), as the server refuses what it cannot serve
		writeOAuth(w, r, &cvhttp.OAuthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the request could not be counted against its rate limit; retry later"})
		return nil
	}
	if wait > 0 {
		oe := &cvhttp.OAuthError{Status: http.StatusTooManyRequests, Code: "too_many_requests",
			Description: "more than " + w.Header().Get("X-Rate-Limit-Limit") + " token requests per window from this client"}
		retryHeader(w, int((wait+time.Second-1)/time.Second))
		writeOAuth(w, r, oe)
		return nil
	}
	cl, oe := f.s.AuthenticateClient(r)
	if oe != nil {
		writeOAuth(w, r, oe)
		return nil
	}
	// RingCentral's extras: scopes come from the app (RingCentral tokens
	// carry the app's permissions), lifetimes from the server.
	for _, k := range []string{"scope", "endpoint_id", "access_token_ttl", "refresh_token_ttl", "tenant"} {
		r.PostForm.Del(k)
	}
	switch r.PostForm.Get("grant_type") {
	case callvault.GrantPassword:
		if login := f.resolveUsername(r, cl); login != "" {
			r.PostForm.Set("username", login)
		}
	}
	var tr *cvhttp.TokenResponse
	if r.PostForm.Get("grant_type") == callvault.GrantAuthorizationCode {
		if tr, oe = f.exchangeCode(r, cl); oe != nil {
			f.s.GrantRefused(r, cl, callvault.GrantAuthorizationCode, oe)
		}
	} else {
		tr, oe = f.s.Grant(r, cl)
	}
	if oe != nil {
		writeOAuth(w, r, oe)
		return nil
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tr.AccessToken, TokenType: "bearer", ExpiresIn: tr.ExpiresIn,
		RefreshToken: tr.RefreshToken, RefreshTokenExpiresIn: tr.RefreshTokenExpiresIn, Scope: scopeString(tr.Scopes),
		OwnerID: tr.UserID, EndpointID: endpointID(cl.ID, tr.UserID)})
	return nil
}

// endpointID is a stable id of the app and user pair (RingCentral's
// endpoint_id names the client's device).
func endpointID(app, user string) string {
	sum := sha256.Sum256([]byte(app + "\x00" + user))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// resolveUsername turns RingCentral's username forms into a login of the
// app's home tenant: a login as is; "user*ext" or the extension field
// names the user by extension number; a phone number (callvault keeps no
// user phone numbers) is matched by its digits against extension numbers.
// It returns "" when nothing matches, leaving the grant to refuse it.
func (f *Face) resolveUsername(r *http.Request, app *callvault.App) string {
	ctx := r.Context()
	st := f.s.Store()
	user := r.PostForm.Get("username")
	ext := r.PostForm.Get("extension")
	if u, e, ok := strings.Cut(user, "*"); ok {
		user, ext = u, e
	}
	if ext == "" {
		if u, err := st.UserByLogin(ctx, app.TenantID, user); err == nil {
			return u.Login
		}
		ext = strings.TrimPrefix(user, "+")
	}
	users, err := st.Users(ctx, app.TenantID)
	if err != nil {
		return ""
	}
	for _, u := range users {
		if u.Extension != "" && u.Extension == ext {
			return u.Login
		}
	}
	return ""
}

// handleRevoke is POST /restapi/oauth/revoke: the token from the form, the
// query or a JSON body ({"token": ...}); always 200, as RingCentral tells
// clients to ignore revocation errors.
func (f *Face) handleRevoke(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	w.Header().Set("RCRequestId", c.RequestID)
	f.limits.take(r, w, "addr:"+clientAddr(r), "", groupAuth)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	tok := r.URL.Query().Get("token")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var in struct {
			Token string `json:"token"`
		}
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &in) == nil && in.Token != "" {
			tok = in.Token
		} else if s := jsonishToken(string(b)); s != "" {
			tok = s
		}
		r.PostForm = map[string][]string{}
	} else if err := r.ParseForm(); err == nil && r.PostForm.Get("token") != "" {
		tok = r.PostForm.Get("token")
	}
	if r.PostForm == nil {
		r.PostForm = map[string][]string{}
	}
	if tok != "" {
		if app, oe := f.s.AuthenticateClient(r); oe == nil {
			if err := f.s.RevokeToken(r, app, tok); err != nil {
				return err
			}
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// jsonishToken reads the token of {token: "..."}, the malformed JSON an
// old RingCentral client sends.
func jsonishToken(s string) string {
	_, v, ok := strings.Cut(s, "token")
	if !ok {
		return ""
	}
	_, v, ok = strings.Cut(v, `"`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}
