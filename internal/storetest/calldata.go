package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Recordings, live calls, call events, and call data under DeleteTenant.

func testRecordings(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	_, err := s.Recording(ctx, alpha, "rec_1")
	wantCode(t, err, callvault.ENotFound, "Recording before create")

	a1, a2 := newRecording(alpha, "rec_1", "cal_001"), newRecording(alpha, "rec_2", "cal_002")
	a2.ContentType, a2.SHA256, a2.Size, a2.UploadedAt = "", "", 0, time.Time{} // not uploaded yet
	b1 := newRecording(beta, "rec_1", "cal_001")
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, r := range []*callvault.Recording{a1, a2, b1} {
			if err := tx.CreateRecording(r); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(r callvault.Reader, via string) {
		t.Helper()
		for _, want := range []*callvault.Recording{a1, a2, b1} {
			got, err := r.Recording(ctx, want.TenantID, want.ID)
			wantOK(t, err, via+": Recording")
			same(t, via+": Recording "+want.TenantID+"/"+want.ID, got, want)
		}
		_, err := r.Recording(ctx, beta, a2.ID)
		wantCode(t, err, callvault.ENotFound, via+": alpha's recording as beta")
		for _, c := range []struct {
			tenant, sha string
			want        bool
		}{
			{alpha, a1.SHA256, true}, {beta, b1.SHA256, true},
			{beta, a1.SHA256, false}, {alpha, b1.SHA256, false}, // another tenant's content
			{alpha, "", false}, // never for recordings not uploaded
			{gamma, a1.SHA256, false},
		} {
			used, err := r.RecordingBlobInUse(ctx, c.tenant, c.sha)
			wantOK(t, err, via+": RecordingBlobInUse")
			if used != c.want {
				t.Errorf("%s: RecordingBlobInUse(%s, %q) = %v, want %v", via, c.tenant, c.sha, used, c.want)
			}
		}
	}
	check(s, "store")
	_ = in(t, s, func(tx callvault.Tx) error { check(tx, "tx"); return nil })

	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateRecording(newRecording(alpha, "rec_1", "cal_009")) }),
		callvault.EConflict, "CreateRecording duplicate")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateRecording(newRecording(gamma, "rec_1", "cal_001")) }),
		callvault.ENotFound, "CreateRecording in a missing tenant")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateRecording(newRecording(alpha, "", "cal_001")) }),
		callvault.EInvalid, "CreateRecording without id")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.CreateRecording(nil) }),
		callvault.EInvalid, "CreateRecording nil")

	// The upload completes: every field but the key and CreatedAt changes.
	up := *a2
	up.CallID, up.Type, up.ContentType, up.DurationMs, up.Size = "cal_022", "OnDemand", "audio/wav", 5000, 80_000
	up.SHA256, up.UploadedAt, up.CreatedAt = "sha-new", at(30), at(99)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.UpdateRecording(&up) })
	up.CreatedAt = a2.CreatedAt
	got, err := s.Recording(ctx, alpha, a2.ID)
	wantOK(t, err, "Recording after update")
	same(t, "Recording after update", got, &up)
	if used, _ := s.RecordingBlobInUse(ctx, alpha, "sha-new"); !used {
		t.Errorf("RecordingBlobInUse after the upload: false")
	}
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.UpdateRecording(newRecording(alpha, "rec_missing", "c")) }),
		callvault.ENotFound, "UpdateRecording missing")
	other := newRecording(beta, a2.ID, "cal_x")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.UpdateRecording(other) }),
		callvault.ENotFound, "UpdateRecording of alpha's as beta")
	got, err = s.Recording(ctx, alpha, a2.ID)
	wantOK(t, err, "Recording after beta's update")
	same(t, "Recording after beta's update", got, &up)
}

func testActiveCalls(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	_, err := s.ActiveCall(ctx, alpha, "ses_1")
	wantCode(t, err, callvault.ENotFound, "ActiveCall before put")
	a1, a2, a3 := newActiveCall(alpha, "ses_1", 30), newActiveCall(alpha, "ses_2", 10), newActiveCall(alpha, "ses_3", 20)
	a3.AnsweredAt, a3.State, a3.Recording, a3.Extension = time.Time{}, "ringing", false, ""
	b1 := newActiveCall(beta, "ses_1", 5)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, a := range []*callvault.ActiveCall{a1, a2, a3, b1} {
			if err := tx.PutActiveCall(a); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(r callvault.Reader, via string, wantAlpha []*callvault.ActiveCall) {
		t.Helper()
		for _, want := range append(slices.Clone(wantAlpha), b1) {
			got, err := r.ActiveCall(ctx, want.TenantID, want.CallID)
			wantOK(t, err, via+": ActiveCall")
			same(t, via+": ActiveCall "+want.TenantID+"/"+want.CallID, got, want)
		}
		list, err := r.ActiveCalls(ctx, alpha)
		wantOK(t, err, via+": ActiveCalls")
		same(t, via+": ActiveCalls alpha, oldest first", list, wantAlpha)
		list, err = r.ActiveCalls(ctx, beta)
		wantOK(t, err, via+": ActiveCalls beta")
		same(t, via+": ActiveCalls beta", list, []*callvault.ActiveCall{b1})
		_, err = r.ActiveCall(ctx, beta, "ses_2")
		wantCode(t, err, callvault.ENotFound, via+": alpha's live call as beta")
	}
	check(s, "store", []*callvault.ActiveCall{a2, a3, a1})
	_ = in(t, s, func(tx callvault.Tx) error { check(tx, "tx", []*callvault.ActiveCall{a2, a3, a1}); return nil })

	// Put replaces every field.
	a3x := *a3
	a3x.State, a3x.AnsweredAt, a3x.Recording, a3x.UpdatedAt, a3x.StartedAt = "held", at(21), true, at(22), at(5)
	a3x.To = callvault.Party{PhoneNumber: "+12125550109", ExtensionNumber: "109"}
	a3x.Extension, a3x.SiteID, a3x.Direction = "109", "sit_2", callvault.DirectionOutbound
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.PutActiveCall(&a3x) })
	check(s, "after replace", []*callvault.ActiveCall{&a3x, a2, a1})

	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.PutActiveCall(newActiveCall(gamma, "ses_1", 1)) }),
		callvault.ENotFound, "PutActiveCall in a missing tenant")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.PutActiveCall(newActiveCall(alpha, "", 1)) }),
		callvault.EInvalid, "PutActiveCall without call id")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.DeleteActiveCall(beta, "ses_2") }),
		callvault.ENotFound, "DeleteActiveCall of alpha's as beta")
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.DeleteActiveCall(alpha, "ses_1") })
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.DeleteActiveCall(alpha, "ses_1") }),
		callvault.ENotFound, "DeleteActiveCall again")
	check(s, "after delete", []*callvault.ActiveCall{&a3x, a2})
	got, err := s.ActiveCall(ctx, beta, "ses_1")
	wantOK(t, err, "beta's live call after alpha deleted its namesake")
	same(t, "beta's live call after alpha deleted its namesake", got, b1)
}

func testCallEvents(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	events := func(f callvault.EventFilter) []*callvault.CallEvent {
		t.Helper()
		evs, err := s.CallEvents(ctx, f)
		wantOK(t, err, "CallEvents")
		return evs
	}
	if evs := events(callvault.EventFilter{TenantID: alpha}); len(evs) != 0 {
		t.Errorf("CallEvents before any: %d", len(evs))
	}
	// Two calls' events interleaved, arriving out of timestamp order.
	as := []*callvault.CallEvent{
		newCallEvent(alpha, "evt_1", "ses_1", callvault.EventRinging, 10),
		newCallEvent(alpha, "evt_2", "ses_2", callvault.EventRinging, 12),
		newCallEvent(alpha, "evt_3", "ses_1", callvault.EventAnswered, 11),
		newCallEvent(alpha, "evt_4", "ses_1", callvault.EventRecordingStarted, 13),
		newCallEvent(alpha, "evt_5", "ses_2", callvault.EventTransferred, 15),
		newCallEvent(alpha, "evt_6", "ses_1", callvault.EventEnded, 14),
	}
	as[0].ReceivedAt = at(10).Add(time.Second) // kept; the others get now
	bs := []*callvault.CallEvent{newCallEvent(beta, "evt_1", "ses_1", callvault.EventRinging, 10)}
	put := func(evs ...*callvault.CallEvent) []bool {
		t.Helper()
		var stored []bool
		MustUpdate(t, s, func(tx callvault.Tx) error {
			var err error
			stored, err = tx.PutCallEvents(evs)
			return err
		})
		return stored
	}
	before := time.Now().UTC().Truncate(time.Microsecond)
	if st := put(as[0], as[1], bs[0], as[2]); !slices.Equal(st, []bool{true, true, true, true}) {
		t.Errorf("PutCallEvents stored %v", st)
	}
	// Re-sent and new events together, a duplicate inside the batch.
	dup := newCallEvent(alpha, "evt_2", "ses_2", callvault.EventEnded, 99)
	again := newCallEvent(alpha, "evt_5", "ses_2", callvault.EventTransferred, 15)
	if st := put(dup, as[3], as[4], again, as[5]); !slices.Equal(st, []bool{false, true, true, false, true}) {
		t.Errorf("PutCallEvents of a re-sent batch stored %v", st)
	}
	after := time.Now().UTC()
	if dup.Seq != 0 || again.Seq != 0 || !dup.ReceivedAt.IsZero() {
		t.Errorf("skipped events were changed: %+v %+v", dup, again)
	}
	for i, e := range as {
		if e.Seq != int64(i+1) {
			t.Errorf("%s: Seq %d, want %d", e.ID, e.Seq, i+1)
		}
		if i > 0 && (e.ReceivedAt.Before(before) || e.ReceivedAt.After(after)) {
			t.Errorf("%s: ReceivedAt %v, want now", e.ID, e.ReceivedAt)
		}
	}
	if !as[0].ReceivedAt.Equal(at(10).Add(time.Second).Truncate(time.Microsecond)) {
		t.Errorf("a given ReceivedAt was replaced: %v", as[0].ReceivedAt)
	}
	if bs[0].Seq != 1 {
		t.Errorf("beta's first event: Seq %d, want 1", bs[0].Seq)
	}

	same(t, "CallEvents", events(callvault.EventFilter{TenantID: alpha}), as)
	same(t, "CallEvents after seq", events(callvault.EventFilter{TenantID: alpha, AfterSeq: 2}), as[2:])
	same(t, "CallEvents after seq, limit", events(callvault.EventFilter{TenantID: alpha, AfterSeq: 2, Limit: 2}), as[2:4])
	same(t, "CallEvents snapshot", events(callvault.EventFilter{TenantID: alpha, MaxSeq: 3}), as[:3])
	same(t, "CallEvents time range", events(callvault.EventFilter{TenantID: alpha, From: at(11), To: at(14)}),
		[]*callvault.CallEvent{as[1], as[2], as[3]})
	same(t, "CallEvents beta", events(callvault.EventFilter{TenantID: beta}), bs)
	_, err := s.CallEvents(ctx, callvault.EventFilter{})
	wantCode(t, err, callvault.EInvalid, "CallEvents without a tenant")

	of := func(r callvault.Reader, tenant, call string) []*callvault.CallEvent {
		t.Helper()
		evs, err := r.CallEventsOf(ctx, tenant, call)
		wantOK(t, err, "CallEventsOf")
		return evs
	}
	same(t, "CallEventsOf ses_1", of(s, alpha, "ses_1"), []*callvault.CallEvent{as[0], as[2], as[3], as[5]})
	same(t, "CallEventsOf ses_2", of(s, alpha, "ses_2"), []*callvault.CallEvent{as[1], as[4]})
	same(t, "CallEventsOf ses_1 of beta", of(s, beta, "ses_1"), bs)
	if evs := of(s, beta, "ses_2"); len(evs) != 0 {
		t.Errorf("CallEventsOf alpha's call as beta: %d events", len(evs))
	}
	_ = in(t, s, func(tx callvault.Tx) error {
		same(t, "tx.CallEventsOf", of(tx, alpha, "ses_2"), []*callvault.CallEvent{as[1], as[4]})
		return nil
	})

	// Bad batches change nothing.
	for name, batch := range map[string][]*callvault.CallEvent{
		"nil event":      {newCallEvent(alpha, "evt_10", "c", callvault.EventRinging, 1), nil},
		"no tenant":      {newCallEvent(alpha, "evt_10", "c", callvault.EventRinging, 1), newCallEvent("", "evt_11", "c", callvault.EventRinging, 1)},
		"no id":          {newCallEvent(alpha, "evt_10", "c", callvault.EventRinging, 1), newCallEvent(alpha, "", "c", callvault.EventRinging, 1)},
		"no call id":     {newCallEvent(alpha, "evt_10", "c", callvault.EventRinging, 1), newCallEvent(alpha, "evt_11", "", callvault.EventRinging, 1)},
		"unknown tenant": {newCallEvent(alpha, "evt_10", "c", callvault.EventRinging, 1), newCallEvent(gamma, "evt_11", "c", callvault.EventRinging, 1)},
	} {
		code := callvault.EInvalid
		if name == "unknown tenant" {
			code = callvault.ENotFound
		}
		wantCode(t, in(t, s, func(tx callvault.Tx) error { _, err := tx.PutCallEvents(batch); return err }), code, "PutCallEvents with "+name)
		if batch[0].Seq != 0 {
			t.Errorf("PutCallEvents with %s changed an event", name)
		}
	}
	next := newCallEvent(alpha, "evt_7", "ses_3", callvault.EventRinging, 20)
	put(next)
	if next.Seq != 7 {
		t.Errorf("Seq after failed batches: %d, want 7", next.Seq)
	}
}

func testDeleteTenantCallData(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	seed := func(tenant string) {
		putCalls(t, s, newCall(tenant, 1, at(1)), newCall(tenant, 2, at(2)))
		MustUpdate(t, s, func(tx callvault.Tx) error {
			if err := tx.CreateRecording(newRecording(tenant, "rec_1", callID(1))); err != nil {
				return err
			}
			if err := tx.PutActiveCall(newActiveCall(tenant, "ses_1", 1)); err != nil {
				return err
			}
			_, err := tx.PutCallEvents([]*callvault.CallEvent{newCallEvent(tenant, "evt_1", "ses_1", callvault.EventRinging, 1)})
			return err
		})
	}
	seed(alpha)
	seed(beta)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		ten, err := tx.Tenant(ctx, alpha)
		if err != nil {
			return err
		}
		ten.LegalHold = true // a legal hold does not stop the tenant's deletion
		return tx.UpdateTenant(ten)
	})
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.DeleteTenant(alpha) })

	counts := func(tenant string) map[string]int {
		t.Helper()
		n := map[string]int{}
		cs, err := s.Calls(ctx, callvault.CallFilter{TenantID: tenant})
		wantOK(t, err, "Calls")
		n["Calls"] = len(cs)
		ac, err := s.ActiveCalls(ctx, tenant)
		wantOK(t, err, "ActiveCalls")
		n["ActiveCalls"] = len(ac)
		evs, err := s.CallEvents(ctx, callvault.EventFilter{TenantID: tenant})
		wantOK(t, err, "CallEvents")
		n["CallEvents"] = len(evs)
		evs, err = s.CallEventsOf(ctx, tenant, "ses_1")
		wantOK(t, err, "CallEventsOf")
		n["CallEventsOf"] = len(evs)
		if _, err := s.Recording(ctx, tenant, "rec_1"); err == nil {
			n["Recording"] = 1
		}
		if _, err := s.Call(ctx, tenant, callID(1)); err == nil {
			n["Call"] = 1
		}
		if _, err := s.ActiveCall(ctx, tenant, "ses_1"); err == nil {
			n["ActiveCall"] = 1
		}
		if used, _ := s.RecordingBlobInUse(ctx, tenant, newRecording(tenant, "rec_1", "").SHA256); used {
			n["RecordingBlobInUse"] = 1
		}
		return n
	}
	for what, n := range counts(alpha) {
		if n != 0 {
			t.Errorf("%s of a deleted tenant: %d, want none", what, n)
		}
	}
	want := map[string]int{"Calls": 2, "ActiveCalls": 1, "CallEvents": 1, "CallEventsOf": 1, "Recording": 1, "Call": 1,
		"ActiveCall": 1, "RecordingBlobInUse": 1}
	for what, n := range counts(beta) {
		if n != want[what] {
			t.Errorf("beta's %s after alpha's deletion: %d, want %d", what, n, want[what])
		}
	}

	// A tenant created again with the same id starts without call data, and
	// its sequences go on where the old ones stopped.
	seedTenants(t, s, alpha)
	r := newCall(alpha, 1, at(1))
	putCalls(t, s, r)
	if r.IngestSeq <= 2 {
		t.Errorf("IngestSeq of the re-created tenant's first record: %d, want > 2", r.IngestSeq)
	}
	e := newCallEvent(alpha, "evt_1", "ses_1", callvault.EventRinging, 1)
	MustUpdate(t, s, func(tx callvault.Tx) error { _, err := tx.PutCallEvents([]*callvault.CallEvent{e}); return err })
	if e.Seq <= 1 {
		t.Errorf("Seq of the re-created tenant's first event: %d, want > 1", e.Seq)
	}
}

// testCallIsolation runs every call-data write of one tenant against the
// other tenant's keys and checks that nothing of the first changed.
func testCallIsolation(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	a := newCall(alpha, 1, at(1))
	putCalls(t, s, a)
	rec := newRecording(alpha, "rec_1", a.ID)
	live := newActiveCall(alpha, "ses_1", 1)
	ev := newCallEvent(alpha, "evt_1", "ses_1", callvault.EventRinging, 1)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.CreateRecording(rec); err != nil {
			return err
		}
		if err := tx.PutActiveCall(live); err != nil {
			return err
		}
		_, err := tx.PutCallEvents([]*callvault.CallEvent{ev})
		return err
	})

	// Beta writes with alpha's keys: misses, or rows of its own.
	MustUpdate(t, s, func(tx callvault.Tx) error {
		wantCode(t, tx.SetCallLegalHold(beta, a.ID, true), callvault.ENotFound, "SetCallLegalHold as beta")
		recs, err := tx.DeleteCalls(beta, []string{a.ID})
		wantOK(t, err, "DeleteCalls as beta")
		if len(recs) != 0 {
			t.Errorf("DeleteCalls as beta returned alpha's recordings")
		}
		wantCode(t, tx.UpdateRecording(newRecording(beta, rec.ID, a.ID)), callvault.ENotFound, "UpdateRecording as beta")
		wantCode(t, tx.DeleteActiveCall(beta, live.CallID), callvault.ENotFound, "DeleteActiveCall as beta")
		bc := newCall(beta, 1, at(5))
		st, err := tx.PutCalls([]*callvault.CallRecord{bc})
		wantOK(t, err, "PutCalls as beta with alpha's id")
		if !slices.Equal(st, []bool{true}) || bc.IngestSeq != 1 {
			t.Errorf("PutCalls as beta with alpha's id: stored %v, seq %d", st, bc.IngestSeq)
		}
		be := newCallEvent(beta, ev.ID, ev.CallID, callvault.EventAnswered, 2)
		st, err = tx.PutCallEvents([]*callvault.CallEvent{be})
		wantOK(t, err, "PutCallEvents as beta with alpha's id")
		if !slices.Equal(st, []bool{true}) || be.Seq != 1 {
			t.Errorf("PutCallEvents as beta with alpha's id: stored %v, seq %d", st, be.Seq)
		}
		wantOK(t, tx.CreateRecording(newRecording(beta, rec.ID, a.ID)), "CreateRecording as beta with alpha's id")
		wantOK(t, tx.PutActiveCall(newActiveCall(beta, live.CallID, 9)), "PutActiveCall as beta with alpha's id")
		return nil
	})

	got, err := s.Call(ctx, alpha, a.ID)
	wantOK(t, err, "alpha's call")
	same(t, "alpha's call", got, a)
	gotRec, err := s.Recording(ctx, alpha, rec.ID)
	wantOK(t, err, "alpha's recording")
	same(t, "alpha's recording", gotRec, rec)
	gotLive, err := s.ActiveCall(ctx, alpha, live.CallID)
	wantOK(t, err, "alpha's live call")
	same(t, "alpha's live call", gotLive, live)
	evs, err := s.CallEvents(ctx, callvault.EventFilter{TenantID: alpha})
	wantOK(t, err, "alpha's events")
	same(t, "alpha's events", evs, []*callvault.CallEvent{ev})
	if head, _ := s.CallIngestHead(ctx, alpha); head != 1 {
		t.Errorf("alpha's CallIngestHead after beta's writes: %d, want 1", head)
	}
	got, err = s.Call(ctx, beta, a.ID)
	wantOK(t, err, "beta's call")
	if got.TenantID != beta || !got.Start.Equal(at(5).Truncate(time.Microsecond)) {
		t.Errorf("beta's call: %+v", got)
	}
}

// testAttachRecording links a recording to a stored call record: once, only
// in its own tenant, visible to the has-recording filter.
func testAttachRecording(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := newCall(alpha, 1, start), newCall(beta, 1, start)
	a.RecordingIDs, b.RecordingIDs = nil, nil
	putCalls(t, s, a, b)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if err := tx.AttachRecording(alpha, a.ID, "rec_9"); err != nil {
			return err
		}
		return tx.AttachRecording(alpha, a.ID, "rec_9") // idempotent
	})
	got, err := s.Call(ctx, alpha, a.ID)
	wantOK(t, err, "Call after attach")
	if len(got.RecordingIDs) != 1 || got.RecordingIDs[0] != "rec_9" || got.Legs == nil || got.From != a.From {
		t.Fatalf("after attach: %+v", got)
	}
	with := calls(t, s, callvault.CallFilter{TenantID: alpha, HasRecording: boolPtr(true), Limit: 10})
	if len(with) != 1 || with[0].ID != a.ID {
		t.Fatalf("has-recording filter after attach: %v", ids(with))
	}
	if other, _ := s.Call(ctx, beta, b.ID); len(other.RecordingIDs) != 0 {
		t.Fatalf("beta's call changed: %+v", other)
	}
	err = s.Update(ctx, func(tx callvault.Tx) error { return tx.AttachRecording(beta, "cal_404", "rec_9") })
	wantCode(t, err, callvault.ENotFound, "AttachRecording to a missing call")
}
