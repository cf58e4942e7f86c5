package ingest

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

func TestNDJSONSample(t *testing.T) {
	f, err := os.Open("testdata/calls.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewNDJSONReader(f)
	var lines []int
	recs := map[string]*callvault.CallRecord{}
	for {
		rec, n, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		mustValid(t, rec)
		lines = append(lines, n)
		recs[rec.ID] = rec
	}
	if want := []int{1, 2, 4, 5, 6}; !equalInts(lines, want) {
		t.Fatalf("lines %v, want %v (blank line 3 skipped)", lines, want)
	}

	a := recs["IWM7cJogEv7xlu8"]
	if a.TalkMs != 194000 || a.DurationMs != 200000 || a.Extension != "1001" || len(a.Legs) != 1 || !a.Legs[0].Master ||
		a.Legs[0].To.ExtensionID != "u-1001" || a.Legs[0].DurationMs != 200000 {
		t.Errorf("record 1: %+v", a)
	}
	b := recs["IWM7cJogEv7xlu9"]
	if b.DurationMs != 30000 || b.Type != callvault.CallVoice || b.Start.Location() != time.UTC ||
		b.Start.Format(time.RFC3339Nano) != "2026-10-02T07:05:00.25Z" || b.Extension != "1002" {
		t.Errorf("record 2 (derived duration, type, UTC): %+v", b)
	}
	o := recs["out-1"]
	if !o.End.Equal(o.Start.Add(61*time.Second)) || o.Extension != "1001" || o.TalkMs != 56000 {
		t.Errorf("record out-1 (end from durationMs, caller owns): end %v ext %q talk %d", o.End, o.Extension, o.TalkMs)
	}
	in := recs["int-7"]
	if len(in.Legs) != 2 || in.Legs[1].DurationMs != 60000 || in.Legs[1].Direction != callvault.DirectionInternal ||
		in.Legs[1].Result != callvault.ResultAccepted || in.Legs[1].Master {
		t.Errorf("record int-7 legs (defaults from the record): %+v", in.Legs)
	}
	if in.From.Name != `Robert "Bobby" Tables` {
		t.Errorf("name %q", in.From.Name)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const goodRecord = `{"id":"c1","startTime":"2026-10-02T09:00:00Z","endTime":"2026-10-02T09:01:00Z","direction":"Inbound","from":{"phoneNumber":"+14155550142"},"to":{"extensionNumber":"1001"}}`

// withField returns goodRecord with a field added or replaced (raw JSON).
func withField(name, raw string) string {
	return strings.Replace(goodRecord, `{"id":"c1",`, `{"id":"c1",`+`"`+name+`":`+raw+`,`, 1)
}

func TestDecodeRecordErrors(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name, in, field string
		parts           []string
	}{
		{"not json", `hello`, "", []string{"not a JSON object"}},
		{"array", `[1]`, "", []string{"not a JSON object"}},
		{"truncated", `{"id":"c1","startTime":"2026-10`, "", []string{"not valid JSON"}},
		{"trailing", goodRecord + ` {}`, "", []string{"after the end"}},
		{"syntax", `{"id":"c1",}`, "", []string{"not valid JSON at byte"}},
		{"unknown field", withField("colour", `"red"`), "colour", []string{"colour: unknown field"}},
		{"unknown nested", strings.Replace(goodRecord, `"from":{`, `"from":{"nickname":"al",`, 1), "from.nickname", []string{"from.nickname: unknown field"}},
		{"unknown in leg", withField("legs", `[{"legType":"Accept","master":true},{"legType":"Accept","speed":1}]`), "legs[1].speed", []string{"legs[1].speed"}},
		{"tenantId", withField("tenantId", `"t-other"`), "tenantId", []string{"set by callvault"}},
		{"recordingIds", withField("recordingIds", `["r1"]`), "recordingIds", []string{"set by callvault"}},
		{"ingestedAt", withField("ingestedAt", `"2026-10-02T09:00:00Z"`), "ingestedAt", []string{"set by callvault"}},
		{"talkMs", withField("talkMs", `5`), "talkMs", []string{"set by callvault"}},
		{"id missing", strings.Replace(goodRecord, `"id":"c1",`, ``, 1), "id", []string{"id: required"}},
		{"id too long", strings.Replace(goodRecord, `"c1"`, `"`+long+`"`, 1), "id", []string{"longer than 128"}},
		{"id control", strings.Replace(goodRecord, `"c1"`, `"c\u0007"`, 1), "id", []string{"not printable"}},
		{"id wrong type", strings.Replace(goodRecord, `"c1"`, `17`, 1), "id", []string{"id: expected a string, got number"}},
		{"start missing", strings.Replace(goodRecord, `"startTime":"2026-10-02T09:00:00Z",`, ``, 1), "startTime", []string{"startTime: required"}},
		{"start format", strings.Replace(goodRecord, `2026-10-02T09:00:00Z`, `2026-10-02 09:00:00`, 1), "startTime", []string{`"2026-10-02 09:00:00"`, "RFC 3339"}},
		{"start absurd", strings.Replace(goodRecord, `2026-10-02T09:00:00Z`, `1970-01-01T00:00:00Z`, 1), "startTime", []string{"not a plausible"}},
		{"end before start", strings.Replace(goodRecord, `2026-10-02T09:01:00Z`, `2026-10-02T08:59:00Z`, 1), "endTime", []string{"before startTime"}},
		{"no end no duration", strings.Replace(goodRecord, `"endTime":"2026-10-02T09:01:00Z",`, ``, 1), "endTime", []string{"required when durationMs"}},
		{"negative duration", withField("durationMs", `-5`), "durationMs", []string{"-5 is negative"}},
		{"duration disagrees", withField("durationMs", `58000`), "durationMs", []string{"58000 disagrees", "60000 ms"}},
		{"duration float", withField("durationMs", `1.5`), "durationMs", []string{"expected an integer"}},
		{"duration string", withField("durationMs", `"60000"`), "durationMs", []string{"expected an integer, got string"}},
		{"huge duration", withField("durationMs", `99999999999`), "durationMs", []string{"longest call"}},
		{"answer before start", withField("answerTime", `"2026-10-02T08:00:00Z"`), "answerTime", []string{"not between"}},
		{"direction", strings.Replace(goodRecord, `"Inbound"`, `"inbnd"`, 1), "direction", []string{`"inbnd" is not one of Inbound, Outbound, Internal`}},
		{"direction missing", strings.Replace(goodRecord, `"direction":"Inbound",`, ``, 1), "direction", []string{"required; one of Inbound"}},
		{"type", withField("type", `"Video"`), "type", []string{`"Video" is not one of Voice, Fax`}},
		{"result", withField("result", `"Connected"`), "result", []string{"Accepted, Missed, Voicemail"}},
		{"transport", withField("transport", `"ISDN"`), "transport", []string{"PSTN, VoIP"}},
		{"phone control", strings.Replace(goodRecord, `"+14155550142"`, `"+1415\n5550142"`, 1), "from.phoneNumber", []string{"from.phoneNumber"}},
		{"two masters", withField("legs", `[{"legType":"Accept","master":true},{"legType":"Accept","master":true}]`), "legs[1].master", []string{"legs[0] is already the master"}},
		{"leg negative", withField("legs", `[{"legType":"Accept","master":true},{"legType":"A"},{"legType":"A","durationMs":-1}]`), "legs[2].durationMs", []string{"legs[2].durationMs: -1 is negative"}},
		{"leg duration type", withField("legs", `[{"legType":"Accept","durationMs":"x"}]`), "legs[0].durationMs", []string{"legs[0].durationMs: expected an integer"}},
		{"leg start", withField("legs", `[{"legType":"Accept","startTime":"yesterday"}]`), "legs[0].startTime", []string{`"yesterday"`}},
		{"leg after end", withField("legs", `[{"legType":"Accept","startTime":"2026-10-02T09:00:30Z","durationMs":90000}]`), "legs[0].durationMs", []string{"after the record's endTime"}},
		{"leg type missing", withField("legs", `[{"master":true}]`), "legs[0].legType", []string{"required"}},
		{"legs not array", withField("legs", `{}`), "legs", []string{"expected an array"}},
		{"from not object", strings.Replace(goodRecord, `"from":{"phoneNumber":"+14155550142"}`, `"from":"+14155550142"`, 1), "from", []string{"expected an object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := DecodeRecord([]byte(tt.in))
			if rec != nil {
				t.Fatalf("got a record %+v", rec)
			}
			wantErr(t, err, callvault.EInvalid, tt.field, tt.parts...)
		})
	}
}

func TestFieldErrorsListsAll(t *testing.T) {
	_, err := DecodeRecord([]byte(`{"id":"","startTime":"2026-10-02T09:00:00Z","durationMs":-1,"direction":"x","from":{"name":"\u0001"}}`))
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("%T %v", err, err)
	}
	var fields []string
	for _, e := range fe {
		fields = append(fields, e.Field)
		if e.Code != callvault.EInvalid || !strings.HasPrefix(e.Message, e.Field+": ") {
			t.Errorf("bad error %+v", e)
		}
	}
	if got := strings.Join(fields, ","); got != "id,durationMs,direction,from.name" {
		t.Errorf("fields %s", got)
	}
	if callvault.ErrorCode(err) != callvault.EInvalid {
		t.Errorf("code %q", callvault.ErrorCode(err))
	}
	if FieldErrors(nil).Err() != nil {
		t.Error("empty FieldErrors must give a nil error")
	}
}

func TestValidateSynthesizesMasterLeg(t *testing.T) {
	rec := &callvault.CallRecord{ID: "x", Start: time.Date(2026, 10, 2, 9, 0, 0, 123456789, time.FixedZone("CEST", 7200)),
		DurationMs: 30000, Direction: callvault.DirectionOutbound, From: callvault.Party{ExtensionNumber: "1001"}}
	if fe := Validate(rec); len(fe) > 0 {
		t.Fatal(fe)
	}
	if rec.Start.Nanosecond() != 123456000 || rec.Start.Location() != time.UTC {
		t.Errorf("start not normalized: %v", rec.Start)
	}
	if rec.Result != callvault.ResultNoAnswer || rec.Extension != "1001" || rec.Type != callvault.CallVoice {
		t.Errorf("defaults: %+v", rec)
	}
	if len(rec.Legs) != 1 || !rec.Legs[0].Master || rec.Legs[0].DurationMs != 30000 || rec.Legs[0].LegType != LegTypeAccept {
		t.Errorf("legs %+v", rec.Legs)
	}
	mustValid(t, rec)
}

func TestNDJSONReaderBadLines(t *testing.T) {
	good := func(id string) string { return strings.Replace(goodRecord, `"c1"`, `"`+id+`"`, 1) }
	in := strings.Join([]string{
		good("a"),
		`{"id":"b","startTime":`, // truncated
		"   ",
		good("c") + "\r", // CRLF
		`not json at all`,
		`{"id":"d"` + strings.Repeat(" ", MaxLineBytes) + `}`, // too long
		good("e"),
		good("f"), // no final newline
	}, "\n")
	r := NewNDJSONReader(strings.NewReader(in))
	type result struct {
		line int
		id   string
		err  string
	}
	var got []result
	for {
		rec, n, err := r.Next()
		if err == io.EOF {
			break
		}
		res := result{line: n}
		if err != nil {
			res.err = err.Error()
			if !strings.HasPrefix(callvault.ErrorMessage(err), "line ") {
				t.Errorf("message %q does not start with its line", callvault.ErrorMessage(err))
			}
		} else {
			res.id = rec.ID
		}
		got = append(got, res)
	}
	want := []struct {
		line int
		id   string
		err  string
	}{{1, "a", ""}, {2, "", "line 2: not valid JSON"}, {4, "c", ""}, {5, "", "line 5: the record is not a JSON object"},
		{6, "", "line 6: longer than the 65536-byte line limit"}, {7, "e", ""}, {8, "f", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.line != w.line || g.id != w.id || !strings.Contains(g.err, w.err) {
			t.Errorf("item %d: got %+v, want %+v", i, g, w)
		}
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestNDJSONReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewNDJSONReader(io.MultiReader(strings.NewReader(goodRecord+"\n"+`{"id":"partial`), failingReader{boom}))
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("want the read error, got %v", err)
	}
}

func TestDecodeBatch(t *testing.T) {
	ndjson, err := os.ReadFile("testdata/calls.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for _, l := range strings.Split(string(ndjson), "\n") {
		if strings.TrimSpace(l) != "" {
			items = append(items, l)
		}
	}
	array := " \n[" + strings.Join(items, ",\n") + "]\n"
	for name, body := range map[string]string{"ndjson": string(ndjson), "array": array} {
		recs, err := DecodeBatch(strings.NewReader(body), 0)
		if err != nil || len(recs) != 5 {
			t.Fatalf("%s: %d records, %v", name, len(recs), err)
		}
		for _, r := range recs {
			mustValid(t, r)
		}
	}
	if _, err := DecodeBatch(strings.NewReader(array), 4); callvault.ErrorCode(err) != callvault.ETooLarge {
		t.Errorf("max: %v", err)
	}
	recs, err := DecodeBatch(strings.NewReader("  \n"), 0)
	if err != nil || len(recs) != 0 {
		t.Errorf("empty: %v %v", recs, err)
	}

	bad := "[" + items[0] + `, {"id":"x"}, 5, ` + items[1] + "]"
	_, err = DecodeBatch(strings.NewReader(bad), 0)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errors) != 2 {
		t.Fatalf("want 2 item errors, got %v", err)
	}
	if !strings.HasPrefix(be.Errors[0].Message, "record 2: ") || !strings.HasPrefix(be.Errors[1].Message, "record 3: ") {
		t.Errorf("positions: %v", be)
	}
	if callvault.ErrorCode(err) != callvault.EInvalid {
		t.Errorf("code %q", callvault.ErrorCode(err))
	}
	_, err = DecodeBatch(strings.NewReader(items[0]+"\n{\"id\":1}\n"), 0)
	if !errors.As(err, &be) || len(be.Errors) != 1 || !strings.HasPrefix(be.Errors[0].Message, "line 2: ") {
		t.Errorf("ndjson positions: %v", err)
	}

	for name, body := range map[string]string{
		"unterminated array": "[" + items[0],
		"garbage in array":   "[" + items[0] + " x]",
		"after array":        "[" + items[0] + "] []",
	} {
		_, err := DecodeBatch(strings.NewReader(body), 0)
		wantErr(t, err, callvault.EInvalid, "")
		if errors.As(err, &be) {
			t.Errorf("%s: a malformed array is not an item error: %v", name, err)
		}
	}
}

func TestDecodeBatchManyErrors(t *testing.T) {
	body := strings.Repeat("{}\n", MaxBatchErrors+7)
	_, err := DecodeBatch(strings.NewReader(body), 0)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errors) != MaxBatchErrors || be.More != 7 {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(be.Error(), "and 7 more") {
		t.Errorf("%s", be.Error())
	}
}

func TestForEachRecordGoesOnAfterBadItems(t *testing.T) {
	body := "[" + goodRecord + `,{"id":"bad"},` + strings.Replace(goodRecord, `"c1"`, `"c2"`, 1) + "]"
	var got []string
	err := ForEachRecord(strings.NewReader(body), func(rec *callvault.CallRecord, pos int, err error) error {
		if err != nil {
			got = append(got, callvault.ErrorMessage(err)[:8])
			return nil
		}
		got = append(got, rec.ID)
		return nil
	})
	if err != nil || strings.Join(got, ",") != "c1,record 2,c2" {
		t.Errorf("%v %q", err, got)
	}
	stop := errors.New("stop")
	if err := ForEachRecord(strings.NewReader(body), func(*callvault.CallRecord, int, error) error { return stop }); err != stop {
		t.Errorf("not stopped: %v", err)
	}
}
