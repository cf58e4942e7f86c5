package sqlrow

import "github.com/callvault/callvault/internal/callvault"

// CheckAuditRecords is the EInvalid error of the first record of an audit
// append that is nil or has no tenant, or nil.
func CheckAuditRecords(recs []*callvault.AuditRecord) error {
	for i, r := range recs {
		if r == nil {
			return callvault.Errorf(callvault.EInvalid, "audit record %d is nil", i)
		}
		if r.TenantID == "" {
			return callvault.FieldError("tenantId", "audit record %d has no tenant", i)
		}
	}
	return nil
}

// CheckCallEvents is the EInvalid error of the first call event that is nil
// or has no tenant, id or call id, or nil.
func CheckCallEvents(events []*callvault.CallEvent) error {
	for i, e := range events {
		switch {
		case e == nil:
			return callvault.Errorf(callvault.EInvalid, "call event %d is nil", i)
		case e.TenantID == "":
			return callvault.FieldError("tenantId", "call event %d has no tenant", i)
		case e.ID == "":
			return callvault.FieldError("id", "call event %d has no id", i)
		case e.CallID == "":
			return callvault.FieldError("callId", "call event %q has no call id", e.ID)
		}
	}
	return nil
}
