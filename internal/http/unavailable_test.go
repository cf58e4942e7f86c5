package http

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// lostStore is a Store whose reads and writes fail with EUnavailable, as a
// lost database connection does, while down is set.
type lostStore struct {
	callvault.Store
	down atomic.Bool
}

func (s *lostStore) err() error {
	if s.down.Load() {
		return &callvault.Error{Code: callvault.EUnavailable, Message: "the database is unavailable; retry later"}
	}
	return nil
}

func (s *lostStore) Token(ctx context.Context, hash string) (*callvault.Token, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Token(ctx, hash)
}

func (s *lostStore) AppByID(ctx context.Context, id string) (*callvault.App, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.AppByID(ctx, id)
}

func (s *lostStore) Tenant(ctx context.Context, id string) (*callvault.Tenant, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Tenant(ctx, id)
}

func (s *lostStore) Update(ctx context.Context, fn func(tx callvault.Tx) error) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Update(ctx, fn)
}

// TestStoreUnavailable: while the store cannot serve, API and OAuth
// requests get 503 with Retry-After (never 401 or 500); once it is back,
// the same requests succeed.
func TestStoreUnavailable(t *testing.T) {
	var ds *lostStore
	env := newTestEnv(t, func(c *Config) {
		ds = &lostStore{Store: c.Store}
		c.Store = ds
	})
	acme := env.MustAdmin(t, "acme")
	want503 := func(t *testing.T, res *testResponse) {
		t.Helper()
		if res.Status != http.StatusServiceUnavailable {
			t.Fatalf("%s %s: status %d, want 503: %s", res.Method, res.Path, res.Status, res.Body)
		}
		if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("%s %s: Retry-After %q, want seconds", res.Method, res.Path, res.Header.Get("Retry-After"))
		}
	}
	ds.down.Store(true)
	res := acme.Client().Get(t, "/v1/me")
	want503(t, res)
	if p := res.Problem(t); p.Code != callvault.EUnavailable {
		t.Errorf("problem code %q, want %q", p.Code, callvault.EUnavailable)
	}
	want503(t, env.PostForm(t, "/oauth/token", acme.App.ID, acme.Secret, oaForm("grant_type", gtCC)))
	ds.down.Store(false)
	acme.Client().Get(t, "/v1/me").Want(t, http.StatusOK)
	env.PostForm(t, "/oauth/token", acme.App.ID, acme.Secret, oaForm("grant_type", gtCC)).Want(t, http.StatusOK)
}

// memRates is a callvault.RateLimitStore in memory: what a shared store
// does, for servers in one test process.
type memRates struct {
	mu     sync.Mutex
	counts map[string]int
	pruned []time.Time
}

func (m *memRates) k(key string, start time.Time) string { return key + "@" + start.String() }

func (m *memRates) AddRate(_ context.Context, key string, start time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[m.k(key, start)]++
	return m.counts[m.k(key, start)], nil
}

func (m *memRates) Rate(_ context.Context, key string, start time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[m.k(key, start)], nil
}

func (m *memRates) PruneRates(_ context.Context, before time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruned = append(m.pruned, before)
	return nil
}

func TestStoreLimiter(t *testing.T) {
	ctx := context.Background()
	clock := newOAClock()
	clock.t = time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC)
	rates := &memRates{counts: map[string]int{}}
	// Two nodes' limiters over one store.
	a := NewStoreLimiter(rates, 3, time.Minute, clock.Now)
	b := NewStoreLimiter(rates, 3, time.Minute, clock.Now)
	for _, l := range []Limiter{a, b, a} {
		if blocked, _, err := b.Blocked(ctx, "client:x"); blocked || err != nil {
			t.Fatalf("blocked before the limit (%v)", err)
		}
		if err := l.Fail(ctx, "client:x"); err != nil {
			t.Fatal(err)
		}
	}
	blocked, wait, err := b.Blocked(ctx, "client:x")
	if !blocked || err != nil || wait != 50*time.Second {
		t.Fatalf("after 3 failures on two nodes: blocked %v for %v (%v); want blocked for 50s (the rest of the aligned window)", blocked, wait, err)
	}
	if blocked, _, _ := a.Blocked(ctx, "client:y"); blocked {
		t.Error("another key is blocked")
	}
	clock.Advance(50 * time.Second)
	if blocked, _, _ := a.Blocked(ctx, "client:x"); blocked {
		t.Error("still blocked in the next window")
	}
	if err := a.Fail(ctx, "client:x"); err != nil {
		t.Fatal(err)
	}
	// Each node prunes ended windows at most once a window.
	if len(rates.pruned) != 2 {
		t.Errorf("pruned %d times, want once per node so far", len(rates.pruned))
	}
	clock.Advance(time.Minute)
	if err := a.Fail(ctx, "client:x"); err != nil {
		t.Fatal(err)
	}
	// Only windows older than the horizon go: the table holds request
	// limiters' counters too, whose windows may be longer than this one.
	if len(rates.pruned) != 3 || !rates.pruned[2].Equal(time.Date(2025, 3, 1, 11, 2, 0, 0, time.UTC)) {
		t.Errorf("old windows pruned before %v; want an hour before now (pruneHorizon)", rates.pruned)
	}
}

// TestSharedTokenLimit: two servers whose store keeps rate counters limit
// failed token requests together: failures on one count on the other.
func TestSharedTokenLimit(t *testing.T) {
	rates := &memRates{counts: map[string]int{}}
	type ratedStore struct {
		callvault.Store
		*memRates
	}
	opt := func(c *Config) {
		c.Store = ratedStore{Store: c.Store, memRates: rates}
		c.TokenFailures = 2
	}
	nodeA, nodeB := newTestEnv(t, opt), newTestEnv(t, opt)
	cc := oaForm("grant_type", gtCC)
	for range 2 {
		wantOAuthError(t, nodeA.PostForm(t, "/oauth/token", "app_nosuch", "cvcs_wrong", cc), http.StatusUnauthorized, "invalid_client")
	}
	wantOAuthError(t, nodeB.PostForm(t, "/oauth/token", "app_nosuch", "cvcs_wrong", cc), http.StatusTooManyRequests, "too_many_requests")
}
