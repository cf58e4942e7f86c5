package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/callvault"
)

// Limits of admin input.
const (
	maxNameLen      = 256   // display names of tenants, sites, users, apps, keys
	maxLoginLen     = 128   // user logins
	maxDescLen      = 1024  // role descriptions
	maxExtensionLen = 32    // user extensions
	maxRetention    = 36500 // days of retention (100 years)
	maxCredDays     = 3650  // longest lifetime of an API key or JWT credential, in days
	maxListLen      = 256   // entries of any list attribute
)

// Audit details of secrets and of no change.
const (
	changedSecret = "(changed)"
	emptyDetails  = `{"new":{},"old":{}}`
)

// detailsWithSecrets adds "name": "(changed)" to the "new" side of audit
// details for each secret attribute that changed: the fact is recorded,
// never the value or its hash.
func detailsWithSecrets(details string, secrets []string) string {
	if len(secrets) == 0 {
		return details
	}
	var d map[string]map[string]any
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		return details
	}
	for _, n := range secrets {
		d["new"][n] = changedSecret
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// requireSome returns 400 for a patch that names no field: every field of
// patch (a pointer to a struct, possibly with embedded structs) is nil.
func requireSome(patch any) error {
	var names []string
	if anySet(reflect.ValueOf(patch).Elem(), &names) {
		return nil
	}
	return callvault.Errorf(callvault.EInvalid, "the patch is empty: give at least one of %s", strings.Join(names, ", "))
}

// anySet reports whether a field of the struct v is set, collecting the
// JSON names of its fields.
func anySet(v reflect.Value, names *[]string) bool {
	set := false
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if sf.Anonymous && f.Kind() == reflect.Struct {
			set = anySet(f, names) || set
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Type != rawMessageType { // raw fields are there to be refused
			*names = append(*names, name)
		}
		if !f.IsZero() {
			set = true
		}
	}
	return set
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// decodeOptionalJSON is decodeJSON for bodies that may be left out: an
// empty body leaves v as it is.
func decodeOptionalJSON(r *http.Request, maxBytes int64, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
	if err != nil {
		return callvault.Errorf(callvault.EInvalid, "reading the body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeJSON(r, maxBytes, v)
}

// firstErr returns the first non-nil error: checks that are safe to run
// all at once, in the order their fields are reported.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// required returns the 400 for a missing field when p is nil.
func required[T any](field string, p *T) error {
	if p == nil {
		return callvault.FieldError(field, "%s is required", field)
	}
	return nil
}

// checkText checks a free-text field: between min and max characters,
// valid UTF-8, no control characters.
func checkText(field, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		return callvault.FieldError(field, "%s must be valid UTF-8", field)
	case n == 0 && min > 0:
		return callvault.FieldError(field, "%s must not be empty", field)
	case n < min || n > max:
		return callvault.FieldError(field, "%s must be %d to %d characters, not %d", field, min, max, n)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return callvault.FieldError(field, "%s must not contain control characters", field)
	}
	return nil
}

// checkName checks a required display name.
func checkName(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return callvault.FieldError(field, "%s must not be empty", field)
	}
	return checkText(field, v, 1, maxNameLen)
}

// checkSlug checks a tenant id or role, license or feature name.
func checkSlug(field, v string) error {
	if !callvault.ValidSlug(v) {
		return callvault.FieldError(field, "%s %q must be 2 to 63 lower-case letters, digits and dashes, starting with a letter or digit", field, v)
	}
	return nil
}

// checkRefID checks that a body field can be an id made by NewID.
func checkRefID(field, v string) error {
	if !callvault.ValidID(v) {
		return callvault.FieldError(field, "%q is not a valid %s", v, field)
	}
	return nil
}

// checkDays checks a number of days between 1 and max.
func checkDays(field string, v, max int) error {
	if v < 1 || v > max {
		return callvault.FieldError(field, "%s must be from 1 to %d, not %d", field, max, v)
	}
	return nil
}

// expiresAfter returns now plus days (zero time for nil: never expires),
// checking the number of days.
func expiresAfter(field string, now time.Time, days *int) (time.Time, error) {
	if days == nil {
		return time.Time{}, nil
	}
	if err := checkDays(field, *days, maxCredDays); err != nil {
		return time.Time{}, err
	}
	return now.AddDate(0, 0, *days), nil
}

// checkList checks a list attribute: at most maxListLen entries, each
// passing check (given its field name, e.g. "roles[1]"), no duplicates.
func checkList[T comparable](field string, vs []T, check func(field string, v T) error) error {
	if len(vs) > maxListLen {
		return callvault.FieldError(field, "%s may hold at most %d entries, not %d", field, maxListLen, len(vs))
	}
	for i, v := range vs {
		f := field + "[" + strconv.Itoa(i) + "]"
		if slices.Index(vs, v) < i {
			return callvault.FieldError(f, "%s repeats %v", field, v)
		}
		if check != nil {
			if err := check(f, v); err != nil {
				return err
			}
		}
	}
	return nil
}

var regionRE = regexp.MustCompile(`^[a-z]{2}[a-z0-9-]{0,30}$`)

// checkRegion checks a data-residency region name such as "us" or "eu".
func checkRegion(field, v string) error {
	if !regionRE.MatchString(v) {
		return callvault.FieldError(field, "%s %q must be a region name of lower-case letters, digits and dashes, such as us or eu", field, v)
	}
	return nil
}

// checkTimezone checks an IANA time zone name.
func checkTimezone(field, v string) error {
	if v == "" || v == "Local" {
		return callvault.FieldError(field, "%s must be an IANA time zone name such as Europe/Berlin or UTC", field)
	}
	if _, err := time.LoadLocation(v); err != nil {
		return callvault.FieldError(field, "%s %q is not a known IANA time zone (such as Europe/Berlin or UTC)", field, v)
	}
	return nil
}

// checkPermissions checks permissions (role permissions, app or key
// scopes): each canonical, none repeated, and tenants.manage only in the
// operator tenant.
func checkPermissions(field, tenant string, ps []callvault.Permission) error {
	return checkList(field, ps, func(f string, p callvault.Permission) error {
		if !p.Valid() {
			return callvault.FieldError(f, "unknown permission %q; known: %s", p, callvault.ScopeString(callvault.Permissions))
		}
		if p == callvault.PermTenantsManage && tenant != callvault.OperatorTenant {
			return callvault.FieldError(f, "%s is only for the operator tenant %q", p, callvault.OperatorTenant)
		}
		return nil
	})
}

// checkWithin checks that every permission of ps is in allowed, whose
// owner (e.g. "app 'Acme Sync'") the error names.
func checkWithin(field string, ps, allowed []callvault.Permission, owner string) error {
	for i, p := range ps {
		if !slices.Contains(allowed, p) {
			return callvault.FieldError(field+"["+strconv.Itoa(i)+"]", "%s is not among the scopes of %s [%s]", p, owner, callvault.ScopeString(allowed))
		}
	}
	return nil
}

// checkRoles checks role names a user, app or consent is given in tenant:
// each a built-in role or one of the tenant's roles, "operator" only in
// the operator tenant.
func checkRoles(ctx context.Context, rd callvault.Reader, tenant, field string, roles []string) error {
	return checkList(field, roles, func(f, name string) error {
		if builtinRole(name) != nil {
			if name == callvault.RoleOperator && tenant != callvault.OperatorTenant {
				return callvault.FieldError(f, "role %q is only for users of the operator tenant %q", name, callvault.OperatorTenant)
			}
			return nil
		}
		if !callvault.ValidSlug(name) {
			return callvault.FieldError(f, "%q is not a valid role name", name)
		}
		return exists(f, "role", name, tenant, func() error { _, err := rd.Role(ctx, tenant, name); return err })
	})
}

// checkSites checks that every site id is a site of the tenant.
func checkSites(ctx context.Context, rd callvault.Reader, tenant, field string, ids []string) error {
	return checkList(field, ids, func(f, id string) error { return checkSite(ctx, rd, tenant, f, id) })
}

// checkSite checks that id is a site of the tenant.
func checkSite(ctx context.Context, rd callvault.Reader, tenant, field, id string) error {
	if err := checkRefID(field, id); err != nil {
		return err
	}
	return exists(field, "site", id, tenant, func() error { _, err := rd.Site(ctx, tenant, id); return err })
}

// exists turns the ENotFound of read into a 400 naming field: a body
// that refers to an object the tenant does not have.
func exists(field, what, key, tenant string, read func() error) error {
	err := read()
	if callvault.IsNotFound(err) {
		return callvault.FieldError(field, "tenant %q has no %s %q", tenant, what, key)
	}
	return err
}

// checkRedirectURIs checks OAuth redirect URIs: absolute http(s) URLs
// without a fragment.
func checkRedirectURIs(field string, uris []string) error {
	return checkList(field, uris, func(f, v string) error {
		u, err := url.Parse(v)
		if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			return callvault.FieldError(f, "%q must be an absolute http or https URL without a fragment", v)
		}
		return nil
	})
}
