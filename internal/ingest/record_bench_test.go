package ingest

import (
	"bytes"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callgen"
)

// BenchmarkDecodeBatch decodes and validates an NDJSON batch of 10,000
// generated records, as POST .../calls does: through the fast path
// (fast) and through encoding/json (slow).
func BenchmarkDecodeBatch(b *testing.B) {
	s := callgen.NewStream(1, "acme", time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC), 2*time.Second)
	var body []byte
	const n = 10000
	for range n {
		body = callgen.AppendNDJSON(body, s.Next())
	}
	for _, slow := range []bool{false, true} {
		name := "fast"
		if slow {
			name = "slow"
		}
		b.Run(name, func(b *testing.B) {
			slowRecords = slow
			defer func() { slowRecords = false }()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				recs, err := DecodeBatch(bytes.NewReader(body), 0)
				if err != nil || len(recs) != n {
					b.Fatal(len(recs), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
