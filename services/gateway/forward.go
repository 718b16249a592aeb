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
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// forwarder proxies a read (GET or HEAD without a body) the way the route's
// httputil.ReverseProxy would, on the fast path: the outgoing request is
// the incoming one with its URL, forwarding headers and request ID set, in
// one allocation; the answer's head is copied to the client and its body
// streamed from the backend's connection. What it leaves to ReverseProxy:
// requests with a body, upgrades (see upstream.Supports).
type forwarder struct {
	up           *url.URL
	rewritePath  func(string) string // nil: the path as it came
	reqOps       *headerOps
	respOps      *headerOps
	transport    http.RoundTripper
	unavailable  func(w http.ResponseWriter, err error)
	observeError func()
}

// The schemes of URLs and of X-Forwarded-Proto.
const (
	schemeHTTP  = "http"
	schemeHTTPS = "https"
)

// outgoing is everything a forwarded request needs beyond the incoming
// one, allocated together.
type outgoing struct {
	ctx  deadlineContext
	url  url.URL
	vals [4]string
}

// deadlineContext is its parent with a deadline, and no timer: the fast
// path puts the deadline on the backend connection itself (see package
// upstream), so nothing needs waking when it passes, and a timer per
// request was three allocations and a heap operation. Err says so once
// the deadline has passed, as a context.WithDeadline would.
type deadlineContext struct {
	context.Context
	deadline time.Time
}

func (c *deadlineContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *deadlineContext) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// serve forwards in, which must be one upstream.Supports, within timeout.
func (f *forwarder) serve(w http.ResponseWriter, in *http.Request, timeout time.Duration) {
	o := &outgoing{ctx: deadlineContext{Context: in.Context(), deadline: time.Now().Add(timeout)}, url: *f.up}
	out := in.WithContext(&o.ctx)
	out.URL, out.Host, out.RequestURI = &o.url, "", ""
	path := in.URL.Path
	if f.rewritePath != nil {
		path = f.rewritePath(path)
	}
	o.url.Path, o.url.RawPath = joinPath(f.up.Path, path), ""
	if f.up.RawQuery == "" || in.URL.RawQuery == "" {
		o.url.RawQuery = f.up.RawQuery + in.URL.RawQuery
	} else {
		o.url.RawQuery = f.up.RawQuery + "&" + in.URL.RawQuery
	}
	// The incoming header is the outgoing one: this request is the
	// handler's own, and copying the map is most of what ReverseProxy
	// allocates.
	h := in.Header
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				delete(h, http.CanonicalHeaderKey(tok))
			}
		}
	}
	// As ReverseProxy's SetXForwarded after Rewrite dropped what the
	// client sent: the gateway says who called it, nobody else does.
	o.vals[0] = schemeHTTP
	if in.TLS != nil {
		o.vals[0] = schemeHTTPS
	}
	o.vals[1], o.vals[2] = in.Host, httpx.RequestID(in.Context())
	h["X-Forwarded-Proto"], h["X-Forwarded-Host"], h[httpx.KeyRequestID] = o.vals[0:1:1], o.vals[1:2:2], o.vals[2:3:3]
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		o.vals[3] = ip
		h["X-Forwarded-For"] = o.vals[3:4:4]
	} else {
		delete(h, "X-Forwarded-For")
	}
	delete(h, "Forwarded")
	f.reqOps.apply(h)

	resp, err := f.transport.RoundTrip(out)
	if err != nil {
		f.observeError()
		f.unavailable(w, err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	f.respOps.apply(resp.Header)
	dst := w.Header()
	for k, vs := range resp.Header {
		if prev, ok := dst[k]; ok {
			if k == httpx.KeyRequestID {
				continue // the gateway's own, already set
			}
			dst[k] = append(prev, vs...)
			continue
		}
		dst[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if in.Method == http.MethodHead {
		return
	}
	if err := copyBody(w, resp.Body, resp.ContentLength < 0); err != nil {
		if errors.Is(err, errClientGone) {
			return
		}
		// The head is out: all that is left is to cut the answer short
		// so the client sees it is incomplete, as ReverseProxy does.
		f.observeError()
		panic(http.ErrAbortHandler)
	}
}

// copyArrays lend copyBody its buffers; a pointer to an array goes back to
// the pool as it came, where a slice would be boxed anew on every Put.
var copyArrays = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

// errClientGone is a write to the client that failed.
var errClientGone = errors.New("client gone")

// copyBody streams body to w through a pooled buffer; a body of unknown
// length (chunked, or until the backend closes: a stream of events) is
// flushed after every read, as ReverseProxy does, so it reaches the client
// as the backend writes it. One of known length goes out as the server's
// buffer fills, and its head with its first bytes.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) error {
	arr := copyArrays.Get().(*[copyBufferSize]byte)
	defer copyArrays.Put(arr)
	buf := arr[:]
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
	}
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return errClientGone
			}
			if rc != nil {
				_ = rc.Flush()
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// joinPath is ReverseProxy's singleJoiningSlash: the upstream's own path,
// then the request's.
func joinPath(base, path string) string {
	if base == "" || base == "/" && strings.HasPrefix(path, "/") {
		return path
	}
	switch a, b := strings.HasSuffix(base, "/"), strings.HasPrefix(path, "/"); {
	case a && b:
		return base + path[1:]
	case !a && !b:
		return base + "/" + path
	}
	return base + path
}

// timeoutAnswer is the route's error for a call that failed: 504 past its
// deadline, 502 otherwise.
func timeoutAnswer(service string, timeout time.Duration) func(http.ResponseWriter, error) {
	return func(w http.ResponseWriter, err error) {
		if errors.Is(err, context.DeadlineExceeded) {
			httpx.WriteError(w, httpx.Errorf(http.StatusGatewayTimeout, "upstream_timeout", "%s did not answer within %s", service, timeout))
			return
		}
		httpx.WriteError(w, httpx.Errorf(http.StatusBadGateway, "upstream_unavailable", "%s: %v", service, err))
	}
}
