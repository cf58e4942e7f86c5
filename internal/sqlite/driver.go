package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
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

// connector returns what opens the connections of a pool for spec. It and
// driverDSN are the only places that know the driver: swapping drivers means
// changing them and the import above (and nothing else, since errors are
// classified by SQLite's own messages, see isUnique).
//
// The writer's connections also get wal_autocheckpoint = writerAutoCheckpoint
// pages, which the DSN cannot carry.
func connector(spec connSpec) driver.Connector {
	drv := &sqlite3.SQLiteDriver{}
	if !spec.readOnly {
		drv.ConnectHook = func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpoint), nil)
			return err
		}
	}
	return dsnConnector{drv: drv, dsn: driverDSN(spec)}
}

// pageSize is the page size of a new database file. It is set once, before
// the first table is created (SQLite cannot change it in WAL mode). Bulk
// call ingest writes every page it dirties to the WAL and again at the
// checkpoint; larger pages mean fewer pages, fewer writes and a shallower
// B-tree (see docs/benchmarks.md, "Call store (SQLite)").
const pageSize = 16384

// initFile gives an empty database file at path its page size and puts it
// in WAL mode, before any connection of a pool touches it. A file that has
// pages already (an existing database) is left alone.
func initFile(ctx context.Context, path string, busyTimeout time.Duration) error {
	u := url.URL{Scheme: "file", Path: path}
	c, err := (&sqlite3.SQLiteDriver{}).Open("file:" + u.EscapedPath() + "?_busy_timeout=" + fmt.Sprint(busyTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	defer c.Close()
	conn := c.(*sqlite3.SQLiteConn)
	rows, err := conn.QueryContext(ctx, "PRAGMA page_count", nil)
	if err != nil {
		return err
	}
	vals := make([]driver.Value, 1)
	err = rows.Next(vals)
	rows.Close()
	if err != nil {
		return err
	}
	if n, _ := vals[0].(int64); n > 0 {
		return nil
	}
	_, err = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", pageSize), nil)
	return err
}

// dsnConnector opens connections with a driver and a DSN.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

// Connect implements driver.Connector.
func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver implements driver.Connector.
func (c dsnConnector) Driver() driver.Driver { return c.drv }

// writerAutoCheckpoint is how many pages the WAL may hold before a commit
// copies them back into the database file (SQLite's default is 1000, 4 MiB).
// A bulk ingest batch of 5000 call records dirties most pages of the
// random-keyed (tenant_id, id) index; with a larger WAL those pages are
// copied back once per several batches instead of once per batch (see
// docs/benchmarks.md, "Call store (SQLite)"). The WAL file grows to about
// this size (64 MiB) and is truncated by Close.
const writerAutoCheckpoint = (64 << 20) / pageSize

// driverDSN returns the data source name for spec.
//
// Every connection gets foreign_keys=ON, a busy timeout and
// synchronous=FULL, so that a commit is on disk when it returns. The writer
// also sets journal_mode=WAL (persistent in the file) and begins every
// transaction with BEGIN IMMEDIATE, taking the write lock up front instead of
// failing on upgrade, and a page cache of writerCacheKiB; readers are
// query_only.
func driverDSN(spec connSpec) string {
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
	return "file:" + u.EscapedPath() + "?" + q.Encode()
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
