package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

func wavInfo(b []byte) (WAV, error) { return WAVInfo(bytes.NewReader(b), int64(len(b))) }

var generatedDurations = []time.Duration{
	0,
	samplePeriod, // one sample
	10 * time.Millisecond,
	time.Second,
	2500 * time.Millisecond,
	61*time.Second + 3*samplePeriod,
	7*time.Minute + 13*time.Second,
}

func TestWAVInfoGenerated(t *testing.T) {
	for _, d := range generatedDurations {
		b := generated(t, int64(d), d)
		if int64(len(b)) != GeneratedWAVSize(d) {
			t.Fatalf("%v: %d bytes, GeneratedWAVSize says %d", d, len(b), GeneratedWAVSize(d))
		}
		w, err := wavInfo(b)
		if err != nil {
			t.Fatalf("%v: %v", d, err)
		}
		samples := int64(d / samplePeriod)
		want := WAV{
			Format: FormatPCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16,
			BlockAlign: 2, ByteRate: 16000, DataOffset: 44, DataSize: 2 * samples,
			Frames: samples, Duration: d,
		}
		if w != want {
			t.Fatalf("%v:\n got %+v\nwant %+v", d, w, want)
		}
	}
}

func TestGeneratedDurationRoundsDownToSamples(t *testing.T) {
	d := time.Second + samplePeriod - 1
	w, err := wavInfo(generated(t, 1, d))
	if err != nil {
		t.Fatal(err)
	}
	if w.Duration != time.Second || w.Frames != 8000 {
		t.Fatalf("duration %v frames %d, want 1s and 8000", w.Duration, w.Frames)
	}
}

// soxi runs soxi with args on path, or skips the check when sox is not
// installed.
func soxi(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("soxi")
	if err != nil {
		t.Skip("soxi not installed; skipping the cross-check with sox")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("soxi %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func soxiSeconds(t *testing.T, path string) time.Duration {
	t.Helper()
	s := soxi(t, "-D", path)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("soxi -D %s: %q", path, s)
	}
	return time.Duration(f * float64(time.Second))
}

// TestGeneratedWAVAgreesWithSox checks the generated files with an
// independent implementation: sox must read them without warnings, and
// soxi must report the same duration, rate, channels and sample size as
// WAVInfo.
func TestGeneratedWAVAgreesWithSox(t *testing.T) {
	soxBin, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed; skipping the cross-check with sox")
	}
	dir := t.TempDir()
	for _, d := range generatedDurations {
		path := filepath.Join(dir, d.String()+".wav")
		if err := os.WriteFile(path, generated(t, 7, d), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		w, err := WAVInfo(f, fi.Size())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := soxiSeconds(t, path)
		if diff := (got - w.Duration).Abs(); diff > time.Microsecond {
			t.Errorf("%v: soxi -D says %v, WAVInfo %v", d, got, w.Duration)
		}
		if r := soxi(t, "-r", path); r != "8000" {
			t.Errorf("%v: soxi -r = %s", d, r)
		}
		if c := soxi(t, "-c", path); c != "1" {
			t.Errorf("%v: soxi -c = %s", d, c)
		}
		if b := soxi(t, "-b", path); b != "16" {
			t.Errorf("%v: soxi -b = %s", d, b)
		}
		if s := soxi(t, "-s", path); s != strconv.FormatInt(w.Frames, 10) {
			t.Errorf("%v: soxi -s = %s, WAVInfo frames %d", d, s, w.Frames)
		}
		// Decode the whole file: sox warns about anything malformed.
		out, err := exec.Command(soxBin, "-V2", path, "-n", "stat").CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("WARN")) || bytes.Contains(out, []byte("FAIL")) {
			t.Errorf("%v: sox decoding: %v\n%s", d, err, out)
		}
	}
}

// TestWAVInfoOnSoxEncodings converts a generated recording with sox into
// the WAV encodings telephony systems produce (µ-law, A-law, GSM 6.10,
// ADPCM, float, 24-bit stereo as WAVE_FORMAT_EXTENSIBLE) and checks that
// WAVInfo reads each like soxi does.
func TestWAVInfoOnSoxEncodings(t *testing.T) {
	soxBin, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed; skipping the cross-check with sox")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.wav")
	if err := os.WriteFile(src, generated(t, 3, 12*time.Second+250*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		format   int
		channels int
		rate     int
		// Block-coded formats may be padded to a whole block, and sox and
		// the fact chunk may round differently; allow that much slack.
		slack time.Duration
	}{
		{"ulaw", []string{"-e", "u-law"}, FormatMuLaw, 1, 8000, 0},
		{"alaw", []string{"-e", "a-law"}, FormatALaw, 1, 8000, 0},
		{"gsm", []string{"-e", "gsm-full-rate"}, 0x31, 1, 8000, 40 * time.Millisecond},
		{"ima-adpcm", []string{"-e", "ima-adpcm"}, 0x11, 1, 8000, 130 * time.Millisecond},
		{"ms-adpcm", []string{"-e", "ms-adpcm"}, 0x02, 1, 8000, 130 * time.Millisecond},
		{"float", []string{"-e", "floating-point"}, FormatIEEEFloat, 1, 8000, 0},
		{"stereo-24bit-44k", []string{"-c", "2", "-r", "44100", "-b", "24"}, FormatPCM, 2, 44100, 0},
		{"32bit", []string{"-b", "32", "-e", "signed"}, FormatPCM, 1, 8000, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".wav")
			args := append([]string{src}, c.args...)
			args = append(args, out)
			if b, err := exec.Command(soxBin, args...).CombinedOutput(); err != nil {
				t.Skipf("this sox cannot write %s: %v\n%s", c.name, err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if ct, ok := Detect(b[:min(len(b), HeadSize)]); !ok || ct != ContentTypeWAV {
				t.Fatalf("Detect = %q, %v", ct, ok)
			}
			w, err := wavInfo(b)
			if err != nil {
				t.Fatal(err)
			}
			if w.Format != c.format || w.Channels != c.channels || w.SampleRate != c.rate {
				t.Fatalf("format %#x channels %d rate %d; want %#x %d %d",
					w.Format, w.Channels, w.SampleRate, c.format, c.channels, c.rate)
			}
			got := soxiSeconds(t, out)
			if diff := (got - w.Duration).Abs(); diff > c.slack+time.Microsecond {
				t.Fatalf("soxi -D says %v, WAVInfo %v", got, w.Duration)
			}
		})
	}
}

// Hand-made WAV files.

type chunk struct {
	id   string
	body []byte
	size int64 // declared size; -1 for len(body)
}

func fmtBody(format, channels, rate, byteRate, blockAlign, bits int, extra ...byte) []byte {
	b := make([]byte, 16, 16+len(extra))
	binary.LittleEndian.PutUint16(b[0:], uint16(format))
	binary.LittleEndian.PutUint16(b[2:], uint16(channels))
	binary.LittleEndian.PutUint32(b[4:], uint32(rate))
	binary.LittleEndian.PutUint32(b[8:], uint32(byteRate))
	binary.LittleEndian.PutUint16(b[12:], uint16(blockAlign))
	binary.LittleEndian.PutUint16(b[14:], uint16(bits))
	return append(b, extra...)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func riff(chunks ...chunk) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		size := c.size
		if size < 0 {
			size = int64(len(c.body))
		}
		b = append(b, c.id...)
		b = binary.LittleEndian.AppendUint32(b, uint32(size))
		b = append(b, c.body...)
		if len(c.body)%2 == 1 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func ch(id string, body []byte) chunk { return chunk{id: id, body: body, size: -1} }

func TestWAVInfoHandMade(t *testing.T) {
	pcmStereo := fmtBody(FormatPCM, 2, 44100, 44100*4, 4, 16)
	ext := fmtBody(FormatExtensible, 2, 48000, 48000*6, 6, 24,
		22, 0, 24, 0, 3, 0, 0, 0, // cbSize, valid bits, channel mask
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71) // KSDATAFORMAT_SUBTYPE_PCM
	cases := []struct {
		name string
		file []byte
		want WAV
	}{
		{
			"stereo 44.1k with odd-sized LIST chunk before data",
			riff(ch("fmt ", pcmStereo), ch("LIST", []byte("INFOISFT\x03\x00\x00\x00ab\x00")), ch("data", make([]byte, 44100*4*2))),
			WAV{Format: FormatPCM, Channels: 2, SampleRate: 44100, BitsPerSample: 16, BlockAlign: 4, ByteRate: 176400,
				DataOffset: 12 + 24 + 8 + 16 + 8, DataSize: 352800, Frames: 88200, Duration: 2 * time.Second},
		},
		{
			"µ-law 8k with fact",
			riff(ch("fmt ", fmtBody(FormatMuLaw, 1, 8000, 8000, 1, 8, 0, 0)), ch("fact", u32(12000)), ch("data", make([]byte, 12000))),
			WAV{Format: FormatMuLaw, Channels: 1, SampleRate: 8000, BitsPerSample: 8, BlockAlign: 1, ByteRate: 8000,
				DataOffset: 12 + 26 + 12 + 8, DataSize: 12000, Frames: 12000, Duration: 1500 * time.Millisecond},
		},
		{
			"GSM 6.10 from the fact chunk",
			riff(ch("fmt ", fmtBody(0x31, 1, 8000, 1625, 65, 0, 2, 0, 0x40, 0x01)), ch("fact", u32(16000)), ch("data", make([]byte, 65*50))),
			WAV{Format: 0x31, Channels: 1, SampleRate: 8000, BlockAlign: 65, ByteRate: 1625,
				DataOffset: 12 + 28 + 12 + 8, DataSize: 3250, Frames: 16000, Duration: 2 * time.Second},
		},
		{
			"GSM 6.10 from the byte rate without fact",
			riff(ch("fmt ", fmtBody(0x31, 1, 8000, 1625, 65, 0)), ch("data", make([]byte, 65*25))),
			WAV{Format: 0x31, Channels: 1, SampleRate: 8000, BlockAlign: 65, ByteRate: 1625,
				DataOffset: 12 + 24 + 8, DataSize: 1625, Frames: 8000, Duration: time.Second},
		},
		{
			"extensible with PCM sub-format",
			riff(ch("fmt ", ext), ch("data", make([]byte, 48000*6/4))),
			WAV{Format: FormatPCM, Channels: 2, SampleRate: 48000, BitsPerSample: 24, BlockAlign: 6, ByteRate: 288000,
				DataOffset: 12 + 48 + 8, DataSize: 72000, Frames: 12000, Duration: 250 * time.Millisecond},
		},
		{
			"data chunk before fmt",
			riff(ch("data", make([]byte, 1600)), ch("fmt ", fmtBody(FormatPCM, 1, 8000, 16000, 2, 16))),
			WAV{Format: FormatPCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16, BlockAlign: 2, ByteRate: 16000,
				DataOffset: 20, DataSize: 1600, Frames: 800, Duration: 100 * time.Millisecond},
		},
		{
			"unfinished header: data size 0xFFFFFFFF runs to end of file",
			riff(ch("fmt ", fmtBody(FormatPCM, 1, 8000, 16000, 2, 16)), chunk{id: "data", body: make([]byte, 8000), size: 0xFFFFFFFF}),
			WAV{Format: FormatPCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16, BlockAlign: 2, ByteRate: 16000,
				DataOffset: 44, DataSize: 8000, Frames: 4000, Duration: 500 * time.Millisecond},
		},
		{
			"truncated recording: data cut short",
			riff(ch("fmt ", fmtBody(FormatPCM, 1, 8000, 16000, 2, 16)), chunk{id: "data", body: make([]byte, 1601), size: 16000}),
			WAV{Format: FormatPCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16, BlockAlign: 2, ByteRate: 16000,
				DataOffset: 44, DataSize: 1601 + 1, Frames: 801, Duration: 801 * samplePeriod},
		},
		{
			"odd sample rate: duration rounds down",
			riff(ch("fmt ", fmtBody(FormatPCM, 1, 3, 6, 2, 16)), ch("data", make([]byte, 2))),
			WAV{Format: FormatPCM, Channels: 1, SampleRate: 3, BitsPerSample: 16, BlockAlign: 2, ByteRate: 6,
				DataOffset: 44, DataSize: 2, Frames: 1, Duration: 333333333},
		},
	}
	for _, c := range cases {
		w, err := wavInfo(c.file)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if w != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, w, c.want)
		}
	}
}

func TestWAVInfoInvalid(t *testing.T) {
	pcm := fmtBody(FormatPCM, 1, 8000, 16000, 2, 16)
	data := ch("data", make([]byte, 100))
	many := []chunk{}
	for range maxChunks + 1 {
		many = append(many, ch("JUNK", nil))
	}
	many = append(many, ch("fmt ", pcm), data)
	cases := map[string][]byte{
		"empty":                  {},
		"short":                  []byte("RIFF\x00\x00"),
		"not RIFF":               []byte("this is some text, not a recording at all"),
		"RIFF AVI":               []byte("RIFF\x04\x00\x00\x00AVI "),
		"header only":            []byte("RIFF\x04\x00\x00\x00WAVE"),
		"no fmt":                 riff(data),
		"no data":                riff(ch("fmt ", pcm)),
		"short fmt":              riff(ch("fmt ", pcm[:14]), data),
		"fmt cut by end of file": riff(ch("fmt ", pcm))[:30],
		"zero channels":          riff(ch("fmt ", fmtBody(FormatPCM, 0, 8000, 16000, 2, 16)), data),
		"zero sample rate":       riff(ch("fmt ", fmtBody(FormatPCM, 1, 0, 16000, 2, 16)), data),
		"absurd sample rate":     riff(ch("fmt ", fmtBody(FormatPCM, 1, 1<<30, 16000, 2, 16)), data),
		"zero block align":       riff(ch("fmt ", fmtBody(FormatPCM, 1, 8000, 16000, 0, 16)), data),
		"zero bits per sample":   riff(ch("fmt ", fmtBody(FormatPCM, 1, 8000, 16000, 2, 0)), data),
		"compressed, no rate":    riff(ch("fmt ", fmtBody(0x31, 1, 8000, 0, 65, 0)), data),
		"short extensible":       riff(ch("fmt ", fmtBody(FormatExtensible, 1, 8000, 16000, 2, 16, 0, 0)), data),
		"two fmt chunks":         riff(ch("fmt ", pcm), ch("fmt ", pcm), data),
		"two data chunks":        riff(data, data, ch("fmt ", pcm)),
		"too many chunks":        riff(many...),
	}
	for name, b := range cases {
		_, err := wavInfo(b)
		var ce *callvault.Error
		if !errors.As(err, &ce) || ce.Code != callvault.EInvalid {
			t.Errorf("%s: err %v, want EInvalid", name, err)
			continue
		}
		if !strings.HasPrefix(ce.Message, "not a valid WAV file: ") {
			t.Errorf("%s: message %q", name, ce.Message)
		}
	}
}

type failingReaderAt struct{ err error }

func (f failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, f.err }

func TestWAVInfoReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := WAVInfo(failingReaderAt{boom}, 1000)
	if !errors.Is(err, boom) || callvault.ErrorCode(err) != callvault.EInternal {
		t.Fatalf("err %v, want the read error, uncoded", err)
	}
	// A reader shorter than the size it claims is a truncated file.
	b := generated(t, 1, time.Second)
	_, err = WAVInfo(bytes.NewReader(b[:20]), int64(len(b)))
	if callvault.ErrorCode(err) != callvault.EInvalid {
		t.Fatalf("short reader: %v", err)
	}
}

// WAVInfo reads headers only: a long recording costs a few small reads.
func TestWAVInfoReadsOnlyHeaders(t *testing.T) {
	b := generated(t, 1, 30*time.Second)
	cr := &countingReaderAt{r: bytes.NewReader(b)}
	if _, err := WAVInfo(cr, int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if cr.n > 100 || cr.calls > 4 {
		t.Fatalf("read %d bytes in %d calls", cr.n, cr.calls)
	}
}

type countingReaderAt struct {
	r        *bytes.Reader
	n, calls int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	n, err := c.r.ReadAt(p, off)
	c.n += n
	return n, err
}
