package ingest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callgen"
)

// decodeBoth decodes data with and without DecodeRecord's fast path and
// fails unless both give the same record or the same error.
func decodeBoth(t *testing.T, data string) {
	t.Helper()
	fast, ferr := DecodeRecord([]byte(data))
	// The arena path (NDJSONReader's), from a buffer overwritten after.
	buf := []byte(data)
	var a arena
	inArena, aerr := decodeRecord(buf, &a)
	clear(buf)
	if (ferr == nil) != (aerr == nil) || (ferr != nil && ferr.Error() != aerr.Error()) || !reflect.DeepEqual(fast, inArena) {
		t.Fatalf("%s\nfast path: %+v, %v\narena: %+v, %v", data, fast, ferr, inArena, aerr)
	}
	slowRecords = true
	slow, serr := DecodeRecord([]byte(data))
	slowRecords = false
	if (ferr == nil) != (serr == nil) || (ferr != nil && ferr.Error() != serr.Error()) {
		t.Fatalf("%s\nfast path error: %v\nencoding/json error: %v", data, ferr, serr)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s\nfast path: %+v\nencoding/json: %+v", data, fast, slow)
	}
}

// TestFastRecord checks that the fast path of DecodeRecord decodes what
// encoding/json decodes, and gives way to it on everything else: generated
// records and variants of them.
func TestFastRecord(t *testing.T) {
	s := callgen.NewStream(7, "acme", time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC), 2*time.Second)
	var lines []string
	for range 300 {
		lines = append(lines, strings.TrimSuffix(string(callgen.AppendNDJSON(nil, s.Next())), "\n"))
	}
	variants := []func(string) string{
		func(l string) string { return l },
		func(l string) string { return " \t" + l + " \r\n" },
		func(l string) string { return strings.Replace(l, `"id":`, `"ID":`, 1) },
		func(l string) string { return strings.Replace(l, `"id":`, `"id":"dup","id":`, 1) },
		func(l string) string { return strings.Replace(l, `"siteId":`, `"tenantId":"x","siteId":`, 1) },
		func(l string) string { return strings.Replace(l, `"from":{`, `"from":{"nick":"x",`, 1) },
		func(l string) string { return strings.Replace(l, `"legs":[{`, `"legs":[{"talkMs":1,`, 1) },
		func(l string) string { return strings.Replace(l, `"durationMs":`, `"durationMs":1.5,"x":`, 1) },
		func(l string) string { return strings.Replace(l, `"durationMs":`, `"durationMs":"12","x":`, 1) },
		func(l string) string { return strings.Replace(l, `"durationMs":`, `"durationMs":1e3,"x":`, 1) },
		func(l string) string { return strings.Replace(l, `"durationMs":`, `"durationMs":-0,"x":`, 1) },
		func(l string) string { return strings.Replace(l, `"durationMs":`, `"durationMs":012,"x":`, 1) },
		func(l string) string {
			return strings.Replace(l, `"durationMs":`, `"durationMs":99999999999999999999,"x":`, 1)
		},
		func(l string) string { return strings.Replace(l, `"startTime":`, `"startTime":null,"x":`, 1) },
		func(l string) string { return strings.Replace(l, `"startTime":`, `"startTime":"",`+`"answerTime":`, 1) },
		func(l string) string { return strings.Replace(l, `"direction":"`, `"direction":"\u0049`, 1) },
		func(l string) string { return strings.Replace(l, `"direction":"`, `"direction":"é`, 1) },
		func(l string) string { return strings.Replace(l, `"direction":"`, "\"direction\":\"\xff", 1) },
		func(l string) string { return strings.Replace(l, `"direction":"`, "\"direction\":\"\x01", 1) },
		func(l string) string { return strings.Replace(l, `"direction":"`, `"direction":7,"x":"`, 1) },
		func(l string) string { return strings.Replace(l, `"master":true`, `"master":"true"`, 1) },
		func(l string) string { return strings.Replace(l, `"master":true`, `"master":null`, 1) },
		func(l string) string { return strings.Replace(l, `"legs":[`, `"legs":null,"x":[`, 1) },
		func(l string) string { return strings.Replace(l, `"legs":[`, `"legs":[],"x":[`, 1) },
		func(l string) string { return strings.Replace(l, `"legs":[`, `"legs":[1,`, 1) },
		func(l string) string { return strings.Replace(l, `"from":{`, `"from":{},"x":{`, 1) },
		func(l string) string { return strings.Replace(l, `"from":{`, `"from":null,"x":{`, 1) },
		func(l string) string { return strings.Replace(l, `"result":"`, `"result":"Nope`, 1) },
		func(l string) string {
			return strings.Replace(l, `"legType":"`, `"legType":"`+strings.Repeat("x", 80), 1)
		},
		func(l string) string { return strings.Replace(l, `"legType":"`, `"legType":"","x":"`, 1) },
		func(l string) string { return strings.Replace(l, `"startTime":"2025`, `"startTime":"1925`, 2) },
		func(l string) string { return strings.Replace(l, `Z"`, `"`, 1) },
		func(l string) string { return l + "x" },
		func(l string) string { return l + "{}" },
		func(l string) string { return l[:len(l)-1] },
		func(l string) string { return strings.Replace(l, `,`, `,,`, 1) },
		func(l string) string { return strings.Replace(l, `}]}`, `},]}`, 1) },
		func(l string) string { return strings.Replace(l, `:`, ` : `, -1) },
	}
	for _, l := range lines {
		for _, v := range variants {
			decodeBoth(t, v(l))
		}
	}
	for _, l := range []string{``, `{}`, `[]`, `null`, `{"id":"a"}`, `{"id":"a","startTime":"2025-01-01T00:00:00Z","durationMs":5,"direction":"Inbound"}`} {
		decodeBoth(t, l)
	}
}

// FuzzFastRecord checks the fast path of DecodeRecord against
// encoding/json on any input.
func FuzzFastRecord(f *testing.F) {
	s := callgen.NewStream(7, "acme", time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC), 2*time.Second)
	for range 5 {
		f.Add(string(callgen.AppendNDJSON(nil, s.Next())))
	}
	f.Add(`{"id":"a","startTime":"2025-01-01T00:00:00Z","durationMs":5,"direction":"Inbound","legs":[{"legType":"x","master":true}]}`)
	f.Fuzz(func(t *testing.T, data string) { decodeBoth(t, data) })
}

// TestArenaRecords: records read by NDJSONReader keep their strings in
// its arena, not in a copy of their line; they are the records
// DecodeRecord gives for the same lines, and stay intact while later lines
// are read into the same (reused) line buffer and arena chunks fill up.
func TestArenaRecords(t *testing.T) {
	s := callgen.NewStream(11, "acme", time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC), 2*time.Second)
	var buf []byte
	const n = 2000 // several 64 KiB chunks
	for range n {
		buf = callgen.AppendNDJSON(buf, s.Next())
	}
	lines := strings.Split(strings.TrimSuffix(string(buf), "\n"), "\n")
	r := NewNDJSONReader(strings.NewReader(string(buf)))
	var got []any
	for {
		rec, _, err := r.Next()
		if err != nil {
			break
		}
		got = append(got, rec)
	}
	if len(got) != n {
		t.Fatalf("read %d records, want %d", len(got), n)
	}
	if len(r.arena.chunk) == 0 {
		t.Fatal("the reader kept no strings in its arena")
	}
	for i, l := range lines {
		want, err := DecodeRecord([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], any(want)) {
			t.Fatalf("record %d from the reader differs from DecodeRecord:\n%+v\n%+v", i, got[i], want)
		}
	}
}
