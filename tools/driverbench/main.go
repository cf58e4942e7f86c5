// Command driverbench measures SQLite drivers for database/sql on
// callvault's row shapes (audit records, call records) with the server's
// settings: WAL, synchronous=FULL, foreign_keys=ON, busy_timeout=5000, one
// writer connection. It prints one markdown table row per workload.
//
//	go run . -driver mattn -dir /path/on/disk -n 100000
//	go run -tags ncruces . -driver ncruces -dir /path/on/disk
//
// See run.sh, which runs every driver, and docs/sqlite-driver.md.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	driver      string
	dir         string
	n           int // call rows for the bulk insert
	batch       int // call rows per bulk transaction
	auditSingle int // transactions of one audit row
	auditGroups int // transactions of groupSize audit rows
	groupSize   int
	queries     int // keyset queries (per reader in the concurrent workload)
	readers     int
	writerBatch int // call rows per transaction of the concurrent writer
	seed        uint64
	header      bool
	keep        bool
	explain     bool
	callIndex   string // columns of the calls time index
}

const schema = `
CREATE TABLE tenants (
	id TEXT NOT NULL PRIMARY KEY
);
CREATE TABLE calls (
	tenant_id   TEXT NOT NULL REFERENCES tenants(id),
	id          TEXT NOT NULL,
	site_id     TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	start_ts    INTEGER NOT NULL, -- unix µs
	duration_ms INTEGER NOT NULL,
	direction   TEXT NOT NULL,
	type        TEXT NOT NULL,
	action      TEXT NOT NULL,
	result      TEXT NOT NULL,
	from_number TEXT NOT NULL,
	from_name   TEXT NOT NULL,
	from_ext    TEXT NOT NULL,
	to_number   TEXT NOT NULL,
	to_name     TEXT NOT NULL,
	to_ext      TEXT NOT NULL,
	legs        TEXT NOT NULL, -- JSON
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX calls_by_start ON calls (%s);
CREATE TABLE audit (
	tenant_id     TEXT NOT NULL REFERENCES tenants(id),
	seq           INTEGER NOT NULL,
	id            TEXT NOT NULL,
	service       TEXT NOT NULL,
	display_name  TEXT NOT NULL,
	ts            INTEGER NOT NULL, -- unix µs
	event_type    TEXT NOT NULL,
	entity_type   TEXT NOT NULL,
	entity_key    TEXT NOT NULL,
	audit_user_id TEXT NOT NULL,
	details       TEXT NOT NULL, -- JSON
	request_id    TEXT NOT NULL,
	principal     TEXT NOT NULL,
	outcome       TEXT NOT NULL,
	prev_hash     TEXT NOT NULL,
	hash          TEXT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);
`

const keysetQuery = `SELECT ` + callCols + ` FROM calls
WHERE tenant_id = ? AND (start_ts, id) < (?, ?)
ORDER BY start_ts DESC, id DESC LIMIT 100`

var (
	insertCall  = `INSERT INTO calls (` + callCols + `) VALUES (` + placeholders(17) + `)`
	insertAudit = `INSERT INTO audit (` + auditCols + `) VALUES (` + placeholders(16) + `)`
)

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func main() {
	var c config
	flag.StringVar(&c.driver, "driver", "", "driver to measure: mattn, modernc or ncruces (ncruces needs -tags ncruces)")
	flag.StringVar(&c.dir, "dir", "", "directory for the database file (on the disk to measure, not tmpfs)")
	flag.IntVar(&c.n, "n", 100_000, "call rows to bulk insert (the table the reads run on)")
	flag.IntVar(&c.batch, "batch", 1000, "call rows per bulk-insert transaction")
	flag.IntVar(&c.auditSingle, "audit-single", 2000, "transactions of one audit row")
	flag.IntVar(&c.auditGroups, "audit-groups", 200, "transactions of -group audit rows")
	flag.IntVar(&c.groupSize, "group", 50, "audit rows per group transaction")
	flag.IntVar(&c.queries, "queries", 2000, "keyset page queries (per reader when concurrent)")
	flag.IntVar(&c.readers, "readers", 4, "reader goroutines in the concurrent workload")
	flag.IntVar(&c.writerBatch, "writer-batch", 100, "call rows per transaction of the concurrent writer")
	var seed uint
	flag.UintVar(&seed, "seed", 1, "dataset seed")
	flag.BoolVar(&c.header, "header", false, "print the markdown table header first")
	flag.BoolVar(&c.keep, "keep", false, "keep the database file afterwards")
	flag.BoolVar(&c.explain, "explain", true, "print the keyset query plan to stderr")
	flag.StringVar(&c.callIndex, "call-index", "tenant_id, start_ts DESC, id", "columns of the calls index the keyset query uses")
	flag.Parse()
	c.seed = uint64(seed)
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "driverbench:", err)
		os.Exit(1)
	}
}

// result is one table row.
type result struct {
	workload string
	ops      int
	unit     string // what an op is: "rows", "tx", "queries"
	elapsed  time.Duration
	lat      []time.Duration // per transaction or per query
	cpu      time.Duration   // process user+system CPU time during the workload
	notes    string
}

func printHeader() {
	fmt.Println("| driver | workload | ops | time (s) | throughput | p50 | p99 | CPU/op | notes |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---|")
}

func (r result) print(driver string) {
	p50, p99 := percentile(r.lat, 0.50), percentile(r.lat, 0.99)
	rate := float64(r.ops) / r.elapsed.Seconds()
	cpu := float64(r.cpu) / float64(time.Microsecond) / float64(r.ops)
	fmt.Printf("| %s | %s | %d | %.2f | %s %s/s | %s | %s | %.1f µs | %s |\n",
		driver, r.workload, r.ops, r.elapsed.Seconds(), thousands(rate), r.unit, ms(p50), ms(p99), cpu, r.notes)
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f ms", f)
	case f >= 10:
		return fmt.Sprintf("%.1f ms", f)
	default:
		return fmt.Sprintf("%.2f ms", f)
	}
}

func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

func run(c config) error {
	d, ok := drivers[c.driver]
	if !ok {
		return fmt.Errorf("unknown driver %q; this binary has: %s (ncruces needs -tags ncruces, which leaves mattn out)", c.driver, driverKeys())
	}
	if c.dir == "" {
		return errors.New("-dir is required")
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	dir, err := filepath.Abs(c.dir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, c.driver+".db")
	cleanup := func() {
		for _, s := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(path + s)
		}
	}
	cleanup()
	if !c.keep {
		defer cleanup()
	}

	ctx := context.Background()
	w, err := d.open(path, true)
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetMaxOpenConns(1) // the one writer connection
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	version, err := checkSettings(ctx, w)
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	if _, err := w.ExecContext(ctx, fmt.Sprintf(schema, c.callIndex)); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for t := range numTenants {
		if _, err := w.ExecContext(ctx, `INSERT INTO tenants (id) VALUES (?)`, tenantID(t)); err != nil {
			return err
		}
	}

	r, err := d.open(path, false)
	if err != nil {
		return err
	}
	defer r.Close()
	r.SetMaxOpenConns(c.readers)
	r.SetMaxIdleConns(c.readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	if _, err := checkSettings(ctx, r); err != nil {
		return fmt.Errorf("reader: %w", err)
	}

	fmt.Fprintf(os.Stderr, "driverbench: %s (%s), SQLite %s, %s %s/%s GOMAXPROCS=%d, db %s\n",
		c.driver, d.name, version, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), path)
	label := fmt.Sprintf("%s (SQLite %s)", c.driver, version)
	if c.header {
		printHeader()
	}
	emit := func(res result, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", res.workload, err)
		}
		res.print(label)
		// Start every workload from an empty WAL, untimed.
		_, err = w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	}

	if err := emit(bulkInsert(ctx, c, w)); err != nil {
		return err
	}
	if c.explain {
		if err := explain(ctx, r, c); err != nil {
			return err
		}
	}
	if err := emit(keysetReads(ctx, c, r)); err != nil {
		return err
	}
	if err := emit(concurrentReads(ctx, c, r, w)); err != nil {
		return err
	}
	audit := genAudit(c.seed, c.auditSingle+c.auditGroups*c.groupSize)
	if err := emit(auditTx(ctx, w, audit[:c.auditSingle], 1)); err != nil {
		return err
	}
	if err := emit(auditTx(ctx, w, audit[c.auditSingle:], c.groupSize)); err != nil {
		return err
	}
	return nil
}

// checkSettings verifies that the DSN took effect on a connection of db and
// returns the SQLite library version.
func checkSettings(ctx context.Context, db *sql.DB) (string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var jm, version string
	var sync, fk, bt int
	for _, q := range []struct {
		sql  string
		dest any
	}{
		{`PRAGMA journal_mode`, &jm},
		{`PRAGMA synchronous`, &sync},
		{`PRAGMA foreign_keys`, &fk},
		{`PRAGMA busy_timeout`, &bt},
		{`SELECT sqlite_version()`, &version},
	} {
		if err := conn.QueryRowContext(ctx, q.sql).Scan(q.dest); err != nil {
			return "", fmt.Errorf("%s: %w", q.sql, err)
		}
	}
	if strings.ToLower(jm) != "wal" || sync != 2 || fk != 1 || bt != 5000 {
		return "", fmt.Errorf("settings not applied: journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d", jm, sync, fk, bt)
	}
	return version, nil
}

// bulkInsert is workload 1: c.n call rows, c.batch per transaction, one
// prepared statement.
func bulkInsert(ctx context.Context, c config, w *sql.DB) (result, error) {
	res := result{workload: fmt.Sprintf("1 bulk insert calls, %d rows/tx", c.batch), ops: c.n, unit: "rows"}
	// Generate outside the timed section.
	rows := make([]callRow, c.n)
	for i := range rows {
		rows[i] = genCall(c.seed, i)
	}
	stmt, err := w.PrepareContext(ctx, insertCall)
	if err != nil {
		return res, err
	}
	defer stmt.Close()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < len(rows); i += c.batch {
		t0 := time.Now()
		if err := insertCalls(ctx, w, stmt, rows[i:min(i+c.batch, len(rows))]); err != nil {
			return res, err
		}
		res.lat = append(res.lat, time.Since(t0))
	}
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	res.notes = "latency per tx"
	return res, nil
}

func insertCalls(ctx context.Context, w *sql.DB, stmt *sql.Stmt, rows []callRow) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ts := tx.StmtContext(ctx, stmt)
	for i := range rows {
		if _, err := ts.ExecContext(ctx, rows[i].args()...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// auditTx is workload 2: one transaction per group of `per` audit rows.
func auditTx(ctx context.Context, w *sql.DB, rows []auditRow, per int) (result, error) {
	res := result{workload: "2 audit append, 1 row/tx", ops: len(rows) / per, unit: "tx"}
	if per > 1 {
		res.workload = fmt.Sprintf("2 audit append, %d rows/tx", per)
	}
	stmt, err := w.PrepareContext(ctx, insertAudit)
	if err != nil {
		return res, err
	}
	defer stmt.Close()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i+per <= len(rows); i += per {
		t0 := time.Now()
		if err := func() error {
			tx, err := w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			ts := tx.StmtContext(ctx, stmt)
			for j := i; j < i+per; j++ {
				if _, err := ts.ExecContext(ctx, rows[j].args()...); err != nil {
					return err
				}
			}
			return tx.Commit()
		}(); err != nil {
			return res, err
		}
		res.lat = append(res.lat, time.Since(t0))
	}
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	res.notes = "latency per tx (commit fsyncs the WAL)"
	if per > 1 {
		res.notes = fmt.Sprintf("%s audit rows/s; latency per tx", thousands(float64(res.ops*per)/res.elapsed.Seconds()))
	}
	return res, nil
}

type cursor struct {
	tenant string
	ts     int64
	id     string
}

// randomCursor takes the (start_ts, id) of a random existing row as the
// position a client pages back from.
func randomCursor(rng *rand.Rand, seed uint64, n int) cursor {
	row := genCall(seed, rng.IntN(n))
	return cursor{row.TenantID, row.StartTS, row.ID}
}

// page runs one keyset query and scans every column of every row.
func page(ctx context.Context, db *sql.DB, cur cursor) (int, error) {
	rows, err := db.QueryContext(ctx, keysetQuery, cur.tenant, cur.ts, cur.id)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var c callRow
	dest := c.dest()
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// cursors returns count random cursors.
func cursors(c config, rng *rand.Rand, count int) []cursor {
	cs := make([]cursor, count)
	for i := range cs {
		cs[i] = randomCursor(rng, c.seed, c.n)
	}
	return cs
}

// readLoop runs one keyset query per cursor and returns the latency of each
// and the number of rows read.
func readLoop(ctx context.Context, db *sql.DB, cursors []cursor) ([]time.Duration, int, error) {
	lat := make([]time.Duration, 0, len(cursors))
	total := 0
	for _, cur := range cursors {
		t0 := time.Now()
		got, err := page(ctx, db, cur)
		if err != nil {
			return lat, total, err
		}
		lat = append(lat, time.Since(t0))
		total += got
	}
	return lat, total, nil
}

// cpuTime returns the user plus system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// keysetReads is workload 3: one goroutine, c.queries keyset pages.
func keysetReads(ctx context.Context, c config, r *sql.DB) (result, error) {
	res := result{workload: "3 keyset page (100 rows), 1 reader", ops: c.queries, unit: "queries"}
	rng := rand.New(rand.NewPCG(c.seed, 3))
	if _, _, err := readLoop(ctx, r, cursors(c, rng, 20)); err != nil { // warm up, untimed
		return res, err
	}
	cs := cursors(c, rng, c.queries)
	start, cpu0 := time.Now(), cpuTime()
	lat, rows, err := readLoop(ctx, r, cs)
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	res.lat = lat
	res.notes = fmt.Sprintf("%s rows/s scanned", thousands(float64(rows)/res.elapsed.Seconds()))
	return res, err
}

// concurrentReads is workload 4: c.readers goroutines each run c.queries
// keyset pages while one writer inserts new call rows, c.writerBatch per
// transaction, until the readers are done.
func concurrentReads(ctx context.Context, c config, r, w *sql.DB) (result, error) {
	res := result{workload: fmt.Sprintf("4 keyset page, %d readers + 1 writer", c.readers), ops: c.readers * c.queries, unit: "queries"}
	// Warm every reader connection, untimed.
	var wg sync.WaitGroup
	for g := range c.readers {
		wg.Go(func() { readLoop(ctx, r, cursors(c, rand.New(rand.NewPCG(c.seed, 400+uint64(g))), 5)) })
	}
	wg.Wait()

	cs := make([][]cursor, c.readers)
	for g := range cs {
		cs[g] = cursors(c, rand.New(rand.NewPCG(c.seed, 40+uint64(g))), c.queries)
	}
	stmt, err := w.PrepareContext(ctx, insertCall)
	if err != nil {
		return res, err
	}
	defer stmt.Close()
	var stop atomic.Bool
	var written int
	var werr error
	writerDone := make(chan struct{})
	start, cpu0 := time.Now(), cpuTime()
	go func() {
		defer close(writerDone)
		next := c.n + 1_000_000 // rows beyond the bulk set, later start_ts
		batch := make([]callRow, c.writerBatch)
		for !stop.Load() {
			for i := range batch {
				batch[i] = genCall(c.seed, next)
				next++
			}
			if err := insertCalls(ctx, w, stmt, batch); err != nil {
				werr = err
				return
			}
			written += len(batch)
		}
	}()
	lats := make([][]time.Duration, c.readers)
	errs := make([]error, c.readers)
	for g := range c.readers {
		wg.Go(func() {
			lats[g], _, errs[g] = readLoop(ctx, r, cs[g])
		})
	}
	wg.Wait()
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	stop.Store(true)
	<-writerDone
	wElapsed := time.Since(start)
	for g := range c.readers {
		res.lat = append(res.lat, lats[g]...)
	}
	res.notes = fmt.Sprintf("CPU/op includes the writer; writer meanwhile: %s rows/s in %d-row tx", thousands(float64(written)/wElapsed.Seconds()), c.writerBatch)
	return res, errors.Join(append(errs, werr)...)
}

// explain prints the keyset query plan to stderr, to show the index is used
// (and whether ORDER BY needs a sort).
func explain(ctx context.Context, r *sql.DB, c config) error {
	cur := randomCursor(rand.New(rand.NewPCG(c.seed, 9)), c.seed, c.n)
	rows, err := r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+keysetQuery, cur.tenant, cur.ts, cur.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "driverbench: plan: %s\n", detail)
	}
	return rows.Err()
}
