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
	"io"
	"net/http"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// routeRetries is a route's retry policy (spec retries): a GET or HEAD is
// tried up to attempts times, each try under perTry, all of them under the
// route's own deadline, again when a try failed or answered 502, 503 or 504.
// Other methods go once: the gateway cannot know that repeating them is safe.
type routeRetries struct {
	next     http.RoundTripper
	attempts int
	perTry   time.Duration
}

func withRetries(next http.RoundTripper, r *gatewayconfig.Retries) http.RoundTripper {
	if r == nil || r.Attempts <= 1 && r.PerTryTimeout.Duration == 0 {
		return next
	}
	return &routeRetries{next: next, attempts: max(r.Attempts, 1), perTry: r.PerTryTimeout.Duration}
}

func (t *routeRetries) RoundTrip(req *http.Request) (*http.Response, error) {
	attempts := t.attempts
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		attempts = 1
	}
	var (
		resp *http.Response
		err  error
	)
	for i := range attempts {
		if i > 0 && req.Context().Err() != nil {
			break // the route's deadline passed: no try beyond it
		}
		resp, err = t.try(req)
		if !t.again(resp, err) || i == attempts-1 {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
	}
	return resp, err
}

// try sends req once under perTry; the try's context lives until the body
// is closed, so a streamed answer is not cut when RoundTrip returns.
func (t *routeRetries) try(req *http.Request) (*http.Response, error) {
	if t.perTry <= 0 {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.perTry)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (t *routeRetries) again(resp *http.Response, err error) bool {
	if err != nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
