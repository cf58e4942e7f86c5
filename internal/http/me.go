package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/callvault"
)

// permissionView is one canonical permission as the caller holds it.
type permissionView struct {
	Permission callvault.Permission `json:"permission"`
	Effective  bool                 `json:"effective"`
	// Source names where an effective permission comes from (the role and
	// scope); for one that is not, Layer and Reason say what stops it.
	Source string       `json:"source,omitempty"`
	Layer  access.Layer `json:"layer,omitempty"`
	Reason string       `json:"reason,omitempty"`
	Hint   string       `json:"hint,omitempty"`
}

type meView struct {
	Kind       string           `json:"kind"`
	Tenant     any              `json:"tenant"`
	User       any              `json:"user,omitempty"`
	App        any              `json:"app,omitempty"`
	Operator   bool             `json:"operator"`
	Tenants    []string         `json:"tenants"`
	Credential any              `json:"credential"`
	Roles      []string         `json:"roles"`
	Perms      []permissionView `json:"permissions"`
}

// handleMe is GET /v1/me: who the caller is, for which tenant(s), and each
// canonical permission with the layer it comes from (or stops at).
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, c *Call) error {
	p := c.P
	v := meView{Kind: p.Kind, Operator: p.Operator, Tenants: []string{p.TenantID}, Roles: []string{}}
	if p.Tenant != nil {
		v.Tenant = map[string]any{"id": p.Tenant.ID, "name": p.Tenant.Name, "region": p.Tenant.Region,
			"timezone": p.Tenant.Timezone, "retentionDays": p.Tenant.RetentionDays}
	}
	if p.UserID != "" {
		v.User = map[string]any{"id": p.UserID, "login": p.UserLogin, "extension": p.Extension,
			"status": p.UserStatus, "accessLevels": p.AccessLevels, "siteScope": p.SiteScope, "license": p.License}
	}
	if p.AppID != "" {
		v.App = map[string]any{"clientId": p.AppID, "name": p.AppName, "homeTenant": p.AppTenant,
			"region": p.AppRegion, "scopes": p.AppScopes}
		if p.Consent != nil {
			v.App.(map[string]any)["consent"] = p.Consent
		}
	}
	if p.Operator {
		v.Tenants = []string{"*"}
	}
	cred := map[string]any{"kind": p.Credential.Kind, "scopes": p.Credential.Scopes, "issuedAt": p.Credential.IssuedAt}
	if p.Credential.Grant != "" {
		cred["grant"] = p.Credential.Grant
	}
	if !p.Credential.ExpiresAt.IsZero() {
		cred["expiresAt"] = p.Credential.ExpiresAt
	}
	v.Credential = cred
	for _, g := range p.Roles {
		v.Roles = append(v.Roles, g.Role)
	}
	v.Perms = s.effectivePermissions(p)
	s.auditView(r.Context(), c, "principal", actorID(p), p.UserLogin+p.AppName)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// effectivePermissions asks the engine about every canonical permission in
// the principal's own tenant.
func (s *Server) effectivePermissions(p *access.Principal) []permissionView {
	out := make([]permissionView, 0, len(callvault.Permissions))
	for _, perm := range callvault.Permissions {
		d := s.engine.Decide(p, access.Action{Name: string(perm), Permission: perm}, access.Resource{TenantID: p.TenantID})
		pv := permissionView{Permission: perm, Effective: d.Allowed}
		if d.Allowed {
			pv.Source = stepDetail(d, access.LayerSubject) + "; " + stepDetail(d, access.LayerScopes)
		} else {
			pv.Layer, pv.Reason, pv.Hint = d.Layer, d.Reason, d.Hint
		}
		out = append(out, pv)
	}
	return out
}

func stepDetail(d access.Decision, l access.Layer) string {
	for _, st := range d.Trace {
		if st.Layer == l {
			return st.Detail
		}
	}
	return ""
}

// auditView records a successful read when read auditing is on.
func (s *Server) auditView(ctx context.Context, c *Call, entityType, key, name string) {
	if !s.cfg.AuditReads {
		return
	}
	rec := s.record(c, callvault.AuditData, callvault.EventView, entityType, key, name)
	if err := s.audit.Append(ctx, rec); err != nil {
		s.log.Error("audit view", "requestId", c.RequestID, "err", err)
	}
}

// explainRequest is the body of POST /v1/access/explain: either a method
// and path, or an action (a canonical permission, or an action name of the
// route table) with a resource; optionally another principal of the
// caller's tenant (tenant admins only).
type explainRequest struct {
	Method     string `json:"method"`
	Path       string `json:"path"`
	Permission string `json:"permission"`
	Action     string `json:"action"`
	Resource   *struct {
		TenantID       string    `json:"tenantId"`
		SiteID         string    `json:"siteId"`
		OwnerExtension string    `json:"ownerExtension"`
		From           time.Time `json:"from"`
		To             time.Time `json:"to"`
	} `json:"resource"`
	UserID string `json:"userId"`
	AppID  string `json:"appId"`
}

type explainResponse struct {
	Principal string          `json:"principal"`
	Route     string          `json:"route,omitempty"`
	Decision  access.Decision `json:"decision"`
	Table     string          `json:"table"`
}

// handleExplain is POST /v1/access/explain.
func (s *Server) handleExplain(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req explainRequest
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx := r.Context()
	p := c.P
	if req.UserID != "" || req.AppID != "" {
		// Explaining for someone else is an admin read of the caller's tenant.
		d := s.engine.Decide(c.P, actAdminRead, access.Resource{TenantID: c.P.TenantID})
		if !d.Allowed {
			s.auditDenial(ctx, r, &Call{P: c.P, Decision: d, RequestID: c.RequestID}, actAdminRead, access.Resource{TenantID: c.P.TenantID})
			return &DenialError{Decision: d}
		}
		other, err := s.hypotheticalPrincipal(ctx, c.P.TenantID, req.UserID, req.AppID)
		if err != nil {
			return err
		}
		p = other
	}
	var act access.Action
	res := access.Resource{TenantID: p.TenantID}
	route := ""
	switch {
	case req.Method != "" || req.Path != "":
		if req.Method == "" || req.Path == "" {
			return callvault.FieldError("method", "method and path go together")
		}
		rt, vals, ok := s.matchRoute(strings.ToUpper(req.Method), req.Path)
		if !ok {
			return callvault.FieldError("path", "no route matches %s %s", strings.ToUpper(req.Method), req.Path)
		}
		if rt.Public {
			return callvault.FieldError("path", "%s %s is public: no permission is needed", rt.Method, rt.Pattern)
		}
		act, route = rt.Action, rt.Method+" "+rt.Pattern
		if t, ok := vals["tenant"]; ok {
			res.TenantID = t
		} else if installationWide(rt) {
			res.TenantID = ""
		}
	case req.Permission != "":
		perm := callvault.Permission(req.Permission)
		if !perm.Valid() {
			return callvault.FieldError("permission", "unknown permission %q", req.Permission)
		}
		act = access.Action{Name: req.Permission, Permission: perm}
	case req.Action != "":
		found := false
		for _, rt := range s.routes {
			if rt.Action.Name == req.Action {
				act, found = rt.Action, true
				if installationWide(rt) {
					res.TenantID = ""
				}
				break
			}
		}
		if !found {
			return callvault.FieldError("action", "unknown action %q", req.Action)
		}
	default:
		return callvault.FieldError("method", "give method and path, or permission, or action")
	}
	if req.Resource != nil {
		if req.Resource.TenantID != "" {
			res.TenantID = req.Resource.TenantID
		}
		res.SiteID, res.OwnerExtension, res.From, res.To = req.Resource.SiteID, req.Resource.OwnerExtension, req.Resource.From, req.Resource.To
	}
	if res.TenantID != "" && res.TenantID != p.TenantID && p.Operator {
		if t, err := s.store.Tenant(ctx, res.TenantID); err == nil {
			res.Tenant = t
		}
	}
	d := s.engine.Decide(p, act, res)
	writeJSON(w, http.StatusOK, explainResponse{Principal: principalString(p), Route: route, Decision: d, Table: d.TraceTable()})
	return nil
}

// hypotheticalPrincipal builds the principal of another user or app of the
// tenant as a fresh credential would make it: a user as if holding every
// scope (so the explanation is about the user's roles and product gates),
// an app with a token of all the scopes it holds now.
func (s *Server) hypotheticalPrincipal(ctx context.Context, tenant, userID, appID string) (*access.Principal, error) {
	now := s.now()
	p := &access.Principal{TenantID: tenant, Kind: callvault.SubjectApp,
		Credential: access.Credential{Kind: "hypothetical", IssuedAt: now, Scopes: callvault.Permissions}}
	if appID != "" {
		app, err := s.store.AppByID(ctx, appID)
		if err != nil {
			return nil, callvault.FieldError("appId", "no app %q", appID)
		}
		if app.TenantID != tenant {
			if _, err := s.store.Consent(ctx, tenant, appID); err != nil {
				return nil, callvault.FieldError("appId", "no app %q", appID)
			}
		}
		p.Credential.Scopes = app.Scopes
		if err := s.loadApp(ctx, p, app); err != nil {
			return nil, err
		}
	}
	if userID != "" {
		if !callvault.ValidID(userID) {
			return nil, badPathID("userId", userID)
		}
		if err := s.loadUser(ctx, p, tenant, userID); err != nil {
			return nil, callvault.FieldError("userId", "no user %q in tenant %q", userID, tenant)
		}
	}
	if p.Tenant == nil {
		t, err := s.store.Tenant(ctx, tenant)
		if err != nil {
			return nil, err
		}
		p.Tenant = t
	}
	return p, nil
}

// installationWide reports whether a route acts on the installation rather
// than on one tenant (the tenant list).
func installationWide(rt Route) bool {
	return !strings.Contains(rt.Pattern, "{tenant}") && strings.HasPrefix(rt.Pattern, "/v1/tenants")
}

// matchRoute finds the route for method and path, with its path values.
func (s *Server) matchRoute(method, path string) (Route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range s.routes {
		if rt.Method != method {
			continue
		}
		ps := strings.Split(strings.Trim(rt.Pattern, "/"), "/")
		if len(ps) != len(segs) {
			continue
		}
		vals := map[string]string{}
		ok := true
		for i, seg := range ps {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				vals[strings.Trim(seg, "{}.")] = segs[i]
			} else if seg != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, vals, true
		}
	}
	return Route{}, nil, false
}
