package http

import (
	"context"
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
)

// Face mounts an API face on the server: it returns the face's routes,
// each declaring its action like a native route (and usually its own
// Errors renderer). Faces translate wire shapes only: they authenticate,
// decide and read through the Server's exported methods below.
type Face func(s *Server) []Route

// Store is the server's store, for faces reading data.
func (s *Server) Store() callvault.Store { return s.store }

// BaseURL is the public base URL absolute URIs start with.
func (s *Server) BaseURL() string { return s.cfg.BaseURL }

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.now() }

// RequestLimiter counts requests against the faces' request limits: in
// the store, shared by every node, when the store can share counters
// (callvault.RequestRateStore), in this node's memory otherwise.
func (s *Server) RequestLimiter() RequestLimiter { return s.cfg.RequestLimiter }

// AccessTTL is the lifetime of the access tokens the server issues.
func (s *Server) AccessTTL() time.Duration { return s.cfg.AccessTTL }

// Blobs returns the recording content store, or a 503 error when the
// server has none.
func (s *Server) Blobs() (blob.Store, error) { return s.blobs() }

// AuditRead records a successful data read (event view or export) when
// read auditing is on, durably, before the response goes out; details may
// be nil.
func (s *Server) AuditRead(ctx context.Context, c *Call, event, entityType, key, name string, details any) error {
	return s.auditRead(ctx, c, event, entityType, key, name, details)
}

// OwnTenant, as a route Resource's TenantID, targets the credential's own
// tenant (a face's "~" account).
const OwnTenant = ownTenantMarker

// Issue issues an access token, and a refresh token when app may redeem
// one, to userID of tenant with scopes, recorded as grant and audited like
// every issuance: the end of a face's own grant (RingCentral's
// authorization_code, whose code the face keeps and checks).
func (s *Server) Issue(r *http.Request, app *callvault.App, tenant, userID string, scopes []callvault.Permission, grant string) (*TokenResponse, *OAuthError) {
	return s.issue(r.Context(), r, app, tenant, userID, scopes, grant, "", true)
}

// IssueWithin is Issue with within run first in the issuing transaction,
// given the family id the new tokens get (refresh rotation keeps it): a
// face records there what the tokens come from, e.g. the authorization
// code they were exchanged for, so that RevokeTokenFamily can take them
// back. An error of within rolls the issuance back (nothing is issued or
// audited); an *OAuthError from within is returned as is, any other error
// as 503 temporarily_unavailable.
func (s *Server) IssueWithin(r *http.Request, app *callvault.App, tenant, userID string, scopes []callvault.Permission, grant string,
	within func(tx callvault.Tx, family string) error) (*TokenResponse, *OAuthError) {
	return s.issueWithin(r.Context(), r, app, tenant, userID, scopes, grant, "", true, within)
}
