// Package http is callvault's native API: the server, the route table
// (routes.go), authentication, middleware, the OAuth 2.0 endpoints, admin
// CRUD and the audit query. Every route declares the access.Action it
// performs; the wrapper in auth.go authenticates, asks the permission engine,
// audits denials and renders every error in one place (problem.go).
package http

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/access"
	"github.com/callvault/callvault/internal/audit"
	"github.com/callvault/callvault/internal/blob"
	"github.com/callvault/callvault/internal/callvault"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is what a Server needs.
type Config struct {
	Store  callvault.Store
	Audit  *audit.Writer
	Logger *slog.Logger
	// BaseURL is the public base URL; absolute URIs in responses start with it.
	BaseURL string
	// Region is this server's region.
	Region string
	// JWTKey signs the user JWT credentials of the jwt-bearer grant.
	JWTKey ed25519.PrivateKey
	// CursorKey signs pagination cursors.
	CursorKey []byte
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// AccessTTL and RefreshTTL are token lifetimes (1 h and 30 days when 0).
	AccessTTL, RefreshTTL time.Duration
	// AuditReads records every successful data read in the audit trail.
	AuditReads bool
	// MaxBodyBytes limits request bodies (1 MiB when 0).
	MaxBodyBytes int64
	// TokenFailures is how many failed token requests a client id or
	// address may make per TokenFailureWindow before 429 (10 per minute
	// when 0).
	TokenFailures      int
	TokenFailureWindow time.Duration
	// Limiter counts failed token requests. When nil: NewStoreLimiter over
	// Store if it keeps rate counters (callvault.RateLimitStore, so every
	// node sharing the store counts together), NewMemoryLimiter otherwise;
	// both with TokenFailures per TokenFailureWindow.
	Limiter Limiter
	// RequestLimiter counts the API faces' requests (their request
	// limits). When nil: NewStoreRequestLimiter over Store if it is a
	// callvault.RequestRateStore (PostgreSQL: every node sharing the
	// database counts together), NewMemoryRequestLimiter otherwise
	// (SQLite: one node, counted in its memory).
	RequestLimiter RequestLimiter
	// Registry receives the server's metrics; a new one when nil.
	Registry *prometheus.Registry
	// Blobs holds recording content; recording routes answer 503 when nil.
	Blobs blob.Store
	// BlobGuard serializes deletions of unused content with uploads; share
	// it with anything else deleting from Blobs (the retention purge). A
	// new one when nil.
	BlobGuard *blob.Guard
	// MaxRecordingBytes limits one recording upload (256 MiB when 0).
	MaxRecordingBytes int64
	// MaxBatchRecords limits the records or events of one ingest request
	// (10000 when 0), and MaxBatchBytes its body (32 MiB when 0).
	MaxBatchRecords int
	MaxBatchBytes   int64
	// Faces are API faces mounted next to the native routes (e.g. the
	// RingCentral-compatible /restapi/...).
	Faces []Face
}

// Server serves the native API.
type Server struct {
	cfg     Config
	store   callvault.Store
	audit   *audit.Writer
	engine  *access.Engine
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	routes  []Route
	metrics *metrics
	limiter Limiter
	reg     *prometheus.Registry
	// ingestQueue groups concurrent call batches into one commit.
	ingestQueue ingestQueue
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = time.Hour
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.TokenFailures == 0 {
		cfg.TokenFailures = 10
	}
	if cfg.TokenFailureWindow == 0 {
		cfg.TokenFailureWindow = time.Minute
	}
	if cfg.Limiter == nil {
		if rs, ok := cfg.Store.(callvault.RateLimitStore); ok {
			cfg.Limiter = NewStoreLimiter(rs, cfg.TokenFailures, cfg.TokenFailureWindow, cfg.Now)
		} else {
			cfg.Limiter = NewMemoryLimiter(cfg.TokenFailures, cfg.TokenFailureWindow, cfg.Now)
		}
	}
	if cfg.RequestLimiter == nil {
		if rs, ok := cfg.Store.(callvault.RequestRateStore); ok {
			cfg.RequestLimiter = NewStoreRequestLimiter(rs, cfg.Now)
		} else {
			cfg.RequestLimiter = NewMemoryRequestLimiter(cfg.Now)
		}
	}
	if cfg.BlobGuard == nil {
		cfg.BlobGuard = &blob.Guard{}
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxRecordingBytes == 0 {
		cfg.MaxRecordingBytes = 256 << 20
	}
	if cfg.MaxBatchRecords == 0 {
		cfg.MaxBatchRecords = 10000
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = 32 << 20
	}
	s := &Server{
		cfg:     cfg,
		store:   cfg.Store,
		audit:   cfg.Audit,
		engine:  &access.Engine{Now: cfg.Now},
		log:     cfg.Logger,
		now:     cfg.Now,
		mux:     http.NewServeMux(),
		limiter: cfg.Limiter,
		reg:     cfg.Registry,
	}
	s.metrics = newMetrics(cfg.Registry)
	s.routes = s.routeTable()
	for _, f := range cfg.Faces {
		s.routes = append(s.routes, f(s)...)
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("/", s.handleNoRoute)
	return s
}

// handleNoRoute answers requests no route matched: 405 with Allow when the
// path exists under other methods, 404 otherwise.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if _, _, ok := s.matchRoute(m, r.URL.Path); ok {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, &callvault.Error{Code: EMethodNotAllowed,
			Message: fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))})
		return
	}
	writeError(w, r, callvault.Errorf(callvault.ENotFound, "no route for %s %s", r.Method, r.URL.Path))
}

// EMethodNotAllowed is the native API's code for a known path requested
// with a method it does not serve.
const EMethodNotAllowed = "method_not_allowed"

// Routes returns the route table, for tests and documentation.
func (s *Server) Routes() []Route { return s.routes }

// Handler returns the server's http.Handler with its middleware.
func (s *Server) Handler() http.Handler {
	return s.requestID(s.recoverer(s.observe(s.mux)))
}

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// requestID keeps a well-formed incoming X-Request-Id or makes one, puts it
// in the context and on the response.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			id = callvault.NewID("req")
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "requestId", RequestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				writeError(w, r, callvault.Errorf(callvault.EInternal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe records metrics and logs each request (never its credentials).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(d.Seconds())
		s.log.Info("request", "requestId", RequestID(r.Context()), "method", r.Method, "route", route,
			"path", r.URL.Path, "status", sw.status, "bytes", sw.bytes, "duration", d)
	})
}

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	denials  *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callvault_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "callvault_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callvault_access_denials_total", Help: "Requests denied by the permission engine, by failing layer.",
		}, []string{"layer"}),
	}
	reg.MustRegister(m.requests, m.latency, m.denials,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
