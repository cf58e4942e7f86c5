package access

import "strings"

// TraceTable renders the decision's trace as a fixed-width text table, one
// line per layer after a header, for logs, the CLI and /v1/access/explain:
//
//	layer        result  detail
//	credential   pass    access token of user 'maria' via app 'Acme Sync', issued ..., expires ...
//	tenant       pass    'acme' is the app's home tenant
//	region       pass    app region us = tenant region us
//	scopes       FAIL    recordings.read: not in access token scopes [calls.read]; not in app scopes now
//	subject      (not reached)
//
// A failing step reads FAIL; steps after it read "(not reached)". Every
// line ends with a newline.
func (d Decision) TraceTable() string {
	const layerW, resultW = 13, 8
	var b strings.Builder
	b.Grow(64 + 96*len(d.Trace))
	pad := func(s string, w int) {
		b.WriteString(s)
		for i := len(s); i < w; i++ {
			b.WriteByte(' ')
		}
	}
	pad("layer", layerW)
	b.WriteString("result  detail\n")
	for _, s := range d.Trace {
		pad(string(s.Layer), layerW)
		switch s.Result {
		case NotReached:
			b.WriteString("(not reached)\n")
			continue
		case Fail:
			pad("FAIL", resultW)
		default:
			pad(s.Result, resultW)
		}
		b.WriteString(s.Detail)
		b.WriteByte('\n')
	}
	return b.String()
}
