package sqlbuild

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change, from a file named NNNN_what.sql.
type Migration struct {
	Version int
	Name    string // the file name without .sql
	SQL     string
}

// Migrations returns the migrations/*.sql files of fsys in ascending version
// order. Errors start with engine ("sqlite", "postgres").
func Migrations(fsys fs.FS, engine string) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("%s: list migrations: %w", engine, err)
	}
	var ms []Migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s: migration %s: name must be NNNN_what.sql", engine, base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("%s: read migration %s: %w", engine, base, err)
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(base, ".sql"), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("%s: migrations %s and %s have the same version", engine, ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// LatestVersion returns the version of the newest migration of fsys (see
// Migrations): 0 when there is none or they cannot be listed.
func LatestVersion(fsys fs.FS) int {
	ms, err := Migrations(fsys, "")
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}
