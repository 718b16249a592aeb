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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// maxBackendBody bounds one backend's answer in an aggregation.
const maxBackendBody = 8 << 20

// backendCall is one backend of an aggregation, compiled: its URL's
// segments split once, its metric series looked up once, whether any
// expression reads its answer, and the group its identical in-flight calls
// share an answer through (nil when coalescing is off).
type backendCall struct {
	key, service string
	timeout      time.Duration // 0: the aggregation's
	forward      []string      // canonical header names copied from the request
	scheme, host string
	basePath     string   // the upstream's own path, without a trailing slash
	segments     []string // the path split at '/'; for a {name} segment, the name
	params       []bool   // which segments are {name}s
	metrics      backendMetrics
	decode       bool // an expression reads this answer
	flight       *singleflight.Group
}

func compileBackends(a gatewayconfig.Aggregation, exprs []gatewayconfig.Expr, m *metrics) ([]*backendCall, error) {
	calls := make([]*backendCall, 0, len(a.Backends))
	names := a.ForwardHeaders
	if names == nil {
		names = gatewayconfig.DefaultForwardHeaders
	}
	forward := make([]string, 0, len(names)+1)
	for _, h := range append(slices.Clone(names), HeaderSubject) {
		forward = append(forward, http.CanonicalHeaderKey(h))
	}
	read := map[string]bool{}
	for _, e := range exprs {
		for _, v := range e.Vars {
			read[v] = true
		}
	}
	for _, b := range a.Backends {
		up, err := url.Parse(b.Upstream)
		if err != nil {
			return nil, fmt.Errorf("aggregation %s: backend %s: upstream: %w", a.Path, b.Key, err)
		}
		c := &backendCall{key: b.Key, service: b.Service, scheme: up.Scheme, host: up.Host,
			basePath: strings.TrimSuffix(up.Path, "/"), metrics: m.backend(b.Service),
			timeout: b.Timeout.Duration, forward: forward, decode: read[b.Key]}
		if b.Coalesced() {
			c.flight = &singleflight.Group{}
		}
		for seg := range strings.SplitSeq(b.Path, "/") {
			param := strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
			if param {
				seg = strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
			}
			c.segments, c.params = append(c.segments, seg), append(c.params, param)
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// path is the backend's path for the request in, as sent (escaped) and as
// url.URL.Path holds it: each {name} segment takes the incoming request's
// path value. One string is built when no value needs escaping (the usual
// case), two otherwise.
func (c *backendCall) path(in *http.Request) (escaped, plain string) {
	var vals [8]string
	values := vals[:0]
	size, differs := len(c.basePath), false
	for i, seg := range c.segments {
		if c.params[i] {
			v := in.PathValue(seg)
			values = append(values, v)
			differs = differs || url.PathEscape(v) != v
			seg = v
		}
		size += len(seg) + 1
	}
	build := func(escape bool) string {
		var b strings.Builder
		b.Grow(size * (1 + btoi(escape)))
		b.WriteString(c.basePath)
		k := 0
		for i, seg := range c.segments {
			if i > 0 {
				b.WriteByte('/')
			}
			if c.params[i] {
				seg = values[k]
				k++
				if escape {
					seg = url.PathEscape(seg)
				}
			}
			b.WriteString(seg)
		}
		return b.String()
	}
	plain = build(false)
	if !differs {
		return plain, plain
	}
	return build(true), plain
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// backendResult is one backend's part of an aggregation. A coalesced
// result is shared by every aggregation that waited for it: read only.
type backendResult struct {
	raw     []byte // the answer, valid JSON, surrounding space trimmed
	body    any    // raw decoded, when an expression reads it
	status  int
	err     error
	timeout bool
}

// backendRequest is what one call allocates, together.
type backendRequest struct {
	req  http.Request
	url  url.URL
	ctx  deadlineContext
	vals [2]string
}

// call asks the backend, or joins an identical call already in flight:
// same URL, same forwarded headers (the caller's identity among them). A
// joined call began earlier under the same deadline rules, so it ends no
// later than this one's own deadline would.
func (c *backendCall) call(ctx context.Context, deadline time.Time, transport http.RoundTripper, in *http.Request) backendResult {
	escaped, plain := c.path(in)
	if c.flight == nil {
		return c.do(ctx, deadline, transport, in, escaped, plain)
	}
	var key strings.Builder
	n := len(escaped) + len(in.URL.RawQuery) + 1 + len(c.forward)
	for _, h := range c.forward {
		for _, v := range in.Header[h] {
			n += len(v) + 1
		}
	}
	key.Grow(n)
	key.WriteString(escaped)
	key.WriteByte('?')
	key.WriteString(in.URL.RawQuery)
	for _, h := range c.forward {
		key.WriteByte(0)
		for _, v := range in.Header[h] {
			key.WriteString(v)
			key.WriteByte(0)
		}
	}
	v, _, _ := c.flight.Do(key.String(), func() (any, error) {
		r := c.do(ctx, deadline, transport, in, escaped, plain)
		return &r, nil
	})
	return *v.(*backendResult)
}

func (c *backendCall) do(ctx context.Context, deadline time.Time, transport http.RoundTripper, in *http.Request,
	escaped, plain string) (res backendResult) {
	start := time.Now()
	defer func() {
		c.metrics.observe(time.Since(start))
		if res.err != nil {
			c.metrics.failed()
		}
	}()
	if c.timeout > 0 {
		if d := start.Add(c.timeout); d.Before(deadline) {
			deadline = d
		}
	}
	br := &backendRequest{url: url.URL{Scheme: c.scheme, Host: c.host, Path: plain, RawQuery: in.URL.RawQuery}}
	if escaped != plain {
		br.url.RawPath = escaped
	}
	h := make(http.Header, 2+len(c.forward))
	br.vals = [2]string{"application/json", httpx.RequestID(in.Context())}
	h["Accept"], h[httpx.KeyRequestID] = br.vals[0:1:1], br.vals[1:2:2]
	for _, name := range c.forward {
		if vs := in.Header[name]; len(vs) > 0 {
			h[name] = vs
		}
	}
	br.req = http.Request{Method: http.MethodGet, URL: &br.url, Header: h, Host: c.host, Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}
	req := &br.req
	if c.scheme == schemeHTTP {
		// The fast path sets the deadline on the connection: no timer.
		br.ctx = deadlineContext{Context: ctx, deadline: deadline}
		req = req.WithContext(&br.ctx)
	} else {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		req = req.WithContext(dctx)
	}
	resp, err := transport.RoundTrip(req)
	if err != nil {
		res.err, res.timeout = err, errors.Is(err, context.DeadlineExceeded)
		if res.timeout {
			res.err = fmt.Errorf("%s did not answer in time", c.service)
		}
		return res
	}
	defer func() { _ = resp.Body.Close() }()
	res.status = resp.StatusCode
	data, err := readBody(resp)
	if err != nil {
		res.err, res.timeout = fmt.Errorf("read %s: %w", c.service, err), errors.Is(err, context.DeadlineExceeded)
		return res
	}
	if resp.StatusCode >= 300 {
		res.err = fmt.Errorf("%s answered %d", c.service, resp.StatusCode)
		return res
	}
	res.raw = bytes.TrimSpace(data)
	if !json.Valid(res.raw) {
		res.raw, res.err = nil, fmt.Errorf("%s answered with something that is not JSON", c.service)
		return res
	}
	if c.decode {
		if err := json.Unmarshal(res.raw, &res.body); err != nil {
			res.err = fmt.Errorf("%s answered with something that is not JSON", c.service)
		}
	}
	return res
}

// readBody reads an answer of at most maxBackendBody bytes into a slice
// of its own (it may be shared by coalesced calls, so never pooled).
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxBackendBody {
		data := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBackendBody+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBackendBody {
		return nil, fmt.Errorf("the answer is larger than %d MiB", maxBackendBody>>20)
	}
	return data, nil
}

// field is one member of the merged answer, in the order JSON objects
// encoded from Go maps have (sorted by name), so the answer is the same
// whichever backend answered first.
type field struct {
	quoted  []byte // `"name":`
	backend int    // index into the calls, or -1
	expr    int    // index into the expressions, or -1
}

// errorsField holds what failed, beside the data.
const errorsField = "_errors"

func fieldOrder(calls []*backendCall, exprs []gatewayconfig.Expr) []field {
	out := make([]field, 0, len(calls)+len(exprs)+1)
	quote := func(name string) []byte {
		q, _ := json.Marshal(name)
		return append(q, ':')
	}
	for i, c := range calls {
		out = append(out, field{quoted: quote(c.key), backend: i, expr: -1})
	}
	for i, e := range exprs {
		out = append(out, field{quoted: quote(e.Name), backend: -1, expr: i})
	}
	out = append(out, field{quoted: quote(errorsField), backend: -1, expr: -1})
	slices.SortFunc(out, func(a, b field) int { return bytes.Compare(a.quoted, b.quoted) })
	return out
}

// callers run the aggregations' backend calls on goroutines that stay: a
// new goroutine per call grew its stack to the depth of an HTTP call every
// time (7% of an aggregation's CPU). Idle ones wait for the next call; when
// none is idle a new one starts, up to maxCallers, past which a call gets a
// goroutine of its own as before; a worker idle for callerIdle ends.
var callers = &workers{tasks: make(chan func())}

const maxCallers = 1024

type workers struct {
	tasks chan func()
	n     atomic.Int32
}

// Go runs f on an idle worker, a new one, or (past maxCallers) a goroutine
// of its own.
func (p *workers) Go(f func()) {
	select {
	case p.tasks <- f:
		return
	default:
	}
	if p.n.Add(1) > maxCallers {
		p.n.Add(-1)
		go f()
		return
	}
	go p.work(f)
}

// callerIdle is how long a worker waits for another call before it ends:
// a burst's workers do not keep their stacks for ever.
const callerIdle = 10 * time.Second

func (p *workers) work(f func()) {
	defer p.n.Add(-1)
	idle := time.NewTimer(callerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(callerIdle)
		select {
		case f = <-p.tasks:
		case <-idle.C:
			return
		}
	}
}

// answers lend the aggregations their output buffers.
var answers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Values of HeaderCompleted, shared: net/http only reads them.
var (
	completedTrue  = []string{"true"}
	completedFalse = []string{"false"}
	jsonType       = []string{"application/json"}
)

// aggregateHandler calls every backend at once, each under the
// aggregation's deadline, merges the JSON answers by key as they came
// (only the answers an expression reads are decoded), adds the computed
// fields, and answers no later than the deadline whatever a backend does.
func aggregateHandler(a gatewayconfig.Aggregation, exprs []gatewayconfig.Expr, transport http.RoundTripper, calls []*backendCall) http.Handler {
	order := fieldOrder(calls, exprs)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		deadline := time.Now().Add(a.Timeout.Duration)
		results := make([]backendResult, len(calls))
		var wg sync.WaitGroup
		for i := 1; i < len(calls); i++ {
			wg.Add(1)
			callers.Go(func() {
				defer wg.Done()
				results[i] = calls[i].call(ctx, deadline, transport, req)
			})
		}
		if len(calls) > 0 {
			// The handler's own goroutine makes the first call: one
			// goroutine fewer to start and schedule per aggregation.
			results[0] = calls[0].call(ctx, deadline, transport, req)
		}
		wg.Wait()

		var errs map[string]any
		failed, timedOut := 0, 0
		for i, r := range results {
			if r.err == nil {
				continue
			}
			failed++
			if r.timeout {
				timedOut++
			}
			e := map[string]any{errorField: r.err.Error()}
			if r.status != 0 {
				e["status"] = r.status
			}
			if errs == nil {
				errs = map[string]any{}
			}
			errs[calls[i].key] = e
		}
		if failed > 0 && (a.OnError == "fail" || failed == len(results)) {
			status, code := http.StatusBadGateway, "backend_failed"
			if timedOut == failed {
				status, code = http.StatusGatewayTimeout, "backend_timeout"
			}
			w.Header().Set(HeaderCompleted, "false")
			httpx.Encode(w, status, map[string]any{errorField: map[string]any{
				"code": code, "message": fmt.Sprintf("%d of %d backends failed", failed, len(results)), "backends": errs}})
			return
		}
		computed := make([]any, len(exprs))
		if len(exprs) > 0 {
			vars := make(map[string]any, len(calls))
			for i, r := range results {
				if r.err == nil && calls[i].decode {
					vars[calls[i].key] = r.body
				}
			}
			for i, e := range exprs {
				v, err := e.Eval(vars)
				if err != nil {
					if errs == nil {
						errs = map[string]any{}
					}
					errs["compute."+e.Name] = map[string]any{errorField: err.Error()}
					computed[i] = errSkip
					continue
				}
				computed[i] = v
			}
		}
		buf := answers.Get().(*bytes.Buffer)
		defer answers.Put(buf)
		buf.Reset()
		if err := writeMerged(buf, order, results, computed, errs); err != nil {
			httpx.WriteError(w, err)
			return
		}
		hdr := w.Header()
		hdr["Content-Type"] = jsonType
		hdr[HeaderCompleted] = completedFalse
		if failed == 0 {
			hdr[HeaderCompleted] = completedTrue
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	})
}

// errSkip marks an expression that failed: its field is left out.
var errSkip = &struct{}{}

// writeMerged writes the merged answer: each backend's JSON as it came,
// each computed field encoded, then what failed.
func writeMerged(buf *bytes.Buffer, order []field, results []backendResult, computed []any, errs map[string]any) error {
	buf.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			buf.WriteByte(',')
		}
		first = false
	}
	for _, f := range order {
		switch {
		case f.backend >= 0:
			r := results[f.backend]
			if r.err != nil {
				continue
			}
			sep()
			buf.Write(f.quoted)
			buf.Write(r.raw)
		case f.expr >= 0:
			v := computed[f.expr]
			if v == errSkip {
				continue
			}
			sep()
			buf.Write(f.quoted)
			if err := appendJSON(buf, v); err != nil {
				return err
			}
		case len(errs) > 0:
			sep()
			buf.Write(f.quoted)
			if err := appendJSON(buf, errs); err != nil {
				return err
			}
		}
	}
	buf.WriteString("}\n")
	return nil
}

// appendJSON writes v; the scalars CEL returns most are written without
// encoding/json's reflection.
func appendJSON(buf *bytes.Buffer, v any) error {
	var scratch [32]byte
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case int64:
		buf.Write(strconv.AppendInt(scratch[:0], x, 10))
	case uint64:
		buf.Write(strconv.AppendUint(scratch[:0], x, 10))
	case bool:
		buf.Write(strconv.AppendBool(scratch[:0], x))
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode the merged answer: %w", err)
		}
		buf.Write(data)
	}
	return nil
}
