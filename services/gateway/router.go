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
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/gateway/upstream"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// errorField names an error in the JSON the gateway writes.
const errorField = "error"

// HeaderCompleted says whether every backend of an aggregation answered.
const HeaderCompleted = "X-Skillmesh-Completed"

// router is one loaded configuration, compiled: a ServeMux whose patterns
// are the routes' prefixes and the aggregations' paths. It is immutable;
// a reload builds a new one and swaps it in, so requests in flight finish on
// the router they started with.
type router struct {
	mux                  http.Handler
	routes, aggregations int
	hash                 string // of the file it was compiled from
	// keys and limit are the edge state the router uses, kept by the
	// Gateway across reloads.
	keys  *keyFile
	limit *limiter
}

// edge is the state that outlives one router: the JWKS file and the rate
// limiter's buckets.
type edge struct {
	keys  *keyFile
	limit *limiter
	// writeTimeout is the server's; handlers with a longer deadline extend it.
	writeTimeout time.Duration
}

// newRouter compiles cfg; any route or expression that does not compile
// refuses the whole file. prev is the edge state of the router it replaces.
func newRouter(cfg gatewayconfig.Config, transport http.RoundTripper, m *metrics, prev edge) (*router, error) {
	mux := http.NewServeMux()
	cache := newMatchCache(mux)
	rt := &router{routes: len(cfg.Routes), aggregations: len(cfg.Aggregations)}
	var v *verifier
	if cfg.Auth != nil {
		rt.keys = prev.keys
		if rt.keys == nil || rt.keys.path() != cfg.Auth.JWKSFile {
			rt.keys = newKeyFile(cfg.Auth.JWKSFile)
		}
		if err := rt.keys.reload(); err != nil && rt.keys.current.Load() == nil {
			return nil, fmt.Errorf("auth.jwt: the JWKS file %s: %w", cfg.Auth.JWKSFile, err)
		}
		v = newVerifier(cfg.Auth, rt.keys, nil)
	}
	for _, r := range cfg.Routes {
		up, err := url.Parse(r.Upstream)
		if err != nil {
			return nil, fmt.Errorf("route %s: upstream: %w", r.PathPrefix, err)
		}
		h := authorize(v, r.Auth, r.UserClaim, hasParam(r.PathPrefix, "user_id"),
			extendWrite(r.Timeout.Duration, prev.writeTimeout, proxyHandler(r, up, transport, m.backend(r.Service))))
		for _, p := range gatewayconfig.RoutePatterns(r) {
			if err := gatewayconfig.Register(mux, p, cache.remember(p, h)); err != nil {
				return nil, fmt.Errorf("route %s: %w", r.PathPrefix, err)
			}
		}
	}
	hasRoot := false
	for _, r := range cfg.Routes {
		hasRoot = hasRoot || strings.TrimSuffix(r.PathPrefix, "/") == ""
	}
	if !hasRoot {
		mux.Handle("/", cache.remember("/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			httpx.WriteError(w, httpx.NotFound("no route or aggregation for %s %s", req.Method, req.URL.Path))
		})))
	}
	for _, a := range cfg.Aggregations {
		exprs, err := gatewayconfig.CompileCompute(a)
		if err != nil {
			return nil, err
		}
		calls, err := compileBackends(a, exprs, m)
		if err != nil {
			return nil, err
		}
		h := authorize(v, a.Auth, a.UserClaim, hasParam(a.Path, "user_id"),
			extendWrite(a.Timeout.Duration, prev.writeTimeout, aggregateHandler(a, exprs, transport, calls)))
		pattern := gatewayconfig.AggregationPattern(a)
		if err := gatewayconfig.Register(mux, pattern, cache.remember(pattern, h)); err != nil {
			return nil, fmt.Errorf("aggregation %s: %w", a.Path, err)
		}
	}
	// Outermost first: a forged subject never gets in, an abusive client is
	// stopped before anything else runs, a preflight is answered before it
	// could need a token, and an oversized body is refused before it is
	// forwarded.
	limit := cfg.MaxRequestBodyBytes
	if limit == 0 {
		limit = gatewayconfig.DefaultMaxRequestBodyBytes
	}
	h := limitBody(limit, cache)
	if cfg.CORS != nil {
		h = newCORS(cfg.CORS).wrap(h)
	}
	if cfg.RateLimit != nil {
		rt.limit = prev.limit
		if !rt.limit.same(cfg.RateLimit) {
			rt.limit = newLimiter(cfg.RateLimit)
		}
		h = rt.limit.wrap(h)
	}
	rt.mux = stripSubject(h)
	return rt, nil
}

// hasParam reports whether a path pattern has a {name} segment.
func hasParam(pattern, name string) bool {
	for seg := range strings.SplitSeq(pattern, "/") {
		if seg == "{"+name+"}" {
			return true
		}
	}
	return false
}

// stripSubject removes HeaderSubject from every incoming request: only the
// gateway sets it, after it verified a token.
func stripSubject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(HeaderSubject)
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses a body over limit with 413 before anything is
// forwarded: at once when its length is declared, and when a chunked body
// grows past it (the proxy's error handler answers 413 then).
func limitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			httpx.Drain(w, r.Body)
			httpx.WriteError(w, httpx.TooLarge(limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// copyBufferSize is what ReverseProxy allocates for each response when it
// has no pool.
const copyBufferSize = 32 << 10

// copyBuffers lends the proxies their copy buffers. Without a pool,
// ReverseProxy allocates 32 KiB per response: under load that was 70% of
// the bytes the gateway allocated, and most of its garbage collection.
var copyBuffers = &bufferPool{}

type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.pool.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == copyBufferSize {
		buf = buf[:copyBufferSize]
		b.pool.Put(&buf)
	}
}

// proxyHandler forwards to the upstream under the route's deadline: reads
// on the fast path (forwarder), everything else through ReverseProxy.
func proxyHandler(r gatewayconfig.Route, up *url.URL, transport http.RoundTripper, m backendMetrics) http.Handler {
	prefix := gatewayconfig.LiteralPrefix(r.PathPrefix)
	replacement := strings.TrimSuffix(r.ReplacePrefix, "/") + "/"
	var rewritePath func(string) string
	if r.StripPrefix || r.ReplacePrefix != "" {
		rewritePath = func(path string) string {
			rest := strings.TrimLeft(strings.TrimPrefix(path, prefix), "/")
			// When the path already holds the replacement right before the
			// rest (a stripped prefix leaves "/"), the answer is a piece of
			// it: no allocation.
			if head := path[:len(path)-len(rest)]; strings.HasSuffix(head, replacement) {
				return path[len(head)-len(replacement):]
			}
			return replacement + rest
		}
	}
	reqOps, respOps := compileOps(r.RequestHeaders), compileOps(r.ResponseHeaders)
	transport = withRetries(transport, r.Retries)
	unavailable := timeoutAnswer(r.Service, r.Timeout.Duration)
	rp := &httputil.ReverseProxy{
		Transport:  transport,
		BufferPool: copyBuffers,
		Rewrite: func(pr *httputil.ProxyRequest) {
			if rewritePath != nil {
				pr.Out.URL.Path = rewritePath(pr.In.URL.Path)
				pr.Out.URL.RawPath = ""
			}
			pr.SetURL(up)
			pr.SetXForwarded()
			pr.Out.Header.Set(httpx.HeaderRequestID, httpx.RequestID(pr.In.Context()))
			reqOps.apply(pr.Out.Header)
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
				httpx.WriteError(w, httpx.TooLarge(tooBig.Limit))
				return
			}
			m.failed()
			unavailable(w, err)
		},
	}
	if respOps != nil {
		rp.ModifyResponse = func(resp *http.Response) error {
			respOps.apply(resp.Header)
			return nil
		}
	}
	fw := &forwarder{up: up, rewritePath: rewritePath, reqOps: reqOps, respOps: respOps, transport: transport,
		unavailable: unavailable, observeError: m.failed}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		if upstream.Supports(req) {
			fw.serve(w, req, r.Timeout.Duration)
		} else {
			ctx, cancel := context.WithTimeout(req.Context(), r.Timeout.Duration)
			rp.ServeHTTP(w, req.WithContext(ctx))
			cancel()
		}
		m.observe(time.Since(start))
	})
}

// extendWrite gives a handler whose deadline outlasts the server's write
// timeout a write deadline of its own, so the server never cuts a route or
// aggregation shorter than its timeout. Handlers within the server's
// timeout are returned as they are: nothing added on the fast path.
func extendWrite(timeout, server time.Duration, next http.Handler) http.Handler {
	if server == 0 {
		server = httpx.DefaultWriteTimeout
	}
	if timeout+writeSlack <= server {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + writeSlack))
		next.ServeHTTP(w, req)
	})
}

// writeSlack is the time past a route's deadline its answer may take to
// write (the 504 itself, or the last bytes of a body).
const writeSlack = 5 * time.Second

// headerOps is a HeaderOps, canonicalised once.
type headerOps struct {
	set    map[string]string
	remove []string
}

func compileOps(o *gatewayconfig.HeaderOps) *headerOps {
	if o == nil || len(o.Set) == 0 && len(o.Remove) == 0 {
		return nil
	}
	c := &headerOps{set: map[string]string{}}
	for k, v := range o.Set {
		c.set[http.CanonicalHeaderKey(k)] = v
	}
	for _, k := range o.Remove {
		c.remove = append(c.remove, http.CanonicalHeaderKey(k))
	}
	return c
}

func (o *headerOps) apply(h http.Header) {
	if o == nil {
		return
	}
	for _, k := range o.remove {
		delete(h, k)
	}
	for k, v := range o.set {
		h[k] = []string{v}
	}
}
