package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// MaxLineBytes is the longest NDJSON line (one record or event) accepted.
const MaxLineBytes = 64 << 10

// wireParty is a party as clients send it.
type wireParty struct {
	PhoneNumber     string `json:"phoneNumber"`
	Name            string `json:"name"`
	ExtensionID     string `json:"extensionId"`
	ExtensionNumber string `json:"extensionNumber"`
}

func (p wireParty) party() callvault.Party {
	return callvault.Party{PhoneNumber: p.PhoneNumber, Name: p.Name, ExtensionID: p.ExtensionID, ExtensionNumber: p.ExtensionNumber}
}

// wireLeg is a leg as clients send it. Times are strings so a bad one is
// reported with its path; pointers tell a missing value from zero.
type wireLeg struct {
	LegType    string    `json:"legType"`
	Master     bool      `json:"master"`
	Direction  string    `json:"direction"`
	Action     string    `json:"action"`
	Result     string    `json:"result"`
	Transport  string    `json:"transport"`
	From       wireParty `json:"from"`
	To         wireParty `json:"to"`
	StartTime  *string   `json:"startTime"`
	DurationMs *int64    `json:"durationMs"`
}

// wireRecord is a call record as clients send it: callvault.CallRecord
// without the fields callvault sets (tenantId, talkMs, recordingIds,
// legalHold, ingestedAt).
type wireRecord struct {
	ID                 string            `json:"id"`
	SiteID             string            `json:"siteId"`
	SessionID          string            `json:"sessionId"`
	TelephonySessionID string            `json:"telephonySessionId"`
	StartTime          *string           `json:"startTime"`
	AnswerTime         *string           `json:"answerTime"`
	EndTime            *string           `json:"endTime"`
	DurationMs         *int64            `json:"durationMs"`
	Direction          string            `json:"direction"`
	Type               string            `json:"type"`
	Action             string            `json:"action"`
	Result             string            `json:"result"`
	Transport          string            `json:"transport"`
	From               wireParty         `json:"from"`
	To                 wireParty         `json:"to"`
	Extension          string            `json:"extension"`
	Legs               []json.RawMessage `json:"legs"`
}

// Field names of the wire shapes, for naming unknown fields.
var (
	recordFields = []string{"id", "siteId", "sessionId", "telephonySessionId", "startTime", "answerTime", "endTime",
		"durationMs", "direction", "type", "action", "result", "transport", "from", "to", "extension", "legs"}
	partyFields = []string{"phoneNumber", "name", "extensionId", "extensionNumber"}
	legFields   = []string{"legType", "master", "direction", "action", "result", "transport", "from", "to", "startTime", "durationMs"}
	eventFields = []string{"id", "callId", "type", "timestamp", "siteId", "direction", "from", "to", "result", "recordingId", "transferTo"}
	// serverFields are set by callvault and refused from clients.
	serverFields = []string{"tenantId", "talkMs", "recordingIds", "legalHold", "ingestedAt", "seq", "receivedAt"}
)

// slowRecords turns the fast path of DecodeRecord off (tests compare the
// two).
var slowRecords = false

// DecodeRecord decodes one call record from its JSON object (the native
// wire shape) and validates it (see Validate). Unknown fields, and fields
// callvault sets itself (tenantId, talkMs, recordingIds, legalHold,
// ingestedAt), are rejected by name. Errors are FieldErrors or a
// *callvault.Error, all with code EInvalid.
func DecodeRecord(data []byte) (*callvault.CallRecord, error) {
	return decodeRecord(data, nil)
}

// decodeRecord is DecodeRecord keeping the record's strings in a (see
// arena; with a nil a they share one copy of data).
func decodeRecord(data []byte, a *arena) (*callvault.CallRecord, error) {
	var w wireRecord
	var legs []wireLeg
	if slowRecords || !fastRecord(data, &w, &legs, a) {
		w, legs = wireRecord{}, nil
		if err := decodeStrict(data, &w, "", recordFields, map[string][]string{"from": partyFields, "to": partyFields}); err != nil {
			return nil, err
		}
		legs = make([]wireLeg, len(w.Legs))
		for i, raw := range w.Legs {
			p := "legs[" + strconv.Itoa(i) + "]"
			if err := decodeStrict(raw, &legs[i], p+".", legFields, map[string][]string{"from": partyFields, "to": partyFields}); err != nil {
				return nil, err
			}
		}
	}
	var fe FieldErrors
	rec := &callvault.CallRecord{
		ID: w.ID, SiteID: w.SiteID, SessionID: w.SessionID, TelephonySessionID: w.TelephonySessionID,
		Start: wireTime(&fe, "startTime", w.StartTime), Answer: wireTime(&fe, "answerTime", w.AnswerTime),
		End: wireTime(&fe, "endTime", w.EndTime), Direction: w.Direction, Type: w.Type, Action: w.Action,
		Result: w.Result, Transport: w.Transport, From: w.From.party(), To: w.To.party(), Extension: w.Extension,
	}
	if w.DurationMs != nil {
		rec.DurationMs = *w.DurationMs
		if rec.End.IsZero() && *w.DurationMs >= 0 && *w.DurationMs <= MaxCallDuration.Milliseconds() && !rec.Start.IsZero() {
			rec.End = rec.Start.Add(time.Duration(*w.DurationMs) * time.Millisecond)
		}
	}
	if len(legs) > 0 {
		rec.Legs = make([]callvault.Leg, 0, len(legs))
	}
	for i := range legs {
		wl := &legs[i]
		leg := callvault.Leg{
			LegType: wl.LegType, Master: wl.Master, Direction: wl.Direction, Action: wl.Action, Result: wl.Result,
			Transport: wl.Transport, From: wl.From.party(), To: wl.To.party(),
		}
		if t, err := time.Parse(time.RFC3339Nano, ptrString(wl.StartTime)); err == nil {
			leg.Start = t
		} else {
			// "" (or none) is the zero time; the field's name is made
			// only for an error.
			leg.Start = wireTime(&fe, "legs["+strconv.Itoa(i)+"].startTime", wl.StartTime)
		}
		if wl.DurationMs != nil {
			leg.DurationMs = *wl.DurationMs
		} else {
			// A leg without a duration lasts until the record ends.
			start := leg.Start
			if start.IsZero() {
				start = rec.Start
			}
			if !rec.End.IsZero() && !start.IsZero() && rec.End.After(start) {
				leg.DurationMs = rec.End.Sub(start).Milliseconds()
			}
		}
		rec.Legs = append(rec.Legs, leg)
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if fe := Validate(rec); len(fe) > 0 {
		return nil, fe
	}
	return rec, nil
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// wireTime parses an RFC 3339 time; nil or "" is the zero time.
func wireTime(fe *FieldErrors, field string, s *string) time.Time {
	if s == nil || *s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		fe.add(field, "%s is not an RFC 3339 time with a zone (e.g. 2026-10-02T10:00:00Z)", show(*s))
		return time.Time{}
	}
	return t
}

// decodeStrict decodes one JSON object into v, rejecting unknown fields by
// their path (prefix + name; nested objects listed in nested), type errors
// by path, syntax errors by offset, and anything after the object.
func decodeStrict(data []byte, v any, prefix string, fields []string, nested map[string][]string) error {
	what := "the record"
	if prefix != "" {
		what = strings.TrimSuffix(prefix, ".")
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return &callvault.Error{Code: callvault.EInvalid, Field: strings.TrimSuffix(prefix, "."),
			Message: fmt.Sprintf("%s is not a JSON object", what)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, data, prefix, fields, nested)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &callvault.Error{Code: callvault.EInvalid, Field: strings.TrimSuffix(prefix, "."),
			Message: fmt.Sprintf("%s has data after the end of its JSON object", what)}
	}
	return nil
}

// jsonError turns a decoding error into an EInvalid *callvault.Error that
// names the field.
func jsonError(err error, data []byte, prefix string, fields []string, nested map[string][]string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &callvault.Error{Code: callvault.EInvalid, Field: strings.TrimSuffix(prefix, "."),
			Message: fmt.Sprintf("not valid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: ")), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &callvault.Error{Code: callvault.EInvalid, Field: strings.TrimSuffix(prefix, "."),
			Message: "not valid JSON: the input ends inside a value", Err: err}
	case errors.As(err, &typ):
		field := prefix + typ.Field
		if typ.Field == "" {
			field = strings.TrimSuffix(prefix, ".")
		}
		want := "a " + typ.Type.Kind().String()
		switch typ.Type.Kind().String() {
		case "int64":
			want = "an integer"
		case "struct":
			want = "an object"
		case "slice":
			want = "an array"
		case "ptr":
			want = "a string"
		}
		return &callvault.Error{Code: callvault.EInvalid, Field: field,
			Message: fmt.Sprintf("%s: expected %s, got %s", field, want, typ.Value), Err: err}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		field := prefix + unknownPath(data, name, fields, nested)
		msg := fmt.Sprintf("%s: unknown field", field)
		for _, s := range serverFields {
			if strings.EqualFold(s, name) {
				msg = fmt.Sprintf("%s: is set by callvault and not accepted from clients", field)
			}
		}
		return &callvault.Error{Code: callvault.EInvalid, Field: field, Message: msg, Err: err}
	}
	return &callvault.Error{Code: callvault.EInvalid, Field: strings.TrimSuffix(prefix, "."), Message: "not valid JSON", Err: err}
}

// unknownPath finds where the unknown field name sits in data: at the top
// level ("name") or in one of the nested objects ("from.name").
func unknownPath(data []byte, name string, fields []string, nested map[string][]string) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return name
	}
	known := func(list []string, k string) bool {
		for _, f := range list {
			if strings.EqualFold(f, k) {
				return true
			}
		}
		return false
	}
	for k := range top {
		if k == name && !known(fields, k) {
			return name
		}
	}
	for k, raw := range top {
		for parent, list := range nested {
			if !strings.EqualFold(k, parent) {
				continue
			}
			var sub map[string]json.RawMessage
			if json.Unmarshal(raw, &sub) != nil {
				continue
			}
			if _, ok := sub[name]; ok && !known(list, name) {
				return parent + "." + name
			}
		}
	}
	return name
}

// NDJSONReader reads call records from newline-delimited JSON, one object
// per line, with bounded memory. Blank lines are skipped.
type NDJSONReader struct {
	lines *lineReader
	arena arena // the records' strings (see arena)
}

// NewNDJSONReader returns a reader of the NDJSON records in r. Lines may
// be at most MaxLineBytes long.
func NewNDJSONReader(r io.Reader) *NDJSONReader {
	return &NDJSONReader{lines: newLineReader(r, MaxLineBytes)}
}

// Next returns the next record, validated (see DecodeRecord), and the
// 1-based number of its line. A bad line gives a *callvault.Error (code
// EInvalid, message starting "line N: ") and the reader goes on with the
// next line on the following call. At the end it returns io.EOF; a read
// error of r is returned as it is and ends the stream.
func (n *NDJSONReader) Next() (*callvault.CallRecord, int, error) {
	for {
		b, num, tooLong, err := n.lines.next()
		if err != nil {
			return nil, num, err
		}
		if tooLong {
			return nil, num, at("line", num, callvault.Errorf(callvault.EInvalid, "longer than the %d-byte line limit", MaxLineBytes))
		}
		if blank(b) {
			continue
		}
		rec, err := decodeRecord(b, &n.arena)
		if err != nil {
			return nil, num, at("line", num, err)
		}
		return rec, num, nil
	}
}

// ForEachRecord streams the call records of a batch from r, a JSON array
// of record objects or NDJSON (told apart by the first non-space byte, '['
// for an array), or one JSON object spanning several lines (a
// pretty-printed record: a batch of one, see multiLine), without holding
// the batch in memory. fn gets each record, validated (see DecodeRecord),
// or the error of a bad item: a *callvault.Error whose message starts with
// the item's position ("line 3: " for NDJSON, "record 3: " for the 3rd
// element of an array, "record 1: " for a multi-line object); pos is that
// line or position. A bad item does not stop the stream; fn
// returning an error does, and ForEachRecord returns it. A malformed array
// (it cannot be read past the error) ends the stream with an EInvalid
// error, and so does a broken multi-line object; a read error of r is
// returned as it is.
func ForEachRecord(r io.Reader, fn func(rec *callvault.CallRecord, pos int, err error) error) error {
	return eachItem(r, func(unit string, n int, data []byte, err error) error {
		var rec *callvault.CallRecord
		if err == nil {
			rec, err = DecodeRecord(data)
		}
		if err != nil {
			return fn(nil, n, at(unit, n, err))
		}
		return fn(rec, n, nil)
	})
}

// DecodeBatch decodes a whole batch of call records from r (see
// ForEachRecord). A batch is all or nothing: if any item is bad,
// DecodeBatch returns a *BatchError listing the bad items and no records.
// max > 0 limits the number of records (ETooLarge beyond it).
func DecodeBatch(r io.Reader, max int) ([]*callvault.CallRecord, error) {
	var a arena // the batch's strings (see arena)
	return decodeAll(r, max, "records", func(data []byte) (*callvault.CallRecord, error) { return decodeRecord(data, &a) })
}

// decodeAll decodes every item of a JSON array or NDJSON stream with
// decode, all or nothing (see DecodeBatch); noun names the items in the
// ETooLarge message.
func decodeAll[T any](r io.Reader, max int, noun string, decode func([]byte) (T, error)) ([]T, error) {
	var items []T
	var be BatchError
	count := 0
	err := eachItem(r, func(unit string, n int, data []byte, err error) error {
		if count++; max > 0 && count > max {
			return callvault.Errorf(callvault.ETooLarge, "the batch has more than %d %s", max, noun)
		}
		var item T
		if err == nil {
			item, err = decode(data)
		}
		switch {
		case err == nil:
			items = append(items, item)
		case len(be.Errors) < MaxBatchErrors:
			be.Errors = append(be.Errors, at(unit, n, err))
		default:
			be.More++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(be.Errors) > 0 {
		return nil, &be
	}
	return items, nil
}

// eachItem calls fn with each item of a JSON array or NDJSON stream, or
// with the one object of a body that is a JSON object spanning lines
// (see multiLine): unit is "record" (array position; 1 for the one
// object) or "line", n is 1-based. An item-level problem (an overlong
// line) comes as err with data nil; fn returning an error stops the walk.
// A malformed array or multi-line object stops the walk with an EInvalid
// error; a read error of r is returned as it is.
func eachItem(r io.Reader, fn itemFunc) error {
	br := newPeekReader(r)
	first, err := br.firstNonSpace()
	if err != nil && err != io.EOF {
		return err
	}
	if first != '[' {
		lines := newLineReader(br, MaxLineBytes)
		checkFirst := first == '{' // whether the first line may start a multi-line object
		for {
			b, num, tooLong, err := lines.next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if tooLong {
				err = callvault.Errorf(callvault.EInvalid, "longer than the %d-byte line limit", MaxLineBytes)
			} else if blank(b) {
				continue
			} else if checkFirst && !json.Valid(b) {
				// Not a complete JSON value: a multi-line object, or a
				// bad first line (see multiLine).
				done, err := multiLine(lines, b, num, fn)
				if done || err != nil {
					return err
				}
				checkFirst = false
				continue
			}
			checkFirst = false
			if err := fn("line", num, b, err); err != nil {
				return err
			}
		}
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return arrayError(err)
	}
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return arrayError(err)
		}
		var itemErr error
		if len(raw) > MaxLineBytes {
			raw, itemErr = nil, callvault.Errorf(callvault.EInvalid, "longer than the %d-byte record limit", MaxLineBytes)
		}
		if err := fn("record", n, raw, itemErr); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return arrayError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return callvault.Errorf(callvault.EInvalid, "the body has data after the end of its JSON array")
		}
		return arrayError(err)
	}
	return nil
}

// arrayError reports a JSON array that cannot be read; read errors other
// than a syntax error pass through.
func arrayError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return &callvault.Error{Code: callvault.EInvalid, Message: fmt.Sprintf("the body is not a valid JSON array at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: ")), Err: err}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &callvault.Error{Code: callvault.EInvalid, Message: "the body ends inside its JSON array", Err: err}
	}
	return err
}

// peekReader lets eachItem look at the first non-space byte and still hand
// the whole input on.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func newPeekReader(r io.Reader) *peekReader { return &peekReader{r: r} }

// firstNonSpace reads until the first byte that is not JSON white space and
// keeps everything read for Read; it returns 0 and io.EOF for an empty or
// blank input.
func (p *peekReader) firstNonSpace() (byte, error) {
	var chunk [512]byte
	for {
		n, err := p.r.Read(chunk[:])
		if len(p.buf) > MaxLineBytes {
			// Only white space so far: drop it, keeping memory bounded.
			p.buf = p.buf[:0]
		}
		p.buf = append(p.buf, chunk[:n]...)
		for _, c := range p.buf {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return c, nil
			}
		}
		if err != nil {
			return 0, err
		}
	}
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}
