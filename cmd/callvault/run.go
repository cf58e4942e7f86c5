package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
stay in --data either way. The signing keys (cursors, JWT credentials, audit
checkpoints) are files in --data/keys on SQLite and rows of the database on
PostgreSQL, so that every node shares them; --audit-key FILE keeps the audit
checkpoint key in a file instead.

Every flag has an environment variable: --data is CALLVAULT_DATA, --db is
CALLVAULT_DB, --audit-key CALLVAULT_AUDIT_KEY, --addr is
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
	auditKey   string // a file with the audit checkpoint key, instead of the store's or <data>/keys'
	addr       string
	baseURL    string
	region     string
	logFormat  string
	auditReads bool
	accessTTL  time.Duration
	refreshTTL time.Duration
	purgeEvery time.Duration
	rcLimits   string // the RingCentral face's rate limits, [clientId:]Group=N,...
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
	fs.StringVar(&c.auditKey, "audit-key", str("audit-key", ""), "file with the audit checkpoint key, kept off the database (default: the database's key on PostgreSQL, <data>/keys on SQLite)")
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
	fs.StringVar(&c.rcLimits, "rc-rate-limits", str("rc-rate-limits", ""),
		"RingCentral face rate limits per minute, [clientId:]Group=N,... with Group Light, Medium, Heavy or Auth (default 50, 40, 10, 5)")
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
	dbArg     string // " --db ..." for commands printed to the user; "" on SQLite
	blobs     *blob.FS
	auditKey  ed25519.PrivateKey
	jwtKey    ed25519.PrivateKey
	cursorKey []byte
}

// openData opens (creating if needed) the data directory's blob directory,
// the database (migrated): the SQLite file callvault.db in c.data, or the
// PostgreSQL database named by c.db, a postgres:// or postgresql:// URL,
// and the keys (see loadKeys).
func openData(ctx context.Context, c *config) (*data, error) {
	d := &data{dir: c.data}
	var err error
	if d.blobs, err = blob.NewFS(filepath.Join(c.data, "blobs")); err != nil {
		return nil, err
	}
	if d.store, d.where, err = openStore(ctx, c.data, c.db); err != nil {
		return nil, err
	}
	if c.db != "" {
		d.dbArg = " --db '" + c.db + "'"
		if u, err := url.Parse(c.db); err == nil {
			if _, ok := u.User.Password(); ok {
				d.dbArg = ` --db "$CALLVAULT_DB"` // never print the password
			}
		}
	}
	if err := d.loadKeys(ctx, c.auditKey); err != nil {
		d.store.Close()
		return nil, err
	}
	return d, nil
}

// Names of the keys, as files in <data>/keys and as rows of a KeyStore.
const (
	keyAudit  = "audit-ed25519"
	keyJWT    = "jwt-ed25519"
	keyCursor = "cursor"
)

// loadKeys loads (creating on first use) the audit checkpoint key, the JWT
// signing key and the cursor signing key.
//
// A store that several nodes share (callvault.KeyStore: PostgreSQL) holds
// them, so every node signs and verifies with the same keys. The node that
// creates a key there adopts the one in its <data>/keys when it has it (an
// installation that ran with file keys keeps its tokens, cursors and
// checkpoint signatures valid), and generates one otherwise. Without a
// KeyStore (SQLite) the keys are the files in <data>/keys.
//
// auditKeyFile, when set (--audit-key), names a file holding the audit
// checkpoint key (created when missing), used instead of the store's: an
// operator who does not want whoever holds the database to be able to sign
// checkpoints keeps that key off it (docs/scaling.md).
func (d *data) loadKeys(ctx context.Context, auditKeyFile string) error {
	file := func(name string) string {
		switch name {
		case keyCursor:
			return filepath.Join(d.dir, "keys", "cursor.key")
		default:
			return filepath.Join(d.dir, "keys", name+".pem")
		}
	}
	ks, shared := d.store.(callvault.KeyStore)
	ed := func(name string) (ed25519.PrivateKey, error) {
		if !shared {
			return credential.LoadOrCreateEd25519(file(name))
		}
		seed, err := ks.LoadOrCreateKey(ctx, name, func() ([]byte, error) {
			if _, err := os.Stat(file(name)); err == nil {
				k, err := credential.LoadOrCreateEd25519(file(name))
				if err != nil {
					return nil, err
				}
				return k.Seed(), nil
			}
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return nil, err
			}
			return k.Seed(), nil
		})
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", name, err)
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("key %s in the database: not an Ed25519 seed", name)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	var err error
	if auditKeyFile != "" {
		d.auditKey, err = credential.LoadOrCreateEd25519(auditKeyFile)
	} else {
		d.auditKey, err = ed(keyAudit)
	}
	if err != nil {
		return err
	}
	if d.jwtKey, err = ed(keyJWT); err != nil {
		return err
	}
	if !shared {
		d.cursorKey, err = credential.LoadOrCreateSecret(file(keyCursor))
		return err
	}
	d.cursorKey, err = ks.LoadOrCreateKey(ctx, keyCursor, func() ([]byte, error) {
		if _, err := os.Stat(file(keyCursor)); err == nil {
			return credential.LoadOrCreateSecret(file(keyCursor))
		}
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return fmt.Errorf("key %s: %w", keyCursor, err)
	}
	if len(d.cursorKey) != 32 {
		return fmt.Errorf("key %s in the database: not a 32-byte secret", keyCursor)
	}
	return nil
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
	d, err := openData(ctx, &c)
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
