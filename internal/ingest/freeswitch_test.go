package ingest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

const (
	aLeg = "62f746b4-84e6-4ceb-95bd-447e7184d454"
	bLeg = "9d0e3c51-2b7a-4f86-a1c4-5e6f7a8b9c0d"
)

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// httpBody splits a testdata/freeswitch-http file into its Content-Type
// and body.
func httpBody(tb testing.TB, name string) (string, []byte) {
	tb.Helper()
	b := readFile(tb, filepath.Join("testdata/freeswitch-http", name))
	head, body, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		tb.Fatalf("%s: no blank line", name)
	}
	return strings.TrimPrefix(string(head), "Content-Type: "), body
}

func TestParseFreeSWITCHALeg(t *testing.T) {
	rec, err := ParseFreeSWITCH(readFile(t, "testdata/freeswitch/a_"+aLeg+".cdr.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, rec)
	start := time.Date(2026, 9, 29, 9, 14, 22, 123456000, time.UTC)
	if rec.ID != aLeg || rec.SessionID != aLeg || rec.TelephonySessionID != "8c1f0a3e7d2b4c9a@carrier.example.net" {
		t.Errorf("ids: %q %q %q", rec.ID, rec.SessionID, rec.TelephonySessionID)
	}
	if !rec.Start.Equal(start) || !rec.Answer.Equal(start.Add(6200*time.Millisecond)) || !rec.End.Equal(start.Add(95700*time.Millisecond)) ||
		rec.DurationMs != 95700 || rec.TalkMs != 89500 {
		t.Errorf("times: %v %v %v %d %d", rec.Start, rec.Answer, rec.End, rec.DurationMs, rec.TalkMs)
	}
	if rec.Direction != callvault.DirectionInbound || rec.Result != callvault.ResultAccepted || rec.Extension != "1002" {
		t.Errorf("direction %s result %s extension %s", rec.Direction, rec.Result, rec.Extension)
	}
	wantFrom := callvault.Party{PhoneNumber: "+14155550142", Name: "Alice Johnson"}
	wantTo := callvault.Party{PhoneNumber: "+14155550100", Name: "Bob Smith", ExtensionNumber: "1002"}
	if rec.From != wantFrom || rec.To != wantTo {
		t.Errorf("from %+v to %+v", rec.From, rec.To)
	}
	if len(rec.Legs) != 3 {
		t.Fatalf("legs %+v", rec.Legs)
	}
	m, tr, br := rec.Legs[0], rec.Legs[1], rec.Legs[2]
	if !m.Master || m.DurationMs != 95700 || tr.LegType != LegTypeTransfer || tr.To.ExtensionNumber != "1002" ||
		!tr.Start.Equal(start.Add(1500*time.Millisecond)) || br.LegType != LegTypeAccept || br.Master ||
		!br.Start.Equal(start.Add(6300*time.Millisecond)) || br.DurationMs != 89400 {
		t.Errorf("legs %+v", rec.Legs)
	}
}

func TestParseFreeSWITCHEncodedEqualsPlain(t *testing.T) {
	_, enc := httpBody(t, "01-default.http")
	_, plain := httpBody(t, "02-raw.http")
	if !bytes.Contains(enc, []byte(`"start_stamp":"2026-09-29%2009%3A14%3A22"`)) || !bytes.Contains(plain, []byte(`"start_stamp":"2026-09-29 09:14:22"`)) {
		t.Fatal("samples are not what this test expects")
	}
	a, err := ParseFreeSWITCH(enc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseFreeSWITCH(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("encoded and plain documents differ:\n%+v\n%+v", a, b)
	}
}

func TestDecodeVars(t *testing.T) {
	enc := map[string]string{"caller_id": "%22Jos%C3%A9%20M%C3%BCller%22%20%3C1001%3E", "plus": "a%2Bb", "uuid": "abc-123", "pct": "100%25"}
	decodeVars(enc)
	if enc["caller_id"] != `"José Müller" <1001>` || enc["plus"] != "a+b" || enc["uuid"] != "abc-123" || enc["pct"] != "100%" {
		t.Errorf("encoded: %q", enc)
	}
	plain := map[string]string{"start_stamp": "2026-09-29 09:14:22", "odd": "50%41", "uuid": "abc"}
	decodeVars(plain)
	if plain["odd"] != "50%41" || plain["start_stamp"] != "2026-09-29 09:14:22" {
		t.Errorf("plain values were decoded: %q", plain)
	}
}

func TestParseFreeSWITCHOthers(t *testing.T) {
	dir := "testdata/freeswitch/"
	if _, err := ParseFreeSWITCH(readFile(t, dir+bLeg+".cdr.json")); !errors.Is(err, ErrBLeg) {
		t.Errorf("B-leg: %v", err)
	}

	old, err := ParseFreeSWITCH(readFile(t, dir+"a_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d.cdr.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, old)
	if old.Direction != callvault.DirectionInternal || old.Result != callvault.ResultHangUp || !old.Answer.IsZero() ||
		old.From.ExtensionNumber != "1001" || old.To.ExtensionNumber != "1003" || len(old.Legs) != 2 ||
		old.Legs[0].To.ExtensionNumber != "2000" || old.Legs[1].To.ExtensionNumber != "1003" || old.DurationMs != 20500 {
		t.Errorf("old repeated-callflow document: %+v", old)
	}

	busy, err := ParseFreeSWITCH(readFile(t, dir+"a_7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918.cdr.json"))
	if err != nil {
		t.Fatal(err)
	}
	if busy.Direction != callvault.DirectionOutbound || busy.Result != callvault.ResultBusy || busy.To.PhoneNumber != "+442071838750" ||
		busy.Extension != "1001" {
		t.Errorf("outbound busy: %+v", busy)
	}

	vm, err := ParseFreeSWITCH(readFile(t, dir+"a_4c3b2a19-0817-4f6e-9d5c-4b3a29180706.cdr.json"))
	if err != nil {
		t.Fatal(err)
	}
	if vm.Direction != callvault.DirectionInbound || vm.Result != callvault.ResultVoicemail || vm.From.Name != "Sam Park" {
		t.Errorf("voicemail: %+v", vm)
	}
}

func TestFSResult(t *testing.T) {
	tests := []struct{ cause, dir, want string }{
		{"USER_BUSY", "Inbound", "Busy"},
		{"CALL_REJECTED", "Outbound", "Rejected"},
		{"NO_ANSWER", "Inbound", "Missed"},
		{"NO_ANSWER", "Outbound", "No Answer"},
		{"ORIGINATOR_CANCEL", "Inbound", "Missed"},
		{"ORIGINATOR_CANCEL", "Outbound", "Hang Up"},
		{"LOSE_RACE", "Inbound", "Missed"},
		{"USER_NOT_REGISTERED", "Inbound", "Failed"},
		{"UNALLOCATED_NUMBER", "Outbound", "Failed"},
		{"", "Internal", "No Answer"},
	}
	for _, tt := range tests {
		if got := fsResult(tt.cause, tt.dir); got != tt.want {
			t.Errorf("fsResult(%s, %s) = %s, want %s", tt.cause, tt.dir, got, tt.want)
		}
	}
}

// fsDoc builds a small document with the given variables (JSON object
// text) and callflow (JSON text, "" for none).
func fsDocText(vars, callflow string) string {
	s := `{"core-uuid":"c","switchname":"fs","variables":` + vars
	if callflow != "" {
		s += `,"callflow":` + callflow
	}
	return s + "}"
}

func TestParseFreeSWITCHErrors(t *testing.T) {
	okVars := `{"uuid":"u1","direction":"inbound","start_uepoch":"1790673262000000","answer_uepoch":"0","end_uepoch":"1790673272000000","hangup_cause":"NO_ANSWER"}`
	if rec, err := ParseFreeSWITCH([]byte(fsDocText(okVars, ""))); err != nil || rec.Result != callvault.ResultMissed || rec.DurationMs != 10000 {
		t.Fatalf("minimal document: %+v %v", rec, err)
	}
	tests := []struct {
		name, in, field string
		parts           []string
	}{
		{"not json", `<xml/>`, "", []string{"not a JSON object"}},
		{"array", `[{}]`, "", []string{"not a JSON object"}},
		{"truncated", `{"variables":{"uuid":"u1"`, "", []string{"not valid JSON"}},
		{"no variables", `{"core-uuid":"c"}`, "variables", []string{"required"}},
		{"variables array", fsDocText(`[]`, ""), "variables", []string{"expected an object"}},
		{"callflow string", fsDocText(okVars, `"x"`), "callflow", []string{"expected an array or an object"}},
		{"callflow bad item", fsDocText(okVars, `[1]`), "callflow", []string{"expected an array of callflow objects"}},
		{"no uuid", fsDocText(strings.Replace(okVars, `"uuid":"u1",`, "", 1), ""), "variables.uuid", []string{"required"}},
		{"no start", fsDocText(strings.Replace(okVars, `"start_uepoch":"1790673262000000",`, "", 1), ""), "variables.start_uepoch", []string{"no start time"}},
		{"no end", fsDocText(strings.Replace(okVars, `,"end_uepoch":"1790673272000000"`, "", 1), ""), "variables.end_uepoch", []string{"no end time"}},
		{"bad uepoch", fsDocText(strings.Replace(okVars, `"1790673262000000"`, `"yesterday"`, 1), ""), "variables.start_uepoch", []string{`"yesterday"`}},
		{"negative epoch", fsDocText(strings.Replace(okVars, `"start_uepoch":"1790673262000000"`, `"start_epoch":"-5"`, 1), ""), "variables.start_epoch", []string{`"-5"`}},
		{"end before start", fsDocText(strings.Replace(okVars, `"1790673272000000"`, `"1790673252000000"`, 1), ""), "endTime", []string{"before startTime"}},
		{"bad uuid", fsDocText(strings.Replace(okVars, `"u1"`, `"u\u0001"`, 1), ""), "id", []string{"not printable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := ParseFreeSWITCH([]byte(tt.in))
			if rec != nil {
				t.Fatalf("got %+v", rec)
			}
			wantErr(t, err, callvault.EInvalid, tt.field, tt.parts...)
		})
	}
}

func TestParseFreeSWITCHFallbackTimes(t *testing.T) {
	// No *_uepoch: *_epoch seconds; no variables times at all: callflow.
	doc := fsDocText(`{"uuid":"u2","start_epoch":"1790673262","answer_epoch":"1790673265","end_epoch":"1790673300"}`, "")
	rec, err := ParseFreeSWITCH([]byte(doc))
	if err != nil || rec.DurationMs != 38000 || rec.TalkMs != 35000 || rec.Result != callvault.ResultAccepted {
		t.Fatalf("%+v %v", rec, err)
	}
	doc = fsDocText(`{"uuid":"u3","caller_id":"\"Ann\" <+15551230000>"}`,
		`{"caller_profile":{"destination_number":"1001"},"times":{"created_time":"1790673262000000","answered_time":"0","hangup_time":"1790673270500000"}}`)
	rec, err = ParseFreeSWITCH([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if rec.DurationMs != 8500 || rec.From.Name != "Ann" || rec.From.PhoneNumber != "+15551230000" || rec.Direction != callvault.DirectionInbound ||
		rec.Result != callvault.ResultMissed || rec.Extension != "1001" {
		t.Errorf("%+v", rec)
	}
}

func TestDecodeFreeSWITCHHTTP(t *testing.T) {
	_, plain := httpBody(t, "02-raw.http")
	for _, name := range []string{"01-default.http", "02-raw.http", "03-form.http", "04-base64.http", "05-nocontinue.http"} {
		t.Run(name, func(t *testing.T) {
			ct, body := httpBody(t, name)
			doc, err := DecodeFreeSWITCHHTTP(ct, body)
			if err != nil {
				t.Fatal(err)
			}
			if name != "01-default.http" && !bytes.Equal(doc, plain) {
				t.Errorf("document differs from variant 02")
			}
			rec, err := ParseFreeSWITCH(doc)
			if err != nil || rec.ID != aLeg {
				t.Fatalf("%v %v", rec, err)
			}
		})
	}

	ct, body := httpBody(t, "06-double.http")
	doc, err := DecodeFreeSWITCHHTTP(ct, body)
	if doc != nil {
		t.Fatal("variant 06 gave a document")
	}
	wantErr(t, err, callvault.EInvalid, "cdr", "encode-values", "not valid JSON")

	b64 := "cdr=" + base64.StdEncoding.EncodeToString(plain)
	rawB64 := "cdr=" + base64.RawStdEncoding.EncodeToString(plain)
	extra := []struct {
		name, ct, body string
		ok             bool
		parts          []string
	}{
		{"base64 labelled form (disable-100-continue)", "application/x-www-form-urlencoded", b64, true, nil},
		{"base64 without a content type", "", b64, true, nil},
		{"base64 unpadded", "application/x-www-form-base64-encoded; charset=utf-8", rawB64, true, nil},
		{"base64 URL-encoded on the way", "application/x-www-form-urlencoded", "cdr=" + url.QueryEscape(b64[4:]), true, nil},
		{"err-log-dir backup, URL-encoded", "", url.QueryEscape(string(plain)), true, nil},
		{"err-log-dir backup, base64", "", b64[4:], true, nil},
		{"with BOM and newline", "application/json", "\xEF\xBB\xBF" + string(plain) + "\r\n", true, nil},
		{"empty", "application/json", "  ", false, []string{"empty"}},
		{"not json", "application/json", "{not json}", false, []string{"not valid JSON"}},
		{"truncated json", "application/json", string(plain[:100]), false, []string{"not valid JSON"}},
		{"xml", "text/xml", "<cdr/>", false, []string{"neither a JSON document nor a cdr= form field"}},
		{"base64 labelled but not", "application/x-www-form-base64-encoded", "cdr=%7B%7D", false, []string{"not base64"}},
		{"bad escape", "application/x-www-form-urlencoded", "cdr=%7B%ZZ", false, []string{"not valid URL encoding"}},
		{"form not json", "application/x-www-form-urlencoded", "cdr=hello", false, []string{"does not decode to a JSON document"}},
		{"base64 of non-json", "application/x-www-form-base64-encoded", "cdr=" + base64.StdEncoding.EncodeToString([]byte("hello world")), false, []string{"not base64 of a JSON"}},
	}
	for _, tt := range extra {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := DecodeFreeSWITCHHTTP(tt.ct, []byte(tt.body))
			if tt.ok {
				if err != nil || !bytes.Equal(doc, plain) {
					t.Fatalf("err %v, doc %.60q", err, doc)
				}
				return
			}
			if doc != nil {
				t.Fatalf("got %.60q", doc)
			}
			wantErr(t, err, callvault.EInvalid, "", tt.parts...)
		})
	}
}

func TestFreeSWITCHReader(t *testing.T) {
	imp := readFile(t, "testdata/freeswitch-import.ndjson")
	_, body03 := httpBody(t, "03-form.http")
	in := string(imp) + "\n{broken\n" + strings.TrimPrefix(string(body03), "cdr=") + "\n"
	r := NewFreeSWITCHReader(strings.NewReader(in))
	var ids []string
	var bLegs, bad int
	for {
		doc, n, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad++
			wantErr(t, err, callvault.EInvalid, "", "line 7: ")
			continue
		}
		rec, err := ParseFreeSWITCH(doc)
		if errors.Is(err, ErrBLeg) {
			bLegs++
			continue
		}
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		ids = append(ids, rec.ID)
	}
	if len(ids) != 5 || bLegs != 1 || bad != 1 || ids[4] != aLeg {
		t.Errorf("ids %v, b-legs %d, bad %d", ids, bLegs, bad)
	}
}

func TestWalkFreeSWITCH(t *testing.T) {
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir("testdata/freeswitch")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fsys["cdr/"+e.Name()] = &fstest.MapFile{Data: readFile(t, "testdata/freeswitch/"+e.Name())}
	}
	_, plain := httpBody(t, "02-raw.http")
	var pretty bytes.Buffer
	pretty.Write(bytes.ReplaceAll(plain, []byte(`,"`), []byte(",\n  \"")))
	fsys["cdr/2026/pretty.cdr.json"] = &fstest.MapFile{Data: pretty.Bytes()}
	fsys["cdr/2026/notes.txt"] = &fstest.MapFile{Data: []byte("not a cdr")}
	fsys["cdr/2026/bad.cdr.json"] = &fstest.MapFile{Data: []byte("{\"variables\":{}}\n")}

	var recs, bLegs int
	var errs []string
	err = WalkFreeSWITCH(fsys, "cdr", func(name string, line int, rec *callvault.CallRecord, err error) error {
		switch {
		case errors.Is(err, ErrBLeg):
			bLegs++
		case err != nil:
			errs = append(errs, name+": "+callvault.ErrorMessage(err))
		default:
			mustValid(t, rec)
			recs++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if recs != 5 || bLegs != 1 || len(errs) != 1 || !strings.Contains(errs[0], "bad.cdr.json: line 1: ") {
		t.Errorf("records %d, b-legs %d, errors %q", recs, bLegs, errs)
	}
	stop := errors.New("stop")
	if err := WalkFreeSWITCH(fsys, "cdr", func(string, int, *callvault.CallRecord, error) error { return stop }); err != stop {
		t.Errorf("walk did not stop: %v", err)
	}
}
