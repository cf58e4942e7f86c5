package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

// pretty indents one JSON object over several lines.
func pretty(tb testing.TB, compact string) string {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(compact), "", "  "); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func TestDecodeBatchPrettyObject(t *testing.T) {
	ndjson, err := os.ReadFile("testdata/calls.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(ndjson)), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		want, err := DecodeBatch(strings.NewReader(l), 0)
		if err != nil || len(want) != 1 {
			t.Fatalf("compact: %v %v", want, err)
		}
		p := pretty(t, l)
		for name, body := range map[string]string{
			"pretty":     p,
			"spaced":     " \n\t\n" + p + "\n \n\n",
			"crlf":       strings.ReplaceAll(p, "\n", "\r\n") + "\r\n",
			"tabs":       strings.ReplaceAll(p, "  ", "\t"),
			"first line": strings.Replace(p, "{\n  ", "{", 1),
		} {
			got, err := DecodeBatch(strings.NewReader(body), 1)
			if err != nil || len(got) != 1 {
				t.Fatalf("%s: %v %v\n%s", name, got, err, body)
			}
			if !reflect.DeepEqual(got[0], want[0]) {
				t.Fatalf("%s: got %+v, want %+v", name, got[0], want[0])
			}
		}
	}
	// An event too.
	evs, err := DecodeEvents(strings.NewReader(pretty(t, `{"id":"e1","callId":"c1","type":"ringing","timestamp":"2026-10-02T09:00:00Z","from":{"phoneNumber":"+14155550142"}}`)), 0)
	if err != nil || len(evs) != 1 || evs[0].ID != "e1" || evs[0].From.PhoneNumber != "+14155550142" {
		t.Fatalf("pretty event: %v %v", evs, err)
	}
	// ForEachRecord streams it as record 1.
	var pos []int
	if err := ForEachRecord(strings.NewReader(pretty(t, goodRecord)), func(rec *callvault.CallRecord, n int, err error) error {
		pos = append(pos, n)
		return err
	}); err != nil || !reflect.DeepEqual(pos, []int{1}) {
		t.Fatalf("ForEachRecord: %v %v", pos, err)
	}
}

func TestDecodeBatchPrettyObjectErrors(t *testing.T) {
	var be *BatchError
	// An invalid field: an item error of record 1 (index 0) naming it.
	_, err := DecodeBatch(strings.NewReader(pretty(t, withField("durationMs", `"long"`))), 0)
	if !errors.As(err, &be) || len(be.Errors) != 1 || be.Errors[0].Field != "durationMs" || !strings.HasPrefix(be.Errors[0].Message, "record 1: ") {
		t.Fatalf("invalid field: %v", err)
	}
	_, err = DecodeEvents(strings.NewReader(pretty(t, `{"id":"e1","callId":"c1","type":"teleported","timestamp":"2026-10-02T09:00:00Z"}`)), 0)
	if !errors.As(err, &be) || len(be.Errors) != 1 || be.Errors[0].Field != "type" || !strings.HasPrefix(be.Errors[0].Message, "record 1: ") {
		t.Fatalf("invalid event field: %v", err)
	}

	p := pretty(t, goodRecord) // 12 lines, "}" alone on the last
	lines := strings.Split(p, "\n")
	for name, tt := range map[string]struct {
		body  string
		parts []string
	}{
		"truncated":          {strings.Join(lines[:6], "\n") + "\n", []string{"ends inside its JSON object (begun on line 1)", "line 6"}},
		"truncated in value": {p[:strings.Index(p, `"Inbound"`)+4], []string{"ends inside its JSON object", "line 5, column"}},
		"missing comma":      {strings.Replace(p, `"Inbound",`, `"Inbound"`, 1), []string{"not a valid JSON object (begun on line 1) at line 6, column 3 (byte ", "invalid character '\"' after object key:value pair"}},
		"leading blank":      {"\n\n" + strings.Replace(p, `"Inbound",`, `"Inbound"`, 1), []string{"(begun on line 3) at line 8, column 3"}},
		"trailing comma":     {strings.Replace(p, "\"1001\"\n  }\n}", "\"1001\"\n  },\n}", 1), []string{"at line 12, column 1", "looking for beginning of object key string"}},
		"two objects":        {p + "\n" + p, []string{"from line 1 to line 12, column 1 (byte ", "more data after it", "JSON array or as NDJSON"}},
		"pretty then ndjson": {p + "\n" + goodRecord + "\n", []string{"more data after it"}},
	} {
		_, err := DecodeBatch(strings.NewReader(tt.body), 0)
		wantErr(t, err, callvault.EInvalid, "", tt.parts...)
		if errors.As(err, &be) {
			t.Errorf("%s: a broken body is not an item error: %v", name, err)
		}
	}
	// Byte offsets count from the start of the body.
	_, err = DecodeBatch(strings.NewReader(strings.Replace(p, `"Inbound",`, `"Inbound"`, 1)), 0)
	want := strings.Index(strings.Replace(p, `"Inbound",`, `"Inbound"`, 1), `"from"`)
	wantErr(t, err, callvault.EInvalid, "", "column 3 (byte "+itoa(want+1)+")")

	// Longer than the record limit: an item error of record 1.
	big := pretty(t, withField("action", `"`+strings.Repeat("x", MaxLineBytes/2)+`"`))
	big = strings.Replace(big, `"action"`, `"siteId": "s",`+strings.Repeat("\n", MaxLineBytes/2)+`"action"`, 1)
	_, err = DecodeBatch(strings.NewReader(big), 0)
	if !errors.As(err, &be) || len(be.Errors) != 1 || !strings.Contains(be.Errors[0].Message, "record 1: ") || !strings.Contains(be.Errors[0].Message, "record limit") {
		t.Fatalf("too long: %v", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A bad first line of NDJSON is reported by line, as before multi-line
// objects were read: the lines after it are still decoded.
func TestDecodeBatchBadFirstLine(t *testing.T) {
	good2 := strings.Replace(goodRecord, `"c1"`, `"c2"`, 1)
	for name, tt := range map[string]struct {
		body  string
		lines []string // the lines reported, by prefix
	}{
		"truncated, then good":    {`{"id":"c0","startTime":` + "\n" + goodRecord + "\n" + good2 + "\n", []string{"line 1: "}},
		"cut in a string":         {`{"id":"c0","startTime":"20` + "\n" + goodRecord + "\n", []string{"line 1: "}},
		"bad token in line 1":     {`{"id": c0}` + "\n" + goodRecord + "\n", []string{"line 1: "}},
		"data after on line 1":    {goodRecord + " x\n" + good2 + "\n", []string{"line 1: "}},
		"two objects on line 1":   {goodRecord + good2 + "\n" + goodRecord + "\n", []string{"line 1: "}},
		"open brace only":         {"{", []string{"line 1: "}},
		"open, blank lines":       {"{\n\n  \n", []string{"line 1: "}},
		"bad line 1 and line 3":   {`{"id":` + "\n" + goodRecord + "\n" + `{"id":1}` + "\n", []string{"line 1: ", "line 3: "}},
		"bad line 1, blank lines": {`{"id":` + "\n\n\n" + goodRecord + "\n", []string{"line 1: "}},
		"bad line 1, long line 2": {`{"id":` + "\n" + strings.Repeat(" ", MaxLineBytes+1) + "x\n" + goodRecord + "\n", []string{"line 1: ", "line 2: "}},
		"bad line 1 then bad 2":   {`{"id":` + "\n" + `{"id":2}` + "\n", []string{"line 1: ", "line 2: "}},
	} {
		_, err := DecodeBatch(strings.NewReader(tt.body), 0)
		var be *BatchError
		if !errors.As(err, &be) || len(be.Errors) != len(tt.lines) {
			t.Errorf("%s: want %d line errors, got %v", name, len(tt.lines), err)
			continue
		}
		for i, p := range tt.lines {
			if !strings.HasPrefix(be.Errors[i].Message, p) {
				t.Errorf("%s: error %d: %v, want %q", name, i, be.Errors[i].Message, p)
			}
		}
	}
	// The good lines after a bad first line are decoded (and the walk
	// goes on to the end).
	var got []string
	body := `{"id":"c0",` + "\n" + goodRecord + "\n\n" + good2 + "\n"
	if err := ForEachRecord(strings.NewReader(body), func(rec *callvault.CallRecord, n int, err error) error {
		if err != nil {
			got = append(got, callvault.ErrorMessage(err)[:7])
		} else {
			got = append(got, rec.ID)
		}
		return nil
	}); err != nil || strings.Join(got, ",") != "line 1:,c1,c2" {
		t.Fatalf("walk: %q %v", got, err)
	}
}
