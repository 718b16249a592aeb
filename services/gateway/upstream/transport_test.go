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

package upstream_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/gateway/upstream"
)

// counted is a real net/http server that counts the connections it was
// given.
func counted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func get(t *testing.T, tr *upstream.Transport, method, url string, timeout time.Duration, hdr ...string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return tr.RoundTrip(req)
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestKept_alive_connections_carry_every_kind_of_body(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			for i := range 3 {
				_, _ = io.WriteString(w, strings.Repeat(string(rune('a'+i)), 5000))
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "15000")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			w.WriteHeader(http.StatusNotModified)
		case "/early-hints":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "after hints")
		}
	})
	tr := &upstream.Transport{}
	for range 3 {
		for _, tc := range []struct {
			method, path string
			status       int
			body         string
		}{
			{http.MethodGet, "/length", 200, `{"ok":true}`},
			{http.MethodGet, "/chunked", 200, strings.Repeat("a", 5000) + strings.Repeat("b", 5000) + strings.Repeat("c", 5000)},
			{http.MethodHead, "/length", 200, ""},
			{http.MethodGet, "/empty", 204, ""},
			{http.MethodGet, "/notmodified", 304, ""},
			{http.MethodGet, "/early-hints", 200, "after hints"},
		} {
			resp, err := get(t, tr, tc.method, srv.URL+tc.path, 5*time.Second)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			if got := read(t, resp); resp.StatusCode != tc.status || got != tc.body {
				t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, truncate(got), tc.status, truncate(tc.body))
			}
			if tc.path == "/length" && (resp.ContentLength != 11 || resp.Header.Get("Content-Type") != "application/json") {
				t.Errorf("%s /length: length %d, header %v", tc.method, resp.ContentLength, resp.Header)
			}
			if tc.path == "/chunked" && (resp.Header.Get("Transfer-Encoding") != "" || resp.Header.Get("Trailer") != "") {
				t.Errorf("hop-by-hop fields reached the caller: %v", resp.Header)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("18 requests one after the other took %d connections, want 1", n)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestA_connection_is_reused_only_when_its_answer_was_read_to_the_end_and_may_be(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/big":
			_, _ = w.Write(bytes.Repeat([]byte("x"), 1<<20))
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	tr := &upstream.Transport{}
	step := func(path string, readAll bool) {
		t.Helper()
		resp, err := get(t, tr, http.MethodGet, srv.URL+path, 5*time.Second)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if readAll {
			_ = read(t, resp)
			return
		}
		buf := make([]byte, 10)
		_, _ = io.ReadFull(resp.Body, buf)
		_ = resp.Body.Close()
	}
	step("/", true) // conn 1, kept
	step("/", true) // conn 1
	if n := conns.Load(); n != 1 {
		t.Fatalf("two reads took %d connections", n)
	}
	step("/close", true) // conn 1, then closed: the backend said so
	step("/", true)      // conn 2
	if n := conns.Load(); n != 2 {
		t.Fatalf("after Connection: close, %d connections, want 2", n)
	}
	step("/big", false) // conn 2, abandoned half read: closed
	step("/", true)     // conn 3
	if n := conns.Load(); n != 3 {
		t.Fatalf("after a body left unread, %d connections, want 3", n)
	}
}

// rawServer answers each connection with what answer writes, after reading
// one request head.
func rawServer(t *testing.T, answer func(c net.Conn, n int)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				answer(c, n)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestAnswers_a_proxy_must_refuse_or_read_to_the_close(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		wantErr      string
		wantBody     string
		header       http.Header
	}{
		{name: "conflicting Content-Length", answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
			wantErr: "conflicting Content-Length"},
		{name: "negative Content-Length", answer: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: "bad Content-Length"},
		{name: "HTTP/2 status line", answer: "HTTP/2.0 200 OK\r\n\r\n", wantErr: "HTTP/2.0"},
		{name: "garbage", answer: "hello\r\n\r\n", wantErr: "malformed status line"},
		{name: "folded header", answer: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n", wantErr: "line folding"},
		{name: "gzip transfer-encoding", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: "transfer-encoding"},
		{name: "no length: read to the close", answer: "HTTP/1.0 200 OK\r\nx-lower-case: v\r\nX-Twice: 1\r\nX-Twice: 2\r\n\r\nuntil the end",
			wantBody: "until the end", header: http.Header{"X-Lower-Case": {"v"}, "X-Twice": {"1", "2"}}},
		{name: "Connection names a field", answer: "HTTP/1.1 200 OK\r\nConnection: X-Private\r\nX-Private: s\r\nX-Public: p\r\nContent-Length: 2\r\n\r\nok",
			wantBody: "ok", header: http.Header{"X-Public": {"p"}, "Content-Length": {"2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, func(c net.Conn, _ int) { _, _ = io.WriteString(c, tc.answer) })
			resp, err := get(t, &upstream.Transport{}, http.MethodGet, url+"/", 5*time.Second)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := read(t, resp); got != tc.wantBody {
				t.Errorf("body %q, want %q", got, tc.wantBody)
			}
			for k, v := range tc.header {
				if got := resp.Header[k]; strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("header %s = %q, want %q (all: %v)", k, got, v, resp.Header)
				}
			}
			if _, ok := resp.Header["Connection"]; ok {
				t.Errorf("Connection reached the caller: %v", resp.Header)
			}
		})
	}
}

func TestA_connection_the_backend_closed_while_idle_is_replaced_without_an_error(t *testing.T) {
	var served atomic.Int64
	// Each connection answers one request and then closes without saying
	// so: the kept connection is dead when the next request takes it.
	url := rawServer(t, func(c net.Conn, _ int) {
		served.Add(1)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	tr := &upstream.Transport{}
	for i := range 5 {
		resp, err := get(t, tr, http.MethodGet, url+"/", 5*time.Second)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := read(t, resp); got != "ok" {
			t.Fatalf("request %d: %q", i, got)
		}
		time.Sleep(20 * time.Millisecond) // the close reaches us
	}
	if n := served.Load(); n != 5 {
		t.Errorf("served %d, want 5", n)
	}
}

func TestThe_context_deadline_bounds_the_call_and_says_so(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.Header().Set("Content-Length", "10")
			_, _ = io.WriteString(w, "12345")
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	tr := &upstream.Transport{}
	start := time.Now()
	_, err := get(t, tr, http.MethodGet, srv.URL+"/slow", 200*time.Millisecond)
	var nerr net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &nerr) || !nerr.Timeout() {
		t.Fatalf("err = %v, want a timeout that is context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("a 200 ms deadline took %s", elapsed)
	}
	resp, err := get(t, tr, http.MethodGet, srv.URL+"/slow-body", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("reading a body past the deadline: %v", err)
	}
}

func TestWhat_the_fast_path_does_not_carry_is_refused(t *testing.T) {
	tr := &upstream.Transport{}
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"POST", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("x"))
			return r
		}},
		{"GET with a body", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", strings.NewReader("x"))
			return r
		}},
		{"upgrade", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
			r.Header.Set("Upgrade", "websocket")
			return r
		}},
		{"https", func() *http.Request { r, _ := http.NewRequest(http.MethodGet, "https://127.0.0.1:1/", nil); return r }},
	} {
		if _, err := tr.RoundTrip(tc.req()); !errors.Is(err, upstream.ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", tc.name, err)
		}
	}
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	r.Header["X-Injected"] = []string{"a\r\nX-Evil: 1"}
	if _, err := tr.RoundTrip(r); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("a header value with CRLF: err = %v", err)
	}
}

func TestThe_request_carries_its_headers_but_not_the_hop_by_hop_ones(t *testing.T) {
	seen := make(chan *http.Request, 1)
	srv, _ := counted(t, func(_ http.ResponseWriter, r *http.Request) { seen <- r })
	tr := &upstream.Transport{}
	resp, err := get(t, tr, http.MethodGet, srv.URL+"/a%2Fb/c?q=1&r=%20", 5*time.Second,
		"X-Kept", "1", "X-Kept", "2", "Keep-Alive", "timeout=5", "Te", "trailers", "Proxy-Authorization", "secret")
	if err != nil {
		t.Fatal(err)
	}
	_ = read(t, resp)
	r := <-seen
	if r.URL.RawPath != "/a%2Fb/c" && r.URL.EscapedPath() != "/a%2Fb/c" || r.URL.RawQuery != "q=1&r=%20" {
		t.Errorf("the backend saw %s ? %s", r.URL.EscapedPath(), r.URL.RawQuery)
	}
	if got := r.Header["X-Kept"]; len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("X-Kept = %q", got)
	}
	for _, k := range []string{"Keep-Alive", "Te", "Proxy-Authorization"} {
		if v := r.Header.Get(k); v != "" {
			t.Errorf("%s reached the backend: %q", k, v)
		}
	}
	if r.Host != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("Host %q", r.Host)
	}
}

func TestAn_answer_that_says_close_or_HTTP_1_0_never_carries_another_request(t *testing.T) {
	for _, answer := range []string{
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	} {
		var reused atomic.Int64
		// The server leaves the connection open after an answer that
		// says it will not take another: a request arriving on it anyway
		// is the transport's mistake.
		url := rawServer(t, func(c net.Conn, _ int) {
			_, _ = io.WriteString(c, answer)
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if n, _ := c.Read(make([]byte, 1)); n > 0 {
				reused.Add(1)
			}
		})
		tr := &upstream.Transport{}
		for range 3 {
			resp, err := get(t, tr, http.MethodGet, url+"/", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = read(t, resp)
		}
		time.Sleep(400 * time.Millisecond)
		if n := reused.Load(); n != 0 {
			t.Errorf("%q: %d requests sent on a connection the answer closed", answer[:20], n)
		}
	}
}
