package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/callvault/callvault/internal/sqlbuild"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema change, named NNNN_what.sql.
type migration = sqlbuild.Migration

// migrations returns the embedded migrations in ascending version order.
func migrations() ([]migration, error) {
	return sqlbuild.Migrations(migrationFS, "postgres")
}

// LatestSchemaVersion returns the version of the newest embedded migration:
// the schema version Open brings a database to.
func LatestSchemaVersion() int { return sqlbuild.LatestVersion(migrationFS) }

// migrateLock is the key of the transaction-scoped advisory lock that
// serializes migrations of nodes starting at once.
const migrateLock = 0x63766d67 // "cvmg"

// Migrate applies every embedded migration the database has not seen, each
// in its own transaction together with its row in schema_migrations. It is
// idempotent, and safe against other nodes migrating the same database at
// the same time (an advisory lock serializes them). It fails when the
// database has a schema newer than this binary knows.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int    NOT NULL PRIMARY KEY,
		name       text   NOT NULL,
		applied_at bigint NOT NULL
	)`); err != nil && !isUnique(err) {
		// Two nodes creating the table at once: one fails on the catalog's
		// unique index, and the table exists.
		return dbError("create schema_migrations", err)
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := LatestSchemaVersion(); current > latest {
		return fmt.Errorf("postgres: the database has schema version %d, newer than this binary's %d", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := db.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration unless it is already recorded.
func (db *DB) apply(ctx context.Context, m migration) error {
	return pgx.BeginFunc(ctx, db.pool, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return dbError("lock migrations", err)
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
			return dbError("migration "+m.Name, err)
		}
		if n > 0 {
			return nil
		}
		if _, err := t.Exec(ctx, m.SQL); err != nil {
			return dbError("migration "+m.Name, err)
		}
		if _, err := t.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, db.now().UnixMicro()); err != nil {
			return dbError("record migration "+m.Name, err)
		}
		return nil
	})
}

// SchemaVersion returns the highest migration version applied to the
// database, 0 for an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, dbError("read schema version", err)
	}
	return v, nil
}
