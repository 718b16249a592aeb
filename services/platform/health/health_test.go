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

package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/health"
)

func get(t *testing.T, url string) (int, health.Report) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var rep health.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep
}

func serve(t *testing.T, c *health.Checker) string {
	t.Helper()
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestReady_reports_critical_checks_and_fails_on_any(t *testing.T) {
	dbDown := errors.New("dial tcp 127.0.0.1:5432: connection refused")
	var dbErr error
	c := health.New(time.Second)
	c.Add("database", func(context.Context) error { return dbErr })
	c.Add("broker", func(context.Context) error { return nil })
	url := serve(t, c)

	code, rep := get(t, url+"/health/ready")
	if code != http.StatusOK || rep.Status != health.StatusPass || len(rep.Checks) != 2 {
		t.Fatalf("all up: %d %+v", code, rep)
	}
	dbErr = dbDown
	code, rep = get(t, url+"/health")
	if code != http.StatusServiceUnavailable || rep.Status != health.StatusFail || rep.Checks["database"].Status != health.StatusFail ||
		rep.Checks["database"].Output != dbDown.Error() || rep.Checks["broker"].Status != health.StatusPass {
		t.Fatalf("database down: %d %+v", code, rep)
	}
}

func TestLive_never_checks_dependencies(t *testing.T) {
	c := health.New(time.Second)
	called := false
	c.Add("database", func(context.Context) error { called = true; return errors.New("down") })
	url := serve(t, c)
	if code, _ := get(t, url+"/health/live"); code != http.StatusOK {
		t.Errorf("live = %d, want 200 while a dependency is down", code)
	}
	if called {
		t.Errorf("liveness ran a dependency check")
	}
}

func TestReady_fails_while_draining(t *testing.T) {
	c := health.New(time.Second)
	url := serve(t, c)
	c.Drain()
	code, rep := get(t, url+"/health/ready")
	if code != http.StatusServiceUnavailable || !rep.Draining {
		t.Errorf("draining: %d %+v", code, rep)
	}
	if code, _ := get(t, url+"/health/live"); code != http.StatusOK {
		t.Errorf("a draining process is still alive, got %d", code)
	}
}

func TestChecks_run_in_parallel_under_a_timeout(t *testing.T) {
	c := health.New(200 * time.Millisecond)
	c.Add("hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	c.Add("slow", func(ctx context.Context) error {
		select {
		case <-time.After(time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	rep := c.Run(context.Background())
	if rep.Checks["hangs"].Status != health.StatusFail || rep.Checks["slow"].Status != health.StatusPass {
		t.Errorf("report = %+v", rep)
	}
	if rep.Checks["hangs"].DurationMS <= 0 {
		t.Errorf("durations are reported, got %+v", rep.Checks["hangs"])
	}
}

func TestNonCritical_failure_warns_and_keeps_the_pod_ready(t *testing.T) {
	brokerDown := errors.New("dial tcp 10.96.0.9:6379: connection refused")
	var brokerErr error
	backlog := 0.0
	c := health.New(time.Second)
	c.Add("database", func(context.Context) error { return nil })
	c.Add("broker", func(context.Context) error { return brokerErr }, health.NonCritical(),
		health.Observe(func(context.Context) (any, string, error) { return backlog, "events waiting in the outbox", nil }))
	url := serve(t, c)

	code, rep := get(t, url+"/health/ready")
	if code != http.StatusOK || len(rep.Checks) != 1 || rep.Checks["database"].Status != health.StatusPass {
		t.Fatalf("readiness checks only what serving needs: %d %+v", code, rep)
	}
	code, rep = get(t, url+"/health")
	if code != http.StatusOK || rep.Status != health.StatusPass || rep.Checks["broker"].Critical {
		t.Fatalf("all pass: %d %+v", code, rep)
	}

	brokerErr, backlog = brokerDown, 7
	code, rep = get(t, url+"/health/ready")
	if code != http.StatusOK || rep.Status != health.StatusPass {
		t.Errorf("broker down must not take the pod out of rotation: %d %+v", code, rep)
	}
	code, rep = get(t, url+"/health")
	b := rep.Checks["broker"]
	if code != http.StatusOK || rep.Status != health.StatusWarn || b.Status != health.StatusWarn ||
		b.Output != brokerDown.Error() || b.ObservedValue != 7.0 ||
		b.ObservedUnit != "events waiting in the outbox" {
		t.Errorf("broker down: /health = %d %+v, want 200 warn with the backlog", code, rep)
	}
}

func TestReport_has_the_drafts_media_type(t *testing.T) {
	url := serve(t, health.New(time.Second))
	for _, path := range []string{"/health", "/health/ready", "/health/live"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != health.ContentType {
			t.Errorf("%s Content-Type = %q, want %q", path, ct, health.ContentType)
		}
	}
}

func TestObserve_reports_even_when_the_check_used_up_its_time(t *testing.T) {
	c := health.New(50 * time.Millisecond)
	c.Add("broker", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, health.NonCritical(),
		health.Observe(func(ctx context.Context) (any, string, error) {
			return 3.0, "events waiting in the outbox", ctx.Err()
		}))
	b := c.Run(context.Background()).Checks["broker"]
	if b.Status != health.StatusWarn || b.ObservedValue != 3.0 {
		t.Errorf("a hanging broker: %+v, want warn with the backlog", b)
	}
}
