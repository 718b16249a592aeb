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

// Package health serves the three health endpoints every bundled service
// has, with the meaning Kubernetes probes give them:
//
//   - /health/live: the process can serve. It never checks a dependency, so a
//     database outage does not make the kubelet restart every pod at once.
//   - /health/ready: the service can answer requests: its critical checks
//     (its own database) pass and it is not draining; a 503 takes the pod
//     out of the Service's endpoints. A non-critical check (the broker,
//     whose events wait in the outbox while it is away) never fails it.
//   - /health: every check with its status, duration and observed value,
//     for people, in the style of the IETF health-check draft
//     (draft-inadarei-api-health-check): pass, warn (a non-critical check
//     fails) or fail.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skillmesh/skillmesh/internal/contract"
)

// CheckFunc reports whether one dependency answers; nil means healthy.
type CheckFunc func(ctx context.Context) error

// ObserveFunc measures a value that tells a person how a dependency's
// absence is felt (the events waiting in the outbox beside the broker) or
// what it is (the hash of the configuration a gateway serves): any JSON
// value, as the draft allows.
type ObserveFunc func(ctx context.Context) (value any, unit string, err error)

// The statuses of the IETF health-check draft.
const (
	StatusPass = "pass"
	StatusWarn = "warn"
	StatusFail = "fail"
)

// ContentType is the draft's media type for a health report.
const ContentType = "application/health+json"

// Result is one check's outcome.
type Result struct {
	Status string `json:"status"`
	// Critical tells whether the check decides readiness.
	Critical      bool    `json:"critical"`
	DurationMS    float64 `json:"duration_ms"`
	Output        string  `json:"output,omitempty"`
	ObservedValue any     `json:"observedValue,omitempty"`
	ObservedUnit  string  `json:"observedUnit,omitempty"`
}

// Report is the body of /health and /health/ready.
type Report struct {
	Status   string            `json:"status"`
	Draining bool              `json:"draining,omitempty"`
	Checks   map[string]Result `json:"checks"`
}

// Option changes how a check counts.
type Option func(*check)

// NonCritical makes a failing check a warning: it shows in /health and
// never takes the pod out of rotation.
func NonCritical() Option { return func(c *check) { c.critical = false } }

// Observe adds observe's value to the check's result, pass or not.
func Observe(observe ObserveFunc) Option { return func(c *check) { c.observe = observe } }

type check struct {
	name     string
	run      CheckFunc
	critical bool
	observe  ObserveFunc
}

// Checker runs named checks concurrently, each under a timeout.
type Checker struct {
	timeout  time.Duration
	mu       sync.RWMutex
	checks   map[string]check
	draining atomic.Bool
}

// New returns a Checker whose checks each get timeout to answer.
func New(timeout time.Duration) *Checker {
	return &Checker{timeout: timeout, checks: map[string]check{}}
}

// Add registers a check under name (e.g. "database", "broker"); it is
// critical (decides readiness) unless an option says otherwise.
func (c *Checker) Add(name string, run CheckFunc, opts ...Option) {
	ch := check{name: name, run: run, critical: true}
	for _, o := range opts {
		o(&ch)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = ch
}

// Drain makes readiness fail from now on, so the endpoints controller takes
// the pod out of rotation before the server stops accepting connections.
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining reports whether Drain was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Run executes every check in parallel and reports them all: fail when a
// critical check fails or the service drains, warn when only non-critical
// ones fail, pass otherwise.
func (c *Checker) Run(ctx context.Context) Report { return c.run(ctx, false) }

// Ready executes the critical checks only: the readiness probe's answer
// must not wait on, or depend on, what it does not need to serve.
func (c *Checker) Ready(ctx context.Context) Report { return c.run(ctx, true) }

func (c *Checker) run(ctx context.Context, criticalOnly bool) Report {
	c.mu.RLock()
	checks := make([]check, 0, len(c.checks))
	for _, ch := range c.checks {
		if ch.critical || !criticalOnly {
			checks = append(checks, ch)
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(checks, func(a, b check) int { return strings.Compare(a.name, b.name) })

	results := make([]Result, len(checks))
	var wg sync.WaitGroup
	for i, ch := range checks {
		wg.Go(func() { results[i] = c.runOne(ctx, ch) })
	}
	wg.Wait()

	rep := Report{Status: StatusPass, Draining: c.Draining(), Checks: make(map[string]Result, len(checks))}
	for i, ch := range checks {
		rep.Checks[ch.name] = results[i]
		switch {
		case results[i].Status == StatusPass:
		case ch.critical:
			rep.Status = StatusFail
		case rep.Status == StatusPass:
			rep.Status = StatusWarn
		}
	}
	if rep.Draining {
		rep.Status = StatusFail
	}
	return rep
}

func (c *Checker) runOne(ctx context.Context, ch check) Result {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	err := ch.run(cctx)
	r := Result{Status: StatusPass, Critical: ch.critical, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		r.Status, r.Output = StatusFail, err.Error()
		if !ch.critical {
			r.Status = StatusWarn
		}
	}
	if ch.observe != nil {
		// A timeout of its own: a check that used up its time (a broker that
		// does not answer) is when the observed value matters most.
		octx, ocancel := context.WithTimeout(ctx, c.timeout)
		defer ocancel()
		if v, unit, oerr := ch.observe(octx); oerr == nil {
			r.ObservedValue, r.ObservedUnit = v, unit
		}
	}
	return r
}

// LiveHandler answers 200 whenever the process can run a handler at all.
func (c *Checker) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		write(w, http.StatusOK, map[string]string{"status": StatusPass})
	})
}

// ReadyHandler answers 200 when every critical check passes and the service
// is not draining, 503 otherwise, with the report either way.
func (c *Checker) ReadyHandler() http.Handler {
	return c.handler(c.Ready)
}

// ReportHandler answers every check: 200 on pass or warn, 503 on fail.
func (c *Checker) ReportHandler() http.Handler {
	return c.handler(c.Run)
}

func (c *Checker) handler(run func(context.Context) Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := run(r.Context())
		code := http.StatusOK
		if rep.Status == StatusFail {
			code = http.StatusServiceUnavailable
		}
		write(w, code, rep)
	})
}

// Register mounts /health, /health/live and /health/ready on mux.
func (c *Checker) Register(mux *http.ServeMux) {
	mux.Handle("GET "+contract.PathHealth, c.ReportHandler())
	mux.Handle("GET "+contract.PathLiveness, c.LiveHandler())
	mux.Handle("GET "+contract.PathReadiness, c.ReadyHandler())
}

func write(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
