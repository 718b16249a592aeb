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

// Package app wires what every bundled service starts with, from the
// environment the operator gives the pod: settings, structured logs, its own
// database, the event broker, health checks, metrics, the outbox relay and
// a server that drains on SIGTERM. A service adds its logic and routes.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
	"github.com/skillmesh/skillmesh/services/platform/outbox"
	"github.com/skillmesh/skillmesh/services/platform/settings"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

// Injected are the unprefixed variables the operator sets on every pod.
type Injected struct {
	Port        int      `env:"PORT" envDefault:"8080"`
	DatabaseURL string   `env:"DATABASE_URL"`
	BrokerURL   string   `env:"BROKER_URL"`
	Publishes   []string `env:"EVENTS_PUBLISHES" envSeparator:","`
	Subscribes  []string `env:"EVENTS_SUBSCRIBES" envSeparator:","`
}

// Own are the settings every service reads under its prefix (SKILLS_…).
type Own struct {
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json"`
	DrainDelay      time.Duration `env:"DRAIN_DELAY" envDefault:"3s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	HealthTimeout   time.Duration `env:"HEALTH_TIMEOUT" envDefault:"2s"`
	// Consumer names this process in its consumer group; the pod name by default.
	Consumer string `env:"CONSUMER_NAME"`
	// EventsClaimMinIdle is how long an event may stay unacknowledged
	// (its consumer crashed) before another replica takes it over.
	EventsClaimMinIdle time.Duration `env:"EVENTS_CLAIM_MIN_IDLE" envDefault:"30s"`
	// EventsMaxDeliveries moves an event that keeps failing to the
	// dead-letter stream after this many deliveries.
	EventsMaxDeliveries int64 `env:"EVENTS_MAX_DELIVERIES" envDefault:"5"`
}

// App is a started service's shared parts.
type App struct {
	Name     string
	Injected Injected
	Own      Own
	Source   settings.Source
	Logger   *slog.Logger
	DB       *store.DB
	// Broker is nil when BROKER_URL is unset: events then wait in the outbox.
	Broker   *events.Redis
	Relay    *outbox.Relay
	Checker  *health.Checker
	Registry *prometheus.Registry
	redis    *redis.Client
	workers  []func(context.Context) error
}

// Start reads settings, opens the database and connects to the broker.
// Every error names what to fix.
func Start(ctx context.Context, name, prefix string, src settings.Source, stderr io.Writer) (*App, error) {
	a := &App{Name: name, Source: src, Registry: prometheus.NewRegistry()}
	if err := settings.Load(src, &a.Injected); err != nil {
		return nil, err
	}
	if err := settings.LoadPrefixed(src, prefix, &a.Own); err != nil {
		return nil, err
	}
	logger, err := newLogger(stderr, a.Own.LogLevel, a.Own.LogFormat)
	if err != nil {
		return nil, fmt.Errorf("settings: %s%s: %w", prefix, "LOG_LEVEL", err)
	}
	a.Logger = logger.With("service", name)
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Checker = health.New(a.Own.HealthTimeout)

	a.DB, err = store.Open(ctx, a.Injected.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.Checker.Add("database", a.DB.Ping)

	if a.Injected.BrokerURL != "" {
		opts, err := redis.ParseURL(a.Injected.BrokerURL)
		if err != nil {
			_ = a.DB.Close()
			return nil, fmt.Errorf("settings: BROKER_URL: %w", err)
		}
		consumer := a.Own.Consumer
		if consumer == "" {
			consumer, _ = os.Hostname()
		}
		a.redis = redis.NewClient(opts)
		a.Broker = events.NewRedis(a.redis, events.RedisOptions{Group: name, Consumer: consumer, Logger: a.Logger,
			ClaimMinIdle: a.Own.EventsClaimMinIdle, MaxDeliveries: a.Own.EventsMaxDeliveries})
		// The broker is not needed to serve: writes put their events in the
		// outbox, which waits for it. So it warns in /health, with the
		// backlog a person wants to see, and never fails readiness.
		a.Checker.Add("broker", a.Broker.Ping, health.NonCritical(), health.Observe(a.outboxBacklog))
		a.Relay = outbox.NewRelay(a.DB, a.Broker, a.Logger)
		a.Go(a.Relay.Run)
	}
	a.Logger.Info("Started", "port", a.Injected.Port, "database", string(a.DB.Engine), "broker", a.Broker != nil,
		"publishes", strings.Join(a.Injected.Publishes, ","), "subscribes", strings.Join(a.Injected.Subscribes, ","))
	return a, nil
}

func (a *App) outboxBacklog(ctx context.Context) (any, string, error) {
	n, err := outbox.Pending(ctx, a.DB)
	return float64(n), "events waiting in the outbox", err
}

// Go runs worker beside the server until shutdown (event consumers).
func (a *App) Go(worker func(context.Context) error) { a.workers = append(a.workers, worker) }

// Subscribes reports whether EVENTS_SUBSCRIBES names topic.
func (a *App) Subscribes(topic string) bool {
	for _, t := range a.Injected.Subscribes {
		if strings.TrimSpace(t) == topic {
			return true
		}
	}
	return false
}

// Serve answers handler on PORT (or on ln when given) and runs the workers,
// until ctx ends; then drains and closes everything.
func (a *App) Serve(ctx context.Context, handler http.Handler, ln net.Listener) error {
	defer a.Close()
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", ":"+strconv.Itoa(a.Injected.Port))
		if err != nil {
			return fmt.Errorf("listen on PORT %d: %w", a.Injected.Port, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	srv := &httpx.Server{Handler: handler, Logger: a.Logger, Drainer: a.Checker,
		DrainDelay: a.Own.DrainDelay, ShutdownTimeout: a.Own.ShutdownTimeout}
	g.Go(func() error { return srv.Serve(gctx, ln) })
	for _, w := range a.workers {
		g.Go(func() error {
			if err := w(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// Close releases the database and broker connections.
func (a *App) Close() {
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.DB != nil {
		_ = a.DB.Close()
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(httpx.NewJSONHandler(w, opts)), nil
}
