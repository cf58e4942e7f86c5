package ringcentral

import (
	"net/url"
	"strings"
	"testing"

	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/http/httptestenv"
)

// TestTokenLongClientIDOnPostgres: a token request's client_id is the
// client's to choose and part of its rate-limit key. On PostgreSQL, one
// too long to index as it is is still counted, and the client gets
// invalid_client, as on one node, not a 503 that says to retry.
func TestTokenLongClientIDOnPostgres(t *testing.T) {
	nodes := httptestenv.NewPostgresNodes(t, 1, func(c *cvhttp.Config) {
		c.Faces = []cvhttp.Face{New(Options{Limits: generous})}
	})
	e := &rcEnv{Env: &httptestenv.Env{URL: nodes[0].URL}, t: t, secrets: map[string]string{}}
	var id strings.Builder
	x := uint32(2463534242)
	for id.Len() < 4000 { // text that does not compress
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		id.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[x%64])
	}
	form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"x"}, "client_id": {id.String()}}.Encode()
	r := e.post(t, "/restapi/oauth/token", "application/x-www-form-urlencoded", form, nil)
	if (r.Status != 400 && r.Status != 401) || !strings.Contains(string(r.Body), "invalid_client") {
		t.Fatalf("a 4000-byte client_id: %d %s; want invalid_client", r.Status, r.Body)
	}
}
