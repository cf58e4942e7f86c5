package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Call records: ingest, reads, filters, keyset pages, snapshots,
// aggregates, retention and deletion.

func boolPtr(b bool) *bool { return &b }

func testCalls(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	_, err := s.Call(ctx, alpha, callID(1))
	wantCode(t, err, callvault.ENotFound, "Call before PutCalls")
	head, err := s.CallIngestHead(ctx, alpha)
	wantOK(t, err, "CallIngestHead")
	if head != 0 {
		t.Errorf("CallIngestHead of a tenant without calls: %d, want 0", head)
	}

	// Every field round-trips, times to the microsecond in UTC; a record
	// without answer time, legs or recordings too.
	a1, a2, a3 := newCall(alpha, 1, at(30)), newCall(alpha, 2, at(31)), newCall(alpha, 3, at(29))
	a3.Answer, a3.End, a3.TalkMs, a3.Legs, a3.RecordingIDs = time.Time{}, time.Time{}, 0, nil, nil
	a3.From, a3.Action, a3.Transport = callvault.Party{}, "", ""
	a2.LegalHold = true
	b1 := newCall(beta, 1, at(40)) // same id as a1, different contents
	before := time.Now().UTC().Truncate(time.Microsecond)
	stored := putCalls(t, s, a1, a2, b1, a3)
	after := time.Now().UTC()
	if !slices.Equal(stored, []bool{true, true, true, true}) {
		t.Errorf("PutCalls stored %v, want all", stored)
	}
	for i, r := range []*callvault.CallRecord{a1, a2, a3} {
		if r.IngestSeq != int64(i+1) {
			t.Errorf("%s: IngestSeq %d, want %d (per tenant, in order)", r.ID, r.IngestSeq, i+1)
		}
		if r.IngestedAt.Before(before) || r.IngestedAt.After(after) || r.IngestedAt != r.IngestedAt.Truncate(time.Microsecond) {
			t.Errorf("%s: IngestedAt %v, want now (%v..%v) to the microsecond", r.ID, r.IngestedAt, before, after)
		}
	}
	if b1.IngestSeq != 1 {
		t.Errorf("beta's first record: IngestSeq %d, want 1", b1.IngestSeq)
	}
	check := func(r callvault.Reader, via string) {
		t.Helper()
		for _, want := range []*callvault.CallRecord{a1, a2, a3, b1} {
			got, err := r.Call(ctx, want.TenantID, want.ID)
			wantOK(t, err, via+": Call "+want.TenantID+"/"+want.ID)
			same(t, via+": Call "+want.TenantID+"/"+want.ID, got, want)
		}
		_, err := r.Call(ctx, beta, a2.ID)
		wantCode(t, err, callvault.ENotFound, via+": alpha's call as beta")
		_, err = r.Call(ctx, alpha, "cal_missing")
		wantCode(t, err, callvault.ENotFound, via+": missing call")
		sameCalls(t, via+": Calls alpha", calls(t, r, callvault.CallFilter{TenantID: alpha}), []*callvault.CallRecord{a2, a1, a3})
		sameCalls(t, via+": Calls beta", calls(t, r, callvault.CallFilter{TenantID: beta}), []*callvault.CallRecord{b1})
		for tenant, want := range map[string]int64{alpha: 3, beta: 1, gamma: 0} {
			head, err := r.CallIngestHead(ctx, tenant)
			wantOK(t, err, via+": CallIngestHead")
			if head != want {
				t.Errorf("%s: CallIngestHead(%s) = %d, want %d", via, tenant, head, want)
			}
		}
	}
	check(s, "store")
	_ = in(t, s, func(tx callvault.Tx) error { check(tx, "tx"); return nil })

	_, err = s.Calls(ctx, callvault.CallFilter{})
	wantCode(t, err, callvault.EInvalid, "Calls without a tenant")

	// Reads in a transaction see its own writes; others see them after the
	// commit.
	a4 := newCall(alpha, 4, at(50))
	MustUpdate(t, s, func(tx callvault.Tx) error {
		if _, err := tx.PutCalls([]*callvault.CallRecord{a4}); err != nil {
			return err
		}
		got, err := tx.Call(ctx, alpha, a4.ID)
		wantOK(t, err, "tx.Call of its own write")
		same(t, "tx.Call of its own write", got, a4)
		if head, _ := tx.CallIngestHead(ctx, alpha); head != 4 {
			t.Errorf("tx.CallIngestHead: %d, want 4", head)
		}
		_, err = s.Call(ctx, alpha, a4.ID)
		wantCode(t, err, callvault.ENotFound, "store.Call of an uncommitted write")
		return nil
	})
	got, err := s.Call(ctx, alpha, a4.ID)
	wantOK(t, err, "Call after commit")
	same(t, "Call after commit", got, a4)
}

func testPutCallsIdempotent(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	first := []*callvault.CallRecord{newCall(alpha, 1, at(1)), newCall(alpha, 2, at(2)), newCall(alpha, 3, at(3))}
	putCalls(t, s, first...)
	want := make([]*callvault.CallRecord, len(first))
	for i, r := range first {
		x := *r
		want[i] = &x
	}

	// Re-sending the batch, with changed contents, a new record, a
	// duplicate inside the batch and the same ids in another tenant.
	resent := []*callvault.CallRecord{newCall(alpha, 1, at(1)), newCall(alpha, 2, at(9)), newCall(alpha, 4, at(4)),
		newCall(alpha, 4, at(5)), newCall(alpha, 3, at(3)), newCall(beta, 1, at(1)), newCall(alpha, 5, at(6))}
	resent[0].Result = callvault.ResultFailed
	stored := putCalls(t, s, resent...)
	if w := []bool{false, false, true, false, false, true, true}; !slices.Equal(stored, w) {
		t.Errorf("PutCalls of a re-sent batch: stored %v, want %v", stored, w)
	}
	for i, r := range resent {
		if !stored[i] && (r.IngestSeq != 0 || !r.IngestedAt.IsZero()) {
			t.Errorf("skipped record %d was changed: IngestSeq %d, IngestedAt %v", i, r.IngestSeq, r.IngestedAt)
		}
	}
	if resent[2].IngestSeq != 4 || resent[6].IngestSeq != 5 || resent[5].IngestSeq != 1 {
		t.Errorf("IngestSeq of new records: %d, %d (alpha), %d (beta), want 4, 5, 1",
			resent[2].IngestSeq, resent[6].IngestSeq, resent[5].IngestSeq)
	}
	all := calls(t, s, callvault.CallFilter{TenantID: alpha})
	sameCalls(t, "Calls after re-send", all, []*callvault.CallRecord{resent[6], resent[2], want[2], want[1], want[0]})
	if head, _ := s.CallIngestHead(ctx, alpha); head != 5 {
		t.Errorf("CallIngestHead after re-send: %d, want 5", head)
	}
	if stored := putCalls(t, s, resent...); slices.Contains(stored, true) {
		t.Errorf("PutCalls of the same batch again stored %v", stored)
	}
	if stored := putCalls(t, s); len(stored) != 0 {
		t.Errorf("PutCalls of nothing: %v", stored)
	}

	// Bad batches change nothing, not even the valid records in them.
	for name, batch := range map[string][]*callvault.CallRecord{
		"nil record":     {newCall(alpha, 10, at(1)), nil},
		"no tenant":      {newCall(alpha, 10, at(1)), newCall("", 11, at(1))},
		"no id":          {newCall(alpha, 10, at(1)), {TenantID: alpha, Start: at(1)}},
		"no start":       {newCall(alpha, 10, at(1)), newCall(alpha, 11, time.Time{})},
		"unknown tenant": {newCall(alpha, 10, at(1)), newCall(gamma, 11, at(1))},
	} {
		code := callvault.EInvalid
		if name == "unknown tenant" {
			code = callvault.ENotFound
		}
		var st []bool
		err := update(s, func(tx callvault.Tx) error {
			var err error
			st, err = tx.PutCalls(batch)
			wantCode(t, err, code, "PutCalls with "+name)
			// The transaction goes on: later writes of it are committed.
			return tx.CreateSite(newSite(alpha, "sit_"+name))
		})
		wantOK(t, err, "Update after PutCalls with "+name)
		if st != nil {
			t.Errorf("PutCalls with %s: stored %v, want nil", name, st)
		}
		if batch[0].IngestSeq != 0 {
			t.Errorf("PutCalls with %s changed a record: IngestSeq %d", name, batch[0].IngestSeq)
		}
		_, err = s.Call(ctx, alpha, callID(10))
		wantCode(t, err, callvault.ENotFound, "valid record of a batch with "+name)
	}
	if head, _ := s.CallIngestHead(ctx, alpha); head != 5 {
		t.Errorf("CallIngestHead after bad batches: %d, want 5", head)
	}

	// A rolled-back batch leaves no record and no gap.
	_ = in(t, s, func(tx callvault.Tx) error {
		_, err := tx.PutCalls([]*callvault.CallRecord{newCall(alpha, 20, at(1))})
		return err
	})
	next := newCall(alpha, 21, at(1))
	putCalls(t, s, next)
	if next.IngestSeq != 6 {
		t.Errorf("IngestSeq after a rolled-back batch: %d, want 6", next.IngestSeq)
	}
}

// callSet stores a varied set of records in alpha and beta (beta's with
// the same ids and times) and returns alpha's: many share a start time, so
// that ties are ordered by id, and one starts before 1970.
func callSet(t *testing.T, s callvault.Store) []*callvault.CallRecord {
	seedTenants(t, s, alpha, beta)
	var as, bs []*callvault.CallRecord
	for n := range 60 {
		start := at(n / 3 * 17) // three records per start
		if n == 59 {
			start = time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC)
		}
		as = append(as, newCall(alpha, n, start))
		bs = append(bs, newCall(beta, n, start))
	}
	// Arrival order differs from time order.
	slices.Reverse(as[20:40])
	putCalls(t, s, as[:30]...)
	putCalls(t, s, bs...)
	putCalls(t, s, as[30:]...)
	return as
}

func testCallFilters(t *testing.T, s callvault.Store) {
	as := callSet(t, s)
	r9 := as[9]
	filters := map[string]callvault.CallFilter{
		"all":                 {},
		"from":                {From: at(170)},
		"from exact":          {From: r9.Start},
		"to":                  {To: at(170)},
		"to exact":            {To: r9.Start},
		"from to":             {From: at(100), To: at(200)},
		"from to, sub-µs":     {From: r9.Start.Add(-time.Nanosecond), To: r9.Start.Add(time.Microsecond - time.Nanosecond)},
		"directions":          {Directions: []string{callvault.DirectionInbound, callvault.DirectionInternal}},
		"types":               {Types: []string{callvault.CallFax}},
		"results":             {Results: []string{callvault.ResultMissed, callvault.ResultVoicemail}},
		"sites":               {SiteIDs: []string{"sit_1"}},
		"sites, several":      {SiteIDs: []string{"sit_9", "sit_1"}},
		"extension":           {Extension: "102"},
		"phone number from":   {PhoneNumber: "+14155550003"},
		"phone number to":     {PhoneNumber: "+12125550001"},
		"phone number none":   {PhoneNumber: "+19995550000"},
		"session":             {SessionID: "ses_7"},
		"telephony session":   {TelephonySessionID: "s-tel-33"},
		"with recording":      {HasRecording: boolPtr(true)},
		"without recording":   {HasRecording: boolPtr(false)},
		"snapshot":            {MaxIngestSeq: 30},
		"limit":               {Limit: 7},
		"limit over":          {Limit: 1000},
		"combined":            {From: at(50), To: at(300), Directions: []string{callvault.DirectionInbound}, SiteIDs: []string{"sit_0", "sit_1"}, HasRecording: boolPtr(true), Limit: 3},
		"combined, extension": {Extension: "101", Results: callvault.CallResults[:4], MaxIngestSeq: 45},
		"cursor":              {After: &callvault.CallCursor{Start: r9.Start, ID: r9.ID}},
		"cursor, no record":   {After: &callvault.CallCursor{Start: r9.Start.Add(time.Second), ID: "zzz"}},
		"cursor and to":       {After: &callvault.CallCursor{Start: at(300), ID: callID(0)}, To: at(100), Limit: 4},
		"cursor before to":    {After: &callvault.CallCursor{Start: at(100), ID: callID(0)}, To: at(300), Limit: 4},
		"cursor and filter":   {After: &callvault.CallCursor{Start: r9.Start, ID: r9.ID}, Directions: []string{callvault.DirectionOutbound}},
	}
	for name, f := range filters {
		f.TenantID = alpha
		want := expectCalls(f, as)
		if len(want) == 0 && name != "phone number none" {
			t.Errorf("%s: the fixture selects nothing; the test proves little", name)
		}
		if len(want) == len(as) && f.Limit == 0 && name != "all" && name != "from to, sub-µs" {
			t.Errorf("%s: the fixture selects everything; the test proves little", name)
		}
		sameCalls(t, "Calls "+name, calls(t, s, f), want)
		// Beta's identical records never show in alpha's listing, and the
		// same filter for beta gives beta's.
		f.TenantID = beta
		for _, r := range calls(t, s, f) {
			if r.TenantID != beta || r.From.Name != "Caller "+beta {
				t.Fatalf("Calls %s as beta returned %s/%s (%s)", name, r.TenantID, r.ID, r.From.Name)
			}
		}
	}
	// A gamma listing is empty, not an error.
	if got := calls(t, s, callvault.CallFilter{TenantID: gamma}); len(got) != 0 {
		t.Errorf("Calls of a tenant without calls: %d records", len(got))
	}
}

func testCallPaging(t *testing.T, s callvault.Store) {
	as := callSet(t, s)
	page := func(f callvault.CallFilter) (sizes []int, all []*callvault.CallRecord) {
		for range 100 {
			recs := calls(t, s, f)
			sizes = append(sizes, len(recs))
			all = append(all, recs...)
			if len(recs) < f.Limit {
				return sizes, all
			}
			last := recs[len(recs)-1]
			f.After = &callvault.CallCursor{Start: last.Start, ID: last.ID}
		}
		t.Fatalf("paging %+v does not end", f)
		return nil, nil
	}
	for _, f := range []callvault.CallFilter{
		{Limit: 7},
		{Limit: 3}, // page boundaries inside groups of equal start
		{Limit: 60},
		{Limit: 1},
		{Limit: 5, From: at(40), To: at(250)},
		{Limit: 4, Directions: []string{callvault.DirectionOutbound}, HasRecording: boolPtr(false)},
	} {
		f.TenantID = alpha
		sizes, all := page(f)
		want := expectCalls(callvault.CallFilter{TenantID: alpha, From: f.From, To: f.To, Directions: f.Directions,
			HasRecording: f.HasRecording}, as)
		sameCalls(t, "paged records", all, want)
		if n := len(want)/f.Limit + 1; len(sizes) != n {
			t.Errorf("paging %d records by %d: %d pages %v, want %d", len(want), f.Limit, len(sizes), sizes, n)
		}
	}
}

func testCallSnapshot(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha)
	var first []*callvault.CallRecord
	for n := range 12 {
		first = append(first, newCall(alpha, n, at(100+n)))
	}
	putCalls(t, s, first...)
	head, err := s.CallIngestHead(ctx, alpha)
	wantOK(t, err, "CallIngestHead")
	if head != 12 {
		t.Fatalf("CallIngestHead: %d, want 12", head)
	}
	f := callvault.CallFilter{TenantID: alpha, MaxIngestSeq: head, Limit: 5}
	page1 := calls(t, s, f)

	// Records arrive after the snapshot: newer, older and in between.
	putCalls(t, s, newCall(alpha, 20, at(200)), newCall(alpha, 21, at(50)), newCall(alpha, 22, at(105)))
	again := calls(t, s, f)
	sameCalls(t, "page 1 again at the snapshot", again, page1)
	var all []*callvault.CallRecord
	for {
		recs := calls(t, s, f)
		all = append(all, recs...)
		if len(recs) < f.Limit {
			break
		}
		f.After = &callvault.CallCursor{Start: recs[len(recs)-1].Start, ID: recs[len(recs)-1].ID}
	}
	want := slices.Clone(first)
	slices.SortFunc(want, newestFirst)
	sameCalls(t, "pages at the snapshot", all, want)
	if got := calls(t, s, callvault.CallFilter{TenantID: alpha}); len(got) != 15 {
		t.Errorf("Calls without a snapshot: %d records, want 15", len(got))
	}
	if head, _ := s.CallIngestHead(ctx, alpha); head != 15 {
		t.Errorf("CallIngestHead after more records: %d, want 15", head)
	}
}

func testCallAggregates(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	as := callSet(t, s)
	aggs := map[string]callvault.CallAggregate{
		"totals":                {},
		"hours":                 {HourBuckets: true},
		"sites":                 {GroupBy: "site"},
		"extensions":            {GroupBy: "extension"},
		"directions":            {GroupBy: "direction"},
		"hours and sites":       {HourBuckets: true, GroupBy: "site"},
		"hours, filtered":       {HourBuckets: true, Filter: callvault.CallFilter{From: at(60), To: at(600), Results: []string{callvault.ResultAccepted, callvault.ResultMissed}}},
		"ignores limit, cursor": {GroupBy: "direction", Filter: callvault.CallFilter{Limit: 2, To: at(250), After: &callvault.CallCursor{Start: at(100), ID: "x"}}},
		"snapshot":              {GroupBy: "extension", Filter: callvault.CallFilter{MaxIngestSeq: 10}},
		"nothing matches":       {HourBuckets: true, Filter: callvault.CallFilter{PhoneNumber: "+19995550000"}},
	}
	for name, a := range aggs {
		a.Filter.TenantID = alpha
		got, err := s.AggregateCalls(ctx, a)
		wantOK(t, err, "AggregateCalls "+name)
		same(t, "AggregateCalls "+name, got, expectBuckets(a, as))
	}

	// The reference model itself, checked by hand on a small tenant.
	seedTenants(t, s, gamma)
	h := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	mk := func(n int, start time.Time, dir, site string, answered bool, talkMs int64) *callvault.CallRecord {
		r := newCall(gamma, n, start)
		r.Direction, r.SiteID, r.Answer, r.TalkMs = dir, site, time.Time{}, talkMs
		if answered {
			r.Answer = start.Add(time.Second)
		}
		return r
	}
	putCalls(t, s,
		mk(1, h.Add(5*time.Minute), callvault.DirectionInbound, "sit_a", true, 1000),
		mk(2, h.Add(59*time.Minute+59*time.Second), callvault.DirectionInbound, "sit_b", false, 0),
		mk(3, h.Add(60*time.Minute), callvault.DirectionOutbound, "sit_a", false, 0),
		mk(4, h.Add(61*time.Minute), callvault.DirectionInbound, "sit_a", true, 2500),
		mk(5, h.Add(3*time.Hour), callvault.DirectionInternal, "sit_b", true, 700),
	)
	got, err := s.AggregateCalls(ctx, callvault.CallAggregate{Filter: callvault.CallFilter{TenantID: gamma}, HourBuckets: true})
	wantOK(t, err, "AggregateCalls by hour")
	same(t, "AggregateCalls by hour", got, []*callvault.CallBucket{
		{Bucket: h, Calls: 2, Answered: 1, Missed: 1, TalkMs: 1000},
		{Bucket: h.Add(time.Hour), Calls: 2, Answered: 1, Missed: 0, TalkMs: 2500},
		{Bucket: h.Add(3 * time.Hour), Calls: 1, Answered: 1, Missed: 0, TalkMs: 700},
	})
	got, err = s.AggregateCalls(ctx, callvault.CallAggregate{Filter: callvault.CallFilter{TenantID: gamma}, GroupBy: "site"})
	wantOK(t, err, "AggregateCalls by site")
	same(t, "AggregateCalls by site", got, []*callvault.CallBucket{
		{Key: "sit_a", Calls: 3, Answered: 2, Missed: 0, TalkMs: 3500},
		{Key: "sit_b", Calls: 2, Answered: 1, Missed: 1, TalkMs: 700},
	})
	got, err = s.AggregateCalls(ctx, callvault.CallAggregate{Filter: callvault.CallFilter{TenantID: gamma}})
	wantOK(t, err, "AggregateCalls totals")
	same(t, "AggregateCalls totals", got, []*callvault.CallBucket{{Calls: 5, Answered: 3, Missed: 1, TalkMs: 4200}})

	_, err = s.AggregateCalls(ctx, callvault.CallAggregate{Filter: callvault.CallFilter{TenantID: alpha}, GroupBy: "color"})
	wantCode(t, err, callvault.EInvalid, "AggregateCalls by an unknown key")
	_, err = s.AggregateCalls(ctx, callvault.CallAggregate{GroupBy: "site"})
	wantCode(t, err, callvault.EInvalid, "AggregateCalls without a tenant")
}

func testExpiredCalls(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	var as []*callvault.CallRecord
	for n := range 10 {
		as = append(as, newCall(alpha, n, at(100-n*10))) // cal_000 newest, cal_009 oldest
	}
	as[8].LegalHold = true
	putCalls(t, s, as...)
	putCalls(t, s, newCall(beta, 9, at(0)), newCall(beta, 20, at(-1000)))
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.SetCallLegalHold(alpha, as[5].ID, true) })

	expired := func(before time.Time, limit int) []*callvault.CallRecord {
		t.Helper()
		recs, err := s.ExpiredCalls(ctx, alpha, before, limit)
		wantOK(t, err, "ExpiredCalls")
		return recs
	}
	held := *as[5]
	held.LegalHold = true
	// Before at(45): cal_006..cal_009 started at 40, 30, 20, 10; cal_008 is held.
	sameCalls(t, "ExpiredCalls", expired(at(45), 0), []*callvault.CallRecord{as[9], as[7], as[6]})
	sameCalls(t, "ExpiredCalls with a limit", expired(at(45), 2), []*callvault.CallRecord{as[9], as[7]})
	// The cutoff is exclusive; cal_005 (at 50) is held.
	sameCalls(t, "ExpiredCalls at a start", expired(at(60), 0), []*callvault.CallRecord{as[9], as[7], as[6]})
	sameCalls(t, "ExpiredCalls past a start", expired(at(60).Add(time.Microsecond), 0), []*callvault.CallRecord{as[9], as[7], as[6], as[4]})
	got, err := s.Call(ctx, alpha, as[5].ID)
	wantOK(t, err, "Call under legal hold")
	same(t, "Call under legal hold", got, &held)

	// A tenant's legal hold stops every purge; lifting it restores them.
	setHold := func(hold bool) {
		MustUpdate(t, s, func(tx callvault.Tx) error {
			ten, err := tx.Tenant(ctx, alpha)
			if err != nil {
				return err
			}
			ten.LegalHold = hold
			return tx.UpdateTenant(ten)
		})
	}
	setHold(true)
	if ten, _ := s.Tenant(ctx, alpha); ten == nil || !ten.LegalHold {
		t.Errorf("Tenant after setting its legal hold: %+v", ten)
	}
	if got := expired(at(1000), 0); len(got) != 0 {
		t.Errorf("ExpiredCalls of a tenant under legal hold: %v", ids(got))
	}
	setHold(false)
	MustUpdate(t, s, func(tx callvault.Tx) error { return tx.SetCallLegalHold(alpha, as[5].ID, false) })
	sameCalls(t, "ExpiredCalls after lifting holds", expired(at(60), 0), []*callvault.CallRecord{as[9], as[7], as[6], as[5]})

	// Beta's legal hold and records do not touch alpha's, and the reverse.
	recs, err := s.ExpiredCalls(ctx, beta, at(1000), 0)
	wantOK(t, err, "ExpiredCalls beta")
	if !slices.Equal(ids(recs), []string{callID(20), callID(9)}) {
		t.Errorf("ExpiredCalls beta: %v", ids(recs))
	}
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.SetCallLegalHold(beta, as[0].ID, true) }),
		callvault.ENotFound, "SetCallLegalHold of alpha's call as beta")
	wantCode(t, in(t, s, func(tx callvault.Tx) error { return tx.SetCallLegalHold(alpha, "cal_missing", true) }),
		callvault.ENotFound, "SetCallLegalHold of a missing call")
	if recs, _ := s.ExpiredCalls(ctx, gamma, at(1000), 0); len(recs) != 0 {
		t.Errorf("ExpiredCalls of a missing tenant: %v", ids(recs))
	}
}

func testDeleteCalls(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	a1, a2, a3 := newCall(alpha, 1, at(1)), newCall(alpha, 2, at(2)), newCall(alpha, 3, at(3))
	b1, b2 := newCall(beta, 1, at(1)), newCall(beta, 2, at(2))
	putCalls(t, s, a1, a2, a3, b1, b2)
	r1, r1b, r2, r3 := newRecording(alpha, "rec_1", a1.ID), newRecording(alpha, "rec_1b", a1.ID),
		newRecording(alpha, "rec_2", a2.ID), newRecording(alpha, "rec_3", a3.ID)
	r1b.SHA256 = r3.SHA256 // the same content in two recordings
	rb := newRecording(beta, "rec_1", b1.ID)
	MustUpdate(t, s, func(tx callvault.Tx) error {
		for _, r := range []*callvault.Recording{r1b, r2, r1, r3, rb} {
			if err := tx.CreateRecording(r); err != nil {
				return err
			}
		}
		return nil
	})

	var deleted []*callvault.Recording
	MustUpdate(t, s, func(tx callvault.Tx) error {
		var err error
		deleted, err = tx.DeleteCalls(alpha, []string{a1.ID, a2.ID, "cal_missing"})
		return err
	})
	same(t, "DeleteCalls returns the recordings", deleted, []*callvault.Recording{r1, r1b, r2})
	for _, id := range []string{a1.ID, a2.ID} {
		_, err := s.Call(ctx, alpha, id)
		wantCode(t, err, callvault.ENotFound, "Call after DeleteCalls")
	}
	for _, id := range []string{r1.ID, r1b.ID, r2.ID} {
		_, err := s.Recording(ctx, alpha, id)
		wantCode(t, err, callvault.ENotFound, "Recording after DeleteCalls")
	}
	sameCalls(t, "Calls after DeleteCalls", calls(t, s, callvault.CallFilter{TenantID: alpha}), []*callvault.CallRecord{a3})
	got, err := s.Recording(ctx, alpha, r3.ID)
	wantOK(t, err, "the remaining call's recording")
	same(t, "the remaining call's recording", got, r3)
	inUse := func(tenant, sha string) bool {
		t.Helper()
		used, err := s.RecordingBlobInUse(ctx, tenant, sha)
		wantOK(t, err, "RecordingBlobInUse")
		return used
	}
	if inUse(alpha, r1.SHA256) || inUse(alpha, r2.SHA256) {
		t.Errorf("RecordingBlobInUse: a deleted recording's content is still in use")
	}
	if !inUse(alpha, r1b.SHA256) {
		t.Errorf("RecordingBlobInUse: content shared with a remaining recording is not in use")
	}
	// Beta's calls and recording with the same ids are untouched.
	sameCalls(t, "beta's calls", calls(t, s, callvault.CallFilter{TenantID: beta}), []*callvault.CallRecord{b2, b1})
	got, err = s.Recording(ctx, beta, rb.ID)
	wantOK(t, err, "beta's recording")
	same(t, "beta's recording", got, rb)

	// Deleting another tenant's calls deletes nothing.
	MustUpdate(t, s, func(tx callvault.Tx) error {
		recs, err := tx.DeleteCalls(beta, []string{a3.ID})
		if len(recs) != 0 {
			t.Errorf("DeleteCalls as beta returned %d recordings", len(recs))
		}
		return err
	})
	_, err = s.Call(ctx, alpha, a3.ID)
	wantOK(t, err, "alpha's call after beta deleted its id")
	if !inUse(alpha, r3.SHA256) {
		t.Errorf("alpha's recording after beta deleted the call id")
	}

	// Many ids at once.
	var many []*callvault.CallRecord
	var manyIDs []string
	for n := 100; n < 1300; n++ {
		many = append(many, newCall(alpha, n, at(n)))
		manyIDs = append(manyIDs, callID(n))
	}
	putCalls(t, s, many...)
	MustUpdate(t, s, func(tx callvault.Tx) error { _, err := tx.DeleteCalls(alpha, manyIDs); return err })
	sameCalls(t, "Calls after deleting 1200", calls(t, s, callvault.CallFilter{TenantID: alpha}), []*callvault.CallRecord{a3})
}

// testPutCallsLargeBatch covers batches of the size bulk ingest sends
// (thousands of records, which stores may write in chunks, or prepare
// ahead on another goroutine): two tenants interleaved, records stored
// before, repeats within the batch near chunk boundaries, every record
// read back; and a batch that fails late (an unknown tenant near its end)
// stores nothing.
func testPutCallsLargeBatch(t *testing.T, s callvault.Store) {
	ctx := context.Background()
	seedTenants(t, s, alpha, beta)
	const n = 2600
	before := []*callvault.CallRecord{newCall(alpha, 7, at(7)), newCall(alpha, 1500, at(1500)), newCall(beta, 2597, at(2597))}
	putCalls(t, s, before...)

	batch := make([]*callvault.CallRecord, 0, n+10)
	want := map[string][]*callvault.CallRecord{} // stored records per tenant, in order
	var prev *callvault.CallRecord
	for i := range n {
		tenant := alpha
		if i%3 == 2 {
			tenant = beta
		}
		r := newCall(tenant, i, at(i))
		batch = append(batch, r)
		if !((tenant == alpha && (i == 7 || i == 1500)) || (tenant == beta && i == 2597)) {
			want[tenant] = append(want[tenant], r)
		}
		// A repeat of an earlier record (same tenant and id, other
		// contents) right after a chunk-like boundary: skipped.
		if i > 0 && i%512 == 0 {
			dup := newCall(prev.TenantID, i-1, at(i+100000))
			dup.Result = callvault.ResultFailed
			batch = append(batch, dup)
		}
		prev = r
	}
	stored := putCalls(t, s, batch...)
	got := 0
	for i, r := range batch {
		if stored[i] {
			got++
		}
		if !stored[i] && r.IngestSeq != 0 {
			t.Errorf("skipped record %d (%s/%s) was given IngestSeq %d", i, r.TenantID, r.ID, r.IngestSeq)
		}
	}
	if w := len(want[alpha]) + len(want[beta]); got != w {
		t.Fatalf("PutCalls of %d records stored %d, want %d", len(batch), got, w)
	}
	for tenant, recs := range want {
		head := int64(1)
		if tenant == alpha {
			head = 2
		}
		for k, r := range recs {
			if r.IngestSeq != head+int64(k)+1 {
				t.Fatalf("%s record %d (%s): IngestSeq %d, want %d", tenant, k, r.ID, r.IngestSeq, head+int64(k)+1)
			}
		}
		if h, _ := s.CallIngestHead(ctx, tenant); h != head+int64(len(recs)) {
			t.Errorf("CallIngestHead(%s) = %d, want %d", tenant, h, head+int64(len(recs)))
		}
		all := calls(t, s, callvault.CallFilter{TenantID: tenant, Limit: 10000})
		byID := map[string]*callvault.CallRecord{}
		for _, r := range all {
			byID[r.ID] = r
		}
		for _, r := range recs {
			g := byID[r.ID]
			if g == nil {
				t.Fatalf("%s record %s not stored", tenant, r.ID)
			}
			same(t, "read back "+tenant+"/"+r.ID, g, r)
		}
	}

	// A batch that fails near its end stores nothing and moves no head.
	bad := make([]*callvault.CallRecord, 0, n)
	for i := range n {
		bad = append(bad, newCall(alpha, 10000+i, at(i)))
	}
	bad[n-3] = newCall(gamma, 10000+n-3, at(1))
	heads := map[string]int64{}
	for _, tenant := range []string{alpha, beta} {
		heads[tenant], _ = s.CallIngestHead(ctx, tenant)
	}
	err := update(s, func(tx callvault.Tx) error {
		_, err := tx.PutCalls(bad)
		return err
	})
	wantCode(t, err, callvault.ENotFound, "PutCalls of a large batch naming an unknown tenant near its end")
	for _, tenant := range []string{alpha, beta} {
		if h, _ := s.CallIngestHead(ctx, tenant); h != heads[tenant] {
			t.Errorf("CallIngestHead(%s) after a failed batch: %d, want %d", tenant, h, heads[tenant])
		}
	}
	_, err = s.Call(ctx, alpha, callID(10000))
	wantCode(t, err, callvault.ENotFound, "first record of the failed batch")
	if bad[0].IngestSeq != 0 {
		t.Errorf("failed batch changed its records: IngestSeq %d", bad[0].IngestSeq)
	}
}
