package callvault

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients may branch on them. Each face maps
// them to its own status codes and bodies in exactly one place.
const (
	EInvalid      = "invalid"       // bad input; Field names the culprit
	ENotFound     = "not_found"     // no such object in this tenant
	EConflict     = "conflict"      // duplicate key, or a state that forbids the change
	ETooLarge     = "too_large"     // a body or batch over a named limit
	EUnauthorized = "unauthorized"  // no usable credential
	EForbidden    = "forbidden"     // the permission engine said no
	ERateLimited  = "rate_limited"  // too many requests; RetryAfter says when to retry
	EUnavailable  = "unavailable"   // a dependency is down; retry later
	EInternal     = "internal"      // a bug or an unexpected failure; never shown in detail
	EUnsupported  = "unsupported"   // a media type or method not supported
	EOutOfWindow  = "out_of_window" // a time range outside retention or the API's window
)

// Error is callvault's error: a stable code, a message safe to show to the
// client, and optionally the offending field. Internal causes are wrapped in
// Err and never shown.
type Error struct {
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EInvalid error naming field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the code of the first *Error in its
// chain, or EInternal for any other non-nil error, or "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err; for an error without
// a code it returns a generic message, never the internal text.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err has code ENotFound.
func IsNotFound(err error) bool { return ErrorCode(err) == ENotFound }

// IsConflict reports whether err has code EConflict.
func IsConflict(err error) bool { return ErrorCode(err) == EConflict }
