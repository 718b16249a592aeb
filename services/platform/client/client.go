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

// Package client is how one service calls another: JSON over HTTP with a
// deadline on every call, retries with backoff for idempotent calls only, a
// circuit breaker that stops hammering a service that is down, and the
// request ID passed along. The typed clients of the services build on it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// ErrCircuitOpen is returned without a network call while the breaker is open.
var ErrCircuitOpen = errors.New("circuit open: the service failed repeatedly and is given time to recover")

// StatusError is a non-2xx answer, with the service's JSON error when it sent one.
type StatusError struct {
	Service string
	Status  int
	Code    string
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d %s: %s", e.Service, e.Status, e.Code, e.Message)
}

// IsNotFound reports whether err is a 404 from the called service.
func IsNotFound(err error) bool {
	se, ok := errors.AsType[*StatusError](err)
	return ok && se.Status == http.StatusNotFound
}

// Options tune a Client; zero values take the defaults.
type Options struct {
	// Name of the called service, in errors and the breaker's name.
	Name string
	// Timeout bounds a whole call, retries included (default 2s).
	Timeout time.Duration
	// Retries of an idempotent call after a transient failure (default 2).
	Retries int
	// Backoff before the first retry, doubled each time, with jitter (default 50ms).
	Backoff time.Duration
	// BreakerFailures in a row open the breaker (default 5).
	BreakerFailures uint32
	// BreakerOpenFor is how long it stays open before a trial call (default 10s).
	BreakerOpenFor time.Duration
	// Transport overrides the shared pooled transport.
	Transport http.RoundTripper
}

// Client calls one service.
type Client struct {
	base    *url.URL
	opts    Options
	http    *http.Client
	breaker *gobreaker.CircuitBreaker[*result]
}

type result struct {
	status int
	body   []byte
}

// sharedTransport pools connections to every service the process calls.
var sharedTransport = &http.Transport{
	Proxy:                 nil,
	DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:          256,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	ResponseHeaderTimeout: 10 * time.Second,
}

// New returns a Client for the service at baseURL (e.g. the SKILLS_URL the
// operator injects).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q: want http://host:port", opts.Name, baseURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	} else if opts.Retries == 0 {
		opts.Retries = 2
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 50 * time.Millisecond
	}
	if opts.BreakerFailures == 0 {
		opts.BreakerFailures = 5
	}
	if opts.BreakerOpenFor <= 0 {
		opts.BreakerOpenFor = 10 * time.Second
	}
	rt := opts.Transport
	if rt == nil {
		rt = sharedTransport
	}
	c := &Client{base: u, opts: opts, http: &http.Client{Transport: rt}}
	c.breaker = gobreaker.NewCircuitBreaker[*result](gobreaker.Settings{
		Name:        opts.Name,
		MaxRequests: 1,
		Timeout:     opts.BreakerOpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= opts.BreakerFailures
		},
		// A 4xx is the caller's mistake, not the service failing.
		IsSuccessful: func(err error) bool { return err == nil },
	})
	return c, nil
}

// BreakerOpen reports whether calls are being refused.
func (c *Client) BreakerOpen() bool { return c.breaker.State() == gobreaker.StateOpen }

// GetJSON GETs path and decodes the JSON answer into out. GET is idempotent,
// so transient failures are retried.
func (c *Client) GetJSON(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out, true)
}

// PostJSON POSTs in as JSON and decodes the answer into out (if not nil).
// POST is not idempotent: it is never retried.
func (c *Client) PostJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request to %s: %w", c.opts.Name, err)
	}
	return c.do(ctx, http.MethodPost, path, body, out, false)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any, idempotent bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	attempts := 1
	if idempotent {
		attempts += c.opts.Retries
	}
	backoff := c.opts.Backoff
	var lastErr error
	for attempt := 1; attempt <= attempts; attempt++ {
		res, err := c.breaker.Execute(func() (*result, error) { return c.once(ctx, method, path, body) })
		switch {
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			return fmt.Errorf("%s %s %s: %w", c.opts.Name, method, path, ErrCircuitOpen)
		case err == nil && res.status < 300:
			if out == nil || len(res.body) == 0 {
				return nil
			}
			if err := json.Unmarshal(res.body, out); err != nil {
				return fmt.Errorf("decode answer of %s %s %s: %w", c.opts.Name, method, path, err)
			}
			return nil
		case err == nil:
			lastErr = statusError(c.opts.Name, res)
			if !retryableStatus(res.status) {
				return lastErr
			}
		default:
			if se, ok := errors.AsType[*StatusError](err); ok {
				lastErr = se
				if !retryableStatus(se.Status) {
					return lastErr
				}
				break
			}
			lastErr = fmt.Errorf("%s %s %s: %w", c.opts.Name, method, path, err)
		}
		if attempt == attempts || ctx.Err() != nil {
			break
		}
		// Full jitter keeps a crowd of callers from retrying in lockstep.
		sleep := time.Duration(rand.Int64N(int64(backoff)) + 1)
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
		}
		backoff *= 2
	}
	return lastErr
}

// once makes one HTTP call. Network errors, timeouts and 5xx count against
// the breaker; any answer below 500 does not.
func (c *Client) once(ctx context.Context, method, path string, body []byte) (*result, error) {
	u := c.base.JoinPath(strings.TrimPrefix(path, "/"))
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id := httpx.RequestID(ctx); id != "" {
		req.Header.Set(httpx.HeaderRequestID, id)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	res := &result{status: resp.StatusCode, body: data}
	if resp.StatusCode >= 500 {
		return res, statusError(c.opts.Name, res)
	}
	return res, nil
}

func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

func statusError(service string, res *result) *StatusError {
	se := &StatusError{Service: service, Status: res.status}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(res.body, &body) == nil && body.Error.Code != "" {
		se.Code, se.Message = body.Error.Code, body.Error.Message
	} else {
		se.Code, se.Message = http.StatusText(res.status), strings.TrimSpace(string(res.body))
	}
	return se
}
