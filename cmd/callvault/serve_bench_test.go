package main

import (
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServeCallList is a load generator for running `callvault serve`
// nodes (other processes, on loopback): every operation is one
// GET /v1/tenants/{tenant}/calls?limit=100 with a bearer token, sent to the
// nodes in turn by CALLVAULT_BENCH_CLIENTS concurrent clients (16), each
// with its own keep-alive connections. It reports requests/s and the
// latency p50/p99 over the timed requests; a request that does not answer
// 200 fails the benchmark. See docs/benchmarks.md, "PostgreSQL store".
// Environment (the benchmark skips without the first two):
//
//	CALLVAULT_BENCH_URLS    base URLs of the nodes, comma-separated
//	CALLVAULT_BENCH_TOKEN   an access token with calls.read on the tenant
//	CALLVAULT_BENCH_TENANT  the tenant (acme)
//	CALLVAULT_BENCH_CLIENTS concurrent clients (16)
//	CALLVAULT_BENCH_QUERY   more query parameters, e.g. the time range
//	                        (from=...&to=...; the API's default is the last
//	                        day)
func BenchmarkServeCallList(b *testing.B) {
	urls, token := os.Getenv("CALLVAULT_BENCH_URLS"), os.Getenv("CALLVAULT_BENCH_TOKEN")
	if urls == "" || token == "" {
		b.Skip("set CALLVAULT_BENCH_URLS and CALLVAULT_BENCH_TOKEN to load running nodes")
	}
	tenant := os.Getenv("CALLVAULT_BENCH_TENANT")
	if tenant == "" {
		tenant = "acme"
	}
	clients := 16
	if s := os.Getenv("CALLVAULT_BENCH_CLIENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("CALLVAULT_BENCH_CLIENTS=%q: want a positive number", s)
		}
		clients = v
	}
	query := "limit=100"
	if q := os.Getenv("CALLVAULT_BENCH_QUERY"); q != "" {
		query += "&" + q
	}
	var targets []string
	for _, u := range strings.Split(urls, ",") {
		targets = append(targets, strings.TrimRight(u, "/")+"/v1/tenants/"+tenant+"/calls?"+query)
	}
	get := func(c *http.Client, url string) error {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || len(body) < 10000 {
			return &statusError{resp.StatusCode, string(body[:min(len(body), 300)])}
		}
		return nil
	}
	cs := make([]*http.Client, clients)
	for i := range cs {
		cs[i] = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}, Timeout: 30 * time.Second}
		for _, t := range targets { // warm connections and caches
			if err := get(cs[i], t); err != nil {
				b.Fatal(err)
			}
		}
	}
	lat := make([][]time.Duration, clients)
	var next atomic.Int64
	var failed atomic.Bool
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for {
				k := next.Add(1) - 1
				if k >= int64(b.N) || failed.Load() {
					return
				}
				s := time.Now()
				if err := get(cs[i], targets[int(k)%len(targets)]); err != nil {
					failed.Store(true)
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(s))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	q := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.status) + ": " + e.body }
