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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/gateway"
	"github.com/skillmesh/skillmesh/services/platform/settings"
)

// backend is a real HTTP server on loopback with a delay and a status on demand.
type backend struct {
	*httptest.Server
	inFlight, maxInFlight atomic.Int64
	cancelled             atomic.Int64
}

func newBackend(t *testing.T, delay time.Duration, status int, body any) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := b.inFlight.Add(1)
		defer b.inFlight.Add(-1)
		for {
			m := b.maxInFlight.Load()
			if n <= m || b.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			b.cancelled.Add(1)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(b.Close)
	return b
}

// startGateway writes cfg and runs the gateway through its real Run,
// returning once it is ready.
func startGateway(t *testing.T, cfg gatewayconfig.Config, env ...string) (url, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), gatewayconfig.FileName)
	writeConfig(t, path, cfg)
	url = runGateway(t, path, env...)
	waitOK(t, url+"/health/ready")
	return url, path
}

// runGateway runs the gateway on the file at path, ready or not; env is
// more settings, as name, value pairs.
func runGateway(t *testing.T, path string, env ...string) (url string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	vars := map[string]string{
		"GATEWAY_CONFIG": path, "GATEWAY_RELOAD_INTERVAL": "50ms", "GATEWAY_DRAIN_DELAY": "0s", "GATEWAY_LOG_LEVEL": "error",
	}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	go func() { done <- gateway.Run(ctx, settings.FromMap(vars), io.Discard, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway stopped with %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// waitOK polls url until it answers 200.
func waitOK(t *testing.T, url string) {
	const want = http.StatusOK
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := 0
	for {
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
			if last = resp.StatusCode; last == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %d, want %d", url, last, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeConfig replaces the file atomically, as a ConfigMap volume does.
func writeConfig(t *testing.T, path string, cfg gatewayconfig.Config) {
	t.Helper()
	data, err := gatewayconfig.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, path, data)
}

func writeRaw(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func dur(d time.Duration) gatewayconfig.Duration { return gatewayconfig.Duration{Duration: d} }

func dashboard(onError string, timeout time.Duration, backends map[string]*backend, compute map[string]string) gatewayconfig.Config {
	agg := gatewayconfig.Aggregation{Path: "/users/{user_id}/dashboard", Timeout: dur(timeout), OnError: onError, Compute: compute}
	for _, key := range []string{"skills", "career", "courses"} {
		if b, ok := backends[key]; ok {
			agg.Backends = append(agg.Backends, gatewayconfig.Backend{Key: key, Service: key, Upstream: b.URL, Path: "/users/{user_id}/" + key})
		}
	}
	return gatewayconfig.Config{Routes: []gatewayconfig.Route{}, Aggregations: []gatewayconfig.Aggregation{agg}}
}

func getJSON(t *testing.T, url string) (int, http.Header, map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func TestAggregation_calls_every_backend_at_once_and_computes_fields(t *testing.T) {
	bs := map[string]*backend{
		"skills":  newBackend(t, 100*time.Millisecond, 200, map[string]any{"skills": []any{map[string]any{"name": "Go"}, map[string]any{"name": "SQL"}}}),
		"career":  newBackend(t, 100*time.Millisecond, 200, map[string]any{"gaps": []any{1, 2, 3}, "progress": 40}),
		"courses": newBackend(t, 100*time.Millisecond, 200, map[string]any{"courses": []any{}}),
	}
	url, _ := startGateway(t, dashboard("partial", 2*time.Second, bs, map[string]string{
		"total_skills":          "size(skills.skills)",
		"gaps_remaining":        "size(career.gaps)",
		"completion_percentage": "career.progress",
	}))
	code, h, body := getJSON(t, url+"/users/ada/dashboard")
	if code != 200 || h.Get(gateway.HeaderCompleted) != "true" {
		t.Fatalf("status %d completed %q body %v", code, h.Get(gateway.HeaderCompleted), body)
	}
	for _, k := range []string{"skills", "career", "courses"} {
		if _, ok := body[k]; !ok {
			t.Errorf("answer lacks %s: %v", k, body)
		}
	}
	if body["total_skills"] != float64(2) || body["gaps_remaining"] != float64(3) || body["completion_percentage"] != float64(40) {
		t.Errorf("computed fields: %v %v %v", body["total_skills"], body["gaps_remaining"], body["completion_percentage"])
	}
}

func TestAggregation_is_parallel(t *testing.T) {
	// One server plays all three backends and counts calls in flight at once.
	b := newBackend(t, 150*time.Millisecond, 200, map[string]any{"ok": true})
	url, _ := startGateway(t, dashboard("partial", 3*time.Second, map[string]*backend{"skills": b, "career": b, "courses": b}, nil))
	if code, _, body := getJSON(t, url+"/users/ada/dashboard"); code != 200 {
		t.Fatalf("status %d %v", code, body)
	}
	if got := b.maxInFlight.Load(); got != 3 {
		t.Errorf("backends in flight at once = %d, want 3 (called one after another?)", got)
	}
}

func TestAggregation_partial_results_and_failures(t *testing.T) {
	ok := func() *backend { return newBackend(t, 0, 200, map[string]any{"skills": []any{}}) }
	for _, tc := range []struct {
		name       string
		onError    string
		failing    *backend
		status     int
		completed  string
		errorKey   string
		wantCancel bool
	}{
		{"a failed backend is listed in _errors", "partial", newBackend(t, 0, 500, map[string]any{"error": "boom"}), 200, "false", "career", false},
		{"a slow backend is cut off at the timeout", "partial", newBackend(t, 10*time.Second, 200, map[string]any{}), 200, "false", "career", true},
		{"onError fail: a failure is a 502", "fail", newBackend(t, 0, 500, map[string]any{}), 502, "false", "", false},
		{"onError fail: a timeout is a 504", "fail", newBackend(t, 10*time.Second, 200, map[string]any{}), 504, "false", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := startGateway(t, dashboard(tc.onError, 300*time.Millisecond,
				map[string]*backend{"skills": ok(), "career": tc.failing, "courses": ok()}, nil))
			code, h, body := getJSON(t, url+"/users/ada/dashboard")
			if code != tc.status || h.Get(gateway.HeaderCompleted) != tc.completed {
				t.Fatalf("status %d completed %q, want %d %q: %v", code, h.Get(gateway.HeaderCompleted), tc.status, tc.completed, body)
			}
			if tc.errorKey != "" {
				errs, _ := body["_errors"].(map[string]any)
				if _, ok := errs[tc.errorKey]; !ok || body["skills"] == nil || body["courses"] == nil {
					t.Errorf("want the others served and %s in _errors: %v", tc.errorKey, body)
				}
			} else if e, _ := body["error"].(map[string]any); e["code"] == nil {
				t.Errorf("want a JSON error: %v", body)
			}
			if tc.wantCancel {
				deadline := time.Now().Add(5 * time.Second)
				for tc.failing.cancelled.Load() == 0 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if tc.failing.cancelled.Load() == 0 {
					t.Errorf("the slow backend's call was not cancelled at the deadline")
				}
			}
		})
	}
	t.Run("every backend failing is an error even when partial", func(t *testing.T) {
		bad := newBackend(t, 0, 503, map[string]any{})
		url, _ := startGateway(t, dashboard("partial", time.Second, map[string]*backend{"skills": bad, "career": bad}, nil))
		if code, _, _ := getJSON(t, url+"/users/ada/dashboard"); code != 502 {
			t.Errorf("status %d, want 502", code)
		}
	})
}

func TestBad_configuration_is_refused_and_the_previous_keeps_serving(t *testing.T) {
	b := newBackend(t, 0, 200, map[string]any{"skills": []any{1}})
	good := dashboard("partial", time.Second, map[string]*backend{"skills": b}, map[string]string{"n": "size(skills.skills)"})
	bad := dashboard("partial", time.Second, map[string]*backend{"skills": b}, map[string]string{"n": "size(skills.skills"})
	url, live := startGateway(t, good)
	writeConfig(t, live, bad)
	time.Sleep(300 * time.Millisecond) // several reload ticks
	if code, _, body := getJSON(t, url+"/users/ada/dashboard"); code != 200 || body["n"] != float64(1) {
		t.Errorf("after a bad file: %d %v, want the previous configuration", code, body)
	}
	writeRaw(t, live, []byte("{not json"))
	time.Sleep(300 * time.Millisecond)
	if code, _, _ := getJSON(t, url+"/users/ada/dashboard"); code != 200 {
		t.Errorf("after an unparsable file: %d, want the previous configuration", code)
	}
}

// A pod whose first file is refused runs not ready, says why in /health
// and answers 503, instead of crash-looping; a valid file makes it ready and
// /health names the hash it serves.
func TestA_refused_first_file_keeps_the_pod_not_ready_until_a_valid_one(t *testing.T) {
	b := newBackend(t, 0, 200, map[string]any{"skills": []any{1, 2}})
	bad := map[string]gatewayconfig.Config{
		"CEL that does not compile": dashboard("partial", time.Second, map[string]*backend{"skills": b}, map[string]string{"n": "size(skills.skills"}),
		"a backend {param} the path lacks": func() gatewayconfig.Config {
			c := dashboard("partial", time.Second, map[string]*backend{"skills": b}, nil)
			c.Aggregations[0].Backends[0].Path = "/users/{user}/skills"
			return c
		}(),
		"two routes on one prefix": {Routes: []gatewayconfig.Route{
			{PathPrefix: "/api/a", Service: "a", Upstream: b.URL, Timeout: dur(time.Second)},
			{PathPrefix: "/api/a", Service: "b", Upstream: b.URL, Timeout: dur(time.Second)},
		}},
	}
	for name, cfg := range bad {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), gatewayconfig.FileName)
			writeConfig(t, path, cfg)
			url := runGateway(t, path)
			waitOK(t, url+"/health/live")
			code, _, report := getJSON(t, url+"/health/ready")
			if code != 503 {
				t.Fatalf("/health/ready = %d, want 503 with a refused file", code)
			}
			check, _ := report["checks"].(map[string]any)["config"].(map[string]any)
			if check["status"] != "fail" || !strings.Contains(fmt.Sprint(check["output"]), "no valid configuration") {
				t.Errorf("config check = %v, want a failure saying why", check)
			}
			if code, _, body := getJSON(t, url+"/users/ada/dashboard"); code != 503 || body["error"] == nil {
				t.Errorf("request without a configuration: %d %v, want a 503 JSON error", code, body)
			}

			good := dashboard("partial", time.Second, map[string]*backend{"skills": b}, map[string]string{"n": "size(skills.skills)"})
			writeConfig(t, path, good)
			waitOK(t, url+"/health/ready")
			data, _ := gatewayconfig.Marshal(good)
			sum := sha256.Sum256(data)
			_, _, report = getJSON(t, url+"/health")
			check, _ = report["checks"].(map[string]any)["config"].(map[string]any)
			if want := "sha256:" + hex.EncodeToString(sum[:]); check["observedValue"] != want {
				t.Errorf("served hash = %v, want %s", check["observedValue"], want)
			}
			if code, _, body := getJSON(t, url+"/users/ada/dashboard"); code != 200 || body["n"] != float64(2) {
				t.Errorf("after a valid file: %d %v", code, body)
			}
		})
	}
}

func TestLive_reload_under_load_fails_no_request(t *testing.T) {
	a := newBackend(t, 0, 200, map[string]any{"from": "a"})
	b := newBackend(t, 0, 200, map[string]any{"from": "b"})
	cfg := gatewayconfig.Config{Routes: []gatewayconfig.Route{{PathPrefix: "/api/a", Service: "a", Upstream: a.URL, Timeout: dur(5 * time.Second)}},
		Aggregations: []gatewayconfig.Aggregation{}}
	url, path := startGateway(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				resp, err := c.Get(url + "/api/a/x")
				sent.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
		})
	}
	for i := range 6 {
		next := cfg
		next.Routes = append([]gatewayconfig.Route{}, cfg.Routes...)
		if i%2 == 1 { // the last file, i == 5, has it
			next.Routes = append(next.Routes, gatewayconfig.Route{PathPrefix: "/api/b", Service: "b", Upstream: b.URL, Timeout: dur(5 * time.Second)})
		}
		writeConfig(t, path, next)
		time.Sleep(120 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if failed.Load() != 0 || sent.Load() == 0 {
		t.Errorf("%d of %d requests failed during reloads", failed.Load(), sent.Load())
	}
	// The last file written has /api/b.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, body := getJSON(t, url+"/api/b/x")
		if code == 200 && body["from"] == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reloaded route never answered: %d %v", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRoutes_proxy_faithfully(t *testing.T) {
	var seen atomic.Pointer[http.Request]
	var seenBody atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.Store(r)
		seenBody.Store(string(body))
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}))
	defer up.Close()
	url, _ := startGateway(t, gatewayconfig.Config{Routes: []gatewayconfig.Route{
		{PathPrefix: "/api/skills", Service: "skills", Upstream: up.URL, StripPrefix: true, Timeout: dur(300 * time.Millisecond)},
		{PathPrefix: "/keep", Service: "keep", Upstream: up.URL, Timeout: dur(time.Second)},
	}, Aggregations: []gatewayconfig.Aggregation{}})

	req, _ := http.NewRequest(http.MethodPost, url+"/api/skills/users/ada/assess?x=1", strings.NewReader(`{"summary":"Go"}`))
	req.Header.Set("X-Custom", "kept")
	req.Header.Set("X-Request-ID", "req-7")
	req.Header.Set("Connection", "X-Drop-Me")
	req.Header.Set("X-Drop-Me", "hop-by-hop")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || string(got) != "short and stout" || resp.Header.Get("X-Upstream") != "yes" {
		t.Errorf("answer: %d %q %v", resp.StatusCode, got, resp.Header)
	}
	in := seen.Load()
	if in.URL.Path != "/users/ada/assess" || in.URL.RawQuery != "x=1" || in.Method != http.MethodPost || seenBody.Load() != `{"summary":"Go"}` {
		t.Errorf("upstream saw %s %s?%s body %v", in.Method, in.URL.Path, in.URL.RawQuery, seenBody.Load())
	}
	if in.Header.Get("X-Custom") != "kept" || in.Header.Get("X-Request-ID") != "req-7" || in.Header.Get("X-Forwarded-For") == "" ||
		in.Header.Get("X-Drop-Me") != "" {
		t.Errorf("upstream headers: %v", in.Header)
	}

	resp, err = http.Get(url + "/keep/a/b")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if seen.Load().URL.Path != "/keep/a/b" {
		t.Errorf("a route without stripPrefix forwarded %s", seen.Load().URL.Path)
	}

	code, _, body := getJSON(t, url+"/api/skills/slow")
	if code != http.StatusGatewayTimeout {
		t.Errorf("a route past its timeout = %d %v, want 504", code, body)
	}
	if code, _, _ := getJSON(t, url+"/nowhere"); code != http.StatusNotFound {
		t.Errorf("an unrouted path = %d, want 404", code)
	}
}
