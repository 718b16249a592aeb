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
//   - /health/ready: the dependencies answer and the service is not draining;
//     a 503 takes the pod out of the Service's endpoints.
//   - /health: every check with its status and duration, for people.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skillmesh/skillmesh/internal/contract"
)

// CheckFunc reports whether one dependency answers; nil means healthy.
type CheckFunc func(ctx context.Context) error

// Result is one check's outcome.
type Result struct {
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// Report is the body of /health and /health/ready.
type Report struct {
	Status   string            `json:"status"`
	Draining bool              `json:"draining,omitempty"`
	Checks   map[string]Result `json:"checks"`
}

const (
	statusUp   = "up"
	statusDown = "down"
)

// Checker runs named readiness checks concurrently, each under a timeout.
type Checker struct {
	timeout  time.Duration
	mu       sync.RWMutex
	checks   map[string]CheckFunc
	draining atomic.Bool
}

// New returns a Checker whose checks each get timeout to answer.
func New(timeout time.Duration) *Checker {
	return &Checker{timeout: timeout, checks: map[string]CheckFunc{}}
}

// Add registers a readiness check under name (e.g. "database", "broker").
func (c *Checker) Add(name string, check CheckFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = check
}

// Drain makes readiness fail from now on, so the endpoints controller takes
// the pod out of rotation before the server stops accepting connections.
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining reports whether Drain was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Run executes every check in parallel and reports them all.
func (c *Checker) Run(ctx context.Context) Report {
	c.mu.RLock()
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		names = append(names, n)
	}
	slices.Sort(names)
	checks := make([]CheckFunc, len(names))
	for i, n := range names {
		checks[i] = c.checks[n]
	}
	c.mu.RUnlock()

	results := make([]Result, len(names))
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			start := time.Now()
			err := check(cctx)
			r := Result{Status: statusUp, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				r.Status, r.Error = statusDown, err.Error()
			}
			results[i] = r
		})
	}
	wg.Wait()

	rep := Report{Status: statusUp, Draining: c.Draining(), Checks: make(map[string]Result, len(names))}
	for i, n := range names {
		rep.Checks[n] = results[i]
		if results[i].Status != statusUp {
			rep.Status = statusDown
		}
	}
	if rep.Draining {
		rep.Status = statusDown
	}
	return rep
}

// LiveHandler answers 200 whenever the process can run a handler at all.
func (c *Checker) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		write(w, http.StatusOK, map[string]string{"status": statusUp})
	})
}

// ReadyHandler answers 200 when every check passes and the service is not
// draining, 503 otherwise, with the report either way.
func (c *Checker) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := c.Run(r.Context())
		code := http.StatusOK
		if rep.Status != statusUp {
			code = http.StatusServiceUnavailable
		}
		write(w, code, rep)
	})
}

// Register mounts /health, /health/live and /health/ready on mux. /health is
// the readiness report, so a person sees what the probes see.
func (c *Checker) Register(mux *http.ServeMux) {
	mux.Handle("GET "+contract.PathHealth, c.ReadyHandler())
	mux.Handle("GET "+contract.PathLiveness, c.LiveHandler())
	mux.Handle("GET "+contract.PathReadiness, c.ReadyHandler())
}

func write(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
