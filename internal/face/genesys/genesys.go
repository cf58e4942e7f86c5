// Package genesys is callvault's Genesys Cloud-compatible face: the
// /oauth/token and /api/v2/... routes the official Genesys Cloud SDKs call
// (client credentials, organizations/me, audit queries realtime and
// asynchronous, raw analytics events, conversation details), their wire
// shapes and Genesys Cloud's ErrorBody. It is a translation only:
// authentication and every decision come from the server's machinery
// (internal/http, internal/access), all data from the Store.
//
// Vocabulary: an organization (org) is a callvault tenant, an OAuth client
// an app. Scopes map onto callvault permissions: analytics:read (and
// analytics, analytics:readonly) is analytics.read, analytics:export is
// analytics.export, audits:readonly (audits:audit:view) is audit.read.
//
// Multi-org: an app of org A gets a token for org B by adding the form
// field tenant=B to its client-credentials token request (at /oauth/token
// or TokenPath). GET /api/v2/orgauthorization/trustors lists the orgs
// whose consent admits the app. The token is
// issued only when B's consent (POST /v1/tenants/B/consents) admits the
// app, with the consent's scopes, and the app's service principal acts in
// B with the consent's roles.
//
// Every response carries ININ-Correlation-Id and
// x-genesys-cloud-request-id: callvault's request id, which finds the
// request (and a denial's whole decision trace) through the audit APIs.
package genesys

import (
	"net/http"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Genesys Cloud scope names.
const (
	ScopeAnalyticsRead   = "analytics:read"
	ScopeAnalyticsExport = "analytics:export"
	ScopeAuditsRead      = "audits:readonly"
)

// vendorName maps a callvault permission to its Genesys Cloud scope ("" when
// the face has none).
func vendorName(p callvault.Permission) string {
	switch p {
	case callvault.PermAnalyticsRead:
		return ScopeAnalyticsRead
	case callvault.PermAnalyticsExport:
		return ScopeAnalyticsExport
	case callvault.PermAuditRead:
		return ScopeAuditsRead
	}
	return ""
}

// permName is the Genesys name of a callvault permission, or the
// permission itself when Genesys has none.
func permName(p string) string {
	if n := vendorName(callvault.Permission(p)); n != "" {
		return n
	}
	return p
}

// Actions of the face, decided by the engine.
var (
	actOrg         = access.Action{Name: "genesys.organization.read"}
	actAudit       = access.Action{Name: "genesys.audits.query", Permission: callvault.PermAuditRead}
	actEvents      = access.Action{Name: "genesys.analytics.events.read", Permission: callvault.PermAnalyticsExport, Retention: true}
	actConversions = access.Action{Name: "genesys.analytics.conversations.details.query", Permission: callvault.PermAnalyticsRead, Retention: true}
)

// Options configure the face.
type Options struct {
	// RequestsPerMinute is the number of API requests one client (app, or
	// user) may make in one org per Window (DefaultRequestsPerMinute when
	// 0, no limit when negative); over it the answer is 429
	// too.many.requests.retry.after with Retry-After.
	RequestsPerMinute int
	// Window is the rate-limit window (a minute when 0).
	Window time.Duration
}

// Face is the Genesys Cloud face mounted on a server.
type Face struct {
	s      *cvhttp.Server
	limits *limiter
}

// New returns the face as an http.Face for Config.Faces.
func New(o Options) cvhttp.Face {
	return func(s *cvhttp.Server) []cvhttp.Route {
		f := &Face{s: s, limits: newLimiter(o, s.RequestLimiter())}
		return f.routes()
	}
}

type handler = func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error

// TokenPath is the face's own token endpoint. POST /oauth/token, where the
// SDKs log in when pointed at callvault with setGateway or BasePath, is
// the native token endpoint, whose body is Genesys Cloud's AuthResponse
// (plus scope and tenant) and whose errors are {error, error_description};
// TokenPath answers the same grant with the vendor's AuthErrorResponse and
// the correlation headers (the JS SDK reaches it with
// setGateway({..., path_params_login: 'genesys'})).
const TokenPath = "/genesys/oauth/token"

// routes is the face's route table: every authenticated route declares its
// action and targets the token's own org.
func (f *Face) routes() []cvhttp.Route {
	route := func(method, pattern string, a access.Action, h handler) cvhttp.Route {
		return cvhttp.Route{Method: method, Pattern: pattern, Action: a, Resource: ownOrg,
			Errors: render, Handle: correlated(f.limited(h))}
	}
	return []cvhttp.Route{
		{Method: "POST", Pattern: TokenPath, Public: true, Errors: render, Handle: correlated(f.handleToken)},
		route("GET", "/api/v2/organizations/me", actOrg, f.handleOrg),
		route("GET", "/api/v2/orgauthorization/trustors", actTrustors, f.handleTrustors),
		route("POST", "/api/v2/audits/query/realtime", actAudit, f.handleRealtime),
		route("POST", "/api/v2/audits/query", actAudit, f.handleAuditSubmit),
		route("GET", "/api/v2/audits/query/{transactionId}", actAudit, f.handleAuditStatus),
		route("GET", "/api/v2/audits/query/{transactionId}/results", actAudit, f.handleAuditResults),
		route("GET", "/api/v2/analytics/events", actEvents, f.handleEvents),
		route("POST", "/api/v2/analytics/conversations/details/query", actConversions, f.handleDetails),
		{Method: "GET", Pattern: "/api/v2/", Public: true, Errors: render, Handle: correlated(handleUnknown)},
		{Method: "POST", Pattern: "/api/v2/", Public: true, Errors: render, Handle: correlated(handleUnknown)},
	}
}

// ownOrg targets the token's own org: a Genesys token is bound to one org.
func ownOrg(*http.Request) (access.Resource, error) {
	return access.Resource{TenantID: cvhttp.OwnTenant}, nil
}

// correlated sets the correlation headers before the handler runs.
func correlated(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
		setCorrelation(w, r)
		return h(w, r, c)
	}
}

// setCorrelation sets ININ-Correlation-Id and x-genesys-cloud-request-id
// to the request id.
func setCorrelation(w http.ResponseWriter, r *http.Request) {
	rid := cvhttp.RequestID(r.Context())
	w.Header().Set("ININ-Correlation-Id", rid)
	w.Header().Set("x-genesys-cloud-request-id", rid)
}

// handleUnknown answers any other /api/v2 path: 404 not.found.
func handleUnknown(w http.ResponseWriter, r *http.Request, _ *cvhttp.Call) error {
	return &vendorError{Status: http.StatusNotFound, Code: "not.found",
		Message: "The requested resource " + strings.TrimSpace(r.URL.Path) + " was not found.",
		Hint:    "this server implements /oauth/token, /api/v2/organizations/me, /api/v2/audits/query[/realtime], /api/v2/analytics/events and /api/v2/analytics/conversations/details/query"}
}
