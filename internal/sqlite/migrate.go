package sqlite

import (
	"context"
	"embed"
	"fmt"

	"github.com/callvault/callvault/internal/sqlbuild"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema change, named NNNN_what.sql.
type migration = sqlbuild.Migration

// migrations returns the embedded migrations in ascending version order.
func migrations() ([]migration, error) {
	return sqlbuild.Migrations(migrationFS, "sqlite")
}

// LatestSchemaVersion returns the version of the newest embedded migration:
// the schema version Open brings a database to.
func LatestSchemaVersion() int { return sqlbuild.LatestVersion(migrationFS) }

// Migrate applies every embedded migration the database has not seen, each
// in its own transaction together with its row in schema_migrations. It is
// idempotent, and safe against another process migrating the same file (the
// writer's BEGIN IMMEDIATE serializes them). It fails when the database has
// a schema newer than this binary knows.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return dbError("create schema_migrations", err)
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := LatestSchemaVersion(); current > latest {
		return fmt.Errorf("sqlite: %s has schema version %d, newer than this binary's %d", db.path, current, latest)
	}
	for _, m := range ms {
		if err := db.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration unless it is already recorded.
func (db *DB) apply(ctx context.Context, m migration) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbError("begin migration "+m.Name, err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int
	if err := sqlTx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return dbError("migration "+m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := sqlTx.ExecContext(ctx, m.SQL); err != nil {
		return dbError("migration "+m.Name, err)
	}
	now := db.now()
	if _, err := sqlTx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, now.UnixMicro()); err != nil {
		return dbError("record migration "+m.Name, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return dbError("commit migration "+m.Name, err)
	}
	return nil
}

// SchemaVersion returns the highest migration version applied to the
// database, 0 for an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, dbError("read schema version", err)
	}
	return v, nil
}
