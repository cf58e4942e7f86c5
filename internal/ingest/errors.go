package ingest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/callvault"
)

// FieldErrors is the list of problems Validate or ValidateEvent found: one
// *callvault.Error per problem, each with code EInvalid, Field set to the
// field's path ("from.phoneNumber", "legs[2].durationMs") and a message that
// names the field and the bad value.
type FieldErrors []*callvault.Error

// Error joins the messages of all problems.
func (fe FieldErrors) Error() string {
	msgs := make([]string, len(fe))
	for i, e := range fe {
		msgs[i] = e.Message
	}
	return callvault.EInvalid + ": " + strings.Join(msgs, "; ")
}

// Unwrap returns the problems, so errors.As finds the first *callvault.Error
// (and callvault.ErrorCode reports EInvalid).
func (fe FieldErrors) Unwrap() []error {
	errs := make([]error, len(fe))
	for i, e := range fe {
		errs[i] = e
	}
	return errs
}

// Err returns fe as an error, or nil when there are no problems. Use it
// rather than converting fe to error directly, which would give a non-nil
// error for an empty list.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// add appends an EInvalid error for field whose message starts with the
// field's name.
func (fe *FieldErrors) add(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	*fe = append(*fe, &callvault.Error{Code: callvault.EInvalid, Field: field, Message: field + ": " + msg})
}

// BatchError is the error of a batch that had bad items: one error per bad
// item (up to MaxBatchErrors), each a *callvault.Error whose message starts
// with the item's position ("line 3: ..." or "record 3: ..."). Nothing of
// the batch should be stored.
type BatchError struct {
	Errors []*callvault.Error
	// More is how many further bad items were not listed.
	More int
}

// MaxBatchErrors is the most item errors a BatchError lists.
const MaxBatchErrors = 100

// Error lists the items' messages.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d bad item(s)", callvault.EInvalid, len(e.Errors)+e.More)
	for _, ie := range e.Errors {
		b.WriteString("; ")
		b.WriteString(ie.Message)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
	}
	return b.String()
}

// Unwrap returns the items' errors.
func (e *BatchError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, ie := range e.Errors {
		errs[i] = ie
	}
	return errs
}

// at places err at a position of a stream: the result is one
// *callvault.Error whose message starts with "<unit> <n>: " and joins every
// problem of err; its code and Field are those of the (first) problem.
func at(unit string, n int, err error) *callvault.Error {
	prefix := fmt.Sprintf("%s %d: ", unit, n)
	switch e := err.(type) {
	case FieldErrors:
		msgs := make([]string, len(e))
		for i, fe := range e {
			msgs[i] = fe.Message
		}
		return &callvault.Error{Code: callvault.EInvalid, Field: e[0].Field, Message: prefix + strings.Join(msgs, "; ")}
	case *callvault.Error:
		return &callvault.Error{Code: e.Code, Field: e.Field, Message: prefix + e.Message, Err: e.Err}
	default:
		return &callvault.Error{Code: callvault.EInternal, Message: prefix + "read failed", Err: err}
	}
}

// show quotes s for an error message, cut to a readable length so a huge or
// hostile value is never echoed whole.
func show(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return fmt.Sprintf("%q…", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}

// printable reports whether s is valid UTF-8 made only of printable
// characters (the ASCII space included).
func printable(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return true // printable ASCII, as unicode.IsPrint has it
	}
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// clean makes a PBX-supplied display value storable: invalid UTF-8 becomes
// U+FFFD, control and other non-printable characters become spaces, runs
// of spaces are kept as they are, surrounding spaces are trimmed, and the
// result is cut to max characters. Importers use it for names and numbers,
// which a PBX copies from the network; identifiers are never cleaned, they
// are validated.
func clean(s string, max int) string {
	if !printable(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		s = strings.Map(func(r rune) rune {
			if unicode.IsPrint(r) {
				return r
			}
			return ' '
		}, s)
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimSpace(string([]rune(s)[:max]))
	}
	return s
}
