// Package callgen generates realistic, deterministic call detail records for
// benchmarks, tests and the demo: inbound, outbound and internal calls with
// the results, ring and talk times, legs (PSTN ingress, accept, find-me,
// transfer), E.164 numbers, session ids and recordings one sees in a
// business phone system's call log.
//
// A Generator depends only on its seed and configuration: the same calls to
// Next return the same records, byte for byte.
package callgen

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// Extensions returns n extension numbers "101", "102", ...
func Extensions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(101 + i)
	}
	return out
}

// Sites returns n site ids "sit_hq", "sit_2", "sit_3", ...
func Sites(n int) []string {
	out := make([]string, n)
	for i := range out {
		if i == 0 {
			out[i] = "sit_hq"
		} else {
			out[i] = "sit_" + strconv.Itoa(i+1)
		}
	}
	return out
}

// user is an extension of the tenant: the person who owns it.
type user struct {
	ext, id, name, site, did string
}

// Generator makes call records of one tenant. It is not safe for
// concurrent use.
type Generator struct {
	rng    *rand.Rand
	tenant string
	users  []user
	buf    []byte
}

// New returns a generator of records of tenant, spread over the sites, whose
// internal parties are the extensions (extension numbers such as "101").
// Extensions are assigned to sites round-robin and each has a direct dial
// number. With no sites, records have no SiteID; with no extensions, the
// generator makes up ten.
func New(seed int64, tenant string, sites []string, extensions []string) *Generator {
	if len(extensions) == 0 {
		extensions = Extensions(10)
	}
	g := &Generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x63616c6c67656e)), tenant: tenant}
	areas := []string{"415", "212", "312", "617", "206", "512", "303", "404"}
	setup := rand.New(rand.NewPCG(uint64(seed), 0x7573657273))
	for i, ext := range extensions {
		u := user{ext: ext, id: "usr_" + tenant + "_" + ext, name: personName(setup)}
		site := 0
		if len(sites) > 0 {
			site = i % len(sites)
			u.site = sites[site]
		}
		u.did = "+1" + areas[site%len(areas)] + strconv.Itoa(200+i/10000%800) + pad4(i%10000)
		g.users = append(g.users, u)
	}
	return g
}

var firstNames = []string{"Maria", "Sam", "Aisha", "Tom", "Lena", "Raj", "Chloe", "Diego", "Yuki", "Olu",
	"Hannah", "Marco", "Priya", "Ben", "Sofia", "Kwame", "Emma", "Lucas", "Mei", "Jonas"}
var lastNames = []string{"Garcia", "Okafor", "Schmidt", "Nguyen", "Rossi", "Patel", "Kowalski", "Dubois",
	"Tanaka", "Johansson", "Silva", "O'Neill", "Müller", "Haddad", "Novak", "Smith"}

func personName(r *rand.Rand) string {
	return firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	return "0000"[len(s):] + s
}

const b32 = "0123456789abcdefghjkmnpqrstvwxyz"

// id returns prefix followed by n random base-32 characters.
func (g *Generator) id(prefix string, n int) string {
	b := append(g.buf[:0], prefix...)
	for range n {
		b = append(b, b32[g.rng.IntN(len(b32))])
	}
	g.buf = b
	return string(b)
}

// external returns a random outside number: mostly North American, some
// British, German and French.
func (g *Generator) external() string {
	b := g.buf[:0]
	switch p := g.rng.IntN(100); {
	case p < 80:
		b = append(b, "+1"...)
		b = strconv.AppendInt(b, int64(201+g.rng.IntN(789)), 10)
		b = strconv.AppendInt(b, int64(200+g.rng.IntN(800)), 10)
	case p < 88:
		b = append(b, "+4420"...)
		b = strconv.AppendInt(b, int64(7000+g.rng.IntN(3000)), 10)
	case p < 95:
		b = append(b, "+4930"...)
		b = strconv.AppendInt(b, int64(2000+g.rng.IntN(8000)), 10)
	default:
		b = append(b, "+331"...)
		b = strconv.AppendInt(b, int64(4000+g.rng.IntN(6000)), 10)
	}
	b = append(b, pad4(g.rng.IntN(10000))...)
	g.buf = b
	return string(b)
}

// weighted picks one of choices by the weights (which sum to 100).
func (g *Generator) weighted(choices []string, weights []int) string {
	p := g.rng.IntN(100)
	for i, w := range weights {
		if p < w {
			return choices[i]
		}
		p -= w
	}
	return choices[len(choices)-1]
}

var (
	inboundResults  = []string{callvault.ResultAccepted, callvault.ResultMissed, callvault.ResultVoicemail, callvault.ResultBusy, callvault.ResultRejected, callvault.ResultHangUp}
	inboundWeights  = []int{68, 10, 12, 2, 2, 6}
	outboundResults = []string{callvault.ResultAccepted, callvault.ResultNoAnswer, callvault.ResultBusy, callvault.ResultFailed, callvault.ResultHangUp, callvault.ResultRejected}
	outboundWeights = []int{70, 15, 6, 3, 4, 2}
	internalResults = []string{callvault.ResultAccepted, callvault.ResultMissed, callvault.ResultVoicemail, callvault.ResultBusy}
	internalWeights = []int{80, 12, 5, 3}
)

// ms returns a duration in milliseconds uniformly in [lo, hi) seconds.
func (g *Generator) ms(lo, hi int) int64 {
	return int64(lo*1000 + g.rng.IntN((hi-lo)*1000))
}

// talkMs returns a conversation length: log-normal with a median of about
// two and a half minutes, at least 5 s and at most 3 h.
func (g *Generator) talkMs() int64 {
	v := math.Exp(math.Log(150_000) + 1.0*g.rng.NormFloat64())
	return int64(min(max(v, 5_000), 3*3600_000))
}

// Next returns a new record of a call that started at start (kept to the
// microsecond, in UTC).
func (g *Generator) Next(start time.Time) *callvault.CallRecord {
	start = start.UTC().Truncate(time.Microsecond)
	u := &g.users[g.rng.IntN(len(g.users))]
	r := &callvault.CallRecord{
		TenantID:           g.tenant,
		ID:                 g.id("cdr_", 20),
		SiteID:             u.site,
		SessionID:          strconv.FormatInt(4_000_000_000+g.rng.Int64N(6_000_000_000), 10),
		TelephonySessionID: g.id("s-", 32),
		Start:              start,
		Type:               callvault.CallVoice,
		Extension:          u.ext,
	}
	if g.rng.IntN(100) == 0 {
		r.Type = callvault.CallFax
	}
	self := callvault.Party{PhoneNumber: u.did, Name: u.name, ExtensionID: u.id, ExtensionNumber: u.ext}
	var masterType string
	switch p := g.rng.IntN(100); {
	case p < 48:
		r.Direction, r.Transport, r.Action = callvault.DirectionInbound, callvault.TransportPSTN, "Phone Call"
		r.From = callvault.Party{PhoneNumber: g.external()}
		if g.rng.IntN(3) == 0 {
			r.From.Name = personName(g.rng)
		}
		r.To = self
		r.Result = g.weighted(inboundResults, inboundWeights)
		masterType = "PstnToSip"
	case p < 88:
		r.Direction, r.Transport, r.Action = callvault.DirectionOutbound, callvault.TransportPSTN, "VoIP Call"
		r.From = self
		r.To = callvault.Party{PhoneNumber: g.external()}
		r.Result = g.weighted(outboundResults, outboundWeights)
		masterType = "SipToPstnMetered"
	default:
		r.Direction, r.Transport, r.Action = callvault.DirectionInternal, callvault.TransportVoIP, "VoIP Call"
		r.From = self
		v := &g.users[g.rng.IntN(len(g.users))]
		r.To = callvault.Party{PhoneNumber: v.did, Name: v.name, ExtensionID: v.id, ExtensionNumber: v.ext}
		r.Result = g.weighted(internalResults, internalWeights)
		masterType = "ExtensionToExtension"
	}
	if r.Type == callvault.CallFax {
		r.Action = "Outgoing Fax"
		if r.Direction == callvault.DirectionInbound {
			r.Action = "Incoming Fax"
		}
	}

	// Ring, talk and the end of the call.
	var ring, rest int64
	switch r.Result {
	case callvault.ResultAccepted:
		ring = g.ms(2, 20)
		r.TalkMs = g.talkMs()
		rest = r.TalkMs
	case callvault.ResultVoicemail:
		ring = g.ms(15, 30)
		rest = g.ms(8, 90) // the message
	case callvault.ResultMissed, callvault.ResultNoAnswer:
		ring = g.ms(20, 45)
	case callvault.ResultHangUp:
		ring = g.ms(1, 15)
	default: // busy, rejected, failed
		ring = g.ms(0, 4)
	}
	r.DurationMs = ring + rest
	r.End = start.Add(time.Duration(r.DurationMs) * time.Millisecond)
	if r.Result == callvault.ResultAccepted {
		r.Answer = start.Add(time.Duration(ring) * time.Millisecond)
	}

	// Legs: the master leg over the whole call, then the legs inside it.
	r.Legs = append(r.Legs, callvault.Leg{
		LegType: masterType, Master: true, Direction: r.Direction, Action: r.Action, Result: r.Result,
		Transport: r.Transport, From: r.From, To: r.To, Start: start, DurationMs: r.DurationMs,
	})
	if r.Direction == callvault.DirectionInbound && g.rng.IntN(100) < 15 {
		// Find-me: the user's mobile rang in parallel.
		r.Legs = append(r.Legs, callvault.Leg{
			LegType: "FindMe", Direction: callvault.DirectionOutbound, Action: "FindMe", Result: callvault.ResultNoAnswer,
			Transport: callvault.TransportPSTN, From: r.To, To: callvault.Party{PhoneNumber: g.external(), Name: u.name},
			Start: start.Add(time.Second), DurationMs: max(ring-1000, 0),
		})
	}
	if r.Result == callvault.ResultAccepted {
		accept := callvault.Leg{
			LegType: "Accept", Direction: r.Direction, Action: r.Action, Result: callvault.ResultAccepted,
			Transport: callvault.TransportVoIP, From: r.From, To: r.To, Start: r.Answer, DurationMs: r.TalkMs,
		}
		if g.rng.IntN(100) < 8 && len(g.users) > 1 {
			// Transferred to a colleague part-way through.
			v := &g.users[g.rng.IntN(len(g.users))]
			first := r.TalkMs / 3
			accept.DurationMs = first
			r.Legs = append(r.Legs, accept, callvault.Leg{
				LegType: "TransferCall", Direction: callvault.DirectionInternal, Action: "Transfer", Result: callvault.ResultAccepted,
				Transport: callvault.TransportVoIP, From: r.To,
				To:    callvault.Party{PhoneNumber: v.did, Name: v.name, ExtensionID: v.id, ExtensionNumber: v.ext},
				Start: r.Answer.Add(time.Duration(first) * time.Millisecond), DurationMs: r.TalkMs - first,
			})
		} else {
			r.Legs = append(r.Legs, accept)
		}
		if r.Type == callvault.CallVoice && g.rng.IntN(100) < 25 {
			r.RecordingIDs = []string{g.id("rec_", 16)}
		}
	}
	return r
}
