package httptestenv

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/postgres"
	"github.com/callvault/callvault/internal/postgres/pgtest"
)

// EnvPostgres names the environment variable with the DSN (a postgres://
// URL) of a PostgreSQL database the tests may create schemas in; tests on
// PostgreSQL skip without it.
const EnvPostgres = pgtest.Env

// Node is one of several servers sharing one PostgreSQL database, as
// several `callvault serve --db postgres://...` would: its own store (its
// own connection pool), audit writer, server and listener. Its Seeder
// writes through its own store; what one node seeds, every node reads.
type Node struct {
	Seeder
	Server *cvhttp.Server
	HTTP   *httptest.Server
	URL    string // the listener's base URL, without a trailing slash
	DB     *postgres.DB
	Writer *audit.Writer
	Config cvhttp.Config
}

// NewPostgresNodes starts n nodes on a new, empty schema of the database
// EnvPostgres names (dropped when the test ends), sharing the signing keys
// and a blob directory; opts may change each node's Config before its
// server is built. It skips tb when EnvPostgres is not set.
func NewPostgresNodes(tb testing.TB, n int, opts ...func(*cvhttp.Config)) []*Node {
	tb.Helper()
	dsn := pgtest.SchemaURL(tb, "cvnodes")
	blobs, err := blob.NewFS(filepath.Join(tb.TempDir(), "blobs"))
	if err != nil {
		tb.Fatalf("open blob store: %v", err)
	}
	jwtKey, auditKey := newKey(tb), newKey(tb)
	cursorKey := make([]byte, 32)
	_, _ = rand.Read(cursorKey)
	nodes := make([]*Node, n)
	for i := range nodes {
		db, err := postgres.Open(context.Background(), dsn, postgres.WithMaxConns(4))
		if err != nil {
			tb.Fatalf("open node %d's store: %v", i, err)
		}
		nd := &Node{Seeder: Seeder{Store: db}, DB: db, Writer: audit.NewWriter(db, auditKey, nil, nil)}
		nd.HTTP = httptest.NewUnstartedServer(nil)
		nd.URL = "http://" + nd.HTTP.Listener.Addr().String()
		nd.Config = cvhttp.Config{Store: db, Audit: nd.Writer, BaseURL: nd.URL, Region: Region,
			JWTKey: jwtKey, CursorKey: cursorKey, Blobs: blobs}
		for _, o := range opts {
			o(&nd.Config)
		}
		nd.Server = cvhttp.New(nd.Config)
		nd.HTTP.Config.Handler = nd.Server.Handler()
		nd.HTTP.Start()
		tb.Cleanup(func() {
			nd.HTTP.Close()
			if err := nd.Writer.Close(); err != nil {
				tb.Errorf("close node %d's audit writer: %v", i, err)
			}
			nd.DB.Close()
		})
		nodes[i] = nd
	}
	return nodes
}

// AwayFromWindowEnd waits, when less than margin is left of the current
// window aligned to a multiple of window (as the shared request limiter
// aligns them), until the next window starts: a test that must count
// within one window does not see it end half way.
func AwayFromWindowEnd(tb testing.TB, window, margin time.Duration) {
	tb.Helper()
	now := time.Now()
	if left := now.Truncate(window).Add(window).Sub(now); left < margin {
		time.Sleep(left + 10*time.Millisecond)
	}
}
