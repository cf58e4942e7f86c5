package http

import (
	"context"
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// The native admin API: CRUD of a tenant's configuration and credentials
// under /v1/tenants/{tenant}/..., plus the operator's tenant routes (declared
// in routes.go, implemented in admin_tenants.go).
//
// Every handler follows one shape. Reads validate the path key, read through
// the store with the call's tenant (never a tenant from the body, so another
// tenant's object reads exactly like a missing one), audit the view and
// render. Writes decode the body strictly, validate what needs no store, do
// slow work (password hashing) outside the transaction, then run one change
// set (Server.change) that checks references, writes, and appends one audit
// record per changed entity with details holding only the changed
// attributes. Children of a change set (the first admin of a new tenant,
// tokens revoked with a secret) are correlated to its first record.
//
// Choices the brief left open, written down here:
//   - revoking a credential (DELETE of an API key, JWT credential or
//     consent) keeps the row and is audited with event type "revoke";
//     revoking it twice is a 409;
//   - a site, license or role still referenced by a user, app or consent
//     cannot be deleted (409 naming who uses it);
//   - deleting a user or an app revokes the API keys that speak for it, as
//     child records; a caller cannot delete or disable their own user;
//   - a patch that changes nothing writes nothing and records nothing;
//   - a public app (no secret) must name its grants and may not use
//     client_credentials; authorization_code needs redirect URIs.

// handlerFunc is the signature of a route's Handle.
type handlerFunc = func(w http.ResponseWriter, r *http.Request, c *Call) error

// adminRoutes returns the per-tenant admin routes. Reads are admin.read,
// writes admin.write; the target tenant is the {tenant} path value.
func (s *Server) adminRoutes() []Route {
	const t = "/v1/tenants/{tenant}"
	read := func(path string, h handlerFunc) Route {
		return Route{Method: "GET", Pattern: t + path, Action: actAdminRead, Handle: h}
	}
	write := func(method, path string, h handlerFunc) Route {
		return Route{Method: method, Pattern: t + path, Action: actAdminWrite, Handle: h}
	}
	return []Route{
		read("/sites", listHandler(s, siteKind)),
		write("POST", "/sites", s.handleSiteCreate),
		read("/sites/{id}", getHandler(s, siteKind)),
		write("PATCH", "/sites/{id}", s.handleSitePatch),
		write("DELETE", "/sites/{id}", s.handleSiteDelete),

		read("/users", listHandler(s, userKind)),
		write("POST", "/users", s.handleUserCreate),
		read("/users/{id}", getHandler(s, userKind)),
		write("PATCH", "/users/{id}", s.handleUserPatch),
		write("DELETE", "/users/{id}", s.handleUserDelete),

		read("/roles", listHandler(s, roleKind)),
		write("POST", "/roles", s.handleRoleCreate),
		read("/roles/{name}", getHandler(s, roleKind)),
		write("PATCH", "/roles/{name}", s.handleRolePatch),
		write("DELETE", "/roles/{name}", s.handleRoleDelete),

		read("/licenses", listHandler(s, licenseKind)),
		write("POST", "/licenses", s.handleLicenseCreate),
		read("/licenses/{name}", getHandler(s, licenseKind)),
		write("PATCH", "/licenses/{name}", s.handleLicensePatch),
		write("DELETE", "/licenses/{name}", s.handleLicenseDelete),

		read("/apps", listHandler(s, appKind)),
		write("POST", "/apps", s.handleAppCreate),
		read("/apps/{id}", getHandler(s, appKind)),
		write("PATCH", "/apps/{id}", s.handleAppPatch),
		write("DELETE", "/apps/{id}", s.handleAppDelete),
		write("POST", "/apps/{id}/secret", s.handleAppSecret),

		read("/api-keys", listHandler(s, apiKeyKind)),
		write("POST", "/api-keys", s.handleAPIKeyCreate),
		read("/api-keys/{id}", getHandler(s, apiKeyKind)),
		write("DELETE", "/api-keys/{id}", s.handleAPIKeyRevoke),

		read("/consents", listHandler(s, consentKind)),
		write("POST", "/consents", s.handleConsentPut),
		read("/consents/{appId}", getHandler(s, consentKind)),
		write("DELETE", "/consents/{appId}", s.handleConsentRevoke),

		read("/jwt-credentials", listHandler(s, jwtKind)),
		write("POST", "/jwt-credentials", s.handleJWTCreate),
		read("/jwt-credentials/{id}", getHandler(s, jwtKind)),
		write("DELETE", "/jwt-credentials/{id}", s.handleJWTRevoke),
	}
}

// kind describes one kind of tenant-scoped admin object to the generic
// read, create, update and delete helpers. The store functions are method
// expressions of callvault.Reader and callvault.Tx, so a helper can run
// them on the store or inside a transaction alike.
type kind[T any] struct {
	typ   string // audit entity type, e.g. "site"
	param string // the path value naming one object, e.g. "id"
	slug  bool   // keys are slugs (names), not ids made by callvault.NewID

	key  func(*T) string // the entity key
	name func(*T) string // the display name in audit records

	one func(callvault.Reader, context.Context, string, string) (*T, error)
	all func(callvault.Reader, context.Context, string) ([]*T, error)

	create func(callvault.Tx, *T) error
	update func(callvault.Tx, *T) error
	remove func(callvault.Tx, string, string) error // nil: DELETE has its own handler
	touch  func(*T, time.Time)                      // sets UpdatedAt; nil: it has none
	// revoked points at a credential's RevokedAt; nil: not a credential.
	revoked func(*T) *time.Time

	// secrets names the secret attributes (never marshalled) that differ
	// between old and new, so the audit details can say "(changed)".
	secrets func(old, new *T) []string
}

// pathKey returns the request's key for k, or a 400 naming the path value
// when it cannot be a key at all.
func (k *kind[T]) pathKey(r *http.Request) (string, error) {
	v := r.PathValue(k.param)
	ok := callvault.ValidID(v)
	if k.slug {
		ok = callvault.ValidSlug(v)
	}
	if !ok {
		return "", badPathID(k.param, v)
	}
	return v, nil
}

// itemList is the body of every list response.
type itemList[T any] struct {
	Items []T `json:"items"`
}

// listHandler serves GET of a collection: {"items": [...]}.
func listHandler[T any](s *Server, k *kind[T]) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		items, err := k.all(s.store, r.Context(), c.Tenant)
		if err != nil {
			return err
		}
		s.auditView(r.Context(), c, k.typ, "", "")
		writeJSON(w, http.StatusOK, itemList[*T]{Items: nonNil(items)})
		return nil
	}
}

// getHandler serves GET of one object.
func getHandler[T any](s *Server, k *kind[T]) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		key, err := k.pathKey(r)
		if err != nil {
			return err
		}
		v, err := k.one(s.store, r.Context(), c.Tenant, key)
		if err != nil {
			return err
		}
		s.auditView(r.Context(), c, k.typ, key, k.name(v))
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// deleteHandler serves DELETE of one object with k.remove; check, when
// set, may refuse the delete (an object still in use) inside the change
// set, and children adds the records of dependent changes after it.
func deleteHandler[T any](s *Server, k *kind[T], check func(context.Context, callvault.Tx, *Call, *T) error,
	children func(context.Context, callvault.Tx, func(*callvault.AuditRecord), *Call, *T) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		key, err := k.pathKey(r)
		if err != nil {
			return err
		}
		ctx := r.Context()
		err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
			old, err := k.one(tx, ctx, c.Tenant, key)
			if err != nil {
				return err
			}
			if check != nil {
				if err := check(ctx, tx, c, old); err != nil {
					return err
				}
			}
			if err := k.remove(tx, c.Tenant, key); err != nil {
				return err
			}
			add(changeRecord(s, c, callvault.EventDelete, k, old, nil))
			if children != nil {
				return children(ctx, tx, add, c, old)
			}
			return nil
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// createIn creates v in the change set and adds its audit record.
func createIn[T any](s *Server, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, k *kind[T], v *T) error {
	if err := k.create(tx, v); err != nil {
		return err
	}
	add(changeRecord(s, c, callvault.EventCreate, k, nil, v))
	return nil
}

// createObj creates v in its own change set after prepare (reference
// checks against the transaction; may be nil) passes.
func createObj[T any](ctx context.Context, s *Server, c *Call, k *kind[T], v *T, prepare func(callvault.Tx) error) error {
	return s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		if prepare != nil {
			if err := prepare(tx); err != nil {
				return err
			}
		}
		return createIn(s, tx, add, c, k, v)
	})
}

// updateIn reads the object key in the change set, lets apply change a
// copy, and stores it with an update record, returning the stored object.
// An apply that changes nothing writes and records nothing. apply must
// replace slices and maps, not change them in place: the copy shares them.
func updateIn[T any](s *Server, ctx context.Context, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, k *kind[T],
	key string, apply func(callvault.Tx, *T) error) (*T, error) {
	old, err := k.one(tx, ctx, c.Tenant, key)
	if err != nil {
		return nil, err
	}
	v := *old
	if err := apply(tx, &v); err != nil {
		return nil, err
	}
	rec := changeRecord(s, c, callvault.EventUpdate, k, old, &v)
	if rec == nil {
		return old, nil
	}
	if k.touch != nil {
		k.touch(&v, s.stamp())
	}
	if err := k.update(tx, &v); err != nil {
		return nil, err
	}
	add(rec)
	return &v, nil
}

// patchObj is updateIn in its own change set.
func patchObj[T any](ctx context.Context, s *Server, c *Call, k *kind[T], key string, apply func(callvault.Tx, *T) error) (*T, error) {
	var out *T
	err := s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		v, err := updateIn(s, ctx, tx, add, c, k, key, apply)
		out = v
		return err
	})
	return out, err
}

// changeRecord is the platform audit record of a change of an object of
// kind k from old to new (nil old: created; nil new: deleted). For an
// update that changes nothing it returns nil.
func changeRecord[T any](s *Server, c *Call, event string, k *kind[T], old, new *T) *callvault.AuditRecord {
	var secrets []string
	if old != nil && new != nil && k.secrets != nil {
		secrets = k.secrets(old, new)
	}
	details := detailsWithSecrets(diffDetails(old, new), secrets)
	if event == callvault.EventUpdate && details == emptyDetails {
		return nil
	}
	obj := new
	if obj == nil {
		obj = old
	}
	rec := s.record(c, callvault.AuditPlatform, event, k.typ, k.key(obj), k.name(obj))
	rec.Details = details
	return rec
}

// stamp is the current time as the store keeps it (UTC, microseconds), so
// a create's response equals what a later read returns.
func (s *Server) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
