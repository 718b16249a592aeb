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
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultWriteTimeout bounds writing an answer, counted from the end of
// reading the request headers. A handler that may take longer (the gateway's
// routes with a longer timeout) extends its own deadline.
const DefaultWriteTimeout = 60 * time.Second

// Drainer is told when shutdown starts (the health checker), so readiness
// fails before the listener closes.
type Drainer interface {
	Drain()
}

// Server is an http.Server with the timeouts always set and a shutdown that
// drains: on cancel, readiness turns 503 first and every answer says
// "Connection: close", so each kept-alive client connection is closed by the
// client after its next answer instead of by the server under a request in
// flight (a kept-alive connection outlives the pod's removal from the
// endpoints: kube-proxy routes only new connections). The server waits
// DrainDelay for that, then stops accepting, closes what is idle and lets
// in-flight requests finish within ShutdownTimeout. (The pod's preStop wait,
// which the operator renders, has already let the endpoint removal spread
// before SIGTERM arrives.)
type Server struct {
	Handler         http.Handler
	Logger          *slog.Logger
	Drainer         Drainer
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	// WriteTimeout is the server's write timeout; 0 is DefaultWriteTimeout.
	WriteTimeout time.Duration
	// TLSConfig, when set, serves HTTPS (HTTP/2 and HTTP/1.1) with it.
	TLSConfig *tls.Config
}

// Serve answers on ln until ctx is cancelled, then drains and shuts down. It
// returns the listener's error, or nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var draining atomic.Bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		s.Handler.ServeHTTP(w, r)
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cmp.Or(s.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	if s.TLSConfig != nil {
		srv.TLSConfig = s.TLSConfig
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.Logger.Info("Shutting down: draining", "drain_delay", s.DrainDelay)
	draining.Store(true)
	if s.Drainer != nil {
		s.Drainer.Drain()
	}
	time.Sleep(s.DrainDelay)

	timeout := s.ShutdownTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	s.Logger.Info("Stopped")
	return nil
}
