// Package ringcentral is callvault's RingCentral-compatible Call Log face:
// the /restapi/... routes the official RingCentral SDKs call (OAuth token
// and revoke, account and extension call log, active calls, recordings),
// their wire shapes and RingCentral's error bodies. It is a translation
// only: authentication and every decision come from the server's
// machinery (internal/http, internal/access), all data from the Store.
//
// Vocabulary: an account is a callvault tenant, an extension a user (its
// id is the user id; "~" is the token's own account or user). RingCentral
// permission names map onto callvault permissions: ReadCallLog is
// calls.read (and active_calls.read for live calls), ReadCallRecording is
// recordings.read, and the user permission FullCompanyCallLog is
// calls.read.all.
package ringcentral

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// RingCentral permission names.
const (
	ReadCallLog        = "ReadCallLog"
	ReadCallRecording  = "ReadCallRecording"
	FullCompanyCallLog = "FullCompanyCallLog"
)

// vendorName maps a callvault permission to its RingCentral name ("" when
// RingCentral has none).
func vendorName(p callvault.Permission) string {
	switch p {
	case callvault.PermCallsRead, callvault.PermActiveCallsRead:
		return ReadCallLog
	case callvault.PermRecordingsRead:
		return ReadCallRecording
	case callvault.PermCallsReadAll:
		return FullCompanyCallLog
	case callvault.PermCallsWrite:
		return "EditCallLog"
	case callvault.PermAnalyticsRead, callvault.PermAnalyticsExport:
		return "Analytics"
	case callvault.PermAuditRead:
		return "ReadAuditTrail"
	case callvault.PermAdminRead:
		return "ReadAccounts"
	case callvault.PermAdminWrite:
		return "EditAccounts"
	}
	return ""
}

// scopeString is a token's scope as RingCentral app permission names,
// space-separated. FullCompanyCallLog is a user permission, never an app
// scope, so it is not listed.
func scopeString(perms []callvault.Permission) string {
	var names []string
	for _, p := range perms {
		n := vendorName(p)
		if n == "" || n == FullCompanyCallLog || slices.Contains(names, n) {
			continue
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

// Actions of the face, decided by the engine.
var (
	// actCallLog reads call records (ReadCallLog); ownership makes another
	// extension's log, and the account's, need FullCompanyCallLog.
	actCallLog = access.Action{Name: "ringcentral.call-log.read", Permission: callvault.PermCallsRead,
		Owned: true, SiteScoped: true, Retention: true}
	// actActiveCalls reads live calls (ReadCallLog).
	actActiveCalls = access.Action{Name: "ringcentral.active-calls.read", Permission: callvault.PermActiveCallsRead,
		Owned: true, SiteScoped: true}
	// actRecording reads recording metadata and content (ReadCallRecording).
	actRecording = access.Action{Name: "ringcentral.recording.read", Permission: callvault.PermRecordingsRead,
		Owned: true, SiteScoped: true, Retention: true}
	// actRecordingMeta is the route action of recording metadata: ReadCallLog
	// first, then actRecording on the recording.
	actRecordingMeta = access.Action{Name: "ringcentral.recording.meta", Permission: callvault.PermCallsRead}
)

// accountOwner is the owner extension the engine is asked about for an
// account-wide read: nobody's extension, so only FullCompanyCallLog
// (calls.read.all) or a service principal reads it.
const accountOwner = "(account)"

// Options configure the face.
type Options struct {
	// Limits are requests per Window per rate-limit group (Light, Medium,
	// Heavy, Auth) for every app and user; RingCentral's defaults (50, 40,
	// 10, 5 per minute) for groups not set.
	Limits map[string]int
	// AppLimits override Limits for one app (by client id).
	AppLimits map[string]map[string]int
	// Window is the rate-limit window (60 s when 0); a client over its
	// limit waits until its window ends (Retry-After).
	Window time.Duration
}

// Face is the RingCentral face mounted on a server.
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

// routes is the face's route table. Every authenticated route declares its
// action; the wrapper authenticates and decides it, and the face's
// renderer turns every error into RingCentral's body.
func (f *Face) routes() []cvhttp.Route {
	const acc = "/restapi/v1.0/account/{accountId}"
	const ext = acc + "/extension/{extensionId}"
	route := func(method, pattern, group string, a access.Action, h handler) cvhttp.Route {
		return cvhttp.Route{Method: method, Pattern: pattern, Action: a, Resource: accountResource,
			Errors: f.renderer(group), Handle: f.limited(group, h)}
	}
	content := route("GET", acc+"/recording/{recordingId}/content", groupHeavy, actRecording, f.handleRecordingContent)
	content.QueryToken = "access_token"
	return []cvhttp.Route{
		{Method: "POST", Pattern: "/restapi/oauth/token", Public: true, Errors: f.renderer(groupAuth), Handle: f.handleToken},
		{Method: "GET", Pattern: "/restapi/oauth/authorize", Public: true, Errors: f.renderer(groupAuth), Handle: f.handleAuthorize},
		{Method: "POST", Pattern: "/restapi/oauth/authorize", Public: true, Errors: f.renderer(groupAuth), Handle: f.handleAuthorizeSubmit},
		{Method: "POST", Pattern: "/restapi/oauth/revoke", Public: true, Errors: f.renderer(groupAuth), Handle: f.handleRevoke},
		route("GET", acc+"/call-log", groupHeavy, actCallLog, f.handleCallLog(false)),
		route("GET", acc+"/call-log/{callRecordId}", groupHeavy, actCallLog, f.handleCallRecord(false)),
		route("GET", ext+"/call-log", groupHeavy, actCallLog, f.handleCallLog(true)),
		route("GET", ext+"/call-log/{callRecordId}", groupHeavy, actCallLog, f.handleCallRecord(true)),
		route("GET", acc+"/active-calls", groupHeavy, actActiveCalls, f.handleActiveCalls(false)),
		route("GET", ext+"/active-calls", groupHeavy, actActiveCalls, f.handleActiveCalls(true)),
		route("GET", acc+"/recording/{recordingId}", groupHeavy, actRecordingMeta, f.handleRecordingMeta),
		content,
		{Method: "GET", Pattern: "/restapi/", Public: true, Errors: f.renderer(groupLight), Handle: f.handleUnknown},
	}
}

type handler = func(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error

// accountResource targets the {accountId} tenant; "~" is the token's own.
func accountResource(r *http.Request) (access.Resource, error) {
	id := r.PathValue("accountId")
	if id == "~" {
		id = cvhttp.OwnTenant
	}
	return access.Resource{TenantID: id}, nil
}

// handleUnknown answers any other /restapi path: 404 CMN-102.
func (f *Face) handleUnknown(w http.ResponseWriter, r *http.Request, _ *cvhttp.Call) error {
	return &vendorError{Status: http.StatusNotFound, Code: "CMN-102",
		Message: "Resource for parameter [path] is not found", Param: "path", Value: r.URL.Path,
		Hint: "this server implements the Call Log API: /restapi/oauth/token, /restapi/v1.0/account/{accountId}[/extension/{extensionId}]/call-log, active-calls and recording"}
}
