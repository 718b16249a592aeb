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
	"net"
	"net/http"
	"time"
)

// smallBody is what the proxied backend answers: a small JSON object, the
// size of a typical service answer's head.
const smallBody = `{"id":"ada","name":"Ada","skills":["go","postgres","docker"],"level":3}` + "\n"

// The dashboard's backends, by their key in the aggregation.
const (
	keySkills  = "skills"
	keyCareer  = "career"
	keyCourses = "courses"
)

// The three dashboard backends answer in the shape the sample Gateway's CEL
// fields read, so the compute step does real work.
var dashboardBodies = map[string]string{
	keySkills:  `{"user_id":"ada","skills":[{"name":"go","level":3},{"name":"postgres","level":2}]}` + "\n",
	keyCareer:  `{"user_id":"ada","progress":40,"gaps":[{"skill":"kubernetes"},{"skill":"grpc"}]}` + "\n",
	keyCourses: `{"user_id":"ada","courses":[{"id":"k8s-101","title":"Kubernetes basics"}]}` + "\n",
}

// backend is a plain net/http server on a loopback port that answers every
// path with body after delay.
type backend struct {
	URL string
	srv *http.Server
}

func startBackend(body string, delay time.Duration) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &backend{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (b *backend) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
}

// freePort asks the kernel for a free loopback port for a child process to
// listen on. Another process could take it in between; on a bench machine
// that does not happen in practice, and the child's start-up would fail
// loudly if it did.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
