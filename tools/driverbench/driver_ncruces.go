//go:build ncruces

package main

import (
	"database/sql"

	// Registers "sqlite3" (pure Go, wasm2go translation). Since v0.37.0 the
	// SQLite build is linked in by the driver itself; the embed package is
	// deprecated and only prints a warning when imported, so it is not used.
	_ "github.com/ncruces/go-sqlite3/driver"
)

func init() {
	register("ncruces", driverImpl{
		name: "github.com/ncruces/go-sqlite3",
		open: func(path string, writer bool) (*sql.DB, error) {
			return sql.Open("sqlite3", pragmaDSN(path, writer))
		},
	})
}
