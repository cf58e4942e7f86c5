package callgen

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

func TestDeterministic(t *testing.T) {
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	a := New(7, "acme", Sites(3), Extensions(50))
	b := New(7, "acme", Sites(3), Extensions(50))
	for i := range 1000 {
		at := start.Add(time.Duration(i) * time.Second)
		if x, y := a.Next(at), b.Next(at); !reflect.DeepEqual(x, y) {
			t.Fatalf("record %d differs:\n%+v\n%+v", i, x, y)
		}
	}
	if x, y := New(7, "acme", nil, nil).Next(start), New(8, "acme", nil, nil).Next(start); x.ID == y.ID {
		t.Errorf("seeds 7 and 8 made the same id %s", x.ID)
	}
}

func TestRealistic(t *testing.T) {
	g := New(1, "acme", Sites(2), Extensions(20))
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	dirs, results := map[string]int{}, map[string]int{}
	ids := map[string]bool{}
	const n = 10000
	for i := range n {
		r := g.Next(start.Add(time.Duration(i) * time.Minute))
		dirs[r.Direction]++
		results[r.Result]++
		if ids[r.ID] {
			t.Fatalf("duplicate id %s", r.ID)
		}
		ids[r.ID] = true
		if r.TenantID != "acme" || r.SiteID == "" || r.Extension == "" || r.SessionID == "" || r.TelephonySessionID == "" {
			t.Fatalf("record misses ids: %+v", r)
		}
		if !r.End.Equal(r.Start.Add(time.Duration(r.DurationMs) * time.Millisecond)) {
			t.Fatalf("end %v != start %v + %d ms", r.End, r.Start, r.DurationMs)
		}
		answered := r.Result == callvault.ResultAccepted
		if answered != !r.Answer.IsZero() || answered != (r.TalkMs > 0) {
			t.Fatalf("result %s with answer %v talk %d", r.Result, r.Answer, r.TalkMs)
		}
		if len(r.Legs) == 0 || !r.Legs[0].Master {
			t.Fatalf("no master leg: %+v", r.Legs)
		}
		for _, p := range []string{r.From.PhoneNumber, r.To.PhoneNumber} {
			if !strings.HasPrefix(p, "+") || len(p) < 11 || len(p) > 16 {
				t.Fatalf("not an E.164 number: %q", p)
			}
		}
		if len(r.RecordingIDs) > 0 && !answered {
			t.Fatalf("recording of an unanswered call")
		}
	}
	for _, d := range []string{callvault.DirectionInbound, callvault.DirectionOutbound, callvault.DirectionInternal} {
		if dirs[d] < n/20 {
			t.Errorf("only %d %s calls of %d", dirs[d], d, n)
		}
	}
	if results[callvault.ResultAccepted] < n/2 || results[callvault.ResultMissed] == 0 || results[callvault.ResultVoicemail] == 0 {
		t.Errorf("unrealistic results: %v", results)
	}
}
