// Package pgtest gives tests a throwaway PostgreSQL schema in the database
// named by CALLVAULT_TEST_POSTGRES (.ci/run starts a cluster and sets it);
// tests skip when it is not set.
package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/callvault"
)

// Env names the environment variable with the DSN of a PostgreSQL database
// the tests may create schemas (and roles) in.
const Env = "CALLVAULT_TEST_POSTGRES"

// Schema creates a new, empty schema named prefix_<random> in the database
// of Env, drops it when the test ends (after the cleanups registered later,
// such as closing the stores on it), and returns Env's DSN with its
// search_path set to it, in Env's form (a postgres:// URL or key=value).
// It skips tb when Env is not set.
func Schema(tb testing.TB, prefix string) string {
	tb.Helper()
	base := os.Getenv(Env)
	if base == "" {
		tb.Skip("set " + Env + " to run the PostgreSQL tests; .ci/run does")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", Env, err)
	}
	defer conn.Close(ctx)
	schema := prefix + "_" + strings.TrimPrefix(callvault.NewID("sc"), "sc_")
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
	return WithSearchPath(tb, base, schema)
}

// SchemaURL is Schema for tests that need the DSN as a postgres:// URL
// (say, to pass it to `callvault serve --db`); it skips tb when Env holds
// a key=value DSN.
func SchemaURL(tb testing.TB, prefix string) string {
	tb.Helper()
	if !isURL(os.Getenv(Env)) && os.Getenv(Env) != "" {
		tb.Skipf("%s must be a postgres:// URL for this test", Env)
	}
	return Schema(tb, prefix)
}

// WithSearchPath adds search_path=schema to a URL or key=value DSN.
func WithSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if !isURL(dsn) {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("%s is not a URL: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
