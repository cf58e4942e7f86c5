package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
	"github.com/callvault/callvault/internal/sqlrow"
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

// benchBatch is the batch size of the dataset builder, and the first of
// benchBatches.
const benchBatch = 5000

// benchBatches are the batch (transaction) sizes of the ingest benchmarks:
// what one PutCalls gets, and what a group commit of four such batches
// would give it.
var benchBatches = []int{benchBatch, 4 * benchBatch}

// benchStart is when the benchmark datasets begin.
var benchStart = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

// benchGap is the time between calls of a bench stream: about 43,000 calls
// a day, what 2000 extensions of a busy contact center make.
const benchGap = 2 * time.Second

// benchStream makes the records of one tenant: 50 sites, 2000 extensions,
// one call every benchGap, delivered roughly in time order (up to a minute
// late), as a PBX's call-record feed delivers them.
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
		at := benchStart.Add(time.Duration(s.i)*benchGap + time.Duration(s.rng.Int64N(int64(time.Minute))))
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

// BenchmarkPutCalls ingests batches of 5000 (and 20000) generated records,
// one transaction (and one durable commit) per batch, into a store that
// starts empty. records/s counts the timed part only: generating the
// records is not.
func BenchmarkPutCalls(b *testing.B) {
	for _, n := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { benchPutCalls(b, n) })
	}
}

func benchPutCalls(b *testing.B, size int) {
	ctx := context.Background()
	db := openBench(b, filepath.Join(b.TempDir(), "cv.db"))
	stream := newBenchStream(1, "acme")
	total := 0
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batch := stream.next(size)
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
// pragmas and indexes; bodies encoded, arguments built and IngestSeq
// numbered beforehand, outside the timer) through one bare prepared INSERT
// per transaction of 5000 (or 20000) rows on a connection of OpenRaw,
// either through database/sql or, as PutCalls does, through the
// database/sql/driver interfaces of the connection.
func BenchmarkRawInsert(b *testing.B) {
	for _, n := range benchBatches {
		b.Run(fmt.Sprintf("database-sql/batch=%d", n), func(b *testing.B) { benchRawInsert(b, false, n) })
		b.Run(fmt.Sprintf("driver/batch=%d", n), func(b *testing.B) { benchRawInsert(b, true, n) })
	}
}

func benchRawInsert(b *testing.B, viaDriver bool, size int) {
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
	conn, err := raw.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	const insert = `INSERT INTO calls (tenant_id, id, start_us, ingest_seq, direction, type,
		result, site_id, extension, from_number, to_number, session_id, telephony_session_id, has_recording,
		legal_hold, answer_us, end_us, duration_ms, talk_ms, ingested_us, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	stream := newBenchStream(1, "acme")
	var seq int64
	total := 0
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		rows := make([][]driver.NamedValue, size)
		for k, r := range stream.next(size) {
			seq++
			vals := []any{r.TenantID, r.ID, r.Start.UnixMicro(), seq, r.Direction, r.Type, r.Result, r.SiteID,
				r.Extension, r.From.PhoneNumber, r.To.PhoneNumber, r.SessionID, r.TelephonySessionID,
				len(r.RecordingIDs) > 0, r.LegalHold, sqlrow.MicrosOrNil(r.Answer), sqlrow.MicrosOrNil(r.End), r.DurationMs, r.TalkMs,
				time.Now().UnixMicro(), string(appendCallBody(nil, r))}
			rows[k] = make([]driver.NamedValue, len(vals))
			for i, v := range vals {
				rows[k][i] = driver.NamedValue{Ordinal: i + 1, Value: v}
			}
		}
		c0 := cpuTime()
		b.StartTimer()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if viaDriver {
			err = conn.Raw(func(dc any) error {
				st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, insert)
				if err != nil {
					return err
				}
				defer st.Close()
				for _, args := range rows {
					if _, err := st.(driver.StmtExecContext).ExecContext(ctx, args); err != nil {
						return err
					}
				}
				return nil
			})
		} else {
			var stmt *sql.Stmt
			stmt, err = tx.PrepareContext(ctx, insert)
			if err != nil {
				b.Fatal(err)
			}
			args := make([]any, 21)
			for _, row := range rows {
				for i := range row {
					args[i] = row[i].Value
				}
				if _, err = stmt.ExecContext(ctx, args...); err != nil {
					break
				}
			}
			stmt.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
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
		// call per benchGap; globex's records start at a ninth of the pace.
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
// acme's calls at a snapshot, as the listing API asks for it: over the
// whole time range of the dataset, the first page and page 1000 through its
// keyset cursor; then filters that calls_start does not serve, over the
// whole range and over the last day. Each query's latency is measured;
// p50-ms and p99-ms are reported besides the mean.
func BenchmarkListCalls(b *testing.B) {
	ctx := context.Background()
	db, n := listDataset(b)
	head, err := db.CallIngestHead(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	end := benchStart.Add(time.Duration(n*9/10) * benchGap)
	base := callvault.CallFilter{TenantID: "acme", From: benchStart, To: end.Add(time.Hour), MaxIngestSeq: head, Limit: 100}
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
	day := base
	day.From = end.Add(-24 * time.Hour)
	// A record of the last day, for its extension, number and session.
	probe, err := db.Calls(ctx, callvault.CallFilter{TenantID: "acme", From: day.From, Limit: 1})
	if err != nil || len(probe) == 0 {
		b.Fatalf("probe: %v", err)
	}
	p := probe[0]
	with := func(f callvault.CallFilter, set func(*callvault.CallFilter)) callvault.CallFilter {
		set(&f)
		return f
	}
	for _, c := range []struct {
		name string
		f    callvault.CallFilter
	}{
		{"page1", base},
		{fmt.Sprintf("page%d", pages+1), deep},
		{"page1-missed-inbound", with(base, func(f *callvault.CallFilter) {
			f.Directions, f.Results = []string{callvault.DirectionInbound}, []string{callvault.ResultMissed}
		})},
		{"page1-extension", with(base, func(f *callvault.CallFilter) { f.Extension = p.Extension })},
		{"day-page1", day},
		{"day-extension", with(day, func(f *callvault.CallFilter) { f.Extension = p.Extension })},
		{"day-phone", with(day, func(f *callvault.CallFilter) { f.PhoneNumber = p.To.PhoneNumber })},
		{"day-session", with(day, func(f *callvault.CallFilter) { f.SessionID = p.SessionID })},
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

// BenchmarkAggregateCalls times AggregateCalls over tenant acme's calls of
// the dataset of BenchmarkListCalls: per hour over the last day and over
// the whole dataset, and per extension over the last day.
func BenchmarkAggregateCalls(b *testing.B) {
	ctx := context.Background()
	db, n := listDataset(b)
	end := benchStart.Add(time.Duration(n*9/10) * benchGap)
	all := callvault.CallFilter{TenantID: "acme", From: benchStart, To: end.Add(time.Hour)}
	day := all
	day.From = end.Add(-24 * time.Hour)
	for _, c := range []struct {
		name string
		a    callvault.CallAggregate
	}{
		{"day-hours", callvault.CallAggregate{Filter: day, HourBuckets: true}},
		{"day-extensions", callvault.CallAggregate{Filter: day, GroupBy: "extension"}},
		{"all-hours", callvault.CallAggregate{Filter: all, HourBuckets: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				buckets, err := db.AggregateCalls(ctx, c.a)
				lat = append(lat, time.Since(t0))
				if err != nil || len(buckets) == 0 {
					b.Fatalf("AggregateCalls: %d buckets, %v", len(buckets), err)
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

// BenchmarkCommitLatency stores 80 batches of 5000 records (0 → 400,000),
// one durable transaction each, and reports the total and the
// distribution of the transactions' times: a checkpoint that runs inside
// a commit shows in the slow end. Run it with -test.benchtime 1x (each
// iteration is the whole run, into a new database).
func BenchmarkCommitLatency(b *testing.B) {
	const commits, size = 80, 5000
	ctx := context.Background()
	for range b.N {
		db := openBench(b, filepath.Join(b.TempDir(), "cv.db"))
		stream := newBenchStream(1, "acme")
		ds := make([]time.Duration, 0, commits)
		for range commits {
			recs := stream.next(size)
			t0 := time.Now()
			if err := db.Update(ctx, func(tx callvault.Tx) error { _, err := tx.PutCalls(recs); return err }); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(sum), "total-ms")
		b.ReportMetric(ms(ds[commits/2]), "p50-ms")
		b.ReportMetric(ms(ds[commits*9/10]), "p90-ms")
		b.ReportMetric(ms(ds[commits-1]), "max-ms")
		db.Close()
	}
}
