package sqlrow

import (
	"errors"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

func TestTime(t *testing.T) {
	var zero time.Time
	if v, err := Time(&zero).Value(); v != nil || err != nil {
		t.Errorf("zero time Value = %v, %v; want NULL", v, err)
	}
	at := time.Date(2024, 5, 1, 12, 0, 0, 1000, time.FixedZone("x", 3600))
	v, err := Time(&at).Value()
	if v != at.UnixMicro() || err != nil {
		t.Errorf("Value = %v, %v", v, err)
	}
	var got time.Time
	if err := Time(&got).Scan(v); err != nil || !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("Scan = %v, %v", got, err)
	}
	if err := Time(&got).Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("Scan(nil) = %v, %v", got, err)
	}
	if err := Time(&got).Scan("x"); err == nil {
		t.Error("Scan(string) succeeded")
	}
}

func TestErrors(t *testing.T) {
	unique, fk, other := errors.New("unique"), errors.New("fk"), errors.New("other")
	e := Errors{
		IsUnique:     func(err error) bool { return err == unique },
		IsForeignKey: func(err error) bool { return err == fk },
		DB:           func(what string, err error) error { return errors.New(what + ": " + err.Error()) },
	}
	for _, c := range []struct {
		got  error
		code string
		msg  string
	}{
		{e.Create("site", "s1", "t1", unique), callvault.EConflict, `site "s1" already exists`},
		{e.Create("site", "s1", "t1", fk), callvault.ENotFound, `tenant "t1" not found`},
		{e.Create("site", "s1", "t1", other), "", "create site: other"},
		{e.Change("update", "site", "s1", 0, unique), callvault.EConflict, `site "s1" conflicts with an existing one`},
		{e.Change("delete", "site", "s1", 0, other), "", "delete site: other"},
		{e.Change("delete", "site", "s1", 0, nil), callvault.ENotFound, `site "s1" not found`},
		{NotFound("token", ""), callvault.ENotFound, "token not found"},
	} {
		var ce *callvault.Error
		if errors.As(c.got, &ce) {
			if ce.Code != c.code || ce.Message != c.msg {
				t.Errorf("%v: code %s message %q, want %s %q", c.got, ce.Code, ce.Message, c.code, c.msg)
			}
		} else if c.code != "" || c.got.Error() != c.msg {
			t.Errorf("%v: want %s %q", c.got, c.code, c.msg)
		}
	}
	if err := e.Create("site", "s1", "t1", nil); err != nil {
		t.Errorf("Create(nil) = %v", err)
	}
	if err := e.Change("update", "site", "s1", 1, nil); err != nil {
		t.Errorf("Change(1 row) = %v", err)
	}
}
