// Package storetest is the conformance suite every callvault.Store must
// pass. An engine's test is a few lines:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) callvault.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cv.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// newStore must return an empty store; each subtest gets its own.
//
// Beyond the doc comments of callvault.Reader, Tx and Store, the suite fixes
// these points of the contract, which every engine must share:
//
//   - Times round-trip at microsecond precision (compared with Equal after
//     truncation); nil and empty slices and maps are interchangeable.
//   - Reading, updating or deleting another tenant's object is ENotFound,
//     exactly like a missing one; lists never include another tenant's rows.
//   - Updates replace every field except the key and CreatedAt, which keeps
//     its first value; PutConsent likewise keeps the first CreatedAt.
//   - Client ids, API key hashes and token hashes are unique across tenants.
//   - CreateUser and UpdateUser fail with EConflict and Field "login" when
//     the login is taken in the tenant, case-insensitively.
//   - RevokeToken keeps the first revocation time; RevokeTokenFamily and
//     RevokeTokensOfApp revoke only unrevoked tokens of that tenant and
//     succeed when nothing matches.
//   - DeleteApp also deletes the consents given to the app and its tokens.
//   - DeleteTenant deletes every row the tenant owns (and the consents and
//     tokens of its apps in other tenants) but keeps its audit records,
//     chain head and checkpoints; a tenant re-created with the same id
//     continues the chain.
//   - AppendAudit mutates the records it is given (Timestamp, ID, Seq,
//     PrevHash, Hash); an audit record ID is unique within its tenant
//     (EConflict); AuditRecords without a tenant is EInvalid.
//   - PutCheckpoint is EConflict for a second checkpoint of the same tenant,
//     Seq and KeyID.
//
// And for call data (calls.go, calldata.go):
//
//   - PutCalls and PutCallEvents skip what exists (or came earlier in the
//     batch) by (TenantID, ID), number what they store per tenant from 1
//     without gaps, set IngestedAt (now) and ReceivedAt (now, unless given),
//     and change nothing else, not even skipped records. A bad batch (a nil
//     or incomplete record: EInvalid; an unknown tenant: ENotFound) stores
//     nothing and leaves the transaction usable.
//   - Calls orders by Start, then ID, both descending; After is strictly
//     after that position; From is inclusive and To exclusive, at the
//     microsecond; PhoneNumber matches From or To; HasRecording means
//     RecordingIDs is not empty; MaxIngestSeq hides later arrivals.
//   - AggregateCalls buckets by the UTC hour (floor, also before 1970),
//     returns only groups with calls (none when nothing matches) and is
//     EInvalid for an unknown GroupBy. Answered: Answer set; missed: inbound
//     and not answered; TalkMs is summed.
//   - ExpiredCalls is oldest first, cutoff exclusive, skips records under
//     legal hold and returns nothing while the tenant is under legal hold.
//   - DeleteCalls returns the deleted recordings (those whose CallID is one
//     of the ids) ordered by ID and ignores unknown ids.
//   - RecordingBlobInUse is false for the empty SHA-256.
//   - ActiveCalls is ordered by StartedAt, then CallID; PutActiveCall
//     replaces every field.
//   - DeleteTenant deletes the tenant's call data, whatever its legal hold;
//     the ingest and event sequences of a tenant created again with the same
//     id go on from the old ones.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Run runs the conformance suite against stores made by newStore, which
// must return a new, empty store and arrange for it to be closed.
func Run(t *testing.T, newStore func(t *testing.T) callvault.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s callvault.Store)
	}{
		{"Ping", testPing},
		{"Tenants", testTenants},
		{"Sites", testSites},
		{"Users", testUsers},
		{"UserLogins", testUserLogins},
		{"Roles", testRoles},
		{"Licenses", testLicenses},
		{"Apps", testApps},
		{"AppByID", testAppByID},
		{"Consents", testConsents},
		{"APIKeys", testAPIKeys},
		{"APIKeyByHash", testAPIKeyByHash},
		{"TouchAPIKey", testTouchAPIKey},
		{"Tokens", testTokens},
		{"TokenRevocation", testTokenRevocation},
		{"JWTCredentials", testJWTCredentials},
		{"DeleteApp", testDeleteApp},
		{"DeleteTenant", testDeleteTenant},
		{"ReadYourWrites", testReadYourWrites},
		{"UpdateRollback", testUpdateRollback},
		{"UpdatePanic", testUpdatePanic},
		{"AuditAppend", testAuditAppend},
		{"AuditInvalid", testAuditInvalid},
		{"AuditTwoTenants", testAuditTwoTenants},
		{"AuditFilters", testAuditFilters},
		{"AuditPaging", testAuditPaging},
		{"AuditConcurrent", testAuditConcurrent},
		{"Checkpoints", testCheckpoints},
		{"Calls", testCalls},
		{"PutCallsIdempotent", testPutCallsIdempotent},
		{"PutCallsLargeBatch", testPutCallsLargeBatch},
		{"CallFilters", testCallFilters},
		{"CallPaging", testCallPaging},
		{"CallSnapshot", testCallSnapshot},
		{"CallAggregates", testCallAggregates},
		{"ExpiredCalls", testExpiredCalls},
		{"DeleteCalls", testDeleteCalls},
		{"Recordings", testRecordings},
		{"AttachRecording", testAttachRecording},
		{"ActiveCalls", testActiveCalls},
		{"CallEvents", testCallEvents},
		{"CallIsolation", testCallIsolation},
		{"DeleteTenantCallData", testDeleteTenantCallData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// The two tenants every test seeds; identically named objects live in both.
const (
	alpha = "alpha"
	beta  = "beta"
	gamma = "gamma"
)

// base is a time with nanoseconds in a non-UTC zone, so that round trips
// exercise truncation and zone handling.
func base() time.Time {
	return time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("UTC+2", 2*60*60))
}

// at returns base plus n minutes.
func at(n int) time.Time { return base().Add(time.Duration(n) * time.Minute) }

// MustUpdate runs fn in s.Update and fails the test on error.
func MustUpdate(tb testing.TB, s callvault.Store, fn func(tx callvault.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

// wantCode fails the test unless err has the code.
func wantCode(tb testing.TB, err error, code, what string) {
	tb.Helper()
	if got := callvault.ErrorCode(err); got != code {
		tb.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// wantField fails the test unless err is an *callvault.Error with the code
// and field.
func wantField(tb testing.TB, err error, code, field, what string) {
	tb.Helper()
	var e *callvault.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		tb.Errorf("%s: got error %v, want code %q with field %q", what, err, code, field)
	}
}

// wantOK fails the test on err.
func wantOK(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// update runs fn in s.Update and returns its error.
func update(s callvault.Store, fn func(tx callvault.Tx) error) error {
	return s.Update(context.Background(), fn)
}

// in runs fn in a transaction and returns fn's error, rolling back whatever
// fn did. It lets a test see a Tx method's error without failing the test.
func in(tb testing.TB, s callvault.Store, fn func(tx callvault.Tx) error) error {
	tb.Helper()
	var inner error
	err := s.Update(context.Background(), func(tx callvault.Tx) error {
		inner = fn(tx)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		tb.Fatalf("Update returned %v, want the function's error", err)
	}
	return inner
}

var errRollback = errors.New("storetest: roll back")

// same fails the test unless got and want are equal once times are
// truncated to the microsecond and nil and empty slices and maps are
// treated alike.
func same(tb testing.TB, what string, got, want any) {
	tb.Helper()
	g, w := normalize(reflect.ValueOf(got)), normalize(reflect.ValueOf(want))
	if !reflect.DeepEqual(g.Interface(), w.Interface()) {
		tb.Errorf("%s:\n got %s\nwant %s", what, show(g), show(w))
	}
}

var timeType = reflect.TypeFor[time.Time]()

// normalize returns a deep copy of v with times truncated to the microsecond
// in UTC and empty slices and maps made nil.
func normalize(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(normalize(v.Elem()))
		return n
	case reflect.Struct:
		if v.Type() == timeType {
			tv := v.Interface().(time.Time)
			if tv.IsZero() {
				return reflect.ValueOf(time.Time{})
			}
			return reflect.ValueOf(tv.Truncate(time.Microsecond).UTC())
		}
		n := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if n.Field(i).CanSet() {
				n.Field(i).Set(normalize(v.Field(i)))
			}
		}
		return n
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(normalize(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			n.SetMapIndex(it.Key(), normalize(it.Value()))
		}
		return n
	}
	return v
}

// show prints a normalized value with pointers followed.
func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return "&" + show(v.Elem())
	case reflect.Slice:
		s := "["
		for i := range v.Len() {
			if i > 0 {
				s += ", "
			}
			s += show(v.Index(i))
		}
		return s + "]"
	}
	if v.Type() == timeType {
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%+v", v.Interface())
}

// seedTenants creates the given tenants.
func seedTenants(tb testing.TB, s callvault.Store, ids ...string) {
	tb.Helper()
	MustUpdate(tb, s, func(tx callvault.Tx) error {
		for _, id := range ids {
			if err := tx.CreateTenant(newTenant(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

func testPing(t *testing.T, s callvault.Store) {
	wantOK(t, s.Ping(context.Background()), "Ping")
}
