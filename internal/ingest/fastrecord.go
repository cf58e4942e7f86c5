package ingest

import (
	"unicode/utf8"
	"unsafe"

	"github.com/callvault/callvault/internal/callvault"
)

// The fast path of DecodeRecord: a scanner for the common shape of a wire
// record (a JSON object of its known fields, exactly spelled, with plain
// strings, integers and booleans), about ten times cheaper than
// encoding/json with DisallowUnknownFields. It gives up (ok false) on
// anything else: an unknown, misspelt or repeated field, null, a string
// with an escape or a control character or invalid UTF-8, a number that is
// not a plain integer, a value of the wrong type, malformed JSON, data
// after the object. DecodeRecord then decodes the record with
// encoding/json, which accepts or rejects it with the same errors as
// before, so the fast path changes speed only: whatever it accepts,
// encoding/json decodes to the same values.

// scanner reads JSON from b at i. Strings are substrings of src, a copy
// of b made once: one allocation for all of a record's strings; or, with
// an arena, copies of just the strings' bytes in the arena (b is then not
// kept). The pointers the wire shapes hold come from small slabs (strs,
// ints).
type scanner struct {
	b     []byte
	src   string
	arena *arena
	i     int
	strs  []string
	ints  []int64
}

// arenaChunk is the size of an arena's chunks.
const arenaChunk = 64 << 10

// arena keeps the strings of many records in shared chunks: a record then
// holds only its fields' bytes (a few hundred) instead of its whole line
// (about 1.2 KB in the native shape), and a batch of records costs a few
// large allocations instead of one per line. Strings are never moved or
// changed once handed out (a full chunk is left as it is and a new one
// begun), so they stay valid as long as anything refers to them.
type arena struct {
	chunk []byte
	// Scratch space of the wire shapes, reused from record to record:
	// they live only while decodeRecord turns them into a record.
	legs []wireLeg
	strs []string
	ints []int64
}

// string returns a string with the bytes of b, kept in the arena.
func (a *arena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(a.chunk)-len(a.chunk) {
		a.chunk = make([]byte, 0, max(arenaChunk, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// lit consumes the byte c after white space and reports whether it was
// there.
func (s *scanner) lit(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// raw returns the bytes of a plain string (no escapes, no control
// characters, valid UTF-8) without its quotes; ok is false for anything
// else.
func (s *scanner) raw() (v []byte, ok bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	ascii := true
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v = s.b[s.i+1 : j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// str reads a plain string value; the values of enumerations are shared
// rather than kept in the record's copy.
func (s *scanner) str(dst *string) bool {
	v, ok := s.raw()
	if ok {
		if *dst = intern(v); *dst == "" && len(v) > 0 {
			if s.arena != nil {
				*dst = s.arena.string(v)
			} else {
				end := s.i - 1 // v ends before the closing quote
				*dst = s.src[end-len(v) : end]
			}
		}
	}
	return ok
}

// strPtr reads a plain string into a new *string (a time of the wire
// shapes). With an arena the string is not copied: it is b's bytes, valid
// only until decodeRecord returns, which parses every time before (a
// parsed time keeps nothing of its text).
func (s *scanner) strPtr(dst **string) bool {
	if len(s.strs) == cap(s.strs) {
		s.strs = make([]string, 0, 8)
	}
	s.strs = s.strs[:len(s.strs)+1]
	v := &s.strs[len(s.strs)-1]
	if s.arena == nil {
		if !s.str(v) {
			return false
		}
	} else {
		raw, ok := s.raw()
		if !ok {
			return false
		}
		*v = unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	*dst = v
	return true
}

// integer reads an integer (JSON syntax, at most 18 digits) into a new *int64.
func (s *scanner) integer(dst **int64) bool {
	s.ws()
	j, neg := s.i, false
	if j < len(s.b) && s.b[j] == '-' {
		neg = true
		j++
	}
	start := j
	var n int64
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		n = n*10 + int64(s.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') {
		return false
	}
	if j < len(s.b) {
		// A number ends at white space or a delimiter; '.', 'e' and the
		// like make it something else.
		switch s.b[j] {
		case ' ', '\t', '\n', '\r', ',', '}', ']':
		default:
			return false
		}
	}
	if neg {
		n = -n
	}
	s.i = j
	if len(s.ints) == cap(s.ints) {
		s.ints = make([]int64, 0, 8)
	}
	s.ints = append(s.ints, n)
	*dst = &s.ints[len(s.ints)-1]
	return true
}

// boolean reads true or false.
func (s *scanner) boolean(dst *bool) bool {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*dst = true
		s.i += 4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*dst = false
		s.i += 5
	default:
		return false
	}
	return true
}

// object reads an object whose members field reads (given its key, with
// the scanner at the value) and reports whether all went well. Keys must
// be plain strings; each may appear once (field numbers them: bit
// returns the key's bit, or -1 for an unknown key).
func (s *scanner) object(bit func(key []byte) int, field func(bit int) bool) bool {
	if !s.lit('{') {
		return false
	}
	if s.lit('}') {
		return true
	}
	var seen uint64
	for {
		key, ok := s.raw()
		if !ok {
			return false
		}
		k := bit(key)
		if k < 0 || seen&(1<<k) != 0 || !s.lit(':') || !field(k) {
			return false
		}
		seen |= 1 << k
		if s.lit(',') {
			continue
		}
		return s.lit('}')
	}
}

func partyBit(key []byte) int {
	switch string(key) {
	case "phoneNumber":
		return 0
	case "name":
		return 1
	case "extensionId":
		return 2
	case "extensionNumber":
		return 3
	}
	return -1
}

func (s *scanner) party(p *wireParty) bool {
	return s.object(partyBit, func(k int) bool {
		switch k {
		case 0:
			return s.str(&p.PhoneNumber)
		case 1:
			return s.str(&p.Name)
		case 2:
			return s.str(&p.ExtensionID)
		default:
			return s.str(&p.ExtensionNumber)
		}
	})
}

func legBit(key []byte) int {
	switch string(key) {
	case "legType":
		return 0
	case "master":
		return 1
	case "direction":
		return 2
	case "action":
		return 3
	case "result":
		return 4
	case "transport":
		return 5
	case "from":
		return 6
	case "to":
		return 7
	case "startTime":
		return 8
	case "durationMs":
		return 9
	}
	return -1
}

func (s *scanner) leg(l *wireLeg) bool {
	return s.object(legBit, func(k int) bool {
		switch k {
		case 0:
			return s.str(&l.LegType)
		case 1:
			return s.boolean(&l.Master)
		case 2:
			return s.str(&l.Direction)
		case 3:
			return s.str(&l.Action)
		case 4:
			return s.str(&l.Result)
		case 5:
			return s.str(&l.Transport)
		case 6:
			return s.party(&l.From)
		case 7:
			return s.party(&l.To)
		case 8:
			return s.strPtr(&l.StartTime)
		default:
			return s.integer(&l.DurationMs)
		}
	})
}

func recordBit(key []byte) int {
	switch string(key) {
	case "id":
		return 0
	case "siteId":
		return 1
	case "sessionId":
		return 2
	case "telephonySessionId":
		return 3
	case "startTime":
		return 4
	case "answerTime":
		return 5
	case "endTime":
		return 6
	case "durationMs":
		return 7
	case "direction":
		return 8
	case "type":
		return 9
	case "action":
		return 10
	case "result":
		return 11
	case "transport":
		return 12
	case "from":
		return 13
	case "to":
		return 14
	case "extension":
		return 15
	case "legs":
		return 16
	}
	return -1
}

// fastRecord decodes data into w and legs when it has the common shape
// (see above) and reports whether it did. With an arena, the strings are
// kept in it; otherwise they share one copy of data.
func fastRecord(data []byte, w *wireRecord, legs *[]wireLeg, a *arena) bool {
	s := &scanner{b: data, arena: a}
	if a == nil {
		s.src = string(data)
	} else {
		*legs, s.strs, s.ints = a.legs[:0], a.strs[:0], a.ints[:0]
		defer func() { a.legs, a.strs, a.ints = (*legs)[:0], s.strs[:0], s.ints[:0] }()
	}
	ok := s.object(recordBit, func(k int) bool {
		switch k {
		case 0:
			return s.str(&w.ID)
		case 1:
			return s.str(&w.SiteID)
		case 2:
			return s.str(&w.SessionID)
		case 3:
			return s.str(&w.TelephonySessionID)
		case 4:
			return s.strPtr(&w.StartTime)
		case 5:
			return s.strPtr(&w.AnswerTime)
		case 6:
			return s.strPtr(&w.EndTime)
		case 7:
			return s.integer(&w.DurationMs)
		case 8:
			return s.str(&w.Direction)
		case 9:
			return s.str(&w.Type)
		case 10:
			return s.str(&w.Action)
		case 11:
			return s.str(&w.Result)
		case 12:
			return s.str(&w.Transport)
		case 13:
			return s.party(&w.From)
		case 14:
			return s.party(&w.To)
		case 15:
			return s.str(&w.Extension)
		default:
			if !s.lit('[') {
				return false
			}
			if s.lit(']') {
				return true
			}
			for {
				*legs = append(*legs, wireLeg{})
				if !s.leg(&(*legs)[len(*legs)-1]) {
					return false
				}
				if s.lit(',') {
					continue
				}
				return s.lit(']')
			}
		}
	})
	if !ok {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// intern returns v as a shared string when it is one of the values of the
// enumerations and labels every record repeats, else "".
func intern(v []byte) string {
	switch string(v) {
	case "":
		return ""
	case callvault.DirectionInbound:
		return callvault.DirectionInbound
	case callvault.DirectionOutbound:
		return callvault.DirectionOutbound
	case callvault.DirectionInternal:
		return callvault.DirectionInternal
	case callvault.CallVoice:
		return callvault.CallVoice
	case callvault.CallFax:
		return callvault.CallFax
	case callvault.TransportPSTN:
		return callvault.TransportPSTN
	case callvault.TransportVoIP:
		return callvault.TransportVoIP
	case callvault.ResultAccepted:
		return callvault.ResultAccepted
	case callvault.ResultMissed:
		return callvault.ResultMissed
	case callvault.ResultNoAnswer:
		return callvault.ResultNoAnswer
	case callvault.ResultVoicemail:
		return callvault.ResultVoicemail
	case LegTypeAccept:
		return LegTypeAccept
	case "Phone Call":
		return "Phone Call"
	case "VoIP Call":
		return "VoIP Call"
	}
	return ""
}
