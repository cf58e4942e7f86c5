package sqlite

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
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
// reused buffer without reflection; listings decode a hundred bodies per
// page, so decodeCallBody reads this one shape without reflection either.

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
// from columns). Unknown keys are skipped, so that a later version may add
// some.
func decodeCallBody(body []byte, r *callvault.CallRecord) error {
	d := bodyDecoder{b: body}
	d.object(func(key string) {
		switch key {
		case "action":
			r.Action = d.str()
		case "transport":
			r.Transport = d.str()
		case "from":
			r.From = d.party(r, r.From.PhoneNumber)
		case "to":
			r.To = d.party(r, r.To.PhoneNumber)
		case "legs":
			d.array(func() { r.Legs = append(r.Legs, d.leg(r)) })
		case "recordingIds":
			d.array(func() { r.RecordingIDs = append(r.RecordingIDs, d.str()) })
		default:
			d.skip()
		}
	})
	d.ws()
	if d.err == nil && d.pos != len(d.b) {
		d.fail("data after the body")
	}
	if d.err != nil {
		return fmt.Errorf("call %q: decode body: %w", r.ID, d.err)
	}
	return nil
}

// leg reads a leg of r. Legs are read after the record's own fields, which
// they refer to; appendCallBody writes them in that order.
func (d *bodyDecoder) leg(r *callvault.CallRecord) callvault.Leg {
	l := callvault.Leg{Direction: r.Direction, Action: r.Action, Result: r.Result, Transport: r.Transport, Start: r.Start}
	var offset int64
	noStart := false
	d.object(func(key string) {
		switch key {
		case "type":
			l.LegType = d.str()
		case "master":
			l.Master = d.boolean()
		case "direction":
			l.Direction = d.str()
		case "action":
			l.Action = d.str()
		case "result":
			l.Result = d.str()
		case "transport":
			l.Transport = d.str()
		case "from":
			l.From = d.party(r, "")
		case "to":
			l.To = d.party(r, "")
		case "offsetUs":
			offset = d.int()
		case "noStart":
			noStart = d.boolean()
		case "durationMs":
			l.DurationMs = d.int()
		default:
			d.skip()
		}
	})
	switch {
	case noStart:
		l.Start = time.Time{}
	case offset != 0:
		l.Start = time.UnixMicro(r.Start.UnixMicro() + offset).UTC()
	}
	return l
}

// party reads "F" (r's From), "T" (r's To) or an object, whose number is
// number unless it has one.
func (d *bodyDecoder) party(r *callvault.CallRecord, number string) callvault.Party {
	if d.ws(); d.pos < len(d.b) && d.b[d.pos] == '"' {
		switch ref := d.str(); ref {
		case "F":
			return r.From
		case "T":
			return r.To
		default:
			d.fail("party reference " + strconv.Quote(ref))
			return callvault.Party{}
		}
	}
	p := callvault.Party{PhoneNumber: number}
	d.object(func(key string) {
		switch key {
		case "number":
			p.PhoneNumber = d.str()
		case "name":
			p.Name = d.str()
		case "extId":
			p.ExtensionID = d.str()
		case "ext":
			p.ExtensionNumber = d.str()
		default:
			d.skip()
		}
	})
	return p
}

// bodyDecoder is a small JSON reader for bodies: faster than encoding/json
// for this one shape, which every listing decodes a hundred times. After
// the first error, every method returns zero values.
type bodyDecoder struct {
	b   []byte
	pos int
	err error
}

func (d *bodyDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at offset %d", what, d.pos)
	}
	d.pos = len(d.b)
}

func (d *bodyDecoder) ws() {
	for d.pos < len(d.b) {
		switch d.b[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// consume skips white space and c, reporting whether c was there.
func (d *bodyDecoder) consume(c byte) bool {
	d.ws()
	if d.pos < len(d.b) && d.b[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// object reads an object, calling value for each key; value must read the
// key's value.
func (d *bodyDecoder) object(value func(key string)) {
	if !d.consume('{') {
		d.fail("expected an object")
		return
	}
	if d.consume('}') {
		return
	}
	for d.err == nil {
		d.ws()
		key := d.str()
		if !d.consume(':') {
			d.fail("expected ':'")
			return
		}
		value(key)
		if d.consume(',') {
			continue
		}
		if !d.consume('}') {
			d.fail("expected ',' or '}'")
		}
		return
	}
}

// array reads an array, calling elem to read each element.
func (d *bodyDecoder) array(elem func()) {
	if !d.consume('[') {
		d.fail("expected an array")
		return
	}
	if d.consume(']') {
		return
	}
	for d.err == nil {
		elem()
		if d.consume(',') {
			continue
		}
		if !d.consume(']') {
			d.fail("expected ',' or ']'")
		}
		return
	}
}

func (d *bodyDecoder) str() string {
	if !d.consume('"') {
		d.fail("expected a string")
		return ""
	}
	start := d.pos
	for i := start; i < len(d.b); i++ {
		switch d.b[i] {
		case '"':
			d.pos = i + 1
			return string(d.b[start:i])
		case '\\':
			return d.escaped(start)
		}
	}
	d.fail("unterminated string")
	return ""
}

// escaped reads the rest of a string with escapes that starts at start.
func (d *bodyDecoder) escaped(start int) string {
	out := make([]byte, 0, 64)
	for i := start; i < len(d.b); {
		c := d.b[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(out)
		case c != '\\':
			out = append(out, c)
			i++
			continue
		case i+1 >= len(d.b):
			d.pos = i
			d.fail("unterminated string")
			return ""
		}
		i++
		switch e := d.b[i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(d.b[i+1:])
			if !ok {
				d.pos = i
				d.fail("bad \\u escape")
				return ""
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+2 < len(d.b) && d.b[i+1] == '\\' && d.b[i+2] == 'u' {
					r2, ok = hex4(d.b[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			d.pos = i
			d.fail("bad escape")
			return ""
		}
		i++
	}
	d.fail("unterminated string")
	return ""
}

// hex4 reads four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(v), err == nil
}

func (d *bodyDecoder) int() int64 {
	d.ws()
	start := d.pos
	for d.pos < len(d.b) && (d.b[d.pos] == '-' || d.b[d.pos] >= '0' && d.b[d.pos] <= '9') {
		d.pos++
	}
	v, err := strconv.ParseInt(string(d.b[start:d.pos]), 10, 64)
	if err != nil {
		d.pos = start
		d.fail("expected an integer")
	}
	return v
}

func (d *bodyDecoder) boolean() bool {
	d.ws()
	switch {
	case bytes.HasPrefix(d.b[d.pos:], []byte("true")):
		d.pos += 4
		return true
	case bytes.HasPrefix(d.b[d.pos:], []byte("false")):
		d.pos += 5
		return false
	}
	d.fail("expected true or false")
	return false
}

// skip reads any value.
func (d *bodyDecoder) skip() {
	d.ws()
	if d.pos >= len(d.b) {
		d.fail("expected a value")
		return
	}
	switch c := d.b[d.pos]; {
	case c == '{':
		d.object(func(string) { d.skip() })
	case c == '[':
		d.array(d.skip)
	case c == '"':
		d.str()
	case c == 't' || c == 'f':
		d.boolean()
	case bytes.HasPrefix(d.b[d.pos:], []byte("null")):
		d.pos += 4
	default:
		// A number, integer or not.
		start := d.pos
		for d.pos < len(d.b) && bytes.IndexByte([]byte("+-.0123456789eE"), d.b[d.pos]) >= 0 {
			d.pos++
		}
		if d.pos == start {
			d.fail("expected a value")
		}
	}
}
