package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// listFlag is a repeatable (and comma-separable) string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// auditVerify is `callvault audit verify`: it proves each tenant's chain (or
// one with --tenant) against the data directory's checkpoint key, or names
// the first broken record and exits 3.
func (e *env) auditVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	var c config
	e.flags(fs, &c, false)
	tenant := fs.String("tenant", "", "verify only this tenant")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	d, err := openData(ctx, &c)
	if err != nil {
		return err
	}
	defer d.store.Close()
	ids := []string{*tenant}
	if *tenant == "" {
		ts, err := d.store.Tenants(ctx)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
	}
	broken := 0
	for _, id := range ids {
		rep, err := audit.Verify(ctx, d.store, id, d.auditKey.Public().(ed25519.PublicKey))
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, rep.String())
		if !rep.OK {
			broken++
		}
	}
	if broken > 0 {
		return &exitError{code: 3, msg: fmt.Sprintf("%d audit chain(s) failed verification", broken)}
	}
	return nil
}

// cliActor describes whoever runs an offline command, for audit records.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

// adminCreate runs the offline `<kind> create` commands. Each writes its
// object and its audit record in one transaction, and prints any secret
// once.
func (e *env) adminCreate(ctx context.Context, kind string, args []string) error {
	fs := flag.NewFlagSet(kind+" create", flag.ContinueOnError)
	var c config
	e.flags(fs, &c, false)
	var (
		tenant      = fs.String("tenant", "", "tenant id")
		id          = fs.String("id", "", "tenant id (tenant create)")
		name        = fs.String("name", "", "display name")
		region      = fs.String("region", "us", "tenant region")
		tz          = fs.String("timezone", "UTC", "tenant timezone (IANA)")
		login       = fs.String("login", "", "user login")
		ext         = fs.String("extension", "", "user extension")
		subjectKind = fs.String("subject-kind", callvault.SubjectUser, "API key subject: user or app")
		subject     = fs.String("subject", "", "API key subject id")
		expires     = fs.Int("expires-days", 0, "API key lifetime in days (0: no expiry)")
		public      = fs.Bool("public", false, "app without a client secret")
		roles       listFlag
		scopes      listFlag
		grants      listFlag
	)
	fs.Var(&roles, "role", "role (repeatable)")
	fs.Var(&scopes, "scope", "scope/permission (repeatable)")
	fs.Var(&grants, "grant", "OAuth grant type (repeatable)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	d, err := openData(ctx, &c)
	if err != nil {
		return err
	}
	defer d.store.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	perms, err := parsePerms(scopes)
	if err != nil {
		return err
	}
	rec := func(tenant, etype, key, display string, v any) *callvault.AuditRecord {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		delete(m, "createdAt")
		delete(m, "updatedAt")
		det, _ := json.Marshal(map[string]any{"new": m, "old": map[string]any{}})
		return &callvault.AuditRecord{TenantID: tenant, Service: callvault.AuditPlatform, EventType: callvault.EventCreate,
			EntityType: etype, EntityKey: key, DisplayName: display, Timestamp: now, AuditUserID: cliActor(),
			Principal: cliActor() + " (offline)", Outcome: callvault.OutcomeSuccess, Details: string(det)}
	}
	need := func(v, flagName string) error {
		if v == "" {
			return &exitError{code: 2, msg: "--" + flagName + " is required"}
		}
		return nil
	}
	var secret string
	var write func(tx callvault.Tx) error
	switch kind {
	case "tenant":
		if !callvault.ValidSlug(*id) {
			return &exitError{code: 2, msg: fmt.Sprintf("--id %q must be 2-63 lower-case letters, digits and dashes", *id)}
		}
		if _, err := time.LoadLocation(*tz); err != nil {
			return &exitError{code: 2, msg: fmt.Sprintf("--timezone %q is not an IANA time zone", *tz)}
		}
		t := &callvault.Tenant{ID: *id, Name: *name, Region: *region, Timezone: *tz, RetentionDays: callvault.DefaultRetentionDays,
			AuditRetentionDays: callvault.DefaultAuditRetentionDays, AllowedClientRegions: []string{}, CreatedAt: now, UpdatedAt: now}
		if t.Name == "" {
			t.Name = t.ID
		}
		write = func(tx callvault.Tx) error {
			if err := tx.CreateTenant(t); err != nil {
				return err
			}
			return tx.AppendAudit(rec(t.ID, "tenant", t.ID, t.Name, t))
		}
	case "user":
		if err := errorsJoin(need(*tenant, "tenant"), need(*login, "login")); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "password (read from standard input):")
		pw, _ := bufio.NewReader(e.stdin).ReadString('\n')
		pw = strings.TrimRight(pw, "\r\n")
		if len(pw) < credential.MinPasswordLen {
			return &exitError{code: 2, msg: fmt.Sprintf("the password must have at least %d characters", credential.MinPasswordLen)}
		}
		for _, r := range roles {
			if r == callvault.RoleOperator && *tenant != callvault.OperatorTenant {
				return &exitError{code: 2, msg: "the operator role exists only in the operator tenant"}
			}
		}
		h, err := credential.HashPassword(pw)
		if err != nil {
			return err
		}
		u := &callvault.User{TenantID: *tenant, ID: callvault.NewID("usr"), Login: *login, Name: *name, PasswordHash: h,
			Extension: *ext, Roles: append([]string{}, roles...), SiteScope: []string{}, Status: callvault.UserActive, CreatedAt: now, UpdatedAt: now}
		write = func(tx callvault.Tx) error {
			if _, err := tx.Tenant(ctx, *tenant); err != nil {
				return err
			}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "user %s created in tenant %s\n", u.ID, u.TenantID)
			return tx.AppendAudit(rec(u.TenantID, "user", u.ID, u.Name, u))
		}
	case "app":
		if err := errorsJoin(need(*tenant, "tenant"), need(*name, "name")); err != nil {
			return err
		}
		if len(grants) == 0 {
			grants = listFlag{callvault.GrantClientCredentials, callvault.GrantRefreshToken}
		}
		for _, g := range grants {
			if !slices.Contains(callvault.GrantTypes, g) {
				return &exitError{code: 2, msg: fmt.Sprintf("--grant %q: use one of %s", g, strings.Join(callvault.GrantTypes, ", "))}
			}
		}
		a := &callvault.App{TenantID: *tenant, ID: callvault.NewID("app"), Name: *name, Grants: grants, Scopes: perms,
			Roles: append([]string{}, roles...), CreatedAt: now, UpdatedAt: now}
		if !*public {
			secret = credential.New(credential.PrefixClientSecret)
			a.SecretHash = credential.Hash(secret)
		}
		write = func(tx callvault.Tx) error {
			if _, err := tx.Tenant(ctx, *tenant); err != nil {
				return err
			}
			if err := tx.CreateApp(a); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "app %q created: client_id %s\n", a.Name, a.ID)
			return tx.AppendAudit(rec(a.TenantID, "app", a.ID, a.Name, a))
		}
	case "apikey":
		if err := errorsJoin(need(*tenant, "tenant"), need(*subject, "subject")); err != nil {
			return err
		}
		secret = credential.New(credential.PrefixAPIKey)
		k := &callvault.APIKey{TenantID: *tenant, ID: callvault.NewID("key"), Name: *name, Hash: credential.Hash(secret),
			Hint: credential.Hint(secret), SubjectKind: *subjectKind, SubjectID: *subject, Scopes: perms, CreatedAt: now}
		if *expires > 0 {
			k.ExpiresAt = now.Add(time.Duration(*expires) * 24 * time.Hour)
		}
		write = func(tx callvault.Tx) error {
			switch *subjectKind {
			case callvault.SubjectUser:
				if _, err := tx.User(ctx, *tenant, *subject); err != nil {
					return err
				}
			case callvault.SubjectApp:
				if _, err := tx.App(ctx, *tenant, *subject); err != nil {
					return err
				}
			default:
				return callvault.FieldError("subject-kind", "--subject-kind must be user or app")
			}
			if err := tx.CreateAPIKey(k); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "API key %s created for %s %s\n", k.ID, k.SubjectKind, k.SubjectID)
			return tx.AppendAudit(rec(k.TenantID, "apiKey", k.ID, k.Name, k))
		}
	}
	if err := d.store.Update(ctx, write); err != nil {
		return err
	}
	if secret != "" {
		fmt.Fprintf(e.stdout, "secret (shown once, store it now): %s\n", secret)
	}
	if kind == "tenant" {
		fmt.Fprintf(e.stdout, "tenant %s created\n", *id)
	}
	return nil
}

func parsePerms(scopes []string) ([]callvault.Permission, error) {
	perms, bad := callvault.ParseScope(strings.Join(scopes, " "))
	if bad != "" {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("unknown scope %q; known: %s", bad, callvault.ScopeString(callvault.Permissions))}
	}
	if perms == nil {
		perms = []callvault.Permission{}
	}
	return perms, nil
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
