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
	"net/netip"
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
	Version int `json:"version"`
	// Auth verifies bearer tokens for the routes and aggregations that
	// require them.
	Auth *Auth `json:"auth,omitempty"`
	// RateLimit bounds each client's requests; nil: no limit.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// CORS lets browser apps on other origins call the gateway; nil: no
	// CORS headers, preflights are refused.
	CORS *CORS `json:"cors,omitempty"`
	// MaxRequestBodyBytes bounds a request body; 0 means DefaultMaxRequestBodyBytes.
	MaxRequestBodyBytes int64         `json:"maxRequestBodyBytes,omitempty"`
	Routes              []Route       `json:"routes"`
	Aggregations        []Aggregation `json:"aggregations"`
}

// DefaultMaxRequestBodyBytes is the body limit when the file sets none.
const DefaultMaxRequestBodyBytes = 1 << 20

// Auth is JWT verification: a token must be signed by a key of the JWKS
// file, issued by Issuer, for one of Audiences, and not expired.
type Auth struct {
	Issuer    string   `json:"issuer"`
	Audiences []string `json:"audiences"`
	// JWKSFile is the path of the JSON Web Key Set, reloaded when it changes.
	JWKSFile string `json:"jwksFile"`
}

// Route and aggregation auth policies.
const (
	AuthRequired = "required"
	AuthNone     = "none"
)

// DefaultUserClaim is the claim compared with a path's {user_id}.
const DefaultUserClaim = "sub"

// RateLimit is a token bucket per client address.
type RateLimit struct {
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	Burst             int     `json:"burst"`
	// TrustedProxies are the CIDRs whose X-Forwarded-For the gateway
	// believes; the client is then the last address not in them.
	TrustedProxies []string `json:"trustedProxies,omitempty"`
}

// CORS is the policy the gateway answers preflights and requests with.
type CORS struct {
	// AllowOrigins: exact origins ("https://app.example.com"), subdomain
	// wildcards ("https://*.example.com") or "*".
	AllowOrigins     []string `json:"allowOrigins"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	MaxAge           Duration `json:"maxAge,omitempty"`
}

// Route proxies a path prefix to one upstream.
type Route struct {
	// PathPrefix may hold {param} segments (e.g. /api/skills/users/{user_id});
	// StripPrefix and ReplacePrefix then act on its literal part before the
	// first one (LiteralPrefix).
	PathPrefix  string `json:"pathPrefix"`
	Service     string `json:"service"`
	Upstream    string `json:"upstream"`
	StripPrefix bool   `json:"stripPrefix,omitempty"`
	// ReplacePrefix replaces the literal prefix ("/api/skills/users" becomes
	// "/users"); StripPrefix is ReplacePrefix "/".
	ReplacePrefix string   `json:"replacePrefix,omitempty"`
	Timeout       Duration `json:"timeout"`
	// Auth is AuthRequired or AuthNone (the default).
	Auth string `json:"auth,omitempty"`
	// UserClaim, with Auth required and a {user_id} in the path, names the
	// claim that must equal it.
	UserClaim string `json:"userClaim,omitempty"`
	// Retries tries a GET or HEAD again, within Timeout.
	Retries *Retries `json:"retries,omitempty"`
	// RequestHeaders change what the upstream receives; ResponseHeaders
	// what the client receives.
	RequestHeaders  *HeaderOps `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderOps `json:"responseHeaders,omitempty"`
}

// Retries is a route's retry policy.
type Retries struct {
	Attempts      int      `json:"attempts"`
	PerTryTimeout Duration `json:"perTryTimeout,omitzero"`
}

// HeaderOps sets and removes headers.
type HeaderOps struct {
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// Aggregation fans one request out to several backends.
type Aggregation struct {
	Path      string            `json:"path"`
	Timeout   Duration          `json:"timeout"`
	OnError   string            `json:"onError"`
	Backends  []Backend         `json:"backends"`
	Compute   map[string]string `json:"compute,omitempty"`
	Auth      string            `json:"auth,omitempty"`
	UserClaim string            `json:"userClaim,omitempty"`
	// ForwardHeaders are copied from the incoming request to every backend
	// call; nil means DefaultForwardHeaders.
	ForwardHeaders []string `json:"forwardHeaders,omitempty"`
}

// DefaultForwardHeaders are what an aggregation's backends receive when the
// file names none: identity, language and trace context. The request ID and
// the verified subject always go.
var DefaultForwardHeaders = []string{"Authorization", "Accept-Language", "traceparent", "tracestate"}

// Backend is one call of an aggregation.
type Backend struct {
	Key      string `json:"key"`
	Service  string `json:"service"`
	Upstream string `json:"upstream"`
	Path     string `json:"path"`
	// Timeout bounds this backend's call, at most the aggregation's; zero
	// means the aggregation's.
	Timeout Duration `json:"timeout,omitzero"`
	// Coalesce lets calls to this backend that are in flight at once with
	// the same URL and forwarded headers (the caller's identity among them)
	// share one answer; nil means true.
	Coalesce *bool `json:"coalesce,omitempty"`
}

// Coalesced says whether identical in-flight calls to b share one answer.
func (b Backend) Coalesced() bool { return b.Coalesce == nil || *b.Coalesce }

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
	v := &validator{cfg: c, mux: http.NewServeMux(), prefixes: map[string]bool{}, paths: map[string]bool{}}
	if c.Version != Version {
		v.errs = append(v.errs, fmt.Errorf("version %d: this gateway reads version %d", c.Version, Version))
	}
	v.errs = append(v.errs, c.validateEdge()...)
	for i, r := range c.Routes {
		v.route(fmt.Sprintf("routes[%d] (%s)", i, r.PathPrefix), r)
	}
	for i, a := range c.Aggregations {
		v.aggregation(fmt.Sprintf("aggregations[%d] (%s)", i, a.Path), a)
	}
	return errors.Join(v.errs...)
}

// validator collects the problems of one file; mux holds every pattern seen
// so far, so collisions are found as the router would find them.
type validator struct {
	cfg             Config
	mux             *http.ServeMux
	prefixes, paths map[string]bool
	errs            []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func (v *validator) auth(field, policy string) {
	switch policy {
	case "", AuthNone:
	case AuthRequired:
		if v.cfg.Auth == nil {
			v.fail(field, "auth is required but the gateway has no auth (spec.auth) to verify tokens with")
		}
	default:
		v.fail(field, "auth %q must be required or none", policy)
	}
}

func (v *validator) route(field string, r Route) {
	if !strings.HasPrefix(r.PathPrefix, "/") || v.prefixes[r.PathPrefix] {
		v.fail(field, "pathPrefix %q must start with '/' and be unique", r.PathPrefix)
	}
	v.prefixes[r.PathPrefix] = true
	if !strings.HasPrefix(r.Upstream, "http://") && !strings.HasPrefix(r.Upstream, "https://") {
		v.fail(field, "upstream %q is not an http(s) URL", r.Upstream)
	} else if _, err := url.Parse(r.Upstream); err != nil {
		v.fail(field, "upstream: %v", err)
	}
	if r.Timeout.Duration <= 0 {
		v.fail(field, "timeout must be positive")
	}
	v.auth(field, r.Auth)
	if rt := r.Retries; rt != nil && (rt.Attempts < 1 || rt.PerTryTimeout.Duration < 0 || rt.PerTryTimeout.Duration > r.Timeout.Duration) {
		v.fail(field, "retries: attempts must be at least 1 and perTryTimeout at most the route's timeout %s", r.Timeout.Duration)
	}
	for name, ops := range map[string]*HeaderOps{"requestHeaders": r.RequestHeaders, "responseHeaders": r.ResponseHeaders} {
		if ops == nil {
			continue
		}
		for h := range ops.Set {
			if !isToken(h) {
				v.fail(field, "%s.set: %q is not a header name", name, h)
			}
		}
		for _, h := range ops.Remove {
			if !isToken(h) {
				v.fail(field, "%s.remove: %q is not a header name", name, h)
			}
		}
	}
	if r.ReplacePrefix != "" && (r.StripPrefix || !strings.HasPrefix(r.ReplacePrefix, "/") || strings.ContainsAny(r.ReplacePrefix, "{}?#")) {
		v.fail(field, "replacePrefix %q must be a path starting with '/', without {params}, and not set with stripPrefix", r.ReplacePrefix)
	}
	for seg := range strings.SplitSeq(r.PathPrefix, "/") {
		if _, isParam := segmentParam(seg); !isParam && strings.ContainsAny(seg, "{}") {
			v.fail(field, "pathPrefix segment %q: a {param} must be a whole segment", seg)
		}
	}
	for _, p := range RoutePatterns(r) {
		if err := Register(v.mux, p, http.NotFoundHandler()); err != nil {
			v.fail(field, "pathPrefix: %v", err)
		}
	}
}

func (v *validator) aggregation(field string, a Aggregation) {
	if !strings.HasPrefix(a.Path, "/") || v.paths[a.Path] {
		v.fail(field, "path %q must start with '/' and be unique", a.Path)
	}
	v.paths[a.Path] = true
	if a.OnError != "partial" && a.OnError != "fail" {
		v.fail(field, "onError %q must be partial or fail", a.OnError)
	}
	if a.Timeout.Duration <= 0 {
		v.fail(field, "timeout must be positive")
	}
	if len(a.Backends) == 0 {
		v.fail(field, "needs at least one backend")
	}
	v.auth(field, a.Auth)
	for k, h := range a.ForwardHeaders {
		if !isToken(h) {
			v.fail(field, "forwardHeaders[%d]: %q is not a header name", k, h)
		}
	}
	if err := Register(v.mux, AggregationPattern(a), http.NotFoundHandler()); err != nil {
		v.fail(field, "path: %v", err)
	}
	keys := map[string]bool{}
	for j, b := range a.Backends {
		bf := fmt.Sprintf("%s.backends[%d] (%s)", field, j, b.Key)
		if b.Key == "" || keys[b.Key] {
			v.fail(bf, "key %q must be set and unique", b.Key)
		}
		keys[b.Key] = true
		v.backend(bf, a, b)
	}
	if _, err := CompileCompute(a); err != nil {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				v.fail(field, "%v", e)
			}
		} else {
			v.fail(field, "%v", err)
		}
	}
}

func (v *validator) backend(field string, a Aggregation, b Backend) {
	if !strings.HasPrefix(b.Path, "/") {
		v.fail(field, "path %q must start with '/'", b.Path)
	}
	if !strings.HasPrefix(b.Upstream, "http://") && !strings.HasPrefix(b.Upstream, "https://") {
		v.fail(field, "upstream %q is not an http(s) URL", b.Upstream)
	}
	if b.Timeout.Duration < 0 || b.Timeout.Duration > a.Timeout.Duration {
		v.fail(field, "timeout %s must be positive and at most the aggregation's %s", b.Timeout.Duration, a.Timeout.Duration)
	}
	params := pathParams(a.Path)
	for seg := range strings.SplitSeq(b.Path, "/") {
		name, isParam := segmentParam(seg)
		name = strings.TrimSuffix(name, "...")
		switch {
		case !isParam && strings.ContainsAny(seg, "{}"):
			v.fail(field, "path segment %q: a {param} must be a whole segment", seg)
		case isParam && !params[name]:
			v.fail(field, "path %q names {%s}, which the aggregation's path %q does not have", b.Path, name, a.Path)
		}
	}
}

// validateEdge checks the gateway-wide settings: auth, rate limit, CORS and
// the body limit.
func (c Config) validateEdge() []error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if a := c.Auth; a != nil {
		if a.Issuer == "" {
			fail("auth.jwt", "issuer must be set")
		}
		if len(a.Audiences) == 0 {
			fail("auth.jwt", "audiences must name at least one audience")
		}
		if a.JWKSFile == "" {
			fail("auth.jwt", "jwksFile must be set")
		}
	}
	if rl := c.RateLimit; rl != nil {
		if rl.RequestsPerSecond <= 0 {
			fail("rateLimit", "requestsPerSecond must be positive")
		}
		if rl.Burst < 1 {
			fail("rateLimit", "burst must be at least 1")
		}
		for i, p := range rl.TrustedProxies {
			if _, err := ParsePrefix(p); err != nil {
				fail(fmt.Sprintf("rateLimit.trustedProxies[%d]", i), "%v", err)
			}
		}
	}
	if cors := c.CORS; cors != nil {
		if len(cors.AllowOrigins) == 0 {
			fail("cors", "allowOrigins must name at least one origin")
		}
		for i, o := range cors.AllowOrigins {
			if err := CheckOrigin(o); err != nil {
				fail(fmt.Sprintf("cors.allowOrigins[%d]", i), "%v", err)
			}
			if o == "*" && cors.AllowCredentials {
				fail(fmt.Sprintf("cors.allowOrigins[%d]", i), `"*" cannot be used with allowCredentials: browsers refuse credentials for any origin; list the origins`)
			}
		}
		for i, m := range cors.AllowMethods {
			if !isToken(m) {
				fail(fmt.Sprintf("cors.allowMethods[%d]", i), "%q is not an HTTP method", m)
			}
		}
		for i, h := range cors.AllowHeaders {
			if h != "*" && !isToken(h) {
				fail(fmt.Sprintf("cors.allowHeaders[%d]", i), "%q is not a header name", h)
			}
		}
		for i, h := range cors.ExposeHeaders {
			if !isToken(h) {
				fail(fmt.Sprintf("cors.exposeHeaders[%d]", i), "%q is not a header name", h)
			}
		}
		if cors.MaxAge.Duration < 0 {
			fail("cors", "maxAge must not be negative")
		}
	}
	if c.MaxRequestBodyBytes < 0 {
		fail("maxRequestBodyBytes", "must not be negative")
	}
	return errs
}

// ParsePrefix reads a CIDR, or a single address as its /32 or /128.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR nor an IP address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CheckOrigin accepts "*", or scheme://host[:port] where host may start
// with "*." for any subdomain; nothing else (no path, no trailing slash:
// a browser's Origin header never has them, so such an entry would never
// match).
func CheckOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(strings.Replace(o, "://*.", "://wildcard.", 1))
	if err != nil {
		return fmt.Errorf("origin %q: %v", o, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("origin %q must be scheme://host[:port] (http or https, no path), or \"*\"", o)
	}
	if strings.Count(o, "*") > 1 || (strings.Contains(o, "*") && !strings.Contains(o, "://*.")) {
		return fmt.Errorf("origin %q: a wildcard may only be a leading \"*.\" of the host", o)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		alnum := (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", r) {
			return false
		}
	}
	return true
}

// LiteralPrefix is the part of a route's pathPrefix that StripPrefix
// removes and ReplacePrefix replaces: everything before its first {param}
// segment, without a trailing slash ("/api/skills/users/{user_id}" has
// "/api/skills/users").
func LiteralPrefix(pathPrefix string) string {
	if i := strings.Index(pathPrefix, "/{"); i >= 0 {
		pathPrefix = pathPrefix[:i]
	}
	return strings.TrimSuffix(pathPrefix, "/")
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

// Register adds h to mux under pattern, turning ServeMux's panic on a bad
// or conflicting pattern into an error: Validate registers every pattern of
// a file as the gateway's router will, so both refuse the same files.
func Register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pattern %q: %v", pattern, r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// pathParams are the {names} of an aggregation's path (ServeMux wildcards,
// {name} or {name...}).
func pathParams(path string) map[string]bool {
	out := map[string]bool{}
	for seg := range strings.SplitSeq(path, "/") {
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
