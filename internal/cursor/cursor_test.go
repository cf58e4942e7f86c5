package cursor

import (
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	type pos struct{ After, Max int64 }
	c, err := Sign(key, "acme", "audit", pos{5, 9}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var p pos
	if err := Open(key, c, "acme", "audit", now, &p); err != nil || p != (pos{5, 9}) {
		t.Fatalf("Open = %v, %+v", err, p)
	}
	if err := Open(key, c, "globex", "audit", now, &p); err != ErrTenant {
		t.Fatalf("other tenant: %v", err)
	}
	if err := Open(key, c, "acme", "calls", now, &p); err != ErrMalformed {
		t.Fatalf("other kind: %v", err)
	}
	if err := Open(key, c, "acme", "audit", now.Add(2*time.Hour), &p); err != ErrExpired {
		t.Fatalf("expired: %v", err)
	}
	if err := Open([]byte("another key of thirty-two bytes!"), c, "acme", "audit", now, &p); err != ErrMalformed {
		t.Fatalf("other key: %v", err)
	}
	forged := "x" + c[1:]
	if err := Open(key, forged, "acme", "audit", now, &p); err != ErrMalformed {
		t.Fatalf("forged: %v", err)
	}
	for _, bad := range []string{"", ".", "abc", "abc.def"} {
		if err := Open(key, bad, "acme", "audit", now, &p); err != ErrMalformed {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}
