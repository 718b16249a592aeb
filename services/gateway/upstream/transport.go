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

// Package upstream is the gateway's fast path to its backends: an HTTP/1.1
// client for requests without a body (GET and HEAD, what routes and
// aggregations read with), over kept-alive connections, on the caller's
// goroutine.
//
// Why not http.Transport: it runs two goroutines per connection and hands
// every request and response between them and the caller over channels. At
// GOMAXPROCS=1 each proxied request then costs four goroutine switches and
// a select or two beyond the syscalls, which made the gateway spend 3.6×
// nginx's CPU per request. Here the caller writes the request in one
// write, reads the answer's head from the connection's buffer and streams
// the body straight from it; the connection goes back to its pool when the
// body is read to its end.
//
// What it does not do is on purpose: requests with a body, upgrades and
// HTTP/2 stay with http.Transport (the gateway routes them there), and a
// caller's cancellation does not interrupt a call in flight: the call is
// bounded by its context's deadline, set on the connection.
package upstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"sync"
	"time"
)

// Defaults of a zero Transport.
const (
	DefaultDialTimeout    = 2 * time.Second
	DefaultIdleTimeout    = 90 * time.Second
	DefaultMaxIdlePerHost = 128
	// maxHeaderBytes bounds an answer's head, as http.Transport does by
	// default (it allows 1 MiB; backends of the gateway send a few hundred
	// bytes).
	maxHeaderBytes = 1 << 20
	bufferSize     = 8 << 10
)

// Transport is an http.RoundTripper for GET and HEAD requests without a
// body. Unlike http.Transport, the *http.Response it returns and its Header
// belong to the connection: they are valid until the Body is closed, and
// the Body must be closed (it hands the connection back).
type Transport struct {
	// DialTimeout bounds a new connection; 0 is DefaultDialTimeout.
	DialTimeout time.Duration
	// IdleTimeout is how long an unused connection is kept; 0 is
	// DefaultIdleTimeout. Keep it below the backends' own idle timeout, so
	// the gateway closes an idle connection before the backend does.
	IdleTimeout time.Duration
	// MaxIdlePerHost bounds the idle connections kept per backend; 0 is
	// DefaultMaxIdlePerHost.
	MaxIdlePerHost int

	mu    sync.Mutex
	hosts map[string]*idleConns
}

// idleConns are one backend's unused connections, the most recently used
// last (reused first: it is the least likely to have been closed).
type idleConns struct{ conns []*conn }

// ErrUnsupported is returned for a request this transport does not carry.
var ErrUnsupported = errors.New("upstream: only GET and HEAD without a body over http")

// Supports says whether t carries req: the gateway sends everything else
// through http.Transport.
func Supports(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody || req.ContentLength > 0 {
		return false
	}
	_, upgrade := req.Header["Upgrade"]
	return !upgrade
}

// RoundTrip sends req and reads the head of the answer.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || !Supports(req) {
		return nil, ErrUnsupported
	}
	for _, v := range req.Header {
		for _, s := range v {
			if !validValue(s) {
				return nil, errors.New("upstream: a header value holds a line break")
			}
		}
	}
	host := req.URL.Host
	deadline, _ := req.Context().Deadline()
	c, reused, err := t.get(host, deadline)
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(req, deadline)
	if err != nil && reused && c.nothingRead {
		// A kept-alive connection the backend closed while it sat idle:
		// the request never reached a handler, and GET and HEAD may be
		// sent again. One fresh connection, as http.Transport does.
		c.close()
		if c, err = t.dial(host, deadline); err != nil {
			return nil, err
		}
		resp, err = c.roundTrip(req, deadline)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return resp, nil
}

// CloseIdleConnections closes every idle connection.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	hosts := t.hosts
	t.hosts = nil
	t.mu.Unlock()
	for _, h := range hosts {
		for _, c := range h.conns {
			c.close()
		}
	}
}

// get takes the most recent idle connection to host that is not too old,
// or dials one.
func (t *Transport) get(host string, deadline time.Time) (c *conn, reused bool, err error) {
	idle := t.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	now := time.Now()
	var stale []*conn
	t.mu.Lock()
	if h := t.hosts[host]; h != nil {
		for len(h.conns) > 0 {
			n := len(h.conns) - 1
			c = h.conns[n]
			h.conns[n] = nil
			h.conns = h.conns[:n]
			if now.Sub(c.idleSince) < idle {
				break
			}
			stale, c = append(stale, c), nil
		}
	}
	t.mu.Unlock()
	for _, s := range stale {
		s.close()
	}
	if c != nil {
		return c, true, nil
	}
	c, err = t.dial(host, deadline)
	return c, false, err
}

func (t *Transport) dial(host string, deadline time.Time) (*conn, error) {
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Deadline: deadline}
	nc, err := d.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	c := &conn{t: t, host: host, nc: nc, br: bufio.NewReaderSize(nc, bufferSize), bw: bufio.NewWriterSize(nc, bufferSize)}
	c.resp.Header = http.Header{}
	c.body.c = c
	return c, nil
}

// put gives c back to its host's pool, or closes it when the pool is full.
func (t *Transport) put(c *conn) {
	limit := t.MaxIdlePerHost
	if limit <= 0 {
		limit = DefaultMaxIdlePerHost
	}
	c.idleSince = time.Now()
	t.mu.Lock()
	if t.hosts == nil {
		t.hosts = map[string]*idleConns{}
	}
	h := t.hosts[c.host]
	if h == nil {
		h = &idleConns{}
		t.hosts[c.host] = h
	}
	if len(h.conns) < limit {
		h.conns = append(h.conns, c)
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// conn is one kept-alive connection and the one answer it is reading.
type conn struct {
	t         *Transport
	host      string
	nc        net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	deadline  time.Time // the one set on nc

	// nothingRead is true until the answer's first byte arrives: a failure
	// before it on a reused connection means the backend closed it idle.
	nothingRead bool
	// head collects the answer's header lines; one string is made of it
	// per answer and every key and value is a piece of that string.
	head      []byte
	resp      http.Response
	body      body
	keepAlive bool
}

// roundTrip writes req and reads the answer's head.
func (c *conn) roundTrip(req *http.Request, deadline time.Time) (*http.Response, error) {
	c.nothingRead = true
	if err := c.setDeadline(deadline); err != nil {
		return nil, err
	}
	if err := c.writeRequest(req); err != nil {
		return nil, wrap(req, err)
	}
	if err := c.readHead(req); err != nil {
		return nil, wrap(req, err)
	}
	return &c.resp, nil
}

// deadlineSlack is how much earlier than asked a call's deadline may
// fall: a connection keeps the deadline it has while that is at most this
// much (and at most 1% of the time left) before the one a request needs,
// so a busy connection resets its timers every few milliseconds instead of
// on every request (a timer reset was 3% of the gateway's CPU). A route
// with a 5 s timeout then answers 504 after 4.99 s to 5 s.
const deadlineSlack = 10 * time.Millisecond

func (c *conn) setDeadline(d time.Time) error {
	if !d.IsZero() && !c.deadline.IsZero() && !c.deadline.After(d) {
		// Kept when at most 1% of the time left early, and 10 ms at most.
		if early := d.Sub(c.deadline); early <= deadlineSlack && early <= time.Until(d)/100 {
			return nil
		}
	}
	if d.IsZero() && c.deadline.IsZero() {
		return nil
	}
	c.deadline = d
	return c.nc.SetDeadline(d)
}

func (c *conn) writeRequest(req *http.Request) error {
	w := c.bw
	_, _ = w.WriteString(req.Method)
	_ = w.WriteByte(' ')
	// RequestURI, written in pieces rather than concatenated.
	switch u := req.URL; {
	case u.Opaque != "":
		_, _ = w.WriteString(u.Opaque)
	case u.Path == "":
		_ = w.WriteByte('/')
	default:
		_, _ = w.WriteString(u.EscapedPath())
	}
	if q := req.URL.RawQuery; q != "" || req.URL.ForceQuery {
		_ = w.WriteByte('?')
		_, _ = w.WriteString(q)
	}
	_, _ = w.WriteString(" HTTP/1.1\r\nHost: ")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	_, _ = w.WriteString(host)
	_, _ = w.WriteString("\r\n")
	for k, vs := range req.Header {
		if hopByHop(k) || k == "Host" || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			_, _ = w.WriteString(k)
			_, _ = w.WriteString(": ")
			_, _ = w.WriteString(v)
			_, _ = w.WriteString("\r\n")
		}
	}
	_, _ = w.WriteString("\r\n")
	return w.Flush()
}

// readHead reads the status line and header lines, skipping informational
// (1xx) answers, and sets up the body.
func (c *conn) readHead(req *http.Request) error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		c.nothingRead = false
		major, minor, status, err := parseStatusLine(line)
		if err != nil {
			return err
		}
		if err := c.readHeader(); err != nil {
			return err
		}
		if status >= 100 && status < 200 {
			if status == http.StatusSwitchingProtocols {
				return errors.New("upstream: switching protocols on a request without Upgrade")
			}
			continue
		}
		c.resp.Status = statusLine(status)
		c.resp.StatusCode = status
		c.resp.Proto, c.resp.ProtoMajor, c.resp.ProtoMinor = "HTTP/1.1", major, minor
		c.resp.Request = req
		return c.frame(req, major, minor)
	}
}

// statusLines are Response.Status for the codes net/http knows, made once.
var statusLines = func() (s [600]string) {
	for code := range s {
		if text := http.StatusText(code); text != "" {
			s[code] = strconv.Itoa(code) + " " + text
		}
	}
	return s
}()

func statusLine(code int) string {
	if code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return strconv.Itoa(code)
}

// readLine reads one line of the head, CRLF removed.
func (c *conn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("upstream: a header line longer than 8 KiB")
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readHeader reads header lines into c.resp.Header, the answer's
// hop-by-hop fields left out.
func (c *conn) readHeader() error {
	h := c.resp.Header
	clear(h)
	c.head = c.head[:0]
	// offsets of key start, key end, value end for each line within c.head
	var lines [][3]int
	var local [24][3]int
	lines = local[:0]
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errors.New("upstream: obsolete line folding in a header")
		}
		colon := indexByte(line, ':')
		if colon <= 0 {
			return fmt.Errorf("upstream: malformed header line %q", truncate(line))
		}
		if len(c.head)+len(line) > maxHeaderBytes {
			return errors.New("upstream: the answer's header is larger than 1 MiB")
		}
		start := len(c.head)
		key := line[:colon]
		c.head = append(c.head, key...)
		if !canonical(key) {
			canonicalize(c.head[start:])
		}
		keyEnd := len(c.head)
		c.head = append(c.head, trimSpace(line[colon+1:])...)
		lines = append(lines, [3]int{start, keyEnd, len(c.head)})
	}
	if len(lines) == 0 {
		return nil
	}
	all := string(c.head)
	values := make([]string, len(lines))
	for i, l := range lines {
		k, v := all[l[0]:l[1]], all[l[1]:l[2]]
		values[i] = v
		if prev, ok := h[k]; ok {
			h[k] = append(prev, v)
		} else {
			h[k] = values[i : i+1 : i+1]
		}
	}
	return nil
}

// frame works out how the body is delimited and whether the connection
// can carry another request after it, then drops the hop-by-hop fields.
func (c *conn) frame(req *http.Request, major, minor int) error {
	h := c.resp.Header
	conn := h["Connection"]
	c.keepAlive = major == 1 && minor >= 1
	for _, v := range conn {
		for _, tok := range splitTokens(v) {
			switch {
			case equalFold(tok, "close"):
				c.keepAlive = false
			case equalFold(tok, "keep-alive"):
				c.keepAlive = c.keepAlive || major == 1 && minor == 0
			default:
				delete(h, textproto.CanonicalMIMEHeaderKey(tok))
			}
		}
	}
	status := c.resp.StatusCode
	b := &c.body
	b.reset()
	c.resp.Body = b
	c.resp.ContentLength = -1
	c.resp.TransferEncoding = nil
	noBody := req.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified
	te := h["Transfer-Encoding"]
	switch {
	case noBody:
		b.remaining = 0
		if cl, ok, err := contentLength(h); err != nil {
			return err
		} else if ok {
			c.resp.ContentLength = cl
		}
	case len(te) > 0:
		if len(te) != 1 || !equalFold(te[0], "chunked") {
			return fmt.Errorf("upstream: unsupported transfer-encoding %q", te)
		}
		// A Content-Length beside chunked is ignored, as RFC 9112 says;
		// the connection is not trusted again.
		if _, ok := h["Content-Length"]; ok {
			c.keepAlive = false
			delete(h, "Content-Length")
		}
		b.chunked = newChunkedReader(c.br)
		c.resp.TransferEncoding = []string{"chunked"}
	default:
		cl, ok, err := contentLength(h)
		if err != nil {
			return err
		}
		if ok {
			b.remaining, c.resp.ContentLength = cl, cl
		} else {
			// Delimited by the close of the connection.
			b.untilEOF, c.keepAlive = true, false
		}
	}
	for _, k := range hopByHopHeaders {
		delete(h, k)
	}
	b.done = b.remaining == 0 && b.chunked == nil && !b.untilEOF
	return nil
}

func (c *conn) close() { _ = c.nc.Close() }

// release is called when the body is closed: the connection goes back to
// the pool when its answer was read to the end and it may carry another.
func (c *conn) release(complete bool) {
	if complete && c.keepAlive && c.br.Buffered() == 0 {
		c.t.put(c)
		return
	}
	c.close()
}

// body streams an answer's body from the connection's buffer.
type body struct {
	c         *conn
	remaining int64
	chunked   io.Reader
	untilEOF  bool
	done      bool
	closed    bool
	err       error
}

func (b *body) reset() { *b = body{c: b.c} }

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("upstream: read on a closed body")
	}
	if b.done {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	var n int
	var err error
	switch {
	case b.chunked != nil:
		n, err = b.chunked.Read(p)
		if errors.Is(err, io.EOF) {
			b.done = true
		}
	case b.untilEOF:
		n, err = b.c.br.Read(p)
		if errors.Is(err, io.EOF) {
			b.done = true
		}
	default:
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		n, err = b.c.br.Read(p)
		b.remaining -= int64(n)
		if b.remaining == 0 {
			b.done = true
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = wrapRead(err)
		return n, b.err
	}
	return n, err
}

// Close hands the connection back when the body was read to its end, and
// closes it otherwise (what is left unread is not drained: a proxy that
// stops reading has a reason).
func (b *body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.c.release(b.done && b.err == nil)
	return nil
}

// DeadlineError is a call that ran out of its context's time; it is a
// net.Error that says Timeout, and errors.Is(err, context.DeadlineExceeded)
// holds, as with http.Transport.
type DeadlineError struct{ Op string }

func (e *DeadlineError) Error() string   { return "upstream: " + e.Op + ": deadline exceeded" }
func (e *DeadlineError) Timeout() bool   { return true }
func (e *DeadlineError) Temporary() bool { return true }
func (e *DeadlineError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

func wrap(req *http.Request, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &DeadlineError{Op: req.Method + " " + req.URL.Host}
	}
	return err
}

func wrapRead(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &DeadlineError{Op: "read body"}
	}
	return err
}
