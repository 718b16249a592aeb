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

package gateway

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// BenchmarkHandler measures the gateway's whole handler (request ID, access
// log, metrics, router, proxy or aggregation) for one request, over real
// loopback HTTP to backends that allocate nothing per request, so the
// allocations reported are the gateway's own. The same requests over
// http.Transport are the baseline, measured in the same run:
//
//	go test ./services/gateway/ -run '^$' -bench Handler -benchmem -count 5
func BenchmarkHandler(b *testing.B) {
	small := rawBackend(b, `{"id":"ada","name":"Ada","skills":["go","postgres","docker"],"level":3}`+"\n")
	skills := rawBackend(b, `{"user_id":"ada","skills":[{"name":"go","level":3},{"name":"postgres","level":2}]}`+"\n")
	career := rawBackend(b, `{"user_id":"ada","progress":40,"gaps":[{"skill":"kubernetes"},{"skill":"grpc"}]}`+"\n")
	courses := rawBackend(b, `{"user_id":"ada","courses":[{"id":"k8s-101","title":"Kubernetes basics"}]}`+"\n")
	s := newTestSigner(b)
	signed := s.sign(b, jwt.MapClaims{"iss": "i", "aud": "a", "sub": "ada", "exp": time.Now().Add(time.Hour).Unix()})
	five := gatewayconfig.Duration{Duration: 5 * time.Second}
	cfg := func(edge bool) gatewayconfig.Config {
		c := gatewayconfig.Config{
			Routes: []gatewayconfig.Route{{PathPrefix: "/api/users/{user_id}", Service: "small", Upstream: small,
				ReplacePrefix: "/users", Timeout: five}},
			Aggregations: []gatewayconfig.Aggregation{{
				Path: "/users/{user_id}/dashboard", Timeout: five, OnError: "partial",
				Backends: []gatewayconfig.Backend{
					{Key: "skills", Service: "skills", Upstream: skills, Path: "/users/{user_id}/skills"},
					{Key: "career", Service: "career", Upstream: career, Path: "/users/{user_id}/career-plan"},
					{Key: "courses", Service: "learning", Upstream: courses, Path: "/users/{user_id}/courses"},
				},
				Compute: map[string]string{
					"total_skills":          "has(skills.skills) ? size(skills.skills) : 0",
					"gaps_remaining":        "has(career.gaps) ? size(career.gaps) : 0",
					"completion_percentage": "has(career.progress) ? career.progress : 0",
				},
			}},
		}
		if edge {
			c.Auth = &gatewayconfig.Auth{Issuer: "i", Audiences: []string{"a"}, JWKSFile: s.path}
			c.RateLimit = &gatewayconfig.RateLimit{RequestsPerSecond: 1e9, Burst: 1e9}
		}
		return c
	}
	std := retryOnce{next: &http.Transport{MaxIdleConnsPerHost: 128}}
	for _, tc := range []struct {
		name      string
		path      string
		edge      bool
		transport http.RoundTripper
	}{
		{"route/http.Transport", "/api/users/ada/profile", false, std},
		{"route", "/api/users/ada/profile", false, nil},
		{"route/auth+ratelimit", "/api/users/ada/profile", true, nil},
		{"aggregation/http.Transport", "/users/ada/dashboard", false, std},
		{"aggregation", "/users/ada/dashboard", false, nil},
		{"aggregation/auth+ratelimit", "/users/ada/dashboard", true, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			transport := tc.transport
			if transport == nil {
				transport = NewTransport(nil)
			}
			h := benchServer(b, cfg(tc.edge), transport)
			req, err := http.NewRequest(http.MethodGet, "http://gateway.test"+tc.path, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.RemoteAddr, req.RequestURI = "192.0.2.1:1234", tc.path
			if tc.edge {
				req.Header.Set("Authorization", "Bearer "+signed)
			}
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				w.status, w.n = 0, 0
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("status %d, %d bytes", w.status, w.n)
				}
			}
		})
	}
}

// benchServer is the handler NewServer builds, its log formatted as in
// production and thrown away.
func benchServer(b *testing.B, cfg gatewayconfig.Config, transport http.RoundTripper) http.Handler {
	b.Helper()
	path := filepath.Join(b.TempDir(), gatewayconfig.FileName)
	data, err := gatewayconfig.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(httpx.NewJSONHandler(io.Discard, nil)).With("service", "gateway")
	reg := prometheus.NewRegistry()
	g := Load(path, logger, newMetrics(reg), transport, time.Minute)
	if g.Check(b.Context()) != nil {
		b.Fatal("configuration refused")
	}
	return NewServer(g, health.New(time.Second), reg, logger)
}

// discardWriter is a ResponseWriter that keeps the status and counts the
// bytes: what the server's own response costs is not the handler's.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// rawBackend is an HTTP/1.1 server on loopback that answers every request
// with body and allocates nothing per request, so a benchmark's
// allocations are the client's. It reads each request's head to the blank
// line (the benchmark sends no bodies).
func rawBackend(b *testing.B, body string) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRaw(c, answer)
		}
	}()
	return "http://" + ln.Addr().String()
}

func serveRaw(c net.Conn, answer []byte) {
	defer func() { _ = c.Close() }()
	r := bufio.NewReader(c)
	for {
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
		if _, err := c.Write(answer); err != nil {
			return
		}
	}
}
