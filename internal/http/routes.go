package http

import (
	"net/http"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
)

// Actions of the native API. Each route names one; the permission engine
// decides it. Keep one action per distinct capability a route exercises.
var (
	actSelf        = access.Action{Name: "self.read"}      // authenticated, any permission
	actExplain     = access.Action{Name: "access.explain"} // for another principal also needs admin.read, checked inside
	actTenantsList = access.Action{Name: "tenants.list", Permission: callvault.PermTenantsManage}
	actTenantsEdit = access.Action{Name: "tenants.write", Permission: callvault.PermTenantsManage}
	actAdminRead   = access.Action{Name: "admin.read", Permission: callvault.PermAdminRead}
	actAdminWrite  = access.Action{Name: "admin.write", Permission: callvault.PermAdminWrite}
	actAuditRead   = access.Action{Name: "audit.read", Permission: callvault.PermAuditRead}
)

// routeTable is the whole HTTP surface of the native API. A route without an
// action cannot be registered (wrap panics), so every route is covered by
// the authorization-matrix test.
func (s *Server) routeTable() []Route {
	installation := func(*http.Request) (access.Resource, error) { return access.Resource{}, nil }
	rs := []Route{
		{Method: "GET", Pattern: "/healthz", Public: true, Handle: s.handleHealthz},
		{Method: "GET", Pattern: "/readyz", Public: true, Handle: s.handleReadyz},

		{Method: "POST", Pattern: "/oauth/token", Public: true, Handle: s.handleToken},
		{Method: "POST", Pattern: "/oauth/revoke", Public: true, Handle: s.handleRevoke},
		{Method: "POST", Pattern: "/oauth/introspect", Public: true, Handle: s.handleIntrospect},

		{Method: "GET", Pattern: "/v1/me", Action: actSelf, Resource: s.ownTenant, Handle: s.handleMe},
		{Method: "POST", Pattern: "/v1/access/explain", Action: actExplain, Resource: s.ownTenant, Handle: s.handleExplain},

		{Method: "GET", Pattern: "/v1/tenants", Action: actTenantsList, Resource: installation, Handle: s.handleTenantList},
		{Method: "POST", Pattern: "/v1/tenants", Action: actTenantsEdit, Resource: installation, Handle: s.handleTenantCreate},
		{Method: "GET", Pattern: "/v1/tenants/{tenant}", Action: actAdminRead, Handle: s.handleTenantGet},
		{Method: "PATCH", Pattern: "/v1/tenants/{tenant}", Action: actTenantsEdit, Handle: s.handleTenantPatch},
		{Method: "DELETE", Pattern: "/v1/tenants/{tenant}", Action: actTenantsEdit, Handle: s.handleTenantDelete},
		{Method: "GET", Pattern: "/v1/tenants/{tenant}/settings", Action: actAdminRead, Handle: s.handleSettingsGet},
		{Method: "PATCH", Pattern: "/v1/tenants/{tenant}/settings", Action: actAdminWrite, Handle: s.handleSettingsPatch},

		{Method: "GET", Pattern: "/v1/tenants/{tenant}/audit", Action: actAuditRead, Handle: s.handleAuditQuery},
	}
	return append(append(rs, s.adminRoutes()...), s.callRoutes()...)
}

// ownTenant targets the credential's own tenant: routes about the caller.
func (s *Server) ownTenant(r *http.Request) (access.Resource, error) {
	return access.Resource{TenantID: ownTenantMarker}, nil
}

// ownTenantMarker is replaced by the principal's tenant in authorize.
const ownTenantMarker = "\x00own"

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request, _ *Call) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": callvault.Version})
	return nil
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request, _ *Call) error {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Error("readiness: store", "err", err)
		w.Header().Set("Retry-After", "1")
		return callvault.Errorf(callvault.EUnavailable, "the store is not reachable")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
