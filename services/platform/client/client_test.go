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

package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/client"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// backend is a real HTTP server on loopback that answers with fail until
// okAfter calls have been made, then 200.
type backend struct {
	calls   atomic.Int64
	okAfter int64
	fail    int
	delay   time.Duration
	lastID  atomic.Value
}

func (b *backend) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := b.calls.Add(1)
		b.lastID.Store(r.Header.Get(httpx.HeaderRequestID))
		if b.delay > 0 {
			select {
			case <-time.After(b.delay):
			case <-r.Context().Done():
				return
			}
		}
		if n <= b.okAfter {
			httpx.WriteError(w, httpx.Errorf(b.fail, "unavailable", "try later"))
			return
		}
		httpx.Encode(w, 200, map[string]string{"user_id": "u1"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, url string, opts client.Options) *client.Client {
	t.Helper()
	opts.Name = "skills"
	c, err := client.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGet_decodes_and_passes_the_request_ID(t *testing.T) {
	b := &backend{}
	c := newClient(t, b.start(t), client.Options{})
	var out struct {
		UserID string `json:"user_id"`
	}
	ctx := httpx.WithRequestID(context.Background(), "req-42")
	if err := c.GetJSON(ctx, "/users/u1/skills", &out); err != nil {
		t.Fatal(err)
	}
	if out.UserID != "u1" || b.lastID.Load() != "req-42" {
		t.Errorf("out = %+v, request id seen = %v", out, b.lastID.Load())
	}
}

func TestGet_retries_transient_failures(t *testing.T) {
	b := &backend{okAfter: 2, fail: http.StatusServiceUnavailable}
	c := newClient(t, b.start(t), client.Options{Retries: 2, Backoff: time.Millisecond})
	if err := c.GetJSON(context.Background(), "/x", nil); err != nil {
		t.Fatalf("want success on the third attempt, got %v", err)
	}
	if n := b.calls.Load(); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
}

func TestPost_is_never_retried(t *testing.T) {
	b := &backend{okAfter: 1, fail: http.StatusServiceUnavailable}
	c := newClient(t, b.start(t), client.Options{Retries: 3, Backoff: time.Millisecond})
	err := c.PostJSON(context.Background(), "/x", map[string]string{"a": "b"}, nil)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Status != 503 || se.Code != "unavailable" {
		t.Fatalf("err = %v", err)
	}
	if n := b.calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1: a POST may not be repeated", n)
	}
}

func TestClient_errors_are_not_retried_and_do_not_open_the_breaker(t *testing.T) {
	b := &backend{okAfter: 1 << 30, fail: http.StatusNotFound}
	c := newClient(t, b.start(t), client.Options{Retries: 3, BreakerFailures: 2})
	for range 5 {
		if err := c.GetJSON(context.Background(), "/users/nobody/skills", nil); !client.IsNotFound(err) {
			t.Fatalf("err = %v, want a 404 StatusError", err)
		}
	}
	if n := b.calls.Load(); n != 5 {
		t.Errorf("calls = %d, want 5 (no retries of a 404)", n)
	}
	if c.BreakerOpen() {
		t.Errorf("404s opened the breaker")
	}
}

func TestCall_gives_up_at_its_deadline(t *testing.T) {
	b := &backend{delay: 5 * time.Second}
	c := newClient(t, b.start(t), client.Options{Timeout: 100 * time.Millisecond, Retries: -1})
	err := c.GetJSON(context.Background(), "/slow", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestBreaker_opens_after_repeated_failures_and_stops_calling(t *testing.T) {
	b := &backend{okAfter: 1 << 30, fail: http.StatusInternalServerError}
	c := newClient(t, b.start(t), client.Options{Retries: -1, BreakerFailures: 3, BreakerOpenFor: time.Minute})
	for range 3 {
		_ = c.GetJSON(context.Background(), "/x", nil)
	}
	if !c.BreakerOpen() {
		t.Fatalf("breaker still closed after 3 failures")
	}
	before := b.calls.Load()
	err := c.GetJSON(context.Background(), "/x", nil)
	if !errors.Is(err, client.ErrCircuitOpen) {
		t.Errorf("err = %v, want ErrCircuitOpen", err)
	}
	if b.calls.Load() != before {
		t.Errorf("an open breaker still sent a request")
	}
}

func TestBreaker_closes_again_after_a_successful_trial(t *testing.T) {
	b := &backend{okAfter: 2, fail: http.StatusInternalServerError}
	c := newClient(t, b.start(t), client.Options{Retries: -1, BreakerFailures: 2, BreakerOpenFor: 50 * time.Millisecond})
	_ = c.GetJSON(context.Background(), "/x", nil)
	_ = c.GetJSON(context.Background(), "/x", nil)
	if !c.BreakerOpen() {
		t.Fatalf("breaker should be open")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := c.GetJSON(context.Background(), "/x", nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("breaker never let a trial call through: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c.BreakerOpen() {
		t.Errorf("breaker still open after a successful trial")
	}
}

func TestNew_rejects_bad_URLs(t *testing.T) {
	for _, u := range []string{"", "skills:8080", "ftp://skills", "http://"} {
		if _, err := client.New(u, client.Options{Name: "skills"}); err == nil {
			t.Errorf("New(%q) accepted a bad URL", u)
		}
	}
}
