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
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
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

// dashboardKeys is the order the dashboard's backends are started and
// reported in.
var dashboardKeys = []string{keySkills, keyCareer, keyCourses}

// The three dashboard backends answer in the shape the sample Gateway's CEL
// fields read, so the compute step does real work. They answer every user
// alike: the spread of users is there for the gateway, not the backends.
var dashboardBodies = map[string]string{
	keySkills:  `{"user_id":"ada","skills":[{"name":"go","level":3},{"name":"postgres","level":2}]}` + "\n",
	keyCareer:  `{"user_id":"ada","progress":40,"gaps":[{"skill":"kubernetes"},{"skill":"grpc"}]}` + "\n",
	keyCourses: `{"user_id":"ada","courses":[{"id":"k8s-101","title":"Kubernetes basics"}]}` + "\n",
}

// bigBody is a large answer the proxies must stream, under its own route.
type bigBody struct {
	label  string // "256 KiB"
	key    string // in target names and the route: /api/<key>
	conns  int    // wrk connections: enough to overlap, few enough to finish runs
	body   string
	prefix string // the gateway's and nginx's route
}

// bigBodies are the large-answer cases: one that fits a socket's buffers a
// few times over and one far beyond anything a proxy should hold in memory.
func bigBodies() []*bigBody {
	return []*bigBody{
		{label: "256 KiB", key: "big256", conns: 16, body: jsonBody(256 << 10), prefix: "/api/big256"},
		{label: "10 MiB", key: "big10m", conns: 4, body: jsonBody(10 << 20), prefix: "/api/big10m"},
	}
}

// jsonBody is a JSON array of strings of exactly size bytes, newline
// included: something a JSON API could answer, generated once.
func jsonBody(size int) string {
	const tail = `,""]` + "\n" // the padding element and the end
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('[')
	for i := 0; ; i++ {
		item := fmt.Sprintf(`"skill-%08d-abcdefghijklmnopqrstuvwxyz"`, i)
		if b.Len()+1+len(item)+len(tail) > size {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	// The last element takes up the slack, so the size is exact.
	b.WriteString(`,"` + strings.Repeat("x", size-b.Len()-len(tail)) + `"]` + "\n")
	return b.String()
}

// backend is a plain net/http server on a loopback port that answers every
// path with body after delay, counting the requests it served: how many
// calls an aggregation really made.
type backend struct {
	URL   string
	srv   *http.Server
	calls atomic.Int64
}

func startBackend(body string, delay time.Duration) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("backend: listen: %w", err)
	}
	b := &backend{URL: "http://" + ln.Addr().String()}
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b.calls.Add(1)
		if delay > 0 {
			time.Sleep(delay)
		}
		// A length up front, as a service answering from memory would
		// send: large bodies are then not chunked.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		// WriteString: no copy of a 10 MiB body per request.
		_, _ = io.WriteString(w, body)
	})
	b.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *backend) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
}

// sumCalls counts the requests a set of backends have served so far.
func sumCalls(bs ...*backend) func() int64 {
	return func() int64 {
		var n int64
		for _, b := range bs {
			n += b.calls.Load()
		}
		return n
	}
}

// freePort asks the kernel for a free loopback port for a child process to
// listen on. Another process could take it in between; on a bench machine
// that does not happen in practice, and the child's start-up would fail
// loudly if it did.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
