package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
)

// The dataset is deterministic: call row i depends only on (seed, i), so a
// row can be regenerated anywhere (the read workloads use that to pick
// cursors), and every driver sees byte-identical data.

const (
	numTenants = 8
	baseTS     = int64(1735689600) * 1_000_000 // 2025-01-01T00:00:00Z in unix µs
)

func tenantID(t int) string { return fmt.Sprintf("tnt_%04d", t+1) }

const b32 = "0123456789abcdefghjkmnpqrstvwxyz"

func randID(r *rand.Rand, prefix string, n int) string {
	var b strings.Builder
	b.Grow(len(prefix) + n)
	b.WriteString(prefix)
	for range n {
		b.WriteByte(b32[r.IntN(len(b32))])
	}
	return b.String()
}

func uuid(r *rand.Rand) string {
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], r.Uint64())
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func pick(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

var firstNames = []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter"}
var lastNames = []string{"Anderson", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien"}

func personName(r *rand.Rand) string {
	return firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
}

func phone(r *rand.Rand) string { return fmt.Sprintf("+1%03d555%04d", 200+r.IntN(800), r.IntN(10000)) }

// callRow is one row of the calls table.
type callRow struct {
	TenantID, ID, SiteID, SessionID string
	StartTS, DurationMS             int64
	Direction, Type, Action, Result string
	FromNumber, FromName, FromExt   string
	ToNumber, ToName, ToExt         string
	Legs                            string // JSON, ~300 bytes
}

const callCols = "tenant_id, id, site_id, session_id, start_ts, duration_ms, direction, type, action, result, " +
	"from_number, from_name, from_ext, to_number, to_name, to_ext, legs"

func (c *callRow) args() []any {
	return []any{c.TenantID, c.ID, c.SiteID, c.SessionID, c.StartTS, c.DurationMS, c.Direction, c.Type,
		c.Action, c.Result, c.FromNumber, c.FromName, c.FromExt, c.ToNumber, c.ToName, c.ToExt, c.Legs}
}

func (c *callRow) dest() []any {
	return []any{&c.TenantID, &c.ID, &c.SiteID, &c.SessionID, &c.StartTS, &c.DurationMS, &c.Direction, &c.Type,
		&c.Action, &c.Result, &c.FromNumber, &c.FromName, &c.FromExt, &c.ToNumber, &c.ToName, &c.ToExt, &c.Legs}
}

// genCall returns call row i. Start times advance ~3 s per row (all tenants
// together), with jitter, so rows arrive roughly in time order as they do
// from a call-record feed; IDs are random, so the primary key index takes
// random inserts.
func genCall(seed uint64, i int) callRow {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	c := callRow{
		TenantID:   tenantID(r.IntN(numTenants)),
		ID:         randID(r, "call_", 20),
		SiteID:     fmt.Sprintf("site_%03d", r.IntN(40)),
		SessionID:  uuid(r),
		StartTS:    baseTS + int64(i)*3_000_000 + r.Int64N(3_000_000),
		DurationMS: r.Int64N(1_800_000),
		Direction:  pick(r, "Incoming", "Outgoing", "Internal"),
		Type:       pick(r, "Voice", "Conference", "Queue", "Voicemail"),
		Action:     pick(r, "Answered", "Missed", "Transferred", "Forwarded", "Abandoned"),
		Result:     pick(r, "Success", "NoAnswer", "Busy", "Failed", "Rejected"),
		FromNumber: phone(r),
		FromName:   personName(r),
		FromExt:    fmt.Sprintf("%04d", r.IntN(10000)),
		ToNumber:   phone(r),
		ToName:     personName(r),
		ToExt:      fmt.Sprintf("%04d", r.IntN(10000)),
	}
	d1 := r.Int64N(c.DurationMS/2 + 1)
	c.Legs = fmt.Sprintf(`[{"legId":"%s","type":"inbound","startTs":%d,"durationMs":%d,"party":{"number":"%s","ext":"%s"},"result":"%s"},`+
		`{"legId":"%s","type":"outbound","startTs":%d,"durationMs":%d,"party":{"number":"%s","ext":"%s"},"result":"%s"}]`,
		randID(r, "leg_", 16), c.StartTS, d1, c.FromNumber, c.FromExt, c.Result,
		randID(r, "leg_", 16), c.StartTS+d1*1000, c.DurationMS-d1, c.ToNumber, c.ToExt, c.Result)
	return c
}

// auditRow is one row of the audit table.
type auditRow struct {
	TenantID                                      string
	Seq                                           int64
	ID, Service, DisplayName                      string
	TS                                            int64
	EventType, EntityType, EntityKey, AuditUserID string
	Details, RequestID, Principal, Outcome        string
	PrevHash, Hash                                string
}

const auditCols = "tenant_id, seq, id, service, display_name, ts, event_type, entity_type, entity_key, " +
	"audit_user_id, details, request_id, principal, outcome, prev_hash, hash"

func (a *auditRow) args() []any {
	return []any{a.TenantID, a.Seq, a.ID, a.Service, a.DisplayName, a.TS, a.EventType, a.EntityType,
		a.EntityKey, a.AuditUserID, a.Details, a.RequestID, a.Principal, a.Outcome, a.PrevHash, a.Hash}
}

// genAudit returns n audit rows spread round-robin over the tenants, each
// tenant's rows forming a hash chain with consecutive seq from 1.
func genAudit(seed uint64, n int) []auditRow {
	r := rand.New(rand.NewPCG(seed, 0xa0d17))
	heads := make([]string, numTenants)
	seqs := make([]int64, numTenants)
	for t := range heads {
		heads[t] = strings.Repeat("0", 64)
	}
	out := make([]auditRow, n)
	for i := range out {
		t := i % numTenants
		seqs[t]++
		user := randID(r, "usr_", 12)
		entity := pick(r, "user", "site", "ring_group", "call_queue", "api_key", "recording")
		a := auditRow{
			TenantID:    tenantID(t),
			Seq:         seqs[t],
			ID:          randID(r, "aud_", 20),
			Service:     pick(r, "platform", "data", "auth", "access"),
			DisplayName: personName(r),
			TS:          baseTS + int64(i)*250_000 + r.Int64N(250_000),
			EventType:   pick(r, "create", "update", "delete", "view", "export", "issue", "deny"),
			EntityType:  entity,
			EntityKey:   randID(r, entity+"_", 12),
			AuditUserID: user,
			RequestID:   uuid(r),
			Principal:   "user:" + user + " via app:" + randID(r, "app_", 10),
			Outcome:     pick(r, "success", "success", "success", "denied"),
			PrevHash:    heads[t],
		}
		a.Details = fmt.Sprintf(`{"new":{"name":"%s","extension":"%04d","enabled":true,"siteId":"site_%03d"},`+
			`"old":{"name":"%s","extension":"%04d","enabled":false,"siteId":"site_%03d"}}`,
			personName(r), r.IntN(10000), r.IntN(40), personName(r), r.IntN(10000), r.IntN(40))
		h := sha256.New()
		for _, s := range []string{a.TenantID, fmt.Sprint(a.Seq), a.ID, a.Service, a.DisplayName, fmt.Sprint(a.TS),
			a.EventType, a.EntityType, a.EntityKey, a.AuditUserID, a.Details, a.RequestID, a.Principal, a.Outcome, a.PrevHash} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		a.Hash = hex.EncodeToString(h.Sum(nil))
		heads[t] = a.Hash
		out[i] = a
	}
	return out
}
