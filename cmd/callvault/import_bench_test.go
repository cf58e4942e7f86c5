package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/sqlite"
)

// Benchmarks of `callvault import`. See docs/benchmarks.md, "Ingest
// through import and HTTP", for the commands and the numbers.
// Environment:
//
//	CALLVAULT_BENCH_RECORDS  records per import in BenchmarkImport (200000),
//	                         and in the file TestWriteBenchNDJSON writes
//	CALLVAULT_BENCH_NDJSON   TestWriteBenchNDJSON writes the records to this
//	                         file (streaming), for a run of the real binary
//	CALLVAULT_BENCH_DATA     TestWriteBenchNDJSON makes this data directory
//	                         with tenant acme and its 50 sites

// benchStart and benchGap match internal/sqlite's ingest benchmarks: seed
// 1 of tenant acme gives the rows of BenchmarkRawInsert (except that a
// recording id is not part of the wire shape).
var benchStart = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

const benchGap = 2 * time.Second

func benchRecords(tb testing.TB) int {
	n := 200_000
	if s := os.Getenv("CALLVAULT_BENCH_RECORDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			tb.Fatalf("CALLVAULT_BENCH_RECORDS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// writeBenchNDJSON writes n records of tenant acme (seed 1) to path.
func writeBenchNDJSON(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := callgen.NewStream(1, "acme", benchStart, benchGap).WriteNDJSON(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// makeBenchData makes a data directory with tenant acme and the sites
// callgen's records name.
func makeBenchData(tb testing.TB, data string) {
	tb.Helper()
	var out, errb syncBuffer
	args := []string{"callvault", "tenant", "create", "--data", data, "--id", "acme", "--name", "Acme"}
	if err := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errb); err != nil {
		tb.Fatalf("tenant create: %v\n%s", err, errb.String())
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "callvault.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	err = st.Update(context.Background(), func(tx callvault.Tx) error {
		for _, id := range callgen.Sites(50) {
			now := time.Now()
			if err := tx.CreateSite(&callvault.Site{TenantID: "acme", ID: id, Name: "PBX " + id, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestWriteBenchNDJSON prepares a run of the real binary (see the
// environment above); without CALLVAULT_BENCH_NDJSON or
// CALLVAULT_BENCH_DATA it does nothing.
func TestWriteBenchNDJSON(t *testing.T) {
	path, data := os.Getenv("CALLVAULT_BENCH_NDJSON"), os.Getenv("CALLVAULT_BENCH_DATA")
	if path == "" && data == "" {
		t.Skip("CALLVAULT_BENCH_NDJSON and CALLVAULT_BENCH_DATA are not set")
	}
	if path != "" {
		writeBenchNDJSON(t, path, benchRecords(t))
	}
	if data != "" {
		makeBenchData(t, data)
	}
}

var benchFile struct {
	sync.Mutex
	path string
	n    int
}

// BenchmarkImport runs `callvault import --format ndjson --batch N` of a
// file of CALLVAULT_BENCH_RECORDS generated records (default 200,000) into
// a new data directory per iteration; records/s counts the import alone
// (opening the store, parsing, validating, storing, the audit record).
func BenchmarkImport(b *testing.B) {
	n := benchRecords(b)
	benchFile.Lock()
	if benchFile.n != n {
		benchFile.path = filepath.Join(b.TempDir(), "calls.ndjson")
		writeBenchNDJSON(b, benchFile.path, n)
		benchFile.n = n
	}
	file := benchFile.path
	benchFile.Unlock()
	for _, batch := range []int{5000, 20000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			var cpu time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				data := filepath.Join(b.TempDir(), "data"+strconv.Itoa(i))
				makeBenchData(b, data)
				var out, errb syncBuffer
				args := []string{"callvault", "import", "--data", data, "--tenant", "acme", "--format", "ndjson",
					"--batch", strconv.Itoa(batch), file}
				c0 := cpuTime()
				b.StartTimer()
				if err := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errb); err != nil {
					b.Fatalf("import: %v\n%s", err, errb.String())
				}
				b.StopTimer()
				cpu += cpuTime() - c0
				if want := fmt.Sprintf("imported %d records (%d new", n, n); !strings.Contains(out.String(), want) {
					b.Fatalf("import: %q, want %q", out.String(), want)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(n*b.N), "cpu-µs/record")
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
