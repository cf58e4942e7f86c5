package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/callvault/callvault/internal/callvault"
)

// Mem is a Store in memory, for tests and demos. It behaves like FS (same
// validation, errors and deduplication) but holds every blob in memory and
// keeps nothing across restarts.
type Mem struct {
	mu    sync.RWMutex
	blobs map[memKey][]byte
}

type memKey struct{ tenant, sha string }

var _ Store = (*Mem)(nil)

// NewMem returns an empty Mem.
func NewMem() *Mem { return &Mem{blobs: make(map[memKey][]byte)} }

// Put implements Store.
func (m *Mem) Put(ctx context.Context, tenant string, r io.Reader, maxBytes int64) (Info, error) {
	if err := checkTenant(tenant); err != nil {
		return Info{}, err
	}
	if maxBytes <= 0 {
		return Info{}, fmt.Errorf("blob: Put with non-positive maxBytes %d", maxBytes)
	}
	limit := maxBytes
	if limit < math.MaxInt64 {
		limit++
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(ctxReader{ctx, io.LimitReader(r, limit)}); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return Info{}, ctxErr
		}
		return Info{}, fmt.Errorf("blob: storing content: %w", err)
	}
	if int64(buf.Len()) > maxBytes {
		return Info{}, tooLarge(maxBytes)
	}
	sum := sha256.Sum256(buf.Bytes())
	info := Info{SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len())}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{tenant, info.SHA256}
	if _, ok := m.blobs[k]; !ok {
		m.blobs[k] = bytes.Clone(buf.Bytes())
	}
	return info, nil
}

func (m *Mem) get(ctx context.Context, tenant, sha string) ([]byte, error) {
	if err := checkKey(tenant, sha); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	b, ok := m.blobs[memKey{tenant, sha}]
	m.mu.RUnlock()
	if !ok {
		return nil, notFound()
	}
	return b, nil
}

// Open implements Store.
func (m *Mem) Open(ctx context.Context, tenant, sha string) (Reader, error) {
	b, err := m.get(ctx, tenant, sha)
	if err != nil {
		return nil, err
	}
	return memReader{bytes.NewReader(b)}, nil
}

// Stat implements Store.
func (m *Mem) Stat(ctx context.Context, tenant, sha string) (Info, error) {
	b, err := m.get(ctx, tenant, sha)
	if err != nil {
		return Info{}, err
	}
	return Info{SHA256: sha, Size: int64(len(b))}, nil
}

// Exists implements Store.
func (m *Mem) Exists(ctx context.Context, tenant, sha string) (bool, error) {
	_, err := m.get(ctx, tenant, sha)
	if err == nil {
		return true, nil
	}
	if callvault.IsNotFound(err) {
		return false, nil
	}
	return false, err
}

// Delete implements Store.
func (m *Mem) Delete(ctx context.Context, tenant, sha string) error {
	if err := checkKey(tenant, sha); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.blobs, memKey{tenant, sha})
	m.mu.Unlock()
	return nil
}

// memReader is the Reader of a Mem blob. Stored slices are never modified,
// so readers need no lock.
type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }
