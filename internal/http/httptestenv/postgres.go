package httptestenv

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/postgres"
)

// EnvPostgres names the environment variable with the DSN (a postgres://
// URL) of a PostgreSQL database the tests may create schemas in; tests on
// PostgreSQL skip without it.
const EnvPostgres = "CALLVAULT_TEST_POSTGRES"

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
	dsn := postgresSchema(tb)
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

// postgresSchema creates a schema in the database of EnvPostgres, drops it
// when the test ends (after the nodes' cleanups), and returns a DSN whose
// search_path is that schema.
func postgresSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skip("set " + EnvPostgres + " (a postgres:// URL) to run the tests of several nodes on one PostgreSQL database; .ci/run does")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Skipf("%s must be a postgres:// URL for the tests of several nodes", EnvPostgres)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	defer conn.Close(ctx)
	schema := "cvnodes_" + strings.TrimPrefix(callvault.NewID("sc"), "sc_")
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
