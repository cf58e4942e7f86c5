package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/callvault/callvault/internal/callvault"
)

// Report is the outcome of verifying one tenant's audit chain.
type Report struct {
	TenantID    string
	Records     int64 // records checked
	Checkpoints int   // checkpoints whose signature and hash matched
	HeadSeq     int64
	HeadHash    string
	// OK is true when the whole chain and every checkpoint verified.
	OK bool
	// BrokenSeq and BrokenID name the first record that failed, with the
	// reason; BrokenSeq is 0 when the failure is not a record's (a bad
	// checkpoint signature, a head that does not match).
	BrokenSeq int64
	BrokenID  string
	Reason    string
}

func (r *Report) String() string {
	if r.OK {
		return fmt.Sprintf("tenant %s: OK, %d records, head seq %d hash %s, %d signed checkpoints verified",
			r.TenantID, r.Records, r.HeadSeq, r.HeadHash, r.Checkpoints)
	}
	if r.BrokenSeq > 0 {
		return fmt.Sprintf("tenant %s: BROKEN at record seq %d (id %s): %s", r.TenantID, r.BrokenSeq, r.BrokenID, r.Reason)
	}
	return fmt.Sprintf("tenant %s: BROKEN: %s", r.TenantID, r.Reason)
}

const verifyPage = 1000

// Verify walks the tenant's audit chain from seq 1 and checks that seqs are
// contiguous, each PrevHash is the previous record's Hash, each Hash is the
// record's canonical hash, every checkpoint is signed by pub and matches the
// record at its seq, and the stored head matches the last record (so
// deleting records from the end is detected too). It returns a Report naming
// the first broken record; err is only for failures to read.
func Verify(ctx context.Context, st callvault.Reader, tenant string, pub ed25519.PublicKey) (*Report, error) {
	rep := &Report{TenantID: tenant}
	cps, err := st.Checkpoints(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for _, c := range cps {
		if !VerifyCheckpoint(pub, c) {
			rep.Reason = fmt.Sprintf("checkpoint at seq %d has an invalid signature (or another key signed it)", c.Seq)
			return rep, nil
		}
	}
	bySeq := map[int64]*callvault.Checkpoint{}
	for _, c := range cps {
		bySeq[c.Seq] = c
	}
	var prevSeq int64
	var prevHash string
	for {
		recs, err := st.AuditRecords(ctx, callvault.AuditFilter{TenantID: tenant, AfterSeq: prevSeq, Limit: verifyPage})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			fail := func(format string, args ...any) (*Report, error) {
				rep.BrokenSeq, rep.BrokenID = r.Seq, r.ID
				rep.Reason = fmt.Sprintf(format, args...)
				return rep, nil
			}
			if r.Seq != prevSeq+1 {
				rep.BrokenSeq, rep.BrokenID = prevSeq+1, ""
				rep.Reason = fmt.Sprintf("record seq %d is missing (next present is %d)", prevSeq+1, r.Seq)
				return rep, nil
			}
			if r.PrevHash != prevHash {
				return fail("prev_hash %s does not match the hash of record %d (%s)", short(r.PrevHash), prevSeq, short(prevHash))
			}
			if h := r.ComputeHash(); h != r.Hash {
				return fail("content does not match its hash: stored %s, computed %s (the record was altered)", short(r.Hash), short(h))
			}
			if c, ok := bySeq[r.Seq]; ok {
				if c.Hash != r.Hash {
					return fail("hash %s differs from the signed checkpoint's %s (the chain was rewritten)", short(r.Hash), short(c.Hash))
				}
				rep.Checkpoints++
			}
			prevSeq, prevHash = r.Seq, r.Hash
			rep.Records++
		}
		if len(recs) < verifyPage {
			break
		}
	}
	headSeq, headHash, err := st.AuditHead(ctx, tenant)
	if err != nil {
		return nil, err
	}
	rep.HeadSeq, rep.HeadHash = prevSeq, prevHash
	if headSeq != prevSeq || headHash != prevHash {
		rep.Reason = fmt.Sprintf("the chain ends at seq %d but the stored head is seq %d: records were removed from the end", prevSeq, headSeq)
		rep.BrokenSeq = prevSeq + 1
		return rep, nil
	}
	for _, c := range cps {
		if c.Seq > prevSeq {
			rep.Reason = fmt.Sprintf("a signed checkpoint names seq %d, beyond the chain's end at %d: records were removed", c.Seq, prevSeq)
			rep.BrokenSeq = prevSeq + 1
			return rep, nil
		}
	}
	rep.OK = true
	return rep, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return "(none)"
	}
	return h
}
