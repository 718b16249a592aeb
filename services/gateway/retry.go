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
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
)

// retryOnce is the gateway's transport: it sends a request a second time,
// once, when the first attempt failed in a way that says the backend never
// handled it — a backend pod going away during a rollout:
//
//   - the dial failed (refused, unreachable): nothing was sent, so any
//     request whose body can be sent again is retried;
//   - the connection was reset or closed before a response, on an
//     idempotent request (GET, HEAD, OPTIONS, PUT, DELETE, or one with an
//     Idempotency-Key): the backend may have seen it, and doing it again is
//     harmless by the method's contract.
//
// A timeout is never retried (a slow backend is not made slower), nor is a
// request whose caller is gone. http.Transport already retries an
// idempotent request that met a kept-alive connection the server closed;
// this covers the cases it leaves (a fresh connection, a refused dial).
type retryOnce struct {
	next    http.RoundTripper
	retries func(req *http.Request)
}

func (t retryOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil || req.Context().Err() != nil || !retryable(req, err) {
		return resp, err
	}
	again := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, gerr := req.GetBody()
		if gerr != nil {
			return nil, err
		}
		again.Body = body
	}
	if t.retries != nil {
		t.retries(req)
	}
	return t.next.RoundTrip(again)
}

func retryable(req *http.Request, err error) bool {
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	if !idempotent(req) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}
