package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// importCounts are the running totals of an import.
type importCounts struct {
	Records    int64 `json:"records"`    // valid records read
	Stored     int64 `json:"stored"`     // of those, newly stored
	Duplicates int64 `json:"duplicates"` // of those, already stored (a re-run)
	Bad        int64 `json:"bad"`        // lines rejected
}

func (c importCounts) String() string {
	return fmt.Sprintf("%d records (%d new, %d duplicates, %d bad)", c.Records, c.Stored, c.Duplicates, c.Bad)
}

// progress reports an import's progress. Update is called after every
// committed batch with the totals and the bytes read so far, Finish once at
// the end (the command then prints its summary). Say prints one line (a bad
// line's report) without garbling a progress bar drawn on the same
// terminal.
type progress interface {
	Update(c importCounts, read int64)
	Say(line string)
	Finish()
}

// newProgress returns a progress bar (records/s, ETA from bytes read against
// total) when w is a terminal, and plain lines at most every interval
// otherwise.
func newProgress(w io.Writer, total int64, every time.Duration, now func() time.Time) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return newBar(w, total, now)
	}
	return &lines{w: w, total: total, every: every, now: now, start: now(), last: now()}
}

// rate is records per second since start.
func rate(n int64, start, now time.Time) float64 {
	secs := now.Sub(start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// lines prints plain progress lines, for logs and pipes.
type lines struct {
	w           io.Writer
	total       int64
	every       time.Duration
	now         func() time.Time
	start, last time.Time
}

func (l *lines) Update(c importCounts, read int64) {
	now := l.now()
	if now.Sub(l.last) < l.every {
		return
	}
	l.last = now
	eta := ""
	if l.total > 0 && read > 0 && read < l.total {
		left := time.Duration(float64(now.Sub(l.start)) * float64(l.total-read) / float64(read))
		eta = fmt.Sprintf(", %d%% read, ETA %s", read*100/l.total, left.Round(time.Second))
	}
	fmt.Fprintf(l.w, "imported %s %.0f rec/s%s\n", c, rate(c.Records, l.start, now), eta)
}

func (l *lines) Say(line string) { fmt.Fprintln(l.w, line) }

// Finish does nothing: the command prints the summary line.
func (l *lines) Finish() {}

// bar is a terminal progress bar over the bytes of the input files.
type bar struct {
	b     *progressbar.ProgressBar
	w     io.Writer
	now   func() time.Time
	start time.Time
}

func newBar(w io.Writer, total int64, now func() time.Time) *bar {
	b := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
	)
	return &bar{b: b, w: w, now: now, start: now()}
}

func (b *bar) Update(c importCounts, read int64) {
	b.b.Describe(fmt.Sprintf("%d rec (%d new, %d dup, %d bad) %.0f rec/s",
		c.Records, c.Stored, c.Duplicates, c.Bad, rate(c.Records, b.start, b.now())))
	_ = b.b.Set64(read)
}

func (b *bar) Say(line string) {
	_ = b.b.Clear()
	fmt.Fprintln(b.w, line)
}

// Finish completes the bar and ends its line.
func (b *bar) Finish() {
	_ = b.b.Finish()
	fmt.Fprintln(b.w)
}
