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

package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// A large answer goes through as it comes. Of unknown length (chunked: a
// stream), the backend sends its first megabyte and waits until the client
// has it before it sends the rest: a gateway that held what it had would
// never pass it on, and the test would time out. Of either kind, one that
// buffered the answer would grow by its size.
func TestA_large_answer_is_streamed_not_buffered(t *testing.T) {
	const part = 1 << 20
	const parts = 10
	got := make(chan struct{}, 1)
	b := newBackend(t, 0, 200, nil)
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("length") == "known" {
			w.Header().Set("Content-Length", fmt.Sprint(part*parts))
		}
		chunk := bytes.Repeat([]byte("x"), part)
		for i := range parts {
			_, _ = w.Write(chunk)
			w.(http.Flusher).Flush()
			if i == 0 && r.URL.Query().Get("length") != "known" {
				select {
				case <-got:
				case <-time.After(10 * time.Second):
					return // the gateway held the first part back
				}
			}
		}
	})
	url, _ := startGateway(t, gatewayconfig.Config{Routes: []gatewayconfig.Route{
		{PathPrefix: "/api/big", Service: "big", Upstream: b.URL, StripPrefix: true, Timeout: dur(30 * time.Second)},
	}})
	for _, length := range []string{"known", "chunked"} {
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		resp, err := http.Get(url + "/api/big/file?length=" + length)
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, part)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatalf("%s: the first megabyte: %v", length, err)
		}
		got <- struct{}{}
		rest, err := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil || rest != part*(parts-1) {
			t.Fatalf("%s: the rest: %d bytes, %v", length, rest, err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		// The gateway runs in this process: its heap is this heap.
		if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 4<<20 {
			t.Errorf("%s: the heap grew by %d MiB over a 10 MiB answer", length, grew>>20)
		}
	}
}

// counting is a backend that counts its calls and answers after delay.
type counting struct {
	url   string
	calls atomic.Int64
}

func newCounting(t *testing.T, delay time.Duration) *counting {
	c := &counting{}
	b := newBackend(t, 0, 200, nil)
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.calls.Add(1)
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "auth": r.Header.Get("Authorization")})
	})
	c.url = b.URL
	return c
}

func TestIdentical_calls_in_flight_share_one_answer_and_callers_never_share_across_identities(t *testing.T) {
	shared, own := newCounting(t, 300*time.Millisecond), newCounting(t, 300*time.Millisecond)
	off := false
	url, _ := startGateway(t, gatewayconfig.Config{Aggregations: []gatewayconfig.Aggregation{{
		Path: "/users/{user_id}/dashboard", Timeout: dur(5 * time.Second), OnError: "partial",
		Backends: []gatewayconfig.Backend{
			{Key: "shared", Service: "shared", Upstream: shared.url, Path: "/users/{user_id}"},
			{Key: "own", Service: "own", Upstream: own.url, Path: "/users/{user_id}", Coalesce: &off},
		},
		Compute: map[string]string{"path": "shared.path"},
	}}})
	// Ten dashboards at once: five for ada with one token, five for grace,
	// three of whose callers carry another token.
	type result struct {
		user, auth string
		body       map[string]any
	}
	results := make(chan result, 10)
	var wg sync.WaitGroup
	for i := range 10 {
		user, auth := "ada", "Bearer a"
		if i >= 5 {
			user, auth = "grace", "Bearer g"
			if i >= 7 {
				auth = "Bearer g2"
			}
		}
		wg.Go(func() {
			a := call(t, http.MethodGet, url+"/users/"+user+"/dashboard", nil, map[string]string{"Authorization": auth})
			if a.status != 200 {
				t.Errorf("%s: %d %v", user, a.status, a.body)
			}
			results <- result{user: user, auth: auth, body: a.body}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		s, _ := r.body["shared"].(map[string]any)
		if s["path"] != "/users/"+r.user || s["auth"] != r.auth || r.body["path"] != "/users/"+r.user {
			t.Errorf("%s (%s) got %v", r.user, r.auth, r.body)
		}
	}
	// ada: one call; grace: one per token.
	if n := shared.calls.Load(); n != 3 {
		t.Errorf("the coalescing backend had %d calls for 10 dashboards of 3 identities, want 3", n)
	}
	if n := own.calls.Load(); n != 10 {
		t.Errorf("the backend with coalesce off had %d calls, want 10", n)
	}
	// Once the calls are over nothing is remembered: no cache.
	call(t, http.MethodGet, url+"/users/ada/dashboard", nil, map[string]string{"Authorization": "Bearer a"})
	if n := shared.calls.Load(); n != 4 {
		t.Errorf("a later dashboard did not call the backend again (%d calls)", n)
	}
}

// The router remembers which route a path took; a remembered path must
// still give each request its own path values, methods the cache does not
// hold must still route, and an unclean path is still the mux's to
// redirect.
func TestRemembered_paths_route_exactly_as_the_first_time(t *testing.T) {
	e := newEcho(t)
	url, _ := startGateway(t, gatewayconfig.Config{
		Routes: []gatewayconfig.Route{
			{PathPrefix: "/api/users/{user_id}", Service: "echo", Upstream: e.url, ReplacePrefix: "/users", Timeout: dur(5 * time.Second)},
			{PathPrefix: "/api/users/{user_id}/special", Service: "echo", Upstream: e.url, ReplacePrefix: "/special", Timeout: dur(5 * time.Second)},
		},
	})
	for range 3 {
		for _, tc := range []struct{ method, path, want string }{
			{http.MethodGet, "/api/users/ada/skills", "/users/ada/skills"},
			{http.MethodGet, "/api/users/grace/skills", "/users/grace/skills"},
			{http.MethodGet, "/api/users/ada/special/x", "/special/ada/special/x"},
			{http.MethodPost, "/api/users/ada/skills", "/users/ada/skills"},
			{http.MethodGet, "/api/users/ada", "/users/ada"},
		} {
			a := call(t, tc.method, url+tc.path, strings.NewReader(""), nil)
			if a.status != 200 || a.body["path"] != tc.want {
				t.Errorf("%s %s: %d %v, want the backend to see %s", tc.method, tc.path, a.status, a.body, tc.want)
			}
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url + "/api/users/ada/../grace/skills")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/api/users/grace/skills" {
		t.Errorf("an unclean path = %d to %q, want the mux's redirect to the clean one", resp.StatusCode, resp.Header.Get("Location"))
	}
	if a := call(t, http.MethodGet, url+"/nowhere", nil, nil); a.status != 404 {
		t.Errorf("an unrouted path = %d", a.status)
	}
}

func TestThe_answer_carries_one_request_ID_and_the_backend_gets_it(t *testing.T) {
	var seen atomic.Value
	b := newBackend(t, 0, 200, nil)
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(strings.Join(r.Header.Values("X-Request-ID"), ","))
		// The services answer with the ID they were given.
		w.Header().Set("X-Request-ID", r.Header.Get("X-Request-ID"))
		_, _ = io.WriteString(w, "{}")
	})
	url, _ := startGateway(t, gatewayconfig.Config{Routes: []gatewayconfig.Route{
		{PathPrefix: "/api", Service: "b", Upstream: b.URL, StripPrefix: true, Timeout: dur(5 * time.Second)},
	}})
	for _, sent := range []string{"req-42", ""} {
		headers := map[string]string{}
		if sent != "" {
			headers["X-Request-ID"] = sent
		}
		a := call(t, http.MethodGet, url+"/api/x", nil, headers)
		ids := a.header.Values("X-Request-ID")
		if len(ids) != 1 || sent != "" && ids[0] != sent || seen.Load() != ids[0] {
			t.Errorf("sent %q: the answer has %q, the backend saw %q", sent, ids, seen.Load())
		}
	}
}
