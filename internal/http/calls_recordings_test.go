package http

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/audio"
	"github.com/callvault/callvault/internal/callvault"
)

// upload PUTs content as a recording of callID with the headers.
func upload(tb testing.TB, c *testClient, tenant, id, callID string, body io.Reader, chunked bool) *testResponse {
	tb.Helper()
	req, err := http.NewRequest("PUT", c.env.URL+"/v1/tenants/"+tenant+"/recordings/"+id+"/content?callId="+callID, body)
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "audio/wav")
	if chunked {
		req.ContentLength = -1 // Transfer-Encoding: chunked, no declared length
	}
	return c.env.send(tb, req)
}

// getRange GETs a recording's content with a Range header ("" for none).
func getRange(tb testing.TB, c *testClient, path, rng string) *testResponse {
	tb.Helper()
	req, err := http.NewRequest("GET", c.env.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	return c.env.send(tb, req)
}

// mustWAV generates a WAV recording of d.
func mustWAV(tb testing.TB, seed int64, d time.Duration) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := audio.GenerateWAV(&b, seed, d); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// blobFiles lists the files of the blob store, its temp directory
// excepted.
func blobFiles(tb testing.TB, env *testEnv) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(env.BlobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestRecordingUploadAndRange(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.AuditReads = true })
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	ac.MustIngest(t, "acme", callRec("call-1", time.Now().Add(-time.Hour), nil))
	wav := mustWAV(t, 7, 3*time.Second)

	var meta recordingMeta
	upload(t, ac, "acme", "rec-1", "call-1", bytes.NewReader(wav), false).Want(t, http.StatusCreated).JSON(t, &meta)
	if meta.ContentType != "audio/wav" || meta.Size != int64(len(wav)) || meta.DurationMs != 3000 || len(meta.SHA256) != 64 || !meta.HasContent || meta.CallID != "call-1" {
		t.Fatalf("uploaded: %+v", meta)
	}
	// The stored call record now lists the recording.
	if got := ids(listCalls(t, ac, "acme", "hasRecording=true")); !slices.Equal(got, []string{"call-1"}) {
		t.Fatalf("hasRecording=true after upload: %v", got)
	}
	var call callvault.CallRecord
	ac.Get(t, "/v1/tenants/acme/calls/call-1").Want(t, 200).JSON(t, &call)
	if !slices.Equal(call.RecordingIDs, []string{"rec-1"}) {
		t.Fatalf("call record's recordings: %v", call.RecordingIDs)
	}
	var got recordingMeta
	ac.Get(t, "/v1/tenants/acme/recordings/rec-1").Want(t, 200).JSON(t, &got)
	if got.SHA256 != meta.SHA256 || got.DurationMs != 3000 {
		t.Fatalf("metadata: %+v", got)
	}

	content := "/v1/tenants/acme/recordings/rec-1/content"
	full := getRange(t, ac, content, "").Want(t, 200)
	if !bytes.Equal(full.Body, wav) || full.Header.Get("Content-Type") != "audio/wav" ||
		full.Header.Get("Content-Length") != strconv.Itoa(len(wav)) || full.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("full content: %d bytes, headers %v", len(full.Body), full.Header)
	}
	part := getRange(t, ac, content, "bytes=100-1123").Want(t, http.StatusPartialContent)
	if !bytes.Equal(part.Body, wav[100:1124]) || part.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-1123/%d", len(wav)) ||
		part.Header.Get("Content-Length") != "1024" {
		t.Fatalf("range: %d bytes, headers %v", len(part.Body), part.Header)
	}
	tail := getRange(t, ac, content, "bytes=-10").Want(t, http.StatusPartialContent)
	if !bytes.Equal(tail.Body, wav[len(wav)-10:]) {
		t.Fatal("suffix range differs")
	}
	past := getRange(t, ac, content, fmt.Sprintf("bytes=%d-", len(wav)+10))
	p := past.WantProblem(t, http.StatusRequestedRangeNotSatisfiable, "")
	if p.Code != codeRangeNotSatisfiable || past.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(wav)) ||
		!strings.Contains(p.Detail, strconv.Itoa(len(wav))+" bytes") {
		t.Fatalf("416: %s %v", past.Body, past.Header)
	}

	// Each successful read left its record: metadata view, and one export
	// per content response (not for the 416).
	views := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"recording"}, EventTypes: []string{"view"}})
	exports := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"recording"}, EventTypes: []string{"export"}})
	if len(views) != 1 || len(exports) != 3 || !strings.Contains(exports[1].Details, `"range":"bytes=100-1123"`) {
		t.Fatalf("recording reads audited: %d views, %d exports: %+v", len(views), len(exports), exports)
	}
	creates := env.MustAudit(t, callvault.AuditFilter{TenantID: "acme", EntityTypes: []string{"recording"}, EventTypes: []string{"create"}})
	if len(creates) != 1 || creates[0].Service != callvault.AuditData || !strings.Contains(creates[0].Details, meta.SHA256) {
		t.Fatalf("upload audited: %+v", creates)
	}

	// Replacing the content deletes the old blob; another call is a conflict.
	wav2 := mustWAV(t, 8, time.Second)
	upload(t, ac, "acme", "rec-1", "call-1", bytes.NewReader(wav2), true).Want(t, http.StatusOK).JSON(t, &meta)
	if meta.DurationMs != 1000 || len(blobFiles(t, env)) != 1 {
		t.Fatalf("replaced: %+v, blobs %v", meta, blobFiles(t, env))
	}
	upload(t, ac, "acme", "rec-1", "call-2", bytes.NewReader(wav2), false).WantProblem(t, http.StatusConflict, "callId")
}

func TestRecordingUploadRefusals(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxRecordingBytes = 10000 })
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()

	// Not audio: 415, nothing stored.
	for name, body := range map[string][]byte{
		"text":      []byte("hello, this is not a recording"),
		"empty":     nil,
		"png":       append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...),
		"bad riff":  append([]byte("RIFF\x10\x00\x00\x00WAVEjunk"), make([]byte, 20)...),
		"zip bytes": append([]byte("PK\x03\x04"), make([]byte, 5000)...),
	} {
		res := upload(t, ac, "acme", "rec-x", "call-x", bytes.NewReader(body), false)
		p := res.WantProblem(t, http.StatusUnsupportedMediaType, "")
		if !strings.Contains(p.Detail, "not audio: expected WAV or MP3") {
			t.Errorf("%s: %s", name, p.Detail)
		}
	}
	// Too large: 413 naming the limit, declared or streamed.
	big := mustWAV(t, 1, 2*time.Second) // 32 KB
	for _, chunked := range []bool{false, true} {
		p := upload(t, ac, "acme", "rec-x", "call-x", bytes.NewReader(big), chunked).WantProblem(t, http.StatusRequestEntityTooLarge, "")
		if !strings.Contains(p.Detail, "10000 bytes") {
			t.Errorf("chunked=%v: %s", chunked, p.Detail)
		}
	}
	ac.Get(t, "/v1/tenants/acme/recordings/rec-x").WantProblem(t, http.StatusNotFound, "")
	if files := blobFiles(t, env); len(files) != 0 {
		t.Fatalf("refused uploads left blobs: %v", files)
	}
	// A bad callId and a bad id are named.
	upload(t, ac, "acme", "rec-x", "", bytes.NewReader(big[:100]), false).WantProblem(t, 400, "callId")
	upload(t, ac, "acme", "rec%01x", "c", bytes.NewReader(big[:100]), false).WantProblem(t, 400, "id")
	// An MP3 (ID3 tag) is accepted, with no duration.
	mp3 := append([]byte("ID3\x03\x00\x00\x00\x00\x00\x10"), make([]byte, 200)...)
	var meta recordingMeta
	upload(t, ac, "acme", "rec-mp3", "call-x", bytes.NewReader(mp3), false).Want(t, http.StatusCreated).JSON(t, &meta)
	if meta.ContentType != "audio/mpeg" {
		t.Fatalf("mp3: %+v", meta)
	}
	// A recording whose content has not been uploaded is not found.
	env.MustUpdate(t, func(tx callvault.Tx) error {
		return tx.CreateRecording(&callvault.Recording{TenantID: "acme", ID: "rec-empty", CallID: "call-x", CreatedAt: time.Now()})
	})
	if p := ac.Get(t, "/v1/tenants/acme/recordings/rec-empty/content").WantProblem(t, 404, ""); !strings.Contains(p.Detail, "no content yet") {
		t.Fatalf("no content: %s", p.Detail)
	}
}

func TestRecordingOwnership(t *testing.T) {
	env := newTestEnv(t)
	acme := env.MustAdmin(t, "acme")
	ac := acme.Client()
	start := time.Now().Add(-time.Hour)
	ac.MustIngest(t, "acme", callRec("c101", start, nil), callRec("c102", start, map[string]any{"to": map[string]any{"extensionNumber": "102"}}))
	wav := mustWAV(t, 3, 500*time.Millisecond)
	for _, r := range [][2]string{{"r101", "c101"}, {"r102", "c102"}, {"orphan", "not-yet"}} {
		upload(t, ac, "acme", r[0], r[1], bytes.NewReader(wav), false).Want(t, http.StatusCreated)
	}
	agent := env.mustCallActor(t, "acme", "agent-ann", "101", nil, []callvault.Permission{callvault.PermCallsRead, callvault.PermRecordingsRead}, callvault.RoleAgent)
	gc := agent.Client()
	gc.Get(t, "/v1/tenants/acme/recordings/r101").Want(t, 200)
	getRange(t, gc, "/v1/tenants/acme/recordings/r101/content", "bytes=0-3").Want(t, 206)
	for _, path := range []string{"/v1/tenants/acme/recordings/r102", "/v1/tenants/acme/recordings/r102/content", "/v1/tenants/acme/recordings/orphan"} {
		if p := gc.Get(t, path).WantProblem(t, 403, ""); p.Missing.Kind != "ownership" {
			t.Fatalf("%s: %+v", path, p)
		}
	}
	ac.Get(t, "/v1/tenants/acme/recordings/orphan").Want(t, 200)
	// Without recordings.read in the token: the scope layer, with its hint.
	viewer := env.mustCallActor(t, "acme", "viewer", "101", nil, []callvault.Permission{callvault.PermCallsRead}, callvault.RoleAgent)
	if p := viewer.Client().Get(t, "/v1/tenants/acme/recordings/r101").WantProblem(t, 403, ""); p.Layer != "scopes" || p.Missing.Name != "recordings.read" {
		t.Fatalf("viewer: %+v", p)
	}
}
