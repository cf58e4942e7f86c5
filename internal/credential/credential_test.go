package credential

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewAndCheck(t *testing.T) {
	for _, p := range []string{PrefixAPIKey, PrefixAccessToken, PrefixRefreshToken, PrefixClientSecret} {
		s := New(p)
		if err := Check(p, s); err != nil {
			t.Fatalf("Check(%q) = %v", s, err)
		}
		if New(p) == s {
			t.Fatal("two secrets are equal")
		}
		// A one-character typo anywhere in the body is caught by the checksum.
		for i := len(p); i < len(s); i++ {
			b := []byte(s)
			if b[i] == 'a' {
				b[i] = 'b'
			} else {
				b[i] = 'a'
			}
			if Check(p, string(b)) == nil {
				t.Fatalf("typo at %d of %q not detected", i, s)
			}
		}
		if Check(PrefixAPIKey+"x", s) == nil && p != PrefixAPIKey+"x" {
			t.Fatal("wrong prefix accepted")
		}
		if Check(p, s[:len(s)-1]) == nil {
			t.Fatal("short secret accepted")
		}
		if Check(p, strings.Replace(s, s[len(p):len(p)+1], "-", 1)) == nil {
			t.Fatal("bad alphabet accepted")
		}
	}
	if Hash("a") == Hash("b") || len(Hash("a")) != 64 {
		t.Fatal("Hash is not SHA-256 hex")
	}
	if h := Hint("cvk_abcdefghijklmnop"); h != "cvk_…mnop" {
		t.Fatalf("Hint = %q", h)
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q not in PHC argon2id form", h)
	}
	ok, err := VerifyPassword(h, "correct horse battery")
	if err != nil || !ok {
		t.Fatalf("verify right password = %v, %v", ok, err)
	}
	ok, err = VerifyPassword(h, "correct horse batterx")
	if err != nil || ok {
		t.Fatalf("verify wrong password = %v, %v", ok, err)
	}
	if _, err := VerifyPassword("$bcrypt$x", "p"); err != ErrBadHash {
		t.Fatalf("bad hash err = %v", err)
	}
	h2, _ := HashPassword("correct horse battery")
	if h2 == h {
		t.Fatal("salt not random")
	}
}

func TestKeysAndJWT(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys", "jwt.pem")
	k1, err := LoadOrCreateEd25519(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateEd25519(p)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("key not reloaded")
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tok, err := SignJWT(k1, "http://x", "acme", "usr_1", "jwt_1", now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pub := k1.Public().(ed25519.PublicKey)
	c, err := ParseJWT(pub, tok, now.Add(time.Minute))
	if err != nil || c.Subject != "usr_1" || c.ID != "jwt_1" || c.Tenant != "acme" {
		t.Fatalf("ParseJWT = %+v, %v", c, err)
	}
	if _, err := ParseJWT(pub, tok, now.Add(2*time.Hour)); err == nil {
		t.Fatal("expired JWT accepted")
	}
	// Change one character well inside the signature (the last ones may
	// carry only padding bits), always to a different one.
	forged := []byte(tok)
	i := len(forged) - 10
	if forged[i] == 'A' {
		forged[i] = 'B'
	} else {
		forged[i] = 'A'
	}
	if _, err := ParseJWT(pub, string(forged), now); err == nil {
		t.Fatal("forged signature accepted")
	}
	other, _ := LoadOrCreateEd25519(filepath.Join(dir, "other.pem"))
	if _, err := ParseJWT(other.Public().(ed25519.PublicKey), tok, now); err == nil {
		t.Fatal("JWT verified with another key")
	}
}

func TestSignedAccessToken(t *testing.T) {
	k, err := LoadOrCreateEd25519(filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public().(ed25519.PublicKey)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	inner := New(PrefixAccessToken)
	s, err := SignAccessToken(k, "http://x", "acme", "usr_1", inner, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenAccessToken(pub, s, now.Add(time.Minute)); err != nil || got != inner {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := OpenAccessToken(pub, s, now.Add(2*time.Hour)); err == nil {
		t.Fatal("expired signed token accepted")
	}
	other, _ := LoadOrCreateEd25519(filepath.Join(t.TempDir(), "o.pem"))
	if _, err := OpenAccessToken(other.Public().(ed25519.PublicKey), s, now); err == nil {
		t.Fatal("signed token verified with another key")
	}
	// A user JWT credential is not an access token.
	j, _ := SignJWT(k, "http://x", "acme", "usr_1", "jwt_1", now, now.Add(time.Hour))
	if _, err := OpenAccessToken(pub, j, now); err == nil {
		t.Fatal("a JWT credential was taken for an access token")
	}
}
