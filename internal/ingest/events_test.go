package ingest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

var t0 = time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)

// ev makes an event of call "call-1" at t0+sec.
func ev(id, typ string, sec float64, opts ...func(*callvault.CallEvent)) *callvault.CallEvent {
	e := &callvault.CallEvent{TenantID: "t1", ID: id, CallID: "call-1", Type: typ,
		Timestamp: t0.Add(time.Duration(sec * float64(time.Second)))}
	for _, o := range opts {
		o(e)
	}
	return e
}

func inbound(e *callvault.CallEvent) {
	e.SiteID = "site-hq"
	e.From = callvault.Party{PhoneNumber: "+14155550142", Name: "Alice Johnson"}
	e.To = callvault.Party{PhoneNumber: "+14155550100", ExtensionNumber: "1001"}
}

func lifecycle() []*callvault.CallEvent {
	return []*callvault.CallEvent{
		ev("e1", callvault.EventRinging, 0, inbound),
		ev("e2", callvault.EventAnswered, 5),
		ev("e3", callvault.EventRecordingStarted, 6, func(e *callvault.CallEvent) { e.RecordingID = "rec-1" }),
		ev("e4", callvault.EventHeld, 30),
		ev("e5", callvault.EventResumed, 40),
		ev("e6", callvault.EventRecordingStopped, 50),
		ev("e7", callvault.EventTransferred, 60, func(e *callvault.CallEvent) {
			e.TransferTo = callvault.Party{ExtensionNumber: "1002", Name: "Bob Smith"}
		}),
		ev("e8", callvault.EventRecordingStarted, 61, func(e *callvault.CallEvent) { e.RecordingID = "rec-2" }),
		ev("e9", callvault.EventEnded, 120.5),
	}
}

func TestReplayLifecycle(t *testing.T) {
	events := lifecycle()
	now := t0.Add(time.Hour)
	// Apply, step by step, gives the same live states as Replay of each prefix.
	var state *callvault.ActiveCall
	wantStates := []string{"ringing", "answered", "answered", "held", "answered", "answered", "answered", "answered"}
	for i, e := range events[:len(events)-1] {
		next, final, err := Apply(state, e, now)
		if err != nil || final != nil {
			t.Fatalf("Apply %s: %v %v", e.ID, final, err)
		}
		active, final, err := Replay(events[:i+1], now)
		if err != nil || final != nil || !reflect.DeepEqual(active, next) {
			t.Fatalf("Replay of %d events: %+v %v; Apply gave %+v", i+1, active, err, next)
		}
		if next.State != wantStates[i] {
			t.Errorf("after %s: state %s, want %s", e.Type, next.State, wantStates[i])
		}
		state = next
	}
	if !state.Recording || state.To.ExtensionNumber != "1002" || state.Extension != "1001" || state.Direction != callvault.DirectionInbound ||
		!state.AnsweredAt.Equal(t0.Add(5*time.Second)) || !state.UpdatedAt.Equal(t0.Add(61*time.Second)) {
		t.Errorf("state %+v", state)
	}

	active, rec, err := Replay(events, now)
	if err != nil || active != nil || rec == nil {
		t.Fatalf("%v %v %v", active, rec, err)
	}
	mustValid(t, rec)
	if rec.ID != "call-1" || rec.TenantID != "t1" || rec.SiteID != "site-hq" || rec.Result != callvault.ResultAccepted ||
		rec.DurationMs != 120500 || rec.TalkMs != 115500 || rec.Extension != "1001" ||
		!reflect.DeepEqual(rec.RecordingIDs, []string{"rec-1", "rec-2"}) || rec.To.ExtensionNumber != "1002" {
		t.Errorf("record %+v", rec)
	}
	if len(rec.Legs) != 2 || !rec.Legs[0].Master || rec.Legs[0].To.ExtensionNumber != "1001" || rec.Legs[0].DurationMs != 120500 ||
		rec.Legs[1].LegType != LegTypeTransfer || rec.Legs[1].From.ExtensionNumber != "1001" || rec.Legs[1].To.ExtensionNumber != "1002" ||
		rec.Legs[1].DurationMs != 60500 || rec.Legs[1].Result != callvault.ResultAccepted {
		t.Errorf("legs %+v", rec.Legs)
	}

	// Apply alone finishes the call too, without what ActiveCall cannot hold.
	next, final, err := Apply(state, events[len(events)-1], now)
	if err != nil || next != nil || final == nil || len(final.Legs) != 1 || len(final.RecordingIDs) != 0 || final.DurationMs != 120500 {
		t.Errorf("Apply ended: %+v %+v %v", next, final, err)
	}

	// Repeated events (same id) are applied once.
	dup := append(append([]*callvault.CallEvent{}, events[:3]...), events[1], events[2])
	dup = append(dup, events[3:]...)
	_, again, err := Replay(dup, now)
	if err != nil || !reflect.DeepEqual(again, rec) {
		t.Errorf("with repeats: %v\n%+v\n%+v", err, again, rec)
	}
}

func TestReplayResults(t *testing.T) {
	out := func(e *callvault.CallEvent) {
		e.From = callvault.Party{ExtensionNumber: "1001"}
		e.To = callvault.Party{PhoneNumber: "+442071838750"}
	}
	internal := func(e *callvault.CallEvent) {
		e.From = callvault.Party{ExtensionNumber: "1001"}
		e.To = callvault.Party{ExtensionNumber: "1002"}
	}
	busy := func(e *callvault.CallEvent) { e.Result = callvault.ResultBusy }
	tests := []struct {
		name   string
		events []*callvault.CallEvent
		dir    string
		result string
		ext    string
	}{
		{"inbound missed", []*callvault.CallEvent{ev("a", "ringing", 0, inbound), ev("b", "ended", 20)}, "Inbound", "Missed", "1001"},
		{"outbound no answer", []*callvault.CallEvent{ev("a", "ringing", 0, out), ev("b", "ended", 20)}, "Outbound", "No Answer", "1001"},
		{"internal answered", []*callvault.CallEvent{ev("a", "ringing", 0, internal), ev("b", "answered", 2), ev("c", "ended", 20)}, "Internal", "Accepted", "1001"},
		{"result given", []*callvault.CallEvent{ev("a", "ringing", 0, out), ev("b", "ended", 3, busy)}, "Outbound", "Busy", "1001"},
		{"direction given", []*callvault.CallEvent{ev("a", "ringing", 0, internal, func(e *callvault.CallEvent) { e.Direction = "Inbound" }), ev("b", "ended", 0)}, "Inbound", "Missed", "1002"},
		{"answered after transfer", []*callvault.CallEvent{ev("a", "ringing", 0, inbound), ev("b", "answered", 1),
			ev("c", "transferred", 5, func(e *callvault.CallEvent) { e.TransferTo = callvault.Party{ExtensionNumber: "1003"} }),
			ev("d", "answered", 9), ev("e", "ended", 30)}, "Inbound", "Accepted", "1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rec, err := Replay(tt.events, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			mustValid(t, rec)
			if rec.Direction != tt.dir || rec.Result != tt.result || rec.Extension != tt.ext {
				t.Errorf("got %s %s %s", rec.Direction, rec.Result, rec.Extension)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	now := t0.Add(time.Hour)
	ringing := ev("e1", "ringing", 0, inbound)
	answered, _, err := Replay([]*callvault.CallEvent{ringing, ev("e2", "answered", 5)}, now)
	if err != nil {
		t.Fatal(err)
	}
	ringState, _, _ := Apply(nil, ringing, now)
	tests := []struct {
		name        string
		state       *callvault.ActiveCall
		ev          *callvault.CallEvent
		code, field string
		parts       []string
	}{
		{"unknown call", nil, ev("e2", "answered", 5), callvault.EConflict, "callId", []string{`call "call-1" is not a live call`}},
		{"ended unknown call", nil, ev("e2", "ended", 5), callvault.EConflict, "callId", []string{`"call-1"`, "must be ringing"}},
		{"ringing twice", answered, ev("e9", "ringing", 6, inbound), callvault.EConflict, "callId", []string{`call "call-1" already exists`}},
		{"out of order", answered, ev("e3", "held", 4), callvault.EConflict, "timestamp", []string{"older than the call's previous event"}},
		{"hold while ringing", ringState, ev("e3", "held", 6), callvault.EConflict, "type", []string{"is ringing", "only an answered call can be held"}},
		{"resume not held", answered, ev("e3", "resumed", 6), callvault.EConflict, "type", []string{"only a held call can be resumed"}},
		{"stop not recording", answered, ev("e3", "recording_stopped", 6), callvault.EConflict, "type", []string{"not being recorded"}},
		{"future", answered, ev("e3", "held", 2*3600+1), callvault.EInvalid, "timestamp", []string{"in the future"}},
		{"no id", answered, ev("", "held", 6), callvault.EInvalid, "id", []string{"id: required"}},
		{"no call id", nil, ev("e1", "ringing", 0, inbound, func(e *callvault.CallEvent) { e.CallID = "" }), callvault.EInvalid, "callId", []string{"required"}},
		{"bad type", answered, ev("e3", "parked", 6), callvault.EInvalid, "type", []string{`"parked" is not one of ringing, answered`}},
		{"no timestamp", answered, ev("e3", "held", 0, func(e *callvault.CallEvent) { e.Timestamp = time.Time{} }), callvault.EInvalid, "timestamp", []string{"required"}},
		{"ringing without parties", nil, ev("e1", "ringing", 0), callvault.EInvalid, "from", []string{"needs from or to"}},
		{"transfer without target", answered, ev("e3", "transferred", 6), callvault.EInvalid, "transferTo", []string{"required"}},
		{"bad result", answered, ev("e3", "ended", 6, func(e *callvault.CallEvent) { e.Result = "Done" }), callvault.EInvalid, "result", []string{`"Done"`}},
		{"bad direction", nil, ev("e1", "ringing", 0, inbound, func(e *callvault.CallEvent) { e.Direction = "in" }), callvault.EInvalid, "direction", []string{`"in"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, final, err := Apply(tt.state, tt.ev, now)
			if next != nil || final != nil {
				t.Fatalf("got %+v %+v", next, final)
			}
			wantErr(t, err, tt.code, tt.field, tt.parts...)
		})
	}
}

func TestReplayErrors(t *testing.T) {
	events := []*callvault.CallEvent{ev("e1", "ringing", 0, inbound), ev("e2", "ended", 5), ev("e3", "answered", 6)}
	_, _, err := Replay(events, time.Time{})
	wantErr(t, err, callvault.EConflict, "callId", `event "e3"`, "has already ended")

	events = []*callvault.CallEvent{ev("e1", "ringing", 0, inbound), ev("e2", "held", 5)}
	_, _, err = Replay(events, time.Time{})
	wantErr(t, err, callvault.EConflict, "type", `event "e2": `, "only an answered call")

	active, final, err := Replay(nil, time.Time{})
	if active != nil || final != nil || err != nil {
		t.Errorf("no events: %v %v %v", active, final, err)
	}
}

func TestDecodeEvents(t *testing.T) {
	body := `{"id":"e1","callId":"c1","type":"ringing","timestamp":"2026-10-02T09:00:00Z","siteId":"site-hq","from":{"phoneNumber":"+14155550142"},"to":{"extensionNumber":"1001"}}
{"id":"e2","callId":"c1","type":"recording_started","timestamp":"2026-10-02T09:00:05.5+02:00","recordingId":"rec-1"}
{"id":"e3","callId":"c1","type":"ended","timestamp":"2026-10-02T09:01:00Z","result":"Accepted"}`
	evs, err := DecodeEvents(strings.NewReader(body), 0)
	if err != nil || len(evs) != 3 {
		t.Fatalf("%v %v", evs, err)
	}
	if !evs[1].Timestamp.Equal(time.Date(2026, 10, 2, 7, 0, 5, 5e8, time.UTC)) || evs[1].RecordingID != "rec-1" {
		t.Errorf("%+v", evs[1])
	}
	tests := []struct{ in, field, part string }{
		{`{"id":"e1","callId":"c1","type":"held","timestamp":"2026-10-02T09:00:00Z","seq":4}`, "seq", "set by callvault"},
		{`{"id":"e1","callId":"c1","type":"held","timestamp":"2026-10-02T09:00:00Z","tenantId":"t2"}`, "tenantId", "set by callvault"},
		{`{"id":"e1","callId":"c1","type":"held","timestamp":"2026-10-02T09:00:00Z","transferTo":{"number":"1"}}`, "transferTo.number", "unknown field"},
		{`{"id":"e1","callId":"c1","type":"held","timestamp":"09:00"}`, "timestamp", "RFC 3339"},
		{`{"id":"e1","callId":"c1","type":"held"}`, "timestamp", "required"},
	}
	for _, tt := range tests {
		_, err := DecodeEvent([]byte(tt.in))
		wantErr(t, err, callvault.EInvalid, tt.field, tt.part)
	}
	_, err = DecodeEvents(strings.NewReader("["+strings.ReplaceAll(body, "\n", ",")+"]"), 2)
	if callvault.ErrorCode(err) != callvault.ETooLarge {
		t.Errorf("max: %v", err)
	}
}
