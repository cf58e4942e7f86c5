package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// AsteriskColumns says which optional cdr_csv columns a Master.csv has:
// uniqueid (loguniqueid=yes), userfield (loguserfield=yes) and the three
// of newcdrcolumns=yes (peeraccount, linkedid, sequence), appended in that
// order after the 16 fixed ones.
type AsteriskColumns struct {
	UniqueID   bool
	UserField  bool
	NewColumns bool
}

// count is the number of columns a line has with these options.
func (c AsteriskColumns) count() int {
	n := 16
	if c.UniqueID {
		n++
	}
	if c.UserField {
		n++
	}
	if c.NewColumns {
		n += 3
	}
	return n
}

// AsteriskOptions configures NewAsteriskReader.
type AsteriskOptions struct {
	// Location is the time zone of the file's dates: nil means UTC (what
	// cdr_csv writes with usegmtime=yes); otherwise the PBX's local zone,
	// usually the tenant's or the site's.
	Location *time.Location
	// Columns, when set, fixes the optional columns and a line with another
	// column count is an error. When nil they are told from each line's
	// count: 16 none; 18 uniqueid and userfield (the shipped cdr.conf);
	// 19 newcdrcolumns; 21 all; 17 and 20 have one of uniqueid and
	// userfield, which is taken to be uniqueid when the value has the shape
	// of an Asterisk uniqueid ("1793872800.10817", optionally prefixed by
	// "<systemname>-") and userfield otherwise.
	Columns *AsteriskColumns
	// SiteID is the site (PBX) the file comes from; it is copied into every
	// record.
	SiteID string
	// MaxExtensionDigits is the most digits an extension has (default 6).
	// A number of 2 up to this many digits is an extension, except the
	// emergency numbers 000, 112, 911, 933 and 999.
	MaxExtensionDigits int
	// InboundContexts are dcontext prefixes that mark calls coming in
	// from a trunk. Nil means the usual FreePBX/Asterisk names: from-trunk,
	// from-pstn, from-external, from-did, ext-did, from-sip-external,
	// from-provider, inbound, incoming.
	InboundContexts []string
}

// Limits of the Asterisk reader. cdr_csv builds each record in a 1024-byte
// buffer, so real lines are far shorter.
const (
	maxAsteriskLine   = 16 << 10 // bytes of one physical line
	maxAsteriskRecord = 16 << 10 // bytes of one record spread over lines
	maxAsteriskJoin   = 8        // physical lines one record may span
)

// AsteriskReader reads call records from an Asterisk cdr_csv file
// (Master.csv or an account file) with bounded memory.
//
// cdr_csv writes one record per line, but it does not escape CR or LF in
// values, so a quoted value may span lines. The reader hands each line to
// encoding/csv; when a line ends inside a quoted value it retries with the
// next lines joined (up to 8 lines or 16 KiB). If no join gives a valid
// record, only the first line is reported bad and reading resumes at the
// line after it, so a truncated line (a crash while writing) does not
// swallow the good lines behind it.
type AsteriskReader struct {
	lines   *lineReader
	opts    AsteriskOptions
	pending []pendingLine
	end     error // the error that ended the input, once seen
	last    int   // the number of the last line read
	src     bytes.Reader
	buf     *bufio.Reader
}

type pendingLine struct {
	data    []byte
	num     int
	tooLong bool
}

// NewAsteriskReader returns a reader of the cdr_csv records in r.
func NewAsteriskReader(r io.Reader, opts AsteriskOptions) *AsteriskReader {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.MaxExtensionDigits <= 0 {
		opts.MaxExtensionDigits = 6
	}
	if opts.InboundContexts == nil {
		opts.InboundContexts = []string{"from-trunk", "from-pstn", "from-external", "from-did", "ext-did",
			"from-sip-external", "from-provider", "inbound", "incoming"}
	}
	a := &AsteriskReader{lines: newLineReader(r, maxAsteriskLine), opts: opts}
	a.buf = bufio.NewReader(&a.src)
	return a
}

// fill makes sure n lines are pending; it reports false when the input ends
// first.
func (a *AsteriskReader) fill(n int) bool {
	for len(a.pending) < n {
		if a.end != nil {
			return false
		}
		b, num, tooLong, err := a.lines.next()
		if err != nil {
			a.end = err
			return false
		}
		a.last = num
		a.pending = append(a.pending, pendingLine{data: bytes.Clone(b), num: num, tooLong: tooLong})
	}
	return true
}

// Next returns the next record and the 1-based number of the line it
// starts on. A bad line gives a *callvault.Error (code EInvalid, message
// starting "line N: ", Field naming the column) and the reader goes on with
// the next line on the following call. Blank lines are skipped. At the end
// it returns io.EOF; a read error of r is returned as it is.
func (a *AsteriskReader) Next() (*callvault.CallRecord, int, error) {
	for {
		if !a.fill(1) {
			return nil, a.last, a.end
		}
		first := a.pending[0]
		if first.tooLong {
			a.pending = a.pending[1:]
			return nil, first.num, at("line", first.num, callvault.Errorf(callvault.EInvalid, "longer than the %d-byte line limit", maxAsteriskLine))
		}
		if blank(first.data) {
			a.pending = a.pending[1:]
			continue
		}
		fields, err := a.parseCSV(first.data)
		if err == nil {
			a.pending = a.pending[1:]
			return a.record(fields, first.data, first.num)
		}
		if isOpenQuote(err) {
			joined := bytes.Clone(first.data)
			for k := 1; k < maxAsteriskJoin && a.fill(k+1) && !a.pending[k].tooLong; k++ {
				joined = append(append(joined, '\n'), a.pending[k].data...)
				if len(joined) > maxAsteriskRecord {
					break
				}
				f, jerr := a.parseCSV(joined)
				if jerr == nil {
					// Take the join only if it makes a good record: a
					// truncated line followed by good ones can also
					// join into something well-formed, and those good
					// lines must not be lost with it.
					if rec, _, rerr := a.record(f, joined, first.num); rerr == nil {
						a.pending = a.pending[k+1:]
						return rec, first.num, nil
					}
					break
				}
				if !isOpenQuote(jerr) {
					break
				}
			}
		}
		a.pending = a.pending[1:]
		return nil, first.num, at("line", first.num, csvError(err))
	}
}

// parseCSV splits one record with encoding/csv (LazyQuotes off).
func (a *AsteriskReader) parseCSV(b []byte) ([]string, error) {
	a.src.Reset(b)
	a.buf.Reset(&a.src)
	cr := csv.NewReader(a.buf) // reuses a.buf: it is a *bufio.Reader of the default size
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if _, err := cr.Read(); err != io.EOF {
		return nil, callvault.Errorf(callvault.EInvalid, "more than one CSV record")
	}
	return rec, nil
}

// isOpenQuote reports whether a CSV error is a quoted field left open at
// the end of the input, which joining the next line may close.
func isOpenQuote(err error) bool {
	var pe *csv.ParseError
	return errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote)
}

func csvError(err error) *callvault.Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := "not valid CSV"
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			msg = `not valid CSV: a quoted value is not closed, or a '"' follows its closing quote`
		case errors.Is(pe.Err, csv.ErrBareQuote):
			msg = `not valid CSV: a '"' inside an unquoted value`
		}
		return &callvault.Error{Code: callvault.EInvalid, Message: msg + " (column " + strconv.Itoa(pe.Column) + ")", Err: err}
	}
	var ce *callvault.Error
	if errors.As(err, &ce) {
		return ce
	}
	return &callvault.Error{Code: callvault.EInvalid, Message: "not valid CSV", Err: err}
}

// layout tells which optional columns the fields have, or returns an
// error naming the count.
func (a *AsteriskReader) layout(f []string) (AsteriskColumns, *callvault.Error) {
	n := len(f)
	if c := a.opts.Columns; c != nil {
		if n != c.count() {
			return AsteriskColumns{}, callvault.Errorf(callvault.EInvalid, "has %d columns; the configured columns make %d", n, c.count())
		}
		return *c, nil
	}
	switch n {
	case 16:
		return AsteriskColumns{}, nil
	case 17:
		return AsteriskColumns{UniqueID: isUniqueID(f[16]), UserField: !isUniqueID(f[16])}, nil
	case 18:
		return AsteriskColumns{UniqueID: true, UserField: true}, nil
	case 19:
		return AsteriskColumns{NewColumns: true}, nil
	case 20:
		return AsteriskColumns{UniqueID: isUniqueID(f[16]), UserField: !isUniqueID(f[16]), NewColumns: true}, nil
	case 21:
		return AsteriskColumns{UniqueID: true, UserField: true, NewColumns: true}, nil
	}
	return AsteriskColumns{}, callvault.Errorf(callvault.EInvalid, "has %d columns; a cdr_csv line has 16 to 21", n)
}

// isUniqueID reports whether s looks like an Asterisk channel uniqueid:
// "<epoch>.<n>", optionally prefixed with "<systemname>-".
func isUniqueID(s string) bool {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s = s[i+1:]
	}
	sec, seq, ok := strings.Cut(s, ".")
	return ok && len(sec) >= 9 && allDigits(sec) && seq != "" && allDigits(seq)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Asterisk column indexes (0-based) of the fixed columns.
const (
	astSrc = 1 + iota
	astDst
	astDcontext
	astClid
	astChannel
	astDstChannel
	astLastApp
	astLastData
	astStart
	astAnswer
	astEnd
	astDuration
	astBillsec
	astDisposition
)

// record maps one cdr_csv line to a validated call record.
func (a *AsteriskReader) record(f []string, raw []byte, num int) (*callvault.CallRecord, int, error) {
	cols, cerr := a.layout(f)
	if cerr != nil {
		return nil, num, at("line", num, cerr)
	}
	var uniqueID, linkedID, sequence string
	i := 16
	if cols.UniqueID {
		uniqueID = f[i]
		i++
	}
	if cols.UserField {
		i++
	}
	if cols.NewColumns {
		linkedID, sequence = f[i+1], f[i+2]
	}

	var fe FieldErrors
	loc := a.opts.Location
	start := astTime(&fe, "start", f[astStart], loc)
	answer := astTime(&fe, "answer", f[astAnswer], loc)
	end := astTime(&fe, "end", f[astEnd], loc)
	duration := astInt(&fe, "duration", f[astDuration])
	astInt(&fe, "billsec", f[astBillsec])
	if f[astStart] == "" {
		fe.add("start", "required")
	}
	if sequence != "" {
		astInt(&fe, "sequence", sequence)
	}
	if len(fe) > 0 {
		return nil, num, at("line", num, fe)
	}

	src, dst := strings.TrimSpace(f[astSrc]), strings.TrimSpace(f[astDst])
	name, clidNum := parseCallerID(f[astClid])
	if src == "" {
		src = clidNum
	}
	srcExt, dstExt := a.isExtension(src), a.isExtension(dst)
	peer, dstPeer := channelPeer(f[astChannel]), channelPeer(f[astDstChannel])
	callerLocal := srcExt || a.isExtension(peer)

	dir := callvault.DirectionOutbound
	switch {
	case a.inboundContext(f[astDcontext]):
		dir = callvault.DirectionInbound
	case callerLocal && dstExt:
		dir = callvault.DirectionInternal
	case callerLocal:
		dir = callvault.DirectionOutbound
	case dstExt:
		dir = callvault.DirectionInbound
	}

	var from, to callvault.Party
	from.Name = clean(name, MaxNameLen)
	switch {
	case srcExt && dir != callvault.DirectionInbound:
		from.ExtensionNumber = src
	case hasDigit(src):
		from.PhoneNumber = clean(src, MaxNumberLen)
		if callerLocal && dir != callvault.DirectionInbound {
			from.ExtensionNumber = peer
		}
	default:
		if from.Name == "" {
			from.Name = clean(src, MaxNameLen) // "anonymous", "Unknown"
		}
	}
	if !dstExt && hasDigit(dst) {
		to.PhoneNumber = clean(dst, MaxNumberLen)
	}
	switch {
	case dir != callvault.DirectionOutbound && a.isExtension(dstPeer):
		// The phone that rang: for a ring group or a DID it says more
		// than dst.
		to.ExtensionNumber = dstPeer
	case dstExt:
		to.ExtensionNumber = dst
	}

	rec := &callvault.CallRecord{
		ID:                 asteriskID(uniqueID, sequence, f[astDstChannel], raw),
		SiteID:             a.opts.SiteID,
		SessionID:          firstNonEmpty(linkedID, uniqueID),
		TelephonySessionID: uniqueID,
		Start:              start,
		Answer:             answer,
		End:                end,
		DurationMs:         duration * 1000,
		Direction:          dir,
		Type:               callvault.CallVoice,
		From:               from,
		To:                 to,
	}
	if rec.End.IsZero() {
		rec.End = rec.Start.Add(time.Duration(duration) * time.Second)
	}
	switch strings.ToLower(f[astLastApp]) {
	case "receivefax", "sendfax", "rxfax", "txfax":
		rec.Type = callvault.CallFax
	}
	res, ok := asteriskResult(f[astDisposition], dir, !answer.IsZero())
	if !ok {
		return nil, num, at("line", num, FieldErrors{callvault.FieldError("disposition",
			"disposition: %s is not one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION, CANCEL, UNKNOWN", show(f[astDisposition]))})
	}
	rec.Result = res
	if res == callvault.ResultAccepted && strings.EqualFold(f[astLastApp], "VoiceMail") {
		rec.Result = callvault.ResultVoicemail
	}
	if fe := Validate(rec); len(fe) > 0 {
		return nil, num, at("line", num, fe)
	}
	return rec, num, nil
}

// asteriskResult maps a cdr_csv disposition to a call result.
func asteriskResult(disposition, dir string, answered bool) (string, bool) {
	inbound := dir == callvault.DirectionInbound
	switch strings.ToUpper(strings.TrimSpace(disposition)) {
	case "ANSWERED":
		return callvault.ResultAccepted, true
	case "NO ANSWER":
		if inbound {
			return callvault.ResultMissed, true
		}
		return callvault.ResultNoAnswer, true
	case "BUSY":
		return callvault.ResultBusy, true
	case "FAILED", "CONGESTION":
		return callvault.ResultFailed, true
	case "CANCEL":
		// The caller gave up before an answer.
		if inbound {
			return callvault.ResultMissed, true
		}
		return callvault.ResultHangUp, true
	case "UNKNOWN", "":
		return defaultResult(dir, answered), true
	}
	return "", false
}

// asteriskID is the record id of a cdr_csv line. With a uniqueid it is the
// uniqueid, suffixed with "-<sequence>" when the newcdrcolumns are on, or
// else with "-<8 hex digits of SHA-256(dstchannel)>" when there is a
// dstchannel: Asterisk 12+ writes one CDR per (caller channel, callee
// channel) pair, so a forked dial (ring group) gives several lines with the
// same uniqueid, and the bare uniqueid would make all but the first look
// like duplicates. Without a uniqueid (or when the result would be over
// 128 characters) it is "ast-" and 32 hex digits of SHA-256 of the line.
// Either way a re-import of the same line gives the same id.
func asteriskID(uniqueID, sequence, dstChannel string, raw []byte) string {
	id := ""
	switch {
	case uniqueID == "":
	case sequence != "":
		id = uniqueID + "-" + sequence
	case dstChannel != "":
		h := sha256.Sum256([]byte(dstChannel))
		id = uniqueID + "-" + hex.EncodeToString(h[:4])
	default:
		id = uniqueID
	}
	if id == "" || len(id) > MaxIDLen || !printable(id) {
		h := sha256.Sum256(raw)
		id = "ast-" + hex.EncodeToString(h[:16])
	}
	return id
}

func astTime(fe *FieldErrors, field, s string, loc *time.Location) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation(time.DateTime, s, loc)
	if err != nil {
		fe.add(field, "%s is not a date like 2006-01-02 15:04:05", show(s))
		return time.Time{}
	}
	return t
}

func astInt(fe *FieldErrors, field, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		fe.add(field, "%s is not a whole number of seconds", show(s))
	case n < 0:
		fe.add(field, "%d is negative", n)
	case n > int64(MaxCallDuration/time.Second):
		fe.add(field, "%d is longer than the longest call accepted (%s)", n, MaxCallDuration)
	default:
		return n
	}
	return 0
}

// parseCallerID splits an Asterisk callerid string into name and number.
// It reads what ast_callerid_merge writes: `"<name>" <<number>>` with the
// name escaped by ast_escape_quoted (a backslash before '"' and '\'), so
// `"Robert \"Bobby\" Tables" <1003>` is Robert "Bobby" Tables and 1003; a
// bare name or a bare number (older versions, or no number/name); and
// `Name <number>` with an unquoted name.
func parseCallerID(s string) (name, number string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	rest := s
	if s[0] == '"' {
		var b strings.Builder
		closed := false
		i := 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if c == '"' {
				closed = true
				i++
				break
			}
			b.WriteByte(c)
		}
		if closed {
			name, rest = b.String(), strings.TrimSpace(s[i:])
		} else {
			// Unbalanced: keep what there is as the name.
			return strings.TrimSpace(strings.TrimPrefix(s, `"`)), ""
		}
		if rest == "" {
			return name, ""
		}
		if strings.HasPrefix(rest, "<") && strings.HasSuffix(rest, ">") {
			return name, strings.TrimSpace(rest[1 : len(rest)-1])
		}
		return name + " " + rest, ""
	}
	if strings.HasSuffix(rest, ">") {
		if i := strings.LastIndexByte(rest, '<'); i >= 0 {
			return strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+1 : len(rest)-1])
		}
	}
	if looksLikeNumber(rest) {
		return "", rest
	}
	return rest, ""
}

// looksLikeNumber reports whether s is a dialable number: digits with an
// optional leading '+', and '*' or '#'.
func looksLikeNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '*' && s[i] != '#' {
			return false
		}
	}
	return true
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// channelPeer returns the peer of a SIP, PJSIP or IAX2 channel name:
// "PJSIP/1001-0000001a" gives "1001". Other technologies give "".
func channelPeer(ch string) string {
	tech, rest, ok := strings.Cut(ch, "/")
	if !ok {
		return ""
	}
	switch strings.ToUpper(tech) {
	case "SIP", "PJSIP", "IAX2":
	default:
		return ""
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		rest = rest[:i]
	}
	return rest
}

// isExtension reports whether s is an extension number: 2 up to
// MaxExtensionDigits digits, and not an emergency number.
func (a *AsteriskReader) isExtension(s string) bool {
	return isExtension(s, a.opts.MaxExtensionDigits)
}

func isExtension(s string, maxDigits int) bool {
	if len(s) < 2 || len(s) > maxDigits || !allDigits(s) {
		return false
	}
	switch s {
	case "000", "112", "911", "933", "999":
		return false
	}
	return true
}

func (a *AsteriskReader) inboundContext(ctx string) bool {
	ctx = strings.ToLower(ctx)
	for _, p := range a.opts.InboundContexts {
		if p != "" && strings.HasPrefix(ctx, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
