package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// The behaviour every Store must have; run against FS and Mem.

type storeMaker func(t *testing.T) Store

func stores() map[string]storeMaker {
	return map[string]storeMaker{
		"FS": func(t *testing.T) Store {
			s, err := NewFS(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"Mem": func(t *testing.T) Store { return NewMem() },
	}
}

func forEachStore(t *testing.T, f func(t *testing.T, s Store)) {
	for name, mk := range stores() {
		t.Run(name, func(t *testing.T) { f(t, mk(t)) })
	}
}

func content(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readAll(t *testing.T, s Store, tenant, sha string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), tenant, sha)
	if err != nil {
		t.Fatalf("Open(%s, %s): %v", tenant, sha, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(b)) {
		t.Fatalf("Size() = %d, read %d bytes", r.Size(), len(b))
	}
	return b
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := callvault.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

const limit = 1 << 30

func TestRoundtrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		for _, n := range []int{0, 1, 4095, copyBufferSize, copyBufferSize + 1, 3<<20 + 17} {
			data := content(uint64(n), n)
			// iotest-style one-byte reads for small content exercise many
			// short reads; large content goes through whole buffers.
			var r io.Reader = bytes.NewReader(data)
			if n < 5000 {
				r = oneByteReader{r}
			}
			info, err := s.Put(ctx, "acme", r, limit)
			if err != nil {
				t.Fatalf("Put %d bytes: %v", n, err)
			}
			if info.SHA256 != hashOf(data) || info.Size != int64(n) {
				t.Fatalf("Put %d bytes: Info %+v, want sha %s", n, info, hashOf(data))
			}
			if got := readAll(t, s, "acme", info.SHA256); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: content differs after roundtrip", n)
			}
			st, err := s.Stat(ctx, "acme", info.SHA256)
			if err != nil || st != info {
				t.Fatalf("Stat = %+v, %v; want %+v", st, err, info)
			}
			ok, err := s.Exists(ctx, "acme", info.SHA256)
			if err != nil || !ok {
				t.Fatalf("Exists = %v, %v", ok, err)
			}
		}
	})
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestDedup(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(1, 10000)
		a, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("second Put of the same content: %+v, first %+v", b, a)
		}
		if got := readAll(t, s, "acme", a.SHA256); !bytes.Equal(got, data) {
			t.Fatal("content differs")
		}
		if fs, ok := s.(*FS); ok {
			if files := blobFiles(t, fs); len(files) != 1 {
				t.Fatalf("blob files after dedup: %v", files)
			}
			assertNoTemps(t, fs)
		}
	})
}

func TestSizeLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		const max = 1000
		exact := content(2, max)
		info, err := s.Put(ctx, "acme", bytes.NewReader(exact), max)
		if err != nil {
			t.Fatalf("content of exactly maxBytes: %v", err)
		}
		if info.Size != max {
			t.Fatalf("size %d", info.Size)
		}

		over := content(3, max+1)
		_, err = s.Put(ctx, "acme", bytes.NewReader(over), max)
		wantCode(t, err, callvault.ETooLarge)
		var ce *callvault.Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Message, "1000 bytes") {
			t.Fatalf("message %q does not name the limit in bytes", callvault.ErrorMessage(err))
		}
		if ok, _ := s.Exists(ctx, "acme", hashOf(over)); ok {
			t.Fatal("over-limit content was stored")
		}
		// Its first maxBytes bytes must not have been stored either.
		if ok, _ := s.Exists(ctx, "acme", hashOf(over[:max])); ok {
			t.Fatal("a truncated prefix of over-limit content was stored")
		}

		// A huge body is rejected after reading just past the limit.
		cr := &countingReader{r: zeroReader{}}
		_, err = s.Put(ctx, "acme", cr, max)
		wantCode(t, err, callvault.ETooLarge)
		if cr.n > max+copyBufferSize {
			t.Fatalf("read %d bytes of an endless body with a limit of %d", cr.n, max)
		}

		for _, bad := range []int64{0, -1} {
			if _, err := s.Put(ctx, "acme", strings.NewReader("x"), bad); err == nil {
				t.Fatalf("Put with maxBytes %d succeeded", bad)
			}
		}

		if fs, ok := s.(*FS); ok {
			assertNoTemps(t, fs)
			if files := blobFiles(t, fs); len(files) != 1 {
				t.Fatalf("blob files: %v, want only the exact-size one", files)
			}
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestConcurrentPutsOfSameContent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(4, 512<<10)
		want := Info{SHA256: hashOf(data), Size: int64(len(data))}
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				info, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
				if err == nil && info != want {
					err = fmt.Errorf("Info %+v, want %+v", info, want)
				}
				errs <- err
			}()
			// Readers racing the writers see either nothing or the whole blob.
			go func() {
				defer wg.Done()
				r, err := s.Open(ctx, "acme", want.SHA256)
				if callvault.IsNotFound(err) {
					errs <- nil
					return
				}
				if err != nil {
					errs <- err
					return
				}
				defer r.Close()
				got, err := io.ReadAll(r)
				if err == nil && !bytes.Equal(got, data) {
					err = fmt.Errorf("reader %d saw %d bytes of partial or wrong content", i, len(got))
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := readAll(t, s, "acme", want.SHA256); !bytes.Equal(got, data) {
			t.Fatal("content differs")
		}
		if fs, ok := s.(*FS); ok {
			assertNoTemps(t, fs)
			if files := blobFiles(t, fs); len(files) != 1 {
				t.Fatalf("blob files: %v", files)
			}
		}
	})
}

func TestConcurrentPutsOfDifferentContent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		const n = 24
		var wg sync.WaitGroup
		infos := make([]Info, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				tenant := []string{"acme", "globex", "initech"}[i%3]
				infos[i], errs[i] = s.Put(ctx, tenant, bytes.NewReader(content(uint64(100+i), 20000+i)), limit)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			tenant := []string{"acme", "globex", "initech"}[i%3]
			if got := readAll(t, s, tenant, infos[i].SHA256); !bytes.Equal(got, content(uint64(100+i), 20000+i)) {
				t.Fatalf("blob %d differs", i)
			}
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(5, 5000)
		info, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Open(ctx, "globex", info.SHA256)
		wantCode(t, err, callvault.ENotFound)
		// Exactly the error of a blob that exists nowhere: nothing leaks.
		_, errMissing := s.Open(ctx, "globex", hashOf([]byte("never stored")))
		if err.Error() != errMissing.Error() {
			t.Fatalf("other tenant's blob: %v; missing blob: %v", err, errMissing)
		}
		_, err = s.Stat(ctx, "globex", info.SHA256)
		wantCode(t, err, callvault.ENotFound)
		if ok, err := s.Exists(ctx, "globex", info.SHA256); ok || err != nil {
			t.Fatalf("Exists for other tenant = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, "globex", info.SHA256); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, "acme", info.SHA256); !bytes.Equal(got, data) {
			t.Fatal("another tenant's Delete touched the blob")
		}

		// The same content put by the other tenant is its own blob:
		// deleting one leaves the other.
		if _, err := s.Put(ctx, "globex", bytes.NewReader(data), limit); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "acme", info.SHA256); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, "globex", info.SHA256); !bytes.Equal(got, data) {
			t.Fatal("deleting acme's blob removed globex's")
		}
		_, err = s.Open(ctx, "acme", info.SHA256)
		wantCode(t, err, callvault.ENotFound)
	})
}

var (
	badTenants = []string{
		"", "a", "..", ".", "../acme", "acme/../globex", "acme/x", "/etc", ".tmp",
		"ACME", "acme\x00", "-acme", "acme\\..\\x", "acme ", " acme", "ac%2e%2e",
		strings.Repeat("a", 64),
	}
	goodSHA   = hashOf([]byte("x"))
	badHashes = []string{
		"", "..", "../../../../etc/passwd",
		"../" + goodSHA[3:],
		goodSHA[:2] + "/" + goodSHA[3:],
		strings.ToUpper(goodSHA),
		goodSHA[:63], goodSHA + "0",
		goodSHA[:63] + "g",
		goodSHA[:63] + "\x00",
		strings.Repeat(".", 64),
		"/" + goodSHA[1:],
	}
)

func TestPathTraversalRejected(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		if _, err := s.Put(ctx, "acme", strings.NewReader("x"), limit); err != nil {
			t.Fatal(err)
		}
		check := func(tenant, sha, field string) {
			t.Helper()
			var ce *callvault.Error
			_, err := s.Open(ctx, tenant, sha)
			if !errors.As(err, &ce) || ce.Code != callvault.EInvalid || ce.Field != field {
				t.Fatalf("Open(%q, %q) = %v; want EInvalid on %s", tenant, sha, err, field)
			}
			_, err = s.Stat(ctx, tenant, sha)
			wantCode(t, err, callvault.EInvalid)
			_, err = s.Exists(ctx, tenant, sha)
			wantCode(t, err, callvault.EInvalid)
			err = s.Delete(ctx, tenant, sha)
			wantCode(t, err, callvault.EInvalid)
		}
		for _, tenant := range badTenants {
			check(tenant, goodSHA, "tenant")
			_, err := s.Put(ctx, tenant, strings.NewReader("y"), limit)
			wantCode(t, err, callvault.EInvalid)
		}
		for _, sha := range badHashes {
			check("acme", sha, "sha256")
		}
		// Still there, untouched by any of it.
		if got := readAll(t, s, "acme", goodSHA); string(got) != "x" {
			t.Fatalf("content %q", got)
		}
		if fs, ok := s.(*FS); ok {
			if files := blobFiles(t, fs); len(files) != 1 {
				t.Fatalf("files after rejected requests: %v", files)
			}
			assertNoTemps(t, fs)
		}
	})
}

func TestValidSHA256(t *testing.T) {
	if !ValidSHA256(goodSHA) {
		t.Fatal("valid hash rejected")
	}
	for _, s := range badHashes {
		if ValidSHA256(s) {
			t.Fatalf("ValidSHA256(%q) = true", s)
		}
	}
}

func TestDeleteIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(6, 3000)
		info, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := s.Delete(ctx, "acme", info.SHA256); err != nil {
				t.Fatal(err)
			}
		}
		_, err = s.Open(ctx, "acme", info.SHA256)
		wantCode(t, err, callvault.ENotFound)
		if ok, err := s.Exists(ctx, "acme", info.SHA256); ok || err != nil {
			t.Fatalf("Exists after Delete = %v, %v", ok, err)
		}
		// A blob never stored, in a tenant never seen.
		if err := s.Delete(ctx, "never-seen", goodSHA); err != nil {
			t.Fatal(err)
		}
		// Put again after Delete stores it again.
		if _, err := s.Put(ctx, "acme", bytes.NewReader(data), limit); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, "acme", info.SHA256); !bytes.Equal(got, data) {
			t.Fatal("content differs after re-Put")
		}
	})
}

func TestOpenBlobStaysReadableAfterDelete(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(7, 70000)
		info, _ := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		r, err := s.Open(ctx, "acme", info.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := s.Delete(ctx, "acme", info.SHA256); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("reading an open blob after Delete: %d bytes, %v", len(got), err)
		}
	})
}

func TestRangedReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(8, 200000)
		info, err := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Open(ctx, "acme", info.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		ranges := [][2]int64{{0, 1}, {0, 44}, {44, 1000}, {123456, 70000}, {199999, 1}, {0, 200000}, {200000, 0}}
		for _, rg := range ranges {
			sr := io.NewSectionReader(r, rg[0], rg[1])
			got, err := io.ReadAll(sr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data[rg[0]:rg[0]+rg[1]]) {
				t.Fatalf("range %v differs", rg)
			}
		}
		// A section running past the end is cut at the end.
		got, _ := io.ReadAll(io.NewSectionReader(r, 199990, 100))
		if !bytes.Equal(got, data[199990:]) {
			t.Fatalf("section past the end: %d bytes", len(got))
		}
		// Seek and read, as http.ServeContent does.
		if _, err := r.Seek(150000, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, data[150000:150100]) {
			t.Fatalf("seek+read: %v", err)
		}
		if end, err := r.Seek(0, io.SeekEnd); err != nil || end != r.Size() {
			t.Fatalf("Seek end = %d, %v; size %d", end, err, r.Size())
		}
	})
}

func TestServeContentRange(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		data := content(9, 50000)
		info, _ := s.Put(ctx, "acme", bytes.NewReader(data), limit)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r, err := s.Open(req.Context(), "acme", info.SHA256)
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			defer r.Close()
			w.Header().Set("Content-Type", "audio/wav")
			http.ServeContent(w, req, "", time.Time{}, r)
		}))
		defer srv.Close()
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Range", "bytes=1000-1999")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Range"); got != "bytes 1000-1999/50000" {
			t.Fatalf("Content-Range %q", got)
		}
		if !bytes.Equal(body, data[1000:2000]) {
			t.Fatal("range body differs")
		}
	})
}

func TestCancelledContext(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx, cancel := context.WithCancel(context.Background())
		info, err := s.Put(ctx, "acme", strings.NewReader("kept"), limit)
		if err != nil {
			t.Fatal(err)
		}
		// Cancel in the middle of a body.
		r := &cancelAfter{r: zeroReader{}, after: 300000, cancel: cancel}
		_, err = s.Put(ctx, "acme", r, limit)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled mid-body: %v", err)
		}
		if _, err := s.Open(ctx, "acme", info.SHA256); !errors.Is(err, context.Canceled) {
			t.Fatalf("Open with a cancelled context: %v", err)
		}
		if fs, ok := s.(*FS); ok {
			assertNoTemps(t, fs)
			if files := blobFiles(t, fs); len(files) != 1 {
				t.Fatalf("files: %v", files)
			}
		}
	})
}

type cancelAfter struct {
	r      io.Reader
	n      int
	after  int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func TestFailingBodyStoresNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		boom := errors.New("connection reset")
		r := io.MultiReader(bytes.NewReader(content(10, 100000)), errReader{boom})
		_, err := s.Put(ctx, "acme", r, limit)
		if !errors.Is(err, boom) {
			t.Fatalf("Put of a failing body: %v", err)
		}
		// A coded error from the body (say, the HTTP layer's own limit) keeps its code.
		coded := callvault.Errorf(callvault.ETooLarge, "request body over 10 bytes")
		_, err = s.Put(ctx, "acme", io.MultiReader(strings.NewReader("abc"), errReader{coded}), limit)
		wantCode(t, err, callvault.ETooLarge)
		if fs, ok := s.(*FS); ok {
			assertNoTemps(t, fs)
			if files := blobFiles(t, fs); len(files) != 0 {
				t.Fatalf("files: %v", files)
			}
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// ExampleStore shows how the HTTP layer serves a byte range of a recording.
func ExampleStore() {
	var s Store = NewMem()
	ctx := context.Background()
	info, _ := s.Put(ctx, "acme", strings.NewReader("RIFF....WAVEfmt "), 1<<20)
	r, _ := s.Open(ctx, "acme", info.SHA256)
	defer r.Close()
	b, _ := io.ReadAll(io.NewSectionReader(r, 8, 4))
	fmt.Println(info.Size, string(b))
	// Output: 16 WAVE
}
