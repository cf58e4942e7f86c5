package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
)

// Benchmarks of the call store. See docs/benchmarks.md, "Call store
// (SQLite)", for the commands and the numbers. Environment:
//
//	CALLVAULT_BENCH_CALLS  records in BenchmarkListCalls' dataset (1000000)
//	CALLVAULT_BENCH_DB     file of that dataset, kept and reused when it
//	                       already holds that many records (default: a new
//	                       one in a temporary directory)
//	CALLVAULT_BENCH_SQL    SQL run on every benchmark database after the
//	                       migrations, e.g. a candidate index whose cost to
//	                       ingest (or gain for listing) is to be measured

// benchBatch is the batch size of the ingest benchmarks.
const benchBatch = 5000

// benchStart is when the benchmark datasets begin.
var benchStart = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

// benchRecords returns batch n (from 0) of a stream of records of tenant
// "acme": 50 sites, 2000 extensions, one call every 50 ms or so, roughly in
// time order as a PBX's call-record feed delivers them.
type benchStream struct {
	g   *callgen.Generator
	rng *rand.Rand
	i   int
}

func newBenchStream(seed int64, tenant string) *benchStream {
	return &benchStream{
		g:   callgen.New(seed, tenant, callgen.Sites(50), callgen.Extensions(2000)),
		rng: rand.New(rand.NewPCG(uint64(seed), 1)),
	}
}

func (s *benchStream) next(n int) []*callvault.CallRecord {
	out := make([]*callvault.CallRecord, n)
	for k := range out {
		at := benchStart.Add(time.Duration(s.i)*50*time.Millisecond + time.Duration(s.rng.Int64N(int64(2*time.Second))))
		out[k] = s.g.Next(at)
		s.i++
	}
	return out
}

// openBench opens a store in dir with tenants acme and globex and runs
// CALLVAULT_BENCH_SQL.
func openBench(tb testing.TB, path string) *DB {
	tb.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	_, err = db.Tenant(ctx, "acme")
	if callvault.IsNotFound(err) {
		err = db.Update(ctx, func(tx callvault.Tx) error {
			for _, id := range []string{"acme", "globex"} {
				if err := tx.CreateTenant(&callvault.Tenant{ID: id, Name: id, Region: "us", RetentionDays: 730}); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = benchSQL(db.write)
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func benchSQL(q *sql.DB) error {
	if s := os.Getenv("CALLVAULT_BENCH_SQL"); s != "" {
		if _, err := q.Exec(s); err != nil {
			return fmt.Errorf("CALLVAULT_BENCH_SQL: %w", err)
		}
	}
	return nil
}

// BenchmarkPutCalls ingests batches of 5000 generated records, one
// transaction (and one durable commit) per batch, into a store that starts
// empty. records/s counts the timed part only: generating the records is not.
func BenchmarkPutCalls(b *testing.B) {
	ctx := context.Background()
	db := openBench(b, filepath.Join(b.TempDir(), "cv.db"))
	stream := newBenchStream(1, "acme")
	total := 0
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batch := stream.next(benchBatch)
		c0 := cpuTime()
		b.StartTimer()
		err := db.Update(ctx, func(tx callvault.Tx) error {
			stored, err := tx.PutCalls(batch)
			if err == nil && !stored[len(stored)-1] {
				err = fmt.Errorf("record not stored")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		total += len(batch)
	}
	reportIngest(b, total, cpu)
}

// BenchmarkRawInsert is PutCalls' baseline: the same rows (same schema,
// pragmas and indexes, bodies encoded beforehand) through one bare prepared
// INSERT per transaction on a plain database/sql connection, in batches of
// 5000.
func BenchmarkRawInsert(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "cv.db")
	if err := openBench(b, path).Close(); err != nil {
		b.Fatal(err)
	}
	raw, err := OpenRaw(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	stream := newBenchStream(1, "acme")
	var seq int64
	total := 0
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		rows := make([][]any, benchBatch)
		for k, r := range stream.next(benchBatch) {
			seq++
			rows[k] = []any{r.TenantID, r.ID, r.Start.UnixMicro(), seq, r.Direction, r.Type, r.Result, r.SiteID,
				r.Extension, r.From.PhoneNumber, r.To.PhoneNumber, r.SessionID, r.TelephonySessionID,
				len(r.RecordingIDs) > 0, r.LegalHold, usOrNil(r.Answer), usOrNil(r.End), r.DurationMs, r.TalkMs,
				time.Now().UnixMicro(), string(appendCallBody(nil, r))}
		}
		c0 := cpuTime()
		b.StartTimer()
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO calls (tenant_id, id, start_us, ingest_seq, direction, type,
			result, site_id, extension, from_number, to_number, session_id, telephony_session_id, has_recording,
			legal_hold, answer_us, end_us, duration_ms, talk_ms, ingested_us, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for _, args := range rows {
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		total += len(rows)
	}
	reportIngest(b, total, cpu)
}

// listDataset returns a store holding CALLVAULT_BENCH_CALLS records (default
// 1,000,000): nine in ten of tenant acme, one in ten of globex, interleaved
// in time, ingested through PutCalls in batches of 5000.
func listDataset(b *testing.B) (*DB, int) {
	n := 1_000_000
	if s := os.Getenv("CALLVAULT_BENCH_CALLS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			b.Fatalf("CALLVAULT_BENCH_CALLS=%q: want a number >= 1000", s)
		}
		n = v
	}
	path := os.Getenv("CALLVAULT_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "calls.db")
	}
	ctx := context.Background()
	db := openBench(b, path)
	var have int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM calls`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == n {
		return db, n
	}
	if have != 0 {
		b.Fatalf("%s holds %d records, want %d or none", path, have, n)
	}
	acme, globex := newBenchStream(2, "acme"), newBenchStream(3, "globex")
	t0 := time.Now()
	for done := 0; done < n; {
		k := min(benchBatch, n-done)
		batch := acme.next(k * 9 / 10)
		batch = append(batch, globex.next(k-len(batch))...)
		// Spread globex's records over acme's time: both streams run at one
		// call per 50 ms; globex's records start at a tenth of the pace.
		for _, r := range batch[k*9/10:] {
			r.Start = benchStart.Add(r.Start.Sub(benchStart) * 9)
		}
		if err := db.Update(ctx, func(tx callvault.Tx) error { _, err := tx.PutCalls(batch); return err }); err != nil {
			b.Fatal(err)
		}
		done += k
	}
	b.Logf("dataset: %d records ingested in %v (%.0f records/s) into %s", n, time.Since(t0).Round(time.Millisecond),
		float64(n)/time.Since(t0).Seconds(), path)
	return db, n
}

// BenchmarkListCalls times one page (100 records, newest first) of tenant
// acme's calls over the whole time range of the dataset, at a snapshot, as
// the listing API asks for it: the first page, and page 1000 through its
// keyset cursor. Each query's latency is measured; p50-ms and p99-ms are
// reported besides the mean.
func BenchmarkListCalls(b *testing.B) {
	ctx := context.Background()
	db, n := listDataset(b)
	head, err := db.CallIngestHead(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	base := callvault.CallFilter{TenantID: "acme", From: benchStart, To: benchStart.Add(time.Duration(n) * 50 * time.Millisecond),
		MaxIngestSeq: head, Limit: 100}
	// The cursor of page 1000: the last record of page 999.
	deep := base
	pages := min(999, n*9/10/100-1)
	for range pages {
		recs, err := db.Calls(ctx, deep)
		if err != nil || len(recs) != 100 {
			b.Fatalf("walking to the deep page: %d records, %v", len(recs), err)
		}
		last := recs[len(recs)-1]
		deep.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
	}
	ext := base
	ext.Extension = "1234"
	inbound := base
	inbound.Directions = []string{callvault.DirectionInbound}
	inbound.Results = []string{callvault.ResultMissed}
	for _, c := range []struct {
		name string
		f    callvault.CallFilter
	}{
		{"page1", base},
		{fmt.Sprintf("page%d", pages+1), deep},
		{"page1-extension", ext},
		{"page1-missed-inbound", inbound},
	} {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				recs, err := db.Calls(ctx, c.f)
				lat = append(lat, time.Since(t0))
				if err != nil || len(recs) == 0 {
					b.Fatalf("Calls: %d records, %v", len(recs), err)
				}
			}
			reportLatency(b, lat)
		})
	}
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportIngest reports records/s over the timed part, and the CPU time
// (user + system, all threads, timed or not) per record: on a shared
// machine the second moves less with the load of others.
func reportIngest(b *testing.B, records int, cpu time.Duration) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(records), "cpu-µs/record")
}

// reportLatency reports the median and 99th percentile of lat in ms.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
