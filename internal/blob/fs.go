package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Layout of an FS directory:
//
//	<dir>/<tenant>/<sha[0:2]>/<sha>   a blob
//	<dir>/.tmp/put-*                  content being written by Put
//
// ".tmp" can never be a tenant id (ids start with a letter or digit), and a
// blob's path is built only from a validated tenant id and hash, so no input
// can name a file outside its tenant's directory.
const tmpDirName = ".tmp"

// staleTempAge is how long a temp file must have gone unmodified before NewFS
// treats it as left behind by a crash and removes it. A live upload writes
// to its temp file continually, so its modification time stays recent.
const staleTempAge = time.Hour

// copyBufferSize is the size of the buffer Put streams content through; it
// bounds Put's memory whatever the size of the content.
const copyBufferSize = 128 << 10

// FS is a Store on the local filesystem. Put writes content to a temp file
// while hashing it, fsyncs the file, renames it into place and fsyncs the
// directory, so content is either wholly stored or absent after a crash,
// and stored content survives a power loss once Put has returned.
//
// Several FS values (and several processes) may share one directory.
type FS struct {
	dir string
	tmp string
}

var _ Store = (*FS)(nil)

// NewFS returns an FS storing blobs under dir, creating dir if needed. It
// removes temp files that earlier processes left behind when they crashed.
func NewFS(dir string) (*FS, error) {
	if dir == "" {
		return nil, errors.New("blob: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	s := &FS{dir: abs, tmp: filepath.Join(abs, tmpDirName)}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("blob: creating %s: %w", abs, err)
	}
	if err := mkdirDurable(abs, tmpDirName); err != nil {
		return nil, err
	}
	if err := s.removeStaleTemps(time.Now().Add(-staleTempAge)); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the directory the FS stores blobs under.
func (s *FS) Dir() string { return s.dir }

// removeStaleTemps removes temp files last modified before cutoff.
func (s *FS) removeStaleTemps(cutoff time.Time) error {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return fmt.Errorf("blob: reading %s: %w", s.tmp, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "put-") {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			continue // gone already, or possibly still being written
		}
		if err := os.Remove(filepath.Join(s.tmp, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("blob: removing stale temp file: %w", err)
		}
	}
	return nil
}

// path returns the path of a blob; tenant and sha must have been validated.
func (s *FS) path(tenant, sha string) string {
	return filepath.Join(s.dir, tenant, sha[:2], sha)
}

// Put implements Store. The content is streamed to a temp file through a
// fixed-size buffer; content over maxBytes is detected after reading at most
// maxBytes+1 bytes, and its temp file is removed.
func (s *FS) Put(ctx context.Context, tenant string, r io.Reader, maxBytes int64) (Info, error) {
	if err := checkTenant(tenant); err != nil {
		return Info{}, err
	}
	if maxBytes <= 0 {
		return Info{}, fmt.Errorf("blob: Put with non-positive maxBytes %d", maxBytes)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}

	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return Info{}, fmt.Errorf("blob: creating temp file: %w", err)
	}
	tmpName := f.Name()
	renamed, closed := false, false
	defer func() {
		if !closed {
			f.Close()
		}
		if !renamed {
			os.Remove(tmpName)
		}
	}()

	limit := maxBytes
	if limit < math.MaxInt64 {
		limit++ // read one byte more than allowed to tell "exactly max" from "over"
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), ctxReader{ctx, io.LimitReader(r, limit)},
		make([]byte, copyBufferSize))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return Info{}, ctxErr
		}
		return Info{}, fmt.Errorf("blob: storing content: %w", err)
	}
	if n > maxBytes {
		return Info{}, tooLarge(maxBytes)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("blob: syncing temp file: %w", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("blob: closing temp file: %w", err)
	}

	info := Info{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	final := s.path(tenant, info.SHA256)
	if err := mkdirDurable(s.dir, tenant, info.SHA256[:2]); err != nil {
		return Info{}, err
	}
	// Deduplicate: identical content is stored already. The size check
	// repairs a blob that is not whole (which Put never leaves behind, but a
	// disk or an operator might) by replacing it below.
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == n {
		// The rename that stored it may be a concurrent Put's that has not
		// yet synced the directory; sync it before acknowledging.
		if err := syncDir(filepath.Dir(final)); err != nil {
			return Info{}, err
		}
		return info, nil
	}
	if err := os.Rename(tmpName, final); err != nil {
		return Info{}, fmt.Errorf("blob: renaming into place: %w", err)
	}
	renamed = true
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Info{}, err
	}
	return info, nil
}

// Open implements Store.
func (s *FS) Open(ctx context.Context, tenant, sha string) (Reader, error) {
	if err := checkKey(tenant, sha); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(tenant, sha))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("blob: opening: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notFound()
	}
	return &fileReader{f: f, size: fi.Size()}, nil
}

// Stat implements Store.
func (s *FS) Stat(ctx context.Context, tenant, sha string) (Info, error) {
	if err := checkKey(tenant, sha); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(s.path(tenant, sha))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Info{}, notFound()
		}
		return Info{}, fmt.Errorf("blob: stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, notFound()
	}
	return Info{SHA256: sha, Size: fi.Size()}, nil
}

// Exists implements Store.
func (s *FS) Exists(ctx context.Context, tenant, sha string) (bool, error) {
	_, err := s.Stat(ctx, tenant, sha)
	if err == nil {
		return true, nil
	}
	if callvault.IsNotFound(err) {
		return false, nil
	}
	return false, err
}

// Delete implements Store. It syncs the directory, so a deleted blob stays
// deleted after a crash.
func (s *FS) Delete(ctx context.Context, tenant, sha string) error {
	if err := checkKey(tenant, sha); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.path(tenant, sha)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("blob: deleting: %w", err)
	}
	return syncDir(filepath.Dir(p))
}

// fileReader is the Reader of an FS blob. It exposes only reading methods
// of the underlying read-only file.
type fileReader struct {
	f    *os.File
	size int64
}

func (r *fileReader) Read(p []byte) (int, error)              { return r.f.Read(p) }
func (r *fileReader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r *fileReader) Seek(off int64, whence int) (int64, error) {
	return r.f.Seek(off, whence)
}
func (r *fileReader) Close() error { return r.f.Close() }
func (r *fileReader) Size() int64  { return r.size }

// mkdirDurable creates root/elems[0], root/elems[0]/elems[1], ... where
// missing, syncing each parent after creating a child in it, so the new
// directory entries survive a crash along with the files put into them.
func mkdirDurable(root string, elems ...string) error {
	parent := root
	for _, e := range elems {
		p := filepath.Join(parent, e)
		err := os.Mkdir(p, 0o700)
		switch {
		case err == nil:
			if err := syncDir(parent); err != nil {
				return err
			}
		case errors.Is(err, os.ErrExist):
			// Created before, by us or by a concurrent Put that syncs it.
		default:
			return fmt.Errorf("blob: creating directory: %w", err)
		}
		parent = p
	}
	return nil
}

// syncDir fsyncs a directory, making the entries created, renamed or
// removed in it durable. Windows cannot sync directories (and its renames
// are durable through the file system's own journal), so there it is a no-op.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: opening directory to sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob: syncing directory: %w", err)
	}
	return nil
}
