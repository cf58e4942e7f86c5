package sqlbuild

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	ms, err := Migrations(fstest.MapFS{
		"migrations/0002_b.sql":  {Data: []byte("B")},
		"migrations/0001_a.sql":  {Data: []byte("A")},
		"migrations/README.md":   {Data: []byte("not a migration")},
		"other/0003_skipped.sql": {Data: []byte("C")},
	}, "x")
	if err != nil || len(ms) != 2 || ms[0] != (Migration{1, "0001_a", "A"}) || ms[1] != (Migration{2, "0002_b", "B"}) {
		t.Fatalf("Migrations = %+v, %v", ms, err)
	}
	if v := LatestVersion(fstest.MapFS{"migrations/0002_b.sql": {}, "migrations/0001_a.sql": {}}); v != 2 {
		t.Errorf("LatestVersion = %d, want 2", v)
	}
	if v := LatestVersion(fstest.MapFS{"migrations/first.sql": {}}); v != 0 {
		t.Errorf("LatestVersion of a bad name = %d, want 0", v)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":     {"migrations/first.sql": {}},
		"zero version": {"migrations/0000_a.sql": {}},
		"same version": {"migrations/0001_a.sql": {}, "migrations/1_b.sql": {}},
	} {
		if _, err := Migrations(fsys, "x"); err == nil || !strings.HasPrefix(err.Error(), "x: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
