package ingest

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/callvault"
)

// Limits of record fields.
const (
	MaxIDLen        = 128 // id, siteId, sessionId, telephonySessionId, extensionId, recordingId
	MaxNameLen      = 256 // a party's name
	MaxNumberLen    = 64  // a phone number
	MaxExtensionLen = 32  // an extension number
	MaxLabelLen     = 64  // action, legType
	// MaxCallDuration is the longest call (or leg) accepted.
	MaxCallDuration = 31 * 24 * time.Hour
	// DurationTolerance is how far a given durationMs may be from
	// endTime - startTime (PBXs round durations and truncate timestamps).
	DurationTolerance = time.Second
)

// Enumerations, as listed in error messages.
var (
	directions = []string{callvault.DirectionInbound, callvault.DirectionOutbound, callvault.DirectionInternal}
	callTypes  = []string{callvault.CallVoice, callvault.CallFax}
	transports = []string{callvault.TransportPSTN, callvault.TransportVoIP}
)

// Leg types the importers and the event state machine write.
const (
	// LegTypeAccept is the leg of the call as placed and accepted: the
	// master leg, and the leg of a callee a call was bridged to.
	LegTypeAccept = "Accept"
	// LegTypeTransfer is the leg to a new callee after a transfer.
	LegTypeTransfer = "Transfer"
)

// plausible reports whether t is a plausible call time: from 1990 up to,
// but not including, 2100.
func plausible(t time.Time) bool {
	return t.Year() >= 1990 && t.Year() < 2100
}

// normTime makes t storable by every engine: UTC, microsecond precision, no
// monotonic reading.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Validate checks a call record and completes it in place. It returns every
// problem found (nil when the record is good); with problems the record may
// be partly completed and must not be stored.
//
// Checks: id is required, 1..128 printable characters; siteId, sessionId
// and telephonySessionId at most 128 printable characters; startTime is
// required and between 1990 and 2100; answerTime, when set, lies in
// [startTime, endTime]; endTime is not before startTime; durations are not
// negative and at most MaxCallDuration; direction, type, result and
// transport are one of their values; party fields are printable and within
// their lengths; at most one leg is the master.
//
// Completion: times become UTC with microsecond precision; a missing
// endTime is startTime + durationMs, a zero durationMs is derived from
// endTime - startTime, and a given durationMs more than DurationTolerance
// away from it is rejected; talkMs is always endTime - answerTime (0 when not
// answered); an empty type is Voice; an empty result is Accepted when the
// call was answered, else Missed for inbound calls and No Answer otherwise;
// an empty extension is to.extensionNumber for inbound calls and
// from.extensionNumber otherwise; legs without a direction or result take
// the record's, and a leg without a startTime starts with the record; a
// record without legs gets one master leg (LegTypeAccept) mirroring it.
// Validate is idempotent: a record it accepted passes again unchanged.
func Validate(rec *callvault.CallRecord) FieldErrors {
	var fe FieldErrors
	checkID(&fe, "id", rec.ID, true)
	checkID(&fe, "siteId", rec.SiteID, false)
	checkID(&fe, "sessionId", rec.SessionID, false)
	checkID(&fe, "telephonySessionId", rec.TelephonySessionID, false)

	rec.Start, rec.Answer, rec.End = normTime(rec.Start), normTime(rec.Answer), normTime(rec.End)
	timesOK := true
	switch {
	case rec.Start.IsZero():
		fe.add("startTime", "required")
		timesOK = false
	case !plausible(rec.Start):
		fe.add("startTime", "%s is not a plausible call time (must be from 1990 to 2099)", rec.Start.Format(time.RFC3339))
		timesOK = false
	}
	if rec.DurationMs < 0 {
		fe.add("durationMs", "%d is negative", rec.DurationMs)
		timesOK = false
	} else if rec.DurationMs > MaxCallDuration.Milliseconds() {
		fe.add("durationMs", "%d is longer than the longest call accepted (%s)", rec.DurationMs, MaxCallDuration)
		timesOK = false
	}
	if timesOK {
		switch {
		case rec.End.IsZero() && rec.DurationMs > 0:
			rec.End = rec.Start.Add(time.Duration(rec.DurationMs) * time.Millisecond)
		case rec.End.IsZero():
			fe.add("endTime", "required when durationMs is not given")
			timesOK = false
		case rec.End.Before(rec.Start):
			fe.add("endTime", "%s is before startTime %s", rec.End.Format(time.RFC3339Nano), rec.Start.Format(time.RFC3339Nano))
			timesOK = false
		case rec.End.Sub(rec.Start) > MaxCallDuration:
			fe.add("endTime", "%s is more than %s after startTime", rec.End.Format(time.RFC3339Nano), MaxCallDuration)
			timesOK = false
		default:
			derived := rec.End.Sub(rec.Start).Milliseconds()
			if rec.DurationMs == 0 {
				rec.DurationMs = derived
			} else if d := rec.DurationMs - derived; d > DurationTolerance.Milliseconds() || -d > DurationTolerance.Milliseconds() {
				fe.add("durationMs", "%d disagrees with endTime - startTime (%d ms) by more than %s", rec.DurationMs, derived, DurationTolerance)
				timesOK = false
			}
		}
	}
	if timesOK && !rec.Answer.IsZero() && (rec.Answer.Before(rec.Start) || rec.Answer.After(rec.End)) {
		fe.add("answerTime", "%s is not between startTime and endTime", rec.Answer.Format(time.RFC3339Nano))
		timesOK = false
	}
	rec.TalkMs = 0
	if timesOK && !rec.Answer.IsZero() {
		rec.TalkMs = rec.End.Sub(rec.Answer).Milliseconds()
	}

	dirOK := checkEnum(&fe, "direction", rec.Direction, directions, true)
	if rec.Type == "" {
		rec.Type = callvault.CallVoice
	}
	checkEnum(&fe, "type", rec.Type, callTypes, true)
	if rec.Result == "" && dirOK {
		rec.Result = defaultResult(rec.Direction, !rec.Answer.IsZero())
	}
	// An empty result is derived from the direction; with a bad direction
	// that is the error to report.
	checkEnum(&fe, "result", rec.Result, callvault.CallResults, dirOK)
	checkEnum(&fe, "transport", rec.Transport, transports, false)
	checkText(&fe, "action", rec.Action, MaxLabelLen, false)
	checkParty(&fe, "from", &rec.From)
	checkParty(&fe, "to", &rec.To)
	if rec.Extension == "" && dirOK {
		rec.Extension = ownerExtension(rec.Direction, rec.From, rec.To)
	}
	checkText(&fe, "extension", rec.Extension, MaxExtensionLen, false)
	for i, id := range rec.RecordingIDs {
		checkID(&fe, "recordingIds["+strconv.Itoa(i)+"]", id, true)
	}

	if len(rec.Legs) == 0 {
		if len(fe) == 0 {
			rec.Legs = []callvault.Leg{{
				LegType: LegTypeAccept, Master: true, Direction: rec.Direction, Action: rec.Action,
				Result: rec.Result, Transport: rec.Transport, From: rec.From, To: rec.To,
				Start: rec.Start, DurationMs: rec.DurationMs,
			}}
		}
		return fe
	}
	master := -1
	for i := range rec.Legs {
		leg := &rec.Legs[i]
		// The field names of a leg are made only for an error.
		p := func() string { return "legs[" + strconv.Itoa(i) + "]." }
		if leg.Direction == "" {
			leg.Direction = rec.Direction
		}
		if leg.Result == "" {
			leg.Result = rec.Result
		}
		if leg.LegType != "" && textOK(leg.LegType, MaxLabelLen) && !(leg.Master && master >= 0) &&
			slices.Contains(directions, leg.Direction) && slices.Contains(callvault.CallResults, leg.Result) &&
			(leg.Transport == "" || slices.Contains(transports, leg.Transport)) && textOK(leg.Action, MaxLabelLen) &&
			partyOK(&leg.From) && partyOK(&leg.To) {
			// Every check below passes (the common case).
			if leg.Master {
				master = i
			}
		} else {
			p := p()
			checkText(&fe, p+"legType", leg.LegType, MaxLabelLen, true)
			if leg.Master {
				if master >= 0 {
					fe.add(p+"master", "legs[%d] is already the master; a record has at most one master leg", master)
				} else {
					master = i
				}
			}
			checkEnum(&fe, p+"direction", leg.Direction, directions, true)
			checkEnum(&fe, p+"result", leg.Result, callvault.CallResults, true)
			checkEnum(&fe, p+"transport", leg.Transport, transports, false)
			checkText(&fe, p+"action", leg.Action, MaxLabelLen, false)
			checkParty(&fe, p+"from", &leg.From)
			checkParty(&fe, p+"to", &leg.To)
		}
		leg.Start = normTime(leg.Start)
		if leg.Start.IsZero() {
			leg.Start = rec.Start
		}
		switch {
		case leg.DurationMs < 0:
			fe.add(p()+"durationMs", "%d is negative", leg.DurationMs)
		case leg.DurationMs > MaxCallDuration.Milliseconds():
			fe.add(p()+"durationMs", "%d is longer than the longest call accepted (%s)", leg.DurationMs, MaxCallDuration)
		case !timesOK:
		case leg.Start.Before(rec.Start.Add(-DurationTolerance)) || leg.Start.After(rec.End.Add(DurationTolerance)):
			fe.add(p()+"startTime", "%s is outside the record's startTime..endTime", leg.Start.Format(time.RFC3339Nano))
		case leg.Start.Add(time.Duration(leg.DurationMs) * time.Millisecond).After(rec.End.Add(DurationTolerance)):
			fe.add(p()+"durationMs", "%d makes the leg end after the record's endTime", leg.DurationMs)
		}
	}
	return fe
}

// defaultResult is the result of a call that did not say: Accepted when it
// was answered; else Missed for inbound calls and No Answer otherwise.
func defaultResult(direction string, answered bool) string {
	switch {
	case answered:
		return callvault.ResultAccepted
	case direction == callvault.DirectionInbound:
		return callvault.ResultMissed
	default:
		return callvault.ResultNoAnswer
	}
}

// ownerExtension is the extension whose call log a call belongs to: the
// callee's for inbound calls, the caller's otherwise.
func ownerExtension(direction string, from, to callvault.Party) string {
	if direction == callvault.DirectionInbound {
		return to.ExtensionNumber
	}
	return from.ExtensionNumber
}

func checkID(fe *FieldErrors, field, v string, required bool) {
	checkText(fe, field, v, MaxIDLen, required)
}

func checkText(fe *FieldErrors, field, v string, max int, required bool) {
	switch {
	case v == "":
		if required {
			fe.add(field, "required")
		}
	case !printable(v):
		fe.add(field, "%s has characters that are not printable or not UTF-8", show(v))
	case utf8.RuneCountInString(v) > max:
		fe.add(field, "%s is longer than %d characters", show(v), max)
	}
}

// checkEnum checks that v is one of allowed and reports whether it is.
func checkEnum(fe *FieldErrors, field, v string, allowed []string, required bool) bool {
	if v == "" {
		if required {
			fe.add(field, "required; one of %s", strings.Join(allowed, ", "))
		}
		return false
	}
	if !slices.Contains(allowed, v) {
		fe.add(field, "%s is not one of %s", show(v), strings.Join(allowed, ", "))
		return false
	}
	return true
}

// textOK reports whether checkText passes v when it is not required.
func textOK(v string, max int) bool {
	return v == "" || (printable(v) && (len(v) <= max || utf8.RuneCountInString(v) <= max))
}

// partyOK reports whether checkParty passes p.
func partyOK(p *callvault.Party) bool {
	return textOK(p.PhoneNumber, MaxNumberLen) && textOK(p.Name, MaxNameLen) &&
		textOK(p.ExtensionID, MaxIDLen) && textOK(p.ExtensionNumber, MaxExtensionLen)
}

func checkParty(fe *FieldErrors, field string, p *callvault.Party) {
	if partyOK(p) {
		return
	}
	checkText(fe, field+".phoneNumber", p.PhoneNumber, MaxNumberLen, false)
	checkText(fe, field+".name", p.Name, MaxNameLen, false)
	checkText(fe, field+".extensionId", p.ExtensionID, MaxIDLen, false)
	checkText(fe, field+".extensionNumber", p.ExtensionNumber, MaxExtensionLen, false)
}
