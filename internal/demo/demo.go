// Package demo seeds a realistic installation for `callvault demo`, for the
// README's walkthrough and for end-to-end tests: two tenants in different
// regions, sites, a license with analytics, users with different roles and
// access levels, an app with a secret, an API key, a JWT credential and a
// consent that admits the first tenant's app into the second tenant.
package demo

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// Credentials are the secrets the seed made. They exist only here: the store
// keeps their hashes.
type Credentials struct {
	Tenant        string `json:"tenant"`
	OtherTenant   string `json:"otherTenant"`
	AdminLogin    string `json:"adminLogin"`
	AdminPassword string `json:"adminPassword"`
	AdminID       string `json:"adminId"`
	AgentLogin    string `json:"agentLogin"`
	AgentPassword string `json:"agentPassword"`
	AgentID       string `json:"agentId"`
	OperatorLogin string `json:"operatorLogin"`
	OperatorPass  string `json:"operatorPassword"`
	AppID         string `json:"clientId"`
	AppSecret     string `json:"clientSecret"`
	// NarrowAppID is an app holding only calls.read, for showing denials.
	NarrowAppID     string `json:"narrowClientId"`
	NarrowAppSecret string `json:"narrowClientSecret"`
	OperatorAppID   string `json:"operatorClientId"`
	OperatorSecret  string `json:"operatorClientSecret"`
	APIKey          string `json:"apiKey"`
	AgentJWT        string `json:"agentJwt"`
}

// Seeded reports whether the store already holds the demo tenant.
func Seeded(ctx context.Context, st callvault.Store) (bool, error) {
	_, err := st.Tenant(ctx, "acme")
	if callvault.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Seed writes the demo installation in one transaction, with an audit
// record for every object created, and returns the secrets it made.
// Passwords are hashed with argon2id and secrets with SHA-256 before storage.
func Seed(ctx context.Context, st callvault.Store, jwtKey ed25519.PrivateKey, baseURL string, now time.Time) (*Credentials, error) {
	now = now.UTC().Truncate(time.Microsecond)
	c := &Credentials{
		Tenant: "acme", OtherTenant: "globex",
		AdminLogin: "maria", AdminPassword: "maria-demo-password",
		AgentLogin: "sam", AgentPassword: "sam-demo-password",
		OperatorLogin: "root", OperatorPass: "root-demo-password",
		AppSecret:       credential.New(credential.PrefixClientSecret),
		NarrowAppSecret: credential.New(credential.PrefixClientSecret),
		OperatorSecret:  credential.New(credential.PrefixClientSecret),
		APIKey:          credential.New(credential.PrefixAPIKey),
	}
	hash := func(pw string) string {
		h, err := credential.HashPassword(pw)
		if err != nil {
			panic(err)
		}
		return h
	}
	tenants := []*callvault.Tenant{
		{ID: callvault.OperatorTenant, Name: "Installation operators", Region: "us", Timezone: "UTC"},
		{ID: "acme", Name: "Acme Telecom", Region: "us", Timezone: "America/New_York", AllowedClientRegions: []string{}},
		{ID: "globex", Name: "Globex GmbH", Region: "eu", Timezone: "Europe/Berlin", AllowedClientRegions: []string{"us"}},
	}
	sites := []*callvault.Site{
		{TenantID: "acme", ID: callvault.NewID("sit"), Name: "NYC-PBX"},
		{TenantID: "acme", ID: callvault.NewID("sit"), Name: "Boston-PBX"},
		{TenantID: "globex", ID: callvault.NewID("sit"), Name: "Berlin-PBX"},
	}
	licenses := []*callvault.License{
		{TenantID: "acme", Name: "x6", Features: []string{"voice", "recording", "analytics"}},
		{TenantID: "acme", Name: "x2", Features: []string{"voice"}},
	}
	c.AdminID, c.AgentID = callvault.NewID("usr"), callvault.NewID("usr")
	users := []*callvault.User{
		{TenantID: callvault.OperatorTenant, ID: callvault.NewID("usr"), Login: c.OperatorLogin, Name: "Installation Operator",
			PasswordHash: hash(c.OperatorPass), Roles: []string{callvault.RoleOperator}, Status: callvault.UserActive},
		{TenantID: "acme", ID: c.AdminID, Login: c.AdminLogin, Name: "Maria Lopez", Email: "maria@acme.example",
			PasswordHash: hash(c.AdminPassword), Extension: "101", HomeSiteID: sites[0].ID, License: "x6",
			AccessLevels: map[string]callvault.AccessLevel{callvault.ProductAnalytics: callvault.AccessSupervisor},
			Roles:        []string{callvault.RoleAdmin}, Status: callvault.UserActive},
		{TenantID: "acme", ID: c.AgentID, Login: c.AgentLogin, Name: "Sam Chen", PasswordHash: hash(c.AgentPassword),
			Extension: "102", HomeSiteID: sites[1].ID, License: "x2",
			AccessLevels: map[string]callvault.AccessLevel{callvault.ProductAnalytics: callvault.AccessAgent},
			Roles:        []string{callvault.RoleAgent}, SiteScope: []string{sites[1].ID}, Status: callvault.UserActive},
	}
	allGrants := []string{callvault.GrantClientCredentials, callvault.GrantPassword, callvault.GrantJWTBearer, callvault.GrantRefreshToken}
	c.AppID, c.NarrowAppID, c.OperatorAppID = callvault.NewID("app"), callvault.NewID("app"), callvault.NewID("app")
	apps := []*callvault.App{
		{TenantID: "acme", ID: c.AppID, Name: "Acme Sync", SecretHash: credential.Hash(c.AppSecret), Grants: allGrants,
			Scopes: []callvault.Permission{callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermRecordingsRead,
				callvault.PermActiveCallsRead, callvault.PermAnalyticsRead, callvault.PermAuditRead, callvault.PermAdminRead, callvault.PermAdminWrite},
			Roles: []string{callvault.RoleAuditor}},
		{TenantID: "acme", ID: c.NarrowAppID, Name: "Call Log Viewer", SecretHash: credential.Hash(c.NarrowAppSecret), Grants: allGrants,
			Scopes: []callvault.Permission{callvault.PermCallsRead}, Roles: []string{callvault.RoleAgent}},
		{TenantID: callvault.OperatorTenant, ID: c.OperatorAppID, Name: "Operator Console", SecretHash: credential.Hash(c.OperatorSecret),
			Grants: []string{callvault.GrantPassword, callvault.GrantRefreshToken}, Scopes: callvault.Permissions},
	}
	consent := &callvault.Consent{TenantID: "globex", AppID: c.AppID, AppTenant: "acme",
		Scopes: []callvault.Permission{callvault.PermAuditRead}, Roles: []string{callvault.RoleAuditor}, CreatedAt: now, UpdatedAt: now}
	key := &callvault.APIKey{TenantID: "acme", ID: callvault.NewID("key"), Name: "auditor key", Hash: credential.Hash(c.APIKey),
		Hint: credential.Hint(c.APIKey), SubjectKind: callvault.SubjectUser, SubjectID: c.AdminID,
		Scopes: []callvault.Permission{callvault.PermAuditRead, callvault.PermAdminRead}, CreatedAt: now}
	jwtCred := &callvault.JWTCredential{TenantID: "acme", ID: callvault.NewID("jwt"), UserID: c.AgentID, Name: "sam's integration", CreatedAt: now}
	var err error
	if c.AgentJWT, err = credential.SignJWT(jwtKey, baseURL, "acme", c.AgentID, jwtCred.ID, now, time.Time{}); err != nil {
		return nil, err
	}

	err = st.Update(ctx, func(tx callvault.Tx) error {
		var recs []*callvault.AuditRecord
		add := func(tenant, etype, key, name string, v any) {
			recs = append(recs, &callvault.AuditRecord{TenantID: tenant, Service: callvault.AuditPlatform, EventType: callvault.EventCreate,
				EntityType: etype, EntityKey: key, DisplayName: name, Timestamp: now, AuditUserID: "system",
				Principal: "system:demo-seed", Outcome: callvault.OutcomeSuccess, Details: createdDetails(v)})
		}
		for _, t := range tenants {
			t.RetentionDays, t.AuditRetentionDays, t.CreatedAt, t.UpdatedAt = callvault.DefaultRetentionDays, callvault.DefaultAuditRetentionDays, now, now
			if err := tx.CreateTenant(t); err != nil {
				return err
			}
			add(t.ID, "tenant", t.ID, t.Name, t)
		}
		for _, s := range sites {
			s.CreatedAt, s.UpdatedAt = now, now
			if err := tx.CreateSite(s); err != nil {
				return err
			}
			add(s.TenantID, "site", s.ID, s.Name, s)
		}
		for _, l := range licenses {
			l.CreatedAt, l.UpdatedAt = now, now
			if err := tx.CreateLicense(l); err != nil {
				return err
			}
			add(l.TenantID, "license", l.Name, l.Name, l)
		}
		for _, u := range users {
			u.CreatedAt, u.UpdatedAt = now, now
			if u.SiteScope == nil {
				u.SiteScope = []string{}
			}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			add(u.TenantID, "user", u.ID, u.Name, u)
		}
		for _, a := range apps {
			a.CreatedAt, a.UpdatedAt = now, now
			if err := tx.CreateApp(a); err != nil {
				return err
			}
			add(a.TenantID, "app", a.ID, a.Name, a)
		}
		if err := tx.PutConsent(consent); err != nil {
			return err
		}
		add("globex", "consent", consent.AppID, "Acme Sync", consent)
		if err := tx.CreateAPIKey(key); err != nil {
			return err
		}
		add("acme", "apiKey", key.ID, key.Name, key)
		if err := tx.CreateJWTCredential(jwtCred); err != nil {
			return err
		}
		add("acme", "jwtCredential", jwtCred.ID, jwtCred.Name, jwtCred)
		return tx.AppendAudit(recs...)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// createdDetails renders an object as the details of a create record.
func createdDetails(v any) string {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "createdAt")
	delete(m, "updatedAt")
	out, _ := json.Marshal(map[string]any{"new": m, "old": map[string]any{}})
	return string(out)
}
