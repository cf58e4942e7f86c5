package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// maxItems bounds the loops over a fuzzed stream: a reader that never ends
// is a bug the fuzzer should report, not a hang.
const maxItems = 100000

// wantCoded fails unless err carries a callvault code other than EInternal
// (bad input must never look like a bug).
func wantCoded(t *testing.T, err error) {
	t.Helper()
	if code := callvault.ErrorCode(err); code == callvault.EInternal || code == "" {
		t.Fatalf("error without a client code: %v", err)
	}
}

func addLines(f *testing.F, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, l := range bytes.Split(b, []byte("\n")) {
		f.Add(l)
	}
	return b
}

func FuzzNDJSON(f *testing.F) {
	b := addLines(f, "testdata/calls.ndjson")
	f.Add([]byte("[" + strings.Join(strings.Split(strings.TrimSpace(string(b)), "\n"), ",") + "]"))
	f.Add([]byte(goodRecord + "\n{\"id\":"))
	f.Add([]byte(`{"id":"x","startTime":"2026-10-02T09:00:00Z","durationMs":9223372036854775807,"direction":"Inbound"}`))
	f.Add([]byte(`{"id":"x","startTime":"2099-12-31T23:59:59Z","durationMs":2678400000,"direction":"Inbound"}`))
	f.Add([]byte("{\n  \"id\": \"c1\",\n  \"startTime\": \"2026-10-02T09:00:00Z\",\n  \"durationMs\": 1000,\n  \"direction\": \"Inbound\"\n}\n"))
	f.Add([]byte("{\n  \"id\": \"c1\",\n  \"startTime\": \"2026-10-02T09:00:00Z\",\n"))
	f.Add([]byte("{\"id\":\n" + goodRecord + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rec := range drain(t, NewNDJSONReader(bytes.NewReader(data)).Next) {
			if rec.TenantID != "" || rec.RecordingIDs != nil {
				t.Fatalf("client-set server fields: %+v", rec)
			}
		}
		recs, err := DecodeBatch(bytes.NewReader(data), 1000)
		if obj := bytes.Trim(data, " \t\r\n"); len(obj) > 0 && obj[0] == '{' && json.Valid(obj) {
			// One object decodes the same pretty-printed over lines.
			var p bytes.Buffer
			if json.Indent(&p, obj, " ", "\t") == nil && p.Len() <= MaxLineBytes {
				precs, perr := DecodeBatch(&p, 1000)
				if (err == nil) != (perr == nil) || err == nil && !reflect.DeepEqual(recs, precs) {
					t.Fatalf("one line: %v, %v; pretty: %v, %v", recs, err, precs, perr)
				}
			}
		}
		if err != nil {
			wantCoded(t, err)
			return
		}
		for _, rec := range recs {
			mustValid(t, rec)
		}
	})
}

func FuzzAsterisk(f *testing.F) {
	addLines(f, "testdata/Master.csv")
	f.Add([]byte(ast16[:90] + "\n" + ast16 + "\n"))
	f.Add([]byte(ast16 + `,"1793872800.5"` + "\r\n"))
	f.Add([]byte(strings.Replace(ast16, `"PJSIP/1001,30"`, "\"a\nb\"", 1)))
	f.Add([]byte(strings.Replace(ast16, "ANSWERED", "CANCEL", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []AsteriskOptions{{}, {Columns: &AsteriskColumns{UniqueID: true, UserField: true}}} {
			drain(t, NewAsteriskReader(bytes.NewReader(data), opts).Next)
		}
	})
}

// drain reads a record stream to its end and checks it: it ends, line
// numbers increase, errors carry a client code and start with their line,
// and every record passes Validate unchanged.
func drain(t *testing.T, next func() (*callvault.CallRecord, int, error)) []*callvault.CallRecord {
	t.Helper()
	var recs []*callvault.CallRecord
	last := 0
	for i := 0; ; i++ {
		if i > maxItems {
			t.Fatal("reader does not end")
		}
		rec, n, err := next()
		if err == io.EOF {
			return recs
		}
		if n <= last {
			t.Fatalf("line %d after line %d", n, last)
		}
		last = n
		if err != nil {
			wantCoded(t, err)
			if !strings.HasPrefix(callvault.ErrorMessage(err), "line ") {
				t.Fatalf("error without its line: %v", err)
			}
			continue
		}
		mustValid(t, rec)
		recs = append(recs, rec)
	}
}

func addDir(f *testing.F, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzFreeSWITCH(f *testing.F) {
	addDir(f, "testdata/freeswitch")
	f.Add([]byte(fsDocText(`{"uuid":"u","start_epoch":"1790673262","end_epoch":"1790673300"}`, `{"caller_profile":{"caller_id_number":5}}`)))
	f.Add([]byte(fsDocText(`{"uuid":"u"}`, `[{"times":{"created_time":"1790673262000000","hangup_time":"1790673262000001","bridged_time":"1"}}]`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseFreeSWITCH(data)
		if err != nil {
			if rec != nil {
				t.Fatal("record and error")
			}
			if !errors.Is(err, ErrBLeg) {
				wantCoded(t, err)
			}
			return
		}
		mustValid(t, rec)
	})
}

func FuzzFreeSWITCHHTTP(f *testing.F) {
	entries, err := os.ReadDir("testdata/freeswitch-http")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		ct, body := httpBody(f, e.Name())
		f.Add(ct, body)
	}
	f.Add("", []byte("cdr=e30="))
	f.Add("application/x-www-form-base64-encoded", []byte("cdr=%7B%7D"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		doc, err := DecodeFreeSWITCHHTTP(contentType, body)
		if err != nil {
			if doc != nil {
				t.Fatal("document and error")
			}
			wantCoded(t, err)
			return
		}
		if len(doc) == 0 || doc[0] != '{' || !json.Valid(doc) {
			t.Fatalf("not a JSON object: %.80q", doc)
		}
		rec, err := ParseFreeSWITCH(doc)
		if err == nil {
			mustValid(t, rec)
		}
		// The reader decodes a line of an import file the same way.
		if !bytes.ContainsAny(body, "\r\n") {
			d2, _, err := NewFreeSWITCHReader(bytes.NewReader(body)).Next()
			if err != nil || !bytes.Equal(d2, doc) {
				t.Fatalf("reader: %v", err)
			}
		}
	})
}

// fuzzEvents turns bytes into a plausible event sequence of one call: each
// byte picks the type (low 3 bits), a time step (next 4 bits, the top
// value going back in time) and, with the top bit, a repeat of the
// previous event's id.
func fuzzEvents(data []byte) []*callvault.CallEvent {
	var evs []*callvault.CallEvent
	ts := t0
	for i, b := range data {
		typ := callvault.CallEventTypes[int(b&7)]
		step := int(b>>3) & 15
		if step == 15 {
			ts = ts.Add(-time.Second)
		} else {
			ts = ts.Add(time.Duration(step) * time.Second)
		}
		e := &callvault.CallEvent{TenantID: "t1", ID: "e" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)), CallID: "call-1",
			Type: typ, Timestamp: ts}
		if b&128 != 0 && len(evs) > 0 {
			e.ID = evs[len(evs)-1].ID
		}
		switch typ {
		case callvault.EventRinging:
			inbound(e)
			if i%2 == 1 {
				e.From, e.To = callvault.Party{ExtensionNumber: "1001"}, callvault.Party{PhoneNumber: "+15550001111"}
			}
		case callvault.EventTransferred:
			e.TransferTo = callvault.Party{ExtensionNumber: "100" + string(rune('0'+i%10))}
		case callvault.EventRecordingStarted:
			e.RecordingID = "rec-" + string(rune('a'+i%26))
		case callvault.EventEnded:
			if i%3 == 0 {
				e.Result = callvault.ResultBusy
			}
		}
		evs = append(evs, e)
	}
	return evs
}

func FuzzReplay(f *testing.F) {
	// ringing, answered, held, resumed, transferred, recording, ended; and
	// broken orders.
	f.Add([]byte{0, 1 | 8, 2 | 16, 3 | 16, 4 | 8, 5, 6 | 8, 7 | 32})
	f.Add([]byte{0, 7})
	f.Add([]byte{0, 1, 1, 4, 1, 5, 5, 6, 7})
	f.Add([]byte{1, 0, 7})
	f.Add([]byte{0, 1 | 120, 7})
	f.Add([]byte{0, 0})
	f.Add([]byte{0, 1, 7, 1})
	f.Add([]byte{0, 1 | 128, 1, 2, 2 | 128, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 200 {
			data = data[:200]
		}
		evs := fuzzEvents(data)
		now := t0.Add(24 * time.Hour)
		active, final, err := Replay(evs, now)
		if err != nil {
			wantCoded(t, err)
		}
		if final != nil {
			if active != nil {
				t.Fatal("both a live call and a record")
			}
			mustValid(t, final)
		}
		// Apply, one event after the other, agrees with Replay on every
		// prefix up to the first error (repeats aside, which Apply does
		// not know about).
		var state *callvault.ActiveCall
		seen := map[string]bool{}
		for i, e := range evs {
			if seen[e.ID] {
				return
			}
			seen[e.ID] = true
			next, fin, aerr := Apply(state, e, now)
			ract, rfin, rerr := Replay(evs[:i+1], now)
			if (aerr == nil) != (rerr == nil) {
				t.Fatalf("event %d: Apply error %v, Replay error %v", i, aerr, rerr)
			}
			if aerr != nil {
				return
			}
			if (fin == nil) != (rfin == nil) || (fin == nil && *next != *ract) {
				t.Fatalf("event %d: Apply %+v %+v, Replay %+v %+v", i, next, fin, ract, rfin)
			}
			if fin != nil {
				mustValid(t, fin)
				if fin.Result != rfin.Result || fin.DurationMs != rfin.DurationMs || fin.TalkMs != rfin.TalkMs {
					t.Fatalf("final records differ: %+v %+v", fin, rfin)
				}
				return // a later ringing would start a new call for Apply only
			}
			state = next
		}
	})
}
