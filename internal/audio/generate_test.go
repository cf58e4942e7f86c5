package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"testing"
	"time"
)

func TestGenerateDeterministic(t *testing.T) {
	a := generated(t, 42, 5*time.Second)
	b := generated(t, 42, 5*time.Second)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	c := generated(t, 43, 5*time.Second)
	if bytes.Equal(a[44:], c[44:]) {
		t.Fatal("different seeds, same audio")
	}
	// A shorter recording of a seed is a prefix of a longer one.
	short := generated(t, 42, 2*time.Second)
	if !bytes.Equal(short[44:], a[44:len(short)]) {
		t.Fatal("a 2 s recording is not a prefix of the 5 s recording of the same seed")
	}
}

func TestGenerateErrors(t *testing.T) {
	if err := GenerateWAV(io.Discard, 1, -time.Second); err == nil {
		t.Fatal("negative duration accepted")
	}
	var b bytes.Buffer
	if err := GenerateWAV(&b, 1, MaxGeneratedDuration+samplePeriod); err == nil || b.Len() != 0 {
		t.Fatalf("over-long duration: err %v, wrote %d bytes", err, b.Len())
	}
	if GeneratedWAVSize(MaxGeneratedDuration)-8 > math.MaxUint32 {
		t.Fatal("MaxGeneratedDuration does not fit a RIFF chunk")
	}
	// A write error stops generation and is returned.
	boom := errors.New("disk full")
	for _, after := range []int{0, 44, 10000} {
		fw := &failingWriter{after: after, err: boom}
		if err := GenerateWAV(fw, 1, 10*time.Second); !errors.Is(err, boom) {
			t.Fatalf("failing after %d bytes: %v", after, err)
		}
	}
}

type failingWriter struct {
	n, after int
	err      error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.after {
		return 0, f.err
	}
	f.n += len(p)
	return len(p), nil
}

// Generation streams: memory does not grow with the duration. Ten minutes
// of audio (9.6 MB of WAV) allocates about as little as one second.
func TestGenerateBoundedMemory(t *testing.T) {
	alloc := func(d time.Duration) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := GenerateWAV(io.Discard, 5, d); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	short, long := alloc(time.Second), alloc(10*time.Minute)
	if long > 64<<10 || long > short+32<<10 {
		t.Fatalf("allocated %d bytes for 1 s, %d bytes for 10 min", short, long)
	}
}

func samples(b []byte) []float64 {
	d := b[44:]
	s := make([]float64, len(d)/2)
	for i := range s {
		s[i] = float64(int16(binary.LittleEndian.Uint16(d[2*i:])))
	}
	return s
}

// goertzel returns the power of frequency f in x (sampled at 8 kHz).
func goertzel(x []float64, f float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*f/GeneratedSampleRate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+coeff*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// dtmfDigits decodes the DTMF digits in x the way a telephone exchange
// does: 205-sample (25.6 ms) blocks in which exactly one row and one column
// tone dominate, a digit counted once however many blocks it spans.
func dtmfDigits(x []float64) string {
	const keys = "123A456B789C*0#D"
	const n = 205
	var out []byte
	last := byte(0)
	for i := 0; i+n <= len(x); i += n {
		blk := x[i : i+n]
		var energy float64
		for _, v := range blk {
			energy += v * v
		}
		row, col := -1, -1
		var rowP, colP, rest float64
		for j, f := range dtmfRows {
			p := goertzel(blk, f)
			if p > rowP {
				rest += rowP
				row, rowP = j, p
			} else {
				rest += p
			}
		}
		for j, f := range dtmfCols {
			p := goertzel(blk, f)
			if p > colP {
				rest += colP
				col, colP = j, p
			} else {
				rest += p
			}
		}
		// A sinusoid of amplitude A has Goertzel power about (n·A/2)²,
		// n/2 times its energy n·A²/2 in the block: demand that each tone
		// carry a good share of the block's energy and the other six little.
		tone := energy * n / 2
		if energy > 0 && rowP > 0.15*tone && colP > 0.15*tone && rest < 0.1*(rowP+colP) {
			k := keys[row*4+col]
			if k != last {
				out = append(out, k)
			}
			last = k
		} else {
			last = 0
		}
	}
	return string(out)
}

func TestGeneratedAudioIsCallLike(t *testing.T) {
	var allDigits string
	for seed := int64(1); seed <= 5; seed++ {
		x := samples(generated(t, seed, time.Minute))
		var peak, sum float64
		for _, v := range x {
			peak = max(peak, math.Abs(v))
			sum += v * v
		}
		rms := math.Sqrt(sum / float64(len(x)))
		if peak >= 32767 {
			t.Errorf("seed %d: clipped (peak %v)", seed, peak)
		}
		if rms < 300 || rms > 6000 {
			t.Errorf("seed %d: RMS %.0f, not a telephone speech level", seed, rms)
		}
		// Speech comes in spurts: count quiet and loud 20 ms frames.
		var quiet, loud, frames int
		for i := 0; i+160 <= len(x); i += 160 {
			var e float64
			for _, v := range x[i : i+160] {
				e += v * v
			}
			switch r := math.Sqrt(e / 160); {
			case r < 150:
				quiet++
			case r > 800:
				loud++
			}
			frames++
		}
		if q := float64(quiet) / float64(frames); q < 0.1 || q > 0.7 {
			t.Errorf("seed %d: %.0f%% of frames quiet; want pauses, but not mostly silence", seed, 100*q)
		}
		if l := float64(loud) / float64(frames); l < 0.2 {
			t.Errorf("seed %d: only %.0f%% of frames loud", seed, 100*l)
		}
		// The DTMF digits are real: a decoder hears exactly the digits the
		// generator dialled, and nothing in the speech.
		want := dialledDigits(seed, len(x))
		if got := dtmfDigits(x); got != want {
			t.Errorf("seed %d: decoded DTMF %q, dialled %q", seed, got, want)
		}
		allDigits += want
	}
	if len(allDigits) == 0 {
		t.Error("no DTMF digits in five minutes of generated calls")
	}
}

// dialledDigits replays the generator of seed for n samples and returns
// the DTMF digits it dialled.
func dialledDigits(seed int64, n int) string {
	const keys = "123A456B789C*0#D"
	g := newGenerator(seed)
	var out []byte
	for range n {
		g.next()
		if g.pos == 1 && g.seg.kind == segTone {
			for r, lo := range dtmfRows {
				for c, hi := range dtmfCols {
					if g.seg.lo == lo && g.seg.hi == hi {
						out = append(out, keys[r*4+c])
					}
				}
			}
		}
	}
	return string(out)
}

// The decoder used above works: it finds exactly the digits of a clean
// DTMF sequence, and none in a pure talk spurt.
func TestDTMFDecoderSelfCheck(t *testing.T) {
	g := newGenerator(1)
	var x []float64
	for _, d := range []struct{ r, c int }{{0, 0}, {1, 1}, {3, 1}, {3, 2}} {
		g.start(segment{kind: segTone, length: 960, amp: 5000, lo: dtmfRows[d.r], hi: dtmfCols[d.c]})
		for range 960 {
			x = append(x, float64(g.next()))
		}
		g.start(segment{kind: segSilence, length: 640})
		for range 640 {
			x = append(x, float64(g.next()))
		}
	}
	if got := dtmfDigits(x); got != "150#" {
		t.Fatalf("decoded %q, want 150#", got)
	}
	x = x[:0]
	g.queue, g.qi = g.queue[:0], 0
	g.planTalk()
	for range 8000 * 3 {
		x = append(x, float64(g.next()))
	}
	if got := dtmfDigits(x); got != "" {
		t.Fatalf("talk decoded as DTMF %q", got)
	}
}

func BenchmarkGenerateWAVMinute(b *testing.B) {
	b.SetBytes(GeneratedWAVSize(time.Minute))
	for b.Loop() {
		if err := GenerateWAV(io.Discard, 1, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
