package callvault

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// ComputeHash returns the hex SHA-256 of the record's canonical encoding:
// every field except Hash, in a fixed order, each as a length-prefixed byte
// string (the timestamp as RFC 3339 in UTC, Seq as 8 big-endian bytes).
// PrevHash is included, which chains the record to its predecessor.
func (r *AuditRecord) ComputeHash() string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put("callvault-audit-v1")
	put(r.TenantID)
	put(r.ID)
	binary.BigEndian.PutUint64(n[:], uint64(r.Seq))
	h.Write(n[:])
	put(r.Service)
	put(r.DisplayName)
	put(r.Timestamp.UTC().Format(time.RFC3339Nano))
	put(r.EventType)
	put(r.EntityType)
	put(r.EntityKey)
	put(r.AuditUserID)
	put(r.Impersonator)
	put(r.Details)
	put(r.CorrelationType)
	put(r.CorrelationID)
	put(r.RequestID)
	put(r.Principal)
	put(r.Outcome)
	put(r.Trace)
	put(r.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}
