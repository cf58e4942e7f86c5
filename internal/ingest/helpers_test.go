package ingest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/callvault"
)

// mustValid fails unless rec passes Validate again unchanged (every record
// the package returns must).
func mustValid(tb testing.TB, rec *callvault.CallRecord) {
	tb.Helper()
	cp := *rec
	cp.Legs = slices.Clone(rec.Legs)
	cp.RecordingIDs = slices.Clone(rec.RecordingIDs)
	if fe := Validate(&cp); len(fe) > 0 {
		tb.Fatalf("record %q returned but fails Validate: %v", rec.ID, fe)
	}
	if !reflect.DeepEqual(&cp, rec) {
		tb.Fatalf("Validate is not idempotent on %q:\n got %+v\nwant %+v", rec.ID, cp, *rec)
	}
}

// wantErr fails unless err is a *callvault.Error (or FieldErrors) with the
// code, whose Field is field (when field != "") and whose message contains
// every part.
func wantErr(tb testing.TB, err error, code, field string, parts ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error; want %s on %q", code, field)
	}
	var ce *callvault.Error
	if !errors.As(err, &ce) {
		tb.Fatalf("error %v (%T) is not a *callvault.Error", err, err)
	}
	if ce.Code != code {
		tb.Errorf("code %q, want %q (%v)", ce.Code, code, err)
	}
	if field != "" && ce.Field != field {
		tb.Errorf("field %q, want %q (%v)", ce.Field, field, err)
	}
	msg := err.Error()
	if fe, ok := err.(FieldErrors); ok {
		msg = fe.Error()
	} else {
		msg = ce.Message
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			tb.Errorf("message %q does not contain %q", msg, p)
		}
	}
}
