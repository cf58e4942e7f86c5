// Package audio knows just enough about audio files for a system of record
// of call recordings: which kind of audio an upload is (Detect, by its magic
// bytes), how long a WAV recording lasts (WAVInfo), and how to make a real,
// playable WAV recording for demos and tests (GenerateWAV).
//
// Two kinds of recording are accepted: WAV (RIFF/WAVE, any codec the fmt
// chunk can describe: PCM, A-law, µ-law, ...) and MP3 (MPEG audio, with or
// without an ID3v2 tag). Everything else is "not audio".
package audio

import "bytes"

// Content types that Detect returns.
const (
	ContentTypeWAV  = "audio/wav"
	ContentTypeMPEG = "audio/mpeg"
)

// HeadSize is how many leading bytes of a file Detect can use. Fewer will
// do (a WAV needs 12, an MP3 4 or 10), but with HeadSize bytes Detect also
// checks that an MPEG frame is followed by another, which tells a real MP3
// stream from binary data that merely starts like a frame header.
const HeadSize = 4096

// Detect reports the content type of an audio file from its first bytes:
// ContentTypeWAV for a RIFF/WAVE file, ContentTypeMPEG for an MP3 (an ID3v2
// tag, or an MPEG audio frame header with valid version, layer, bitrate and
// sample rate fields). For anything else, including input too short to
// tell, it returns "", false.
func Detect(head []byte) (contentType string, ok bool) {
	switch {
	case isWAV(head):
		return ContentTypeWAV, true
	case isID3(head), isMPEGStream(head):
		return ContentTypeMPEG, true
	}
	return "", false
}

func isWAV(b []byte) bool {
	return len(b) >= 12 && bytes.Equal(b[0:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WAVE"))
}

// isID3 reports whether b starts with an ID3v2 tag header: "ID3", a major
// version of 2 to 4, a revision below 0xFF, and a sync-safe size (four bytes
// with the top bit clear).
func isID3(b []byte) bool {
	if len(b) < 10 || !bytes.Equal(b[0:3], []byte("ID3")) {
		return false
	}
	if b[3] < 2 || b[3] > 4 || b[4] == 0xFF {
		return false
	}
	return b[6]|b[7]|b[8]|b[9] < 0x80
}

// mpegHeader is a decoded MPEG audio frame header.
type mpegHeader struct {
	version    int // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (the field's value)
	layer      int // 1, 2 or 3
	bitrate    int // bits per second; 0 for free format
	sampleRate int
	padding    int
}

// Bitrates in kbit/s by [MPEG-1?][layer-1][index].
var mpegBitrates = [2][3][15]int{
	{ // MPEG-2 and MPEG-2.5
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
	{ // MPEG-1
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
}

// Sample rates by version field (0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1) and index.
var mpegSampleRates = [4][3]int{
	{11025, 12000, 8000},
	{},
	{22050, 24000, 16000},
	{44100, 48000, 32000},
}

// parseMPEGHeader decodes the 4-byte frame header at the start of b: an
// 11-bit frame sync (0xFFE) followed by a valid (not reserved) version,
// layer, bitrate index, sample-rate index and emphasis.
func parseMPEGHeader(b []byte) (mpegHeader, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpegHeader{}, false
	}
	version := int(b[1]>>3) & 3
	layerBits := int(b[1]>>1) & 3
	bitrateIdx := int(b[2] >> 4)
	rateIdx := int(b[2]>>2) & 3
	if version == 1 || layerBits == 0 || bitrateIdx == 15 || rateIdx == 3 || b[3]&3 == 2 {
		return mpegHeader{}, false
	}
	h := mpegHeader{version: version, layer: 4 - layerBits, padding: int(b[2]>>1) & 1}
	v1 := 0
	if version == 3 {
		v1 = 1
	}
	h.bitrate = mpegBitrates[v1][h.layer-1][bitrateIdx] * 1000
	h.sampleRate = mpegSampleRates[version][rateIdx]
	return h, true
}

// frameLen returns the length in bytes of the frame h heads, or 0 for a
// free-format frame, whose length the header does not give.
func (h mpegHeader) frameLen() int {
	if h.bitrate == 0 {
		return 0
	}
	switch {
	case h.layer == 1:
		return (12*h.bitrate/h.sampleRate + h.padding) * 4
	case h.layer == 3 && h.version != 3:
		return 72*h.bitrate/h.sampleRate + h.padding
	default:
		return 144*h.bitrate/h.sampleRate + h.padding
	}
}

// isMPEGStream reports whether b starts with an MPEG audio frame header and,
// when b is long enough to hold the whole frame and the next header, whether
// the next frame's header is valid and of the same version, layer and sample
// rate.
func isMPEGStream(b []byte) bool {
	h, ok := parseMPEGHeader(b)
	if !ok {
		return false
	}
	n := h.frameLen()
	if n == 0 || len(b) < n+4 {
		return true
	}
	next, ok := parseMPEGHeader(b[n:])
	return ok && next.version == h.version && next.layer == h.layer && next.sampleRate == h.sampleRate
}
