package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader reads lines with bounded memory: a line longer than max bytes
// is reported as too long and the rest of it is skipped, so one bad line
// costs neither memory nor the lines after it.
type lineReader struct {
	br   *bufio.Reader
	max  int
	num  int // number of the last line returned
	done bool
	err  error // the read error that ended the input (io.EOF at the end)
	off  int64 // bytes consumed from the input
	// start is the byte offset of the last line returned (or skipped as
	// too long).
	start int64
}

func newLineReader(r io.Reader, max int) *lineReader {
	// Room for the line, "\r\n" and one byte to tell "exactly max" from
	// "longer".
	return &lineReader{br: bufio.NewReaderSize(r, max+3), max: max}
}

// next returns the next line without its "\n" or "\r\n" and its 1-based
// number. The slice is valid until the next call. tooLong reports a line
// over the limit (line is then nil). At the end of input it returns the
// read error: io.EOF for a clean end.
func (l *lineReader) next() (line []byte, num int, tooLong bool, err error) {
	if l.done {
		return nil, l.num, false, l.err
	}
	l.start = l.off
	b, err := l.br.ReadSlice('\n')
	l.off += int64(len(b))
	if errors.Is(err, bufio.ErrBufferFull) || len(bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))) > l.max {
		l.num++
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = l.br.ReadSlice('\n')
			l.off += int64(len(b))
		}
		if err != nil {
			l.done, l.err = true, err
		}
		return nil, l.num, true, nil
	}
	if err != nil {
		l.done, l.err = true, err
		// A partial line is a line only at a clean end of input; after a
		// read error it may be cut anywhere.
		if len(b) == 0 || err != io.EOF {
			return nil, l.num, false, err
		}
	}
	l.num++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b, l.num, false, nil
}

// unread puts b, bytes read from l.br directly (after the last line
// returned), back in front of the rest of the input.
func (l *lineReader) unread(b []byte) {
	if len(b) == 0 {
		return
	}
	l.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(b), l.br), l.max+3)
	l.off -= int64(len(b))
	l.done, l.err = false, nil
}

// blank reports whether b holds only JSON/CSV white space.
func blank(b []byte) bool {
	return len(bytes.TrimSpace(b)) == 0
}
