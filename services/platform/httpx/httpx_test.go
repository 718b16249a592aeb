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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/skillmesh/skillmesh/services/platform/health"
)

type assessRequest struct {
	Summary string `json:"summary"`
}

func (a assessRequest) Validate() error {
	if strings.TrimSpace(a.Summary) == "" {
		return errors.New("summary must not be empty")
	}
	return nil
}

func decodeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := Decode[assessRequest](w, r)
		if err != nil {
			WriteError(w, err)
			return
		}
		Encode(w, http.StatusOK, req)
	})
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestDecode_answers_bad_bodies_with_a_JSON_error(t *testing.T) {
	srv := httptest.NewServer(decodeHandler())
	defer srv.Close()
	for _, tc := range []struct {
		name     string
		body     string
		status   int
		code     string
		contains string
	}{
		{"valid", `{"summary":"Go and Kubernetes"}`, 200, "", ""},
		{"empty body", ``, 400, "bad_request", "empty"},
		{"not JSON", `{"summary":`, 400, "bad_request", "not valid JSON"},
		{"unknown field", `{"summary":"x","salary":1}`, 400, "bad_request", "salary"},
		{"two values", `{"summary":"x"}{"summary":"y"}`, 400, "bad_request", "more than one"},
		{"fails validation", `{"summary":"  "}`, 400, "bad_request", "summary must not be empty"},
		{"too large", `{"summary":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413, "body_too_large", "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("content type = %q", resp.Header.Get("Content-Type"))
			}
			if tc.status == 200 {
				return
			}
			var e errorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.contains) {
				t.Errorf("error = %+v, want code %q containing %q", e.Error, tc.code, tc.contains)
			}
		})
	}
}

// An 8 MiB body is answered 413 and the client reads that answer, also a
// client that sends its whole body before it reads (as curl and many
// proxies do). Before the service drained what it refused, it closed with
// the body unread, the kernel reset the connection, and such a client saw
// the reset instead of the answer.
func TestDecode_an_oversized_body_gets_its_413_not_a_reset(t *testing.T) {
	srv := httptest.NewServer(decodeHandler())
	defer srv.Close()
	body := append([]byte(`{"summary":"`), bytes.Repeat([]byte("a"), 8<<20)...)
	for _, chunked := range []bool{false, true} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		w := bufio.NewWriter(conn)
		if chunked {
			_, _ = fmt.Fprintf(w, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", len(body))
			_, _ = w.Write(body)
			_, _ = w.WriteString("\r\n0\r\n\r\n")
		} else {
			_, _ = fmt.Fprintf(w, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = w.Write(body)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("chunked %v: sending the body: %v", chunked, err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("chunked %v: reading the answer: %v", chunked, err)
		}
		var e errorBody
		err = json.NewDecoder(resp.Body).Decode(&e)
		_ = conn.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || err != nil || e.Error.Code != "body_too_large" {
			t.Fatalf("chunked %v: %d %+v (%v)", chunked, resp.StatusCode, e, err)
		}
	}
}

func TestWriteError_hides_internal_errors(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, errors.New("pq: password authentication failed for user admin"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "password") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

func TestInstrument_request_ids_logs_and_metrics_by_route(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "skills")
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	mux := http.NewServeMux()
	var seen string
	mux.HandleFunc("GET /users/{user_id}/skills", func(w http.ResponseWriter, r *http.Request) {
		seen = RequestID(r.Context())
		Encode(w, 200, map[string]string{"user": r.PathValue("user_id")})
	})
	srv := httptest.NewServer(Instrument(mux, logger, m))
	defer srv.Close()

	call := func(path, id string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if id != "" {
			req.Header.Set(HeaderRequestID, id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}

	resp := call("/users/u1/skills", "caller-id-1")
	if resp.Header.Get(HeaderRequestID) != "caller-id-1" || seen != "caller-id-1" {
		t.Errorf("the caller's request ID is kept: header %q, handler saw %q", resp.Header.Get(HeaderRequestID), seen)
	}
	resp = call("/users/u2/skills", "bad id\twith tab")
	if got := resp.Header.Get(HeaderRequestID); got == "" || strings.Contains(got, " ") || seen != got {
		t.Errorf("an unsafe request ID is replaced: header %q, handler saw %q", got, seen)
	}
	call("/nope", "")

	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /users/{user_id}/skills", "GET", "200")); got != 2 {
		t.Errorf("requests by route pattern = %v, want 2 (one series for every user)", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "GET", "404")); got != 1 {
		t.Errorf("unmatched requests = %v, want 1", got)
	}
	if n := strings.Count(logs.String(), `"msg":"request"`); n != 3 {
		t.Errorf("want one access log line per request, got %d:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"request_id":"caller-id-1"`) {
		t.Errorf("access log lacks the request ID:\n%s", logs.String())
	}
}

func TestServer_drains_then_finishes_in_flight_requests(t *testing.T) {
	checker := health.New(time.Second)
	release := make(chan struct{})
	started := make(chan struct{})
	mux := http.NewServeMux()
	checker.Register(mux)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		Encode(w, 200, map[string]string{"done": "yes"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Handler: mux, Logger: slog.New(slog.DiscardHandler), Drainer: checker,
		DrainDelay: 500 * time.Millisecond, ShutdownTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	slow := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- -1
			return
		}
		_ = resp.Body.Close()
		slow <- resp.StatusCode
	}()
	<-started
	cancel()

	// During the drain delay the listener still answers, and readiness is 503.
	var readyCode int
	for range 50 {
		resp, err := http.Get(base + "/health/ready")
		if err == nil {
			readyCode = resp.StatusCode
			_ = resp.Body.Close()
			if readyCode == http.StatusServiceUnavailable {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if readyCode != http.StatusServiceUnavailable {
		t.Errorf("readiness during drain = %d, want 503", readyCode)
	}
	// A client's kept-alive connection is told to close after its answer.
	resp, err := http.Get(base + "/health/live")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if !resp.Close { // set from the answer's "Connection: close"
		t.Errorf("an answer during the drain keeps the connection alive")
	}
	close(release)
	if code := <-slow; code != 200 {
		t.Errorf("in-flight request = %d, want 200", code)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v after a clean shutdown", err)
	}
	if _, err := http.Get(base + "/health/live"); err == nil {
		t.Errorf("the listener still accepts after shutdown")
	}
}
