package http

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// TestIssueWithin: the function runs in the issuing transaction with the
// family the tokens get; its *OAuthError comes back as is and any error
// rolls the issuance back (no tokens, no issue record).
func TestIssueWithin(t *testing.T) {
	e := newTestEnv(t)
	e.MustTenant(t, "acme")
	u := e.MustUser(t, "acme", "ada")
	app, _ := e.MustApp(t, "acme", "Face App", []string{callvault.GrantPassword, callvault.GrantRefreshToken},
		[]callvault.Permission{callvault.PermCallsRead})
	r := httptest.NewRequest(http.MethodPost, "/face/token", nil)
	issued := func() int {
		return len(e.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EventTypes: []string{callvault.EventIssue}}))
	}

	var family string
	tr, oe := e.Server.IssueWithin(r, app, "acme", u.ID, app.Scopes, callvault.GrantPassword, func(tx callvault.Tx, f string) error {
		family = f
		return nil
	})
	if oe != nil || tr.AccessToken == "" || tr.RefreshToken == "" || family == "" {
		t.Fatalf("issue: %+v %+v family %q", tr, oe, family)
	}
	for _, tok := range []string{tr.AccessToken, tr.RefreshToken} {
		if got, err := e.Store.Token(context.Background(), credential.Hash(tok)); err != nil || got.FamilyID != family {
			t.Fatalf("token family %+v %v, want %q", got, err, family)
		}
	}

	before := issued()
	want := &OAuthError{Status: http.StatusBadRequest, Code: "invalid_grant", Description: "refused by the face"}
	if tr, oe := e.Server.IssueWithin(r, app, "acme", u.ID, app.Scopes, callvault.GrantPassword,
		func(callvault.Tx, string) error { return want }); oe != want || tr != nil {
		t.Fatalf("OAuthError from within: %+v %+v", tr, oe)
	}
	if tr, oe := e.Server.IssueWithin(r, app, "acme", u.ID, app.Scopes, callvault.GrantPassword,
		func(callvault.Tx, string) error { return errors.New("boom") }); tr != nil || oe == nil || oe.Status != http.StatusServiceUnavailable {
		t.Fatalf("error from within: %+v %+v", tr, oe)
	}
	if n := issued(); n != before {
		t.Fatalf("issue records %d, want %d", n, before)
	}
}
