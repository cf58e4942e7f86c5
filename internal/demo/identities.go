package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// tenantSpec is one customer tenant of the demo and what belongs to it.
type tenantSpec struct {
	t        *callvault.Tenant
	sites    []*callvault.Site
	licenses []*callvault.License
	users    []*callvault.User
	// exts are the extension numbers in the order callgen assigns them to
	// sites (round-robin); byExt finds their users.
	exts  []string
	byExt map[string]*callvault.User
	// share is the tenant's percentage of the generated call records.
	share int
	// size is the tenant's number of users; first and last names are
	// drawn from these lists.
	size        int
	first, last []string
}

// person is a named user of the walkthrough.
type person struct {
	login, name, password string
	roles                 []string
	license               string
	level                 callvault.AccessLevel
	ext                   bool // has an extension
	scoped                bool // site scope: the home site only
	shows                 string
}

// sharedPassword is the password of every generated (unnamed) user.
const sharedPassword = "demo-user-password"

var (
	usFirst = []string{"James", "Olivia", "Noah", "Emma", "Liam", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas",
		"Mia", "Aiden", "Harper", "Elijah", "Amelia", "Logan", "Evelyn", "Jackson", "Abigail", "Mateo", "Priya", "Wei", "Aisha", "Diego"}
	usLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Nguyen", "Patel", "Kim", "Okafor"}
	deFirst = []string{"Lukas", "Anna", "Felix", "Lea", "Jonas", "Hannah", "Leon", "Mia", "Paul", "Emilia", "Finn", "Sophie",
		"Elias", "Marie", "Ben", "Lena", "Noah", "Clara", "Emil", "Ida", "Mehmet", "Aylin", "Piotr", "Zofia"}
	deLast = []string{"Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
		"Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Yilmaz", "Kowalski", "Krause", "Lange"}
)

// allGrants are the grants of the apps users sign in through.
var allGrants = []string{callvault.GrantClientCredentials, callvault.GrantPassword, callvault.GrantJWTBearer, callvault.GrantRefreshToken}

// identities writes tenants, sites, licenses, users, apps, keys, the JWT
// credential and the consents, with their audit records, in one
// transaction.
func (s *seeder) identities(ctx context.Context) error {
	c := s.d
	c.AdminLogin, c.AdminPassword = "maria", "maria-demo-password"
	c.AgentLogin, c.AgentPassword = "sam", "sam-demo-password"
	c.OperatorLogin, c.OperatorPass = "root", "root-demo-password"

	acme := &tenantSpec{t: &callvault.Tenant{ID: "acme", Name: "Acme Telecom", Region: "us", Timezone: "America/New_York",
		RetentionDays: callvault.DefaultRetentionDays}, share: 50, size: 50, first: usFirst, last: usLast}
	globex := &tenantSpec{t: &callvault.Tenant{ID: "globex", Name: "Globex GmbH", Region: "eu", Timezone: "Europe/Berlin",
		RetentionDays: 365, AllowedClientRegions: []string{"us"}}, share: 30, size: 35, first: deFirst, last: deLast}
	initech := &tenantSpec{t: &callvault.Tenant{ID: "initech", Name: "Initech", Region: "us", Timezone: "America/Chicago",
		RetentionDays: callvault.DefaultRetentionDays}, share: 20, size: 25, first: usFirst, last: usLast}
	s.tenants = []*tenantSpec{acme, globex, initech}
	operator := &callvault.Tenant{ID: callvault.OperatorTenant, Name: "Installation operators", Region: "us", Timezone: "UTC",
		RetentionDays: callvault.DefaultRetentionDays}

	for ts, names := range map[*tenantSpec][]string{
		acme: {"NYC-PBX", "Boston-PBX", "Austin-PBX"}, globex: {"Berlin-PBX", "Munich-PBX", "Hamburg-PBX"}, initech: {"Chicago-PBX", "Denver-PBX"},
	} {
		for _, n := range names {
			ts.sites = append(ts.sites, &callvault.Site{TenantID: ts.t.ID, Name: n})
		}
	}
	for _, ts := range s.tenants { // ids in a fixed order
		for _, st := range ts.sites {
			st.ID = s.id("sit")
		}
	}
	lic := func(ts *tenantSpec, name string, features ...string) {
		ts.licenses = append(ts.licenses, &callvault.License{TenantID: ts.t.ID, Name: name, Features: features})
	}
	lic(acme, "x2", "voice")
	lic(acme, "x6", "voice", "recording", "analytics")
	lic(acme, "x8", "voice", "recording", "analytics", "contact-center")
	lic(globex, "basic", "voice")
	lic(globex, "pro", "voice", "recording", "analytics")
	lic(initech, "standard", "voice")
	lic(initech, "analytics-addon", "voice", "recording", "analytics")

	people := map[*tenantSpec][]person{
		acme: {
			{login: "maria", name: "Maria Lopez", password: c.AdminPassword, roles: []string{callvault.RoleAdmin}, license: "x6",
				level: callvault.AccessSupervisor, ext: true, shows: "tenant admin of acme: every permission, all sites; the walkthrough's main user"},
			{login: "sam", name: "Sam Chen", password: c.AgentPassword, roles: []string{callvault.RoleAgent}, license: "x2",
				level: callvault.AccessAgent, ext: true, scoped: true, shows: "agent at Boston-PBX with license x2: sees only extension 102's calls (ownership), no analytics (license lacks the feature)"},
			{login: "lee", name: "Lee Park", password: "lee-demo-password", roles: []string{callvault.RoleSupervisor}, license: "x6",
				level: callvault.AccessSupervisor, ext: true, scoped: true, shows: "supervisor whose site scope is Austin-PBX: all calls of Austin, denied NYC-PBX (site scope)"},
			{login: "ava", name: "Ava Brooks", password: "ava-demo-password", roles: []string{callvault.RoleAuditor},
				shows: "auditor without an extension: reads the audit trail, denied call records (subject: no role grants calls.read)"},
		},
		globex: {
			{login: "klaus", name: "Klaus Weber", password: "klaus-demo-password", roles: []string{callvault.RoleAdmin}, license: "pro",
				level: callvault.AccessAdmin, ext: true, shows: "tenant admin of globex (region eu, one-year retention)"},
			{login: "greta", name: "Greta Hoffmann", password: "greta-demo-password", roles: []string{callvault.RoleSupervisor}, license: "basic",
				level: callvault.AccessSupervisor, ext: true, shows: "supervisor whose license 'basic' lacks analytics: analytics denied at the product layer"},
		},
		initech: {
			{login: "bill", name: "Bill Lumbergh", password: "bill-demo-password", roles: []string{callvault.RoleAdmin}, license: "analytics-addon",
				level: callvault.AccessAdmin, ext: true, shows: "tenant admin of initech"},
			{login: "peter", name: "Peter Gibbons", password: "peter-demo-password", roles: []string{callvault.RoleAgent}, license: "standard",
				level: callvault.AccessNone, ext: true, shows: "agent with analytics access level none"},
		},
	}
	opUser := &callvault.User{TenantID: callvault.OperatorTenant, ID: s.id("usr"), Login: c.OperatorLogin, Name: "Installation Operator",
		Roles: []string{callvault.RoleOperator}, SiteScope: []string{}, Status: callvault.UserActive}

	passwords := []string{sharedPassword, c.OperatorPass}
	for _, ps := range people {
		for _, p := range ps {
			passwords = append(passwords, p.password)
		}
	}
	hashes, err := hashAll(passwords)
	if err != nil {
		return err
	}
	s.d.Shape.Users = 1 // the operator
	opUser.PasswordHash = hashes[c.OperatorPass]
	s.principal(Principal{Name: opUser.Login, Tenant: opUser.TenantID, Kind: "user", UserID: opUser.ID, Login: opUser.Login,
		Password: c.OperatorPass, Roles: opUser.Roles, Shows: "installation operator: manages tenants, acts in any tenant (audited as impersonator)"})
	for _, ts := range s.tenants {
		s.users(ts, people[ts], hashes)
	}
	c.AdminID, c.AgentID = acme.users[0].ID, acme.users[1].ID
	c.SiteID, c.SiteName = acme.sites[0].ID, acme.sites[0].Name

	apps, keys, consents, jwtCred, err := s.integrations(acme, globex, initech)
	if err != nil {
		return err
	}

	return s.st.Update(ctx, func(tx callvault.Tx) error {
		var recs []*callvault.AuditRecord
		add := func(tenant, etype, key, name string, v any) error {
			recs = append(recs, &callvault.AuditRecord{TenantID: tenant, Service: callvault.AuditPlatform, EventType: callvault.EventCreate,
				EntityType: etype, EntityKey: key, DisplayName: name, Timestamp: s.created, AuditUserID: "system",
				Principal: "system:demo-seed", Outcome: callvault.OutcomeSuccess, Details: createdDetails(v)})
			return nil
		}
		do := func(err error, tenant, etype, key, name string, v any) error {
			if err != nil {
				return err
			}
			return add(tenant, etype, key, name, v)
		}
		all := []*callvault.Tenant{operator, acme.t, globex.t, initech.t}
		s.d.Shape.Tenants, s.d.Shape.Regions = len(all), sortedRegions(all)
		for _, t := range all {
			t.AuditRetentionDays, t.CreatedAt, t.UpdatedAt = callvault.DefaultAuditRetentionDays, s.created, s.created
			if t.AllowedClientRegions == nil {
				t.AllowedClientRegions = []string{}
			}
			if err := do(tx.CreateTenant(t), t.ID, "tenant", t.ID, t.Name, t); err != nil {
				return err
			}
		}
		if err := do(tx.CreateUser(stamp(opUser, s.created)), opUser.TenantID, "user", opUser.ID, opUser.Name, opUser); err != nil {
			return err
		}
		for _, ts := range s.tenants {
			s.d.Shape.Sites += len(ts.sites)
			for _, st := range ts.sites {
				st.CreatedAt, st.UpdatedAt = s.created, s.created
				if err := do(tx.CreateSite(st), st.TenantID, "site", st.ID, st.Name, st); err != nil {
					return err
				}
			}
			for _, l := range ts.licenses {
				l.CreatedAt, l.UpdatedAt = s.created, s.created
				if err := do(tx.CreateLicense(l), l.TenantID, "license", l.Name, l.Name, l); err != nil {
					return err
				}
			}
			for _, u := range ts.users {
				if err := do(tx.CreateUser(stamp(u, s.created)), u.TenantID, "user", u.ID, u.Name, u); err != nil {
					return err
				}
			}
		}
		for _, a := range apps {
			a.CreatedAt, a.UpdatedAt = s.created, s.created
			if err := do(tx.CreateApp(a), a.TenantID, "app", a.ID, a.Name, a); err != nil {
				return err
			}
		}
		for _, cs := range consents {
			cs.CreatedAt, cs.UpdatedAt = s.created, s.created
			name := ""
			for _, a := range apps {
				if a.ID == cs.AppID {
					name = a.Name
				}
			}
			if err := do(tx.PutConsent(cs), cs.TenantID, "consent", cs.AppID, name, cs); err != nil {
				return err
			}
		}
		for _, k := range keys {
			k.CreatedAt = s.created
			if err := do(tx.CreateAPIKey(k), k.TenantID, "apiKey", k.ID, k.Name, k); err != nil {
				return err
			}
		}
		jwtCred.CreatedAt = s.created
		if err := do(tx.CreateJWTCredential(jwtCred), jwtCred.TenantID, "jwtCredential", jwtCred.ID, jwtCred.Name, jwtCred); err != nil {
			return err
		}
		s.d.Shape.AuditRecords += len(recs)
		return tx.AppendAudit(recs...)
	})
}

// stamp sets a user's creation times and returns it.
func stamp(u *callvault.User, t time.Time) *callvault.User {
	u.CreatedAt, u.UpdatedAt = t, t
	return u
}

// principal adds a credential to the demo's list.
func (s *seeder) principal(p Principal) { s.d.Principals = append(s.d.Principals, p) }

// users makes the tenant's users: the named people first, then generated
// ones with a spread of roles, licenses, access levels, site scopes and
// statuses.
func (s *seeder) users(ts *tenantSpec, people []person, hashes map[string]string) {
	ts.byExt = map[string]*callvault.User{}
	base := map[string]int{"acme": 101, "globex": 2001, "initech": 301}[ts.t.ID]
	logins := map[string]bool{}
	add := func(u *callvault.User, ext bool, scoped bool, password, shows string) {
		u.TenantID, u.ID, u.Status = ts.t.ID, s.id("usr"), callvault.UserActive
		u.SiteScope = []string{}
		if ext {
			n := len(ts.exts)
			u.Extension = strconv.Itoa(base + n)
			u.HomeSiteID = ts.sites[n%len(ts.sites)].ID // callgen's round-robin
			ts.exts = append(ts.exts, u.Extension)
			ts.byExt[u.Extension] = u
			if scoped {
				u.SiteScope = []string{u.HomeSiteID}
			}
		}
		u.PasswordHash = hashes[password]
		logins[u.Login] = true
		ts.users = append(ts.users, u)
		s.principal(Principal{Name: u.Login, Tenant: u.TenantID, Kind: "user", UserID: u.ID, Login: u.Login, Password: password,
			Extension: u.Extension, Roles: u.Roles, License: u.License, Shows: shows})
	}
	for _, p := range people {
		u := &callvault.User{Login: p.login, Name: p.name, Email: p.login + "@" + ts.t.ID + ".example", Roles: p.roles, License: p.license}
		if p.level != "" {
			u.AccessLevels = map[string]callvault.AccessLevel{callvault.ProductAnalytics: p.level}
		}
		add(u, p.ext, p.scoped, p.password, p.shows)
	}
	for len(ts.users) < ts.size {
		first, last := ts.first[s.rng.IntN(len(ts.first))], ts.last[s.rng.IntN(len(ts.last))]
		login := strings.ToLower(first + "." + last)
		for i := 2; logins[login]; i++ {
			login = strings.ToLower(first+"."+last) + strconv.Itoa(i)
		}
		u := &callvault.User{Login: login, Name: first + " " + last, Email: login + "@" + ts.t.ID + ".example"}
		var role string
		var level callvault.AccessLevel
		ext, scoped := true, false
		switch p := s.rng.IntN(100); {
		case p < 5:
			role, level, ext = callvault.RoleAdmin, callvault.AccessAdmin, s.rng.IntN(2) == 0
		case p < 20:
			role, level, scoped = callvault.RoleSupervisor, callvault.AccessSupervisor, s.rng.IntN(2) == 0
		case p < 95:
			role, level, scoped = callvault.RoleAgent, callvault.AccessAgent, s.rng.IntN(10) < 3
			if s.rng.IntN(10) < 3 {
				level = callvault.AccessNone
			}
		default:
			role, level, ext = callvault.RoleAuditor, callvault.AccessNone, false
		}
		u.Roles = []string{role}
		u.AccessLevels = map[string]callvault.AccessLevel{callvault.ProductAnalytics: level}
		// Supervisors and admins mostly hold an analytics license; agents
		// mostly the basic one.
		basic, full := ts.licenses[0].Name, ts.licenses[1].Name
		switch {
		case role == callvault.RoleAuditor:
		case level.Rank() >= callvault.AccessSupervisor.Rank():
			u.License = full
			if len(ts.licenses) > 2 && s.rng.IntN(3) == 0 {
				u.License = ts.licenses[2].Name
			}
		default:
			u.License = basic
			if s.rng.IntN(5) == 0 {
				u.License = full
			}
		}
		shows := fmt.Sprintf("%s, license %s, analytics %s", role, orNone(u.License), level)
		add(u, ext, scoped, sharedPassword, shows)
		if s.rng.IntN(30) == 0 {
			u.Status = callvault.UserDisabled
			s.d.Principals[len(s.d.Principals)-1].Shows += "; disabled: every sign-in is refused"
		}
	}
	s.d.Shape.Users += len(ts.users)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// integrations makes the apps, API keys, consents and the JWT credential.
func (s *seeder) integrations(acme, globex, initech *tenantSpec) ([]*callvault.App, []*callvault.APIKey, []*callvault.Consent, *callvault.JWTCredential, error) {
	c := s.d
	type appSpec struct {
		slug   string
		app    *callvault.App
		public bool
		shows  string
	}
	p := func(ps ...callvault.Permission) []callvault.Permission { return ps }
	cc := []string{callvault.GrantClientCredentials, callvault.GrantRefreshToken}
	specs := []appSpec{
		{"acme-sync", &callvault.App{TenantID: "acme", Name: "Acme Sync", Grants: allGrants, Roles: []string{callvault.RoleAuditor},
			Scopes: p(callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermRecordingsRead, callvault.PermActiveCallsRead,
				callvault.PermAnalyticsRead, callvault.PermAuditRead, callvault.PermAdminRead, callvault.PermAdminWrite)}, false,
			"acme's main integration: users sign in through it (password, JWT, refresh) and get what their roles allow; lacks analytics.export and calls.write; globex admits it for audit.read"},
		{"call-log-viewer", &callvault.App{TenantID: "acme", Name: "Call Log Viewer", Grants: allGrants, Roles: []string{callvault.RoleAgent},
			Scopes: p(callvault.PermCallsRead)}, false,
			"holds only calls.read: lacks recordings.read, admin.read and everything else (scopes denials with hints)"},
		{"insights-dashboard", &callvault.App{TenantID: "acme", Name: "Insights Dashboard", Grants: cc, Roles: []string{callvault.RoleSupervisor},
			Scopes: p(callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermActiveCallsRead, callvault.PermAnalyticsRead)}, false,
			"service app for wallboards: aggregates and live calls; lacks analytics.export (the raw event stream) and recordings.read"},
		{"pbx-connector", &callvault.App{TenantID: "acme", Name: "PBX Connector", Grants: cc, Roles: []string{callvault.RoleIntegrator},
			Scopes: p(callvault.PermCallsWrite, callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermActiveCallsRead)}, false,
			"ingest service: posts call records and live call events (calls.write); lacks recordings.read"},
		{"globex-exporter", &callvault.App{TenantID: "globex", Name: "Globex Exporter", Grants: cc, Roles: []string{callvault.RoleIntegrator},
			Scopes: p(callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermRecordingsRead, callvault.PermAnalyticsRead, callvault.PermAnalyticsExport)}, false,
			"globex (eu) service exporting the raw event stream (analytics.export); initech admits it, but initech (us) admits no eu apps: region denial"},
		{"globex-helpdesk", &callvault.App{TenantID: "globex", Name: "Globex Helpdesk", Grants: []string{callvault.GrantPassword, callvault.GrantRefreshToken},
			Roles: []string{callvault.RoleAgent}, Scopes: p(callvault.PermCallsRead, callvault.PermActiveCallsRead, callvault.PermRecordingsRead)}, true,
			"public client (no secret) for globex agents: own calls, live calls and recordings"},
		{"initech-reports", &callvault.App{TenantID: "initech", Name: "Initech Reports", Grants: cc, Roles: []string{callvault.RoleIntegrator},
			Scopes: p(callvault.PermCallsRead, callvault.PermCallsReadAll, callvault.PermAnalyticsRead, callvault.PermAnalyticsExport)}, false,
			"initech reporting service: calls, analytics and the event stream; lacks recordings.read"},
		{"operator-console", &callvault.App{TenantID: callvault.OperatorTenant, Name: "Operator Console",
			Grants: []string{callvault.GrantPassword, callvault.GrantRefreshToken}, Scopes: callvault.Permissions}, false,
			"the operators' console: every permission, for operator users"},
	}
	var apps []*callvault.App
	byName := map[string]*callvault.App{}
	s.apps = byName
	for _, sp := range specs {
		a := sp.app
		a.ID = s.id("app")
		secret := ""
		if !sp.public {
			secret = credential.New(credential.PrefixClientSecret)
			a.SecretHash = credential.Hash(secret)
		}
		apps = append(apps, a)
		byName[sp.slug] = a
		s.principal(Principal{Name: sp.slug, Tenant: a.TenantID, Kind: "app", ClientID: a.ID, ClientSecret: secret,
			Grants: a.Grants, Scopes: a.Scopes, Roles: a.Roles, Shows: sp.shows})
		switch sp.slug {
		case "acme-sync":
			c.AppID, c.AppSecret = a.ID, secret
		case "call-log-viewer":
			c.NarrowAppID, c.NarrowAppSecret = a.ID, secret
		case "operator-console":
			c.OperatorAppID, c.OperatorSecret = a.ID, secret
		}
	}
	s.d.Shape.Apps = len(apps)

	consents := []*callvault.Consent{
		{TenantID: "globex", AppID: byName["acme-sync"].ID, AppTenant: "acme", Scopes: p(callvault.PermAuditRead), Roles: []string{callvault.RoleAuditor}},
		{TenantID: "initech", AppID: byName["globex-exporter"].ID, AppTenant: "globex", Scopes: p(callvault.PermCallsRead, callvault.PermCallsReadAll,
			callvault.PermAnalyticsExport), Roles: []string{callvault.RoleIntegrator}},
	}

	type keySpec struct {
		slug, tenant, name, kind, subject string
		scopes                            []callvault.Permission
		shows                             string
	}
	maria, klaus := acme.users[0], globex.users[0]
	var keys []*callvault.APIKey
	for _, ks := range []keySpec{
		{"maria-audit-key", "acme", "auditor key", callvault.SubjectUser, maria.ID, p(callvault.PermAuditRead, callvault.PermAdminRead),
			"maria's API key for the audit trail (audit.read, admin.read): find any request by its X-Request-Id"},
		{"pbx-ingest-key", "acme", "PBX ingest key", callvault.SubjectApp, byName["pbx-connector"].ID, p(callvault.PermCallsWrite, callvault.PermActiveCallsRead),
			"the PBX connector's API key: posts call events and records, reads live calls; denied recordings (scopes)"},
		{"klaus-audit-key", "globex", "compliance export", callvault.SubjectUser, klaus.ID, p(callvault.PermAuditRead),
			"klaus' API key for globex's audit trail"},
	} {
		secret := credential.New(credential.PrefixAPIKey)
		keys = append(keys, &callvault.APIKey{TenantID: ks.tenant, ID: s.id("key"), Name: ks.name, Hash: credential.Hash(secret),
			Hint: credential.Hint(secret), SubjectKind: ks.kind, SubjectID: ks.subject, Scopes: ks.scopes})
		s.principal(Principal{Name: ks.slug, Tenant: ks.tenant, Kind: "apiKey", APIKey: secret, Subject: ks.kind + ":" + ks.subject,
			Scopes: ks.scopes, Shows: ks.shows})
		switch ks.slug {
		case "maria-audit-key":
			c.APIKey = secret
		case "pbx-ingest-key":
			c.IngestKey = secret
		}
	}

	jwtCred := &callvault.JWTCredential{TenantID: "acme", ID: s.id("jwt"), UserID: c.AgentID, Name: "sam's integration"}
	var err error
	if c.AgentJWT, err = credential.SignJWT(s.o.JWTKey, s.o.BaseURL, "acme", c.AgentID, jwtCred.ID, s.o.Now, time.Time{}); err != nil {
		return nil, nil, nil, nil, err
	}
	s.principal(Principal{Name: "sam-jwt", Tenant: "acme", Kind: "jwt", UserID: c.AgentID, JWT: c.AgentJWT,
		Shows: "sam's user JWT credential: exchange it with the jwt-bearer grant through an app that allows it (Acme Sync)"})
	return apps, keys, consents, jwtCred, nil
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

// sortedRegions returns the distinct regions of the tenants.
func sortedRegions(ts []*callvault.Tenant) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.Region) {
			out = append(out, t.Region)
		}
	}
	slices.Sort(out)
	return out
}
