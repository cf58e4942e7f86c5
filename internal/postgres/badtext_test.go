package postgres

import (
	"context"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

// TestBadText: a value PostgreSQL text cannot hold (a NUL byte, bytes that
// are not UTF-8) is never stored, so looking it up finds nothing
// (ENotFound or an empty list, as for any unknown id) and storing it is
// EInvalid, never a database failure (which the API would answer as 5xx).
func TestBadText(t *testing.T) {
	db := mustOpen(t, testDSN(t))
	ctx := context.Background()
	if err := db.Update(ctx, func(tx callvault.Tx) error {
		return tx.CreateTenant(&callvault.Tenant{ID: "acme", Name: "Acme", Region: "us", RetentionDays: 730})
	}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"app\x00x", "app\xffx"} {
		if _, err := db.AppByID(ctx, bad); !callvault.IsNotFound(err) {
			t.Errorf("AppByID(%q): %v, want ENotFound", bad, err)
		}
		if _, err := db.Tenant(ctx, bad); !callvault.IsNotFound(err) {
			t.Errorf("Tenant(%q): %v, want ENotFound", bad, err)
		}
		if _, err := db.Call(ctx, "acme", bad); !callvault.IsNotFound(err) {
			t.Errorf("Call(acme, %q): %v, want ENotFound", bad, err)
		}
		if recs, err := db.Calls(ctx, callvault.CallFilter{TenantID: "acme", SessionID: bad}); err != nil || len(recs) != 0 {
			t.Errorf("Calls with session id %q: %d records, %v; want none", bad, len(recs), err)
		}
		err := db.Update(ctx, func(tx callvault.Tx) error {
			return tx.CreateSite(&callvault.Site{TenantID: "acme", ID: "sit_1", Name: bad})
		})
		if code := callvault.ErrorCode(err); code != callvault.EInvalid {
			t.Errorf("CreateSite named %q: %v (code %q), want EInvalid", bad, err, code)
		}
	}
}
