package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// WAV format tags (the fmt chunk's audio format field).
const (
	FormatPCM        = 0x0001
	FormatIEEEFloat  = 0x0003
	FormatALaw       = 0x0006
	FormatMuLaw      = 0x0007
	FormatExtensible = 0xFFFE
)

// WAV describes a WAV file: its format, where its audio data lies and how
// long it plays.
type WAV struct {
	Format        int   // format tag: FormatPCM, FormatMuLaw, ... (for FormatExtensible, the sub-format's tag)
	Channels      int   // number of channels, at least 1
	SampleRate    int   // sample frames per second
	BitsPerSample int   // bits per sample; 0 for some compressed formats
	BlockAlign    int   // bytes per sample frame (for compressed formats, per block)
	ByteRate      int   // average bytes per second, as the header states
	DataOffset    int64 // offset of the first audio byte in the file
	DataSize      int64 // bytes of audio data (cut to what the file holds)
	Frames        int64 // sample frames
	Duration      time.Duration
}

// maxChunks bounds how many chunks WAVInfo reads looking for fmt and data,
// so a file of endless tiny chunks cannot keep it busy. Real files have a
// handful (fmt, fact, LIST, bext, JUNK, data).
const maxChunks = 1024

// maxSampleRate is the highest sample rate WAVInfo accepts (well above any
// audio format; it keeps the arithmetic far from overflow).
const maxSampleRate = 1 << 24

// WAVInfo reads the header of the WAV file r of size bytes (for a byte
// slice b: WAVInfo(bytes.NewReader(b), int64(len(b)))) and returns its
// format and duration. It reads only chunk headers and the fmt and fact
// chunks, never the audio.
//
// The duration is the data chunk's sample frames divided by the sample
// rate, rounded down to the nanosecond. For a compressed format it comes
// from the fact chunk, or else from the byte rate. A data chunk longer than
// the file (a recorder that never finished its header writes 0xFFFFFFFF)
// is taken to end at the end of the file.
//
// A file that is not a well-formed WAV gives a *callvault.Error with code
// EInvalid; a read error from r is returned wrapped.
func WAVInfo(r io.ReaderAt, size int64) (WAV, error) {
	var hdr [12]byte
	if err := readAt(r, hdr[:], 0, size); err != nil {
		return WAV{}, err
	}
	if !isWAV(hdr[:]) {
		return WAV{}, invalid("not a RIFF/WAVE file")
	}

	var (
		w                  WAV
		haveFmt, haveData  bool
		factFrames         int64 = -1
		off                int64 = 12
		chunk              [8]byte
		fmtBuf             [40]byte
		subFormatIsInvalid bool
	)
	for n := 0; !(haveFmt && haveData); n++ {
		if off+8 > size {
			break
		}
		if n == maxChunks {
			return WAV{}, invalid(fmt.Sprintf("no fmt or data chunk in the first %d chunks", maxChunks))
		}
		if err := readAt(r, chunk[:], off, size); err != nil {
			return WAV{}, err
		}
		id := string(chunk[0:4])
		csize := int64(binary.LittleEndian.Uint32(chunk[4:8]))
		body := off + 8
		switch id {
		case "fmt ":
			if haveFmt {
				return WAV{}, invalid("more than one fmt chunk")
			}
			if csize < 16 {
				return WAV{}, invalid("fmt chunk shorter than 16 bytes")
			}
			b := fmtBuf[:min(csize, int64(len(fmtBuf)))]
			if err := readAt(r, b, body, size); err != nil {
				return WAV{}, err
			}
			w.Format = int(binary.LittleEndian.Uint16(b[0:2]))
			w.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
			w.SampleRate = int(binary.LittleEndian.Uint32(b[4:8]))
			w.ByteRate = int(binary.LittleEndian.Uint32(b[8:12]))
			w.BlockAlign = int(binary.LittleEndian.Uint16(b[12:14]))
			w.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:16]))
			if w.Format == FormatExtensible {
				// cbSize(2) validBits(2) channelMask(4) subFormat GUID(16),
				// whose first two bytes are the actual format tag.
				if len(b) < 40 {
					subFormatIsInvalid = true
				} else {
					w.Format = int(binary.LittleEndian.Uint16(b[24:26]))
				}
			}
			haveFmt = true
		case "fact":
			if csize >= 4 {
				var fb [4]byte
				if err := readAt(r, fb[:], body, size); err != nil {
					return WAV{}, err
				}
				factFrames = int64(binary.LittleEndian.Uint32(fb[:]))
			}
		case "data":
			if haveData {
				return WAV{}, invalid("more than one data chunk")
			}
			w.DataOffset = body
			w.DataSize = min(csize, max(size-body, 0))
			haveData = true
		}
		off = body + csize + csize&1 // chunks are padded to an even length
	}
	switch {
	case !haveFmt:
		return WAV{}, invalid("no fmt chunk")
	case !haveData:
		return WAV{}, invalid("no data chunk")
	case subFormatIsInvalid:
		return WAV{}, invalid("extensible fmt chunk shorter than 40 bytes")
	case w.Channels == 0:
		return WAV{}, invalid("zero channels")
	case w.SampleRate == 0:
		return WAV{}, invalid("zero sample rate")
	case w.SampleRate > maxSampleRate || w.ByteRate > maxSampleRate*64:
		return WAV{}, invalid("implausible sample rate or byte rate")
	}

	switch w.Format {
	case FormatPCM, FormatIEEEFloat, FormatALaw, FormatMuLaw:
		if w.BlockAlign == 0 || w.BitsPerSample == 0 {
			return WAV{}, invalid("zero block align or bits per sample")
		}
		w.Frames = w.DataSize / int64(w.BlockAlign)
		w.Duration = framesToDuration(w.Frames, w.SampleRate)
	default:
		switch {
		case factFrames >= 0:
			w.Frames = factFrames
			w.Duration = framesToDuration(w.Frames, w.SampleRate)
		case w.ByteRate > 0:
			w.Duration = framesToDuration(w.DataSize, w.ByteRate)
			w.Frames = w.DataSize * int64(w.SampleRate) / int64(w.ByteRate)
		default:
			return WAV{}, invalid("compressed format without fact chunk or byte rate")
		}
	}
	return w, nil
}

// framesToDuration returns frames/rate seconds without overflowing.
func framesToDuration(frames int64, rate int) time.Duration {
	r := int64(rate)
	return time.Duration(frames/r)*time.Second + time.Duration(frames%r)*time.Second/time.Duration(r)
}

// readAt fills b from r at off; reading past size, or a short read, means
// the file is truncated.
func readAt(r io.ReaderAt, b []byte, off, size int64) error {
	if off+int64(len(b)) > size {
		return invalid("truncated file")
	}
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("truncated file")
	}
	return fmt.Errorf("audio: reading WAV header: %w", err)
}

func invalid(reason string) error {
	return callvault.Errorf(callvault.EInvalid, "not a valid WAV file: %s", reason)
}
