package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/ingest"
)

// Ingest of call records (POST .../calls), call events (POST
// .../call-events) and FreeSWITCH CDRs (POST .../freeswitch/cdr), and legal
// holds.
//
// Choices:
//   - a batch is all or nothing: if any item is invalid, the answer is 400
//     listing every invalid item (errors[]: index or line, field, detail)
//     and nothing is stored; otherwise every item is stored in one
//     transaction with one audit record, and the answer comes after the
//     commit is durable;
//   - ingest is idempotent on the source's id: an item whose id is stored
//     is skipped (counted as a duplicate), so a batch can be re-sent after
//     a timeout;
//   - a siteId must name a site of the tenant (400 naming the item and
//     siteId otherwise): sites are configuration, a typo must not create
//     one. Extensions are plain numbers: an unknown extension is stored as
//     it is, since PBXs report extensions callvault has no user for
//     (queues, IVRs, departed staff).

// batchResult is the answer of an ingest of call records.
type batchResult struct {
	Received   int `json:"received"`
	Stored     int `json:"stored"`
	Duplicates int `json:"duplicates"`
}

// decodeItems decodes the body of an ingest request with decode (a JSON
// array, NDJSON, or one JSON object, which may span lines: a batch of one)
// after checking its Content-Type, which does not choose among them,
// reading at most MaxBatchBytes and MaxBatchRecords items (what: "record",
// "event"). An empty batch is a 400.
func decodeItems[T any](s *Server, w http.ResponseWriter, r *http.Request, decode func(io.Reader, int) ([]T, error), what string) ([]T, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains([]string{"application/json", "application/x-ndjson", "application/ndjson", "application/jsonl"}, mt) {
			return nil, callvault.Errorf(callvault.EUnsupported, "Content-Type must be application/json (an array or one object) or application/x-ndjson (one item per line), not %q", ct)
		}
	}
	if r.ContentLength > s.cfg.MaxBatchBytes {
		return nil, s.batchTooLarge()
	}
	items, err := decode(http.MaxBytesReader(w, r.Body, s.cfg.MaxBatchBytes), s.cfg.MaxBatchRecords)
	if err != nil {
		return nil, s.batchError(err, what)
	}
	if len(items) == 0 {
		return nil, callvault.Errorf(callvault.EInvalid, "the body holds no %ss", what)
	}
	return items, nil
}

func (s *Server) batchTooLarge() error {
	return callvault.Errorf(callvault.ETooLarge, "the body is larger than the limit of %d bytes (MaxBatchBytes); split the batch", s.cfg.MaxBatchBytes)
}

// batchError turns what the ingest decoders return into the API's errors:
// a body over the limit is 413 naming it, a *ingest.BatchError a 400
// listing every bad item.
func (s *Server) batchError(err error, what string) error {
	var mbe *http.MaxBytesError
	var be *ingest.BatchError
	switch {
	case errors.As(err, &mbe):
		return s.batchTooLarge()
	case errors.As(err, &be):
		items := make([]ItemError, 0, len(be.Errors))
		for _, e := range be.Errors {
			items = append(items, itemError(e))
		}
		n := len(be.Errors) + be.More
		msg := fmt.Sprintf("%d invalid %s; nothing was stored", n, plural(n, what))
		if be.More > 0 {
			msg += fmt.Sprintf(" (the first %d are listed)", len(be.Errors))
		}
		return &BatchError{Err: callvault.Errorf(callvault.EInvalid, "%s", msg), Items: items}
	case callvault.ErrorCode(err) == callvault.EInternal:
		// A read error of the body: the client went away or sent garbage.
		return &callvault.Error{Code: callvault.EInvalid, Message: "reading the body failed", Err: err}
	}
	return err
}

// itemError converts an ingest item error, whose message starts with its
// 1-based position ("record 3: ..." in an array, "line 3: ..." in NDJSON).
func itemError(e *callvault.Error) ItemError {
	ie := ItemError{Field: e.Field, Detail: e.Message}
	var n int
	if _, err := fmt.Sscanf(e.Message, "record %d:", &n); err == nil {
		i := n - 1
		ie.Index = &i
	} else if _, err := fmt.Sscanf(e.Message, "line %d:", &n); err == nil {
		ie.Line = n
	}
	return ie
}

// plural is what with an s unless n is 1.
func plural(n int, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// handleCallIngest is POST /v1/tenants/{tenant}/calls: a batch of call
// records as a JSON array or NDJSON, or one record (a JSON object, on one
// line or pretty-printed over several), all or nothing, idempotent on the
// records' ids.
func (s *Server) handleCallIngest(w http.ResponseWriter, r *http.Request, c *Call) error {
	recs, err := decodeItems(s, w, r, ingest.DecodeBatch, "record")
	if err != nil {
		return err
	}
	res, err := s.storeCalls(r.Context(), c, recs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// storeCalls stores validated records of the call's tenant in one change
// set with one audit record, after checking their sites.
//
// Group commit: batches that arrive while another batch of the same store
// is being committed wait, and are then committed together in one
// transaction (one durable commit), each with its own site check, counts
// and audit record, and each answered only after that commit. The store
// ingests far faster in larger transactions (see docs/benchmarks.md), so
// concurrent clients get more than one batch at a time would. A request
// whose sites are unknown is refused alone; any other error of the group's
// transaction stores nothing, and each request of the group is then
// stored on its own, as without grouping.
func (s *Server) storeCalls(ctx context.Context, c *Call, recs []*callvault.CallRecord) (batchResult, error) {
	for _, rec := range recs {
		rec.TenantID = c.Tenant
	}
	req := &ingestReq{ctx: ctx, c: c, recs: recs, done: make(chan struct{})}
	g := &s.ingestQueue
	var group []*ingestReq
	g.Lock()
	if g.busy {
		g.waiting = append(g.waiting, req)
		g.Unlock()
		<-req.done
		if req.lead == nil {
			return req.res, req.err // committed in another request's group
		}
		group = req.lead
	} else {
		g.busy = true
		g.Unlock()
		group = []*ingestReq{req}
	}
	s.commitGroup(ctx, group)
	return req.res, req.err
}

// commitGroup commits group (see commitCalls), then hands the next group
// (the requests that came meanwhile) to its first request and answers this
// group's, whatever happened: a panic answers them with an error.
func (s *Server) commitGroup(ctx context.Context, group []*ingestReq) {
	for _, r := range group {
		r.err = callvault.Errorf(callvault.EInternal, "the batch was not stored")
	}
	defer func() {
		g := &s.ingestQueue
		g.Lock()
		next := g.waiting
		g.waiting = nil
		g.busy = len(next) > 0 // the next group's first request commits it
		g.Unlock()
		if len(next) > 0 {
			next[0].lead = next
			close(next[0].done)
		}
		for _, r := range group[1:] {
			close(r.done)
		}
	}()
	s.commitCalls(ctx, group)
}

// ingestReq is a request's batch of records waiting to be committed.
type ingestReq struct {
	ctx  context.Context
	c    *Call
	recs []*callvault.CallRecord
	res  batchResult
	err  error
	lead []*ingestReq // the group this request is to commit, when it is its first
	done chan struct{}
}

// ingestQueue holds the requests waiting for the next group commit of a
// server, while one is in progress (busy).
type ingestQueue struct {
	sync.Mutex
	busy    bool
	waiting []*ingestReq
}

// commitCalls stores the batches of group in one transaction (see
// storeCalls), setting each request's result. The first request's context
// runs the transaction, without its cancellation: it commits the others'
// batches too.
func (s *Server) commitCalls(ctx context.Context, group []*ingestReq) {
	if len(group) == 1 {
		r := group[0]
		r.res, r.err = s.storeCallsAlone(r.ctx, r.c, r.recs)
		return
	}
	err := s.store.Update(context.WithoutCancel(ctx), func(tx callvault.Tx) error {
		var audit []*callvault.AuditRecord
		for _, r := range group {
			r.res, r.err = batchResult{Received: len(r.recs)}, nil
			if err := checkItemSites(r.ctx, tx, r.c.Tenant, "record", len(r.recs), func(i int) string { return r.recs[i].SiteID }); err != nil {
				if errors.As(err, new(*BatchError)) {
					r.err = err // unknown sites: this request is refused, nothing of it is written
					continue
				}
				return err
			}
			stored, err := tx.PutCalls(r.recs)
			if err != nil {
				return err
			}
			for _, ok := range stored {
				if ok {
					r.res.Stored++
				}
			}
			r.res.Duplicates = r.res.Received - r.res.Stored
			audit = append(audit, s.batchRecord(r.c, "callBatch", fmt.Sprintf("%d call %s", r.res.Received, plural(r.res.Received, "record")),
				map[string]any{"received": r.res.Received, "stored": r.res.Stored, "duplicates": r.res.Duplicates}))
		}
		if len(audit) == 0 {
			return nil
		}
		return tx.AppendAudit(audit...)
	})
	if err != nil {
		// Nothing of the group is stored: each request on its own.
		for _, r := range group {
			r.res, r.err = s.storeCallsAlone(r.ctx, r.c, r.recs)
		}
	}
}

// storeCallsAlone stores one request's records in their own change set.
func (s *Server) storeCallsAlone(ctx context.Context, c *Call, recs []*callvault.CallRecord) (batchResult, error) {
	res := batchResult{Received: len(recs)}
	err := s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		res = batchResult{Received: len(recs)}
		if err := checkItemSites(ctx, tx, c.Tenant, "record", len(recs), func(i int) string { return recs[i].SiteID }); err != nil {
			return err
		}
		stored, err := tx.PutCalls(recs)
		if err != nil {
			return err
		}
		for _, ok := range stored {
			if ok {
				res.Stored++
			}
		}
		res.Duplicates = res.Received - res.Stored
		add(s.batchRecord(c, "callBatch", fmt.Sprintf("%d call %s", res.Received, plural(res.Received, "record")),
			map[string]any{"received": res.Received, "stored": res.Stored, "duplicates": res.Duplicates}))
		return nil
	})
	return res, err
}

// batchRecord is the audit record of an ingest: service data, event
// create, keyed by the request id, with the counts as the new attributes.
func (s *Server) batchRecord(c *Call, entityType, name string, counts map[string]any) *callvault.AuditRecord {
	rec := s.record(c, callvault.AuditData, callvault.EventCreate, entityType, c.RequestID, name)
	rec.Details = diffDetails(nil, counts)
	return rec
}

// checkItemSites refuses a batch of n items (what: "record", "event")
// naming sites the tenant does not have, listing each with its index;
// site(i) is the siteId of item i.
func checkItemSites(ctx context.Context, rd callvault.Reader, tenant, what string, n int, site func(int) string) error {
	all, err := rd.Sites(ctx, tenant)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(all))
	for _, st := range all {
		known[st.ID] = true
	}
	var items []ItemError
	for i := range n {
		if id := site(i); id != "" && !known[id] {
			items = append(items, ItemError{Index: &i, Field: "siteId",
				Detail: fmt.Sprintf("%s %d: siteId: tenant %q has no site %q; create it first (POST /v1/tenants/%s/sites)", what, i+1, tenant, id, tenant)})
		}
	}
	if len(items) == 0 {
		return nil
	}
	return &BatchError{Err: callvault.FieldError("siteId", "%d %s with an unknown siteId; nothing was stored",
		len(items), plural(len(items), what)), Items: items}
}

// handleLegalHold returns the handler of POST (hold) and DELETE (release)
// /v1/tenants/{tenant}/calls/{id}/legal-hold: a call under legal hold is
// never purged, whatever the retention. Setting what is already set
// changes and records nothing.
func (s *Server) handleLegalHold(hold bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		id, err := pathSourceID(r, "call")
		if err != nil {
			return err
		}
		ctx := r.Context()
		err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
			rec, err := tx.Call(ctx, c.Tenant, id)
			if err != nil {
				return err
			}
			if rec.LegalHold == hold {
				return nil
			}
			if err := tx.SetCallLegalHold(c.Tenant, id, hold); err != nil {
				return err
			}
			a := s.record(c, callvault.AuditPlatform, callvault.EventUpdate, "call", id, callName(rec))
			a.Details = diffDetails(map[string]any{"legalHold": rec.LegalHold}, map[string]any{"legalHold": hold})
			add(a)
			return nil
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "legalHold": hold})
		return nil
	}
}

// eventResult is the answer of an ingest of call events.
type eventResult struct {
	Received   int      `json:"received"`
	Applied    int      `json:"applied"`
	Duplicates int      `json:"duplicates"`
	Ended      []string `json:"ended"` // ids of the calls an ended event finished
}

// handleEventIngest is POST /v1/tenants/{tenant}/call-events: one event (a
// JSON object, on one line or pretty-printed over several) or a batch (a
// JSON array or NDJSON), applied in order in one
// transaction, all or nothing. Each new event is stored (a re-sent id is
// skipped and not applied again), its call is replayed from its stored
// events through the state machine (ingest.Replay), and the call's live
// state is stored, or, on ended, removed and the finished call record
// stored. An event the call's state forbids (answered before ringing,
// anything after ended, out of order) is 409 naming its index and field.
func (s *Server) handleEventIngest(w http.ResponseWriter, r *http.Request, c *Call) error {
	evs, err := decodeItems(s, w, r, ingest.DecodeEvents, "event")
	if err != nil {
		return err
	}
	now := s.stamp()
	for _, ev := range evs {
		ev.TenantID, ev.ReceivedAt = c.Tenant, now
	}
	ctx := r.Context()
	res := eventResult{Received: len(evs), Ended: []string{}}
	err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
		res = eventResult{Received: len(evs), Ended: []string{}} // a retried transaction starts over
		if err := checkItemSites(ctx, tx, c.Tenant, "event", len(evs), func(i int) string { return evs[i].SiteID }); err != nil {
			return err
		}
		for i, ev := range evs {
			applied, ended, err := applyEvent(ctx, tx, ev, now)
			if err != nil {
				return eventError(i, err)
			}
			switch {
			case !applied:
				res.Duplicates++
			case ended:
				res.Ended = append(res.Ended, ev.CallID)
				fallthrough
			default:
				res.Applied++
			}
		}
		add(s.batchRecord(c, "callEventBatch", fmt.Sprintf("%d call %s", res.Received, plural(res.Received, "event")),
			map[string]any{"received": res.Received, "applied": res.Applied, "duplicates": res.Duplicates, "ended": len(res.Ended)}))
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// applyEvent stores ev unless its id is stored, replays its call from the
// call's stored events and stores the outcome: the live state, or the
// finished record (and no live state) when ev ended the call.
func applyEvent(ctx context.Context, tx callvault.Tx, ev *callvault.CallEvent, now time.Time) (applied, ended bool, err error) {
	stored, err := tx.PutCallEvents([]*callvault.CallEvent{ev})
	if err != nil || !stored[0] {
		return false, false, err
	}
	history, err := tx.CallEventsOf(ctx, ev.TenantID, ev.CallID)
	if err != nil {
		return false, false, err
	}
	active, final, err := ingest.Replay(history, now)
	switch {
	case err != nil:
		return false, false, err
	case final == nil:
		return true, false, tx.PutActiveCall(active)
	}
	final.TenantID = ev.TenantID
	if _, err := tx.PutCalls([]*callvault.CallRecord{final}); err != nil {
		return false, false, err
	}
	if err := tx.DeleteActiveCall(ev.TenantID, ev.CallID); err != nil && !callvault.IsNotFound(err) {
		return false, false, err
	}
	return true, true, nil
}

// eventError places the error of the i-th event of a batch: a 400 (or 409
// for a state conflict) listing the event with its index and field.
// Errors without a code (the store's) pass through.
func eventError(i int, err error) error {
	var ce *callvault.Error
	if !errors.As(err, &ce) || ce.Code == callvault.EInternal {
		return err
	}
	summary := &callvault.Error{Code: ce.Code, Field: ce.Field,
		Message: fmt.Sprintf("event %d of the batch cannot be applied; nothing was stored: %s", i+1, ce.Message)}
	return &BatchError{Err: summary, Items: []ItemError{{Index: &i, Field: ce.Field, Detail: fmt.Sprintf("event %d: %s", i+1, ce.Message)}}}
}

// fsResult is the answer to FreeSWITCH: the counts, and why a document was
// acknowledged without storing anything.
type fsResult struct {
	batchResult
	Skipped string `json:"skipped,omitempty"`
}

// handleFreeSWITCHCDR is POST /v1/tenants/{tenant}/freeswitch/cdr: one CDR
// as FreeSWITCH's mod_json_cdr posts it, in any of its encodings (raw
// JSON, cdr= URL-encoded, cdr= base64; the body is identified by its
// content, not its Content-Type), authenticated with HTTP Basic whose
// password is an API key of the tenant holding calls.write (the user name
// is free text). The record's site is the siteId query parameter, so the
// module's url can be .../freeswitch/cdr?siteId=<id> (the module appends
// ?uuid=..., which is tolerated). 200 acknowledges a stored, re-sent or
// B-leg CDR (mod_json_cdr retries anything else); a document that cannot
// be used is 400, which FreeSWITCH logs, retries and finally keeps in its
// err-log-dir.
func (s *Server) handleFreeSWITCHCDR(w http.ResponseWriter, r *http.Request, c *Call) error {
	site, _, _ := strings.Cut(r.URL.Query().Get("siteId"), "?")
	if r.ContentLength > s.cfg.MaxBatchBytes {
		return s.batchTooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBatchBytes))
	if err != nil {
		return s.batchError(err, "CDR")
	}
	doc, err := ingest.DecodeFreeSWITCHHTTP(r.Header.Get("Content-Type"), body)
	if err != nil {
		return err
	}
	rec, err := ingest.ParseFreeSWITCH(doc)
	switch {
	case errors.Is(err, ingest.ErrBLeg):
		writeJSON(w, http.StatusOK, fsResult{batchResult: batchResult{Received: 1}, Skipped: err.Error()})
		return nil
	case errors.As(err, new(ingest.FieldErrors)):
		return fieldErrors(err)
	case err != nil:
		return err
	}
	rec.SiteID = site
	res, err := s.storeCalls(r.Context(), c, []*callvault.CallRecord{rec})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fsResult{batchResult: res})
	return nil
}

// fieldErrors renders ingest.FieldErrors of one document as a 400 listing
// every field.
func fieldErrors(err error) error {
	var fe ingest.FieldErrors
	errors.As(err, &fe)
	items := make([]ItemError, len(fe))
	for i, e := range fe {
		items[i] = ItemError{Field: e.Field, Detail: e.Message}
	}
	return &BatchError{Err: &callvault.Error{Code: callvault.EInvalid, Field: fe[0].Field,
		Message: fmt.Sprintf("the document has %d invalid %s; nothing was stored", len(fe), plural(len(fe), "field"))}, Items: items}
}
