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
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/platform/app"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
	"github.com/skillmesh/skillmesh/services/platform/logbuf"
	"github.com/skillmesh/skillmesh/services/platform/settings"
)

// Settings of the gateway; GATEWAY_CONFIG is set by the operator.
type Settings struct {
	Port   int    `env:"PORT" envDefault:"8080"`
	Config string `env:"GATEWAY_CONFIG,required"`
	Own    struct {
		ReloadInterval  time.Duration `env:"RELOAD_INTERVAL" envDefault:"1s"`
		LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
		DrainDelay      time.Duration `env:"DRAIN_DELAY" envDefault:"3s"`
		ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
		// WriteTimeout is the server's; a route or aggregation with a longer
		// timeout extends it for its own requests.
		WriteTimeout time.Duration `env:"WRITE_TIMEOUT" envDefault:"60s"`
		// TLSCertFile and TLSKeyFile, both set, make the gateway serve HTTPS
		// (the operator sets them from spec.tls); reloaded when they change.
		TLSCertFile string `env:"TLS_CERT_FILE"`
		TLSKeyFile  string `env:"TLS_KEY_FILE"`
	} `envPrefix:"GATEWAY_"`
}

// Run starts the gateway and serves until ctx ends.
func Run(ctx context.Context, src settings.Source, stderr io.Writer, ln net.Listener) error {
	var s Settings
	if err := settings.Load(src, &s); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.Own.LogLevel)); err != nil {
		return err
	}
	// One log line per request, written in batches (see logbuf): the
	// write per line was as costly as forwarding the request.
	logOut := logbuf.New(stderr, logbuf.DefaultInterval)
	defer func() { _ = logOut.Close() }()
	logger := slog.New(httpx.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})).With("service", "gateway")
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	g := Load(s.Config, logger, m, NewTransport(m.retried), s.Own.WriteTimeout)
	checker := health.New(time.Second)
	checker.Add("config", g.Check, health.Observe(g.ServedHash))
	checker.Add("config-file", g.CheckFile, health.NonCritical(), health.Observe(g.FileHash))
	checker.Add("jwks", g.CheckKeys, health.NonCritical(), health.Observe(g.KeysHash))
	var certs *certFiles
	if s.Own.TLSCertFile != "" || s.Own.TLSKeyFile != "" {
		if s.Own.TLSCertFile == "" || s.Own.TLSKeyFile == "" {
			return errors.New("GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE are set together or not at all")
		}
		certs = newCertFiles(s.Own.TLSCertFile, s.Own.TLSKeyFile)
		if err := certs.reload(); err != nil {
			logger.Error("Serving certificate refused; not ready until one loads", "cert", certs.certPath(), "error", err)
		}
		checker.Add("tls", certs.check, health.Observe(certs.notAfter))
	}
	handler := NewServer(g, checker, reg, logger)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", ":"+strconv.Itoa(s.Port)); err != nil {
			return err
		}
	}
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return g.Watch(gctx, s.Own.ReloadInterval) })
	srv := &httpx.Server{Handler: handler, Logger: logger, Drainer: checker, DrainDelay: s.Own.DrainDelay,
		ShutdownTimeout: s.Own.ShutdownTimeout, WriteTimeout: s.Own.WriteTimeout}
	if certs != nil {
		srv.TLSConfig = certs.tlsConfig()
		eg.Go(func() error { return certs.watch(gctx, s.Own.ReloadInterval, logger) })
	}
	eg.Go(func() error { return srv.Serve(gctx, ln) })
	logger.Info("Started", "port", s.Port, gatewayconfig.EnvConfigPath, s.Config)
	return eg.Wait()
}

// NewServer serves health and metrics itself and everything else through
// the live configuration.
func NewServer(g *Gateway, checker *health.Checker, reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	return app.Handler("gateway", http.NewServeMux(), checker, reg, logger, g)
}
