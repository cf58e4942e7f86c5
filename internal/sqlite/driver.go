package sqlite

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" database/sql driver
)

// connSpec says how to open one pool of connections.
type connSpec struct {
	path        string // absolute path of the database file
	readOnly    bool   // the reader pool: PRAGMA query_only
	busyTimeout time.Duration
}

// writerCacheKiB is the page cache of the writer connection. Bulk call
// ingest inserts into the random-keyed (tenant_id, id) index of calls; with
// SQLite's default 2 MiB cache most of those inserts read their page back
// from the file (see docs/benchmarks.md, "Call store (SQLite)").
const writerCacheKiB = 64 << 10

// driverDSN returns the database/sql driver name and data source name for
// spec. It is the only place that knows the driver: swapping drivers means
// changing this function and the import above (and nothing else, since
// errors are classified by SQLite's own messages, see isUnique).
//
// Every connection gets foreign_keys=ON, a busy timeout and
// synchronous=FULL, so that a commit is on disk when it returns. The writer
// also sets journal_mode=WAL (persistent in the file) and begins every
// transaction with BEGIN IMMEDIATE, taking the write lock up front instead of
// failing on upgrade, and a page cache of writerCacheKiB; readers are
// query_only.
func driverDSN(spec connSpec) (driver, dsn string) {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", fmt.Sprint(spec.busyTimeout.Milliseconds()))
	q.Set("_synchronous", "FULL")
	if spec.readOnly {
		q.Set("_query_only", "on")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
		q.Set("_cache_size", fmt.Sprint(-writerCacheKiB))
	}
	u := url.URL{Scheme: "file", Path: spec.path}
	// "file:" + escaped path (no authority), so a '?' or '#' in the path
	// cannot be taken for the query.
	return "sqlite3", "file:" + u.EscapedPath() + "?" + q.Encode()
}

// isUnique reports whether err is a violation of a UNIQUE or PRIMARY KEY
// constraint. It reads SQLite's message, which every driver passes on.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// isBusy reports whether err says the database was locked by another
// process for longer than the busy timeout.
func isBusy(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "database is busy")
}
