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
	"strings"
	"sync"
)

// matchCacheSize bounds the paths remembered per configuration; past it the
// cache starts over, so a flood of distinct paths costs what no cache
// would, never memory.
const matchCacheSize = 10_000

// matchCache remembers, per GET or HEAD path, the handler the router's
// ServeMux chose and the path's wildcard values, so a path seen before
// skips ServeMux's matching: on the gateway's patterns that was ten
// allocations per request, a third of the gateway's garbage. It only ever
// holds the mux's own decisions (a handler records itself when the mux
// calls it), so routing is the mux's: its precedence, its 404s, its
// redirects of unclean paths (never remembered, they call no handler).
// Nothing but the path decides the match for these methods: the router has
// no host patterns and no HEAD-only ones.
type matchCache struct {
	mux   *http.ServeMux
	mu    sync.RWMutex
	paths map[string]*match
}

type match struct {
	h       http.Handler
	pattern string
	names   []string
	values  []string
}

func newMatchCache(mux *http.ServeMux) *matchCache {
	return &matchCache{mux: mux, paths: map[string]*match{}}
}

func cacheable(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawPath == ""
}

func (c *matchCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cacheable(r) {
		c.mu.RLock()
		m := c.paths[r.URL.Path]
		c.mu.RUnlock()
		if m != nil {
			r.Pattern = m.pattern
			for i, name := range m.names {
				r.SetPathValue(name, m.values[i])
			}
			m.h.ServeHTTP(w, r)
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

// remember wraps the handler registered under pattern so that the mux
// choosing it records the choice.
func (c *matchCache) remember(pattern string, h http.Handler) http.Handler {
	names := wildcards(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cacheable(r) {
			m := &match{h: h, pattern: pattern, names: names, values: make([]string, len(names))}
			for i, name := range names {
				m.values[i] = r.PathValue(name)
			}
			c.mu.Lock()
			if len(c.paths) >= matchCacheSize {
				clear(c.paths)
			}
			c.paths[r.URL.Path] = m
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// wildcards are the names of a ServeMux pattern's {name} and {name...}
// segments.
func wildcards(pattern string) []string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	var names []string
	for seg := range strings.SplitSeq(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
			if name != "$" {
				names = append(names, name)
			}
		}
	}
	return names
}
