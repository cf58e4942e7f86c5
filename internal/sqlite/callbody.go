package sqlite

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/callvault"
)

// The body column of calls holds what no query filters on, as JSON:
//
//	{"action":"Phone Call","transport":"PSTN",
//	 "from":{"name":"Ann Lee"},"to":{"name":"Sam Cho","extId":"usr_1","ext":"101"},
//	 "legs":[{"type":"PstnToSip","master":true,"from":"F","to":"T","durationMs":61000},
//	         {"type":"Accept","transport":"VoIP","from":"F","to":"T","offsetUs":9000000,"durationMs":52000}],
//	 "recordingIds":["rec_1"]}
//
// It is written and read only by the store, and kept small, since every
// byte of it is written twice (WAL, then the database file) at ingest:
//
//   - Empty strings, empty parties and false are left out. The record's own
//     parties leave out their phone numbers, which have columns.
//   - A leg's direction, action, result and transport are left out when
//     they equal the record's (and written, "" included, when they do not).
//   - A leg party equal to the record's From is "F", to its To "T"; any
//     other is an object with number, name, extId and ext.
//   - A leg's start is offsetUs, microseconds after the record's start,
//     left out when 0; a leg without a start has "noStart":true.
//
// Bulk ingest encodes a body per record, so appendCallBody appends to a
// reused buffer without reflection; reads decode with encoding/json into
// the mirror types below.

// bodyParty is a Party in a body: an object, or "F" or "T" in a leg.
type bodyParty struct {
	ref    byte   // 'F', 'T' or 0 for an object
	Number string `json:"number"`
	Name   string `json:"name"`
	ExtID  string `json:"extId"`
	Ext    string `json:"ext"`
}

// UnmarshalJSON reads an object or a reference.
func (p *bodyParty) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"F"`:
		p.ref = 'F'
		return nil
	case `"T"`:
		p.ref = 'T'
		return nil
	}
	type plain bodyParty // without this method
	return json.Unmarshal(b, (*plain)(p))
}

// bodyLeg is a Leg in a body.
type bodyLeg struct {
	Type       string    `json:"type"`
	Master     bool      `json:"master"`
	Direction  *string   `json:"direction"`
	Action     *string   `json:"action"`
	Result     *string   `json:"result"`
	Transport  *string   `json:"transport"`
	From       bodyParty `json:"from"`
	To         bodyParty `json:"to"`
	OffsetUs   int64     `json:"offsetUs"`
	NoStart    bool      `json:"noStart"`
	DurationMs int64     `json:"durationMs"`
}

// callBody is a body.
type callBody struct {
	Action       string    `json:"action"`
	Transport    string    `json:"transport"`
	From         bodyParty `json:"from"`
	To           bodyParty `json:"to"`
	Legs         []bodyLeg `json:"legs"`
	RecordingIDs []string  `json:"recordingIds"`
}

// appendCallBody appends the body of r to b.
func appendCallBody(b []byte, r *callvault.CallRecord) []byte {
	b = append(b, '{')
	first := true
	b = appendStrField(b, &first, "action", r.Action)
	b = appendStrField(b, &first, "transport", r.Transport)
	b = appendParty(b, &first, "from", &r.From, false)
	b = appendParty(b, &first, "to", &r.To, false)
	if len(r.Legs) > 0 {
		b = appendKey(b, &first, "legs")
		b = append(b, '[')
		for i := range r.Legs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLeg(b, r, &r.Legs[i])
		}
		b = append(b, ']')
	}
	if len(r.RecordingIDs) > 0 {
		b = appendKey(b, &first, "recordingIds")
		b = append(b, '[')
		for i, id := range r.RecordingIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, id)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendLeg(b []byte, r *callvault.CallRecord, l *callvault.Leg) []byte {
	b = append(b, '{')
	first := true
	b = appendStrField(b, &first, "type", l.LegType)
	if l.Master {
		b = appendKey(b, &first, "master")
		b = append(b, "true"...)
	}
	b = appendDelta(b, &first, "direction", l.Direction, r.Direction)
	b = appendDelta(b, &first, "action", l.Action, r.Action)
	b = appendDelta(b, &first, "result", l.Result, r.Result)
	b = appendDelta(b, &first, "transport", l.Transport, r.Transport)
	b = appendLegParty(b, &first, "from", r, &l.From)
	b = appendLegParty(b, &first, "to", r, &l.To)
	if l.Start.IsZero() {
		b = appendKey(b, &first, "noStart")
		b = append(b, "true"...)
	} else if off := l.Start.UnixMicro() - r.Start.UnixMicro(); off != 0 {
		b = appendKey(b, &first, "offsetUs")
		b = strconv.AppendInt(b, off, 10)
	}
	if l.DurationMs != 0 {
		b = appendKey(b, &first, "durationMs")
		b = strconv.AppendInt(b, l.DurationMs, 10)
	}
	return append(b, '}')
}

// appendDelta appends "key":"v" unless v equals the record's value.
func appendDelta(b []byte, first *bool, key, v, record string) []byte {
	if v == record {
		return b
	}
	return appendJSONString(appendKey(b, first, key), v)
}

// appendLegParty appends a leg's party as "F" or "T" when it equals the
// record's From or To, and as an object otherwise.
func appendLegParty(b []byte, first *bool, key string, r *callvault.CallRecord, p *callvault.Party) []byte {
	switch {
	case *p == (callvault.Party{}):
		return b
	case *p == r.From:
		return append(appendKey(b, first, key), `"F"`...)
	case *p == r.To:
		return append(appendKey(b, first, key), `"T"`...)
	}
	return appendParty(b, first, key, p, true)
}

// appendParty appends "key":{...} unless the party (without its number when
// withNumber is false) is empty.
func appendParty(b []byte, first *bool, key string, p *callvault.Party, withNumber bool) []byte {
	number := ""
	if withNumber {
		number = p.PhoneNumber
	}
	if number == "" && p.Name == "" && p.ExtensionID == "" && p.ExtensionNumber == "" {
		return b
	}
	b = appendKey(b, first, key)
	b = append(b, '{')
	inner := true
	b = appendStrField(b, &inner, "number", number)
	b = appendStrField(b, &inner, "name", p.Name)
	b = appendStrField(b, &inner, "extId", p.ExtensionID)
	b = appendStrField(b, &inner, "ext", p.ExtensionNumber)
	return append(b, '}')
}

// appendKey appends a separator unless first, then "key":. Keys are
// literals without characters to escape.
func appendKey(b []byte, first *bool, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendStrField appends "key":"v" unless v is empty.
func appendStrField(b []byte, first *bool, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(appendKey(b, first, key), v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeCallBody fills the fields of r that live in body. The record's
// start, direction, result and phone numbers must be set before (they come
// from columns).
func decodeCallBody(body []byte, r *callvault.CallRecord) error {
	var cb callBody
	if err := json.Unmarshal(body, &cb); err != nil {
		return fmt.Errorf("call %q: decode body: %w", r.ID, err)
	}
	r.Action, r.Transport = cb.Action, cb.Transport
	r.From = cb.From.party(r, r.From.PhoneNumber)
	r.To = cb.To.party(r, r.To.PhoneNumber)
	if len(cb.Legs) > 0 {
		r.Legs = make([]callvault.Leg, len(cb.Legs))
		for i, l := range cb.Legs {
			leg := callvault.Leg{
				LegType: l.Type, Master: l.Master,
				Direction: or(l.Direction, r.Direction), Action: or(l.Action, r.Action),
				Result: or(l.Result, r.Result), Transport: or(l.Transport, r.Transport),
				From: l.From.party(r, l.From.Number), To: l.To.party(r, l.To.Number), DurationMs: l.DurationMs,
			}
			if !l.NoStart {
				leg.Start = time.UnixMicro(r.Start.UnixMicro() + l.OffsetUs).UTC()
			}
			r.Legs[i] = leg
		}
	}
	r.RecordingIDs = cb.RecordingIDs
	return nil
}

// or returns *p, or def when p is nil.
func or(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// party returns the Party p stands for in record r, with the number given.
func (p *bodyParty) party(r *callvault.CallRecord, number string) callvault.Party {
	switch p.ref {
	case 'F':
		return r.From
	case 'T':
		return r.To
	}
	return callvault.Party{PhoneNumber: number, Name: p.Name, ExtensionID: p.ExtID, ExtensionNumber: p.Ext}
}
