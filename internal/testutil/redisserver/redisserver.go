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
// SKILLMESH_TEST_REDIS_URL, or else a private redis-server (Debian's) on a
// free loopback port with persistence off.
package redisserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names an existing server; when set no server is started.
const EnvURL = "SKILLMESH_TEST_REDIS_URL"

// Server is a running Redis for tests.
type Server struct {
	// URL is redis://127.0.0.1:<port>/0.
	URL  string
	stop func()
}

// Start returns a server for a test package; call Stop when it is done.
func Start() (*Server, error) {
	if url := os.Getenv(EnvURL); url != "" {
		return &Server{URL: url, stop: func() {}}, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: apt-get install redis-server, or set " + EnvURL)
	}
	dir, err := os.MkdirTemp("", "skillmesh-redis-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), stop: func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}}
	opts, _ := redis.ParseURL(s.URL)
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("redis-server did not answer PING within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, nil
}

// Client returns a new client of the server.
func (s *Server) Client() *redis.Client {
	opts, err := redis.ParseURL(s.URL)
	if err != nil {
		panic(err)
	}
	return redis.NewClient(opts)
}

// Stop ends a server this package started.
func (s *Server) Stop() { s.stop() }
