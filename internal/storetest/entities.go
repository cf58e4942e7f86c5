package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// kind describes one tenant-scoped entity for testKind.
type kind[T any] struct {
	prefix    string // keys are prefix+"1", prefix+"2", prefix+"same"
	globalKey bool   // keys are unique across tenants (client ids)
	make      func(tenant, key string) *T
	change    func(x *T) // alters every field but the key and CreatedAt
	createdAt func(x *T) *time.Time
	create    func(tx callvault.Tx, x *T) error
	update    func(tx callvault.Tx, x *T) error
	remove    func(tx callvault.Tx, tenant, key string) error // nil: the entity cannot be deleted
	get       func(ctx context.Context, r callvault.Reader, tenant, key string) (*T, error)
	list      func(ctx context.Context, r callvault.Reader, tenant string) ([]*T, error)
}

// testKind checks create, read, list, update and delete of one entity, with
// duplicates, missing keys and tenant isolation: tenants alpha and beta hold
// identically keyed objects with different contents, and every read, update
// and delete naming the other tenant is ENotFound and changes nothing.
func testKind[T any](t *testing.T, s callvault.Store, k kind[T]) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	k1, k2, shared := k.prefix+"1", k.prefix+"2", k.prefix+"same"
	betaKey := shared
	if k.globalKey {
		betaKey = k.prefix + "beta"
	}

	_, err := k.get(ctx, s, alpha, k1)
	wantCode(t, err, callvault.ENotFound, "get before create")
	got, err := k.list(ctx, s, alpha)
	wantOK(t, err, "list before create")
	if len(got) != 0 {
		t.Errorf("list before create: got %d rows, want none", len(got))
	}

	// Create out of order; lists come back ordered by key.
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, x := range []*T{k.make(alpha, k2), k.make(alpha, shared), k.make(alpha, k1), k.make(beta, betaKey)} {
			if err := k.create(tx, x); err != nil {
				return err
			}
		}
		return nil
	})
	for _, tk := range [][2]string{{alpha, k1}, {alpha, k2}, {alpha, shared}, {beta, betaKey}} {
		x, err := k.get(ctx, s, tk[0], tk[1])
		wantOK(t, err, "get "+tk[0]+"/"+tk[1])
		same(t, "get "+tk[0]+"/"+tk[1], x, k.make(tk[0], tk[1]))
	}
	got, err = k.list(ctx, s, alpha)
	wantOK(t, err, "list alpha")
	same(t, "list alpha", got, []*T{k.make(alpha, k1), k.make(alpha, k2), k.make(alpha, shared)})

	// Duplicates.
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return k.create(tx, k.make(alpha, k1)) }),
		callvault.EConflict, "create duplicate")
	if k.globalKey {
		wantCode(t, in(t, s, func(tx callvault.Tx) error { return k.create(tx, k.make(beta, k1)) }),
			callvault.EConflict, "create a key that exists in another tenant")
	}

	// Update replaces everything but the key and CreatedAt.
	want := k.make(alpha, k1)
	k.change(want)
	created := *k.createdAt(want)
	*k.createdAt(want) = later(created, 5*time.Hour)
	MustUpdate(t, s, func(tx callvault.Tx) error { return k.update(tx, want) })
	*k.createdAt(want) = created
	x, err := k.get(ctx, s, alpha, k1)
	wantOK(t, err, "get after update")
	same(t, "get after update", x, want)
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return k.update(tx, k.make(alpha, k.prefix+"missing")) }),
		callvault.ENotFound, "update missing")

	// Isolation: reads through the store and through a transaction.
	check := func(r callvault.Reader, via string) {
		for _, key := range []string{k1, k2} {
			_, err := k.get(ctx, r, beta, key)
			wantCode(t, err, callvault.ENotFound, via+": get alpha's "+key+" as beta")
		}
		x, err := k.get(ctx, r, beta, betaKey)
		wantOK(t, err, via+": get beta's own")
		same(t, via+": get beta's own", x, k.make(beta, betaKey))
		list, err := k.list(ctx, r, beta)
		wantOK(t, err, via+": list beta")
		same(t, via+": list beta", list, []*T{k.make(beta, betaKey)})
		if !k.globalKey {
			x, err := k.get(ctx, r, alpha, shared)
			wantOK(t, err, via+": get alpha's shared")
			same(t, via+": get alpha's shared", x, k.make(alpha, shared))
		}
	}
	check(s, "store")
	_ = in(t, s, func(tx callvault.Tx) error { check(tx, "tx"); return nil })

	// Isolation: beta's update and delete of alpha's key are ENotFound and,
	// committed, change nothing.
	MustUpdate(t, s, func(tx callvault.Tx) error {
		y := k.make(beta, k2)
		k.change(y)
		wantCode(t, k.update(tx, y), callvault.ENotFound, "update alpha's as beta")
		if k.remove != nil {
			wantCode(t, k.remove(tx, beta, k2), callvault.ENotFound, "delete alpha's as beta")
		}
		return nil
	})
	x, err = k.get(ctx, s, alpha, k2)
	wantOK(t, err, "alpha's after beta's update and delete")
	same(t, "alpha's after beta's update and delete", x, k.make(alpha, k2))

	if k.remove == nil {
		return
	}
	MustUpdate(t, s, func(tx callvault.Tx) error { return k.remove(tx, alpha, k2) })
	_, err = k.get(ctx, s, alpha, k2)
	wantCode(t, err, callvault.ENotFound, "get after delete")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return k.remove(tx, alpha, k2) }),
		callvault.ENotFound, "delete again")
	got, err = k.list(ctx, s, alpha)
	wantOK(t, err, "list after delete")
	same(t, "list after delete", got, []*T{want, k.make(alpha, shared)})
	if !k.globalKey {
		MustUpdate(t, s, func(tx callvault.Tx) error { return k.remove(tx, alpha, shared) })
		x, err := k.get(ctx, s, beta, shared)
		wantOK(t, err, "beta's after alpha deleted its namesake")
		same(t, "beta's after alpha deleted its namesake", x, k.make(beta, shared))
	}
}

func testTenants(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	_, err := s.Tenant(ctx, alpha)
	wantCode(t, err, callvault.ENotFound, "Tenant before create")
	seedTenants(t, s, beta, alpha)
	for _, id := range []string{alpha, beta} {
		got, err := s.Tenant(ctx, id)
		wantOK(t, err, "Tenant")
		same(t, "Tenant "+id, got, newTenant(id))
	}
	list, err := s.Tenants(ctx)
	wantOK(t, err, "Tenants")
	same(t, "Tenants", list, []*callvault.Tenant{newTenant(alpha), newTenant(beta)})

	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateTenant(newTenant(alpha)) }),
		callvault.EConflict, "CreateTenant duplicate")

	want := newTenant(alpha)
	want.Name, want.Region, want.Timezone = "Renamed", "eu", "Europe/Berlin"
	want.RetentionDays, want.AuditRetentionDays = 30, 365
	want.AllowedClientRegions = nil
	want.LegalHold = true
	want.UpdatedAt = at(500)
	want.CreatedAt = at(-500)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.UpdateTenant(want) })
	want.CreatedAt = newTenant(alpha).CreatedAt
	got, err := s.Tenant(ctx, alpha)
	wantOK(t, err, "Tenant after update")
	same(t, "Tenant after update", got, want)
	got, err = s.Tenant(ctx, beta)
	wantOK(t, err, "Tenant beta after alpha's update")
	same(t, "Tenant beta after alpha's update", got, newTenant(beta))

	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.UpdateTenant(newTenant(gamma)) }),
		callvault.ENotFound, "UpdateTenant missing")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.DeleteTenant(gamma) }),
		callvault.ENotFound, "DeleteTenant missing")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.DeleteTenant(beta) })
	_, err = s.Tenant(ctx, beta)
	wantCode(t, err, callvault.ENotFound, "Tenant after delete")
	list, err = s.Tenants(ctx)
	wantOK(t, err, "Tenants after delete")
	same(t, "Tenants after delete", list, []*callvault.Tenant{want})
}

func testSites(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.Site]{
		prefix: "sit_",
		make:   newSite,
		change: func(x *callvault.Site) {
			x.Name += " renamed"
			x.UpdatedAt = later(x.UpdatedAt, time.Hour)
		},
		createdAt: func(x *callvault.Site) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.Site) error { return tx.CreateSite(x) },
		update:    func(tx callvault.Tx, x *callvault.Site) error { return tx.UpdateSite(x) },
		remove:    func(tx callvault.Tx, tenant, key string) error { return tx.DeleteSite(tenant, key) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.Site, error) {
			return r.Site(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.Site, error) {
			return r.Sites(ctx, tenant)
		},
	})
}

func testUsers(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.User]{
		prefix: "usr_",
		make:   newUser,
		change: func(x *callvault.User) {
			x.Login += ".renamed"
			x.Name += " renamed"
			x.Email = "new-" + x.Email
			x.PasswordHash += "-rehashed"
			x.Extension = "202"
			x.HomeSiteID = "sit_other"
			x.License = "basic"
			x.AccessLevels = map[string]callvault.AccessLevel{callvault.ProductAnalytics: callvault.AccessAdmin, "wfm": callvault.AccessAgent}
			x.Roles = []string{callvault.RoleSupervisor}
			x.SiteScope = nil
			x.Status = callvault.UserDisabled
			x.UpdatedAt = later(x.UpdatedAt, time.Hour)
		},
		createdAt: func(x *callvault.User) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.User) error { return tx.CreateUser(x) },
		update:    func(tx callvault.Tx, x *callvault.User) error { return tx.UpdateUser(x) },
		remove:    func(tx callvault.Tx, tenant, key string) error { return tx.DeleteUser(tenant, key) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.User, error) {
			return r.User(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.User, error) {
			return r.Users(ctx, tenant)
		},
	})
}

func testUserLogins(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	maria := newUser(alpha, "usr_maria")
	maria.Login = "Maria.Lopez"
	ben := newUser(alpha, "usr_ben")
	ben.Login = "ben"
	betaMaria := newUser(beta, "usr_maria2")
	betaMaria.Login = "maria.lopez" // the same login in another tenant is fine
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, u := range []*callvault.User{maria, ben, betaMaria} {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})

	for _, login := range []string{"Maria.Lopez", "maria.lopez", "MARIA.LOPEZ"} {
		got, err := s.UserByLogin(ctx, alpha, login)
		wantOK(t, err, "UserByLogin "+login)
		same(t, "UserByLogin alpha "+login, got, maria)
		got, err = s.UserByLogin(ctx, beta, login)
		wantOK(t, err, "UserByLogin beta "+login)
		same(t, "UserByLogin beta "+login, got, betaMaria)
	}
	_, err := s.UserByLogin(ctx, beta, "ben")
	wantCode(t, err, callvault.ENotFound, "UserByLogin of alpha's login in beta")
	_, err = s.UserByLogin(ctx, gamma, "ben")
	wantCode(t, err, callvault.ENotFound, "UserByLogin in a missing tenant")

	dup := newUser(alpha, "usr_other")
	dup.Login = "MARIA.lopez"
	err = in(t, s, func(tx callvault.Tx) error { return tx.CreateUser(dup) })
	wantField(t, err, callvault.EConflict, "login", "CreateUser with a taken login")

	taken := *ben
	taken.Login = "maria.LOPEZ"
	err = in(t, s, func(tx callvault.Tx) error { return tx.UpdateUser(&taken) })
	wantField(t, err, callvault.EConflict, "login", "UpdateUser to a taken login")

	// Changing the case of one's own login is not a conflict; the old login
	// is free once renamed.
	recased := *maria
	recased.Login = "MARIA.LOPEZ"
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.UpdateUser(&recased) })
	got, err := s.UserByLogin(ctx, alpha, "maria.lopez")
	wantOK(t, err, "UserByLogin after recase")
	same(t, "UserByLogin after recase", got, &recased)
	renamed := *ben
	renamed.Login = "benjamin"
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.UpdateUser(&renamed) })
	_, err = s.UserByLogin(ctx, alpha, "ben")
	wantCode(t, err, callvault.ENotFound, "UserByLogin of the old login")
	reuse := newUser(alpha, "usr_newben")
	reuse.Login = "Ben"
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.CreateUser(reuse) })
}

func testRoles(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.Role]{
		prefix: "role-",
		make:   newRole,
		change: func(x *callvault.Role) {
			x.Description += " renamed"
			x.Permissions = []callvault.Permission{callvault.PermAuditRead}
			x.UpdatedAt = later(x.UpdatedAt, time.Hour)
		},
		createdAt: func(x *callvault.Role) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.Role) error { return tx.CreateRole(x) },
		update:    func(tx callvault.Tx, x *callvault.Role) error { return tx.UpdateRole(x) },
		remove:    func(tx callvault.Tx, tenant, key string) error { return tx.DeleteRole(tenant, key) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.Role, error) {
			return r.Role(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.Role, error) {
			return r.Roles(ctx, tenant)
		},
	})
}

func testLicenses(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.License]{
		prefix: "lic-",
		make:   newLicense,
		change: func(x *callvault.License) {
			x.Features = []string{"wallboard"}
			x.UpdatedAt = later(x.UpdatedAt, time.Hour)
		},
		createdAt: func(x *callvault.License) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.License) error { return tx.CreateLicense(x) },
		update:    func(tx callvault.Tx, x *callvault.License) error { return tx.UpdateLicense(x) },
		remove:    func(tx callvault.Tx, tenant, key string) error { return tx.DeleteLicense(tenant, key) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.License, error) {
			return r.License(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.License, error) {
			return r.Licenses(ctx, tenant)
		},
	})
}

func testApps(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.App]{
		prefix:    "app_",
		globalKey: true,
		make:      newApp,
		change: func(x *callvault.App) {
			x.Name += " renamed"
			x.SecretHash += "-rotated"
			x.Grants = []string{callvault.GrantJWTBearer}
			x.Scopes = []callvault.Permission{callvault.PermAnalyticsExport}
			x.Roles = nil
			x.RedirectURIs = []string{"https://new.example/cb", "https://new.example/cb2"}
			x.SecretRotatedAt = at(300)
			x.UpdatedAt = later(x.UpdatedAt, time.Hour)
		},
		createdAt: func(x *callvault.App) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.App) error { return tx.CreateApp(x) },
		update:    func(tx callvault.Tx, x *callvault.App) error { return tx.UpdateApp(x) },
		remove:    func(tx callvault.Tx, tenant, key string) error { return tx.DeleteApp(tenant, key) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.App, error) {
			return r.App(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.App, error) {
			return r.Apps(ctx, tenant)
		},
	})
}

func testAppByID(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	a, b := newApp(alpha, "app_a"), newApp(beta, "app_b")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateApp(a); err != nil {
			return err
		}
		return tx.CreateApp(b)
	})
	for _, want := range []*callvault.App{a, b} {
		got, err := s.AppByID(ctx, want.ID)
		wantOK(t, err, "AppByID")
		same(t, "AppByID "+want.ID, got, want)
	}
	_, err := s.AppByID(ctx, "app_missing")
	wantCode(t, err, callvault.ENotFound, "AppByID missing")
	_, err = s.App(ctx, beta, a.ID)
	wantCode(t, err, callvault.ENotFound, "App of alpha's app in beta")
}

func testAPIKeys(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.APIKey]{
		prefix: "key_",
		make:   newAPIKey,
		change: func(x *callvault.APIKey) {
			x.Name += " renamed"
			x.Hash += "-rotated"
			x.Hint = "cvk_…new"
			x.SubjectKind = callvault.SubjectApp
			x.SubjectID = "app_x"
			x.Scopes = []callvault.Permission{callvault.PermAdminRead, callvault.PermAdminWrite}
			x.ExpiresAt = time.Time{}
			x.RevokedAt = at(400)
			x.LastUsedAt = at(399)
		},
		createdAt: func(x *callvault.APIKey) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.APIKey) error { return tx.CreateAPIKey(x) },
		update:    func(tx callvault.Tx, x *callvault.APIKey) error { return tx.UpdateAPIKey(x) },
		remove:    func(tx callvault.Tx, tenant, key string) error { return tx.DeleteAPIKey(tenant, key) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.APIKey, error) {
			return r.APIKey(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.APIKey, error) {
			return r.APIKeys(ctx, tenant)
		},
	})
}

func testAPIKeyByHash(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	a, b := newAPIKey(alpha, "key_same"), newAPIKey(beta, "key_same")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateAPIKey(a); err != nil {
			return err
		}
		return tx.CreateAPIKey(b)
	})
	for _, want := range []*callvault.APIKey{a, b} {
		got, err := s.APIKeyByHash(ctx, want.Hash)
		wantOK(t, err, "APIKeyByHash")
		same(t, "APIKeyByHash "+want.TenantID, got, want)
	}
	_, err := s.APIKeyByHash(ctx, "no-such-hash")
	wantCode(t, err, callvault.ENotFound, "APIKeyByHash missing")
	dup := newAPIKey(beta, "key_other")
	dup.Hash = a.Hash
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateAPIKey(dup) }),
		callvault.EConflict, "CreateAPIKey with a hash that exists in another tenant")
}

func testTouchAPIKey(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	a1, a2, b1 := newAPIKey(alpha, "key_1"), newAPIKey(alpha, "key_2"), newAPIKey(beta, "key_1")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, k := range []*callvault.APIKey{a1, a2, b1} {
			if err := tx.CreateAPIKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	// Touches may be batched: wait for them to land.
	waitFor := func(step string, want map[*callvault.APIKey]time.Time) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			done := true
			var got []time.Time
			for k, w := range want {
				x, err := s.APIKey(ctx, k.TenantID, k.ID)
				wantOK(t, err, step)
				got = append(got, x.LastUsedAt)
				done = done && x.LastUsedAt.Equal(w.Truncate(time.Microsecond))
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: LastUsedAt %v, want %v", step, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wantOK(t, s.TouchAPIKey(ctx, alpha, a1.ID, at(900)), "TouchAPIKey")
	waitFor("first touch", map[*callvault.APIKey]time.Time{a1: at(900), a2: {}, b1: {}})

	// Beta's touches reach only beta's key of the same id; touching alpha's
	// other key as beta is refused or ignored.
	wantOK(t, s.TouchAPIKey(ctx, beta, b1.ID, at(950)), "TouchAPIKey beta")
	if err := s.TouchAPIKey(ctx, beta, a2.ID, at(950)); err != nil {
		wantCode(t, err, callvault.ENotFound, "TouchAPIKey of alpha's key as beta")
	}
	wantOK(t, s.TouchAPIKey(ctx, alpha, a2.ID, at(901)), "TouchAPIKey")
	waitFor("touches of both tenants", map[*callvault.APIKey]time.Time{a1: at(900), a2: at(901), b1: at(950)})
}

func testJWTCredentials(t *testing.T, s callvault.Store) {
	testKind(t, s, kind[callvault.JWTCredential]{
		prefix: "jwt_",
		make:   newJWT,
		change: func(x *callvault.JWTCredential) {
			x.UserID += "-other"
			x.AppID = ""
			x.Name += " renamed"
			x.ExpiresAt = time.Time{}
			x.RevokedAt = at(700)
		},
		createdAt: func(x *callvault.JWTCredential) *time.Time { return &x.CreatedAt },
		create:    func(tx callvault.Tx, x *callvault.JWTCredential) error { return tx.CreateJWTCredential(x) },
		update:    func(tx callvault.Tx, x *callvault.JWTCredential) error { return tx.UpdateJWTCredential(x) },
		get: func(ctx context.Context, r callvault.Reader, tenant, key string) (*callvault.JWTCredential, error) {
			return r.JWTCredential(ctx, tenant, key)
		},
		list: func(ctx context.Context, r callvault.Reader, tenant string) ([]*callvault.JWTCredential, error) {
			return r.JWTCredentials(ctx, tenant)
		},
	})
}
