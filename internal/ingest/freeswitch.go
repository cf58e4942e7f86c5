package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// ErrBLeg is returned by ParseFreeSWITCH for the CDR of a B-leg (a channel
// FreeSWITCH originated for a bridge: variables.originator is set). A call
// is one record, built from its A-leg, whose legs include the bridged
// callee (from the A-leg's originatee profile and bridged_time); the B-leg
// document adds nothing callvault stores, so importers skip it and the HTTP
// endpoint must acknowledge it with a 2xx all the same (FreeSWITCH retries
// any other status and finally writes the CDR to its error directory).
var ErrBLeg = errors.New("a FreeSWITCH B-leg CDR: its call is recorded from the A-leg")

// fsString is a caller-profile or times value: a string in every
// FreeSWITCH version, but numbers and booleans are taken too, and objects
// or arrays are read as "".
type fsString string

func (s *fsString) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = fsString(v)
	case '{', '[', 'n':
		*s = ""
	default:
		*s = fsString(b)
	}
	return nil
}

// fsProfile is a caller profile (13 fields; those used here).
type fsProfile struct {
	CallerIDName      fsString        `json:"caller_id_name"`
	CallerIDNumber    fsString        `json:"caller_id_number"`
	RDNIS             fsString        `json:"rdnis"`
	DestinationNumber fsString        `json:"destination_number"`
	UUID              fsString        `json:"uuid"`
	Context           fsString        `json:"context"`
	Originator        json.RawMessage `json:"originator"`
	Originatee        json.RawMessage `json:"originatee"`
}

// fsTimes are a callflow entry's times, in microseconds.
type fsTimes struct {
	CreatedTime        fsString `json:"created_time"`
	ProfileCreatedTime fsString `json:"profile_created_time"`
	AnsweredTime       fsString `json:"answered_time"`
	BridgedTime        fsString `json:"bridged_time"`
	HangupTime         fsString `json:"hangup_time"`
}

type fsCallflow struct {
	CallerProfile fsProfile `json:"caller_profile"`
	Times         fsTimes   `json:"times"`
}

type fsApp struct {
	AppName fsString `json:"app_name"`
	AppData fsString `json:"app_data"`
}

// fsDoc is what ParseFreeSWITCH reads of a mod_json_cdr document.
type fsDoc struct {
	vars        map[string]string
	callflow    []fsCallflow // newest profile first
	apps        []fsApp
	chanDir     string
	hasVars     bool
	hasCallflow bool
}

// decodeFSDoc reads the document's top-level object key by key, so that
// the old repeated "callflow" keys are all kept.
func decodeFSDoc(body []byte) (*fsDoc, error) {
	bad := func(field, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if field != "" {
			msg = field + ": " + msg
		}
		return &callvault.Error{Code: callvault.EInvalid, Field: field, Message: msg}
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, bad("", "the CDR is not a JSON object")
	}
	if !json.Valid(body) {
		err := json.Unmarshal(body, new(any))
		return nil, jsonError(err, body, "", nil, nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.Token() // '{', checked above
	doc := &fsDoc{vars: map[string]string{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("", "not valid JSON")
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bad(key, "not valid JSON")
		}
		switch key {
		case "variables":
			var vars map[string]json.RawMessage
			if err := json.Unmarshal(raw, &vars); err != nil {
				return nil, bad("variables", "expected an object")
			}
			doc.hasVars = true
			for k, v := range vars {
				switch v[0] {
				case '"':
					var s string
					if json.Unmarshal(v, &s) == nil && s != "" {
						doc.vars[k] = s
					}
				case '{', '[', 'n':
				default:
					doc.vars[k] = string(v)
				}
			}
		case "callflow":
			doc.hasCallflow = true
			switch raw[0] {
			case '[':
				var cf []fsCallflow
				if err := json.Unmarshal(raw, &cf); err != nil {
					return nil, bad("callflow", "expected an array of callflow objects")
				}
				doc.callflow = append(doc.callflow, cf...)
			case '{':
				var cf fsCallflow
				if err := json.Unmarshal(raw, &cf); err != nil {
					return nil, bad("callflow", "expected a callflow object")
				}
				doc.callflow = append(doc.callflow, cf)
			default:
				return nil, bad("callflow", "expected an array or an object")
			}
		case "channel_data":
			var cd struct {
				Direction fsString `json:"direction"`
			}
			if json.Unmarshal(raw, &cd) == nil {
				doc.chanDir = string(cd.Direction)
			}
		case "app_log":
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				for k, v := range m {
					if k == "applications" || k == "application" {
						doc.apps = append(doc.apps, objects[fsApp](v)...)
					}
				}
			}
		}
	}
	if !doc.hasVars {
		return nil, bad("variables", "required: a mod_json_cdr document has a variables object")
	}
	decodeVars(doc.vars)
	return doc, nil
}

// objects decodes raw as an array of T or a single T; anything else gives
// nothing.
func objects[T any](raw json.RawMessage) []T {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '[' {
		var list []T
		if json.Unmarshal(raw, &list) == nil {
			return list
		}
		return nil
	}
	var one T
	if raw[0] == '{' && json.Unmarshal(raw, &one) == nil {
		return []T{one}
	}
	return nil
}

// urlUnsafe are the characters switch_url_encode always escapes (besides
// bytes below 0x20 and above 0x7E); '%' is not among them because an
// existing %XX is kept.
const urlUnsafe = "\r\n #&+:;<=>?@[\\]^`{|}\""

// decodeVars URL-decodes every variable once when the document was written
// with encode-values=true (the default). That is detected, not configured:
// encoded values never hold a character switch_url_encode escapes, while
// a plain document always has some (start_stamp alone holds ' ' and ':').
func decodeVars(vars map[string]string) {
	for _, v := range vars {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c > 0x7E || strings.IndexByte(urlUnsafe, c) >= 0 {
				return // not encoded
			}
		}
	}
	for k, v := range vars {
		vars[k] = percentDecode(v)
	}
}

// percentDecode decodes %XX sequences (hex in either case) and leaves
// everything else, '+' and malformed '%' included, as it is.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// fsMaxExtensionDigits is the most digits of an extension in FreeSWITCH
// CDRs (as for Asterisk's default).
const fsMaxExtensionDigits = 6

// ParseFreeSWITCH maps one mod_json_cdr document (the JSON text; see
// DecodeFreeSWITCHHTTP for HTTP bodies) to a validated call record. It
// returns ErrBLeg for a B-leg, and a *callvault.Error or FieldErrors (code
// EInvalid) for a document it cannot use.
//
// Mapping: id is variables.uuid (else the newest caller profile's uuid);
// sessionId is variables.call_uuid (else the uuid); telephonySessionId is
// sip_call_id. Times come from start/answer/end_uepoch (µs), else the
// *_epoch seconds, else the callflow times; durations are computed from
// them. The caller is callflow[0].caller_profile's caller_id_number and
// caller_id_name (a name equal to the number is dropped); the callee's
// number is the original destination (rdnis, else the oldest profile's
// destination_number), and its extension the first extension-like value
// among callee_id_number, the originatee profile's destination_number,
// dialed_user and the destination numbers. siteId is left empty: the caller
// sets it (the document's switchname is not a tenant's site id).
//
// Direction: variables.call_direction (FusionPBX: inbound, outbound,
// local) when set; else Inbound when the original context is "public"
// (FreeSWITCH's context for calls from gateways); else by the numbers as
// for Asterisk: an extension calling an extension is Internal, an
// extension calling anything else Outbound, anything calling an extension
// Inbound; else Inbound for a channel FreeSWITCH received
// (direction=inbound) and Outbound for one it originated.
//
// Result: Accepted when answered (Voicemail when answered by the
// voicemail application and never bridged); else by hangup_cause: USER_BUSY
// Busy; CALL_REJECTED Rejected; NO_ANSWER, NO_USER_RESPONSE,
// ORIGINATOR_CANCEL, NORMAL_CLEARING, LOSE_RACE, PICKED_OFF and similar
// Missed for inbound calls and No Answer (Hang Up when the caller
// cancelled) otherwise; any other cause Failed.
//
// Legs: the master leg (the call to its original destination, all of
// it); a Transfer leg for each newer caller profile (a transfer, which
// FreeSWITCH records as a new profile), from its profile_created_time; and,
// when the call was bridged, an Accept leg to the bridged callee from
// bridged_time.
func ParseFreeSWITCH(body []byte) (*callvault.CallRecord, error) {
	doc, err := decodeFSDoc(body)
	if err != nil {
		return nil, err
	}
	v := doc.vars
	var newest, oldest fsCallflow
	if n := len(doc.callflow); n > 0 {
		newest, oldest = doc.callflow[0], doc.callflow[n-1]
	}
	if v["originator"] != "" || v["originating_leg_uuid"] != "" || nonEmptyObject(newest.CallerProfile.Originator) {
		return nil, ErrBLeg
	}

	var fe FieldErrors
	start := fsTime(&fe, v, "start", string(oldest.Times.CreatedTime))
	answer := fsTime(&fe, v, "answer", string(newest.Times.AnsweredTime))
	end := fsTime(&fe, v, "end", string(newest.Times.HangupTime))
	bridged := fsMicros(&fe, "callflow[0].times.bridged_time", string(newest.Times.BridgedTime))
	if start.IsZero() && len(fe) == 0 {
		fe.add("variables.start_uepoch", "required: the CDR has no start time")
	}
	if end.IsZero() && len(fe) == 0 {
		fe.add("variables.end_uepoch", "required: the CDR has no end time")
	}
	if len(fe) > 0 {
		return nil, fe
	}

	isExt := func(s string) bool { return isExtension(s, fsMaxExtensionDigits) }
	cp := newest.CallerProfile
	callerNum := string(cp.CallerIDNumber)
	callerName := string(cp.CallerIDName)
	if callerNum == "" && callerName == "" {
		callerName, callerNum = parseCallerID(v["caller_id"])
	}
	dest := string(cp.DestinationNumber)
	orig := firstNonEmpty(string(cp.RDNIS), string(oldest.CallerProfile.DestinationNumber), dest)
	var originatee []fsProfile
	if raw := cp.Originatee; len(raw) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			originatee = append(objects[fsProfile](m["originatee_caller_profiles"]), objects[fsProfile](m["originatee_caller_profile"])...)
		}
	}
	callee := ""
	for _, c := range []string{v["callee_id_number"], firstOf(originatee), v["dialed_user"], dest, orig} {
		if isExt(c) {
			callee = c
			break
		}
	}

	dir := ""
	switch strings.ToLower(v["call_direction"]) {
	case "inbound":
		dir = callvault.DirectionInbound
	case "outbound":
		dir = callvault.DirectionOutbound
	case "local":
		dir = callvault.DirectionInternal
	}
	chanDir := firstNonEmpty(v["direction"], doc.chanDir)
	callerExt := isExt(callerNum)
	switch {
	case dir != "":
	case strings.EqualFold(string(oldest.CallerProfile.Context), "public"):
		dir = callvault.DirectionInbound
	case callerExt && callee != "":
		dir = callvault.DirectionInternal
	case callerExt:
		dir = callvault.DirectionOutbound
	case callee != "":
		dir = callvault.DirectionInbound
	case strings.EqualFold(chanDir, "inbound"):
		dir = callvault.DirectionInbound
	default:
		dir = callvault.DirectionOutbound
	}

	var from, to callvault.Party
	switch {
	case callerExt:
		from.ExtensionNumber = callerNum
	case hasDigit(callerNum):
		from.PhoneNumber = clean(callerNum, MaxNumberLen)
	}
	if callerName != callerNum {
		from.Name = clean(callerName, MaxNameLen)
	}
	if from.Name == "" && from.PhoneNumber == "" && from.ExtensionNumber == "" {
		from.Name = clean(callerNum, MaxNameLen)
	}
	if !isExt(orig) && hasDigit(orig) {
		to.PhoneNumber = clean(orig, MaxNumberLen)
	} else if !isExt(dest) && hasDigit(dest) {
		to.PhoneNumber = clean(dest, MaxNumberLen)
	}
	to.ExtensionNumber = callee
	if n := v["callee_id_name"]; n != "" && n != v["callee_id_number"] {
		to.Name = clean(n, MaxNameLen)
	}

	answered := !answer.IsZero()
	rec := &callvault.CallRecord{
		ID:                 firstNonEmpty(v["uuid"], string(cp.UUID)),
		SessionID:          firstNonEmpty(v["call_uuid"], v["uuid"], string(cp.UUID)),
		TelephonySessionID: v["sip_call_id"],
		Start:              start,
		Answer:             answer,
		End:                end,
		Direction:          dir,
		Type:               callvault.CallVoice,
		From:               from,
		To:                 to,
	}
	if len(rec.TelephonySessionID) > MaxIDLen || !printable(rec.TelephonySessionID) {
		rec.TelephonySessionID = ""
	}
	if rec.ID == "" {
		return nil, FieldErrors{callvault.FieldError("variables.uuid", "variables.uuid: required: the CDR has no uuid")}
	}
	voicemail := false
	for _, app := range doc.apps {
		switch strings.ToLower(string(app.AppName)) {
		case "voicemail":
			if !strings.HasPrefix(strings.TrimSpace(string(app.AppData)), "check") {
				voicemail = true
			}
		case "rxfax", "txfax", "spandsp_start_fax_detect":
			rec.Type = callvault.CallFax
		}
	}
	switch {
	case answered && voicemail && bridged.IsZero():
		rec.Result = callvault.ResultVoicemail
	case answered:
		rec.Result = callvault.ResultAccepted
	default:
		rec.Result = fsResult(v["hangup_cause"], dir)
	}

	// Legs. Times are clamped into the call so that a profile created a
	// moment before the channel (or a stale time) cannot reject the CDR.
	clamp := func(t time.Time) time.Time {
		switch {
		case t.Before(start):
			return start
		case t.After(end):
			return end
		}
		return t
	}
	if end.After(start) || end.Equal(start) {
		origParty := to
		if isExt(orig) {
			origParty = callvault.Party{ExtensionNumber: orig}
		}
		rec.Legs = append(rec.Legs, callvault.Leg{LegType: LegTypeAccept, Master: true, Direction: dir, Result: rec.Result,
			From: from, To: origParty, Start: start, DurationMs: end.Sub(start).Milliseconds()})
		for i := len(doc.callflow) - 2; i >= 0; i-- {
			p := doc.callflow[i]
			ts := fsMicros(&fe, "callflow.times.profile_created_time", string(p.Times.ProfileCreatedTime))
			if ts.IsZero() {
				continue
			}
			ts = clamp(ts)
			until := end
			if i > 0 {
				if next := fsMicros(&fe, "callflow.times.profile_created_time", string(doc.callflow[i-1].Times.ProfileCreatedTime)); !next.IsZero() {
					until = clamp(next)
				}
			}
			if until.Before(ts) {
				until = ts
			}
			d := string(p.CallerProfile.DestinationNumber)
			var tp callvault.Party
			if isExt(d) {
				tp.ExtensionNumber = d
			} else if hasDigit(d) {
				tp.PhoneNumber = clean(d, MaxNumberLen)
			}
			rec.Legs = append(rec.Legs, callvault.Leg{LegType: LegTypeTransfer, Direction: dir, Result: rec.Result,
				From: from, To: tp, Start: ts, DurationMs: until.Sub(ts).Milliseconds()})
		}
		if !bridged.IsZero() {
			b := clamp(bridged)
			rec.Legs = append(rec.Legs, callvault.Leg{LegType: LegTypeAccept, Direction: dir, Result: callvault.ResultAccepted,
				From: from, To: to, Start: b, DurationMs: end.Sub(b).Milliseconds()})
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if fe := Validate(rec); len(fe) > 0 {
		return nil, fe
	}
	return rec, nil
}

// nonEmptyObject reports whether raw is a JSON object with members.
func nonEmptyObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && len(m) > 0
}

func firstOf(ps []fsProfile) string {
	for _, p := range ps {
		if p.DestinationNumber != "" {
			return string(p.DestinationNumber)
		}
	}
	return ""
}

// fsTime reads a time of the CDR: <what>_uepoch (µs), else <what>_epoch
// (s), else the callflow time given (µs). "0" or missing is the zero time.
func fsTime(fe *FieldErrors, v map[string]string, what, callflow string) time.Time {
	if s := v[what+"_uepoch"]; s != "" {
		if t := fsMicros(fe, "variables."+what+"_uepoch", s); !t.IsZero() {
			return t
		}
	}
	if s := v[what+"_epoch"]; s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			fe.add("variables."+what+"_epoch", "%s is not a time in seconds since 1970", show(s))
			return time.Time{}
		}
		if n > 0 {
			return time.Unix(n, 0).UTC()
		}
	}
	return fsMicros(fe, "callflow.times."+what, callflow)
}

// fsMicros reads a time in microseconds since 1970; "" and "0" are the zero
// time.
func fsMicros(fe *FieldErrors, field, s string) time.Time {
	if s == "" || s == "0" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<60 {
		fe.add(field, "%s is not a time in microseconds since 1970", show(s))
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// fsResult maps the hangup cause of an unanswered call to a result.
func fsResult(cause, dir string) string {
	inbound := dir == callvault.DirectionInbound
	switch strings.ToUpper(cause) {
	case "USER_BUSY":
		return callvault.ResultBusy
	case "CALL_REJECTED":
		return callvault.ResultRejected
	case "ORIGINATOR_CANCEL", "NORMAL_CLEARING":
		if inbound {
			return callvault.ResultMissed
		}
		return callvault.ResultHangUp
	case "NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "LOSE_RACE", "PICKED_OFF",
		"NORMAL_UNSPECIFIED", "ATTENDED_TRANSFER", "BLIND_TRANSFER", "":
		return defaultResult(dir, false)
	}
	return callvault.ResultFailed
}

// MaxFreeSWITCHDoc is the largest mod_json_cdr document (or line of a
// FreeSWITCH import file) accepted. Real CDRs are 10–20 KB.
const MaxFreeSWITCHDoc = 1 << 20

// FreeSWITCHReader reads mod_json_cdr documents from an import file, one
// per line (FreeSWITCH writes each .cdr.json as one line plus "\n"; a file
// may hold many such lines), with bounded memory. A line may also be the
// escaped text mod_json_cdr leaves in its err-log-dir when HTTP delivery
// failed with encode=true or encode=base64; it is decoded like an HTTP body
// (see DecodeFreeSWITCHHTTP).
type FreeSWITCHReader struct {
	lines *lineReader
}

// NewFreeSWITCHReader returns a reader of the documents in r.
func NewFreeSWITCHReader(r io.Reader) *FreeSWITCHReader {
	return &FreeSWITCHReader{lines: newLineReader(r, MaxFreeSWITCHDoc)}
}

// Next returns the next document as JSON text (its own copy) and its
// 1-based line number. A bad line gives a *callvault.Error (code EInvalid,
// message starting "line N: ") and the reader goes on with the next line
// on the following call. At the end it returns io.EOF; a read error of r is
// returned as it is.
func (f *FreeSWITCHReader) Next() ([]byte, int, error) {
	for {
		b, num, tooLong, err := f.lines.next()
		if err != nil {
			return nil, num, err
		}
		if tooLong {
			return nil, num, at("line", num, callvault.Errorf(callvault.EInvalid, "longer than the %d-byte document limit", MaxFreeSWITCHDoc))
		}
		if blank(b) {
			continue
		}
		doc, err := DecodeFreeSWITCHHTTP("", b)
		if err != nil {
			return nil, num, at("line", num, err)
		}
		return bytes.Clone(doc), num, nil
	}
}

// WalkFreeSWITCH imports the FreeSWITCH CDR files under root in fsys:
// every regular file whose name ends in ".cdr.json", in lexical order. A
// file holds one document, on one line as FreeSWITCH writes it or
// pretty-printed, or one document per line (see FreeSWITCHReader). fn is
// called once per document with the file's path, the document's line
// (1 for a single document), and its record or error: ErrBLeg for a
// B-leg (skip it), a *callvault.Error or FieldErrors for a bad document
// (message starting "line N: "), or the error of a file that cannot be
// read (line 0). The walk stops when fn returns an error, and returns it.
func WalkFreeSWITCH(fsys fs.FS, root string, fn func(name string, line int, rec *callvault.CallRecord, err error) error) error {
	return fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fn(name, 0, nil, err)
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".cdr.json") {
			return nil
		}
		f, err := fsys.Open(name)
		if err != nil {
			return fn(name, 0, nil, err)
		}
		defer f.Close()
		head, err := io.ReadAll(io.LimitReader(f, MaxFreeSWITCHDoc+1))
		if err != nil {
			return fn(name, 0, nil, err)
		}
		if t := bytes.TrimSpace(head); len(head) <= MaxFreeSWITCHDoc && bytes.Count(t, []byte("\n")) > 0 && len(t) > 0 && t[0] == '{' && json.Valid(t) {
			// One pretty-printed document.
			rec, err := ParseFreeSWITCH(t)
			return fn(name, 1, rec, lineErr(1, err))
		}
		r := NewFreeSWITCHReader(io.MultiReader(bytes.NewReader(head), f))
		for {
			doc, line, err := r.Next()
			if err == io.EOF {
				return nil
			}
			var rec *callvault.CallRecord
			if err == nil {
				rec, err = ParseFreeSWITCH(doc)
				err = lineErr(line, err)
			} else if callvault.ErrorCode(err) == callvault.EInternal {
				return fn(name, line, nil, err) // a read error ends the file
			}
			if err := fn(name, line, rec, err); err != nil {
				return err
			}
		}
	})
}

// lineErr places a document's error at its line; ErrBLeg stays as it is.
func lineErr(line int, err error) error {
	if err == nil || errors.Is(err, ErrBLeg) {
		return err
	}
	return at("line", line, err)
}
