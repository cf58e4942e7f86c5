package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// GeneratedSampleRate is the sample rate of GenerateWAV's output: 8 kHz,
// narrow-band telephone audio.
const GeneratedSampleRate = 8000

// samplePeriod is the length of one sample at GeneratedSampleRate (125 µs).
const samplePeriod = time.Second / GeneratedSampleRate

// wavHeaderSize is the size of the canonical 44-byte PCM WAV header that
// GenerateWAV writes.
const wavHeaderSize = 44

// MaxGeneratedDuration is the longest recording GenerateWAV makes: the most
// 16-bit samples a WAV data chunk can hold (about 74 hours).
const MaxGeneratedDuration = time.Duration((math.MaxUint32-36)/2) * samplePeriod

// GeneratedWAVSize returns the size in bytes of the file GenerateWAV writes
// for duration, for a Content-Length or a size check. The duration is
// rounded down to whole samples (125 µs).
func GeneratedWAVSize(duration time.Duration) int64 {
	return wavHeaderSize + 2*int64(max(duration, 0)/samplePeriod)
}

// GenerateWAV writes a call recording of the given duration to w: a
// canonical RIFF/WAVE file of 8 kHz, 16-bit, mono PCM, rounded down to
// whole samples. The audio sounds like a telephone call: two speakers
// taking turns (voiced syllables shaped by formant filters, with fricative
// noise bursts), pauses, DTMF digit sequences, and a low line-noise floor
// throughout. The same seed always gives the same bytes, and a shorter
// recording of a seed is a prefix (in its audio data) of a longer one.
//
// It streams: memory use does not depend on the duration.
func GenerateWAV(w io.Writer, seed int64, duration time.Duration) error {
	if duration < 0 {
		return errors.New("audio: negative duration")
	}
	if duration > MaxGeneratedDuration {
		return fmt.Errorf("audio: duration %v over the WAV maximum of %v", duration, MaxGeneratedDuration)
	}
	n := int64(duration / samplePeriod)
	dataSize := uint32(2 * n)

	var h [wavHeaderSize]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataSize)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)                    // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], FormatPCM)             // format
	binary.LittleEndian.PutUint16(h[22:], 1)                     // channels
	binary.LittleEndian.PutUint32(h[24:], GeneratedSampleRate)   // sample rate
	binary.LittleEndian.PutUint32(h[28:], 2*GeneratedSampleRate) // byte rate
	binary.LittleEndian.PutUint16(h[32:], 2)                     // block align
	binary.LittleEndian.PutUint16(h[34:], 16)                    // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataSize)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}

	g := newGenerator(seed)
	buf := make([]byte, 0, 8192)
	for n > 0 {
		k := min(n, int64(cap(buf)/2))
		buf = buf[:0]
		for range k {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(g.next()))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// DTMF frequencies (Hz): the row (low) and column (high) tones of the
// keypad 1 2 3 A / 4 5 6 B / 7 8 9 C / * 0 # D.
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
)

// Segment kinds.
const (
	segSilence = iota
	segVowel
	segFricative
	segTone
)

// segment is a stretch of the recording made one way.
type segment struct {
	kind   int
	length int     // samples
	amp    float64 // peak amplitude, in 16-bit sample units
	// segVowel: pitch (Hz) and formants (Hz) gliding from start to end.
	f0, f0End float64
	f1, f1End float64
	f2, f2End float64
	// segTone: the two DTMF frequencies.
	lo, hi float64
}

// generator makes the samples of GenerateWAV one by one. All randomness
// comes from seeded sources, in an order that does not depend on the
// duration, so output is deterministic and prefix-stable.
type generator struct {
	rng   *rand.Rand
	noise uint64    // xorshift state for per-sample noise
	queue []segment // planned segments; queue[qi] is the next
	qi    int
	seg   segment
	pos   int
	turn  int          // whose turn to speak: 0 or 1
	pitch [2]float64   // each speaker's base pitch
	phase float64      // oscillator phase for voice (cycles) or tone lo
	phHi  float64      // tone hi phase
	res   [3]resonator // formant filters F1, F2, F3
	prev  float64      // previous noise sample, for the fricative high-pass
}

func newGenerator(seed int64) *generator {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6361_6c6c_7661_756c)) // "callvaul"
	g := &generator{rng: rng, noise: rng.Uint64() | 1}
	g.pitch[0] = 95 + 40*rng.Float64()  // a lower voice
	g.pitch[1] = 180 + 60*rng.Float64() // a higher voice
	g.turn = rng.IntN(2)
	// Every call starts with a moment of line noise before anyone speaks.
	g.queue = append(g.queue, segment{kind: segSilence, length: g.ms(200, 600)})
	return g
}

// ms returns a random length between lo and hi milliseconds, in samples.
func (g *generator) ms(lo, hi int) int {
	return (lo + g.rng.IntN(hi-lo+1)) * GeneratedSampleRate / 1000
}

// uniform returns a random float in [lo, hi).
func (g *generator) uniform(lo, hi float64) float64 { return lo + (hi-lo)*g.rng.Float64() }

// white returns per-sample white noise in [-1, 1).
func (g *generator) white() float64 {
	g.noise ^= g.noise << 13
	g.noise ^= g.noise >> 7
	g.noise ^= g.noise << 17
	return float64(int64(g.noise>>11))/float64(1<<52) - 1
}

// plan queues the next stretch of the call: a talk spurt by the speaker
// whose turn it is, a DTMF sequence, or a pause.
func (g *generator) plan() {
	last := g.seg.kind
	switch p := g.rng.Float64(); {
	case p < 0.12:
		g.planDTMF()
	case p < 0.30 && last != segSilence:
		g.queue = append(g.queue, segment{kind: segSilence, length: g.ms(300, 1500)})
	default:
		g.planTalk()
	}
}

func (g *generator) planTalk() {
	base := g.pitch[g.turn]
	g.turn = 1 - g.turn
	syllables := 2 + g.rng.IntN(12)
	for i := range syllables {
		if g.rng.Float64() < 0.2 {
			g.queue = append(g.queue, segment{kind: segFricative, length: g.ms(50, 140), amp: g.uniform(600, 1800)})
		}
		// Pitch declines over the phrase and moves within each syllable.
		decl := 1.1 - 0.25*float64(i)/float64(syllables)
		f0 := base * decl * g.uniform(0.9, 1.1)
		s := segment{
			kind:   segVowel,
			length: g.ms(90, 300),
			amp:    g.uniform(2500, 8000),
			f0:     f0, f0End: f0 * g.uniform(0.85, 1.12),
			f1: g.uniform(280, 850), f1End: g.uniform(280, 850),
			f2: g.uniform(850, 2300), f2End: g.uniform(850, 2300),
		}
		// Keep F2 clear of F1, as in real vowels; merged formants ring loudly.
		s.f2, s.f2End = max(s.f2, s.f1+400), max(s.f2End, s.f1End+400)
		g.queue = append(g.queue, s)
		if g.rng.Float64() < 0.5 {
			g.queue = append(g.queue, segment{kind: segSilence, length: g.ms(10, 70)})
		}
	}
	g.queue = append(g.queue, segment{kind: segSilence, length: g.ms(150, 700)})
}

func (g *generator) planDTMF() {
	digits := 1 + g.rng.IntN(6)
	for range digits {
		g.queue = append(g.queue,
			segment{
				kind:   segTone,
				length: g.ms(70, 150),
				amp:    g.uniform(4000, 7000),
				lo:     dtmfRows[g.rng.IntN(4)],
				hi:     dtmfCols[g.rng.IntN(4)],
			},
			segment{kind: segSilence, length: g.ms(60, 120)})
	}
	g.queue = append(g.queue, segment{kind: segSilence, length: g.ms(200, 600)})
}

// start begins segment s.
func (g *generator) start(s segment) {
	g.seg, g.pos = s, 0
	g.phase, g.phHi = 0, 0
	for i := range g.res {
		g.res[i] = resonator{}
	}
}

// next returns the next sample.
func (g *generator) next() int16 {
	for g.pos >= g.seg.length {
		if g.qi == len(g.queue) {
			g.queue, g.qi = g.queue[:0], 0 // reuse the backing array
			g.plan()
		}
		g.start(g.queue[g.qi])
		g.qi++
	}
	s := &g.seg
	t := float64(g.pos) / float64(s.length) // 0..1 through the segment
	var v float64
	switch s.kind {
	case segVowel:
		if g.pos%80 == 0 { // glide the formants every 10 ms
			g.res[0].tune(lerp(s.f1, s.f1End, t), 90)
			g.res[1].tune(lerp(s.f2, s.f2End, t), 120)
			g.res[2].tune(2700, 180)
		}
		g.phase += lerp(s.f0, s.f0End, t) / GeneratedSampleRate
		g.phase -= math.Floor(g.phase)
		src := 2*g.phase - 1 + 0.1*g.white() // sawtooth glottal source plus breath
		y := g.res[2].filter(g.res[1].filter(g.res[0].filter(src)))
		v = 0.4 * y * s.amp * math.Sin(math.Pi*t)
	case segFricative:
		x := g.white()
		v = (x - 0.9*g.prev) * s.amp * math.Sin(math.Pi*t)
		g.prev = x
	case segTone:
		ramp := min(1, float64(g.pos)/24, float64(s.length-g.pos)/24) // 3 ms edges
		g.phase += s.lo / GeneratedSampleRate
		g.phHi += s.hi / GeneratedSampleRate
		// The high tone a little louder, as telephones send it ("twist").
		v = s.amp * ramp * (0.8*math.Sin(2*math.Pi*g.phase) + math.Sin(2*math.Pi*g.phHi))
	}
	g.pos++
	v += 40 * (g.white() + g.white()) // line noise floor
	return int16(max(-32768, min(32767, math.Round(v))))
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

// resonator is a two-pole filter with unit gain at 0 Hz and a peak at its
// centre frequency: a formant. In cascade they shape a glottal source into
// a vowel, as in Klatt's formant synthesizer.
type resonator struct {
	a, b, c float64
	y1, y2  float64
}

// tune sets the centre frequency and bandwidth (Hz), keeping the state.
func (r *resonator) tune(freq, bw float64) {
	rad := math.Exp(-math.Pi * bw / GeneratedSampleRate)
	theta := 2 * math.Pi * freq / GeneratedSampleRate
	r.b = 2 * rad * math.Cos(theta)
	r.c = -rad * rad
	r.a = 1 - r.b - r.c
}

func (r *resonator) filter(x float64) float64 {
	y := r.a*x + r.b*r.y1 + r.c*r.y2
	r.y2, r.y1 = r.y1, y
	return y
}
