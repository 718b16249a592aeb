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

// Package gateway is the bundled API gateway: it serves the routes and
// aggregations of the file the Gateway controller renders, and reloads the
// file when Kubernetes swaps the ConfigMap behind it, without dropping a
// request. A file that does not parse, or whose CEL does not compile, is
// refused with a log line and the previous configuration keeps serving.
package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// Gateway holds the live configuration.
type Gateway struct {
	path      string
	logger    *slog.Logger
	metrics   *metrics
	transport http.RoundTripper
	current   atomic.Pointer[router]
	lastHash  [32]byte
}

// NewTransport is the pooled transport shared by every route and backend,
// retrying once what a backend going away never handled (see retryOnce);
// onRetry, when set, is told of each retry.
func NewTransport(onRetry func(*http.Request)) http.RoundTripper {
	return retryOnce{next: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 128,
		// Below the backends' server IdleTimeout (120 s), so the gateway
		// closes an idle connection before the backend does, never racing it.
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     false,
	}, retries: onRetry}
}

// Load reads the file at path once; it is an error for the first load to
// fail, since there is nothing to fall back on.
func Load(path string, logger *slog.Logger, m *metrics, transport http.RoundTripper) (*Gateway, error) {
	g := &Gateway{path: path, logger: logger, metrics: m, transport: transport}
	if changed, err := g.reload(); err != nil || !changed {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return g, nil
}

// reload reads the file and swaps it in when it changed and is valid.
func (g *Gateway) reload() (bool, error) {
	data, err := os.ReadFile(g.path)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(data)
	if bytes.Equal(sum[:], g.lastHash[:]) {
		return false, nil
	}
	cfg, err := gatewayconfig.Parse(data)
	if err != nil {
		g.lastHash = sum // do not log the same bad file every tick
		g.metrics.reloads.WithLabelValues("refused").Inc()
		return false, err
	}
	r, err := newRouter(cfg, g.transport, g.metrics)
	if err != nil {
		g.lastHash = sum
		g.metrics.reloads.WithLabelValues("refused").Inc()
		return false, err
	}
	g.current.Store(r)
	g.lastHash = sum
	g.metrics.reloads.WithLabelValues("loaded").Inc()
	g.logger.Info("Configuration loaded", "routes", len(cfg.Routes), "aggregations", len(cfg.Aggregations))
	return true, nil
}

// Watch reloads the file every interval until ctx ends. Polling by content
// hash follows the symlink swap Kubernetes does for a ConfigMap volume,
// which file-event watchers easily miss.
func (g *Gateway) Watch(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := g.reload(); err != nil {
				g.logger.Error("Configuration refused; the previous one keeps serving", "path", g.path, "error", err)
			}
		}
	}
}

// ServeHTTP serves the request on the configuration current when it arrived.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.current.Load().mux.ServeHTTP(w, r)
}
