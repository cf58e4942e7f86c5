// Package blob stores the content of call recordings, outside the database.
//
// Content is addressed by its SHA-256 and partitioned by tenant: a blob is
// named by (tenant, sha256), and the same bytes uploaded by two tenants are
// two blobs. A tenant can never reach another tenant's blob, because every
// lookup is made under the caller's tenant; a blob of another tenant is
// reported exactly like a missing one (callvault.ENotFound).
//
// Store is the interface the rest of callvault uses; FS is the filesystem
// implementation (the default), Mem an in-memory one for tests. Range
// requests are served by the HTTP layer from the Reader that Open returns,
// with http.ServeContent or io.NewSectionReader.
//
// Deleting a blob does not know which recordings refer to it: since content
// is deduplicated within a tenant, the caller (the recording metadata store)
// deletes a blob only when no recording of the tenant refers to its hash any
// more.
package blob

import (
	"context"
	"io"

	"github.com/callvault/callvault/internal/callvault"
)

// Info describes a stored blob.
type Info struct {
	SHA256 string // lower-case hex SHA-256 of the content; the blob's key
	Size   int64  // length of the content in bytes
}

// Reader is an open blob. It is an io.ReadSeekCloser and an io.ReaderAt, so
// it can be handed to http.ServeContent or wrapped in io.NewSectionReader for
// ranged reads. The caller must Close it.
type Reader interface {
	io.ReadSeekCloser
	io.ReaderAt
	// Size returns the length of the content in bytes.
	Size() int64
}

// Store keeps recording content per tenant, addressed by SHA-256.
// Implementations are safe for concurrent use.
//
// Errors carry callvault error codes: EInvalid for a malformed tenant id or
// hash (Field names which), ENotFound for a blob that is not stored under the
// tenant, ETooLarge for content over the limit given to Put. Other errors
// (I/O failures) have no code and are internal.
type Store interface {
	// Put reads r to its end and stores the content under tenant,
	// returning its hash and size. Content longer than maxBytes (which must
	// be positive) is rejected with ETooLarge and nothing is stored.
	// Storing content that is already stored is not an error: the blob is
	// shared (deduplicated). When Put returns without error the content is
	// durable.
	Put(ctx context.Context, tenant string, r io.Reader, maxBytes int64) (Info, error)
	// Open opens the blob sha256 of tenant for reading.
	Open(ctx context.Context, tenant, sha256 string) (Reader, error)
	// Stat returns the Info of the blob sha256 of tenant.
	Stat(ctx context.Context, tenant, sha256 string) (Info, error)
	// Exists reports whether the blob sha256 of tenant is stored.
	Exists(ctx context.Context, tenant, sha256 string) (bool, error)
	// Delete removes the blob sha256 of tenant. Deleting a blob that is not
	// stored is not an error.
	Delete(ctx context.Context, tenant, sha256 string) error
}

// ValidSHA256 reports whether s is a SHA-256 in the form blobs are keyed by:
// exactly 64 lower-case hexadecimal digits.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkKey validates a (tenant, sha256) pair. Nothing that passes it can
// name a path outside the tenant's directory.
func checkKey(tenant, sha string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if !ValidSHA256(sha) {
		return callvault.FieldError("sha256", "sha256 must be 64 lower-case hexadecimal digits")
	}
	return nil
}

func checkTenant(tenant string) error {
	if !callvault.ValidSlug(tenant) {
		return callvault.FieldError("tenant", "tenant must be a valid tenant id")
	}
	return nil
}

// tooLarge is the error for content over maxBytes.
func tooLarge(maxBytes int64) error {
	return callvault.Errorf(callvault.ETooLarge,
		"recording content is larger than the limit of %d bytes", maxBytes)
}

func notFound() error {
	return callvault.Errorf(callvault.ENotFound, "recording content not found")
}

// ctxReader fails a read once ctx is done, so a long upload stops promptly
// when its request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
