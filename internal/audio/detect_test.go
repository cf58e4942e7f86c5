package audio

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func generated(t *testing.T, seed int64, d time.Duration) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := GenerateWAV(&b, seed, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetectGeneratedWAV(t *testing.T) {
	b := generated(t, 1, time.Second)
	for _, n := range []int{12, 44, 512, HeadSize, len(b)} {
		ct, ok := Detect(b[:n])
		if !ok || ct != ContentTypeWAV {
			t.Fatalf("Detect(first %d bytes of a generated WAV) = %q, %v", n, ct, ok)
		}
	}
	// Even an empty recording is a WAV.
	ct, ok := Detect(generated(t, 1, 0))
	if !ok || ct != ContentTypeWAV {
		t.Fatalf("Detect(empty WAV) = %q, %v", ct, ok)
	}
}

func TestDetectMPEGFrameHeader(t *testing.T) {
	valid := map[string][]byte{
		"MPEG-1 layer III 128k 44.1k":      {0xFF, 0xFB, 0x90, 0x64},
		"MPEG-1 layer III with CRC":        {0xFF, 0xFA, 0x90, 0x64},
		"MPEG-1 layer III 320k 48k padded": {0xFF, 0xFB, 0xE6, 0x44},
		"MPEG-2 layer III 64k 22.05k":      {0xFF, 0xF3, 0x80, 0xC4},
		"MPEG-2.5 layer III 8k":            {0xFF, 0xE3, 0x18, 0xC4},
		"MPEG-1 layer II 192k 48k":         {0xFF, 0xFD, 0xA4, 0x00},
		"MPEG-1 layer I":                   {0xFF, 0xFF, 0x90, 0x00},
		"free format bitrate":              {0xFF, 0xFB, 0x00, 0x00},
		"header followed by a little data": append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 100)...),
		"emphasis 50/15 µs and CCITT J.17": {0xFF, 0xFB, 0x90, 0x67},
		"MPEG-2 layer I 80k 22.05k":        {0xFF, 0xF7, 0x50, 0x00},
	}
	for name, b := range valid {
		if ct, ok := Detect(b); !ok || ct != ContentTypeMPEG {
			t.Errorf("%s % x: Detect = %q, %v; want audio/mpeg", name, b, ct, ok)
		}
	}
	invalid := map[string][]byte{
		"reserved version":            {0xFF, 0xEB, 0x90, 0x64},
		"reserved layer (AAC ADTS)":   {0xFF, 0xF1, 0x50, 0x80},
		"bad bitrate index 15":        {0xFF, 0xFB, 0xF0, 0x64},
		"reserved sample rate":        {0xFF, 0xFB, 0x9C, 0x64},
		"reserved emphasis":           {0xFF, 0xFB, 0x90, 0x66},
		"11-bit sync incomplete":      {0xFF, 0xDB, 0x90, 0x64},
		"no sync":                     {0xFE, 0xFB, 0x90, 0x64},
		"three bytes of a header":     {0xFF, 0xFB, 0x90},
		"sync only":                   {0xFF, 0xE0},
		"JPEG start of image":         {0xFF, 0xD8, 0xFF, 0xE0},
		"all 0xFF (bitrate index 15)": {0xFF, 0xFF, 0xFF, 0xFF},
	}
	// UTF-16 LE text starts with FF FE, which reads as a valid MPEG-1
	// layer I header; the check of the next frame rejects it.
	var utf16 []byte
	for _, c := range "\ufeffAll work and no play makes Jack a dull boy. All work and no play makes Jack a dull boy." {
		utf16 = append(utf16, byte(c), byte(c>>8))
	}
	invalid["UTF-16 LE text"] = utf16
	for name, b := range invalid {
		if ct, ok := Detect(b); ok {
			t.Errorf("%s % x: Detect = %q, true; want not audio", name, b, ct)
		}
	}
}

func TestMPEGFrameLength(t *testing.T) {
	cases := []struct {
		hdr  []byte
		want int
	}{
		{[]byte{0xFF, 0xFB, 0x90, 0x64}, 417}, // MPEG-1 L3 128k 44.1k
		{[]byte{0xFF, 0xFB, 0x92, 0x64}, 418}, // ... padded
		{[]byte{0xFF, 0xFB, 0xE4, 0x64}, 960}, // MPEG-1 L3 320k 48k
		{[]byte{0xFF, 0xFD, 0xA4, 0x00}, 576}, // MPEG-1 L2 192k 48k
		{[]byte{0xFF, 0xF3, 0x80, 0xC4}, 208}, // MPEG-2 L3 64k 22.05k
		{[]byte{0xFF, 0xE3, 0x18, 0xC4}, 72},  // MPEG-2.5 L3 8k 8kHz: 72*8000/8000
		{[]byte{0xFF, 0xFF, 0x90, 0x00}, 312}, // MPEG-1 L1 288k 44.1k: (12*288000/44100)*4
		{[]byte{0xFF, 0xFB, 0x00, 0x00}, 0},   // free format
	}
	for _, c := range cases {
		h, ok := parseMPEGHeader(c.hdr)
		if !ok {
			t.Fatalf("% x: not a header", c.hdr)
		}
		if got := h.frameLen(); got != c.want {
			t.Errorf("% x: frame length %d, want %d", c.hdr, got, c.want)
		}
	}
}

// mp3Frames returns n consecutive MPEG-1 layer III frames (128 kbit/s,
// 44.1 kHz, 417 bytes each) with silent payloads.
func mp3Frames(n int) []byte {
	var b []byte
	for range n {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x64})
		b = append(b, f...)
	}
	return b
}

func TestDetectMPEGStream(t *testing.T) {
	stream := mp3Frames(8)
	if ct, ok := Detect(stream[:HeadSize]); !ok || ct != ContentTypeMPEG {
		t.Fatalf("two frames: %q, %v", ct, ok)
	}
	// A frame header whose frame is not followed by another: binary data
	// that merely starts like MPEG audio.
	fake := append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte("not audio "), 100)...)
	if ct, ok := Detect(fake); ok {
		t.Fatalf("header then garbage: %q, true", ct)
	}
	// The next frame must be of the same stream.
	mixed := mp3Frames(1)
	mixed = append(mixed, 0xFF, 0xF3, 0x80, 0xC4) // MPEG-2 header after an MPEG-1 frame
	mixed = append(mixed, make([]byte, 300)...)
	if _, ok := Detect(mixed); ok {
		t.Fatal("MPEG-1 frame followed by an MPEG-2 header detected as audio")
	}
}

func TestDetectID3(t *testing.T) {
	tag := func(ver, rev byte, size [4]byte) []byte {
		return append([]byte{'I', 'D', '3', ver, rev, 0}, size[:]...)
	}
	for _, b := range [][]byte{
		tag(3, 0, [4]byte{0, 0, 0x0F, 0x76}),
		tag(4, 0, [4]byte{0, 0, 0, 0}),
		tag(2, 0, [4]byte{0x7F, 0x7F, 0x7F, 0x7F}),
		append(tag(3, 0, [4]byte{0, 0, 0, 10}), make([]byte, 10)...), // tag then audio
	} {
		if ct, ok := Detect(b); !ok || ct != ContentTypeMPEG {
			t.Errorf("% x: Detect = %q, %v", b, ct, ok)
		}
	}
	for _, b := range [][]byte{
		tag(5, 0, [4]byte{}),              // no such ID3 version
		tag(1, 0, [4]byte{}),              // ID3v1 has no such header
		tag(3, 0xFF, [4]byte{}),           // invalid revision
		tag(3, 0, [4]byte{0, 0, 0x80, 0}), // size not sync-safe
		[]byte("ID3"),
		[]byte("ID3\x03\x00\x00\x00\x00\x0f"),
		[]byte("id3\x03\x00\x00\x00\x00\x0f\x76"),
	} {
		if ct, ok := Detect(b); ok {
			t.Errorf("% x: Detect = %q, true", b, ct)
		}
	}
}

func TestDetectNotAudio(t *testing.T) {
	cases := map[string][]byte{
		"empty":        {},
		"nil":          nil,
		"one byte":     {'R'},
		"short RIFF":   []byte("RIFF"),
		"RIFF no form": []byte("RIFF\x24\x00\x00\x00WAV"),
		"RIFF AVI":     []byte("RIFF\x24\x00\x00\x00AVI LIST"),
		"RIFF WEBP":    []byte("RIFF\x24\x00\x00\x00WEBPVP8 "),
		"lower wave":   []byte("riff\x24\x00\x00\x00wave"),
		"text":         []byte("hello, this is not a recording\n"),
		"JSON":         []byte(`{"callId":"abc","recording":"RIFF....WAVE"}`),
		"PNG":          []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"),
		"GIF":          []byte("GIF89a\x10\x00\x10\x00"),
		"PDF":          []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3"),
		"ZIP":          []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"),
		"gzip":         []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"),
		"Ogg":          []byte("OggS\x00\x02\x00\x00\x00\x00"),
		"FLAC":         []byte("fLaC\x00\x00\x00\x22"),
		"HTML":         []byte("<!DOCTYPE html><html>"),
		"zeros":        make([]byte, 512),
		"WAVE later":   []byte(strings.Repeat(" ", 8) + "RIFF\x24\x00\x00\x00WAVE"),
	}
	for name, b := range cases {
		if ct, ok := Detect(b); ok || ct != "" {
			t.Errorf("%s: Detect = %q, %v; want not audio", name, ct, ok)
		}
	}
}
