package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
)

// The ingest benchmarks compare PutCalls with a raw pgx CopyFrom of the same
// rows into a table shaped like calls (the floor any COPY ingest pays), and
// with the staging-table alternative (COPY into a temporary table, then
// INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING). Each batch is one
// transaction with a durable commit. Run them with
//
//	CALLVAULT_TEST_POSTGRES=postgres://... go test -run '^$' -bench Ingest ./internal/postgres

const benchBatch = 5000

var benchStart = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

// benchRecords returns batches of generated records of tenant acme, in
// rough time order, one call every two seconds.
func benchRecords(n int, seed int64) []*callvault.CallRecord {
	g := callgen.New(seed, "acme", callgen.Sites(50), callgen.Extensions(2000))
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	out := make([]*callvault.CallRecord, n)
	for i := range out {
		out[i] = g.Next(benchStart.Add(time.Duration(i)*2*time.Second + time.Duration(rng.Int64N(int64(time.Minute)))))
	}
	return out
}

// openBench opens a store in a fresh schema with tenant acme.
func openBench(b *testing.B) *DB {
	b.Helper()
	db := mustOpen(b, testDSN(b))
	err := db.Update(context.Background(), func(tx callvault.Tx) error {
		return tx.CreateTenant(&callvault.Tenant{ID: "acme", Name: "Acme", Region: "us", RetentionDays: 730})
	})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// ingestBench times fn over b.N batches of benchBatch fresh records and
// reports records/s.
func ingestBench(b *testing.B, fn func(ctx context.Context, recs []*callvault.CallRecord) error) {
	ctx := context.Background()
	total := 0
	var elapsed time.Duration
	for i := range b.N {
		b.StopTimer()
		recs := benchRecords(benchBatch, int64(i+1))
		for k, r := range recs {
			r.ID = fmt.Sprintf("%s-%d-%d", r.ID, i, k) // unique across batches
		}
		b.StartTimer()
		start := time.Now()
		if err := fn(ctx, recs); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		total += len(recs)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "records/s")
}

func BenchmarkIngestPutCalls(b *testing.B) {
	db := openBench(b)
	ingestBench(b, func(ctx context.Context, recs []*callvault.CallRecord) error {
		return db.Update(ctx, func(tx callvault.Tx) error {
			_, err := tx.PutCalls(recs)
			return err
		})
	})
}

// BenchmarkIngestRawCopy is the baseline: a bare pgx CopyFrom of the rows
// PutCalls writes (callRow, built in the timed part as PutCalls does) into
// calls itself, with its primary key, index and tenant foreign key, one
// durable transaction per batch; "no-fk" copies into a table like calls
// without the foreign key (LIKE ... INCLUDING ALL does not copy it), to
// show what the per-row foreign key check costs.
func BenchmarkIngestRawCopy(b *testing.B) {
	for _, c := range []struct{ name, table, create string }{
		{"calls", "calls", ""},
		{"no-fk", "calls_raw", `CREATE TABLE calls_raw (LIKE calls INCLUDING ALL)`},
	} {
		b.Run(c.name, func(b *testing.B) {
			db := openBench(b)
			ctx := context.Background()
			if c.create != "" {
				if _, err := db.pool.Exec(ctx, c.create); err != nil {
					b.Fatal(err)
				}
			}
			var seq int64
			ingestBench(b, func(ctx context.Context, recs []*callvault.CallRecord) error {
				return pgx.BeginFunc(ctx, db.pool, func(t pgx.Tx) error {
					rows := make([][]any, len(recs))
					now := time.Now().UnixMicro()
					for i, r := range recs {
						seq++
						rows[i] = callRow(r, seq, now)
					}
					_, err := t.CopyFrom(ctx, pgx.Identifier{c.table}, copyCallCols, pgx.CopyFromRows(rows))
					return err
				})
			})
		})
	}
}

func BenchmarkIngestStaging(b *testing.B) {
	db := openBench(b)
	var seq int64
	ingestBench(b, func(ctx context.Context, recs []*callvault.CallRecord) error {
		return pgx.BeginFunc(ctx, db.pool, func(t pgx.Tx) error {
			if _, err := t.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS calls_stage (LIKE calls) ON COMMIT DELETE ROWS`); err != nil {
				return err
			}
			rows := make([][]any, len(recs))
			now := time.Now().UnixMicro()
			for i, r := range recs {
				seq++
				rows[i] = callRow(r, seq, now)
			}
			if _, err := t.CopyFrom(ctx, pgx.Identifier{"calls_stage"}, copyCallCols, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			res, err := t.Query(ctx, `INSERT INTO calls SELECT * FROM calls_stage ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id`)
			if err != nil {
				return err
			}
			n := 0
			for res.Next() {
				n++
			}
			res.Close()
			if err := res.Err(); err != nil {
				return err
			}
			if n != len(recs) {
				return fmt.Errorf("stored %d of %d", n, len(recs))
			}
			return nil
		})
	})
}
