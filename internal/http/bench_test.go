package http

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkMe measures authenticated reads (GET /v1/me: token lookup,
// principal loading, eleven engine decisions, JSON) over a real listener,
// with read auditing on (one durable audit record per request, group
// committed) and off.
func BenchmarkMe(b *testing.B) {
	for _, reads := range []bool{false, true} {
		name := "audit-reads-off"
		if reads {
			name = "audit-reads-on"
		}
		b.Run(name, func(b *testing.B) {
			env := newTestEnv(b, func(c *Config) { c.AuditReads = reads })
			admin := env.MustAdmin(b, "acme")
			client := env.HTTP.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", env.URL+"/v1/me", nil)
					req.Header.Set("Authorization", "Bearer "+admin.Token)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
