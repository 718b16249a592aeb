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

// Package redisserver gives tests a real Redis: the server named by
// SKILLMESH_TEST_REDIS_URL, or else a private redis-server (Debian's
// redis-server package) on a free loopback port, with persistence off and
// its files in a temporary directory.
//
// A package with a TestMain calls Start (or StartMain) once; a test on its
// own calls ForTest. With SKILLMESH_SKIP_REDIS=1 a missing redis-server
// skips the tests instead of failing them.
package redisserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// EnvURL names an existing server; when set no server is started.
	EnvURL = "SKILLMESH_TEST_REDIS_URL"
	// EnvSkip, set to 1, turns a missing redis-server into skipped tests.
	EnvSkip = "SKILLMESH_SKIP_REDIS"
)

// ErrSkipped is returned (wrapped) by Start when redis-server is missing and
// EnvSkip is set: the caller should skip its Redis tests, not fail them.
var ErrSkipped = errors.New("redis tests skipped")

// Server is a running Redis for tests.
type Server struct {
	// URL is redis://127.0.0.1:<port>/0 for a private server.
	URL  string
	stop func()
}

// Start returns a server for a test package; call Stop when it is done.
func Start() (*Server, error) {
	if url := os.Getenv(EnvURL); url != "" {
		if _, err := redis.ParseURL(url); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvURL, err)
		}
		return &Server{URL: url, stop: func() {}}, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(EnvSkip) == "1" {
			return nil, fmt.Errorf("%w: redis-server not found and %s=1", ErrSkipped, EnvSkip)
		}
		return nil, fmt.Errorf("redis-server not found: install it (apt-get install redis-server), "+
			"set %s to a running server, or set %s=1 to skip these tests", EnvURL, EnvSkip)
	}
	// The port is free when probed but may be taken before redis-server binds
	// it; a server that exits at once is retried on another port.
	var lastErr error
	for range 3 {
		s, exited, err := launch(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !exited {
			break
		}
	}
	return nil, lastErr
}

// StartMain is Start for a TestMain that wants only the URL and a stop
// function.
func StartMain() (url string, stop func(), err error) {
	s, err := Start()
	if err != nil {
		return "", nil, err
	}
	return s.URL, s.Stop, nil
}

// ForTest starts a server for one test and stops it when the test ends. It
// skips the test if Start reports ErrSkipped and fails it on any other error.
func ForTest(t testing.TB) (url string) {
	t.Helper()
	s, err := Start()
	if errors.Is(err, ErrSkipped) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.URL
}

// launch starts redis-server on a free port and waits until it answers PING.
// exited tells that the server exited on its own (the port was taken).
func launch(bin string) (s *Server, exited bool, err error) {
	dir, err := os.MkdirTemp("", "skillmesh-redis-")
	if err != nil {
		return nil, false, err
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, false, err
	}
	logPath := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--logfile", logPath)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, false, fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s = &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), stop: func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.RemoveAll(dir)
	}}
	if err := s.waitReady(done); err != nil {
		log, _ := os.ReadFile(logPath)
		select {
		case <-done:
			exited = true
		default:
		}
		s.Stop()
		return nil, exited, fmt.Errorf("%w\nredis-server log:\n%s", err, log)
	}
	return s, false, nil
}

// waitReady polls PING until it answers, the server exits, or 20s pass (a
// loaded two-core machine can be slow to start a process).
func (s *Server) waitReady(exited <-chan struct{}) error {
	c := s.Client()
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited before answering PING: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer PING within 20s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client returns a new client of the server; the caller closes it.
func (s *Server) Client() *redis.Client {
	opts, err := redis.ParseURL(s.URL)
	if err != nil {
		panic(fmt.Sprintf("redisserver: bad URL %q: %v", s.URL, err)) // checked in Start
	}
	return redis.NewClient(opts)
}

// Stop ends a server this package started; for a server named by EnvURL it
// does nothing.
func (s *Server) Stop() { s.stop() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
