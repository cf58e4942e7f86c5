package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// tenantKind describes tenants to the generic helpers; the key of a tenant
// is the {tenant} path value, and a tenant is its own tenant.
var tenantKind = &kind[callvault.Tenant]{
	typ: "tenant", param: "tenant", slug: true,
	key:  func(t *callvault.Tenant) string { return t.ID },
	name: func(t *callvault.Tenant) string { return t.Name },
	one: func(r callvault.Reader, ctx context.Context, _, id string) (*callvault.Tenant, error) {
		return r.Tenant(ctx, id)
	},
	all: func(r callvault.Reader, ctx context.Context, _ string) ([]*callvault.Tenant, error) {
		return r.Tenants(ctx)
	},
	create: callvault.Tx.CreateTenant,
	update: callvault.Tx.UpdateTenant,
	remove: func(tx callvault.Tx, _, id string) error { return tx.DeleteTenant(id) },
	touch:  func(t *callvault.Tenant, now time.Time) { t.UpdatedAt = now },
}

// tenantSettings are the attributes a tenant's own admin may change.
type tenantSettings struct {
	Name                 *string   `json:"name"`
	Timezone             *string   `json:"timezone"`
	RetentionDays        *int      `json:"retentionDays"`
	AuditRetentionDays   *int      `json:"auditRetentionDays"`
	AllowedClientRegions *[]string `json:"allowedClientRegions"`
	// LegalHold stops every purge of the tenant's call data.
	LegalHold *bool `json:"legalHold"`
}

// check validates the fields that are set.
func (f *tenantSettings) check() error {
	if f.Name != nil {
		if err := checkName("name", *f.Name); err != nil {
			return err
		}
	}
	if f.Timezone != nil {
		if err := checkTimezone("timezone", *f.Timezone); err != nil {
			return err
		}
	}
	if f.RetentionDays != nil {
		if err := checkDays("retentionDays", *f.RetentionDays, maxRetention); err != nil {
			return err
		}
	}
	if f.AuditRetentionDays != nil {
		if err := checkDays("auditRetentionDays", *f.AuditRetentionDays, maxRetention); err != nil {
			return err
		}
	}
	if f.AllowedClientRegions != nil {
		return checkList("allowedClientRegions", *f.AllowedClientRegions, checkRegion)
	}
	return nil
}

// apply sets the fields that are set.
func (f *tenantSettings) apply(t *callvault.Tenant) {
	set(&t.Name, f.Name)
	set(&t.Timezone, f.Timezone)
	set(&t.RetentionDays, f.RetentionDays)
	set(&t.AuditRetentionDays, f.AuditRetentionDays)
	set(&t.LegalHold, f.LegalHold)
	if f.AllowedClientRegions != nil {
		t.AllowedClientRegions = nonNil(*f.AllowedClientRegions)
	}
}

// set assigns *p to *dst when p is set.
func set[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}

// tenantPatch is the body of PATCH /v1/tenants/{tenant} (operators).
type tenantPatch struct {
	tenantSettings
	Region *string `json:"region"`
}

func (f *tenantPatch) check() error {
	if f.Region != nil {
		if err := checkRegion("region", *f.Region); err != nil {
			return err
		}
	}
	return f.tenantSettings.check()
}

func (f *tenantPatch) apply(t *callvault.Tenant) {
	f.tenantSettings.apply(t)
	set(&t.Region, f.Region)
}

// tenantAdmin is the optional first admin user of a new tenant.
type tenantAdmin struct {
	Login    string `json:"login"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// tenantCreate is the body of POST /v1/tenants.
type tenantCreate struct {
	tenantPatch
	ID    *string      `json:"id"`
	Admin *tenantAdmin `json:"admin"`
}

// handleTenantList is GET /v1/tenants (operators).
func (s *Server) handleTenantList(w http.ResponseWriter, r *http.Request, c *Call) error {
	return listHandler(s, tenantKind)(w, r, c)
}

// handleTenantGet is GET /v1/tenants/{tenant}.
func (s *Server) handleTenantGet(w http.ResponseWriter, r *http.Request, c *Call) error {
	return getHandler(s, tenantKind)(w, r, c)
}

// handleTenantCreate is POST /v1/tenants (operators): a tenant, and
// optionally its first admin user in the same change set. The records go
// into the new tenant's trail; the admin's is correlated to the tenant.
func (s *Server) handleTenantCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req tenantCreate
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	t, err := s.newTenant(&req)
	if err != nil {
		return err
	}
	var admin *callvault.User
	if req.Admin != nil {
		if admin, err = s.newTenantAdmin(t.ID, req.Admin); err != nil {
			return err
		}
	}
	in := *c
	in.Tenant = t.ID
	in.Decision.Impersonating = t.ID != c.P.TenantID
	err = s.change(r.Context(), func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		if err := createIn(s, tx, add, &in, tenantKind, t); err != nil {
			return err
		}
		if admin == nil {
			return nil
		}
		return createIn(s, tx, add, &in, userKind, admin)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// newTenant validates a tenant create and builds the tenant, with the
// defaults: this server's region, UTC, 730 days of call data and 2557 of
// audit.
func (s *Server) newTenant(req *tenantCreate) (*callvault.Tenant, error) {
	if err := required("id", req.ID); err != nil {
		return nil, err
	}
	if err := checkSlug("id", *req.ID); err != nil {
		return nil, err
	}
	if err := required("name", req.Name); err != nil {
		return nil, err
	}
	if req.Region == nil && s.cfg.Region != "" {
		region := s.cfg.Region
		req.Region = &region
	}
	if err := required("region", req.Region); err != nil {
		return nil, err
	}
	if err := req.tenantPatch.check(); err != nil {
		return nil, err
	}
	now := s.stamp()
	t := &callvault.Tenant{ID: *req.ID, Timezone: "UTC", RetentionDays: callvault.DefaultRetentionDays,
		AuditRetentionDays: callvault.DefaultAuditRetentionDays, AllowedClientRegions: []string{},
		CreatedAt: now, UpdatedAt: now}
	req.tenantPatch.apply(t)
	return t, nil
}

// newTenantAdmin validates and builds the first admin user of a tenant.
func (s *Server) newTenantAdmin(tenant string, a *tenantAdmin) (*callvault.User, error) {
	in := userInput{Login: &a.Login, Password: &a.Password}
	if a.Name != "" {
		in.Name = &a.Name
	}
	if err := in.check(true); err != nil {
		return nil, prefixField("admin.", err)
	}
	hash, err := credential.HashPassword(a.Password)
	if err != nil {
		return nil, err
	}
	u := newUser(tenant, s.stamp())
	u.Roles = []string{callvault.RoleAdmin}
	in.assign(u)
	u.PasswordHash = hash
	return u, nil
}

// prefixField prefixes the field an *callvault.Error names, for fields of
// a nested object.
func prefixField(prefix string, err error) error {
	var e *callvault.Error
	if errors.As(err, &e) && e.Field != "" {
		c := *e
		c.Field = prefix + e.Field
		return &c
	}
	return err
}

// handleTenantPatch is PATCH /v1/tenants/{tenant} (operators): every
// tenant attribute, region included.
func (s *Server) handleTenantPatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req tenantPatch
	return s.patchTenant(w, r, c, &req, req.check, req.apply, func(t *callvault.Tenant) any { return t })
}

// handleTenantDelete is DELETE /v1/tenants/{tenant} (operators). The
// operator tenant cannot be deleted. The tenant's audit trail is kept.
func (s *Server) handleTenantDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	return deleteHandler(s, tenantKind, func(_ context.Context, _ callvault.Tx, _ *Call, t *callvault.Tenant) error {
		if t.ID == callvault.OperatorTenant {
			return callvault.Errorf(callvault.EConflict, "the operator tenant %q cannot be deleted", t.ID)
		}
		return nil
	}, nil)(w, r, c)
}

// settingsView is a tenant as its own admins see and change it. Region is
// shown but read-only: data residency is an operator's decision.
type settingsView struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Region               string   `json:"region"`
	Timezone             string   `json:"timezone"`
	RetentionDays        int      `json:"retentionDays"`
	AuditRetentionDays   int      `json:"auditRetentionDays"`
	AllowedClientRegions []string `json:"allowedClientRegions"`
	LegalHold            bool     `json:"legalHold"`
}

func viewSettings(t *callvault.Tenant) settingsView {
	return settingsView{ID: t.ID, Name: t.Name, Region: t.Region, Timezone: t.Timezone, RetentionDays: t.RetentionDays,
		AuditRetentionDays: t.AuditRetentionDays, AllowedClientRegions: nonNil(t.AllowedClientRegions), LegalHold: t.LegalHold}
}

// settingsPatch is the body of PATCH /v1/tenants/{tenant}/settings. Region
// is accepted only to be refused with a useful message.
type settingsPatch struct {
	tenantSettings
	Region json.RawMessage `json:"region"`
}

func (f *settingsPatch) check() error {
	if f.Region != nil {
		return callvault.FieldError("region", "region (data residency) is read-only in the settings; "+
			"changing it is an operator action: PATCH /v1/tenants/{tenant} by an operator")
	}
	return f.tenantSettings.check()
}

// handleSettingsGet is GET /v1/tenants/{tenant}/settings.
func (s *Server) handleSettingsGet(w http.ResponseWriter, r *http.Request, c *Call) error {
	t, err := s.store.Tenant(r.Context(), c.Tenant)
	if err != nil {
		return err
	}
	s.auditView(r.Context(), c, "tenant", t.ID, t.Name)
	writeJSON(w, http.StatusOK, viewSettings(t))
	return nil
}

// handleSettingsPatch is PATCH /v1/tenants/{tenant}/settings.
func (s *Server) handleSettingsPatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req settingsPatch
	return s.patchTenant(w, r, c, &req, req.check, req.tenantSettings.apply,
		func(t *callvault.Tenant) any { return viewSettings(t) })
}

// patchTenant decodes a tenant patch into req, checks it, applies it to
// the call's tenant and answers with view of the result.
func (s *Server) patchTenant(w http.ResponseWriter, r *http.Request, c *Call, req any,
	check func() error, apply func(*callvault.Tenant), view func(*callvault.Tenant) any) error {
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, req); err != nil {
		return err
	}
	if err := requireSome(req); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	t, err := patchObj(r.Context(), s, c, tenantKind, c.Tenant, func(_ callvault.Tx, t *callvault.Tenant) error {
		apply(t)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view(t))
	return nil
}
