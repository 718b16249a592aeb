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
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// BenchmarkProxiedRequest measures a proxied GET over real loopback HTTP
// with the bare pooled transport (the baseline, what the gateway had before
// retryOnce) and with retryOnce around it, in the same run:
//
//	go test ./services/gateway/ -run '^$' -bench ProxiedRequest -benchmem -count 5
func BenchmarkProxiedRequest(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer up.Close()
	target, err := url.Parse(up.URL)
	if err != nil {
		b.Fatal(err)
	}
	route := gatewayconfig.Route{PathPrefix: "/api", Service: "up", Upstream: up.URL, StripPrefix: true,
		Timeout: gatewayconfig.Duration{Duration: 5 * time.Second}}
	for _, tc := range []struct {
		name      string
		transport http.RoundTripper
	}{
		{"bare transport", NewTransport(nil).(*splitTransport).fast.next},
		{"retryOnce", NewTransport(nil)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := proxyHandler(route, target, tc.transport, newMetrics(prometheus.NewRegistry()).backend("up"))
			req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				_, _ = io.Copy(io.Discard, w.Body)
			}
		})
	}
}
