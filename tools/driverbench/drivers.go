package main

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// A driverImpl opens a database/sql handle on the database file at path with
// the server's settings: journal_mode=WAL, synchronous=FULL, foreign_keys=ON,
// busy_timeout=5000. Writers begin transactions with BEGIN IMMEDIATE.
type driverImpl struct {
	name string // package path, for the report
	open func(path string, writer bool) (*sql.DB, error)
}

// drivers holds the drivers compiled into this binary. mattn/go-sqlite3 and
// ncruces/go-sqlite3 both register the database/sql name "sqlite3", so they
// cannot be linked into one binary: ncruces is selected with -tags ncruces,
// which leaves mattn out (see driver_*.go).
var drivers = map[string]driverImpl{}

func register(key string, d driverImpl) { drivers[key] = d }

func driverKeys() string {
	var ks []string
	for k := range drivers {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

func txlock(writer bool) string {
	if writer {
		return "immediate"
	}
	return "deferred"
}

// pragmaDSN is the "_pragma=name(value)" form understood by modernc.org/sqlite
// and github.com/ncruces/go-sqlite3. busy_timeout goes first, as ncruces asks.
func pragmaDSN(path string, writer bool) string {
	return fmt.Sprintf("file:%s?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=%s", path, txlock(writer))
}
