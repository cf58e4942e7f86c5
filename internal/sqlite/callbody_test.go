package sqlite

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callgen"
	"github.com/callvault/callvault/internal/callvault"
)

// roundTrip encodes r's body and decodes it into a record that has only
// what the columns give.
func roundTrip(t *testing.T, r *callvault.CallRecord) *callvault.CallRecord {
	t.Helper()
	body := appendCallBody(nil, r)
	if !json.Valid(body) {
		t.Fatalf("invalid JSON: %s", body)
	}
	got := &callvault.CallRecord{
		TenantID: r.TenantID, ID: r.ID, Start: r.Start, Direction: r.Direction, Result: r.Result,
		From: callvault.Party{PhoneNumber: r.From.PhoneNumber}, To: callvault.Party{PhoneNumber: r.To.PhoneNumber},
	}
	if err := decodeCallBody(body, got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return got
}

// bodyFields returns the record with only the fields that round-trip
// through the body and the columns roundTrip copies.
func bodyFields(r *callvault.CallRecord) *callvault.CallRecord {
	x := &callvault.CallRecord{
		TenantID: r.TenantID, ID: r.ID, Start: r.Start, Direction: r.Direction, Result: r.Result,
		Action: r.Action, Transport: r.Transport, From: r.From, To: r.To, Legs: r.Legs, RecordingIDs: r.RecordingIDs,
	}
	if len(x.Legs) == 0 {
		x.Legs = nil
	}
	for i := range x.Legs {
		if !x.Legs[i].Start.IsZero() {
			x.Legs[i].Start = x.Legs[i].Start.UTC().Truncate(time.Microsecond)
		}
	}
	if len(x.RecordingIDs) == 0 {
		x.RecordingIDs = nil
	}
	return x
}

func TestCallBodyGenerated(t *testing.T) {
	g := callgen.New(42, "acme", callgen.Sites(3), callgen.Extensions(40))
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	for i := range 5000 {
		r := g.Next(start.Add(time.Duration(i) * time.Minute))
		if got, want := roundTrip(t, r), bodyFields(r); !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d:\n got %+v\nwant %+v\nbody %s", i, got, want, appendCallBody(nil, r))
		}
	}
}

func TestCallBodyEdges(t *testing.T) {
	start := time.Date(2025, 3, 14, 9, 0, 0, 123456000, time.UTC)
	odd := "quote \" backslash \\ nl \n tab \t ctl \x01\x1f del \x7f é 😀 \u2028 <&>"
	from := callvault.Party{PhoneNumber: "+14155550100", Name: odd, ExtensionID: "usr_1", ExtensionNumber: "101"}
	to := callvault.Party{PhoneNumber: "+14155550199"}
	r := &callvault.CallRecord{
		TenantID: "t", ID: "c", Start: start, Direction: callvault.DirectionInbound, Result: callvault.ResultAccepted,
		Action: "Phone Call", Transport: callvault.TransportPSTN, From: from, To: to,
		Legs: []callvault.Leg{
			{LegType: "A", Master: true, Direction: callvault.DirectionInbound, Action: "Phone Call", Result: callvault.ResultAccepted,
				Transport: callvault.TransportPSTN, From: from, To: to, Start: start, DurationMs: 1},
			// Values that differ from the record's, "" included; a zero start.
			{LegType: "", Direction: "", Action: odd, Result: "", Transport: "", From: to, To: from},
			// Parties that are neither; a start before the record's.
			{LegType: "FindMe", From: callvault.Party{Name: "only a name"}, To: callvault.Party{PhoneNumber: "+4930123"},
				Start: start.Add(-time.Hour + 7*time.Microsecond), DurationMs: -5},
			// An empty party; a start long after.
			{LegType: "X", Start: start.Add(365 * 24 * time.Hour)},
		},
		RecordingIDs: []string{"rec_1", odd},
	}
	if got, want := roundTrip(t, r), bodyFields(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %+v\nwant %+v\nbody %s", got, want, appendCallBody(nil, r))
	}
	// Invalid UTF-8 becomes U+FFFD, as with encoding/json.
	bad := &callvault.CallRecord{Start: start, Action: "a\xffb"}
	if got := roundTrip(t, bad); got.Action != "a\uFFFDb" {
		t.Errorf("invalid UTF-8: got %q", got.Action)
	}
	// An empty record has an empty body.
	if b := appendCallBody(nil, &callvault.CallRecord{Start: start}); string(b) != "{}" {
		t.Errorf("empty record: body %s", b)
	}
}

func BenchmarkCallBody(b *testing.B) {
	g := callgen.New(1, "acme", callgen.Sites(50), callgen.Extensions(2000))
	recs := make([]*callvault.CallRecord, 1000)
	size := 0
	for i := range recs {
		recs[i] = g.Next(time.Now())
		size += len(appendCallBody(nil, recs[i]))
	}
	b.Run("encode", func(b *testing.B) {
		var buf []byte
		for i := range b.N {
			buf = appendCallBody(buf[:0], recs[i%len(recs)])
		}
		b.ReportMetric(float64(size)/float64(len(recs)), "bytes/body")
	})
	b.Run("decode", func(b *testing.B) {
		bodies := make([][]byte, len(recs))
		for i, r := range recs {
			bodies[i] = appendCallBody(nil, r)
		}
		for i := range b.N {
			r := recs[i%len(recs)]
			x := callvault.CallRecord{Start: r.Start, Direction: r.Direction, Result: r.Result}
			if err := decodeCallBody(bodies[i%len(recs)], &x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCallBodyDecodeJSON reads bodies written by other JSON writers: any
// escape, white space, keys in another order, keys it does not know.
func TestCallBodyDecodeJSON(t *testing.T) {
	for _, s := range []string{
		"plain", "", `quote " and \ backslash`, "ctl \x00\x01\x1f\x7f", "<html> & \u2028\u2029",
		"é 😀 \U0010FFFF", "bad \xff utf-8",
	} {
		enc, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(enc, &want)
		r := callvault.CallRecord{}
		if err := decodeCallBody([]byte(`{"action":`+string(enc)+`}`), &r); err != nil || r.Action != want {
			t.Errorf("decode %s: %q, %v; want %q", enc, r.Action, err, want)
		}
	}
	for body, want := range map[string]string{
		`{"action":"\ud83d\ude00"}`:       "😀",
		`{"action":"\ud83d"}`:             "\uFFFD",
		`{"action":"\ud83dx"}`:            "\uFFFDx",
		`{"action":"\ude00\u0041"}`:       "\uFFFDA",
		`{"action":"\/\b\f\n\r\t\u00e9"}`: "/\b\f\n\r\té",
	} {
		r := callvault.CallRecord{}
		if err := decodeCallBody([]byte(body), &r); err != nil || r.Action != want {
			t.Errorf("decode %s: %q, %v; want %q", body, r.Action, err, want)
		}
	}
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	r := callvault.CallRecord{Start: start, Direction: "Inbound", From: callvault.Party{PhoneNumber: "+1"}}
	body := ` { "future" : {"a":[1, -2.5e3, true, false, null, {"b":"\""}]} , "legs" : [ { "to" : "F" , "x":[] ,
		"offsetUs" : -7 , "master" : true } ] , "from" : { "name" : "N" } , "transport":"PSTN"} `
	if err := decodeCallBody([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	// Legs come after the record's fields in bodies the store writes; here
	// "from" came after the leg that refers to it.
	want := []callvault.Leg{{Master: true, Direction: "Inbound", To: callvault.Party{PhoneNumber: "+1"},
		Start: start.Add(-7 * time.Microsecond)}}
	if !reflect.DeepEqual(r.Legs, want) || r.From.Name != "N" || r.Transport != "PSTN" {
		t.Errorf("decoded %+v", r)
	}
	for _, bad := range []string{``, `{`, `{"action"}`, `{"action":1}`, `{"legs":{}}`, `{"legs":[{"from":"X"}]}`,
		`{"action":"x"`, `{"action":"\x"}`, `{"action":"\u12"}`, `{"legs":[{"master":tru}]}`, `{} {}`,
		`{"legs":[{"offsetUs":"1"}]}`, `{"a":}`, `{"action":"x",}`, `[]`} {
		if err := decodeCallBody([]byte(bad), &callvault.CallRecord{}); err == nil {
			t.Errorf("decode %q: no error", bad)
		}
	}
}

// FuzzCallBody checks that any record's body decodes to the record, and
// that decoding any bytes returns an error or a record, never a panic.
func FuzzCallBody(f *testing.F) {
	f.Add("Phone Call", "Ann \"Lee\"", "+14155550100", int64(61000), []byte(`{"legs":[{"from":"F"}]}`))
	f.Add("\x00\xff", "😀\\", "", int64(-1), []byte(`{"action":"\ud83d"}`))
	f.Fuzz(func(t *testing.T, action, name, number string, ms int64, raw []byte) {
		_ = decodeCallBody(raw, &callvault.CallRecord{})
		// Invalid UTF-8 becomes U+FFFD (TestCallBodyEdges).
		action, name, number = strings.ToValidUTF8(action, "\uFFFD"), strings.ToValidUTF8(name, "\uFFFD"), strings.ToValidUTF8(number, "\uFFFD")
		start := time.UnixMicro(ms * 997).UTC()
		p := callvault.Party{PhoneNumber: number, Name: name, ExtensionNumber: action}
		r := &callvault.CallRecord{Start: start, Direction: name, Result: action, Action: action, Transport: name,
			From: p, To: callvault.Party{Name: action},
			Legs: []callvault.Leg{
				{LegType: name, Direction: action, From: p, To: callvault.Party{PhoneNumber: name}, Start: start.Add(time.Duration(ms) * time.Microsecond), DurationMs: ms},
				{Action: name, Result: "", To: p},
			},
			RecordingIDs: []string{name, action}}
		got := roundTrip(t, r)
		if want := bodyFields(r); !reflect.DeepEqual(got, want) {
			t.Fatalf("\n got %+v\nwant %+v", got, want)
		}
	})
}
