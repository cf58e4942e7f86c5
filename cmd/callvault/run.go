package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
	"github.com/callvault/callvault/internal/postgres"
	"github.com/callvault/callvault/internal/sqlite"
)

const usage = `callvault — the system of record for telephony data

Usage:
  callvault serve   [flags]      serve the API
  callvault demo    [flags]      seed a demo installation (fresh data directory) and serve it
  callvault migrate [flags]      create or upgrade the database in the data directory
  callvault version              print the version
  callvault audit verify [--tenant T] [flags]
                                 verify audit hash chains and signed checkpoints
  callvault import --tenant T --format ndjson|asterisk-csv|freeswitch-json [--site S]
                   [--timezone TZ] [--batch 5000] FILE...
                                 import call records; bad lines are reported and skipped
  callvault purge [--tenant T] [--batch 1000] [--dry-run]
                                 delete call data older than each tenant's retention
  callvault tenant create --id ID --name NAME [--region us] [--timezone UTC]
  callvault user create   --tenant T --login L --name N [--role admin ...] (password on stdin)
  callvault app create    --tenant T --name N [--scope calls.read ...] [--grant ...] [--role ...]
  callvault apikey create --tenant T --subject-kind user|app --subject ID [--scope ...] [--expires-days N]

The database is the SQLite file callvault.db in --data unless --db names a
PostgreSQL database (postgres://user:pass@host:5432/db?sslmode=...); blobs
and keys stay in --data either way.

Every flag has an environment variable: --data is CALLVAULT_DATA, --db is
CALLVAULT_DB, --addr is
CALLVAULT_ADDR, --base-url CALLVAULT_BASE_URL, --region CALLVAULT_REGION,
--log-format CALLVAULT_LOG_FORMAT, --audit-reads CALLVAULT_AUDIT_READS,
--access-ttl CALLVAULT_ACCESS_TTL, --refresh-ttl CALLVAULT_REFRESH_TTL,
--purge-interval CALLVAULT_PURGE_INTERVAL.
Flags win over the environment.
`

// exitError carries a process exit code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

// run is the whole program: it owns signals, flags and the environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2, msg: "a command is required"}
	}
	cmd, rest := args[1], args[2:]
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return e.serve(ctx, rest, false)
	case "demo":
		return e.serve(ctx, rest, true)
	case "migrate":
		return e.migrate(ctx, rest)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "callvault", callvault.Version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	case "import":
		return e.importCalls(ctx, rest)
	case "purge":
		return e.purge(ctx, rest)
	case "audit":
		if len(rest) > 0 && rest[0] == "verify" {
			return e.auditVerify(ctx, rest[1:])
		}
	case "tenant", "user", "app", "apikey":
		if len(rest) > 0 && rest[0] == "create" {
			return e.adminCreate(ctx, cmd, rest[1:])
		}
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, msg: fmt.Sprintf("unknown command %q", strings.Join(args[1:min(3, len(args))], " "))}
}

// env is the process environment as run received it.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// config is the configuration shared by the commands.
type config struct {
	data       string
	db         string // a postgres:// URL, or "" for the SQLite file in data
	addr       string
	baseURL    string
	region     string
	logFormat  string
	auditReads bool
	accessTTL  time.Duration
	refreshTTL time.Duration
	purgeEvery time.Duration
}

// flags registers the shared flags on fs with defaults from the environment.
func (e *env) flags(fs *flag.FlagSet, c *config, withServer bool) {
	str := func(name, def string) string {
		if v := e.getenv("CALLVAULT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.data, "data", str("data", "callvault-data"), "data directory: SQLite database, blobs, keys")
	fs.StringVar(&c.db, "db", str("db", ""), "PostgreSQL URL (postgres://...) to use instead of the SQLite file in --data")
	if !withServer {
		return
	}
	fs.StringVar(&c.addr, "addr", str("addr", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&c.baseURL, "base-url", str("base-url", ""), "public base URL for absolute URIs (default http://<addr>)")
	fs.StringVar(&c.region, "region", str("region", "us"), "this server's region")
	fs.StringVar(&c.logFormat, "log-format", str("log-format", "text"), "log format: text or json")
	reads, _ := strconv.ParseBool(str("audit-reads", "true"))
	fs.BoolVar(&c.auditReads, "audit-reads", reads, "record every successful data read in the audit trail")
	at, _ := time.ParseDuration(str("access-ttl", "1h"))
	rt, _ := time.ParseDuration(str("refresh-ttl", "720h"))
	fs.DurationVar(&c.accessTTL, "access-ttl", at, "access token lifetime")
	fs.DurationVar(&c.refreshTTL, "refresh-ttl", rt, "refresh token lifetime")
	pe, _ := time.ParseDuration(str("purge-interval", "1h"))
	fs.DurationVar(&c.purgeEvery, "purge-interval", pe, "how often expired call data is purged (0 disables)")
}

func (e *env) parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// store is what the commands need of a persistence engine.
type store interface {
	callvault.Store
	SchemaVersion(ctx context.Context) (int, error)
}

// data is an opened data directory and database.
type data struct {
	dir       string
	store     store
	where     string // the database, for messages: a file path or a URL without its password
	blobs     *blob.FS
	auditKey  ed25519.PrivateKey
	jwtKey    ed25519.PrivateKey
	cursorKey []byte
}

// openData opens (creating if needed) the data directory: the blob
// directory and the keys, and the database (migrated): the SQLite file
// callvault.db in dir, or the PostgreSQL database named by db, a
// postgres:// or postgresql:// URL.
func openData(ctx context.Context, dir, db string) (*data, error) {
	d := &data{dir: dir}
	var err error
	if d.blobs, err = blob.NewFS(filepath.Join(dir, "blobs")); err != nil {
		return nil, err
	}
	if d.auditKey, err = credential.LoadOrCreateEd25519(filepath.Join(dir, "keys", "audit-ed25519.pem")); err != nil {
		return nil, err
	}
	if d.jwtKey, err = credential.LoadOrCreateEd25519(filepath.Join(dir, "keys", "jwt-ed25519.pem")); err != nil {
		return nil, err
	}
	if d.cursorKey, err = credential.LoadOrCreateSecret(filepath.Join(dir, "keys", "cursor.key")); err != nil {
		return nil, err
	}
	if d.store, d.where, err = openStore(ctx, dir, db); err != nil {
		return nil, err
	}
	return d, nil
}

// openStore opens the database engine that db names (see openData) and
// returns it with a description safe to print.
func openStore(ctx context.Context, dir, db string) (store, string, error) {
	if db == "" {
		path := filepath.Join(dir, "callvault.db")
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", err
		}
		return s, path, nil
	}
	u, err := url.Parse(db)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// The text may hold a password: do not repeat it.
		return nil, "", &exitError{code: 2, msg: "--db must be a postgres:// or postgresql:// URL (without --db, the SQLite file in --data is used)"}
	}
	s, err := postgres.Open(ctx, db)
	if err != nil {
		return nil, "", fmt.Errorf("open PostgreSQL database %s: %w", u.Redacted(), err)
	}
	return s, u.Redacted(), nil
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, &exitError{code: 2, msg: fmt.Sprintf("--log-format must be text or json, not %q", format)}
}

func (e *env) migrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c config
	e.flags(fs, &c, false)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	d, err := openData(ctx, c.data, c.db)
	if err != nil {
		return err
	}
	defer d.store.Close()
	v, err := d.store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: schema at version %d\n", d.where, v)
	return nil
}
