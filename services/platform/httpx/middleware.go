/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HeaderRequestID carries a request's ID across services.
const HeaderRequestID = "X-Request-ID"

// KeyRequestID is HeaderRequestID in the canonical form http.Header keys
// have: indexing the map with it skips canonicalising (an allocation) on
// every request.
var KeyRequestID = http.CanonicalHeaderKey(HeaderRequestID)

type requestIDKey struct{}

// idContext carries a request's ID. Value answers a pointer to the field,
// so reading the ID boxes nothing.
type idContext struct {
	context.Context
	id string
}

func (c *idContext) Value(key any) any {
	if key == (requestIDKey{}) {
		return &c.id
	}
	return c.Context.Value(key)
}

// RequestID returns the ID of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(*string); ok {
		return *id
	}
	return ""
}

// WithRequestID returns ctx carrying id, for outgoing calls made outside a
// request (event handlers).
func WithRequestID(ctx context.Context, id string) context.Context {
	return &idContext{Context: ctx, id: id}
}

// NewRequestID is 16 random hex characters.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var out [16]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// validRequestID accepts what a well-behaved caller sends and refuses what
// could poison logs (control characters, unbounded length).
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// statusRecorder remembers what the handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Metrics are the per-route request counters and latency histograms.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// series are the ones already looked up, by route, method and status:
	// a label lookup hashes every label on every request.
	mu     sync.RWMutex
	series map[seriesKey]series
}

type seriesKey struct {
	route, method string
	status        int
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// maxSeries bounds the series remembered (routes × methods × statuses is
// small; a client inventing methods is not allowed to grow it).
const maxSeries = 4096

func (m *Metrics) lookup(route, method string, status int) series {
	k := seriesKey{route: route, method: method, status: status}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if ok {
		return s
	}
	s = series{requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		latency: m.latency.WithLabelValues(route)}
	m.mu.Lock()
	if len(m.series) < maxSeries {
		m.series[k] = s
	}
	m.mu.Unlock()
	return s
}

// NewMetrics registers the HTTP metrics of service on reg.
func NewMetrics(reg prometheus.Registerer, service string) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "http_requests_total",
			Help:        "HTTP requests served, by route pattern, method and status code.",
			ConstLabels: prometheus.Labels{"service": service},
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "http_request_duration_seconds",
			Help:        "HTTP request latency, by route pattern.",
			ConstLabels: prometheus.Labels{"service": service},
			Buckets:     prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		series: map[seriesKey]series{},
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// requestState is what Instrument keeps per request, allocated once: the
// context carrying its ID and the recorder of its answer.
type requestState struct {
	ctx idContext
	rec statusRecorder
	idv [1]string // the answer's X-Request-ID value
}

// Instrument wraps the service's mux: it gives every request an ID (the
// caller's X-Request-ID when it sent a sane one), answers with it, logs one
// line per request and records metrics by the route pattern the mux chose,
// never by raw path, so /users/{user_id} stays one series.
func Instrument(next http.Handler, logger *slog.Logger, m *Metrics) http.Handler {
	fast, _ := logger.Handler().(*JSONHandler)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var id string
		if vs := r.Header[KeyRequestID]; len(vs) > 0 && validRequestID(vs[0]) {
			id = vs[0]
		} else {
			id = NewRequestID()
		}
		st := &requestState{ctx: idContext{Context: r.Context(), id: id}, rec: statusRecorder{ResponseWriter: w}, idv: [1]string{id}}
		w.Header()[KeyRequestID] = st.idv[:]
		r = r.WithContext(&st.ctx)
		rec := &st.rec
		next.ServeHTTP(rec, r)

		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		if m != nil {
			s := m.lookup(route, r.Method, rec.status)
			s.requests.Inc()
			s.latency.Observe(elapsed.Seconds())
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		if fast != nil && fast.logRequest(r.Context(), level, start.Add(elapsed), requestLine{id: id, method: r.Method,
			path: r.URL.Path, route: route, status: rec.status, bytes: rec.bytes, duration: elapsed}) {
			return
		}
		logger.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Duration("duration", elapsed))
	})
}
