package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycd/kycd"
)

// Metrics are the server's Prometheus collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kycd_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kycd_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
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

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type ctxKey int

const principalKey ctxKey = iota

func requestID(r *http.Request) string { return kycd.RequestIDFromContext(r.Context()) }

// observe is the outermost middleware: request id, panic recovery, access
// log (ids only: no query strings, bodies or personal data) and metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
		}
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		// Both Uphold surfaces document it as required on every answer.
		if strings.HasPrefix(r.URL.Path, "/core/") || strings.HasPrefix(r.URL.Path, "/kyc-connector/") {
			h.Set("X-Uphold-Request-Id", id)
		}
		// Responses of every surface carry personal data (users, checks,
		// applications, ingestions, codes in the sandbox's outbox): no cache
		// keeps any response unless its handler says otherwise (the
		// list of countries does). A list of surfaces missed the new ones.
		h.Set("Cache-Control", "no-store")
		ctx := kycd.NewContextWithRequestID(r.Context(), id)
		ctx = context.WithValue(ctx, principalKey, &requestState{})
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.LogAttrs(ctx, slog.LevelError, "panic", slog.String("request_id", id),
					slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					s.renderFor(r)(sw, r, fmt.Errorf("panic: %v", p))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			s.metrics.latency.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
			attrs := []slog.Attr{
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", status), slog.Int64("bytes", sw.bytes), slog.Duration("duration", elapsed),
			}
			if p := principalFrom(r.Context()); p != nil {
				attrs = append(attrs, slog.String("client_id", p.ClientID), slog.String("tenant_id", p.TenantID))
				if p.UserID != "" {
					attrs = append(attrs, slog.String("user_id", p.UserID))
				}
			}
			s.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}()
		s.limitBody(sw, r)
		next.ServeHTTP(sw, r)
	})
}

// renderFor picks the error renderer of the surface a path belongs to.
func (s *Server) renderFor(r *http.Request) func(http.ResponseWriter, *http.Request, error) {
	if strings.HasPrefix(r.URL.Path, "/core/") || strings.HasPrefix(r.URL.Path, "/kyc-connector/") {
		return s.renderCore
	}
	return s.renderProblem
}

// handlerFunc is a handler that returns its error for one place to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// core adapts a handler of the Uphold-compatible surface.
func (s *Server) core(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkText(r); err != nil {
			s.renderCore(w, r, err)
		} else if err := h(w, r); err != nil {
			s.renderCore(w, r, err)
		}
	})
}

// plain adapts a handler of the operator surface (problem+json errors).
func (s *Server) plain(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkText(r); err != nil {
			s.renderProblem(w, r, err)
		} else if err := h(w, r); err != nil {
			s.renderProblem(w, r, err)
		}
	})
}

// requestState is filled in as a request is handled, so that the outermost
// middleware can log who made it.
type requestState struct {
	principal *principal
}

func setPrincipal(ctx context.Context, p *principal) {
	if st, ok := ctx.Value(principalKey).(*requestState); ok {
		st.principal = p
	}
}

func principalFrom(ctx context.Context) *principal {
	if st, ok := ctx.Value(principalKey).(*requestState); ok {
		return st.principal
	}
	return nil
}
