package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/postgres/pgtest"
)

// BenchmarkListCalls mirrors internal/sqlite's: the same dataset (nine in
// ten records of tenant acme, one in ten of globex, interleaved in time,
// one acme call every listGap) and the same pages. See docs/benchmarks.md,
// "PostgreSQL store". Environment:
//
//	CALLVAULT_TEST_POSTGRES   the server (the benchmark skips without it)
//	CALLVAULT_BENCH_CALLS     records in the dataset (1000000)
//	CALLVAULT_BENCH_PG_SCHEMA schema of the dataset, kept and reused when it
//	                          already holds that many records (default: a
//	                          new schema, dropped at the end)
//	CALLVAULT_BENCH_FILL      records per PutCalls transaction while
//	                          filling (50000)

const listGap = 2 * time.Second

// listStream makes the records of one tenant as internal/sqlite's
// benchStream does: 50 sites, 2000 extensions, one call every listGap,
// up to a minute late.
type listStream struct {
	g   *callgen.Generator
	rng *rand.Rand
	i   int
}

func newListStream(seed int64, tenant string) *listStream {
	return &listStream{
		g:   callgen.New(seed, tenant, callgen.Sites(50), callgen.Extensions(2000)),
		rng: rand.New(rand.NewPCG(uint64(seed), 1)),
	}
}

func (s *listStream) next(n int) []*callvault.CallRecord {
	out := make([]*callvault.CallRecord, n)
	for k := range out {
		at := benchStart.Add(time.Duration(s.i)*listGap + time.Duration(s.rng.Int64N(int64(time.Minute))))
		out[k] = s.g.Next(at)
		s.i++
	}
	return out
}

func envInt(b *testing.B, name string, def, least int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < least {
		b.Fatalf("%s=%q: want a number >= %d", name, s, least)
	}
	return v
}

// listDataset returns a store holding CALLVAULT_BENCH_CALLS records, filled
// through PutCalls (COPY) in transactions of CALLVAULT_BENCH_FILL records,
// the next batch generated while the current one commits, then VACUUM
// ANALYZE (as autovacuum would do to a table that stopped growing).
func listDataset(b *testing.B) (*DB, int) {
	n := envInt(b, "CALLVAULT_BENCH_CALLS", 1_000_000, 1000)
	fill := envInt(b, "CALLVAULT_BENCH_FILL", 50_000, 10)
	ctx := context.Background()
	var dsn string
	if schema := os.Getenv("CALLVAULT_BENCH_PG_SCHEMA"); schema != "" {
		base := os.Getenv(envDSN)
		if base == "" {
			b.Skip("set " + envDSN + " to run the PostgreSQL benchmarks")
		}
		if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(schema) {
			b.Fatalf("CALLVAULT_BENCH_PG_SCHEMA=%q: want a lower-case identifier", schema)
		}
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			b.Fatal(err)
		}
		_, err = conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema)
		conn.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		dsn = pgtest.WithSearchPath(b, base, schema)
	} else {
		dsn = testDSN(b)
	}
	db := mustOpen(b, dsn)
	var have int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM calls`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == n {
		return db, n
	}
	if have != 0 {
		b.Fatalf("the dataset holds %d records, want %d or none", have, n)
	}
	err := db.Update(ctx, func(tx callvault.Tx) error {
		for _, t := range []string{"acme", "globex"} {
			if err := tx.CreateTenant(&callvault.Tenant{ID: t, Name: t, Region: "us", RetentionDays: 3650}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	acme, globex := newListStream(2, "acme"), newListStream(3, "globex")
	batches := make(chan []*callvault.CallRecord, 1)
	go func() {
		for done := 0; done < n; {
			k := min(fill, n-done)
			batch := acme.next(k * 9 / 10)
			batch = append(batch, globex.next(k-len(batch))...)
			// globex's records spread over acme's time (a ninth of the pace).
			for _, r := range batch[k*9/10:] {
				r.Start = benchStart.Add(r.Start.Sub(benchStart) * 9)
			}
			batches <- batch
			done += k
		}
		close(batches)
	}()
	t0 := time.Now()
	for batch := range batches {
		if err := db.Update(ctx, func(tx callvault.Tx) error { _, err := tx.PutCalls(batch); return err }); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(t0)
	t1 := time.Now()
	if _, err := db.pool.Exec(ctx, `VACUUM ANALYZE calls`); err != nil {
		b.Fatal(err)
	}
	var size string
	if err := db.pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('calls'))`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.Logf("dataset: %d records ingested in %v (%.0f records/s, %d per transaction), VACUUM ANALYZE %v, calls %s",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), fill, time.Since(t1).Round(time.Millisecond), size)
	return db, n
}

// BenchmarkListCalls times one page (100 records, newest first) of tenant
// acme at a snapshot, through Calls: the first page and page 1000 through
// its keyset cursor over the whole range, and the filters of internal/
// sqlite's benchmark. It logs the plan (EXPLAIN ANALYZE, BUFFERS) of the
// two pages. p50-ms and p99-ms are reported besides the mean.
func BenchmarkListCalls(b *testing.B) {
	ctx := context.Background()
	db, n := listDataset(b)
	head, err := db.CallIngestHead(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	end := benchStart.Add(time.Duration(n*9/10) * listGap)
	base := callvault.CallFilter{TenantID: "acme", From: benchStart, To: end.Add(time.Hour), MaxIngestSeq: head, Limit: 100}
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
	for _, f := range []callvault.CallFilter{base, deep} {
		q, args, err := callsQuery(&f)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := db.pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+q, args...)
		if err != nil {
			b.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		b.Logf("plan (cursor %v):\n%s", f.After != nil, strings.Join(plan, "\n"))
	}
	day := base
	day.From = end.Add(-24 * time.Hour)
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
			slices.Sort(lat)
			q := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}
