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
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// BenchmarkEdge measures a proxied GET through the whole router over real
// loopback HTTP, with the edge off (the baseline) and with each part on, in
// the same run:
//
//	go test ./services/gateway/ -run '^$' -bench Edge -benchmem -count 5
func BenchmarkEdge(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer up.Close()
	s := newTestSigner(b)
	jwks := s.path
	signed := s.sign(b, jwt.MapClaims{"iss": "i", "aud": "a", "sub": "ada", "exp": time.Now().Add(time.Hour).Unix()})

	route := func(auth string) gatewayconfig.Route {
		return gatewayconfig.Route{PathPrefix: "/api/users/{user_id}", Service: "up", Upstream: up.URL, ReplacePrefix: "/users",
			Timeout: gatewayconfig.Duration{Duration: 5 * time.Second}, Auth: auth}
	}
	authCfg := &gatewayconfig.Auth{Issuer: "i", Audiences: []string{"a"}, JWKSFile: jwks}
	for _, tc := range []struct {
		name string
		cfg  gatewayconfig.Config
	}{
		{"edge off", gatewayconfig.Config{Routes: []gatewayconfig.Route{route("")}}},
		{"rate limit", gatewayconfig.Config{Routes: []gatewayconfig.Route{route("")},
			RateLimit: &gatewayconfig.RateLimit{RequestsPerSecond: 1e9, Burst: 1e9}}},
		{"cors", gatewayconfig.Config{Routes: []gatewayconfig.Route{route("")},
			CORS: &gatewayconfig.CORS{AllowOrigins: []string{"https://app.example.com"}}}},
		{"auth ES256", gatewayconfig.Config{Routes: []gatewayconfig.Route{route("required")}, Auth: authCfg}},
		{"auth + rate limit + cors", gatewayconfig.Config{Routes: []gatewayconfig.Route{route("required")}, Auth: authCfg,
			RateLimit: &gatewayconfig.RateLimit{RequestsPerSecond: 1e9, Burst: 1e9},
			CORS:      &gatewayconfig.CORS{AllowOrigins: []string{"https://app.example.com"}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rt, err := newRouter(tc.cfg, NewTransport(nil), newMetrics(prometheus.NewRegistry()), edge{})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/api/users/ada/skills", nil)
			req.RemoteAddr = "192.0.2.1:1234"
			req.Header.Set("Authorization", "Bearer "+signed)
			req.Header.Set("Origin", "https://app.example.com")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				rt.mux.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				_, _ = io.Copy(io.Discard, w.Body)
			}
		})
	}
}
