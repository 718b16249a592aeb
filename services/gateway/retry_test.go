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

package gateway_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// resettingListener resets (RST, as a pod that is gone does) the first
// connections it accepts, before reading anything, then serves normally.
type resettingListener struct {
	net.Listener
	reset atomic.Int64
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.reset.Add(-1) < 0 {
			return c, nil
		}
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
	}
}

func TestBackend_going_away_is_retried_once_for_idempotent_requests(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &resettingListener{Listener: inner}
	var served atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		// Every request on a new connection, so each meets the listener.
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	up := "http://" + inner.Addr().String()
	url, _ := startGateway(t, gatewayconfig.Config{Routes: []gatewayconfig.Route{
		{PathPrefix: "/api", Service: "up", Upstream: up, StripPrefix: true, Timeout: dur(2 * time.Second)},
	}, Aggregations: []gatewayconfig.Aggregation{}})

	send := func(method, key string) int {
		t.Helper()
		var body io.Reader
		if method != http.MethodGet {
			body = strings.NewReader(`{}`)
		}
		req, _ := http.NewRequest(method, url+"/api/x", body)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, key string
		want        int
		wantServed  int64
	}{
		{http.MethodGet, "", http.StatusOK, 1},
		// A POST's body is read from the caller as it is sent: it cannot be
		// sent twice, and the backend might have acted on it.
		{http.MethodPost, "", http.StatusBadGateway, 0},
	} {
		ln.reset.Store(1)
		before := served.Load()
		if got := send(tc.method, tc.key); got != tc.want || served.Load()-before != tc.wantServed {
			t.Errorf("%s after a reset connection = %d (served %d), want %d (served %d)",
				tc.method, got, served.Load()-before, tc.want, tc.wantServed)
		}
	}

	// Two resets in a row: retried once only, then the failure is the answer.
	ln.reset.Store(2)
	if got := send(http.MethodGet, ""); got != http.StatusBadGateway {
		t.Errorf("GET after two resets = %d, want 502 (one retry, not a loop)", got)
	}
	ln.reset.Store(0)

	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), `gateway_backend_retries_total{host="`+inner.Addr().String()+`"} 2`) {
		t.Errorf("retries not counted:\n%s", grepLines(string(body), "retries"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
