// Package eightbyeight is callvault's 8x8-compatible face: the
// Administration Audit Records API (GET /administration/audit/v1/audits,
// authenticated by an x-api-key) and Work Analytics call detail records
// (POST /analytics/work/v1/oauth/token with an app's 8x8-apikey and a
// user's password; GET /analytics/work/v2/call-records and call-legs
// behind seed 000's gate), their wire shapes and 8x8's error bodies.
// It is a translation only: authentication and every decision come from
// the server's machinery (internal/http, internal/access), all data from
// the Store.
//
// Vocabulary: 8x8's customerId is a callvault tenant; 8x8's audit
// "service" is callvault's audit stream: platform (administrative
// changes, as at 8x8), and callvault's further streams data (views and
// exports of call data), auth (credentials issued, refused, revoked) and
// access (requests the permission engine denied, with their trace).
package eightbyeight

import (
	"net/http"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// Actions of the face, decided by the engine.
var (
	// actAudit reads the tenant's audit trail (audit.read), as the native
	// GET /v1/tenants/{tenant}/audit does.
	actAudit = access.Action{Name: "8x8.audit.read", Permission: callvault.PermAuditRead}
)

// Face is the 8x8 face mounted on a server.
type Face struct {
	s *cvhttp.Server
}

// New returns the face as an http.Face for Config.Faces.
func New() cvhttp.Face {
	return func(s *cvhttp.Server) []cvhttp.Route {
		f := &Face{s: s}
		return f.routes()
	}
}

// Paths of the face.
const (
	AuditPath       = "/administration/audit/v1/audits" // Audit Records
	TokenPath       = "/analytics/work/v1/oauth/token"  // Work Analytics token
	CallRecordsPath = "/analytics/work/v2/call-records" // Work Analytics CDR
	CallLegsPath    = "/analytics/work/v2/call-legs"    // Work Analytics call legs
)

// ownTenant targets the credential's own tenant.
func ownTenant(*http.Request) (access.Resource, error) {
	return access.Resource{TenantID: cvhttp.OwnTenant}, nil
}

// routes is the face's route table; every authenticated route declares
// its action, and the face's renderers turn every error into 8x8's body.
func (f *Face) routes() []cvhttp.Route {
	return []cvhttp.Route{
		{Method: "GET", Pattern: AuditPath, Action: actAudit, Resource: apiKeyOnly,
			Errors: renderAudit, Handle: f.handleAudits},
		{Method: "POST", Pattern: TokenPath, Public: true, Errors: renderCDR, Handle: f.handleToken},
		{Method: "GET", Pattern: CallRecordsPath, Action: actCDRRoute, Resource: ownTenant, Errors: renderCDR, Handle: f.handleCDR(false)},
		{Method: "GET", Pattern: CallLegsPath, Action: actCDRRoute, Resource: ownTenant, Errors: renderCDR, Handle: f.handleCDR(true)},
	}
}

// apiKeyOnly targets the credential's own tenant and admits only the
// x-api-key header, the Audit Records API's only authentication.
func apiKeyOnly(r *http.Request) (access.Resource, error) {
	if r.Header.Get("X-API-Key") == "" || r.Header.Get("Authorization") != "" {
		return access.Resource{}, &cvhttp.AuthError{Reason: "the Audit Records API authenticates by the x-api-key header only",
			Hint: "send x-api-key: <API key of the tenant holding audit.read>, created at POST /v1/tenants/{tenant}/api-keys, and no Authorization header"}
	}
	return access.Resource{TenantID: cvhttp.OwnTenant}, nil
}
