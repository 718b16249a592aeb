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
// refused with a log line and the previous configuration keeps serving; a
// gateway whose first file is refused runs not ready until a good one comes.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/gateway/upstream"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// Gateway holds the live configuration: the routes file, compiled into a
// router, read again when it changes.
type Gateway struct {
	logger    *slog.Logger
	metrics   *metrics
	transport http.RoundTripper
	file      liveFile[router]
	// writeTimeout is the server's (see extendWrite).
	writeTimeout time.Duration
}

// refusal is a file the gateway read and would not serve.
type refusal struct {
	hash string
	err  error
}

// NewTransport is the pooled transport shared by every route and backend:
// reads (GET and HEAD without a body) on the fast path of package upstream,
// everything else on http.Transport, both retrying once what a backend going
// away never handled (see retryOnce); onRetry, when set, is told of each
// retry.
func NewTransport(onRetry func(*http.Request)) http.RoundTripper {
	return &splitTransport{
		fast: retryOnce{next: &upstream.Transport{
			DialTimeout: 2 * time.Second,
			// Below the backends' server IdleTimeout (120 s), so the
			// gateway closes an idle connection before the backend does.
			IdleTimeout:    90 * time.Second,
			MaxIdlePerHost: 128,
		}, retries: onRetry},
		std: retryOnce{next: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   128,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
			ForceAttemptHTTP2:     false,
		}, retries: onRetry},
	}
}

// splitTransport sends what package upstream carries there and the rest to
// http.Transport. A fast-path response belongs to its connection until its
// body is closed (see upstream.Transport).
type splitTransport struct {
	fast, std retryOnce
}

func (t *splitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == schemeHTTP && upstream.Supports(req) {
		return t.fast.RoundTrip(req)
	}
	return t.std.RoundTrip(req)
}

// Load reads the file at path once. A file that is missing or refused is
// not fatal: the gateway starts without a configuration, answers 503 and
// stays not ready (see Check) until a valid file arrives, so a bad
// ConfigMap shows as a pod that is not ready, with the reason in /health,
// rather than a crash loop.
func Load(path string, logger *slog.Logger, m *metrics, transport http.RoundTripper, writeTimeout time.Duration) *Gateway {
	g := &Gateway{logger: logger, metrics: m, transport: transport, writeTimeout: writeTimeout}
	g.file = liveFile[router]{paths: []string{path}, parse: g.compile}
	if err := g.reload(); err != nil {
		logger.Error("Configuration refused; not ready until a valid one arrives", "path", path, "error", err)
	}
	return g
}

// reload reads the file and swaps it in when it changed and is valid.
func (g *Gateway) reload() error {
	before := g.file.current.Load()
	err := g.file.reload()
	if r := g.file.refused.Load(); err != nil && r != nil && r.hash != "" {
		g.metrics.reloads.WithLabelValues("refused").Inc()
	}
	if r := g.file.current.Load(); r != before {
		g.metrics.reloads.WithLabelValues("loaded").Inc()
		g.logger.Info("Configuration loaded", "hash", r.hash, "routes", r.routes, "aggregations", r.aggregations)
	}
	return err
}

// compile parses the file into a router that keeps the edge state of the
// one it replaces.
func (g *Gateway) compile(data [][]byte, hash string) (*router, error) {
	cfg, err := gatewayconfig.Parse(data[0])
	if err != nil {
		return nil, err
	}
	prev := edge{writeTimeout: g.writeTimeout}
	if cur := g.file.current.Load(); cur != nil {
		prev.keys, prev.limit = cur.keys, cur.limit
	}
	r, err := newRouter(cfg, g.transport, g.metrics, prev)
	if err != nil {
		return nil, err
	}
	r.hash = hash
	return r, nil
}

// Check is the readiness check "config": it passes once a configuration
// serves, and reports its hash (the operator's ConfigMap hash annotation
// can be compared with it).
func (g *Gateway) Check(context.Context) error {
	if g.file.current.Load() == nil {
		if r := g.file.refused.Load(); r != nil {
			return fmt.Errorf("no valid configuration yet: %w", r.err)
		}
		return errors.New("no configuration loaded yet")
	}
	return nil
}

// ServedHash observes the hash of the configuration served.
func (g *Gateway) ServedHash(context.Context) (any, string, error) {
	if r := g.file.current.Load(); r != nil {
		return r.hash, "sha256 of the routes file served", nil
	}
	return nil, "", errors.New("none served")
}

// CheckFile is the non-critical check "config-file": it warns while the
// file on disk was refused and an older configuration keeps serving.
func (g *Gateway) CheckFile(context.Context) error {
	if r := g.file.refused.Load(); r != nil {
		return fmt.Errorf("the file was refused, the previous configuration keeps serving: %w", r.err)
	}
	return nil
}

// FileHash observes the hash of the file on disk, when it was refused.
func (g *Gateway) FileHash(context.Context) (any, string, error) {
	if r := g.file.refused.Load(); r != nil && r.hash != "" {
		return r.hash, "sha256 of the refused file", nil
	}
	return nil, "", errors.New("no refused file")
}

// CheckKeys is the non-critical check "jwks": it warns while the JWKS file
// on disk was refused and the previous keys keep verifying.
func (g *Gateway) CheckKeys(context.Context) error {
	cur := g.file.current.Load()
	if cur == nil || cur.keys == nil {
		return nil
	}
	if r := cur.keys.refused.Load(); r != nil {
		return fmt.Errorf("the JWKS file was refused, the previous keys keep verifying: %w", r.err)
	}
	return nil
}

// KeysHash observes the hash of the JWKS the gateway verifies with.
func (g *Gateway) KeysHash(context.Context) (any, string, error) {
	if cur := g.file.current.Load(); cur != nil && cur.keys != nil {
		if set := cur.keys.current.Load(); set != nil {
			return set.hash, "sha256 of the JWKS verifying tokens", nil
		}
	}
	return nil, "", errors.New("no JWKS")
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
			if err := g.reload(); err != nil {
				g.logger.Error("Configuration refused; the previous one keeps serving", "path", g.file.paths[0], "error", err)
			}
			if cur := g.file.current.Load(); cur != nil && cur.keys != nil {
				before := cur.keys.current.Load()
				if err := cur.keys.reload(); err != nil {
					g.logger.Error("JWKS refused; the previous keys keep verifying", "path", cur.keys.path(), "error", err)
				} else if after := cur.keys.current.Load(); after != before {
					g.logger.Info("JWKS loaded", "path", cur.keys.path(), "hash", after.hash, "keys", len(after.keys))
				}
			}
		}
	}
}

// ServeHTTP serves the request on the configuration current when it arrived.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cur := g.file.current.Load()
	if cur == nil {
		httpx.WriteError(w, httpx.Errorf(http.StatusServiceUnavailable, "no_configuration",
			"the gateway has no valid configuration yet; see /health"))
		return
	}
	cur.mux.ServeHTTP(w, r)
}
