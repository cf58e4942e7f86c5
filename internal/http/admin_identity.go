package http

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// Sites, users, roles and licenses: the identities of a tenant.

var siteKind = &kind[callvault.Site]{
	typ: "site", param: "id",
	key:    func(v *callvault.Site) string { return v.ID },
	name:   func(v *callvault.Site) string { return v.Name },
	one:    callvault.Reader.Site,
	all:    callvault.Reader.Sites,
	create: callvault.Tx.CreateSite,
	update: callvault.Tx.UpdateSite,
	remove: callvault.Tx.DeleteSite,
	touch:  func(v *callvault.Site, now time.Time) { v.UpdatedAt = now },
}

var userKind = &kind[callvault.User]{
	typ: "user", param: "id",
	key:    func(v *callvault.User) string { return v.ID },
	name:   userDisplayName,
	one:    callvault.Reader.User,
	all:    callvault.Reader.Users,
	create: callvault.Tx.CreateUser,
	update: callvault.Tx.UpdateUser,
	remove: callvault.Tx.DeleteUser,
	touch:  func(v *callvault.User, now time.Time) { v.UpdatedAt = now },
	secrets: func(old, new *callvault.User) []string {
		if old.PasswordHash != new.PasswordHash {
			return []string{"password"}
		}
		return nil
	},
}

// userDisplayName is a user's name, or login when it has none.
func userDisplayName(u *callvault.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Login
}

var roleKind = &kind[callvault.Role]{
	typ: "role", param: "name", slug: true,
	key:    func(v *callvault.Role) string { return v.Name },
	name:   func(v *callvault.Role) string { return v.Name },
	one:    readRole,
	all:    readRoles,
	create: callvault.Tx.CreateRole,
	update: callvault.Tx.UpdateRole,
	remove: callvault.Tx.DeleteRole,
	touch:  func(v *callvault.Role, now time.Time) { v.UpdatedAt = now },
}

var licenseKind = &kind[callvault.License]{
	typ: "license", param: "name", slug: true,
	key:    func(v *callvault.License) string { return v.Name },
	name:   func(v *callvault.License) string { return v.Name },
	one:    callvault.Reader.License,
	all:    callvault.Reader.Licenses,
	create: callvault.Tx.CreateLicense,
	update: callvault.Tx.UpdateLicense,
	remove: callvault.Tx.DeleteLicense,
	touch:  func(v *callvault.License, now time.Time) { v.UpdatedAt = now },
}

// ---- sites ----

// siteInput is the body of a site create or patch.
type siteInput struct {
	Name *string `json:"name"`
}

func (s *Server) handleSiteCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req siteInput
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	if err := checkName("name", *req.Name); err != nil {
		return err
	}
	now := s.stamp()
	v := &callvault.Site{TenantID: c.Tenant, ID: callvault.NewID("sit"), Name: *req.Name, CreatedAt: now, UpdatedAt: now}
	if err := createObj(r.Context(), s, c, siteKind, v, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) handleSitePatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req siteInput
	return patchHandler(s, siteKind, &req, func() error { return checkName("name", *req.Name) },
		func(_ context.Context, _ callvault.Tx, _ *Call, v *callvault.Site) error {
			v.Name = *req.Name
			return nil
		})(w, r, c)
}

func (s *Server) handleSiteDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	return deleteHandler(s, siteKind, func(ctx context.Context, tx callvault.Tx, c *Call, v *callvault.Site) error {
		users, err := usersWhere(ctx, tx, c.Tenant, func(u *callvault.User) bool {
			return u.HomeSiteID == v.ID || slices.Contains(u.SiteScope, v.ID)
		})
		if err != nil {
			return err
		}
		return stillUsed("site", v.Name, "as home site or in the site scope of", users)
	}, nil)(w, r, c)
}

// patchHandler serves PATCH of one object of kind k: it decodes the body
// into req (a pointer to a struct of pointer fields), refuses an empty
// patch, runs check (validation that needs no store), and applies the
// patch in one change set with apply (which may check references).
func patchHandler[T any](s *Server, k *kind[T], req any, check func() error,
	apply func(context.Context, callvault.Tx, *Call, *T) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		key, err := k.pathKey(r)
		if err != nil {
			return err
		}
		if err := decodeJSON(r, s.cfg.MaxBodyBytes, req); err != nil {
			return err
		}
		if err := requireSome(req); err != nil {
			return err
		}
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		ctx := r.Context()
		v, err := patchObj(ctx, s, c, k, key, func(tx callvault.Tx, v *T) error { return apply(ctx, tx, c, v) })
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// usersWhere returns the display names of the tenant's users matching f.
func usersWhere(ctx context.Context, rd callvault.Reader, tenant string, f func(*callvault.User) bool) ([]string, error) {
	users, err := rd.Users(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		if f(u) {
			out = append(out, "user '"+userDisplayName(u)+"'")
		}
	}
	return out, nil
}

// stillUsed is the 409 for deleting an object others still refer to.
func stillUsed(what, name, how string, holders []string) error {
	if len(holders) == 0 {
		return nil
	}
	more := ""
	if len(holders) > 5 {
		more = fmt.Sprintf(" and %d more", len(holders)-5)
		holders = holders[:5]
	}
	return callvault.Errorf(callvault.EConflict, "%s %q is still used %s %s%s; change them first",
		what, name, how, strings.Join(holders, ", "), more)
}

// ---- users ----

// userInput is the body of a user create or patch. In a patch, an empty
// string clears email, extension, home site and license.
type userInput struct {
	Login        *string                           `json:"login"`
	Name         *string                           `json:"name"`
	Email        *string                           `json:"email"`
	Password     *string                           `json:"password"`
	Extension    *string                           `json:"extension"`
	HomeSiteID   *string                           `json:"homeSiteId"`
	License      *string                           `json:"license"`
	AccessLevels *map[string]callvault.AccessLevel `json:"accessLevels"`
	Roles        *[]string                         `json:"roles"`
	SiteScope    *[]string                         `json:"siteScope"`
	Status       *string                           `json:"status"`
}

var (
	extensionRE = regexp.MustCompile(`^[0-9A-Za-z*#+.-]{1,32}$`)
	productRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
)

// check validates what needs no store; a create needs login and password.
func (in *userInput) check(create bool) error {
	if create {
		if err := firstErr(required("login", in.Login), required("password", in.Password)); err != nil {
			return err
		}
	}
	return firstErr(
		optional(in.Login, func(v string) error { return checkLogin("login", v) }),
		optional(in.Name, func(v string) error { return checkText("name", v, 0, maxNameLen) }),
		optional(in.Email, checkEmail),
		optional(in.Password, checkPassword),
		optional(in.Extension, checkExtension),
		optional(in.AccessLevels, checkAccessLevels),
		optional(in.Status, checkStatus),
	)
}

// optional runs check on *p when p is set.
func optional[T any](p *T, check func(T) error) error {
	if p == nil {
		return nil
	}
	return check(*p)
}

func checkLogin(field, v string) error {
	if err := checkText(field, v, 1, maxLoginLen); err != nil {
		return err
	}
	if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		return callvault.FieldError(field, "%s must not contain spaces", field)
	}
	return nil
}

func checkEmail(v string) error {
	if v == "" {
		return nil
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return callvault.FieldError("email", "%q is not an email address such as maria@example.com", v)
	}
	return nil
}

func checkPassword(v string) error {
	if n := len([]rune(v)); n < credential.MinPasswordLen {
		return callvault.FieldError("password", "the password must have at least %d characters, not %d", credential.MinPasswordLen, n)
	}
	if len(v) > 1024 {
		return callvault.FieldError("password", "the password must have at most 1024 bytes")
	}
	return nil
}

func checkExtension(v string) error {
	if v != "" && !extensionRE.MatchString(v) {
		return callvault.FieldError("extension", "extension %q must be 1 to %d digits, letters or * # + . -", v, maxExtensionLen)
	}
	return nil
}

func checkAccessLevels(m map[string]callvault.AccessLevel) error {
	for _, p := range slices.Sorted(maps.Keys(m)) {
		f := "accessLevels." + p
		if !productRE.MatchString(p) {
			return callvault.FieldError(f, "%q is not a product name such as %s", p, callvault.ProductAnalytics)
		}
		if !m[p].Valid() {
			return callvault.FieldError(f, "access level %q is unknown; use none, agent, supervisor or admin", m[p])
		}
	}
	return nil
}

func checkStatus(v string) error {
	if v != callvault.UserActive && v != callvault.UserDisabled {
		return callvault.FieldError("status", "status must be %s or %s, not %q", callvault.UserActive, callvault.UserDisabled, v)
	}
	return nil
}

// checkRefs checks that what the input refers to exists in the tenant.
func (in *userInput) checkRefs(ctx context.Context, rd callvault.Reader, tenant string) error {
	if in.HomeSiteID != nil && *in.HomeSiteID != "" {
		if err := checkSite(ctx, rd, tenant, "homeSiteId", *in.HomeSiteID); err != nil {
			return err
		}
	}
	if in.License != nil && *in.License != "" {
		name := *in.License
		if err := checkSlug("license", name); err != nil {
			return err
		}
		if err := exists("license", "license", name, tenant, func() error { _, err := rd.License(ctx, tenant, name); return err }); err != nil {
			return err
		}
	}
	if in.Roles != nil {
		if err := checkRoles(ctx, rd, tenant, "roles", *in.Roles); err != nil {
			return err
		}
	}
	if in.SiteScope != nil {
		return checkSites(ctx, rd, tenant, "siteScope", *in.SiteScope)
	}
	return nil
}

// assign sets the user's attributes that the input sets, except the
// password (whose hash the caller sets).
func (in *userInput) assign(u *callvault.User) {
	set(&u.Login, in.Login)
	set(&u.Name, in.Name)
	set(&u.Email, in.Email)
	set(&u.Extension, in.Extension)
	set(&u.HomeSiteID, in.HomeSiteID)
	set(&u.License, in.License)
	set(&u.Status, in.Status)
	if in.AccessLevels != nil {
		u.AccessLevels = *in.AccessLevels
	}
	if in.Roles != nil {
		u.Roles = nonNil(*in.Roles)
	}
	if in.SiteScope != nil {
		u.SiteScope = nonNil(*in.SiteScope)
	}
}

// hashPassword hashes the input's password, if it has one ("" if not).
func (in *userInput) hashPassword() (string, error) {
	if in.Password == nil {
		return "", nil
	}
	return credential.HashPassword(*in.Password)
}

// newUser returns an active user of the tenant with a new id and no roles.
func newUser(tenant string, now time.Time) *callvault.User {
	return &callvault.User{TenantID: tenant, ID: callvault.NewID("usr"), Status: callvault.UserActive,
		Roles: []string{}, SiteScope: []string{}, CreatedAt: now, UpdatedAt: now}
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req userInput
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := req.check(true); err != nil {
		return err
	}
	hash, err := req.hashPassword()
	if err != nil {
		return err
	}
	ctx := r.Context()
	u := newUser(c.Tenant, s.stamp())
	req.assign(u)
	u.PasswordHash = hash
	if err := createObj(ctx, s, c, userKind, u, func(tx callvault.Tx) error { return req.checkRefs(ctx, tx, c.Tenant) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) handleUserPatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req userInput
	var hash string
	check := func() error {
		if err := req.check(false); err != nil {
			return err
		}
		if req.Status != nil && *req.Status == callvault.UserDisabled && isSelf(c, r.PathValue("id")) {
			return callvault.Errorf(callvault.EConflict, "you cannot disable your own user; ask another admin")
		}
		var err error
		hash, err = req.hashPassword() // slow: outside the transaction
		return err
	}
	return patchHandler(s, userKind, &req, check, func(ctx context.Context, tx callvault.Tx, c *Call, u *callvault.User) error {
		if err := req.checkRefs(ctx, tx, c.Tenant); err != nil {
			return err
		}
		req.assign(u)
		if hash != "" {
			u.PasswordHash = hash
		}
		return nil
	})(w, r, c)
}

// isSelf reports whether user id of the call's tenant is the caller.
func isSelf(c *Call, id string) bool {
	return c.P.UserID == id && c.P.TenantID == c.Tenant
}

func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	return deleteHandler(s, userKind, func(_ context.Context, _ callvault.Tx, c *Call, u *callvault.User) error {
		if isSelf(c, u.ID) {
			return callvault.Errorf(callvault.EConflict, "you cannot delete your own user; ask another admin")
		}
		return nil
	}, func(ctx context.Context, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, u *callvault.User) error {
		return s.revokeCredentialsOf(ctx, tx, add, c, callvault.SubjectUser, u.ID)
	})(w, r, c)
}

// ---- roles ----

// readRole returns a built-in role, or else the tenant's stored role.
func readRole(rd callvault.Reader, ctx context.Context, tenant, name string) (*callvault.Role, error) {
	if b := builtinRoleIn(tenant, name); b != nil {
		v := *b
		return &v, nil
	}
	if name == callvault.RoleOperator {
		return nil, callvault.Errorf(callvault.ENotFound, "role %q not found", name)
	}
	return rd.Role(ctx, tenant, name)
}

// readRoles lists the built-in roles, then the tenant's own.
func readRoles(rd callvault.Reader, ctx context.Context, tenant string) ([]*callvault.Role, error) {
	stored, err := rd.Roles(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]*callvault.Role, 0, len(builtinRoles)+len(stored))
	for _, b := range callvault.BuiltinRoles() {
		if builtinRoleIn(tenant, b.Name) != nil {
			out = append(out, &b)
		}
	}
	return append(out, stored...), nil
}

// rolePatch is the body of a role patch.
type rolePatch struct {
	Description *string                 `json:"description"`
	Permissions *[]callvault.Permission `json:"permissions"`
}

func (in *rolePatch) check(tenant string) error {
	return firstErr(
		optional(in.Description, func(v string) error { return checkText("description", v, 0, maxDescLen) }),
		optional(in.Permissions, func(ps []callvault.Permission) error {
			if len(ps) == 0 {
				return callvault.FieldError("permissions", "a role needs at least one permission")
			}
			return checkPermissions("permissions", tenant, ps)
		}),
	)
}

func (in *rolePatch) assign(v *callvault.Role) {
	set(&v.Description, in.Description)
	set(&v.Permissions, in.Permissions)
}

// roleCreate is the body of a role create.
type roleCreate struct {
	rolePatch
	Name *string `json:"name"`
}

// builtinConflict is the 409 for changing a built-in role.
func builtinConflict(name string) error {
	if builtinRole(name) == nil {
		return nil
	}
	return callvault.Errorf(callvault.EConflict, "built-in roles cannot be changed: %q is built in; create a role of your own instead", name)
}

func (s *Server) handleRoleCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req roleCreate
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	if err := checkSlug("name", *req.Name); err != nil {
		return err
	}
	if builtinRole(*req.Name) != nil {
		return &callvault.Error{Code: callvault.EConflict, Field: "name", Message: fmt.Sprintf("%q is the name of a built-in role", *req.Name)}
	}
	if err := required("permissions", req.Permissions); err != nil {
		return err
	}
	if err := req.check(c.Tenant); err != nil {
		return err
	}
	now := s.stamp()
	v := &callvault.Role{TenantID: c.Tenant, Name: *req.Name, CreatedAt: now, UpdatedAt: now}
	req.assign(v)
	if err := createObj(r.Context(), s, c, roleKind, v, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) handleRolePatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req rolePatch
	check := func() error {
		if err := builtinConflict(r.PathValue("name")); err != nil {
			return err
		}
		return req.check(c.Tenant)
	}
	return patchHandler(s, roleKind, &req, check, func(_ context.Context, _ callvault.Tx, _ *Call, v *callvault.Role) error {
		req.assign(v)
		return nil
	})(w, r, c)
}

func (s *Server) handleRoleDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := builtinConflict(r.PathValue("name")); err != nil {
		return err
	}
	return deleteHandler(s, roleKind, func(ctx context.Context, tx callvault.Tx, c *Call, v *callvault.Role) error {
		holders, err := roleHolders(ctx, tx, c.Tenant, v.Name)
		if err != nil {
			return err
		}
		return stillUsed("role", v.Name, "by", holders)
	}, nil)(w, r, c)
}

// roleHolders names the users, apps and consents of the tenant that hold
// the role.
func roleHolders(ctx context.Context, rd callvault.Reader, tenant, role string) ([]string, error) {
	out, err := usersWhere(ctx, rd, tenant, func(u *callvault.User) bool { return slices.Contains(u.Roles, role) })
	if err != nil {
		return nil, err
	}
	apps, err := rd.Apps(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if slices.Contains(a.Roles, role) {
			out = append(out, "app '"+a.Name+"'")
		}
	}
	consents, err := rd.Consents(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for _, cs := range consents {
		if cs.Active() && slices.Contains(cs.Roles, role) {
			out = append(out, "the consent for app "+cs.AppID)
		}
	}
	return out, nil
}

// ---- licenses ----

// licensePatch is the body of a license patch.
type licensePatch struct {
	Features *[]string `json:"features"`
}

func (in *licensePatch) check() error {
	return optional(in.Features, func(fs []string) error { return checkList("features", fs, checkSlug) })
}

// licenseCreate is the body of a license create.
type licenseCreate struct {
	licensePatch
	Name *string `json:"name"`
}

func (s *Server) handleLicenseCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req licenseCreate
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	if err := checkSlug("name", *req.Name); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	now := s.stamp()
	v := &callvault.License{TenantID: c.Tenant, Name: *req.Name, Features: []string{}, CreatedAt: now, UpdatedAt: now}
	if req.Features != nil {
		v.Features = nonNil(*req.Features)
	}
	if err := createObj(r.Context(), s, c, licenseKind, v, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) handleLicensePatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req licensePatch
	return patchHandler(s, licenseKind, &req, req.check, func(_ context.Context, _ callvault.Tx, _ *Call, v *callvault.License) error {
		v.Features = nonNil(*req.Features)
		return nil
	})(w, r, c)
}

func (s *Server) handleLicenseDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	return deleteHandler(s, licenseKind, func(ctx context.Context, tx callvault.Tx, c *Call, v *callvault.License) error {
		users, err := usersWhere(ctx, tx, c.Tenant, func(u *callvault.User) bool { return u.License == v.Name })
		if err != nil {
			return err
		}
		return stillUsed("license", v.Name, "by", users)
	}, nil)(w, r, c)
}
