package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Call data fixtures and a reference model of the call queries: the
// expected answer of each query is computed from the records in Go, and
// the store must give exactly that.

// callID is the id of test record n.
func callID(n int) string { return fmt.Sprintf("cal_%03d", n) }

// newCall returns call record n of tenant, starting at start, with every
// field set; n varies the direction, type, result, site, extension,
// numbers, session ids and recordings, so that each filter selects a
// different subset. Names carry the tenant, so that a record returned for
// the wrong tenant shows.
func newCall(tenant string, n int, start time.Time) *callvault.CallRecord {
	dirs := []string{callvault.DirectionInbound, callvault.DirectionOutbound, callvault.DirectionInternal}
	r := &callvault.CallRecord{
		TenantID:           tenant,
		ID:                 callID(n),
		SiteID:             fmt.Sprintf("sit_%d", n%2),
		SessionID:          fmt.Sprintf("ses_%d", n/2),
		TelephonySessionID: fmt.Sprintf("s-tel-%d", n),
		Start:              start,
		Direction:          dirs[n%3],
		Type:               callvault.CallVoice,
		Action:             "Phone Call",
		Result:             callvault.CallResults[n%len(callvault.CallResults)],
		Transport:          callvault.TransportPSTN,
		From:               callvault.Party{PhoneNumber: fmt.Sprintf("+1415555%04d", n%5), Name: "Caller " + tenant},
		To: callvault.Party{PhoneNumber: fmt.Sprintf("+1212555%04d", n%4), Name: "Callee " + tenant,
			ExtensionID: "usr_" + tenant, ExtensionNumber: fmt.Sprintf("10%d", n%4)},
		Extension: fmt.Sprintf("10%d", n%4),
	}
	if n%7 == 3 {
		r.Type, r.Action = callvault.CallFax, "Incoming Fax"
	}
	ring := time.Duration(5+n%11) * time.Second
	talk := time.Duration(30+7*n) * time.Second
	if r.Result == callvault.ResultAccepted {
		r.Answer = start.Add(ring)
		r.End = r.Answer.Add(talk)
		r.TalkMs = talk.Milliseconds()
	} else {
		r.End = start.Add(ring)
	}
	r.DurationMs = r.End.Sub(start).Milliseconds()
	r.Legs = []callvault.Leg{
		{LegType: "PstnToSip", Master: true, Direction: r.Direction, Action: r.Action, Result: r.Result,
			Transport: callvault.TransportPSTN, From: r.From, To: r.To, Start: start, DurationMs: r.DurationMs},
		{LegType: "FindMe", Direction: callvault.DirectionOutbound, Action: "FindMe", Result: callvault.ResultNoAnswer,
			Transport: callvault.TransportVoIP, From: r.To, To: callvault.Party{PhoneNumber: "+4930555" + fmt.Sprint(n), Name: "Mobile " + tenant},
			Start: start.Add(time.Second + 250*time.Microsecond), DurationMs: 4000},
	}
	if n%3 == 0 {
		r.RecordingIDs = []string{fmt.Sprintf("rec_%03d", n), fmt.Sprintf("rec_%03db", n)}
	}
	return r
}

// putCalls stores records in one transaction and returns the stored flags.
func putCalls(tb testing.TB, s callvault.Store, recs ...*callvault.CallRecord) []bool {
	tb.Helper()
	var stored []bool
	MustUpdate(tb, s, func(tx callvault.Tx) error {
		var err error
		stored, err = tx.PutCalls(recs)
		return err
	})
	return stored
}

// calls runs r.Calls, failing the test on error.
func calls(tb testing.TB, r callvault.Reader, f callvault.CallFilter) []*callvault.CallRecord {
	tb.Helper()
	recs, err := r.Calls(context.Background(), f)
	if err != nil {
		tb.Fatalf("Calls(%+v): %v", f, err)
	}
	return recs
}

// us is t in whole microseconds, as stores keep it.
func us(t time.Time) int64 { return t.UnixMicro() }

// matchCall is the reference of CallFilter: whether f selects r (its
// cursor, snapshot and limit aside).
func matchCall(f callvault.CallFilter, r *callvault.CallRecord) bool {
	in := func(vals []string, v string) bool { return len(vals) == 0 || slices.Contains(vals, v) }
	switch {
	case r.TenantID != f.TenantID,
		!f.From.IsZero() && us(r.Start) < us(f.From),
		!f.To.IsZero() && us(r.Start) >= us(f.To),
		!in(f.Directions, r.Direction), !in(f.Types, r.Type), !in(f.Results, r.Result), !in(f.SiteIDs, r.SiteID),
		f.Extension != "" && r.Extension != f.Extension,
		f.PhoneNumber != "" && r.From.PhoneNumber != f.PhoneNumber && r.To.PhoneNumber != f.PhoneNumber,
		f.SessionID != "" && r.SessionID != f.SessionID,
		f.TelephonySessionID != "" && r.TelephonySessionID != f.TelephonySessionID,
		f.HasRecording != nil && *f.HasRecording != (len(r.RecordingIDs) > 0),
		f.MaxIngestSeq > 0 && r.IngestSeq > f.MaxIngestSeq:
		return false
	}
	return true
}

// newestFirst orders records as Calls does: Start, then ID, descending.
func newestFirst(a, b *callvault.CallRecord) int {
	if c := -cmpInt(us(a.Start), us(b.Start)); c != 0 {
		return c
	}
	return -strings.Compare(a.ID, b.ID)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// expectCalls is the reference answer of Calls(f) over all.
func expectCalls(f callvault.CallFilter, all []*callvault.CallRecord) []*callvault.CallRecord {
	var out []*callvault.CallRecord
	for _, r := range all {
		if matchCall(f, r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, newestFirst)
	if f.After != nil {
		pos := &callvault.CallRecord{Start: f.After.Start, ID: f.After.ID}
		out = slices.DeleteFunc(out, func(r *callvault.CallRecord) bool { return newestFirst(r, pos) <= 0 })
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

// expectBuckets is the reference answer of AggregateCalls(a) over all.
func expectBuckets(a callvault.CallAggregate, all []*callvault.CallRecord) []*callvault.CallBucket {
	f := a.Filter
	f.After, f.Limit = nil, 0
	type key struct {
		hour int64
		key  string
	}
	groups := map[key]*callvault.CallBucket{}
	for _, r := range expectCalls(f, all) {
		var k key
		if a.HourBuckets {
			h := r.Start.UTC().Truncate(time.Hour)
			k.hour = h.Unix()
		}
		switch a.GroupBy {
		case "site":
			k.key = r.SiteID
		case "extension":
			k.key = r.Extension
		case "direction":
			k.key = r.Direction
		}
		b := groups[k]
		if b == nil {
			b = &callvault.CallBucket{Key: k.key}
			if a.HourBuckets {
				b.Bucket = time.Unix(k.hour, 0).UTC()
			}
			groups[k] = b
		}
		b.Calls++
		if !r.Answer.IsZero() {
			b.Answered++
		} else if r.Direction == callvault.DirectionInbound {
			b.Missed++
		}
		b.TalkMs += r.TalkMs
	}
	out := make([]*callvault.CallBucket, 0, len(groups))
	for _, b := range groups {
		out = append(out, b)
	}
	slices.SortFunc(out, func(x, y *callvault.CallBucket) int {
		if c := x.Bucket.Compare(y.Bucket); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	return out
}

// ids returns the ids of records, for short failure messages.
func ids(recs []*callvault.CallRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// sameCalls fails the test unless got and want hold the same records in
// the same order; it names the ids first, then compares contents.
func sameCalls(tb testing.TB, what string, got, want []*callvault.CallRecord) {
	tb.Helper()
	if g, w := ids(got), ids(want); !slices.Equal(g, w) {
		tb.Errorf("%s: got ids %v, want %v", what, g, w)
		return
	}
	same(tb, what, got, want)
}

func newRecording(tenant, id, callID string) *callvault.Recording {
	return &callvault.Recording{
		TenantID:    tenant,
		ID:          id,
		CallID:      callID,
		Type:        "Automatic",
		ContentType: "audio/mpeg",
		DurationMs:  61_000,
		Size:        488_000,
		SHA256:      "sha-" + tenant + "-" + id,
		CreatedAt:   at(20),
		UploadedAt:  at(21),
	}
}

func newActiveCall(tenant, callID string, started int) *callvault.ActiveCall {
	return &callvault.ActiveCall{
		TenantID:   tenant,
		CallID:     callID,
		SiteID:     "sit_1",
		Direction:  callvault.DirectionInbound,
		State:      "answered",
		From:       callvault.Party{PhoneNumber: "+14155550100", Name: "Caller " + tenant},
		To:         callvault.Party{PhoneNumber: "+12125550100", Name: "Agent " + tenant, ExtensionID: "usr_" + tenant, ExtensionNumber: "101"},
		Extension:  "101",
		Recording:  true,
		StartedAt:  at(started),
		AnsweredAt: at(started).Add(7 * time.Second),
		UpdatedAt:  at(started + 1),
	}
}

func newCallEvent(tenant, id, callID, typ string, minute int) *callvault.CallEvent {
	e := &callvault.CallEvent{
		TenantID:  tenant,
		ID:        id,
		CallID:    callID,
		Type:      typ,
		Timestamp: at(minute),
		SiteID:    "sit_1",
		Direction: callvault.DirectionInbound,
		From:      callvault.Party{PhoneNumber: "+14155550100", Name: "Caller " + tenant},
		To:        callvault.Party{PhoneNumber: "+12125550100", ExtensionNumber: "101"},
	}
	switch typ {
	case callvault.EventEnded:
		e.Result = callvault.ResultAccepted
	case callvault.EventRecordingStarted:
		e.RecordingID = "rec_" + id
	case callvault.EventTransferred:
		e.TransferTo = callvault.Party{PhoneNumber: "+12125550102", ExtensionNumber: "102", Name: "Colleague " + tenant}
	}
	return e
}
