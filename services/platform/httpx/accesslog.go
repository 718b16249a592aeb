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
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// JSONHandler is slog's JSONHandler with a fast path for Instrument's line
// per request: that line is appended field by field, in the very shape
// slog gives it, instead of going through slog's attribute machinery,
// which was a sixth of the gateway's CPU per proxied request. Every other
// record goes to slog's own handler. WithGroup, AddSource and ReplaceAttr
// turn the fast path off (their output is slog's to decide).
type JSONHandler struct {
	slog.Handler
	out   io.Writer
	level slog.Leveler
	attrs []byte // the logger's own attributes, encoded: `,"service":"gateway"`
	fast  bool
	mu    *sync.Mutex
}

// NewJSONHandler is slog.NewJSONHandler(w, opts) with the request fast path.
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) *JSONHandler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	return &JSONHandler{Handler: slog.NewJSONHandler(w, opts), out: w, level: level,
		fast: !opts.AddSource && opts.ReplaceAttr == nil, mu: &sync.Mutex{}}
}

// WithAttrs keeps the fast path for attributes it can encode as slog would
// (strings, numbers, booleans); anything else turns it off.
func (h *JSONHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithAttrs(as)
	c.attrs = append([]byte(nil), h.attrs...)
	for _, a := range as {
		v := a.Value.Resolve()
		c.attrs = append(c.attrs, ',')
		c.attrs = appendJSONString(c.attrs, a.Key)
		c.attrs = append(c.attrs, ':')
		switch v.Kind() {
		case slog.KindString:
			c.attrs = appendJSONString(c.attrs, v.String())
		case slog.KindInt64:
			c.attrs = strconv.AppendInt(c.attrs, v.Int64(), 10)
		case slog.KindBool:
			c.attrs = strconv.AppendBool(c.attrs, v.Bool())
		default:
			c.fast = false
		}
	}
	return &c
}

// WithGroup turns the fast path off.
func (h *JSONHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithGroup(name)
	c.fast = false
	return &c
}

// requestLine is what Instrument logs per request.
type requestLine struct {
	id, method, path, route string
	status, bytes           int
	duration                time.Duration
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logRequest writes the request's line, or reports false when the fast
// path is off (the caller then logs through slog).
func (h *JSONHandler) logRequest(ctx context.Context, level slog.Level, now time.Time, l requestLine) bool {
	if !h.fast {
		return false
	}
	if level < h.level.Level() {
		return true
	}
	bp := lineBuffers.Get().(*[]byte)
	b := appendRequestLine((*bp)[:0], now, level, h.attrs, l)
	h.mu.Lock()
	_, _ = h.out.Write(b)
	h.mu.Unlock()
	*bp = b
	lineBuffers.Put(bp)
	_ = ctx
	return true
}

func appendRequestLine(b []byte, now time.Time, level slog.Level, attrs []byte, l requestLine) []byte {
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendJSONString(b, level.String())
	b = append(b, `,"msg":"request"`...)
	b = append(b, attrs...)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, l.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, l.method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, l.path)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, l.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(l.bytes), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(l.duration), 10)
	return append(b, "}\n"...)
}

// appendJSONString quotes s as slog's JSON handler does: the characters
// JSON requires escaped, control characters as \u00XX, invalid UTF-8 as
// \ufffd, and U+2028 and U+2029 escaped; nothing HTML-escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
