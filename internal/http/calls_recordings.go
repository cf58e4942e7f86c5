package http

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/callvault/callvault/internal/audio"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/ingest"
)

// Recordings: PUT .../recordings/{id}/content stores audio, GET
// .../recordings/{id} its metadata and GET .../recordings/{id}/content the
// audio with Range support.
//
// Choices:
//   - an upload must name its call (?callId=...); the call record need not
//     exist yet. A recording stays with the call it was first uploaded
//     for: another callId later is a 409;
//   - the audio is checked by its magic bytes (audio.Detect) before a
//     byte is stored, and a WAV's header is parsed (audio.WAVInfo) for its
//     duration; anything else is 415 and nothing is stored;
//   - uploading again replaces the content (the recording's sha256, size,
//     type and duration change; an update audit record says from what);
//     the old content is deleted when no recording of the tenant uses it;
//   - an upload for a call record that is stored adds the recording to the
//     record's recordingIds (so hasRecording=true finds it), in the same
//     transaction; a recording uploaded before its call record arrives
//     names the call (callId) but is not listed by the record, which is
//     stored as its source sent it. Live calls list the recordings their
//     recording_started events named.

// attachRecording lists the recording on its call record when the record
// is stored; a call that has not arrived yet is not an error.
func attachRecording(tx callvault.Tx, tenant, callID, id string) error {
	if err := tx.AttachRecording(tenant, callID, id); err != nil && !callvault.IsNotFound(err) {
		return err
	}
	return nil
}

// recordingMeta is the JSON of a recording: its metadata, and whether its
// content has been uploaded.
type recordingMeta struct {
	*callvault.Recording
	HasContent bool `json:"hasContent"`
}

// deleteUnused deletes the tenant's blob sha unless a request holds it or a
// stored recording references it. Failures are logged: an unused blob left
// behind costs space, never correctness.
func (s *Server) deleteUnusedBlob(ctx context.Context, tenant, sha string) {
	if sha == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	_, err := s.cfg.BlobGuard.DeleteUnused(ctx, s.cfg.Blobs, tenant, sha, func(ctx context.Context) (bool, error) {
		return s.store.RecordingBlobInUse(ctx, tenant, sha)
	})
	if err != nil {
		s.log.Warn("deleting unused recording content", "tenant", tenant, "sha256", sha, "err", err)
	}
}

// blobs returns the blob store, or 503 when the server has none.
func (s *Server) blobs() (blob.Store, error) {
	if s.cfg.Blobs == nil {
		return nil, callvault.Errorf(callvault.EUnavailable, "this server has no recording store configured")
	}
	return s.cfg.Blobs, nil
}

// handleRecordingUpload is PUT /v1/tenants/{tenant}/recordings/{id}/content?callId=...
func (s *Server) handleRecordingUpload(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathSourceID(r, "recording")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := checkParams(q, "callId"); err != nil {
		return err
	}
	callID := q.Get("callId")
	if !validSourceID(callID) {
		return callvault.FieldError("callId", "callId is required: the id of the call the recording belongs to (1 to %d printable characters), not %q", ingest.MaxIDLen, callID)
	}
	bs, err := s.blobs()
	if err != nil {
		return err
	}
	limit := s.cfg.MaxRecordingBytes
	if r.ContentLength > limit {
		return recordingTooLarge(limit)
	}
	// Check the magic bytes before storing anything.
	br := bufio.NewReaderSize(r.Body, audio.HeadSize)
	head, err := br.Peek(audio.HeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return callvault.Errorf(callvault.EInvalid, "reading the body: %v", err)
	}
	ctype, ok := audio.Detect(head)
	if !ok {
		return notAudio("")
	}
	ctx := r.Context()
	info, err := bs.Put(ctx, c.Tenant, br, limit)
	if err != nil {
		if callvault.ErrorCode(err) == callvault.ETooLarge {
			return recordingTooLarge(limit)
		}
		return err
	}
	release := s.cfg.BlobGuard.Hold(c.Tenant, info.SHA256)
	fail := func(err error) error {
		release()
		s.deleteUnusedBlob(ctx, c.Tenant, info.SHA256)
		return err
	}
	// Another request may have deleted this content as unused between
	// Put and hold; it is held now, so it is there or it is not.
	if ok, err := bs.Exists(ctx, c.Tenant, info.SHA256); err != nil || !ok {
		release()
		if err == nil {
			err = callvault.Errorf(callvault.EUnavailable, "the recording content was removed while it was stored; send it again")
		}
		return err
	}
	var dur time.Duration
	if ctype == audio.ContentTypeWAV {
		if dur, err = s.wavDuration(ctx, bs, c.Tenant, info.SHA256); err != nil {
			return fail(err)
		}
	}
	now := s.stamp()
	rec := &callvault.Recording{TenantID: c.Tenant, ID: id, CallID: callID, Type: "Automatic", ContentType: ctype,
		DurationMs: dur.Milliseconds(), Size: info.Size, SHA256: info.SHA256, CreatedAt: now, UploadedAt: now}
	var old *callvault.Recording
	err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		prev, err := tx.Recording(ctx, c.Tenant, id)
		switch {
		case callvault.IsNotFound(err):
			if err := tx.CreateRecording(rec); err != nil {
				return err
			}
			add(s.recordingChange(c, callvault.EventCreate, nil, rec))
			return attachRecording(tx, c.Tenant, callID, id)
		case err != nil:
			return err
		case prev.CallID != callID:
			return &callvault.Error{Code: callvault.EConflict, Field: "callId",
				Message: "recording " + strconv.Quote(id) + " belongs to call " + strconv.Quote(prev.CallID) + ", not " + strconv.Quote(callID)}
		}
		old = prev
		rec.Type, rec.CreatedAt = prev.Type, prev.CreatedAt
		if err := tx.UpdateRecording(rec); err != nil {
			return err
		}
		add(s.recordingChange(c, callvault.EventUpdate, prev, rec))
		return attachRecording(tx, c.Tenant, callID, id)
	})
	if err != nil {
		return fail(err)
	}
	release()
	status := http.StatusCreated
	if old != nil {
		status = http.StatusOK
		if old.SHA256 != rec.SHA256 {
			s.deleteUnusedBlob(ctx, c.Tenant, old.SHA256)
		}
	}
	writeJSON(w, status, recordingMeta{Recording: rec, HasContent: true})
	return nil
}

// wavDuration parses the header of a stored WAV and returns its duration;
// a malformed WAV is 415.
func (s *Server) wavDuration(ctx context.Context, bs blob.Store, tenant, sha string) (time.Duration, error) {
	rd, err := bs.Open(ctx, tenant, sha)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	wav, err := audio.WAVInfo(rd, rd.Size())
	if err != nil {
		if callvault.ErrorCode(err) == callvault.EInvalid {
			return 0, notAudio(callvault.ErrorMessage(err))
		}
		return 0, err
	}
	return wav.Duration, nil
}

// recordingChange is the audit record of a recording stored or replaced.
func (s *Server) recordingChange(c *Call, event string, old, new *callvault.Recording) *callvault.AuditRecord {
	rec := s.record(c, callvault.AuditData, event, "recording", new.ID, "recording of call "+new.CallID)
	rec.Details = diffDetails(old, new)
	return rec
}

// notAudio is the 415 of an upload that is not WAV or MP3.
func notAudio(why string) error {
	msg := "not audio: expected WAV or MP3 (checked by the content's first bytes, not its Content-Type)"
	if why != "" {
		msg = "not audio: expected WAV or MP3; the WAV header is malformed: " + why
	}
	return callvault.Errorf(callvault.EUnsupported, "%s", msg)
}

// recordingTooLarge is the 413 of an upload over the limit.
func recordingTooLarge(limit int64) error {
	return callvault.Errorf(callvault.ETooLarge, "the recording is larger than the limit of %d bytes (MaxRecordingBytes)", limit)
}

// loadRecording reads the {id} recording and decides the call's action on
// it: ownership, site and retention come from its call record; a recording
// whose call record has not arrived is ownerless.
func (s *Server) loadRecording(r *http.Request, c *Call) (*callvault.Recording, error) {
	id, err := pathSourceID(r, "recording")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	rec, err := s.store.Recording(ctx, c.Tenant, id)
	if err != nil {
		return nil, err
	}
	call, err := s.store.Call(ctx, c.Tenant, rec.CallID)
	switch {
	case callvault.IsNotFound(err):
		err = s.decideQuery(r, c, unassigned, nil, time.Time{}, time.Time{})
	case err == nil:
		err = s.decideRecord(r, c, call)
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// handleRecordingGet is GET /v1/tenants/{tenant}/recordings/{id}.
func (s *Server) handleRecordingGet(w http.ResponseWriter, r *http.Request, c *Call) error {
	rec, err := s.loadRecording(r, c)
	if err != nil {
		return err
	}
	if err := s.auditRead(r.Context(), c, callvault.EventView, "recording", rec.ID, "recording of call "+rec.CallID, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recordingMeta{Recording: rec, HasContent: rec.SHA256 != ""})
	return nil
}

// handleRecordingContent is GET /v1/tenants/{tenant}/recordings/{id}/content:
// the audio, with http.ServeContent's semantics (Range and If-Range,
// 206 with Content-Range, 416 past the end, conditional requests on the
// ETag, which is the content's sha256). A successful response is audited
// as an export before its first byte; error statuses are problems.
func (s *Server) handleRecordingContent(w http.ResponseWriter, r *http.Request, c *Call) error {
	rec, err := s.loadRecording(r, c)
	if err != nil {
		return err
	}
	if rec.SHA256 == "" {
		return callvault.Errorf(callvault.ENotFound, "recording %q has no content yet: PUT it to .../recordings/%s/content", rec.ID, rec.ID)
	}
	bs, err := s.blobs()
	if err != nil {
		return err
	}
	ctx := r.Context()
	rd, err := bs.Open(ctx, c.Tenant, rec.SHA256)
	if err != nil {
		return err
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", rec.ContentType)
	h.Set("ETag", `"`+rec.SHA256+`"`)
	h.Set("Cache-Control", "private, no-cache")
	cw := &contentWriter{ResponseWriter: w, r: r, size: rd.Size(), before: func() error {
		return s.auditRead(ctx, c, callvault.EventExport, "recording", rec.ID, "recording of call "+rec.CallID,
			map[string]any{"range": r.Header.Get("Range"), "size": rd.Size()})
	}}
	http.ServeContent(cw, r, "", rec.UploadedAt, rd)
	return nil
}

// contentWriter passes http.ServeContent's response through, but runs
// before (the audit record) ahead of a successful status, and renders the
// error statuses ServeContent writes itself (416, 412) as problems, so
// errors keep their one format.
type contentWriter struct {
	http.ResponseWriter
	r       *http.Request
	size    int64
	before  func() error
	status  int
	swallow bool // the body ServeContent writes is replaced
}

func (cw *contentWriter) WriteHeader(code int) {
	if cw.status != 0 {
		return
	}
	cw.status = code
	var err error
	switch {
	case code == http.StatusRequestedRangeNotSatisfiable:
		err = callvault.Errorf(codeRangeNotSatisfiable, "the range %q is not satisfiable: the recording is %d bytes (Content-Range: bytes */%d)",
			cw.r.Header.Get("Range"), cw.size, cw.size)
	case code == http.StatusPreconditionFailed:
		err = callvault.Errorf(codePreconditionFailed, "a precondition (If-Match or If-Unmodified-Since) failed")
	case code >= 200 && code < 300:
		err = cw.before()
	}
	if err != nil {
		cw.swallow = true
		h := cw.Header()
		for _, k := range []string{"Content-Length", "ETag", "Last-Modified", "Accept-Ranges", "X-Content-Type-Options"} {
			h.Del(k)
		}
		if code != http.StatusRequestedRangeNotSatisfiable {
			h.Del("Content-Range") // a 416 keeps "bytes */size"
		}
		writeError(cw.ResponseWriter, cw.r, err)
		return
	}
	cw.ResponseWriter.WriteHeader(code)
}

func (cw *contentWriter) Write(b []byte) (int, error) {
	if cw.status == 0 {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.swallow {
		return len(b), nil
	}
	return cw.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (cw *contentWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }
