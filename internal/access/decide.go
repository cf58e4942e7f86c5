package access

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Engine decides requests. It holds no state besides its clock: Decide reads
// only its arguments, performs no I/O and mutates nothing shared, so one
// Engine may serve any number of goroutines.
type Engine struct {
	// Now returns the current time; nil means time.Now. Tests inject a
	// fixed clock.
	Now func() time.Time
}

// layerOrder is the checking order; a private copy so that nobody can
// reorder the engine by changing the exported Layers slice.
var layerOrder = [...]Layer{LayerCredential, LayerTenant, LayerRegion, LayerScopes, LayerSubject, LayerProduct, LayerWindow}

// Decide checks the seven layers in order (credential, tenant, region,
// scopes, subject, product, window). The first failing layer is the answer:
// the Decision names it, what is missing, a one-sentence Reason and a
// one-sentence Hint saying who can fix it and how. The trace always has one
// Step per layer: Pass with a detail, Fail with a detail, or NotReached with
// an empty detail for the layers after a failure.
//
// A nil principal fails the credential layer.
//
// Times in details, reasons and hints are RFC 3339 in UTC. Choices where
// the layer descriptions leave room:
//   - region: when neither r.Tenant nor p.Tenant is set the region cannot be
//     checked, and a principal with an app is denied (fail closed);
//   - scopes: a credential without an app (a user's API key) that lacks the
//     permission fails with MissingScope, since no app could hold it;
//   - product: app principals (service principals) have no product gates,
//     so an app holding calls.read reads every extension's records;
//   - window: a zero r.To counts as now for the maximum window; a range
//     whose To is before its From fails with Missing.Name = From.
func (e *Engine) Decide(p *Principal, a Action, r Resource) Decision {
	now := time.Now
	if e != nil && e.Now != nil {
		now = e.Now
	}
	d := Decision{Action: a.Name, Trace: make([]Step, len(layerOrder))}
	// Every step's detail is appended to one buffer, turned into a string
	// once (without a copy) and sliced into the steps: one allocation for
	// all details instead of several per layer. The buffer lives apart from decider so
	// that appending to it does not move the decision's inputs to the heap.
	var out detailBuf
	out.sb.Grow(576) // a size class; a full trace is usually 450-600 bytes
	c := decider{p: p, a: &a, r: &r, now: now(), d: &d, o: &out}
	var ends [len(layerOrder)]int
	failed := -1
	for i, l := range layerOrder {
		var ok bool
		c.step = out.sb.Len()
		switch l {
		case LayerCredential:
			ok = c.credential()
		case LayerTenant:
			ok = c.tenant()
		case LayerRegion:
			ok = c.region()
		case LayerScopes:
			ok = c.scopes()
		case LayerSubject:
			ok = c.subject()
		case LayerProduct:
			ok = c.product()
		case LayerWindow:
			ok = c.window()
		}
		ends[i] = out.sb.Len()
		if !ok {
			failed = i
			break
		}
	}
	text := out.sb.String()
	start := 0
	for i, l := range layerOrder {
		switch {
		case failed < 0 || i < failed:
			d.Trace[i] = Step{Layer: l, Result: Pass, Detail: text[start:ends[i]]}
		case i == failed:
			d.Trace[i] = Step{Layer: l, Result: Fail, Detail: text[start:ends[i]]}
			d.Layer = l
		default:
			d.Trace[i] = Step{Layer: l, Result: NotReached}
			continue
		}
		start = ends[i]
	}
	d.Allowed = failed < 0
	return d
}

// decider carries one decision's inputs through the layers. Each layer
// method appends its step's detail to o and reports whether it passed;
// a failing one also fills the decision's Missing, Reason and Hint.
type decider struct {
	p   *Principal
	a   *Action
	r   *Resource
	now time.Time
	d   *Decision
	o   *detailBuf
	// step is where the current layer's detail starts in o.
	step int
}

// detailBuf collects the trace details of one decision. A strings.Builder
// hands its bytes out as a string without copying them.
type detailBuf struct{ sb strings.Builder }

// w appends s.
func (o *detailBuf) w(s string) { o.sb.WriteString(s) }

// wb appends b.
func (o *detailBuf) wb(b []byte) { o.sb.Write(b) }

// wq appends s quoted: 'maria'.
func (o *detailBuf) wq(s string) {
	o.sb.WriteByte('\'')
	o.sb.WriteString(s)
	o.sb.WriteByte('\'')
}

// wt appends a time in RFC 3339, UTC.
func (o *detailBuf) wt(t time.Time) {
	var tmp [40]byte
	o.sb.Write(t.UTC().AppendFormat(tmp[:0], time.RFC3339))
}

// n is the number of bytes written so far.
func (o *detailBuf) n() int { return o.sb.Len() }

// sep appends "; " when the current layer already wrote since start.
func (o *detailBuf) sep(start int) {
	if o.sb.Len() > start {
		o.w("; ")
	}
}

// fail appends a failing step's detail, records the denial and returns
// false for the layer method to return.
func (c *decider) fail(detail, kind, name, reason, hint string) bool {
	c.o.sep(c.step) // after the checks of this layer that passed
	c.o.w(detail)
	c.deny(kind, name, reason, hint)
	return false
}

// deny records what is missing and why; the caller returns false.
func (c *decider) deny(kind, name, reason, hint string) {
	c.d.Missing = Missing{Kind: kind, Name: name}
	c.d.Reason = reason
	c.d.Hint = hint
}

// ---- layer 1: credential ----

func (c *decider) credential() bool {
	p := c.p
	if p == nil {
		return c.fail("no valid credential", MissingCredential, "",
			"The request carries no valid credential.",
			"Authenticate with an API key or an OAuth access token in the Authorization header.")
	}
	cred := &p.Credential
	if cred.Revoked {
		what := credentialPhrase(p)
		return c.fail(what+": revoked", MissingCredential, cred.ID,
			"The "+what+" was revoked.",
			renewHint(p, "")+".")
	}
	if !cred.ExpiresAt.IsZero() && !cred.ExpiresAt.After(c.now) {
		what, exp := credentialPhrase(p), ts(cred.ExpiresAt)
		return c.fail(what+": expired "+exp, MissingCredential, cred.ID,
			"The "+what+" expired at "+exp+".",
			renewHint(p, "")+".")
	}
	if p.Kind == callvault.SubjectUser && p.UserStatus == callvault.UserDisabled {
		user := q(userName(p))
		return c.fail("user "+user+" is disabled", MissingCredential, cred.ID,
			"User "+user+" of tenant "+q(p.TenantID)+" is disabled, so none of the user's credentials work.",
			"A tenant admin of "+q(p.TenantID)+" can re-enable user "+user+".")
	}
	var tmp [160]byte
	c.o.wb(appendCredentialPhrase(tmp[:0], p))
	if !cred.IssuedAt.IsZero() {
		c.o.w(", issued ")
		c.o.wt(cred.IssuedAt)
	}
	if cred.ExpiresAt.IsZero() {
		c.o.w(", never expires")
	} else {
		c.o.w(", expires ")
		c.o.wt(cred.ExpiresAt)
	}
	return true
}

// appendCredentialPhrase appends a description of the credential without
// secrets, e.g. "access token of user 'maria' via app 'Acme Sync'".
func appendCredentialPhrase(b []byte, p *Principal) []byte {
	b = append(b, credNoun(p)...)
	if p.Credential.Kind == "api_key" && p.Credential.ID != "" {
		b = appendQ(append(b, ' '), p.Credential.ID)
	}
	if p.Kind == callvault.SubjectApp {
		b = appendQ(append(b, " of app "...), appName(p))
		return append(b, " as service principal"...)
	}
	b = appendQ(append(b, " of user "...), userName(p))
	if p.AppID != "" {
		b = appendQ(append(b, " via app "...), appName(p))
	}
	return b
}

// credentialPhrase is appendCredentialPhrase as a string.
func credentialPhrase(p *Principal) string { return string(appendCredentialPhrase(nil, p)) }

// credNoun names the credential kind in plain English.
func credNoun(p *Principal) string {
	switch p.Credential.Kind {
	case "access_token":
		return "access token"
	case "api_key":
		return "API key"
	case "":
		return "credential"
	}
	return p.Credential.Kind
}

// renewHint says how to get a fresh credential, optionally one that
// includes perm; the caller adds the final punctuation.
func renewHint(p *Principal, perm callvault.Permission) string {
	with := ""
	if perm != "" {
		with = " that includes " + string(perm)
	}
	if p.Credential.Kind == "api_key" {
		return "Create a new API key" + with + " in tenant " + q(p.TenantID)
	}
	return "Request a new access token" + with
}

// ---- layer 2: tenant ----

func (c *decider) tenant() bool {
	p, r := c.p, c.r
	own := false
	switch {
	case r.TenantID == "":
		if !p.Operator {
			return c.fail("installation-wide resource; "+subjectName(p)+" is not an operator",
				MissingTenant, callvault.OperatorTenant,
				"Action "+q(c.a.Name)+" concerns the whole installation, which only operators reach, and "+subjectName(p)+" of tenant "+q(p.TenantID)+" is not an operator.",
				"Ask an operator of this installation (a user of tenant "+q(callvault.OperatorTenant)+" holding role "+callvault.RoleOperator+") to do it.")
		}
		c.o.w("installation-wide resource; operator ")
		c.o.wq(userName(p))
	case r.TenantID != p.TenantID:
		if !p.Operator {
			// Nothing here may depend on whether r.TenantID exists.
			return c.fail("credential issued for tenant "+q(p.TenantID)+", not "+q(r.TenantID),
				MissingTenant, r.TenantID,
				"The credential was issued for tenant "+q(p.TenantID)+", not "+q(r.TenantID)+".",
				"Request a token for tenant "+q(r.TenantID)+" as a user or app of that tenant, or through an app that tenant "+q(r.TenantID)+" has admitted by consent.")
		}
		c.d.Impersonating = true
		c.o.w("operator ")
		c.o.wq(userName(p))
		c.o.w(" acting in tenant ")
		c.o.wq(r.TenantID)
		c.o.w("; audited as impersonator")
	default:
		own = true
	}
	if p.AppID == "" {
		if own {
			c.o.wq(p.TenantID)
			c.o.w(" is the credential's tenant; no client app")
		}
		return true
	}
	if !own {
		c.o.w("; ")
	}
	if p.TenantID == p.AppTenant {
		c.o.wq(p.TenantID)
		c.o.w(" is the app's home tenant")
		return true
	}
	app := q(appName(p))
	cs := p.Consent
	if cs == nil || cs.AppID != p.AppID || (cs.TenantID != "" && cs.TenantID != p.TenantID) {
		return c.fail("no consent of tenant "+q(p.TenantID)+" for app "+app, MissingConsent, p.AppID,
			"Tenant "+q(p.TenantID)+" has not admitted app "+app+" (home tenant "+q(p.AppTenant)+").",
			"An admin of tenant "+q(p.TenantID)+" can admit app "+app+" by granting it consent.")
	}
	if !cs.Active() {
		when := ts(cs.RevokedAt)
		return c.fail("consent of tenant "+q(p.TenantID)+" for app "+app+" revoked "+when, MissingConsent, p.AppID,
			"Tenant "+q(p.TenantID)+" revoked its consent for app "+app+" (home tenant "+q(p.AppTenant)+") at "+when+".",
			"An admin of tenant "+q(p.TenantID)+" can admit app "+app+" again by granting it a new consent.")
	}
	c.o.w("tenant ")
	c.o.wq(p.TenantID)
	c.o.w(" admits app ")
	c.o.wq(appName(p))
	c.o.w(" (home ")
	c.o.wq(p.AppTenant)
	c.o.w(") by consent")
	return true
}

// ---- layer 3: region ----

func (c *decider) region() bool {
	p := c.p
	if p.AppID == "" {
		c.o.w("no client app")
		return true
	}
	t := c.targetTenant()
	tid := c.targetID()
	if t == nil {
		app := q(appName(p))
		return c.fail("region of tenant "+q(tid)+" unknown", MissingRegion, p.AppRegion,
			"The region of tenant "+q(tid)+" is unknown to the permission engine, so app "+app+" from region "+p.AppRegion+" cannot be admitted.",
			"This is a server fault (the tenant record was not loaded); retry, and report it to the operators if it persists.")
	}
	if strings.EqualFold(t.Region, p.AppRegion) {
		c.o.w("app region ")
		c.o.w(p.AppRegion)
		c.o.w(" = tenant region ")
		c.o.w(t.Region)
		return true
	}
	for _, ar := range t.AllowedClientRegions {
		if strings.EqualFold(ar, p.AppRegion) {
			c.o.w("app region ")
			c.o.w(p.AppRegion)
			c.o.w(" is in allowedClientRegions of tenant ")
			c.o.wq(tid)
			c.o.w(" (region ")
			c.o.w(t.Region)
			c.o.w(")")
			return true
		}
	}
	app := q(appName(p))
	return c.fail("app region "+p.AppRegion+" != tenant region "+t.Region+"; not in allowedClientRegions "+list(t.AllowedClientRegions),
		MissingRegion, p.AppRegion,
		"App "+app+" is homed in region "+p.AppRegion+", but tenant "+q(tid)+" keeps its data in region "+t.Region+" and does not allow clients from region "+p.AppRegion+".",
		"An admin of tenant "+q(tid)+" can add "+p.AppRegion+" to the tenant setting allowedClientRegions to admit apps from that region.")
}

// ---- layer 4: scopes ----

// foreign reports whether the principal's app acts in a tenant other than
// its home, under a consent (checked active by the tenant layer).
func (c *decider) foreign() bool {
	return c.p.AppID != "" && c.p.TenantID != c.p.AppTenant && c.p.Consent != nil
}

// scopeState says where perm is held: in the credential's scopes, in the
// app's scopes now (true without app) and in the consent's scopes now
// (true without consent).
func (c *decider) scopeState(perm callvault.Permission) (inToken, inApp, inConsent bool) {
	p := c.p
	inToken = slices.Contains(p.Credential.Scopes, perm)
	inApp = p.AppID == "" || slices.Contains(p.AppScopes, perm)
	inConsent = !c.foreign() || slices.Contains(p.Consent.Scopes, perm)
	return
}

func (c *decider) scopes() bool {
	perm := c.a.Permission
	if perm == "" {
		c.o.w("authentication only")
		return true
	}
	p := c.p
	inToken, inApp, inConsent := c.scopeState(perm)
	if inToken && inApp && inConsent {
		c.o.w(string(perm))
		c.o.w(" in ")
		c.o.w(credNoun(p))
		c.o.w(" scopes")
		if p.AppID != "" {
			c.o.w(", app scopes now")
		}
		if c.foreign() {
			c.o.w(", consent scopes of ")
			c.o.wq(p.TenantID)
			c.o.w(" now")
		}
		return true
	}
	detail := c.scopeDetail(perm, inToken, inApp, inConsent)
	hint := c.scopeHint(perm, inToken, inApp, inConsent)
	app := q(appName(p))
	noun := credNoun(p)
	switch {
	case !inApp && inToken:
		return c.fail(detail, MissingScope, string(perm),
			"App "+app+" no longer holds "+string(perm)+": it was removed from the app's scopes after the "+noun+" was issued, effective immediately.", hint)
	case !inApp:
		return c.fail(detail, MissingScope, string(perm),
			"App "+app+" does not hold "+string(perm)+", and the scopes "+permList(p.Credential.Scopes)+" of the "+noun+" do not include it.", hint)
	case !inConsent:
		return c.fail(detail, MissingScope, string(perm),
			"The consent of tenant "+q(p.TenantID)+" for app "+app+" does not include "+string(perm)+".", hint)
	case p.AppID != "":
		return c.fail(detail, MissingStaleScope, string(perm),
			"The "+noun+" was issued"+at(p.Credential.IssuedAt)+" before "+string(perm)+" was added to app "+app+" (or without requesting it), so its scopes "+permList(p.Credential.Scopes)+" lack it.", hint)
	}
	return c.fail(detail, MissingScope, string(perm),
		"The "+credentialPhrase(p)+" has scopes "+permList(p.Credential.Scopes)+", which do not include "+string(perm)+".", hint)
}

// scopeDetail is the trace line of a scope failure, e.g.
// "recordings.read: not in access token scopes [calls.read]; not in app scopes now".
func (c *decider) scopeDetail(perm callvault.Permission, inToken, inApp, inConsent bool) string {
	p := c.p
	s := string(perm) + ": "
	if inToken {
		s += "in " + credNoun(p) + " scopes"
	} else {
		s += "not in " + credNoun(p) + " scopes " + permList(p.Credential.Scopes)
	}
	if p.AppID != "" {
		if inApp {
			s += "; in app scopes now"
		} else {
			s += "; not in app scopes now"
		}
	}
	if c.foreign() {
		if inConsent {
			s += "; in consent scopes of " + q(p.TenantID) + " now"
		} else {
			s += "; not in consent scopes of " + q(p.TenantID) + " now"
		}
	}
	return s
}

// scopeHint says who can put perm into force and whether a new credential
// is needed, as one sentence.
func (c *decider) scopeHint(perm callvault.Permission, inToken, inApp, inConsent bool) string {
	p := c.p
	app := q(appName(p))
	if perm == callvault.PermTenantsManage && p.AppTenant != callvault.OperatorTenant && p.TenantID != callvault.OperatorTenant {
		return "Only operators of the installation hold " + string(perm) + ": sign in as a user of tenant " + q(callvault.OperatorTenant) + " with role " + callvault.RoleOperator + ", through an app of that tenant."
	}
	never := "tokens never gain scopes"
	if p.Credential.Kind == "api_key" {
		never = "API keys never gain scopes"
	}
	switch {
	case !inApp && inToken:
		h := "A tenant admin of " + q(p.AppTenant) + " can add " + string(perm) + " back to the scopes of app " + app + ", and credentials issued with it then work again"
		if !inConsent {
			h += " once the consent of tenant " + q(p.TenantID) + " includes it too"
		}
		return h + "."
	case !inApp:
		h := "A tenant admin of " + q(p.AppTenant) + " can add " + string(perm) + " to the scopes of app " + app
		if !inConsent {
			h += " and an admin of tenant " + q(p.TenantID) + " to its consent for the app"
		}
		return h + "; then " + lowerFirst(renewHint(p, perm)) + " - " + never + "."
	case !inConsent:
		h := "An admin of tenant " + q(p.TenantID) + " can add " + string(perm) + " to its consent for app " + app
		if !inToken {
			h += "; then " + lowerFirst(renewHint(p, perm)) + " - " + never
		}
		return h + "."
	}
	return renewHint(p, perm) + "; " + never + "."
}

// ---- layer 5: subject ----

// grantingRole returns the first of the principal's roles that grants perm.
func (c *decider) grantingRole(perm callvault.Permission) (string, bool) {
	for _, g := range c.p.Roles {
		if slices.Contains(g.Permissions, perm) {
			return g.Role, true
		}
	}
	return "", false
}

func (c *decider) subject() bool {
	perm := c.a.Permission
	if perm == "" {
		c.o.w("authentication only")
		return true
	}
	if role, ok := c.grantingRole(perm); ok {
		c.o.w("role ")
		c.o.wq(role)
		c.o.w(" grants ")
		c.o.w(string(perm))
		return true
	}
	p := c.p
	names := make([]string, len(p.Roles))
	for i, g := range p.Roles {
		names[i] = g.Role
	}
	held := "holds roles " + list(names) + ", none grants " + string(perm)
	if len(names) == 0 {
		held = "holds no roles, so nothing grants " + string(perm)
	}
	var reason string
	if p.Kind == callvault.SubjectApp {
		reason = "App " + q(appName(p)) + " as a service principal in tenant " + q(p.TenantID) + " " + held + "."
	} else {
		reason = "User " + q(userName(p)) + " " + held + "."
	}
	return c.fail(subjectName(p)+" "+held, MissingPermission, string(perm), reason, c.roleHint(perm))
}

// roleHint names the built-in roles granting perm and who can assign them.
func (c *decider) roleHint(perm callvault.Permission) string {
	p := c.p
	tid := p.TenantID
	if perm == callvault.PermTenantsManage && tid != callvault.OperatorTenant {
		return "Only operators of the installation (users of tenant " + q(callvault.OperatorTenant) + " holding role " + callvault.RoleOperator + ") hold " + string(perm) + "."
	}
	var roles []string
	for _, name := range builtinGrants[perm] {
		if name == callvault.RoleOperator && tid != callvault.OperatorTenant {
			continue
		}
		roles = append(roles, name)
	}
	if len(roles) == 0 {
		return "No built-in role grants " + string(perm) + "; a tenant admin of " + q(tid) + " can create a custom role with it and assign it to " + subjectName(p) + "."
	}
	var who string
	switch {
	case p.Kind != callvault.SubjectApp:
		who = "a tenant admin of " + q(tid) + " can assign one of them to user " + q(userName(p))
	case p.TenantID == p.AppTenant:
		who = "a tenant admin of " + q(tid) + " can add one of them to the roles of app " + q(appName(p))
	default:
		who = "an admin of tenant " + q(tid) + " can add one of them to its consent for app " + q(appName(p))
	}
	return "The built-in roles " + list(roles) + " grant " + string(perm) + "; " + who + "."
}

// builtinGrants maps each permission to the built-in roles granting it.
// Computed once at start-up and only read afterwards.
var builtinGrants = func() map[callvault.Permission][]string {
	m := make(map[callvault.Permission][]string)
	for _, r := range callvault.BuiltinRoles() {
		for _, perm := range r.Permissions {
			m[perm] = append(m[perm], r.Name)
		}
	}
	return m
}()

// ---- layer 6: product ----

func (c *decider) product() bool {
	p, a, r := c.p, c.a, c.r
	if p.Kind == callvault.SubjectApp {
		c.o.w("service principal: no product gates")
		return true
	}
	start := c.o.n()
	if a.Feature != "" {
		if p.License == nil {
			user := q(userName(p))
			return c.fail("no license assigned; needs feature "+a.Feature, MissingLicense, a.Feature,
				"User "+user+" has no license assigned, and action "+q(a.Name)+" needs the feature "+a.Feature+".",
				"A tenant admin of "+q(p.TenantID)+" can assign user "+user+" a license that includes "+a.Feature+".")
		}
		if !slices.Contains(p.License.Features, a.Feature) {
			user, lic := q(userName(p)), q(p.License.Name)
			return c.fail("license "+lic+" lacks feature "+a.Feature, MissingLicense, a.Feature,
				"The license "+lic+" of user "+user+" does not include the feature "+a.Feature+", which action "+q(a.Name)+" needs.",
				"A tenant admin of "+q(p.TenantID)+" can assign user "+user+" a license that includes "+a.Feature+", or add "+a.Feature+" to license "+lic+".")
		}
		c.o.w("license ")
		c.o.wq(p.License.Name)
		c.o.w(" includes ")
		c.o.w(a.Feature)
	}
	if a.Product != "" {
		have := p.AccessLevels[a.Product]
		if have == "" {
			have = callvault.AccessNone
		}
		if have.Rank() < a.MinLevel.Rank() {
			user := q(userName(p))
			return c.fail(a.Product+" access level "+string(have)+" < "+string(a.MinLevel),
				MissingAccessLevel, a.Product+":"+string(a.MinLevel),
				"User "+user+" has "+a.Product+" access level "+string(have)+", and action "+q(a.Name)+" needs "+string(a.MinLevel)+" or higher.",
				"A tenant admin of "+q(p.TenantID)+" can raise the "+a.Product+" access level of user "+user+" to "+string(a.MinLevel)+".")
		}
		c.o.sep(start)
		c.o.w(a.Product)
		c.o.w(" access level ")
		c.o.w(string(have))
		c.o.w(" >= ")
		c.o.w(string(a.MinLevel))
	}
	if a.SiteScoped && r.SiteID != "" {
		switch {
		case len(p.SiteScope) == 0:
			c.o.sep(start)
			c.o.w("all sites in scope")
		case slices.Contains(p.SiteScope, r.SiteID):
			c.o.sep(start)
			var tmp [96]byte
			c.o.wb(appendSite(tmp[:0], r))
			c.o.w(" in site scope")
		default:
			user, site := q(userName(p)), string(appendSite(nil, r))
			return c.fail(site+" not in site scope "+list(p.SiteScope), MissingSite, r.SiteID,
				"The "+site+" is outside the site scope "+list(p.SiteScope)+" of user "+user+".",
				"A tenant admin of "+q(p.TenantID)+" can add "+site+" to the site scope of user "+user+".")
		}
	}
	if a.Owned && r.OwnerExtension != "" {
		if r.OwnerExtension == p.Extension {
			c.o.sep(start)
			c.o.w("own extension ")
			c.o.w(r.OwnerExtension)
		} else {
			all := callvault.PermCallsReadAll
			_, roleOK := c.grantingRole(all)
			inToken, inApp, inConsent := c.scopeState(all)
			if !roleOK || !(inToken && inApp && inConsent) {
				return c.ownershipDenied(roleOK, inToken, inApp, inConsent)
			}
			c.o.sep(start)
			c.o.w("extension ")
			c.o.w(r.OwnerExtension)
			c.o.w(" readable via ")
			c.o.w(string(all))
		}
	}
	if c.o.n() == start {
		c.o.w("no product gates")
	}
	return true
}

// ownershipDenied denies reading another extension's data, naming whether
// the roles or the scopes in force lack calls.read.all.
func (c *decider) ownershipDenied(roleOK, inToken, inApp, inConsent bool) bool {
	p, r := c.p, c.r
	all := callvault.PermCallsReadAll
	user := q(userName(p))
	mine := "extension " + p.Extension + " of user " + user
	if p.Extension == "" {
		mine = "user " + user + ", who has no extension"
	}
	head := "The data belongs to extension " + r.OwnerExtension + ", not to " + mine
	if !roleOK {
		return c.fail("extension "+r.OwnerExtension+" is not the user's; no role grants "+string(all),
			MissingOwnership, string(all),
			head+", and no role of user "+user+" grants "+string(all)+".",
			c.roleHint(all))
	}
	sd := c.scopeDetail(all, inToken, inApp, inConsent)
	return c.fail("extension "+r.OwnerExtension+" is not the user's; "+sd,
		MissingOwnership, string(all),
		head+", and "+string(all)+" is not in force for this "+credNoun(p)+" ("+sd+").",
		c.scopeHint(all, inToken, inApp, inConsent))
}

// appendSite appends the resource's site for people: "site 'Berlin' (s_1)".
func appendSite(b []byte, r *Resource) []byte {
	b = append(b, "site "...)
	if r.SiteName == "" {
		return appendQ(b, r.SiteID)
	}
	b = appendQ(b, r.SiteName)
	b = append(b, " ("...)
	b = append(b, r.SiteID...)
	return append(b, ')')
}

// ---- layer 7: window ----

func (c *decider) window() bool {
	a, r := c.a, c.r
	if !a.Retention && a.MaxWindow <= 0 {
		c.o.w("no window gates")
		return true
	}
	if r.From.IsZero() && r.To.IsZero() {
		c.o.w("no time range")
		return true
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		from, to := ts(r.From), ts(r.To)
		return c.fail("range ends "+to+" before it starts "+from, MissingWindow, from,
			"The requested range ends at "+to+", before it starts at "+from+".",
			"Send a range whose end is at or after its start.")
	}
	start := c.o.n()
	if a.Retention && !r.From.IsZero() {
		days := callvault.DefaultRetentionDays
		if t := c.targetTenant(); t != nil && t.RetentionDays > 0 {
			days = t.RetentionDays
		}
		earliest := c.now.Add(-time.Duration(days) * 24 * time.Hour)
		if r.From.Before(earliest) {
			nd := strconv.Itoa(days) + " days"
			tid, e := q(c.targetID()), ts(earliest)
			return c.fail("from "+ts(r.From)+" before earliest "+e+" (retention "+nd+")", MissingWindow, e,
				"The requested range starts at "+ts(r.From)+", but tenant "+tid+" keeps call data for "+nd+", so the earliest time available is "+e+".",
				"Start the range at or after "+e+"; older data is outside the retention policy of tenant "+tid+".")
		}
		c.o.w("from within retention of ")
		var tmp [24]byte
		c.o.wb(strconv.AppendInt(tmp[:0], int64(days), 10))
		c.o.w(" days")
	}
	if a.MaxWindow > 0 && !r.From.IsZero() {
		to := r.To
		if to.IsZero() {
			to = c.now
		}
		if span := to.Sub(r.From); span > a.MaxWindow {
			limit := duration(a.MaxWindow)
			return c.fail("range "+duration(span)+" > maximum "+limit, MissingWindow, limit,
				"The requested range spans "+duration(span)+", more than the maximum window of "+limit+" of action "+q(a.Name)+".",
				"Split the request into ranges of at most "+limit+" each.")
		}
		c.o.sep(start)
		c.o.w("range within maximum ")
		var tmp [32]byte
		c.o.wb(appendDuration(tmp[:0], a.MaxWindow))
	}
	if c.o.n() == start {
		c.o.w("no window gates apply")
	}
	return true
}

// appendDuration appends d in days when it is a whole number of days, else
// in Go's duration syntax.
func appendDuration(b []byte, d time.Duration) []byte {
	const day = 24 * time.Hour
	if d%day != 0 {
		return append(b, d.String()...)
	}
	n := int64(d / day)
	b = strconv.AppendInt(b, n, 10)
	if n == 1 {
		return append(b, " day"...)
	}
	return append(b, " days"...)
}

// duration is appendDuration as a string.
func duration(d time.Duration) string { return string(appendDuration(nil, d)) }

// ---- shared helpers ----

// targetTenant is the record of the tenant the request targets: the
// resource's when given, else the credential's.
func (c *decider) targetTenant() *callvault.Tenant {
	if c.r.Tenant != nil {
		return c.r.Tenant
	}
	return c.p.Tenant
}

// targetID is the id of the tenant the request targets.
func (c *decider) targetID() string {
	if c.r.TenantID != "" {
		return c.r.TenantID
	}
	if c.r.Tenant != nil && c.r.Tenant.ID != "" {
		return c.r.Tenant.ID
	}
	return c.p.TenantID
}

// q quotes a name for texts: 'maria'.
func q(s string) string { return "'" + s + "'" }

// appendQ appends s quoted: 'maria'.
func appendQ(b []byte, s string) []byte {
	b = append(b, '\'')
	b = append(b, s...)
	return append(b, '\'')
}

// ts renders a time for texts: RFC 3339 in UTC.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// at renders " at <time>", or "" for the zero time.
func at(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " at " + ts(t)
}

// userName is the user's login, or id when the login is unknown.
func userName(p *Principal) string {
	if p.UserLogin != "" {
		return p.UserLogin
	}
	return p.UserID
}

// appName is the app's name, or id when the name is unknown.
func appName(p *Principal) string {
	if p.AppName != "" {
		return p.AppName
	}
	return p.AppID
}

// subjectName is "user 'maria'" or "app 'Acme Sync'".
func subjectName(p *Principal) string {
	if p.Kind == callvault.SubjectApp {
		return "app " + q(appName(p))
	}
	return "user " + q(userName(p))
}

// list renders names as "[a b c]".
func list(names []string) string { return "[" + strings.Join(names, " ") + "]" }

// permList renders permissions as "[calls.read recordings.read]".
func permList(perms []callvault.Permission) string {
	return "[" + callvault.ScopeString(perms) + "]"
}

// lowerFirst lower-cases the first letter of an ASCII sentence start.
func lowerFirst(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
