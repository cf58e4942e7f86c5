package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/callvault/callvault/internal/callvault"
)

// A batch body that is one JSON object spread over several lines (a
// pretty-printed record or event) is a batch of one. eachItem tells it
// from NDJSON by its first non-blank line: a line that is a complete JSON
// value is NDJSON (the fast path: nothing else is looked at); a line that
// starts an object it does not complete is handed to multiLine, which
// reads on from it as one JSON value:
//
//   - the value is complete after line 1: the body is one object, item
//     "record 1" (index 0), and only white space may follow it;
//   - the value ends, or is found broken, within line 1 itself: line 1 is
//     a bad NDJSON line, reported and walked past as before;
//   - the value is found broken after line 1: if the next non-blank line
//     is a complete JSON object, the body is NDJSON whose line 1 is bad
//     (reported by line as before); otherwise it is a broken multi-line
//     object, and the whole body is refused with one error naming the
//     problem and its line, column and byte offset.
//
// At most MaxLineBytes (the record limit) are read ahead, so memory stays
// bounded; what was read ahead is put back for the NDJSON walk.

// itemFunc is the callback of eachItem.
type itemFunc func(unit string, n int, data []byte, err error) error

// multiLine handles a body whose first non-blank line (line, numbered
// num, just returned by lines) starts with '{' and is not valid JSON on
// its own. done reports that the body has been handled whole (one object,
// or an error); otherwise line 1, and maybe the line after it, went to fn
// as NDJSON lines and the caller goes on with the next line of lines.
func multiLine(lines *lineReader, line []byte, num int, fn itemFunc) (done bool, err error) {
	line = bytes.Clone(line)
	start, bodyAfter := lines.start, lines.off // body offsets of line 1 and of what follows it
	head := int64(len(line)) + 1
	ahead := &readAhead{r: lines.br, n: int64(MaxLineBytes) + 1 - head}
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(line), strings.NewReader("\n"), ahead))
	var raw json.RawMessage
	derr := dec.Decode(&raw)
	var syn *json.SyntaxError
	var at int64 // index in the decoder's input of the byte that decided
	switch {
	case derr == nil:
		at = dec.InputOffset() - 1
	case errors.As(derr, &syn):
		at = syn.Offset - 1
	case errors.Is(derr, io.ErrUnexpectedEOF) || errors.Is(derr, io.EOF):
		at = head + int64(len(ahead.buf))
	default:
		return true, derr // a read error of the body
	}
	// where places index i of the decoder's input in the body: line,
	// column and byte, all 1-based (as the array errors count bytes).
	where := func(i int64) string {
		if i < head {
			return fmt.Sprintf("line %d, column %d (byte %d)", num, i+1, start+i+1)
		}
		q := i - head
		before := ahead.buf[:q]
		col := q - int64(bytes.LastIndexByte(before, '\n'))
		return fmt.Sprintf("line %d, column %d (byte %d)", num+1+bytes.Count(before, []byte("\n")), col, bodyAfter+q+1)
	}
	if at < head {
		// Decided within line 1: a line of NDJSON, good or bad.
		lines.unread(ahead.buf)
		return false, fn("line", num, line, nil)
	}
	if derr == nil {
		if err := onlySpace(io.MultiReader(dec.Buffered(), lines.br)); err != nil {
			if callvault.ErrorCode(err) == callvault.EInvalid {
				err = callvault.Errorf(callvault.EInvalid, "the body holds a JSON object, from line %d to %s, and more data after it; send several items as a JSON array or as NDJSON, one object per line", num, where(at))
			}
			return true, err
		}
		var itemErr error
		if len(raw) > MaxLineBytes {
			raw, itemErr = nil, callvault.Errorf(callvault.EInvalid, "longer than the %d-byte record limit", MaxLineBytes)
		}
		return true, fn("record", 1, raw, itemErr)
	}
	// Broken after line 1: a broken object, or NDJSON with a bad line 1?
	lines.unread(ahead.buf)
	var next []byte
	var nextNum int
	var tooLong bool
	var rerr error
	for {
		next, nextNum, tooLong, rerr = lines.next()
		if rerr != nil || tooLong || !blank(next) {
			break
		}
	}
	if rerr != nil && rerr != io.EOF {
		return true, rerr
	}
	if rerr == io.EOF || tooLong || (bytes.TrimSpace(next)[0] == '{' && json.Valid(next)) {
		if err := fn("line", num, line, nil); err != nil || rerr == io.EOF {
			return true, err
		}
		var itemErr error
		if tooLong {
			itemErr = callvault.Errorf(callvault.EInvalid, "longer than the %d-byte line limit", MaxLineBytes)
		}
		return false, fn("line", nextNum, next, itemErr)
	}
	switch {
	case syn != nil:
		return true, &callvault.Error{Code: callvault.EInvalid, Err: derr,
			Message: fmt.Sprintf("the body is not a valid JSON object (begun on line %d) at %s: %s", num, where(at), strings.TrimPrefix(syn.Error(), "json: "))}
	case ahead.full:
		return true, fn("record", 1, nil, callvault.Errorf(callvault.EInvalid,
			"the JSON object begun on line %d is longer than the %d-byte record limit", num, MaxLineBytes))
	}
	last := head + int64(len(bytes.TrimRight(ahead.buf, " \t\r\n")))
	return true, &callvault.Error{Code: callvault.EInvalid, Err: derr,
		Message: fmt.Sprintf("the body ends inside its JSON object (begun on line %d): the object is not closed; the last data is at %s", num, where(last-1))}
}

// readAhead reads at most n bytes of r, keeping them in buf; full reports
// that it stopped at n with more input in r.
type readAhead struct {
	r    io.Reader
	n    int64
	buf  []byte
	full bool
}

func (a *readAhead) Read(p []byte) (int, error) {
	if a.n <= 0 {
		if br, ok := a.r.(interface{ Peek(int) ([]byte, error) }); ok {
			if b, _ := br.Peek(1); len(b) > 0 {
				a.full = true
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > a.n {
		p = p[:a.n]
	}
	n, err := a.r.Read(p)
	a.n -= int64(n)
	a.buf = append(a.buf, p[:n]...)
	return n, err
}

// onlySpace reads r to its end: an EInvalid error at the first byte that
// is not JSON white space; a read error as it is.
func onlySpace(r io.Reader) error {
	var chunk [4096]byte
	for {
		n, err := r.Read(chunk[:])
		for _, c := range chunk[:n] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return callvault.Errorf(callvault.EInvalid, "data after the JSON object")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
