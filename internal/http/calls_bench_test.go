package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
)

// BenchmarkCallIngest posts NDJSON batches of generated call records to
// POST /v1/tenants/acme/calls over a real listener: one operation is one
// batch (one request, one durable transaction with its audit record),
// sent by 1 client at a time or by 2 or 4 concurrent clients. Bodies are
// generated before the timer starts; records/s counts the timed part, and
// cpu-µs/record is the CPU time of the whole process (server and clients)
// per record. See docs/benchmarks.md, "Ingest through import and HTTP".
func BenchmarkCallIngest(b *testing.B) {
	for _, batch := range []int{5000, 10000} {
		for _, clients := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("batch=%d/clients=%d", batch, clients), func(b *testing.B) { benchCallIngest(b, batch, clients) })
		}
	}
}

func benchCallIngest(b *testing.B, batch, clients int) {
	env := newTestEnv(b)
	admin := env.MustAdmin(b, "acme")
	err := env.Store.Update(context.Background(), func(tx callvault.Tx) error {
		for _, id := range callgen.Sites(50) {
			now := time.Now()
			if err := tx.CreateSite(&callvault.Site{TenantID: "acme", ID: id, Name: "PBX " + id, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	stream := callgen.NewStream(1, "acme", time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC), 2*time.Second)
	bodies := make(chan []byte, b.N)
	for range b.N {
		var body []byte
		for range batch {
			body = callgen.AppendNDJSON(body, stream.Next())
		}
		bodies <- body
	}
	close(bodies)
	client := env.HTTP.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
	url := env.URL + "/v1/tenants/acme/calls"
	want := batchResult{Received: batch, Stored: batch}
	c0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for body := range bodies {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin.Token)
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var res batchResult
				if resp.StatusCode != 200 || json.Unmarshal(got, &res) != nil || res != want {
					b.Errorf("status %d: %s", resp.StatusCode, got)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	cpu := cpuTime() - c0
	n := batch * b.N
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(n), "cpu-µs/record")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
