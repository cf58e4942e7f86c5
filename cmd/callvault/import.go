package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/ingest"
)

// Import formats.
const (
	formatNDJSON     = "ndjson"
	formatAsterisk   = "asterisk-csv"
	formatFreeSWITCH = "freeswitch-json"
)

var importFormats = []string{formatNDJSON, formatAsterisk, formatFreeSWITCH}

// maxImportBatch bounds --batch: one transaction's records stay in memory
// (two batches at a time: the one being committed and the next one).
const maxImportBatch = 100_000

// defaultImportBatch is --batch's default. The store ingests about 100k
// records/s at 20,000 records per durable transaction and about 75k/s at
// 5000 (random inserts into the primary key share pages in a larger
// transaction; see docs/benchmarks.md); two batches of 20,000 records take
// about 60 MB.
const defaultImportBatch = 20_000

// importEntityType is the audit entityType of an import run.
const importEntityType = "callImport"

// importCalls is `callvault import`: it streams call records from files
// (or "-" for standard input) through the format's ingest reader into the
// tenant, one durable transaction per batch.
//
// Reading overlaps writing: one goroutine reads, decodes and validates the
// next batch while the store commits the current one (at most two batches
// in memory). Counts, progress and the audit record are those of the
// committed batches, as when the two alternated.
//
// Unlike the HTTP batch API, which is all or nothing, an import keeps every
// valid record and reports each bad line on standard error as
// "FILE:LINE: field: message"; the exit status is 1 when any line was bad.
// Re-running an import stores nothing twice: records are keyed by their
// source id (see ingest), and already-stored ones are counted as
// duplicates. Memory is bounded by --batch whatever the file sizes.
//
// Sites: Asterisk and FreeSWITCH files do not name the tenant's site (the
// PBX they come from), so --site names it (a site id or name of the
// tenant) for every record of the run; when the tenant has sites it is
// required for those formats, so that site-scoped users see the calls of
// their sites only. NDJSON records carry their own siteId, which must name
// a site of the tenant (else the line is bad, as in the HTTP API); --site
// fills it in for records without one.
//
// One audit record per run (service data, eventType create, entityType
// callImport) holds the counts and the files; it is appended in the last
// batch's transaction, or on its own (with the error) when the run fails
// midway.
func (e *env) importCalls(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var c config
	e.flags(fs, &c, false)
	var (
		tenant   = fs.String("tenant", "", "tenant to import into (required)")
		format   = fs.String("format", "", "input format: "+strings.Join(importFormats, ", ")+" (required)")
		tz       = fs.String("timezone", "", "time zone of asterisk-csv dates (default: the tenant's; UTC for usegmtime=yes files)")
		siteFlag = fs.String("site", "", "site (id or name) the records come from; required for PBX formats when the tenant has sites")
		batch    = fs.Int("batch", defaultImportBatch, "records per transaction")
		every    = fs.Duration("progress-every", 2*time.Second, "interval of plain progress lines (when standard error is not a terminal)")
	)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	files := fs.Args()
	switch {
	case *tenant == "":
		return &exitError{code: 2, msg: "--tenant is required"}
	case !slices.Contains(importFormats, *format):
		return &exitError{code: 2, msg: fmt.Sprintf("--format must be one of %s, not %q", strings.Join(importFormats, ", "), *format)}
	case len(files) == 0:
		return &exitError{code: 2, msg: "name at least one file to import (- for standard input)"}
	case *batch < 1 || *batch > maxImportBatch:
		return &exitError{code: 2, msg: fmt.Sprintf("--batch must be from 1 to %d", maxImportBatch)}
	case *tz != "" && *format != formatAsterisk:
		return &exitError{code: 2, msg: "--timezone applies only to --format " + formatAsterisk}
	}
	var total int64
	for _, f := range files {
		if f == "-" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		total += st.Size()
	}

	d, err := openData(ctx, &c)
	if err != nil {
		return err
	}
	defer d.store.Close()
	t, err := d.store.Tenant(ctx, *tenant)
	if callvault.IsNotFound(err) {
		return &exitError{code: 2, msg: fmt.Sprintf("there is no tenant %q in %s", *tenant, c.data)}
	} else if err != nil {
		return err
	}
	im := &importer{env: e, store: d.store, tenant: t.ID, format: *format, batchSize: *batch}
	if im.sites, im.site, err = resolveSite(ctx, d.store, t.ID, *siteFlag, *format); err != nil {
		return err
	}
	if *format == formatAsterisk {
		name := *tz
		if name == "" {
			name = t.Timezone
		}
		if im.loc, err = time.LoadLocation(name); err != nil {
			return &exitError{code: 2, msg: fmt.Sprintf("--timezone %q is not an IANA time zone", name)}
		}
	}
	im.prog = &syncProgress{p: newProgress(e.stderr, total, *every, time.Now)}
	start := time.Now()
	runErr := im.run(ctx, files)
	im.prog.Finish()
	if runErr != nil && !im.recorded {
		rec := im.record(files, im.counts, runErr)
		if err := d.store.Update(context.WithoutCancel(ctx), func(tx callvault.Tx) error { return tx.AppendAudit(rec) }); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("writing the import's audit record: %w", err))
		}
	}
	elapsed := time.Since(start)
	fmt.Fprintf(e.stdout, "imported %s %.0f rec/s in %s into tenant %s\n", im.counts, rate(im.counts.Records, start, start.Add(elapsed)),
		elapsed.Round(time.Millisecond), t.ID)
	if im.skipped > 0 {
		fmt.Fprintf(e.stdout, "skipped %d FreeSWITCH B-leg documents (their calls are recorded from the A-legs)\n", im.skipped)
	}
	if runErr != nil {
		return runErr
	}
	if im.counts.Bad > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d bad %s skipped (listed above); every valid record was imported",
			im.counts.Bad, pluralize(im.counts.Bad, "line"))}
	}
	return nil
}

func pluralize(n int64, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// resolveSite returns the tenant's site ids and the id of the site named by
// flag (an id or a name, case-insensitively), "" when none is named.
func resolveSite(ctx context.Context, rd callvault.Reader, tenant, flag, format string) (map[string]bool, string, error) {
	sites, err := rd.Sites(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	ids := make(map[string]bool, len(sites))
	var names []string
	site := ""
	for _, s := range sites {
		ids[s.ID] = true
		names = append(names, fmt.Sprintf("%s (%s)", s.Name, s.ID))
		if flag != "" && (s.ID == flag || strings.EqualFold(s.Name, flag)) {
			site = s.ID
		}
	}
	switch {
	case flag != "" && site == "":
		return nil, "", &exitError{code: 2, msg: fmt.Sprintf("--site %q is not a site of tenant %s; its sites: %s", flag, tenant, orNone(names))}
	case site == "" && format != formatNDJSON && len(sites) > 0:
		return nil, "", &exitError{code: 2, msg: fmt.Sprintf("name the PBX this %s file comes from with --site; tenant %s has the sites %s",
			format, tenant, strings.Join(names, ", "))}
	}
	return ids, site, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// importer is one import run.
type importer struct {
	*env
	store     callvault.Store
	tenant    string
	format    string
	site      string          // --site as a site id, or ""
	sites     map[string]bool // the tenant's site ids
	loc       *time.Location  // asterisk-csv dates
	batchSize int
	prog      progress

	// Owned by the reading goroutine while it runs.
	batch   []*callvault.CallRecord
	nbad    int64 // bad lines
	skipped int64 // FreeSWITCH B-legs
	done    int64 // bytes of the files finished

	// Owned by the writer.
	counts   importCounts
	recorded bool // the run's audit record is written
}

// importBatch is a batch of records read, handed from the reading
// goroutine to the writer.
type importBatch struct {
	recs []*callvault.CallRecord
	read int64 // bytes of the input read so far, for progress
	bad  int64 // bad lines so far
}

// syncProgress lets the reading goroutine (Say: bad lines) and the writer
// (Update) share a progress.
type syncProgress struct {
	mu sync.Mutex
	p  progress
}

func (s *syncProgress) Update(c importCounts, read int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.Update(c, read)
}

func (s *syncProgress) Say(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.Say(line)
}

func (s *syncProgress) Finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.Finish()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// run imports every file in turn, then commits the last partial batch with
// the run's audit record. A goroutine reads the files and hands each full
// batch over an unbuffered channel to the writer (this goroutine), so it
// reads the next batch while the writer commits one: at most two batches
// are in memory. When the writer fails, reading stops; when reading fails,
// the batches read before are committed (as without the overlap) and the
// partial batch is not.
func (im *importer) run(ctx context.Context, files []string) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan importBatch)
	var readErr error
	go func() {
		defer close(batches)
		for _, name := range files {
			if readErr = im.file(rctx, name, batches); readErr != nil {
				return
			}
		}
	}()
	var err error
	for b := range batches {
		if err != nil {
			continue // drain until the reader sees the cancellation
		}
		if err = im.flush(ctx, b, nil); err != nil {
			cancel()
		}
	}
	// The reader is done: its fields are the writer's now.
	im.counts.Bad = im.nbad
	if err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	return im.flush(ctx, importBatch{recs: im.batch, read: im.done, bad: im.nbad}, files)
}

// nextFunc returns the next record of a stream and its line number; see
// the ingest readers' Next.
type nextFunc func() (*callvault.CallRecord, int, error)

// reader returns the format's record stream over r.
func (im *importer) reader(r io.Reader) nextFunc {
	switch im.format {
	case formatAsterisk:
		return ingest.NewAsteriskReader(r, ingest.AsteriskOptions{Location: im.loc, SiteID: im.site}).Next
	case formatFreeSWITCH:
		fr := ingest.NewFreeSWITCHReader(r)
		return func() (*callvault.CallRecord, int, error) {
			for {
				doc, line, err := fr.Next()
				if err != nil {
					return nil, line, err
				}
				rec, err := ingest.ParseFreeSWITCH(doc)
				if errors.Is(err, ingest.ErrBLeg) {
					im.skipped++
					continue
				}
				return rec, line, err
			}
		}
	}
	return ingest.NewNDJSONReader(r).Next
}

// file reads one file ("-": standard input), sending each full batch to
// out.
func (im *importer) file(ctx context.Context, name string, out chan<- importBatch) error {
	var src io.Reader = im.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	cr := &countingReader{r: src}
	next := im.reader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, line, err := next()
		switch {
		case errors.Is(err, io.EOF):
			im.done += cr.n
			return nil
		case err != nil && callvault.ErrorCode(err) == callvault.EInvalid:
			im.bad(name, line, err)
			continue
		case err != nil:
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		rec.TenantID = im.tenant
		if rec.SiteID == "" {
			rec.SiteID = im.site
		} else if !im.sites[rec.SiteID] {
			im.bad(name, line, callvault.FieldError("siteId", "siteId: tenant %q has no site %q; create it first, or name the site with --site", im.tenant, rec.SiteID))
			continue
		}
		im.batch = append(im.batch, rec)
		if len(im.batch) >= im.batchSize {
			select {
			case out <- importBatch{recs: im.batch, read: im.done + cr.n, bad: im.nbad}:
			case <-ctx.Done():
				return ctx.Err()
			}
			im.batch = make([]*callvault.CallRecord, 0, im.batchSize)
		}
	}
}

// bad reports a bad line as "FILE:LINE: field: message".
func (im *importer) bad(name string, line int, err error) {
	im.nbad++
	msg := err.Error()
	var ce *callvault.Error
	if errors.As(err, &ce) {
		msg = ce.Message
		if p := fmt.Sprintf("line %d: ", line); strings.HasPrefix(msg, p) {
			msg = msg[len(p):]
		}
		if ce.Field != "" && !strings.HasPrefix(msg, ce.Field) {
			msg = ce.Field + ": " + msg
		}
	}
	im.prog.Say(fmt.Sprintf("%s:%d: %s", name, line, msg))
}

// flush stores a batch in one durable transaction. The final flush (files
// set) also appends the run's audit record.
func (im *importer) flush(ctx context.Context, b importBatch, files []string) error {
	var c importCounts
	err := im.store.Update(ctx, func(tx callvault.Tx) error {
		c = im.counts
		c.Bad = b.bad
		if len(b.recs) > 0 {
			stored, err := tx.PutCalls(b.recs)
			if err != nil {
				return err
			}
			for _, ok := range stored {
				if ok {
					c.Stored++
				} else {
					c.Duplicates++
				}
			}
			c.Records += int64(len(b.recs))
		}
		if files == nil {
			return nil
		}
		return tx.AppendAudit(im.record(files, c, nil))
	})
	if err != nil {
		return err
	}
	im.counts, im.recorded = c, files != nil
	im.prog.Update(im.counts, b.read)
	return nil
}

// record is the run's audit record, with the counts c.
func (im *importer) record(files []string, c importCounts, runErr error) *callvault.AuditRecord {
	det := map[string]any{
		"format": im.format, "files": files, "records": c.Records, "stored": c.Stored,
		"duplicates": c.Duplicates, "badLines": c.Bad,
	}
	if im.site != "" {
		det["siteId"] = im.site
	}
	if im.skipped > 0 {
		det["bLegsSkipped"] = im.skipped
	}
	if runErr != nil {
		det["incomplete"] = true
		det["error"] = runErr.Error()
	}
	b, _ := json.Marshal(map[string]any{"new": det, "old": map[string]any{}})
	name := fmt.Sprintf("import of %d call %s (%s)", c.Records, pluralize(c.Records, "record"), im.format)
	return &callvault.AuditRecord{TenantID: im.tenant, Service: callvault.AuditData, EventType: callvault.EventCreate,
		EntityType: importEntityType, EntityKey: callvault.NewID("imp"), DisplayName: name, Timestamp: time.Now(),
		AuditUserID: cliActor(), Principal: cliActor() + " (offline)", Outcome: callvault.OutcomeSuccess, Details: string(b)}
}
