package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/retention"
)

// purge is `callvault purge`: it deletes the call data that has outlived
// its tenant's retention (every tenant, or --tenant), with its recordings'
// content, in bounded batches; see internal/retention for the rules. With
// --dry-run it only counts. It prints one line per tenant.
func (e *env) purge(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	var c config
	e.flags(fs, &c, false)
	tenant := fs.String("tenant", "", "purge only this tenant")
	batch := fs.Int("batch", retention.DefaultBatch, "call records deleted per transaction")
	dryRun := fs.Bool("dry-run", false, "count what would be purged; delete nothing")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *batch < 1 || *batch > maxImportBatch {
		return &exitError{code: 2, msg: fmt.Sprintf("--batch must be from 1 to %d", maxImportBatch)}
	}
	d, err := openData(ctx, &c)
	if err != nil {
		return err
	}
	defer d.store.Close()
	p := &retention.Purger{Store: d.store, Blobs: d.blobs, Batch: *batch, Actor: cliActor(),
		Log: slog.New(slog.NewTextHandler(e.stderr, nil))}
	results, err := p.All(ctx, *tenant, *dryRun)
	for _, r := range results {
		fmt.Fprintln(e.stdout, r)
	}
	if callvault.IsNotFound(err) {
		return &exitError{code: 2, msg: fmt.Sprintf("there is no tenant %q in %s", *tenant, c.data)}
	}
	return err
}
