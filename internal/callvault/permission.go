package callvault

import (
	"slices"
	"strings"
)

// Permission is a canonical capability name. Scopes, role permission sets and
// every face's vendor names map onto this one vocabulary.
type Permission string

// The canonical permissions. Each capability has exactly one name.
const (
	PermCallsRead       Permission = "calls.read"        // call records of one's own extension
	PermCallsReadAll    Permission = "calls.read.all"    // every call record in the tenant (within site scope)
	PermCallsWrite      Permission = "calls.write"       // ingest call records and events
	PermRecordingsRead  Permission = "recordings.read"   // recording metadata and audio
	PermActiveCallsRead Permission = "active_calls.read" // live calls
	PermAnalyticsRead   Permission = "analytics.read"    // aggregates and detail queries
	PermAnalyticsExport Permission = "analytics.export"  // the raw event stream
	PermAuditRead       Permission = "audit.read"        // the audit trail
	PermAdminRead       Permission = "admin.read"        // identities, apps, keys, settings
	PermAdminWrite      Permission = "admin.write"       // change identities, apps, keys, settings
	PermTenantsManage   Permission = "tenants.manage"    // operators: create and change tenants
)

// Permissions lists every canonical permission, in a stable order.
var Permissions = []Permission{
	PermCallsRead, PermCallsReadAll, PermCallsWrite, PermRecordingsRead,
	PermActiveCallsRead, PermAnalyticsRead, PermAnalyticsExport, PermAuditRead,
	PermAdminRead, PermAdminWrite, PermTenantsManage,
}

// Valid reports whether p is a canonical permission.
func (p Permission) Valid() bool { return slices.Contains(Permissions, p) }

// ParseScope splits a space-separated OAuth scope string into permissions.
// It returns the first unknown name as bad.
func ParseScope(s string) (perms []Permission, bad string) {
	for _, f := range strings.Fields(s) {
		p := Permission(f)
		if !p.Valid() {
			return nil, f
		}
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	return perms, ""
}

// ScopeString joins permissions into a space-separated OAuth scope string.
func ScopeString(perms []Permission) string {
	var sb strings.Builder
	for i, p := range perms {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(string(p))
	}
	return sb.String()
}

// Built-in role names. Built-in roles exist in every tenant and cannot be
// changed or deleted; tenants may add their own.
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleAgent      = "agent"
	RoleAuditor    = "auditor"
	RoleIntegrator = "integrator"
	RoleOperator   = "operator" // only in the operator tenant
)

// BuiltinRoles returns the built-in roles with their permission sets.
func BuiltinRoles() []Role {
	return []Role{
		{Name: RoleAdmin, BuiltIn: true, Description: "Everything in the tenant", Permissions: []Permission{
			PermCallsRead, PermCallsReadAll, PermCallsWrite, PermRecordingsRead, PermActiveCallsRead,
			PermAnalyticsRead, PermAnalyticsExport, PermAuditRead, PermAdminRead, PermAdminWrite}},
		{Name: RoleSupervisor, BuiltIn: true, Description: "All calls, recordings and analytics of the sites in scope", Permissions: []Permission{
			PermCallsRead, PermCallsReadAll, PermRecordingsRead, PermActiveCallsRead, PermAnalyticsRead}},
		{Name: RoleAgent, BuiltIn: true, Description: "One's own calls and recordings", Permissions: []Permission{
			PermCallsRead, PermRecordingsRead, PermActiveCallsRead}},
		{Name: RoleAuditor, BuiltIn: true, Description: "The audit trail and the identities it names", Permissions: []Permission{
			PermAuditRead, PermAdminRead}},
		{Name: RoleIntegrator, BuiltIn: true, Description: "Ingest and read call data as a service", Permissions: []Permission{
			PermCallsRead, PermCallsReadAll, PermCallsWrite, PermRecordingsRead, PermActiveCallsRead,
			PermAnalyticsRead, PermAnalyticsExport}},
		{Name: RoleOperator, BuiltIn: true, Description: "Operators of the installation: manage tenants, act in any tenant", Permissions: []Permission{
			PermTenantsManage, PermCallsRead, PermCallsReadAll, PermCallsWrite, PermRecordingsRead, PermActiveCallsRead,
			PermAnalyticsRead, PermAnalyticsExport, PermAuditRead, PermAdminRead, PermAdminWrite}},
	}
}

// Product names used for access levels and license features.
const (
	ProductAnalytics = "analytics"
)

// AccessLevel is a user's level of access to a product. Levels are ordered.
type AccessLevel string

// Access levels, lowest first.
const (
	AccessNone       AccessLevel = "none"
	AccessAgent      AccessLevel = "agent"
	AccessSupervisor AccessLevel = "supervisor"
	AccessAdmin      AccessLevel = "admin"
)

// Rank orders access levels; an unknown level ranks as none.
func (l AccessLevel) Rank() int {
	switch l {
	case AccessAgent:
		return 1
	case AccessSupervisor:
		return 2
	case AccessAdmin:
		return 3
	}
	return 0
}

// Valid reports whether l is a known access level.
func (l AccessLevel) Valid() bool {
	switch l {
	case AccessNone, AccessAgent, AccessSupervisor, AccessAdmin:
		return true
	}
	return false
}
