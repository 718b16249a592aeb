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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/skillmesh/skillmesh/services/gateway/upstream"
)

// The floor is the cheapest Go reverse proxy one can write with the pieces
// the gateway itself uses: a bare net/http server whose one handler sends
// every request to the small backend through the gateway's upstream
// client, with no log, no metrics and no routing. Beside the gateway and
// nginx it splits the gateway's gap to nginx in two: gateway / floor is
// what the gateway's own features cost, floor / nginx what Go's net/http
// server and runtime cost on this machine.

// floorLabel is the floor's row in the proxy table.
const floorLabel = "floor: bare net/http server + the gateway's upstream client (no log, metrics, routing)"

// floorTimeout bounds one forwarded call, as the gateway's route does.
const floorTimeout = 5 * time.Second

// startFloor runs the bench binary re-executed as the floor (see
// runFloorChild), with procs Ps on cpus (a taskset list; "" runs where the
// bench runs), forwarding to backend (host:port), its output into a log in
// dir; started, measured and stopped as a gateway is.
func startFloor(pin pinning, dir string, procs int, cpus, backend string) (*server, error) {
	const name = "floor"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	logPath := filepath.Join(dir, "floor.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer func() { _ = logFile.Close() }()
	cmd := pin.command(cpus, self, "-floor-child", "-floor-port", strconv.Itoa(port), "-floor-upstream", backend)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(procs))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	c, err := startChild(name, cmd)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("http://127.0.0.1:%d", port)
	// No route of its own to ask: ready is when the backend's answer comes
	// through.
	if err := c.waitReady(addr+proxyPrefix+proxyPath, logPath); err != nil {
		c.Stop()
		return nil, err
	}
	return newServer(c, addr, processMeter(c.Pid())), nil
}

// runFloorChild is the bench binary re-executed as the floor: it serves on
// 127.0.0.1:port until SIGTERM, forwarding every request to backend.
func runFloorChild(port int, backend string) error {
	if port < 1 || backend == "" {
		return errors.New("-floor-port and -floor-upstream are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           floorHandler(&upstream.Transport{}, backend),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// floorHandler forwards every request to backend (host:port) through t, the
// one transport all requests share, the route's prefix stripped: the
// request is sent as it came, the answer's head copied, its body streamed.
func floorHandler(t *upstream.Transport, backend string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), floorTimeout)
		defer cancel()
		out := (&http.Request{
			Method: r.Method,
			URL: &url.URL{Scheme: "http", Host: backend, Path: strings.TrimPrefix(r.URL.Path, proxyPrefix),
				RawQuery: r.URL.RawQuery},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: r.Header,
			Host:   backend,
			Body:   http.NoBody,
		}).WithContext(ctx)
		resp, err := t.RoundTrip(out)
		if err != nil {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		// The answer's header belongs to the connection until the body is
		// closed, which is after the head and body are written.
		defer func() { _ = resp.Body.Close() }()
		maps.Copy(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
}
