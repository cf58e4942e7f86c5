package demo

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"time"

	"github.com/callvault/callvault/internal/audio"
	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/ingest"
	"github.com/callvault/callvault/internal/retention"
)

// Sizes of the call data besides the generated records.
const (
	flushEvery       = 5000             // call records per transaction
	oldRecordings    = 2                // per tenant, older than retention
	maxRecordingLen  = 40 * time.Second // recordings are cut to keep the demo small
	liveWindow       = 36 * time.Hour   // recent calls arrive as events over this window
	maxRecordingSize = 1 << 30
)

// perTenant are the numbers of recent event-driven calls, of recordings
// among them, and of calls still live, per tenant.
var perTenant = map[string]struct{ eventCalls, recorded, live int }{
	"acme": {30, 18, 3}, "globex": {20, 10, 2}, "initech": {12, 6, 1},
}

// pending is what the next transaction writes.
type pending struct {
	calls      []*callvault.CallRecord
	events     []*callvault.CallEvent
	recordings []*callvault.Recording
	active     []*callvault.ActiveCall
	holds      []string
}

// calls writes each tenant's call data.
func (s *seeder) calls(ctx context.Context) error {
	left := s.o.Records
	for i, ts := range s.tenants {
		n := s.o.Records * ts.share / 100
		if i == len(s.tenants)-1 {
			n = left
		}
		left -= n
		if err := s.tenantCalls(ctx, ts, i, n); err != nil {
			return fmt.Errorf("seeding the calls of %s: %w", ts.t.ID, err)
		}
	}
	return nil
}

// tenantCalls writes n generated records spread over the 30 months, then
// the recent calls that arrive as events, then the live calls.
func (s *seeder) tenantCalls(ctx context.Context, ts *tenantSpec, idx, n int) error {
	loc, err := time.LoadLocation(ts.t.Timezone)
	if err != nil {
		return err
	}
	sites := make([]string, len(ts.sites))
	for i, st := range ts.sites {
		sites[i] = st.ID
	}
	gen := callgen.New(s.o.Seed*100+int64(idx), ts.t.ID, sites, ts.exts)
	cutoff := retention.Cutoff(ts.t, s.o.Now)
	var p pending
	flush := func(force bool) error {
		if len(p.calls) < flushEvery && !force {
			return nil
		}
		err := s.write(ctx, &p)
		p = pending{calls: p.calls[:0], events: p.events[:0]}
		return err
	}

	// Thirty months of call records; a few older than retention keep
	// their recordings, the first of acme's under legal hold.
	old := 0
	for i := range n {
		rec := gen.Next(s.callTime(i, n, loc))
		s.fix(ts, rec)
		rec.RecordingIDs = nil
		if rec.Start.Before(cutoff) {
			s.d.Shape.ExpiredCalls++
			if old < oldRecordings && recordable(rec) && rec.Start.Before(cutoff.AddDate(0, 0, -10)) {
				if err := s.record(ctx, &p, rec); err != nil {
					return err
				}
				if old == 0 && ts.t.ID == "acme" {
					p.holds = append(p.holds, rec.ID)
					s.d.ExpiredCall = rec.ID
				}
				old++
			}
		}
		p.calls = append(p.calls, rec)
		if err := flush(false); err != nil {
			return err
		}
	}

	// Recent calls as live events, the first ones recorded.
	nums := perTenant[ts.t.ID]
	recorded := 0
	for k := range nums.eventCalls {
		start := s.o.Now.Add(-liveWindow + time.Duration(k)*liveWindow/time.Duration(nums.eventCalls) + time.Duration(s.rng.IntN(1800))*time.Second)
		tmpl := gen.Next(start)
		if tmpl.End.After(s.o.Now.Add(-time.Minute)) {
			continue
		}
		s.fix(ts, tmpl)
		recID := ""
		if recorded < nums.recorded && recordable(tmpl) && s.o.Blobs != nil {
			recID = s.id("rec")
			recorded++
		}
		events := s.eventsOf(tmpl, recID, true)
		_, final, err := ingest.Replay(events, s.o.Now)
		if err != nil {
			return fmt.Errorf("replaying demo call %s: %w", tmpl.ID, err)
		}
		final.TenantID = ts.t.ID
		if recID != "" {
			final.RecordingIDs = nil // record adds it
			if err := s.recordAs(ctx, &p, final, recID); err != nil {
				return err
			}
			if ts.t.ID == "acme" {
				last := p.recordings[len(p.recordings)-1]
				s.d.RecordingID, s.d.RecordingLen = last.ID, last.Size
			}
		}
		p.calls = append(p.calls, final)
		p.events = append(p.events, events...)
	}

	// Calls still going on.
	for k := range nums.live {
		tmpl := gen.Next(s.o.Now.Add(-time.Duration(60+k*97) * time.Second))
		s.fix(ts, tmpl)
		events := s.eventsOf(tmpl, "", false)
		active, _, err := ingest.Replay(events, s.o.Now)
		if err != nil {
			return fmt.Errorf("replaying demo live call %s: %w", tmpl.ID, err)
		}
		p.active = append(p.active, active)
		p.events = append(p.events, events...)
	}
	return flush(true)
}

// write stores one batch in one transaction.
func (s *seeder) write(ctx context.Context, p *pending) error {
	err := s.st.Update(ctx, func(tx callvault.Tx) error {
		if _, err := tx.PutCalls(p.calls); err != nil {
			return err
		}
		if len(p.events) > 0 {
			if _, err := tx.PutCallEvents(p.events); err != nil {
				return err
			}
		}
		for _, r := range p.recordings {
			if err := tx.CreateRecording(r); err != nil {
				return err
			}
		}
		for _, a := range p.active {
			if err := tx.PutActiveCall(a); err != nil {
				return err
			}
		}
		for _, id := range p.holds {
			if err := tx.SetCallLegalHold(p.calls[0].TenantID, id, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	sh := &s.d.Shape
	for _, c := range p.calls {
		sh.Calls++
		sh.CallsByTenant[c.TenantID]++
		if sh.EarliestCall.IsZero() || c.Start.Before(sh.EarliestCall) {
			sh.EarliestCall = c.Start
		}
		if c.Start.After(sh.LatestCall) {
			sh.LatestCall = c.Start
		}
	}
	sh.Events += len(p.events)
	sh.Recordings += len(p.recordings)
	sh.ActiveCalls += len(p.active)
	for _, r := range p.recordings {
		sh.RecordingIDs = append(sh.RecordingIDs, r.TenantID+"/"+r.ID)
	}
	return nil
}

// callTime returns the start of the i-th of n calls: spread over the 30
// months with a growing volume (the density rises linearly from 0.6 to
// 1.4), mostly on weekdays and in business hours of the tenant's zone.
func (s *seeder) callTime(i, n int, loc *time.Location) time.Time {
	const a, b = 0.6, 1.4
	u := (float64(i) + s.rng.Float64()) / float64(n)
	x := (-a + math.Sqrt(a*a+2*(b-a)*u)) / (b - a) // inverse of the density's CDF
	limit := s.o.Now.Add(-10 * time.Minute)
	base := s.since.Add(time.Duration(x * float64(limit.Sub(s.since))))
	local := base.In(loc)
	day := local.Day()
	switch local.Weekday() {
	case time.Saturday:
		if s.rng.IntN(10) < 8 {
			day--
		}
	case time.Sunday:
		if s.rng.IntN(10) < 8 {
			day++
		}
	}
	hour := s.rng.IntN(24)
	if s.rng.IntN(100) < 88 {
		// Business hours, busiest mid-morning and mid-afternoon.
		weights := []int{5, 9, 12, 11, 8, 7, 10, 11, 9, 6} // 08:00 .. 17:00, sum 88
		p := s.rng.IntN(88)
		hour = 8
		for _, w := range weights {
			if p < w {
				break
			}
			p -= w
			hour++
		}
	}
	t := time.Date(local.Year(), local.Month(), day, hour, s.rng.IntN(60), s.rng.IntN(60), s.rng.IntN(1e6)*1000, loc)
	if t.Before(s.since) || !t.Before(limit) {
		return base
	}
	return t
}

// fix makes a generated record's internal parties the tenant's users (ids
// and names): callgen makes its own up.
func (s *seeder) fix(ts *tenantSpec, rec *callvault.CallRecord) {
	party := func(p *callvault.Party) {
		if u := ts.byExt[p.ExtensionNumber]; p.ExtensionNumber != "" && u != nil {
			p.ExtensionID, p.Name = u.ID, u.Name
		}
	}
	party(&rec.From)
	party(&rec.To)
	for i := range rec.Legs {
		party(&rec.Legs[i].From)
		party(&rec.Legs[i].To)
	}
}

// recordable reports whether a call can have a recording: an answered
// voice call.
func recordable(rec *callvault.CallRecord) bool {
	return rec.Type == callvault.CallVoice && rec.Result == callvault.ResultAccepted && !rec.Answer.IsZero()
}

// record gives rec a new recording with real audio (when there is a blob
// store).
func (s *seeder) record(ctx context.Context, p *pending, rec *callvault.CallRecord) error {
	if s.o.Blobs == nil {
		return nil
	}
	return s.recordAs(ctx, p, rec, s.id("rec"))
}

// recordAs stores generated audio for rec's recording id: as long as the
// conversation, cut to maxRecordingLen.
func (s *seeder) recordAs(ctx context.Context, p *pending, rec *callvault.CallRecord, id string) error {
	dur := min(time.Duration(rec.TalkMs)*time.Millisecond, maxRecordingLen)
	dur = max(dur, 3*time.Second)
	var buf bytes.Buffer
	buf.Grow(int(audio.GeneratedWAVSize(dur)))
	if err := audio.GenerateWAV(&buf, s.rng.Int64(), dur); err != nil {
		return err
	}
	info, err := s.o.Blobs.Put(ctx, rec.TenantID, &buf, maxRecordingSize)
	if err != nil {
		return err
	}
	rec.RecordingIDs = append(rec.RecordingIDs, id)
	p.recordings = append(p.recordings, &callvault.Recording{TenantID: rec.TenantID, ID: id, CallID: rec.ID, Type: "Automatic",
		ContentType: audio.ContentTypeWAV, DurationMs: dur.Milliseconds(), Size: info.Size, SHA256: info.SHA256,
		CreatedAt: rec.End, UploadedAt: rec.End})
	return nil
}

// eventsOf returns the events a PBX would have sent for the call rec:
// ringing, answered, maybe held and resumed, recording_started when recID
// is set, and (when ended) ended with the result. A call not ended stops
// where it stands: ringing, answered or held.
func (s *seeder) eventsOf(rec *callvault.CallRecord, recID string, ended bool) []*callvault.CallEvent {
	var evs []*callvault.CallEvent
	add := func(typ string, at time.Time) *callvault.CallEvent {
		ev := &callvault.CallEvent{TenantID: rec.TenantID, ID: s.id("evt"), CallID: rec.ID, Type: typ, Timestamp: at,
			ReceivedAt: at.Add(150 * time.Millisecond)}
		evs = append(evs, ev)
		return ev
	}
	r := add(callvault.EventRinging, rec.Start)
	r.SiteID, r.Direction, r.From, r.To = rec.SiteID, rec.Direction, rec.From, rec.To
	answered := !rec.Answer.IsZero()
	if !ended {
		// A live call: ringing for a few seconds, then answered, some on
		// hold, some being recorded.
		answered = s.rng.IntN(3) > 0
		if answered {
			at := rec.Start.Add(time.Duration(5+s.rng.IntN(10)) * time.Second)
			add(callvault.EventAnswered, at)
			switch s.rng.IntN(3) {
			case 0:
				add(callvault.EventHeld, at.Add(20*time.Second))
			case 1:
				add(callvault.EventRecordingStarted, at.Add(time.Second))
			}
		}
		return evs
	}
	if answered {
		add(callvault.EventAnswered, rec.Answer)
		if recID != "" {
			add(callvault.EventRecordingStarted, rec.Answer.Add(500*time.Millisecond)).RecordingID = recID
		}
		if talk := time.Duration(rec.TalkMs) * time.Millisecond; talk > time.Minute && s.rng.IntN(5) == 0 {
			held := rec.Answer.Add(talk / 3)
			add(callvault.EventHeld, held)
			add(callvault.EventResumed, held.Add(min(30*time.Second, talk/4)))
		}
	}
	add(callvault.EventEnded, rec.End).Result = rec.Result
	return evs
}
