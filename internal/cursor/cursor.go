// Package cursor makes opaque, signed, expiring pagination cursors. A
// cursor carries its tenant, so one issued for another tenant (or forged, or
// altered, or expired) is rejected before it reaches a query.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Errors returned by Open. Callers render them as a bad request naming the
// cursor parameter; they never reveal anything about other tenants.
var (
	ErrMalformed = errors.New("the cursor is malformed or was altered")
	ErrExpired   = errors.New("the cursor has expired; start again from the first page")
	ErrTenant    = errors.New("the cursor was not issued for this tenant")
)

type envelope struct {
	Tenant  string          `json:"t"`
	Kind    string          `json:"k"`
	Expires int64           `json:"e"`
	Data    json.RawMessage `json:"d"`
}

// Sign encodes data as a cursor of kind for tenant, valid until expires.
func Sign(key []byte, tenant, kind string, data any, expires time.Time) (string, error) {
	d, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(envelope{Tenant: tenant, Kind: kind, Expires: expires.Unix(), Data: d})
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + mac(key, body), nil
}

// Open verifies a cursor of kind for tenant at now and decodes its data.
func Open(key []byte, s, tenant, kind string, now time.Time, data any) error {
	body, sig, ok := strings.Cut(s, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(mac(key, body))) {
		return ErrMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return ErrMalformed
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil || e.Kind != kind {
		return ErrMalformed
	}
	if e.Tenant != tenant {
		return ErrTenant
	}
	if now.Unix() > e.Expires {
		return ErrExpired
	}
	if err := json.Unmarshal(e.Data, data); err != nil {
		return ErrMalformed
	}
	return nil
}

func mac(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
