package http

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// countingRates is a callvault.RequestRateStore in memory, shared by the
// limiters of several "nodes"; failing makes every CountRequest fail.
type countingRates struct {
	memRates
	failing bool
	prunes  chan time.Time
}

func (c *countingRates) CountRequest(ctx context.Context, key string, start time.Time) (int, error) {
	c.mu.Lock()
	failing := c.failing
	c.mu.Unlock()
	if failing {
		return 0, errors.New("connection refused")
	}
	return c.AddRate(ctx, key, start)
}

func (c *countingRates) PruneRates(ctx context.Context, before time.Time) error {
	c.prunes <- before
	return nil
}

func TestMemoryRequestLimiter(t *testing.T) {
	ctx := context.Background()
	clock := newOAClock()
	l := NewMemoryRequestLimiter(clock.Now)
	for i := 1; i <= 4; i++ {
		r, err := l.Take(ctx, "k", 3, time.Minute)
		if err != nil || r.Allowed != (i <= 3) || r.Count != i || r.Remaining != max(3-i, 0) || r.Reset != time.Minute {
			t.Fatalf("request %d: %+v, %v", i, r, err)
		}
	}
	clock.Advance(20 * time.Second)
	if r, _ := l.Take(ctx, "k", 3, time.Minute); r.Allowed || r.Reset != 40*time.Second {
		t.Fatalf("in the same window: %+v", r)
	}
	if r, _ := l.Take(ctx, "other", 3, time.Minute); !r.Allowed || r.Remaining != 2 {
		t.Fatalf("another key: %+v", r)
	}
	if r, _ := l.Take(ctx, "k", 0, time.Minute); !r.Allowed {
		t.Fatalf("limit 0 (none): %+v", r)
	}
	clock.Advance(40 * time.Second)
	if r, _ := l.Take(ctx, "k", 3, time.Minute); !r.Allowed || r.Count != 1 {
		t.Fatalf("next window (starting at the first request): %+v", r)
	}
}

// TestMemoryRequestLimiterFullTable: a key already in a full table whose
// window ended starts its next window in place, and is limited in it.
func TestMemoryRequestLimiterFullTable(t *testing.T) {
	ctx := context.Background()
	clock := newOAClock()
	l := NewMemoryRequestLimiter(clock.Now)
	if r, _ := l.Take(ctx, "k", 3, time.Minute); !r.Allowed {
		t.Fatalf("first request: %+v", r)
	}
	for i := 1; i < maxRequestWindows; i++ {
		l.Take(ctx, "fill/"+strconv.Itoa(i), 3, time.Minute)
	}
	clock.Advance(time.Minute)
	for i := 1; i <= 5; i++ {
		r, err := l.Take(ctx, "k", 3, time.Minute)
		if err != nil || r.Allowed != (i <= 3) || r.Count != i {
			t.Fatalf("request %d in the next window, table full: %+v, %v; want counted, refused after 3", i, r, err)
		}
	}
}

// TestMemoryRequestLimiterFlood: a table full of current windows (a flood
// of made-up keys) does not switch limits off: new keys share one limited
// window, while keys in the table keep their own counts; and purging the
// table judges each window by its own length, so a long window is not
// dropped by a request with a shorter one.
func TestMemoryRequestLimiterFlood(t *testing.T) {
	ctx := context.Background()
	clock := newOAClock()
	l := NewMemoryRequestLimiter(clock.Now)
	l.Take(ctx, "long", 2, time.Hour)
	for i := 1; i < maxRequestWindows; i++ {
		l.Take(ctx, "flood/"+strconv.Itoa(i), 3, time.Minute)
	}
	for i := 1; i <= 5; i++ {
		r, _ := l.Take(ctx, "new/"+strconv.Itoa(i), 3, time.Minute)
		if r.Allowed != (i <= 3) || r.Count != i {
			t.Fatalf("new key %d with the table full: %+v; want the new keys counted together, refused after 3", i, r)
		}
	}
	if r, _ := l.Take(ctx, "flood/7", 3, time.Minute); !r.Allowed || r.Count != 2 {
		t.Fatalf("a key in the table: %+v; want its own count, 2", r)
	}
	// A minute later the flood's windows have ended and are purged; the
	// hour-long window of "long" has not and keeps its count.
	clock.Advance(time.Minute)
	if r, _ := l.Take(ctx, "new/after", 3, time.Minute); !r.Allowed || r.Count != 1 {
		t.Fatalf("a new key after the flood's windows ended: %+v", r)
	}
	if r, _ := l.Take(ctx, "long", 2, time.Hour); !r.Allowed || r.Count != 2 {
		t.Fatalf("the hour-long window after a purge by one-minute windows: %+v; want count 2", r)
	}
	if r, _ := l.Take(ctx, "long", 2, time.Hour); r.Allowed {
		t.Fatalf("the hour-long window's third request: %+v; want refused", r)
	}
}

// TestStoreRequestLimiter: two nodes' limiters over one store count
// together in aligned windows, prune in the background at most once a
// minute per node, and fail closed (EUnavailable) when the store fails.
func TestStoreRequestLimiter(t *testing.T) {
	ctx := context.Background()
	clock := newOAClock()
	clock.t = time.Date(2025, 3, 1, 12, 0, 15, 0, time.UTC)
	rates := &countingRates{memRates: memRates{counts: map[string]int{}}, prunes: make(chan time.Time, 10)}
	a, b := NewStoreRequestLimiter(rates, clock.Now), NewStoreRequestLimiter(rates, clock.Now)
	for i := 1; i <= 5; i++ {
		l := []RequestLimiter{a, b}[i%2]
		r, err := l.Take(ctx, "rc/k", 4, time.Minute)
		if err != nil || r.Allowed != (i <= 4) || r.Count != i || r.Remaining != max(4-i, 0) || r.Reset != 45*time.Second {
			t.Fatalf("request %d (node %d): %+v, %v; want the count of both nodes in the window aligned to the minute", i, i%2, r, err)
		}
	}
	for range 2 { // one prune per node
		if before := <-rates.prunes; !before.Equal(clock.Now().Add(-time.Hour)) {
			t.Errorf("pruned before %v; want an hour ago", before)
		}
	}
	clock.Advance(45 * time.Second)
	if r, _ := a.Take(ctx, "rc/k", 4, time.Minute); !r.Allowed || r.Count != 1 || r.Reset != time.Minute {
		t.Fatalf("next window: %+v", r)
	}
	select {
	case before := <-rates.prunes:
		t.Errorf("pruned again (before %v) within a minute", before)
	case <-time.After(50 * time.Millisecond):
	}
	var wg sync.WaitGroup
	rates.mu.Lock()
	rates.failing = true
	rates.mu.Unlock()
	for _, l := range []RequestLimiter{a, b} {
		wg.Go(func() {
			r, err := l.Take(ctx, "rc/k", 4, time.Minute)
			if callvault.ErrorCode(err) != callvault.EUnavailable || r.Allowed {
				t.Errorf("store failing: %+v, %v; want refused with EUnavailable (fail closed)", r, err)
			}
		})
	}
	wg.Wait()
	if r, err := a.Take(ctx, "rc/k", 0, time.Minute); err != nil || !r.Allowed {
		t.Errorf("no limit does not touch the store: %+v, %v", r, err)
	}
}
