package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LoadOrCreateEd25519 reads the Ed25519 private key at path (PEM, PKCS #8
// seed form written by this function), creating it with mode 0600 if it does
// not exist.
func LoadOrCreateEd25519(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		block := &pem.Block{Type: "CALLVAULT ED25519 SEED", Bytes: priv.Seed()}
		if err := writeFileSync(path, pem.EncodeToMemory(block)); err != nil {
			return nil, err
		}
		return priv, nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CALLVAULT ED25519 SEED" || len(block.Bytes) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: not a callvault Ed25519 key", path)
	}
	return ed25519.NewKeyFromSeed(block.Bytes), nil
}

// LoadOrCreateSecret reads a 32-byte random secret (hex) at path, creating
// it with mode 0600 if it does not exist.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := writeFileSync(path, []byte(hex.EncodeToString(k)+"\n")); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(string(trimNL(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s: not a 32-byte hex secret", path)
	}
	return k, nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// KeyID returns a short identifier of a public key: the first 16 hex
// characters of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// writeFileSync writes a new file durably: temp file, fsync, rename, fsync
// of the directory.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
