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
//	 "from":{"name":"Ann Lee","extId":"usr_1","ext":"101"},"to":{...},
//	 "legs":[{"type":"Accept","master":true,"direction":"Inbound",
//	          "action":"Phone Call","result":"Accepted","transport":"PSTN",
//	          "from":{"number":"+14155550100",...},"to":{...},
//	          "startUs":1741944413589793,"durationMs":61000}],
//	 "recordingIds":["rec_1"]}
//
// Empty strings, an empty party and a zero leg start are left out. The
// record's own parties leave out their phone numbers, which have columns.
// Bulk ingest encodes a body per record, so appendCallBody appends to a
// reused buffer without reflection; reads decode with encoding/json into
// the mirror types below.

// bodyParty is a Party in a body.
type bodyParty struct {
	Number string `json:"number"`
	Name   string `json:"name"`
	ExtID  string `json:"extId"`
	Ext    string `json:"ext"`
}

// bodyLeg is a Leg in a body.
type bodyLeg struct {
	Type       string    `json:"type"`
	Master     bool      `json:"master"`
	Direction  string    `json:"direction"`
	Action     string    `json:"action"`
	Result     string    `json:"result"`
	Transport  string    `json:"transport"`
	From       bodyParty `json:"from"`
	To         bodyParty `json:"to"`
	StartUs    *int64    `json:"startUs"`
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
			b = appendLeg(b, &r.Legs[i])
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

func appendLeg(b []byte, l *callvault.Leg) []byte {
	b = append(b, '{')
	first := true
	b = appendStrField(b, &first, "type", l.LegType)
	if l.Master {
		b = appendKey(b, &first, "master")
		b = append(b, "true"...)
	}
	b = appendStrField(b, &first, "direction", l.Direction)
	b = appendStrField(b, &first, "action", l.Action)
	b = appendStrField(b, &first, "result", l.Result)
	b = appendStrField(b, &first, "transport", l.Transport)
	b = appendParty(b, &first, "from", &l.From, true)
	b = appendParty(b, &first, "to", &l.To, true)
	if !l.Start.IsZero() {
		b = appendKey(b, &first, "startUs")
		b = strconv.AppendInt(b, l.Start.UnixMicro(), 10)
	}
	if l.DurationMs != 0 {
		b = appendKey(b, &first, "durationMs")
		b = strconv.AppendInt(b, l.DurationMs, 10)
	}
	return append(b, '}')
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

// decodeCallBody fills the fields of r that live in body. The record's own
// phone numbers must be set before (they come from columns).
func decodeCallBody(body []byte, r *callvault.CallRecord) error {
	var cb callBody
	if err := json.Unmarshal(body, &cb); err != nil {
		return fmt.Errorf("call %q: decode body: %w", r.ID, err)
	}
	r.Action, r.Transport = cb.Action, cb.Transport
	r.From = cb.From.party(r.From.PhoneNumber)
	r.To = cb.To.party(r.To.PhoneNumber)
	if len(cb.Legs) > 0 {
		r.Legs = make([]callvault.Leg, len(cb.Legs))
		for i, l := range cb.Legs {
			leg := callvault.Leg{
				LegType: l.Type, Master: l.Master, Direction: l.Direction, Action: l.Action,
				Result: l.Result, Transport: l.Transport,
				From: l.From.party(l.From.Number), To: l.To.party(l.To.Number), DurationMs: l.DurationMs,
			}
			if l.StartUs != nil {
				leg.Start = time.UnixMicro(*l.StartUs).UTC()
			}
			r.Legs[i] = leg
		}
	}
	r.RecordingIDs = cb.RecordingIDs
	return nil
}

func (p bodyParty) party(number string) callvault.Party {
	return callvault.Party{PhoneNumber: number, Name: p.Name, ExtensionID: p.ExtID, ExtensionNumber: p.Ext}
}
