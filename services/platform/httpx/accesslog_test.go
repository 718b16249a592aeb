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

package httpx

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The fast request line must be byte for byte what slog's JSONHandler
// writes for the same record: log readers see one format.
func TestThe_fast_request_line_is_exactly_slogs(t *testing.T) {
	at := time.Date(2026, 12, 4, 4, 7, 57, 94386776, time.UTC)
	for _, path := range []string{
		"/api/users/ada/skills",
		`/quote"and\backslash`,
		"/ctl\x01\x1f\x7f\ttab\nnl\rcr",
		"/bad-utf8-\xff\xfe-end",
		"/line\u2028sep\u2029para",
		"/ünïcødé/日本/<html>&amp;",
		"",
	} {
		for _, level := range []slog.Level{slog.LevelInfo, slog.LevelError} {
			l := requestLine{id: "0123456789abcdef", method: "GET", path: path, route: "GET /api/users/{user_id}/",
				status: 200, bytes: 72, duration: 2755 * time.Nanosecond}
			var want bytes.Buffer
			h := slog.NewJSONHandler(&want, nil).WithAttrs([]slog.Attr{slog.String("service", "gate\"way"), slog.Int("n", -3), slog.Bool("b", true)})
			rec := slog.NewRecord(at, level, "request", 0)
			rec.AddAttrs(slog.String("request_id", l.id), slog.String("method", l.method), slog.String("path", l.path),
				slog.String("route", l.route), slog.Int("status", l.status), slog.Int("bytes", l.bytes),
				slog.Duration("duration", l.duration))
			if err := h.Handle(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			fast := NewJSONHandler(&got, nil).WithAttrs([]slog.Attr{slog.String("service", "gate\"way"), slog.Int("n", -3), slog.Bool("b", true)})
			if !fast.(*JSONHandler).logRequest(context.Background(), level, at, l) {
				t.Fatal("the fast path is off")
			}
			if got.String() != want.String() {
				t.Errorf("path %q:\n fast %s\n slog %s", path, got.String(), want.String())
			}
		}
	}
}

func TestInstrument_logs_through_the_fast_path_and_respects_the_level(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })
	var out bytes.Buffer
	logger := slog.New(NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})).With("service", "s")
	h := Instrument(mux, logger, nil)
	req := httptest.NewRequest(http.MethodGet, "/users/ada", nil)
	req.Header.Set(HeaderRequestID, "req-1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	line := out.String()
	for _, want := range []string{`"level":"INFO","msg":"request","service":"s","request_id":"req-1"`,
		`"path":"/users/ada","route":"GET /users/{id}","status":200,"bytes":5,"duration":`} {
		if !strings.Contains(line, want) {
			t.Errorf("the line %q lacks %q", line, want)
		}
	}

	out.Reset()
	quiet := Instrument(mux, slog.New(NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})), nil)
	quiet.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/users/ada", nil))
	if out.Len() != 0 {
		t.Errorf("at level error a 200 was logged: %s", out.String())
	}
	// A handler whose attributes slog must encode itself (a group) falls
	// back to slog, and still logs.
	grouped := Instrument(mux, slog.New(NewJSONHandler(&out, nil)).WithGroup("g"), nil)
	grouped.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/users/ada", nil))
	if !strings.Contains(out.String(), `"g":{"request_id":`) {
		t.Errorf("the grouped logger wrote %s", out.String())
	}
}
