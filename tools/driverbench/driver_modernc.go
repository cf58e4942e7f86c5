package main

import (
	"database/sql"

	_ "modernc.org/sqlite" // registers "sqlite" (pure Go, ccgo translation)
)

func init() {
	register("modernc", driverImpl{
		name: "modernc.org/sqlite",
		open: func(path string, writer bool) (*sql.DB, error) {
			return sql.Open("sqlite", pragmaDSN(path, writer))
		},
	})
}
