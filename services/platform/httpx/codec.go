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

// Package httpx holds what every bundled service's HTTP side shares: one
// JSON codec with a body limit, one error shape, request IDs, access logs,
// Prometheus metrics by route, and a server that drains before it stops.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"
)

// MaxBodyBytes bounds a request body; a larger one is answered 413.
const MaxBodyBytes = 1 << 20

// DrainBytes bounds what a service reads and discards of a body it refused
// as too large before it answers: a server that answers and closes while
// the client is still sending makes the kernel reset the connection, and the
// client (or the gateway in front) sees the reset, not the answer.
const DrainBytes = 16 << 20

// drainTimeout bounds the time spent draining.
const drainTimeout = 5 * time.Second

// Error is the one error shape every service answers with:
// {"error": {"code": "not_found", "message": "..."}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf builds an Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "bad_request", format, args...)
}

// NotFound says the addressed thing does not exist.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "not_found", format, args...)
}

// Conflict says the request clashes with the current state.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "conflict", format, args...)
}

// WriteError answers with err: an *Error as it is, anything else as a 500
// whose message does not leak internals.
func WriteError(w http.ResponseWriter, err error) {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		e = Errorf(http.StatusInternalServerError, "internal", "internal error")
	}
	Encode(w, e.Status, map[string]*Error{"error": e})
}

// Encode writes v as JSON with status.
func Encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Validator is a request body that can check itself.
type Validator interface {
	Validate() error
}

// Decode reads one JSON object into T, refusing unknown fields, trailing
// data and bodies over MaxBodyBytes, then runs T's validation. Every
// failure is an *Error ready for WriteError.
func Decode[T Validator](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	if r.ContentLength > MaxBodyBytes {
		Drain(w, r.Body)
		return v, TooLarge(MaxBodyBytes)
	}
	body := r.Body
	dec := json.NewDecoder(http.MaxBytesReader(w, body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		tooBig, isTooBig := errors.AsType[*http.MaxBytesError](err)
		switch {
		case isTooBig:
			Drain(w, body)
			return v, TooLarge(tooBig.Limit)
		case errors.Is(err, io.EOF):
			return v, BadRequest("request body is empty; a JSON object is expected")
		default:
			return v, BadRequest("request body is not valid JSON: %v", err)
		}
	}
	if dec.More() {
		return v, BadRequest("request body holds more than one JSON value")
	}
	if err := v.Validate(); err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			return v, e
		}
		return v, BadRequest("%v", err)
	}
	return v, nil
}

// TooLarge is the 413 for a body over limit.
func TooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds %d bytes", limit)
}

// Drain reads and discards up to DrainBytes of a body refused for its size,
// for at most drainTimeout, so the answer that follows reaches the client
// before the connection closes. The connection closes after the answer.
func Drain(w http.ResponseWriter, body io.Reader) {
	w.Header().Set("Connection", "close")
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(drainTimeout))
	_, _ = io.CopyN(io.Discard, body, DrainBytes)
}

var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$`)

// UserID reads the {user_id} path parameter, refusing what cannot be one.
func UserID(r *http.Request) (string, error) {
	id := r.PathValue("user_id")
	if !userIDPattern.MatchString(id) {
		return "", BadRequest("user_id %q must be 1-128 letters, digits, '_', '.', '@' or '-'", id)
	}
	return id, nil
}

// ForUser serves h with the request's {user_id}, answering 400 for one
// that cannot be a user ID before h runs.
func ForUser(h func(w http.ResponseWriter, r *http.Request, userID string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userID, err := UserID(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		h(w, r, userID)
	})
}
