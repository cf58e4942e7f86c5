// Package callvault is the domain of the callvault server: the types of the
// system of record (tenants, identities, credentials, audit records), the
// filters and store interfaces that persistence engines implement, the
// canonical permission vocabulary and the error codes every API face renders.
//
// The package performs no I/O. Engines live in packages named after what they
// wrap (internal/sqlite, later internal/postgres); the permission engine lives
// in internal/access.
package callvault

import (
	"crypto/rand"
	"regexp"
	"strings"
	"time"
)

// Version is the callvault release, overridden at link time.
var Version = "0.1.0-dev"

// DefaultRetentionDays is a tenant's call-data retention when none is given (2 years).
const DefaultRetentionDays = 730

// DefaultAuditRetentionDays is a tenant's audit retention when none is given (7 years).
const DefaultAuditRetentionDays = 2557

// OperatorTenant is the id of the tenant that holds the operators of a
// callvault installation. Its users may be given the built-in role
// "operator", which manages tenants and may act inside any tenant; their
// actions there are audited with them as impersonator.
const OperatorTenant = "operator"

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// ValidSlug reports whether s is a valid tenant id or role/license name:
// 2 to 63 characters of lower-case letters, digits and dashes, starting with
// a letter or digit.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

var idRE = regexp.MustCompile(`^[a-z]{2,4}_[0-9a-z]{16,32}$`)

// ValidID reports whether s has the shape of an id made by NewID.
func ValidID(s string) bool { return idRE.MatchString(s) }

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns a new random id with the given type prefix, such as
// "usr_3k9x0c2m1q8z7w4e": 16 base-36 characters, about 82 bits of randomness.
func NewID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + 17)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	for _, c := range b {
		sb.WriteByte(idAlphabet[int(c)%len(idAlphabet)])
	}
	return sb.String()
}

// Clock returns the current time; tests inject their own.
type Clock func() time.Time
