package access

import (
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

// sink keeps the compiler from discarding decisions.
var sink Decision

// BenchmarkDecideAllowed decides a request that passes every layer, with
// every product and window gate active (the most expensive allowed path).
func BenchmarkDecideAllowed(b *testing.B) {
	e, p, a, r := testEngine(), maria(), fullAction(), ownCalls()
	if d := e.Decide(p, a, r); !d.Allowed {
		b.Fatalf("not allowed: %s", d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = e.Decide(p, a, r)
	}
}

// BenchmarkDecideDenied decides a request denied at the product layer
// (another extension's data without calls.read.all), after five passing
// layers: the denial path with the most work before it.
func BenchmarkDecideDenied(b *testing.B) {
	e, p, a, r := testEngine(), maria(), fullAction(), ownCalls()
	p.Roles = []RoleGrant{builtin(callvault.RoleAgent)}
	r.OwnerExtension = "102"
	if d := e.Decide(p, a, r); d.Allowed || d.Layer != LayerProduct {
		b.Fatalf("want a product denial, got allowed=%v layer=%s", d.Allowed, d.Layer)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = e.Decide(p, a, r)
	}
}

// BenchmarkDecideDeniedStaleScope decides a request denied at the scopes
// layer because the token predates a scope the app holds now.
func BenchmarkDecideDeniedStaleScope(b *testing.B) {
	e, p, a, r := testEngine(), maria(), fullAction(), ownCalls()
	p.Credential.Scopes = []callvault.Permission{callvault.PermCallsRead}
	a.Permission = callvault.PermRecordingsRead
	if d := e.Decide(p, a, r); d.Allowed || d.Missing.Kind != MissingStaleScope {
		b.Fatalf("want a stale-scope denial, got allowed=%v missing=%+v", d.Allowed, d.Missing)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = e.Decide(p, a, r)
	}
}
