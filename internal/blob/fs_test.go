package blob

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// blobFiles lists the files under the tenant directories of s (everything
// but the temp directory), relative to its root.
func blobFiles(t *testing.T, s *FS) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(s.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == tmpDirName {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(s.Dir(), p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// assertNoTemps fails if any temp file is left anywhere under s's root.
func assertNoTemps(t *testing.T, s *FS) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), tmpDirName))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("temp files left behind: %v", entries)
	}
	for _, f := range blobFiles(t, s) {
		if !ValidSHA256(filepath.Base(f)) {
			t.Fatalf("stray file %s", f)
		}
	}
}

func newFS(t *testing.T) *FS {
	t.Helper()
	s, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFSLayout(t *testing.T) {
	s := newFS(t)
	data := []byte("hello recording")
	info, err := s.Put(context.Background(), "acme", bytes.NewReader(data), limit)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("acme", info.SHA256[:2], info.SHA256)
	if files := blobFiles(t, s); len(files) != 1 || files[0] != want {
		t.Fatalf("files %v, want [%s]", files, want)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), want))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("blob file mode %v is readable by others", perm)
	}
}

// TestFSDurableAfterPut is the crash-safety check that a test can make
// without pulling the power: once Put has returned, the blob is complete at
// its final path (a fresh FS on the directory, as after a restart, reads it
// whole), and no temp file remains to be cleaned up.
func TestFSDurableAfterPut(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var infos []Info
	var datas [][]byte
	for i := range 5 {
		data := content(uint64(20+i), 100000*(i+1))
		info, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err)
		}
		assertNoTemps(t, s)
		b, err := os.ReadFile(filepath.Join(dir, "acme", info.SHA256[:2], info.SHA256))
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("file right after Put: %d bytes, %v", len(b), err)
		}
		infos, datas = append(infos, info), append(datas, data)
	}
	restarted, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, info := range infos {
		if got := readAll(t, restarted, "acme", info.SHA256); !bytes.Equal(got, datas[i]) {
			t.Fatalf("blob %d differs after restart", i)
		}
	}
}

func TestFSRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewFS(dir); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, tmpDirName)
	old := filepath.Join(tmp, "put-crashed")
	fresh := filepath.Join(tmp, "put-in-progress")
	other := filepath.Join(tmp, "not-ours")
	for _, p := range []string{old, fresh, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * staleTempAge)
	for _, p := range []string{old, other} {
		if err := os.Chtimes(p, long, long); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewFS(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("stale temp file still there: %v", err)
	}
	for _, p := range []string{fresh, other} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s was removed: %v", filepath.Base(p), err)
		}
	}
}

// A blob file that is not whole (damaged outside Put) is replaced by the
// next Put of its content rather than deduplicated against.
func TestFSPutRepairsDamagedBlob(t *testing.T) {
	s := newFS(t)
	ctx := context.Background()
	data := content(30, 9000)
	info, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir(), "acme", info.SHA256[:2], info.SHA256)
	if err := os.Truncate(p, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "acme", bytes.NewReader(data), limit); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "acme", info.SHA256); !bytes.Equal(got, data) {
		t.Fatalf("damaged blob not repaired: %d bytes", len(got))
	}
	assertNoTemps(t, s)
}

// Nothing a client can send makes the FS touch a path outside its root.
func TestFSNothingOutsideRoot(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "blobs")
	s, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(parent, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tenant := range append(badTenants, "../victim", "..%2fvictim") {
		s.Put(ctx, tenant, strings.NewReader("evil"), limit)
		s.Delete(ctx, tenant, goodSHA)
	}
	for _, sha := range append(badHashes, "../../victim") {
		s.Delete(ctx, "acme", sha)
		s.Open(ctx, "acme", sha)
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("entries in the parent of the root: %v", entries)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Fatalf("victim file: %q, %v", b, err)
	}
	if files := blobFiles(t, s); len(files) != 0 {
		t.Fatalf("files under root: %v", files)
	}
}

func TestNewFSErrors(t *testing.T) {
	if _, err := NewFS(""); err == nil {
		t.Fatal("NewFS(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFS(file); err == nil {
		t.Fatal("NewFS on a regular file succeeded")
	}
}

func TestFSOpenDirectoryIsNotFound(t *testing.T) {
	s := newFS(t)
	p := filepath.Join(s.Dir(), "acme", goodSHA[:2], goodSHA)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := s.Open(context.Background(), "acme", goodSHA)
	wantCode(t, err, "not_found")
	if ok, err := s.Exists(context.Background(), "acme", goodSHA); ok || err != nil {
		t.Fatalf("Exists on a directory = %v, %v", ok, err)
	}
}
