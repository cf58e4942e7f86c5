package http

import (
	"time"

	"github.com/callvault/callvault/internal/cursor"
)

// SignCursor signs a face's pagination cursor of kind for tenant with the
// server's cursor key (see internal/cursor): opaque, tamper-evident,
// tenant-bound and valid until expires.
func (s *Server) SignCursor(tenant, kind string, data any, expires time.Time) (string, error) {
	return cursor.Sign(s.cfg.CursorKey, tenant, kind, data, expires)
}

// OpenCursor verifies a cursor SignCursor issued for tenant and kind at the
// server's clock and decodes its data; the errors are internal/cursor's.
func (s *Server) OpenCursor(tenant, kind, c string, data any) error {
	return cursor.Open(s.cfg.CursorKey, c, tenant, kind, s.now(), data)
}
