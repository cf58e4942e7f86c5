package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

func testConsents(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta, gamma)
	app := newApp(alpha, "app_alpha")
	betaApp := newApp(beta, "app_beta")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateApp(app); err != nil {
			return err
		}
		return tx.CreateApp(betaApp)
	})

	_, err := s.Consent(ctx, beta, app.ID)
	wantCode(t, err, callvault.ENotFound, "Consent before put")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.DeleteConsent(beta, app.ID) }),
		callvault.ENotFound, "DeleteConsent missing")

	forBeta := newConsent(beta, app.ID, alpha)
	forGamma := newConsent(gamma, app.ID, alpha)
	forAlpha := newConsent(alpha, betaApp.ID, beta)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, c := range []*callvault.Consent{forGamma, forBeta, forAlpha} {
			if err := tx.PutConsent(c); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Consent(ctx, beta, app.ID)
	wantOK(t, err, "Consent")
	same(t, "Consent", got, forBeta)
	if !got.Active() {
		t.Errorf("Consent: not active")
	}

	// Replace: everything but CreatedAt.
	replaced := newConsent(beta, app.ID, alpha)
	replaced.Scopes = []callvault.Permission{callvault.PermCallsRead, callvault.PermRecordingsRead}
	replaced.Roles = []string{callvault.RoleSupervisor}
	replaced.CreatedAt = at(600)
	replaced.UpdatedAt = at(601)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.PutConsent(replaced) })
	replaced.CreatedAt = forBeta.CreatedAt
	got, err = s.Consent(ctx, beta, app.ID)
	wantOK(t, err, "Consent after replace")
	same(t, "Consent after replace", got, replaced)

	// Revoke, then admit again.
	revoked := *replaced
	revoked.RevokedAt = at(602)
	revoked.UpdatedAt = at(602)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.PutConsent(&revoked) })
	got, err = s.Consent(ctx, beta, app.ID)
	wantOK(t, err, "Consent after revoke")
	same(t, "Consent after revoke", got, &revoked)
	if got.Active() {
		t.Errorf("Consent after revoke: still active")
	}
	readmitted := revoked
	readmitted.RevokedAt = time.Time{}
	readmitted.UpdatedAt = at(603)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.PutConsent(&readmitted) })
	got, err = s.Consent(ctx, beta, app.ID)
	wantOK(t, err, "Consent after readmission")
	same(t, "Consent after readmission", got, &readmitted)

	// Lists.
	list, err := s.Consents(ctx, beta)
	wantOK(t, err, "Consents beta")
	same(t, "Consents beta", list, []*callvault.Consent{&readmitted})
	list, err = s.Consents(ctx, alpha)
	wantOK(t, err, "Consents alpha")
	same(t, "Consents alpha", list, []*callvault.Consent{forAlpha})
	list, err = s.ConsentsForApp(ctx, app.ID)
	wantOK(t, err, "ConsentsForApp")
	same(t, "ConsentsForApp", list, []*callvault.Consent{&readmitted, forGamma})
	list, err = s.ConsentsForApp(ctx, "app_missing")
	wantOK(t, err, "ConsentsForApp missing")
	if len(list) != 0 {
		t.Errorf("ConsentsForApp of an unknown app: got %d, want none", len(list))
	}

	// Isolation: alpha never consented to its own app, gamma never to beta's.
	_, err = s.Consent(ctx, alpha, app.ID)
	wantCode(t, err, callvault.ENotFound, "Consent alpha for its own app")
	_, err = s.Consent(ctx, gamma, betaApp.ID)
	wantCode(t, err, callvault.ENotFound, "Consent gamma for beta's app")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		wantCode(t, tx.DeleteConsent(gamma, betaApp.ID), callvault.ENotFound, "DeleteConsent of alpha's consent as gamma")
		return nil
	})
	got, err = s.Consent(ctx, alpha, betaApp.ID)
	wantOK(t, err, "alpha's consent after gamma's delete")
	same(t, "alpha's consent after gamma's delete", got, forAlpha)

	// Delete.
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.DeleteConsent(gamma, app.ID) })
	_, err = s.Consent(ctx, gamma, app.ID)
	wantCode(t, err, callvault.ENotFound, "Consent after delete")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.DeleteConsent(gamma, app.ID) }),
		callvault.ENotFound, "DeleteConsent again")
	list, err = s.ConsentsForApp(ctx, app.ID)
	wantOK(t, err, "ConsentsForApp after delete")
	same(t, "ConsentsForApp after delete", list, []*callvault.Consent{&readmitted})
}

func testTokens(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	access := newToken(alpha, "hash-access", "app_a", "fam_1")
	access.Kind, access.Grant, access.UserID = callvault.TokenAccess, callvault.GrantClientCredentials, ""
	refresh := newToken(alpha, "hash-refresh", "app_a", "fam_1")
	betaTok := newToken(beta, "hash-beta", "app_a", "fam_1")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, x := range []*callvault.Token{access, refresh, betaTok} {
			if err := tx.CreateToken(x); err != nil {
				return err
			}
		}
		return nil
	})
	for _, want := range []*callvault.Token{access, refresh, betaTok} {
		got, err := s.Token(ctx, want.Hash)
		wantOK(t, err, "Token")
		same(t, "Token "+want.Hash, got, want)
	}
	_, err := s.Token(ctx, "hash-missing")
	wantCode(t, err, callvault.ENotFound, "Token missing")
	dup := newToken(beta, access.Hash, "app_b", "fam_9")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateToken(dup) }),
		callvault.EConflict, "CreateToken with a hash that exists in another tenant")
	got, err := s.Token(ctx, access.Hash)
	wantOK(t, err, "Token after duplicate")
	same(t, "Token after duplicate", got, access)

	// Inside a transaction too.
	_ = in(t, s, func(tx callvault.Tx) error {
		got, err := tx.Token(ctx, refresh.Hash)
		wantOK(t, err, "tx.Token")
		same(t, "tx.Token", got, refresh)
		return nil
	})
}

func testTokenRevocation(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	t1 := newToken(alpha, "h1", "app_a", "fam_1")
	t2 := newToken(alpha, "h2", "app_a", "fam_1")
	t3 := newToken(alpha, "h3", "app_a", "fam_2")
	t4 := newToken(beta, "h4", "app_a", "fam_1") // same app and family id in beta
	t5 := newToken(alpha, "h5", "app_b", "fam_3")
	t6 := newToken(beta, "h6", "app_b", "fam_2")
	all := []*callvault.Token{t1, t2, t3, t4, t5, t6}
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, x := range all {
			if err := tx.CreateToken(x); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(step string) {
		t.Helper()
		for _, want := range all {
			got, err := s.Token(ctx, want.Hash)
			wantOK(t, err, step)
			same(t, step+": token "+want.Hash, got, want)
		}
	}

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.RevokeToken(t1.Hash, at(800)) })
	t1.RevokedAt = at(800)
	check("RevokeToken")
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.RevokeToken(t1.Hash, at(801)) })
	check("RevokeToken again keeps the first time")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.RevokeToken("h-missing", at(802)) }),
		callvault.ENotFound, "RevokeToken missing")

	// Beta's revocations never reach alpha's tokens.
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.RevokeTokenFamily(beta, "fam_3", at(803)); err != nil {
			return err
		}
		return tx.RevokeTokensOfApp(beta, "app_c", at(803))
	})
	check("revocations in beta of alpha's family and a missing app")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.RevokeTokenFamily(alpha, "fam_1", at(810)) })
	t2.RevokedAt = at(810) // t1 keeps at(800); t4 is beta's
	check("RevokeTokenFamily")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.RevokeTokensOfApp(beta, "app_b", at(820)) })
	t6.RevokedAt = at(820) // t5 is alpha's
	check("RevokeTokensOfApp beta")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.RevokeTokensOfApp(alpha, "app_a", at(830)) })
	t3.RevokedAt = at(830) // t1 and t2 keep their times; t4 is beta's
	check("RevokeTokensOfApp alpha")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.RevokeTokenFamily(alpha, "fam_none", at(840)) })
	check("RevokeTokenFamily of a family without tokens")
}

func testDeleteApp(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	app, other := newApp(alpha, "app_gone"), newApp(alpha, "app_stays")
	tok, otherTok := newToken(beta, "h-gone", app.ID, "fam_1"), newToken(beta, "h-stays", other.ID, "fam_2")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, a := range []*callvault.App{app, other} {
			if err := tx.CreateApp(a); err != nil {
				return err
			}
			if err := tx.PutConsent(newConsent(beta, a.ID, alpha)); err != nil {
				return err
			}
		}
		if err := tx.CreateToken(tok); err != nil {
			return err
		}
		return tx.CreateToken(otherTok)
	})
	MustUpdate(t, s, func(tx callvault.Tx) error {
		wantCode(t, tx.DeleteApp(beta, app.ID), callvault.ENotFound, "DeleteApp of alpha's app as beta")
		return nil
	})
	_, err := s.AppByID(ctx, app.ID)
	wantOK(t, err, "AppByID after beta's delete")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.DeleteApp(alpha, app.ID) })
	_, err = s.AppByID(ctx, app.ID)
	wantCode(t, err, callvault.ENotFound, "AppByID after delete")
	_, err = s.Consent(ctx, beta, app.ID)
	wantCode(t, err, callvault.ENotFound, "consent of a deleted app")
	_, err = s.Token(ctx, tok.Hash)
	wantCode(t, err, callvault.ENotFound, "token of a deleted app")
	_, err = s.Consent(ctx, beta, other.ID)
	wantOK(t, err, "consent of the other app")
	_, err = s.Token(ctx, otherTok.Hash)
	wantOK(t, err, "token of the other app")
}

// seedAll gives tenant id one object of every kind, with keys shared by
// every tenant where keys are per tenant, and returns its audit records.
func seedAll(tb testing.TB, s callvault.Store, id string) []*callvault.AuditRecord {
	tb.Helper()
	recs := []*callvault.AuditRecord{newAudit(id, 1), newAudit(id, 2)}
	MustUpdate(tb, s, func(tx callvault.Tx) error {
		steps := []func() error{
			func() error { return tx.CreateSite(newSite(id, "sit_1")) },
			func() error { return tx.CreateUser(newUser(id, "usr_1")) },
			func() error { return tx.CreateRole(newRole(id, "role-1")) },
			func() error { return tx.CreateLicense(newLicense(id, "lic-1")) },
			func() error { return tx.CreateApp(newApp(id, "app_"+id)) },
			func() error { return tx.CreateAPIKey(newAPIKey(id, "key_1")) },
			func() error { return tx.CreateToken(newToken(id, "tok-"+id, "app_"+id, "fam_1")) },
			func() error { return tx.CreateJWTCredential(newJWT(id, "jwt_1")) },
			func() error { return tx.AppendAudit(recs...) },
			func() error {
				return tx.PutCheckpoint(&callvault.Checkpoint{TenantID: id, Seq: 2, Hash: recs[1].Hash,
					CreatedAt: at(3000), KeyID: "k1", Signature: "sig"})
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	return recs
}

func testDeleteTenant(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	alphaRecs := seedAll(t, s, alpha)
	betaRecs := seedAll(t, s, beta)
	// Cross-tenant links: beta admits alpha's app (and holds a token of it),
	// alpha admits beta's app.
	crossTok := newToken(beta, "tok-cross", "app_"+alpha, "fam_x")
	alphaTokOfBetaApp := newToken(alpha, "tok-cross-2", "app_"+beta, "fam_y")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateToken(alphaTokOfBetaApp); err != nil {
			return err
		}
		if err := tx.PutConsent(newConsent(beta, "app_"+alpha, alpha)); err != nil {
			return err
		}
		if err := tx.PutConsent(newConsent(alpha, "app_"+beta, beta)); err != nil {
			return err
		}
		return tx.CreateToken(crossTok)
	})
	alphaHeadSeq, alphaHeadHash, err := s.AuditHead(ctx, alpha)
	wantOK(t, err, "AuditHead")

	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.DeleteTenant(alpha) })

	// Alpha's rows are gone.
	gone := map[string]error{}
	_, gone["Tenant"] = s.Tenant(ctx, alpha)
	_, gone["Site"] = s.Site(ctx, alpha, "sit_1")
	_, gone["User"] = s.User(ctx, alpha, "usr_1")
	_, gone["UserByLogin"] = s.UserByLogin(ctx, alpha, newUser(alpha, "usr_1").Login)
	_, gone["Role"] = s.Role(ctx, alpha, "role-1")
	_, gone["License"] = s.License(ctx, alpha, "lic-1")
	_, gone["App"] = s.App(ctx, alpha, "app_"+alpha)
	_, gone["AppByID"] = s.AppByID(ctx, "app_"+alpha)
	_, gone["APIKey"] = s.APIKey(ctx, alpha, "key_1")
	_, gone["APIKeyByHash"] = s.APIKeyByHash(ctx, newAPIKey(alpha, "key_1").Hash)
	_, gone["Token"] = s.Token(ctx, "tok-"+alpha)
	_, gone["JWTCredential"] = s.JWTCredential(ctx, alpha, "jwt_1")
	_, gone["Consent alpha"] = s.Consent(ctx, alpha, "app_"+beta)
	_, gone["Consent beta for alpha's app"] = s.Consent(ctx, beta, "app_"+alpha)
	_, gone["token in beta of alpha's app"] = s.Token(ctx, crossTok.Hash)
	_, gone["token in alpha of beta's app"] = s.Token(ctx, alphaTokOfBetaApp.Hash)
	for what, err := range gone {
		wantCode(t, err, callvault.ENotFound, what+" after DeleteTenant")
	}
	for what, n := range listLens(t, s, alpha) {
		if n != 0 {
			t.Errorf("%s of a deleted tenant: %d rows, want none", what, n)
		}
	}

	// Beta is untouched but for the links to alpha's app.
	got, err := s.Tenant(ctx, beta)
	wantOK(t, err, "Tenant beta")
	same(t, "Tenant beta", got, newTenant(beta))
	for what, n := range listLens(t, s, beta) {
		if n != 1 {
			t.Errorf("%s of beta after alpha's deletion: %d rows, want 1", what, n)
		}
	}
	bt, err := s.Token(ctx, "tok-"+beta)
	wantOK(t, err, "beta's token")
	same(t, "beta's token", bt, newToken(beta, "tok-"+beta, "app_"+beta, "fam_1"))
	list, err := s.ConsentsForApp(ctx, "app_"+beta)
	wantOK(t, err, "ConsentsForApp beta's app")
	if len(list) != 0 {
		t.Errorf("ConsentsForApp of beta's app: alpha's consent survived its tenant")
	}
	recs, err := s.AuditRecords(ctx, callvault.AuditFilter{TenantID: beta})
	wantOK(t, err, "AuditRecords beta")
	same(t, "AuditRecords beta", recs, betaRecs)

	// Alpha's audit trail is kept, and continues if alpha comes back.
	recs, err = s.AuditRecords(ctx, callvault.AuditFilter{TenantID: alpha})
	wantOK(t, err, "AuditRecords of a deleted tenant")
	same(t, "AuditRecords of a deleted tenant", recs, alphaRecs)
	seq, hash, err := s.AuditHead(ctx, alpha)
	wantOK(t, err, "AuditHead of a deleted tenant")
	if seq != alphaHeadSeq || hash != alphaHeadHash {
		t.Errorf("AuditHead of a deleted tenant: (%d, %s), want (%d, %s)", seq, hash, alphaHeadSeq, alphaHeadHash)
	}
	cps, err := s.Checkpoints(ctx, alpha)
	wantOK(t, err, "Checkpoints of a deleted tenant")
	if len(cps) != 1 {
		t.Errorf("Checkpoints of a deleted tenant: %d, want 1", len(cps))
	}
	seedTenants(t, s, alpha)
	next := newAudit(alpha, 3)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.AppendAudit(next) })
	if next.Seq != alphaHeadSeq+1 || next.PrevHash != alphaHeadHash {
		t.Errorf("re-created tenant's record: seq %d prev %s, want %d and %s", next.Seq, next.PrevHash, alphaHeadSeq+1, alphaHeadHash)
	}
}

// listLens returns the length of every tenant-scoped list of the tenant.
func listLens(tb testing.TB, s callvault.Store, tenant string) map[string]int {
	tb.Helper()
	ctx := context.Background()
	n := map[string]int{}
	count := func(what string, l int, err error) {
		wantOK(tb, err, what)
		n[what] = l
	}
	sites, err := s.Sites(ctx, tenant)
	count("Sites", len(sites), err)
	users, err := s.Users(ctx, tenant)
	count("Users", len(users), err)
	roles, err := s.Roles(ctx, tenant)
	count("Roles", len(roles), err)
	lics, err := s.Licenses(ctx, tenant)
	count("Licenses", len(lics), err)
	apps, err := s.Apps(ctx, tenant)
	count("Apps", len(apps), err)
	keys, err := s.APIKeys(ctx, tenant)
	count("APIKeys", len(keys), err)
	jwts, err := s.JWTCredentials(ctx, tenant)
	count("JWTCredentials", len(jwts), err)
	return n
}
