package callgen

import (
	"bufio"
	"encoding/json"
	"io"
	"math/rand/v2"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// wireRecord is a record in the native ingest wire shape (what POST
// .../calls and `callvault import --format ndjson` read): a CallRecord
// without the fields callvault sets itself.
type wireRecord struct {
	ID                 string          `json:"id"`
	SiteID             string          `json:"siteId,omitempty"`
	SessionID          string          `json:"sessionId,omitempty"`
	TelephonySessionID string          `json:"telephonySessionId,omitempty"`
	Start              time.Time       `json:"startTime"`
	Answer             time.Time       `json:"answerTime,omitzero"`
	End                time.Time       `json:"endTime,omitzero"`
	DurationMs         int64           `json:"durationMs"`
	Direction          string          `json:"direction"`
	Type               string          `json:"type"`
	Action             string          `json:"action,omitempty"`
	Result             string          `json:"result"`
	Transport          string          `json:"transport,omitempty"`
	From               callvault.Party `json:"from"`
	To                 callvault.Party `json:"to"`
	Extension          string          `json:"extension,omitempty"`
	Legs               []callvault.Leg `json:"legs"`
}

// AppendNDJSON appends r to b as one NDJSON line (with its "\n") in the
// native ingest wire shape.
func AppendNDJSON(b []byte, r *callvault.CallRecord) []byte {
	w := wireRecord{ID: r.ID, SiteID: r.SiteID, SessionID: r.SessionID, TelephonySessionID: r.TelephonySessionID,
		Start: r.Start, Answer: r.Answer, End: r.End, DurationMs: r.DurationMs, Direction: r.Direction, Type: r.Type,
		Action: r.Action, Result: r.Result, Transport: r.Transport, From: r.From, To: r.To, Extension: r.Extension, Legs: r.Legs}
	j, err := json.Marshal(&w)
	if err != nil {
		panic(err) // plain strings, times and numbers always marshal
	}
	return append(append(b, j...), '\n')
}

// Stream makes the records of one busy tenant in time order: sites
// Sites(50), extensions Extensions(2000), one call every gap from start,
// each up to a minute late (as a PBX's call-record feed delivers them).
// The same seed makes the same records.
type Stream struct {
	g     *Generator
	rng   *rand.Rand
	start time.Time
	gap   time.Duration
	i     int
}

// NewStream returns a stream of tenant's calls (see Stream).
func NewStream(seed int64, tenant string, start time.Time, gap time.Duration) *Stream {
	return &Stream{g: New(seed, tenant, Sites(50), Extensions(2000)), rng: rand.New(rand.NewPCG(uint64(seed), 1)), start: start, gap: gap}
}

// Next returns the stream's next record.
func (s *Stream) Next() *callvault.CallRecord {
	at := s.start.Add(time.Duration(s.i)*s.gap + time.Duration(s.rng.Int64N(int64(time.Minute))))
	s.i++
	return s.g.Next(at)
}

// WriteNDJSON writes the next n records of s to w as NDJSON, one record at
// a time (memory does not grow with n).
func (s *Stream) WriteNDJSON(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var line []byte
	for range n {
		line = AppendNDJSON(line[:0], s.Next())
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
