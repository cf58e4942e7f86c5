// Package sqlrow holds the row codecs shared by the SQL stores
// (internal/sqlite and internal/postgres): the column lists of the tables
// both stores read alike, the functions that scan a row of them into its
// callvault type, and the time column encoding. Where the engines store a
// column differently (JSON text in SQLite, arrays and jsonb in PostgreSQL),
// a Codec supplies the scan destination. It also makes the errors of
// reading and writing one row (NotFound, Required, Errors.Create and
// Errors.Change), so that both stores report them alike.
package sqlrow

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Scanner is one row of a result: a *sql.Row or *sql.Rows, a pgx.Row or
// pgx.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// Codec scans the columns whose encoding depends on the engine.
type Codec struct {
	// JSON returns the scan destination (and query argument) for p, a
	// pointer to a slice, map or struct that the engine stores as JSON or
	// as an array.
	JSON func(p any) any
}

// TimeCol stores a time as integer unix microseconds, the zero time as
// NULL. It is both a query argument and a scan destination; scanned times
// are in UTC.
type TimeCol struct{ p *time.Time }

// Time returns the column for the time at p.
func Time(p *time.Time) TimeCol { return TimeCol{p} }

// Value implements driver.Valuer.
func (c TimeCol) Value() (driver.Value, error) {
	if c.p.IsZero() {
		return nil, nil
	}
	return c.p.UnixMicro(), nil
}

// Scan implements sql.Scanner.
func (c TimeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = time.Time{}
	case int64:
		*c.p = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

// MicrosOrNil is a time as a query argument: unix microseconds, NULL for
// the zero time.
func MicrosOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
