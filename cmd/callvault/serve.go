package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/face/eightbyeight"
	"github.com/callvault/callvault/internal/face/genesys"
	"github.com/callvault/callvault/internal/face/ringcentral"
	cvhttp "github.com/callvault/callvault/internal/http"
	"github.com/callvault/callvault/internal/retention"
)

// shutdownGrace is how long in-flight requests get to finish on shutdown.
const shutdownGrace = 30 * time.Second

// serve runs the server until ctx is done, then shuts down gracefully:
// in-flight requests finish, pending audit writes are flushed and a signed
// checkpoint is written for every tenant appended to. With seed, it first
// seeds a demo installation in a fresh data directory (unless --data names
// one) and prints how to use it.
func (e *env) serve(ctx context.Context, args []string, seed bool) error {
	name := "serve"
	if seed {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var c config
	e.flags(fs, &c, true)
	var df demoFlags
	if seed {
		df.register(fs)
	}
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if seed && !flagSet(fs, "data") && e.getenv("CALLVAULT_DATA") == "" {
		dir, err := os.MkdirTemp("", "callvault-demo-")
		if err != nil {
			return err
		}
		c.data = dir
	}
	log, err := newLogger(e.stderr, c.logFormat)
	if err != nil {
		return err
	}
	d, err := openData(ctx, &c)
	if err != nil {
		return err
	}
	defer d.store.Close()

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := strings.TrimRight(c.baseURL, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	writer := audit.NewWriter(d.store, d.auditKey, nil, log)
	// One guard for everything that deletes recording content: uploads' cleanup
	// and the retention purge never remove content an upload is referencing.
	guard := &blob.Guard{}
	limits, appLimits, err := ringcentral.ParseLimits(c.rcLimits)
	if err != nil {
		ln.Close()
		writer.Close()
		return &exitError{code: 2, msg: err.Error()}
	}
	srv := cvhttp.New(cvhttp.Config{
		Store: d.store, Audit: writer, Logger: log, BaseURL: base, Region: c.region,
		JWTKey: d.jwtKey, CursorKey: d.cursorKey, AuditReads: c.auditReads,
		AccessTTL: c.accessTTL, RefreshTTL: c.refreshTTL, Blobs: d.blobs, BlobGuard: guard,
		Faces: []cvhttp.Face{ringcentral.New(ringcentral.Options{Limits: limits, AppLimits: appLimits}),
			genesys.New(genesys.Options{}), eightbyeight.New()},
	})
	if seed {
		if err := e.seedDemo(ctx, d, base, df); err != nil {
			ln.Close()
			writer.Close()
			return err
		}
	}
	// Background jobs stop before the audit writer's final flush and
	// checkpoints, so nothing they append is left out.
	bg, cancelBG := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	jobs.Go(func() { checkpointEvery(bg, writer, checkpointInterval, log) })
	jobs.Go(func() {
		retention.Loop(bg, &retention.Purger{Store: d.store, Blobs: d.blobs, Guard: guard, Log: log}, c.purgeEvery)
	})
	stopJobs := func() { cancelBG(); jobs.Wait() }
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(e.stdout, "callvault %s listening on %s (data %s)\n", name, base, c.data)
	log.Info("listening", "addr", ln.Addr().String(), "baseURL", base, "data", c.data, "region", c.region)

	select {
	case err := <-errc:
		stopJobs()
		writer.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	serr := hs.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		serr = errors.Join(serr, err)
	}
	stopJobs()
	if err := writer.Close(); err != nil {
		serr = errors.Join(serr, fmt.Errorf("flushing audit: %w", err))
	}
	fmt.Fprintln(e.stdout, "callvault stopped")
	return serr
}

// checkpointInterval is how often the server signs checkpoints of chain
// heads that moved, besides the writer's own every-256-records checkpoints.
const checkpointInterval = 5 * time.Minute

func checkpointEvery(ctx context.Context, w *audit.Writer, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.CheckpointAll(ctx); err != nil && ctx.Err() == nil {
				log.Error("periodic audit checkpoint", "err", err)
			}
		}
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
