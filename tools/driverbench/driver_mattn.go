//go:build !ncruces

package main

import (
	"database/sql"
	"fmt"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (cgo)
)

func init() {
	register("mattn", driverImpl{
		name: "github.com/mattn/go-sqlite3",
		open: func(path string, writer bool) (*sql.DB, error) {
			dsn := fmt.Sprintf("file:%s?_busy_timeout=5000&_journal_mode=WAL&_synchronous=FULL"+
				"&_foreign_keys=on&_txlock=%s", path, txlock(writer))
			return sql.Open("sqlite3", dsn)
		},
	})
}
