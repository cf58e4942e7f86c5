package ingest

import (
	"io"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// MaxEventSkew is how far in the future (by the caller's clock) an event's
// timestamp may be.
const MaxEventSkew = time.Hour

// States of an active call.
const (
	StateRinging  = "ringing"
	StateAnswered = "answered"
	StateHeld     = "held"
)

// wireEvent is a call event as clients send it: callvault.CallEvent
// without the fields callvault sets (tenantId, seq, receivedAt).
type wireEvent struct {
	ID          string    `json:"id"`
	CallID      string    `json:"callId"`
	Type        string    `json:"type"`
	Timestamp   *string   `json:"timestamp"`
	SiteID      string    `json:"siteId"`
	Direction   string    `json:"direction"`
	From        wireParty `json:"from"`
	To          wireParty `json:"to"`
	Result      string    `json:"result"`
	RecordingID string    `json:"recordingId"`
	TransferTo  wireParty `json:"transferTo"`
}

// DecodeEvent decodes one call event from its JSON object and validates
// it (see ValidateEvent). Unknown fields, and tenantId, seq and receivedAt,
// are rejected by name. Errors have code EInvalid.
func DecodeEvent(data []byte) (*callvault.CallEvent, error) {
	var w wireEvent
	nested := map[string][]string{"from": partyFields, "to": partyFields, "transferTo": partyFields}
	if err := decodeStrict(data, &w, "", eventFields, nested); err != nil {
		return nil, err
	}
	var fe FieldErrors
	ev := &callvault.CallEvent{
		ID: w.ID, CallID: w.CallID, Type: w.Type, Timestamp: wireTime(&fe, "timestamp", w.Timestamp),
		SiteID: w.SiteID, Direction: w.Direction, From: w.From.party(), To: w.To.party(), Result: w.Result,
		RecordingID: w.RecordingID, TransferTo: w.TransferTo.party(),
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if fe := ValidateEvent(ev); len(fe) > 0 {
		return nil, fe
	}
	return ev, nil
}

// DecodeEvents decodes a batch of call events from r, a JSON array,
// NDJSON, or one event object spanning lines, all or nothing, like
// DecodeBatch.
func DecodeEvents(r io.Reader, max int) ([]*callvault.CallEvent, error) {
	return decodeAll(r, max, "events", DecodeEvent)
}

// ValidateEvent checks a call event: id and callId required (1..128
// printable characters); type one of the event types; timestamp required
// and plausible (1990..2099); direction and result, when set, one of their
// values; parties printable and within their lengths; a ringing event
// names from or to; a transferred event names transferTo. The timestamp is
// made UTC with microsecond precision.
func ValidateEvent(ev *callvault.CallEvent) FieldErrors {
	var fe FieldErrors
	checkID(&fe, "id", ev.ID, true)
	checkID(&fe, "callId", ev.CallID, true)
	checkEnum(&fe, "type", ev.Type, callvault.CallEventTypes, true)
	ev.Timestamp = normTime(ev.Timestamp)
	switch {
	case ev.Timestamp.IsZero():
		fe.add("timestamp", "required")
	case !plausible(ev.Timestamp):
		fe.add("timestamp", "%s is not a plausible time (must be from 1990 to 2099)", ev.Timestamp.Format(time.RFC3339))
	}
	checkID(&fe, "siteId", ev.SiteID, false)
	checkEnum(&fe, "direction", ev.Direction, directions, false)
	checkEnum(&fe, "result", ev.Result, callvault.CallResults, false)
	checkID(&fe, "recordingId", ev.RecordingID, false)
	checkParty(&fe, "from", &ev.From)
	checkParty(&fe, "to", &ev.To)
	checkParty(&fe, "transferTo", &ev.TransferTo)
	switch ev.Type {
	case callvault.EventRinging:
		if ev.From == (callvault.Party{}) && ev.To == (callvault.Party{}) {
			fe.add("from", "a ringing event needs from or to")
		}
	case callvault.EventTransferred:
		if ev.TransferTo == (callvault.Party{}) {
			fe.add("transferTo", "required for a transferred event")
		}
	}
	return fe
}

// call is the state of a live call with what ActiveCall does not hold.
type call struct {
	active     callvault.ActiveCall
	origTo     callvault.Party // the callee before any transfer
	transfers  []callvault.Leg // one per transfer; the last is open until the next or the end
	recordings []string        // recording ids, in order of start
	last       time.Time       // timestamp of the last event applied
}

// Apply applies one event to the live state of its call: state is the
// call's ActiveCall, nil when there is none. It returns the next state, or
// for an ended event next == nil and the finished record (validated; its
// TenantID is the event's, IngestedAt left for the store).
//
// The state's UpdatedAt is the timestamp of the call's last event (the
// source's clock, like StartedAt and AnsweredAt), which the out-of-order
// check compares with; now is used only for the future check.
//
// Apply sees only what ActiveCall holds, so the record it returns on ended
// has no transfer legs and no recording ids; Replay, given the call's
// stored events, returns the complete record. Use Replay when finishing a
// call (see the package documentation).
//
// Errors: FieldErrors (EInvalid) for an invalid event; EInvalid on
// "timestamp" for a timestamp more than MaxEventSkew after now (now zero
// skips the check); EConflict for an event the call's state forbids: a
// ringing event for a call that exists, any other event for a call that
// does not ("callId"), an event older than the call's last one
// ("timestamp"), and held, resumed or recording_stopped in a state that
// does not allow it ("type").
func Apply(state *callvault.ActiveCall, ev *callvault.CallEvent, now time.Time) (next *callvault.ActiveCall, final *callvault.CallRecord, err error) {
	var c *call
	if state != nil {
		if state.CallID != ev.CallID || state.TenantID != ev.TenantID {
			return nil, nil, callvault.Errorf(callvault.EInternal, "Apply: event %q of call %q given the state of call %q", ev.ID, ev.CallID, state.CallID)
		}
		c = &call{active: *state, origTo: state.To, last: latest(state.StartedAt, state.AnsweredAt, state.UpdatedAt)}
	}
	c, final, err = step(c, ev, now)
	if err != nil || final != nil {
		return nil, final, err
	}
	a := c.active
	return &a, nil, nil
}

// Replay rebuilds a call from its events, in the order they were stored
// (Seq order): it applies them one after the other as Apply does, keeping
// the transfer legs and recording ids that ActiveCall cannot hold. It
// returns the live state after the last event, or, when the last event is
// ended, active == nil and the complete record. Events repeated by id are
// applied once. An event after ended is an EConflict error; any other error
// is Apply's, with a message naming the event.
func Replay(events []*callvault.CallEvent, now time.Time) (active *callvault.ActiveCall, final *callvault.CallRecord, err error) {
	var c *call
	seen := make(map[string]bool, len(events))
	for _, ev := range events {
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		if final != nil {
			return nil, nil, &callvault.Error{Code: callvault.EConflict, Field: "callId",
				Message: "event " + show(ev.ID) + ": call " + show(ev.CallID) + " has already ended"}
		}
		if c != nil && (c.active.CallID != ev.CallID || c.active.TenantID != ev.TenantID) {
			return nil, nil, callvault.Errorf(callvault.EInternal, "Replay: events of calls %q and %q mixed", c.active.CallID, ev.CallID)
		}
		c, final, err = step(c, ev, now)
		if err != nil {
			return nil, nil, atEvent(ev, err)
		}
	}
	if final != nil || c == nil {
		return nil, final, nil
	}
	a := c.active
	return &a, nil, nil
}

// atEvent prefixes an error's message with the event's id.
func atEvent(ev *callvault.CallEvent, err error) error {
	e := at("event", 0, err)
	e.Message = "event " + show(ev.ID) + ": " + strings.TrimPrefix(e.Message, "event 0: ")
	return e
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// step applies ev to c (nil: no live call). It returns the next state, or
// on ended a nil state and the finished record.
func step(c *call, ev *callvault.CallEvent, now time.Time) (*call, *callvault.CallRecord, error) {
	if fe := ValidateEvent(ev); len(fe) > 0 {
		return nil, nil, fe
	}
	if !now.IsZero() && ev.Timestamp.After(now.Add(MaxEventSkew)) {
		return nil, nil, FieldErrors{callvault.FieldError("timestamp", "timestamp: %s is more than %s in the future",
			ev.Timestamp.Format(time.RFC3339Nano), MaxEventSkew)}
	}
	conflict := func(field, format string, args ...any) error {
		e := callvault.Errorf(callvault.EConflict, format, args...)
		e.Field = field
		return e
	}
	id := show(ev.CallID)
	if c == nil {
		if ev.Type != callvault.EventRinging {
			return nil, nil, conflict("callId", "call %s is not a live call; a call's first event must be ringing, not %s", id, ev.Type)
		}
		dir := ev.Direction
		if dir == "" {
			dir = eventDirection(ev.From, ev.To)
		}
		c = &call{
			active: callvault.ActiveCall{
				TenantID: ev.TenantID, CallID: ev.CallID, SiteID: ev.SiteID, Direction: dir, State: StateRinging,
				From: ev.From, To: ev.To, Extension: ownerExtension(dir, ev.From, ev.To),
				StartedAt: ev.Timestamp, UpdatedAt: ev.Timestamp,
			},
			origTo: ev.To,
			last:   ev.Timestamp,
		}
		return c, nil, nil
	}
	if ev.Timestamp.Before(c.last) {
		return nil, nil, conflict("timestamp", "event %s of call %s at %s is older than the call's previous event (%s)",
			show(ev.ID), id, ev.Timestamp.Format(time.RFC3339Nano), c.last.Format(time.RFC3339Nano))
	}
	n := &call{active: c.active, origTo: c.origTo, transfers: slices.Clone(c.transfers),
		recordings: slices.Clone(c.recordings), last: ev.Timestamp}
	a := &n.active
	a.UpdatedAt = ev.Timestamp
	switch ev.Type {
	case callvault.EventRinging:
		return nil, nil, conflict("callId", "call %s already exists (it is %s); ringing starts a new call", id, a.State)
	case callvault.EventAnswered:
		switch a.State {
		case StateRinging:
			a.State, a.AnsweredAt = StateAnswered, ev.Timestamp
		case StateAnswered:
			// A transfer target answering: the call was answered already.
		default:
			return nil, nil, conflict("type", "call %s is %s; it cannot be answered (send resumed)", id, a.State)
		}
	case callvault.EventHeld:
		if a.State != StateAnswered {
			return nil, nil, conflict("type", "call %s is %s; only an answered call can be held", id, a.State)
		}
		a.State = StateHeld
	case callvault.EventResumed:
		if a.State != StateHeld {
			return nil, nil, conflict("type", "call %s is %s; only a held call can be resumed", id, a.State)
		}
		a.State = StateAnswered
	case callvault.EventTransferred:
		n.closeTransfer(ev.Timestamp)
		n.transfers = append(n.transfers, callvault.Leg{LegType: LegTypeTransfer, Direction: a.Direction,
			From: a.To, To: ev.TransferTo, Start: ev.Timestamp, DurationMs: -1})
		a.To = ev.TransferTo
		if a.Extension == "" {
			a.Extension = ownerExtension(a.Direction, a.From, a.To)
		}
		if a.State == StateHeld {
			a.State = StateAnswered
		}
	case callvault.EventRecordingStarted:
		a.Recording = true
		if ev.RecordingID != "" && !slices.Contains(n.recordings, ev.RecordingID) {
			n.recordings = append(n.recordings, ev.RecordingID)
		}
	case callvault.EventRecordingStopped:
		if !a.Recording {
			return nil, nil, conflict("type", "call %s is not being recorded", id)
		}
		a.Recording = false
	case callvault.EventEnded:
		rec, err := n.finish(ev)
		return nil, rec, err
	}
	return n, nil, nil
}

// closeTransfer ends the open transfer leg, if any, at t.
func (c *call) closeTransfer(t time.Time) {
	if k := len(c.transfers) - 1; k >= 0 && c.transfers[k].DurationMs < 0 {
		c.transfers[k].DurationMs = t.Sub(c.transfers[k].Start).Milliseconds()
	}
}

// finish builds the record of a call that ended with ev.
func (c *call) finish(ev *callvault.CallEvent) (*callvault.CallRecord, error) {
	a := c.active
	result := ev.Result
	if result == "" {
		result = defaultResult(a.Direction, !a.AnsweredAt.IsZero())
	}
	c.closeTransfer(ev.Timestamp)
	legs := []callvault.Leg{{LegType: LegTypeAccept, Master: true, Direction: a.Direction, Result: result,
		From: a.From, To: c.origTo, Start: a.StartedAt, DurationMs: ev.Timestamp.Sub(a.StartedAt).Milliseconds()}}
	for _, t := range c.transfers {
		t.Result = result
		legs = append(legs, t)
	}
	rec := &callvault.CallRecord{
		TenantID: ev.TenantID, ID: a.CallID, SiteID: a.SiteID, SessionID: a.CallID,
		Start: a.StartedAt, Answer: a.AnsweredAt, End: ev.Timestamp,
		Direction: a.Direction, Type: callvault.CallVoice, Result: result,
		From: a.From, To: a.To, Extension: a.Extension, Legs: legs, RecordingIDs: c.recordings,
	}
	if fe := Validate(rec); len(fe) > 0 {
		return nil, fe
	}
	return rec, nil
}

// eventDirection infers a call's direction from its parties when the
// ringing event does not say: an extension calling an extension is
// Internal, a call to an extension from anything else Inbound, anything
// else Outbound.
func eventDirection(from, to callvault.Party) string {
	switch {
	case from.ExtensionNumber != "" && to.ExtensionNumber != "":
		return callvault.DirectionInternal
	case to.ExtensionNumber != "":
		return callvault.DirectionInbound
	default:
		return callvault.DirectionOutbound
	}
}
