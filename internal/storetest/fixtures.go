package storetest

import (
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// The constructors below return objects with every field set, and contents
// that name their tenant, so that a row returned for the wrong tenant shows.

func newTenant(id string) *callvault.Tenant {
	return &callvault.Tenant{
		ID:                   id,
		Name:                 "Tenant " + id,
		Region:               "us",
		Timezone:             "America/New_York",
		RetentionDays:        callvault.DefaultRetentionDays,
		AuditRetentionDays:   callvault.DefaultAuditRetentionDays,
		AllowedClientRegions: []string{"eu"},
		CreatedAt:            at(1),
		UpdatedAt:            at(2),
	}
}

func newSite(tenant, id string) *callvault.Site {
	return &callvault.Site{TenantID: tenant, ID: id, Name: tenant + " PBX " + id, CreatedAt: at(3), UpdatedAt: at(4)}
}

func newUser(tenant, id string) *callvault.User {
	return &callvault.User{
		TenantID:     tenant,
		ID:           id,
		Login:        id + "@" + tenant,
		Name:         "User " + id + " of " + tenant,
		Email:        id + "@" + tenant + ".example",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$" + tenant,
		Extension:    "101",
		HomeSiteID:   "sit_home",
		License:      "x-series",
		AccessLevels: map[string]callvault.AccessLevel{callvault.ProductAnalytics: callvault.AccessSupervisor},
		Roles:        []string{callvault.RoleAgent, "custom-" + tenant},
		SiteScope:    []string{"sit_home", "sit_other"},
		Status:       callvault.UserActive,
		CreatedAt:    at(5),
		UpdatedAt:    at(6),
	}
}

func newRole(tenant, name string) *callvault.Role {
	return &callvault.Role{
		TenantID:    tenant,
		Name:        name,
		Description: "Role " + name + " of " + tenant,
		Permissions: []callvault.Permission{callvault.PermCallsRead, callvault.PermRecordingsRead},
		CreatedAt:   at(7),
		UpdatedAt:   at(8),
	}
}

func newLicense(tenant, name string) *callvault.License {
	return &callvault.License{
		TenantID:  tenant,
		Name:      name,
		Features:  []string{callvault.ProductAnalytics, "recording-" + tenant},
		CreatedAt: at(9),
		UpdatedAt: at(10),
	}
}

func newApp(tenant, id string) *callvault.App {
	return &callvault.App{
		TenantID:     tenant,
		ID:           id,
		Name:         "App " + id + " of " + tenant,
		SecretHash:   "secret-hash-" + tenant + "-" + id,
		Grants:       []string{callvault.GrantClientCredentials, callvault.GrantRefreshToken},
		Scopes:       []callvault.Permission{callvault.PermCallsRead, callvault.PermCallsReadAll},
		Roles:        []string{callvault.RoleIntegrator},
		RedirectURIs: []string{"https://" + tenant + ".example/callback"},
		CreatedAt:    at(11),
		UpdatedAt:    at(12),
	}
}

func newConsent(tenant, appID, appTenant string) *callvault.Consent {
	return &callvault.Consent{
		TenantID:  tenant,
		AppID:     appID,
		AppTenant: appTenant,
		Scopes:    []callvault.Permission{callvault.PermCallsRead},
		Roles:     []string{callvault.RoleIntegrator, "custom-" + tenant},
		CreatedAt: at(13),
		UpdatedAt: at(14),
	}
}

func newAPIKey(tenant, id string) *callvault.APIKey {
	return &callvault.APIKey{
		TenantID:    tenant,
		ID:          id,
		Name:        "Key " + id + " of " + tenant,
		Hash:        "key-hash-" + tenant + "-" + id,
		Hint:        "cvk_…" + tenant[:2],
		SubjectKind: callvault.SubjectUser,
		SubjectID:   "usr_" + tenant,
		Scopes:      []callvault.Permission{callvault.PermAuditRead},
		CreatedAt:   at(15),
		ExpiresAt:   at(60 * 24 * 365),
	}
}

func newToken(tenant, hash, appID, family string) *callvault.Token {
	return &callvault.Token{
		Hash:      hash,
		TenantID:  tenant,
		Kind:      callvault.TokenRefresh,
		AppID:     appID,
		UserID:    "usr_" + tenant,
		Scopes:    []callvault.Permission{callvault.PermCallsRead, callvault.PermAnalyticsRead},
		Grant:     callvault.GrantPassword,
		FamilyID:  family,
		IssuedAt:  at(16),
		ExpiresAt: at(16 + 60),
	}
}

func newJWT(tenant, id string) *callvault.JWTCredential {
	return &callvault.JWTCredential{
		TenantID:  tenant,
		ID:        id,
		UserID:    "usr_" + tenant,
		AppID:     "app_" + tenant,
		Name:      "JWT " + id + " of " + tenant,
		CreatedAt: at(17),
		ExpiresAt: at(17 + 60*24),
	}
}

func newAudit(tenant string, n int) *callvault.AuditRecord {
	return &callvault.AuditRecord{
		TenantID:     tenant,
		Service:      callvault.AuditPlatform,
		DisplayName:  "Record " + tenant,
		Timestamp:    at(100 + n),
		EventType:    callvault.EventUpdate,
		EntityType:   "User",
		EntityKey:    "usr_" + tenant,
		AuditUserID:  "usr_admin",
		Impersonator: "usr_operator",
		Details:      `{"new":{"name":"B"},"old":{"name":"A"}}`,
		RequestID:    "req-" + tenant,
		Principal:    "user:usr_admin",
		Outcome:      callvault.OutcomeSuccess,
	}
}

// later returns t moved by d; used to change every time field in updates.
func later(t time.Time, d time.Duration) time.Time {
	if t.IsZero() {
		return base().Add(d)
	}
	return t.Add(d)
}
