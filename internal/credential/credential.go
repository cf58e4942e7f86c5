// Package credential makes and checks callvault's secrets: API keys, opaque
// OAuth tokens and client secrets (recognizable prefix, random body,
// checksum; stored as SHA-256), argon2id password hashes, and the Ed25519
// keys kept in the data directory.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
)

// Secret kinds and their prefixes. A leaked secret is recognizable by its
// prefix; the checksum lets a typo be rejected without a database lookup.
const (
	PrefixAPIKey       = "cvk_"  // API key
	PrefixAccessToken  = "cvat_" // OAuth access token
	PrefixRefreshToken = "cvrt_" // OAuth refresh token
	PrefixClientSecret = "cvcs_" // app client secret
)

const (
	bodyLen     = 40 // base62 characters of randomness: about 238 bits
	checksumLen = 6  // base62 CRC-32 of prefix+body
	base62      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// ErrMalformed is returned by Check for text that cannot be a secret of the
// kind asked: wrong prefix, length, alphabet or checksum.
var ErrMalformed = errors.New("malformed credential")

// New returns a new secret with the given prefix: prefix, 40 random base62
// characters and a 6-character base62 CRC-32 checksum.
func New(prefix string) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + bodyLen + checksumLen)
	sb.WriteString(prefix)
	max := big.NewInt(int64(len(base62)))
	for range bodyLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		sb.WriteByte(base62[n.Int64()])
	}
	sb.WriteString(checksum(sb.String()))
	return sb.String()
}

func checksum(s string) string {
	c := crc32.ChecksumIEEE([]byte(s))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[c%62]
		c /= 62
	}
	return string(out[:])
}

// Check reports whether s is well formed for prefix, checksum included,
// without any lookup.
func Check(prefix, s string) error {
	if len(s) != len(prefix)+bodyLen+checksumLen || !strings.HasPrefix(s, prefix) {
		return ErrMalformed
	}
	for i := len(prefix); i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return ErrMalformed
		}
	}
	body, sum := s[:len(s)-checksumLen], s[len(s)-checksumLen:]
	if subtle.ConstantTimeCompare([]byte(checksum(body)), []byte(sum)) != 1 {
		return ErrMalformed
	}
	return nil
}

// Hash returns the hex SHA-256 of a secret, the form it is stored in.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Equal compares two hashes (or any two strings) in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Hint returns a non-secret handle of a secret for display: its prefix and
// last four characters.
func Hint(secret string) string {
	i := strings.IndexByte(secret, '_')
	if i < 0 || len(secret) < 8 {
		return "…"
	}
	return secret[:i+1] + "…" + secret[len(secret)-4:]
}
