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

// Package gatewayconfig is the file the Gateway controller writes and the
// bundled gateway reads: routes and aggregations with every backend already
// resolved to a URL. Both sides import this one leaf package, so the writer
// and the reader cannot drift apart.
package gatewayconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// FileName is the key of the ConfigMap and the file the gateway reads.
const FileName = "gateway.json"

// EnvConfigPath names the variable that tells the gateway where the file is.
const EnvConfigPath = "GATEWAY_CONFIG"

// Version of the schema; a reader refuses a file of another version.
const Version = 1

// Config is the whole file.
type Config struct {
	Version      int           `json:"version"`
	Routes       []Route       `json:"routes"`
	Aggregations []Aggregation `json:"aggregations"`
}

// Route proxies a path prefix to one upstream.
type Route struct {
	PathPrefix  string   `json:"pathPrefix"`
	Service     string   `json:"service"`
	Upstream    string   `json:"upstream"`
	StripPrefix bool     `json:"stripPrefix,omitempty"`
	Timeout     Duration `json:"timeout"`
}

// Aggregation fans one request out to several backends.
type Aggregation struct {
	Path     string            `json:"path"`
	Timeout  Duration          `json:"timeout"`
	OnError  string            `json:"onError"`
	Backends []Backend         `json:"backends"`
	Compute  map[string]string `json:"compute,omitempty"`
}

// Backend is one call of an aggregation.
type Backend struct {
	Key      string `json:"key"`
	Service  string `json:"service"`
	Upstream string `json:"upstream"`
	Path     string `json:"path"`
}

// Duration is a time.Duration written as "2s" in JSON.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "2s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		d.Duration = v
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want \"2s\" or nanoseconds")
	}
	d.Duration = time.Duration(n)
	return nil
}

// Marshal writes c deterministically (maps are sorted by encoding/json), so
// the same Gateway always renders the same bytes.
func Marshal(c Config) ([]byte, error) {
	c.Version = Version
	return json.MarshalIndent(c, "", "  ")
}

// Parse reads and validates a file.
func Parse(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("parse gateway config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports everything the gateway would refuse, each problem named
// by its place in the file (routes[0], aggregations[1].compute.total): what
// the CRD's schema checks, for files written by hand, and what it cannot:
// expressions that do not compile, backend paths naming a {param} their
// aggregation lacks, paths the gateway's router cannot tell apart. The
// operator runs it on the file it is about to write and the gateway on the
// file it is about to serve.
func (c Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Version != Version {
		errs = append(errs, fmt.Errorf("version %d: this gateway reads version %d", c.Version, Version))
	}
	mux := http.NewServeMux()
	prefixes := map[string]bool{}
	for i, r := range c.Routes {
		field := fmt.Sprintf("routes[%d] (%s)", i, r.PathPrefix)
		if !strings.HasPrefix(r.PathPrefix, "/") || prefixes[r.PathPrefix] {
			fail(field, "pathPrefix %q must start with '/' and be unique", r.PathPrefix)
		}
		prefixes[r.PathPrefix] = true
		if !strings.HasPrefix(r.Upstream, "http://") && !strings.HasPrefix(r.Upstream, "https://") {
			fail(field, "upstream %q is not an http(s) URL", r.Upstream)
		} else if _, err := url.Parse(r.Upstream); err != nil {
			fail(field, "upstream: %v", err)
		}
		if r.Timeout.Duration <= 0 {
			fail(field, "timeout must be positive")
		}
		for _, p := range RoutePatterns(r) {
			if err := register(mux, p); err != nil {
				fail(field, "pathPrefix: %v", err)
			}
		}
	}
	paths := map[string]bool{}
	for i, a := range c.Aggregations {
		field := fmt.Sprintf("aggregations[%d] (%s)", i, a.Path)
		if !strings.HasPrefix(a.Path, "/") || paths[a.Path] {
			fail(field, "path %q must start with '/' and be unique", a.Path)
		}
		paths[a.Path] = true
		if a.OnError != "partial" && a.OnError != "fail" {
			fail(field, "onError %q must be partial or fail", a.OnError)
		}
		if a.Timeout.Duration <= 0 {
			fail(field, "timeout must be positive")
		}
		if len(a.Backends) == 0 {
			fail(field, "needs at least one backend")
		}
		if err := register(mux, AggregationPattern(a)); err != nil {
			fail(field, "path: %v", err)
		}
		params := pathParams(a.Path)
		keys := map[string]bool{}
		for j, b := range a.Backends {
			bf := fmt.Sprintf("%s.backends[%d] (%s)", field, j, b.Key)
			if b.Key == "" || keys[b.Key] {
				fail(bf, "key %q must be set and unique", b.Key)
			}
			keys[b.Key] = true
			if !strings.HasPrefix(b.Path, "/") {
				fail(bf, "path %q must start with '/'", b.Path)
			}
			if !strings.HasPrefix(b.Upstream, "http://") && !strings.HasPrefix(b.Upstream, "https://") {
				fail(bf, "upstream %q is not an http(s) URL", b.Upstream)
			}
			for _, seg := range strings.Split(b.Path, "/") {
				name, isParam := segmentParam(seg)
				name = strings.TrimSuffix(name, "...")
				switch {
				case !isParam && strings.ContainsAny(seg, "{}"):
					fail(bf, "path segment %q: a {param} must be a whole segment", seg)
				case isParam && !params[name]:
					fail(bf, "path %q names {%s}, which the aggregation's path %q does not have", b.Path, name, a.Path)
				}
			}
		}
		if _, err := CompileCompute(a); err != nil {
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range joined.Unwrap() {
					fail(field, "%v", e)
				}
			} else {
				fail(field, "%v", err)
			}
		}
	}
	return errors.Join(errs...)
}

// RoutePatterns are the router's patterns for a route: the prefix itself and
// everything under it.
func RoutePatterns(r Route) []string {
	prefix := strings.TrimSuffix(r.PathPrefix, "/")
	if prefix == "" {
		return []string{"/"}
	}
	return []string{prefix, prefix + "/"}
}

// AggregationPattern is the router's pattern for an aggregation: GET only.
func AggregationPattern(a Aggregation) string { return http.MethodGet + " " + a.Path }

// register adds pattern to mux, turning ServeMux's panic on a bad or
// conflicting pattern into an error.
func register(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return nil
}

// pathParams are the {names} of an aggregation's path (ServeMux wildcards,
// {name} or {name...}).
func pathParams(path string) map[string]bool {
	out := map[string]bool{}
	for _, seg := range strings.Split(path, "/") {
		if name, ok := segmentParam(seg); ok {
			out[strings.TrimSuffix(name, "...")] = true // {rest...} names rest
		}
	}
	return out
}

// segmentParam is the name of a path segment that is a {name}.
func segmentParam(seg string) (string, bool) {
	if len(seg) > 2 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}
