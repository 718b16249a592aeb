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
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// defaultCORSMethods are the methods allowed when the policy names none.
var defaultCORSMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// corsPolicy is a CORS configuration, compiled: the Fetch standard's
// answers to preflights and to the requests that follow them.
type corsPolicy struct {
	anyOrigin        bool
	origins          map[string]bool // exact, lower case
	suffixes         []string        // "https://*.example.com" as scheme "https://" + ".example.com"
	schemes          []string
	methods          []string
	anyHeader        bool
	headers          map[string]bool // lower case
	allowHeaders     string
	exposeHeaders    string
	allowCredentials bool
	maxAge           string
}

func newCORS(c *gatewayconfig.CORS) *corsPolicy {
	p := &corsPolicy{origins: map[string]bool{}, headers: map[string]bool{}, allowCredentials: c.AllowCredentials}
	for _, o := range c.AllowOrigins {
		o = strings.ToLower(o)
		switch {
		case o == "*":
			p.anyOrigin = true
		case strings.Contains(o, "://*."):
			scheme, host, _ := strings.Cut(o, "://*")
			p.schemes, p.suffixes = append(p.schemes, scheme+"://"), append(p.suffixes, host)
		default:
			p.origins[o] = true
		}
	}
	p.methods = c.AllowMethods
	if len(p.methods) == 0 {
		p.methods = defaultCORSMethods
	}
	for _, h := range c.AllowHeaders {
		if h == "*" {
			p.anyHeader = true
		}
		p.headers[strings.ToLower(h)] = true
	}
	p.allowHeaders = strings.Join(c.AllowHeaders, ", ")
	p.exposeHeaders = strings.Join(c.ExposeHeaders, ", ")
	if c.MaxAge.Duration > 0 {
		p.maxAge = strconv.Itoa(int(c.MaxAge.Seconds()))
	}
	return p
}

// allowsOrigin matches an Origin header. "null" (sandboxed frames, file:
// pages) matches only "*".
func (p *corsPolicy) allowsOrigin(origin string) bool {
	if p.anyOrigin {
		return true
	}
	origin = strings.ToLower(origin)
	if p.origins[origin] {
		return true
	}
	for i, suffix := range p.suffixes {
		rest, ok := strings.CutPrefix(origin, p.schemes[i])
		// A subdomain, not the bare domain, and no "evil-example.com".
		if ok && strings.HasSuffix(rest, suffix) && len(rest) > len(suffix) && !strings.ContainsAny(rest[:len(rest)-len(suffix)], "/@:") {
			return true
		}
	}
	return false
}

func (p *corsPolicy) allowsMethod(m string) bool {
	// Simple methods are always allowed by the Fetch standard.
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost || slices.Contains(p.methods, m)
}

// allowsHeaders checks an Access-Control-Request-Headers list.
func (p *corsPolicy) allowsHeaders(list string) bool {
	if p.anyHeader && !p.allowCredentials {
		return true
	}
	for h := range strings.SplitSeq(list, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || p.headers[h] {
			continue
		}
		// A credentialed "*" does not cover Authorization (Fetch standard).
		if p.anyHeader && h != "authorization" {
			continue
		}
		return false
	}
	return true
}

// wrap answers preflights itself (they are never forwarded) and adds the
// CORS headers to the answers of allowed origins.
func (p *corsPolicy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !p.allowsOrigin(origin) {
			if preflight {
				httpx.WriteError(w, httpx.Errorf(http.StatusForbidden, "cors_origin_not_allowed", "origin %q may not call this gateway", origin))
				return
			}
			next.ServeHTTP(w, r) // no CORS headers: the browser withholds the answer
			return
		}
		if !preflight {
			p.allowOrigin(h, origin)
			if p.exposeHeaders != "" {
				h.Set("Access-Control-Expose-Headers", p.exposeHeaders)
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		method := r.Header.Get("Access-Control-Request-Method")
		if !p.allowsMethod(method) {
			httpx.WriteError(w, httpx.Errorf(http.StatusForbidden, "cors_method_not_allowed", "method %q is not allowed from other origins", method))
			return
		}
		requested := r.Header.Get("Access-Control-Request-Headers")
		if !p.allowsHeaders(requested) {
			httpx.WriteError(w, httpx.Errorf(http.StatusForbidden, "cors_headers_not_allowed", "headers %q are not allowed from other origins", requested))
			return
		}
		p.allowOrigin(h, origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(p.methods, ", "))
		if requested != "" {
			if p.anyHeader && !p.allowCredentials {
				h.Set("Access-Control-Allow-Headers", "*")
			} else {
				h.Set("Access-Control-Allow-Headers", requested)
			}
		}
		if p.maxAge != "" {
			h.Set("Access-Control-Max-Age", p.maxAge)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (p *corsPolicy) allowOrigin(h http.Header, origin string) {
	if p.anyOrigin && !p.allowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if p.allowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}
