package sqlrow

import (
	"fmt"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// NotFound is the ENotFound error for a missing object; an empty key (a
// credential hash) is not repeated.
func NotFound(what, key string) error {
	if key == "" {
		return callvault.Errorf(callvault.ENotFound, "%s not found", what)
	}
	return callvault.Errorf(callvault.ENotFound, "%s %q not found", what, key)
}

// Required is the EInvalid error, with Field field, of a write whose field
// is empty, or nil when v is set.
func Required(field, v string) error {
	if v == "" {
		return callvault.FieldError(field, "%s is required", field)
	}
	return nil
}

// NilArg is the EInvalid error of a write given no (a nil) what.
func NilArg(what string) error {
	return callvault.Errorf(callvault.EInvalid, "no %s given", what)
}

// LoginTaken is the EConflict error, with Field "login", of a user whose
// login another user of the tenant has.
func LoginTaken(login string) error {
	return &callvault.Error{Code: callvault.EConflict, Field: "login", Message: fmt.Sprintf("login %q is taken", login)}
}

// RevokeTime is the EInvalid error, with Field "at", of a revocation at
// the zero time, or nil.
func RevokeTime(at time.Time) error {
	if at.IsZero() {
		return callvault.FieldError("at", "a revocation needs its time")
	}
	return nil
}

// Errors turns an engine's errors from writing one row into the errors of
// the store: the engine says which constraint an error violates, and how
// any other error is reported.
type Errors struct {
	IsUnique     func(error) bool                   // a unique index or key was violated
	IsForeignKey func(error) bool                   // a foreign key was violated
	DB           func(what string, err error) error // any other error of doing what
}

// Create is the error of an INSERT of what with the given key in tenantID:
// nil for nil, EConflict on a duplicate key, ENotFound for the tenant on a
// foreign key violation (the tenant does not exist), else DB("create
// "+what, err).
func (e Errors) Create(what, key, tenantID string, err error) error {
	switch {
	case err == nil:
		return nil
	case e.IsUnique(err):
		return callvault.Errorf(callvault.EConflict, "%s %q already exists", what, key)
	case e.IsForeignKey(err):
		return NotFound("tenant", tenantID)
	}
	return e.DB("create "+what, err)
}

// Change is the error of an UPDATE or DELETE (verb) of the row of what with
// the given key, which matched n rows: EConflict on a duplicate key,
// DB(verb+" "+what, err) for another error, ENotFound when it matched no
// row, else nil.
func (e Errors) Change(verb, what, key string, n int64, err error) error {
	if e.IsUnique(err) {
		return callvault.Errorf(callvault.EConflict, "%s %q conflicts with an existing one", what, key)
	}
	if err != nil {
		return e.DB(verb+" "+what, err)
	}
	if n == 0 {
		return NotFound(what, key)
	}
	return nil
}
