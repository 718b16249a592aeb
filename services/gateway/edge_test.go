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

package gateway_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/gateway"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "skillmesh"
)

// signer is a real key pair: its public half goes into the JWKS file.
type signer struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

func newRSA(t *testing.T, kid string) signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, method: jwt.SigningMethodRS256, key: k}
}

func newEC(t *testing.T, kid string) signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, method: jwt.SigningMethodES256, key: k}
}

// token signs claims (with defaults for iss, aud, exp) as s, under kid.
func (s signer) token(t *testing.T, kid string, claims jwt.MapClaims) string {
	t.Helper()
	full := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for k, v := range claims {
		full[k] = v
		if v == nil {
			delete(full, k)
		}
	}
	tok := jwt.NewWithClaims(s.method, full)
	tok.Header["kid"] = kid
	raw, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func writeJWKS(t *testing.T, path string, signers ...signer) {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, s := range signers {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: s.key.Public(), KeyID: s.kid, Algorithm: s.method.Alg(), Use: "sig"})
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, path, data)
}

// echo is a backend that answers with what it received.
type echo struct {
	url   string
	calls atomic.Int64
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	e := &echo{}
	b := newBackend(t, 0, 200, nil)
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		httpx.Encode(w, http.StatusOK, map[string]any{
			"path": r.URL.Path, "query": r.URL.RawQuery, "subject": r.Header.Get(gateway.HeaderSubject),
			"authorization": r.Header.Get("Authorization"), "bytes": len(body),
		})
	})
	e.url = b.URL
	return e
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) code() string {
	if e, ok := a.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func call(t *testing.T, method, url string, body io.Reader, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// authConfig protects per-user routes and the dashboard; /api/open is open.
func authConfig(jwks string, e *echo) gatewayconfig.Config {
	return gatewayconfig.Config{
		Auth: &gatewayconfig.Auth{Issuer: testIssuer, Audiences: []string{"other", testAudience}, JWKSFile: jwks},
		Routes: []gatewayconfig.Route{
			{PathPrefix: "/api/skills/users/{user_id}", Service: "skills", Upstream: e.url, ReplacePrefix: "/users", Timeout: dur(5 * time.Second), Auth: "required"},
			{PathPrefix: "/api/skills", Service: "skills", Upstream: e.url, StripPrefix: true, Timeout: dur(5 * time.Second), Auth: "required"},
			{PathPrefix: "/api/open", Service: "skills", Upstream: e.url, Timeout: dur(5 * time.Second), Auth: "none"},
			{PathPrefix: "/api/mine/{user_id}", Service: "skills", Upstream: e.url, StripPrefix: true, Timeout: dur(5 * time.Second), Auth: "required", UserClaim: "email"},
		},
		Aggregations: []gatewayconfig.Aggregation{{Path: "/users/{user_id}/dashboard", Timeout: dur(2 * time.Second), OnError: "partial", Auth: "required",
			Backends: []gatewayconfig.Backend{{Key: "skills", Service: "skills", Upstream: e.url, Path: "/users/{user_id}/skills"}}}},
	}
}

func TestJWT_answers_name_the_problem_and_the_subject_reaches_the_backend(t *testing.T) {
	rsaKey, ecKey, stranger := newRSA(t, "rsa-1"), newEC(t, "ec-1"), newRSA(t, "rsa-1")
	dir := t.TempDir()
	jwks := filepath.Join(dir, "jwks.json")
	writeJWKS(t, jwks, rsaKey, ecKey)
	e := newEcho(t)
	url, _ := startGateway(t, authConfig(jwks, e))

	ada := rsaKey.token(t, "rsa-1", jwt.MapClaims{"sub": "ada"})
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		code    string
	}{
		{"no token", "/api/skills/users/ada/skills", nil, 401, "missing_token"},
		{"not a bearer", "/api/skills/users/ada/skills", map[string]string{"Authorization": "Basic YWRhOng="}, 401, "missing_token"},
		{"not a JWT", "/api/skills/users/ada/skills", bearer("abc.def"), 401, "malformed_token"},
		{"expired", "/api/skills/users/ada/skills", bearer(rsaKey.token(t, "rsa-1", jwt.MapClaims{"sub": "ada", "exp": time.Now().Add(-time.Hour).Unix()})), 401, "token_expired"},
		{"no expiry", "/api/skills/users/ada/skills", bearer(rsaKey.token(t, "rsa-1", jwt.MapClaims{"sub": "ada", "exp": nil})), 401, "malformed_token"},
		{"wrong issuer", "/api/skills/users/ada/skills", bearer(rsaKey.token(t, "rsa-1", jwt.MapClaims{"sub": "ada", "iss": "https://evil.test"})), 401, "wrong_issuer"},
		{"wrong audience", "/api/skills/users/ada/skills", bearer(rsaKey.token(t, "rsa-1", jwt.MapClaims{"sub": "ada", "aud": "payroll"})), 401, "wrong_audience"},
		{"signed by another key under a known kid", "/api/skills/users/ada/skills", bearer(stranger.token(t, "rsa-1", jwt.MapClaims{"sub": "ada"})), 401, "bad_signature"},
		{"unknown kid", "/api/skills/users/ada/skills", bearer(rsaKey.token(t, "rsa-9", jwt.MapClaims{"sub": "ada"})), 401, "unknown_key"},
		{"a kid of the other algorithm", "/api/skills/users/ada/skills", bearer(rsaKey.token(t, "ec-1", jwt.MapClaims{"sub": "ada"})), 401, "bad_signature"},
		{"another user's data", "/api/skills/users/grace/skills", bearer(ada), 403, "forbidden"},
		{"another user's dashboard", "/users/grace/dashboard", bearer(ada), 403, "forbidden"},
		{"her own data (RS256)", "/api/skills/users/ada/skills", bearer(ada), 200, ""},
		{"her own data (ES256)", "/api/skills/users/ada/skills", bearer(ecKey.token(t, "ec-1", jwt.MapClaims{"sub": "ada"})), 200, ""},
		{"her own dashboard", "/users/ada/dashboard", bearer(ada), 200, ""},
		{"a path with no user", "/api/skills/skills", bearer(ada), 200, ""},
		{"an open route", "/api/open/x", nil, 200, ""},
		{"another claim names the user", "/api/mine/ada@example.com/x", bearer(rsaKey.token(t, "rsa-1", jwt.MapClaims{"sub": "ada", "email": "ada@example.com"})), 200, ""},
		{"another claim names someone else", "/api/mine/ada@example.com/x", bearer(ada), 403, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, http.MethodGet, url+tc.path, nil, tc.headers)
			if a.status != tc.status || a.code() != tc.code {
				t.Fatalf("%s: %d %q %v, want %d %q", tc.path, a.status, a.code(), a.body, tc.status, tc.code)
			}
			if tc.status == 401 {
				if got := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
				}
				if msg, _ := a.body["error"].(map[string]any)["message"].(string); msg == "" {
					t.Error("a 401 must say why in its message")
				}
			}
		})
	}

	// The subject the gateway verified reaches the backend, and the prefix up
	// to the first {param} is replaced.
	a := call(t, http.MethodGet, url+"/api/skills/users/ada/skills", nil, bearer(ada))
	if a.body["subject"] != "ada" || a.body["path"] != "/users/ada/skills" {
		t.Errorf("backend saw %v", a.body)
	}
	dash := call(t, http.MethodGet, url+"/users/ada/dashboard", nil, bearer(ada))
	if s, _ := dash.body["skills"].(map[string]any); s["subject"] != "ada" {
		t.Errorf("the aggregation's backend saw %v", dash.body)
	}
	// A forged subject header never reaches a backend.
	forged := call(t, http.MethodGet, url+"/api/open/x", nil, map[string]string{gateway.HeaderSubject: "root"})
	if forged.body["subject"] != "" {
		t.Errorf("forged subject reached the backend: %v", forged.body)
	}
}

func TestJWT_keys_rotate_live_and_a_bad_JWKS_keeps_the_old_keys(t *testing.T) {
	old, next := newRSA(t, "2026-11"), newEC(t, "2026-12")
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	writeJWKS(t, jwks, old)
	url, _ := startGateway(t, authConfig(jwks, newEcho(t)))
	path := url + "/api/skills/users/ada/skills"
	if a := call(t, http.MethodGet, path, nil, bearer(old.token(t, old.kid, jwt.MapClaims{"sub": "ada"}))); a.status != 200 {
		t.Fatalf("old key before rotation: %d %v", a.status, a.body)
	}

	writeJWKS(t, jwks, next)
	waitFor(t, func() bool {
		return call(t, http.MethodGet, path, nil, bearer(next.token(t, next.kid, jwt.MapClaims{"sub": "ada"}))).status == 200
	})
	if a := call(t, http.MethodGet, path, nil, bearer(old.token(t, old.kid, jwt.MapClaims{"sub": "ada"}))); a.code() != "unknown_key" {
		t.Errorf("the retired key still verifies: %d %v", a.status, a.body)
	}

	writeRaw(t, jwks, []byte(`{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}`))
	waitFor(t, func() bool {
		_, _, h := getJSON(t, url+"/health")
		return strings.Contains(jsonString(h), "JWKS file was refused")
	})
	if a := call(t, http.MethodGet, path, nil, bearer(next.token(t, next.kid, jwt.MapClaims{"sub": "ada"}))); a.status != 200 {
		t.Errorf("a refused JWKS must keep the previous keys: %d %v", a.status, a.body)
	}
	waitOK(t, url+"/health/ready")
}

func TestRate_limit_per_client_with_Retry_After(t *testing.T) {
	e := newEcho(t)
	cfg := gatewayconfig.Config{
		RateLimit: &gatewayconfig.RateLimit{RequestsPerSecond: 0.5, Burst: 3, TrustedProxies: []string{"127.0.0.1"}},
		Routes:    []gatewayconfig.Route{{PathPrefix: "/api", Service: "s", Upstream: e.url, Timeout: dur(5 * time.Second)}},
	}
	url, _ := startGateway(t, cfg)
	burst := func(client string) (ok, limited int, retryAfter string) {
		for range 5 {
			a := call(t, http.MethodGet, url+"/api/x", nil, map[string]string{"X-Forwarded-For": client})
			switch a.status {
			case 200:
				ok++
			case 429:
				limited++
				retryAfter = a.header.Get("Retry-After")
				if a.code() != "rate_limited" {
					t.Errorf("429 code = %q", a.code())
				}
			default:
				t.Errorf("status %d %v", a.status, a.body)
			}
		}
		return ok, limited, retryAfter
	}
	ok, limited, retry := burst("203.0.113.7")
	if ok != 3 || limited != 2 {
		t.Fatalf("burst of 5 with burst 3: %d ok, %d limited", ok, limited)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 2 {
		t.Errorf("Retry-After = %q, want 1-2 s at 0.5 req/s", retry)
	}
	// Through the trusted proxy, another client has its own bucket.
	if ok, _, _ := burst("198.51.100.1, 203.0.113.9"); ok != 3 {
		t.Errorf("a second client behind the proxy got %d of its burst", ok)
	}
	// The leftmost entries are the client's own words: never believed.
	if ok, _, _ := burst("192.0.2.50, 203.0.113.7"); ok != 0 {
		t.Errorf("a forged leftmost X-Forwarded-For bought %d requests", ok)
	}
}

func TestCORS_preflights_are_answered_by_the_gateway(t *testing.T) {
	e := newEcho(t)
	cfg := gatewayconfig.Config{
		CORS: &gatewayconfig.CORS{AllowOrigins: []string{"https://app.example.com", "https://*.example.org"}, AllowMethods: []string{"GET", "POST", "PUT"},
			AllowHeaders: []string{"Authorization", "Content-Type"}, ExposeHeaders: []string{"X-Request-ID"}, AllowCredentials: true, MaxAge: dur(10 * time.Minute)},
		Routes: []gatewayconfig.Route{{PathPrefix: "/api", Service: "s", Upstream: e.url, Timeout: dur(5 * time.Second)}},
	}
	url, _ := startGateway(t, cfg)
	preflight := func(origin, method, headers string) answer {
		return call(t, http.MethodOptions, url+"/api/x", nil, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})
	}
	a := preflight("https://app.example.com", "PUT", "authorization, content-type")
	if a.status != 204 || a.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		a.header.Get("Access-Control-Allow-Credentials") != "true" || a.header.Get("Access-Control-Max-Age") != "600" ||
		!strings.Contains(a.header.Get("Access-Control-Allow-Methods"), "PUT") || a.header.Get("Access-Control-Allow-Headers") == "" {
		t.Errorf("allowed preflight: %d %v", a.status, a.header)
	}
	if a := preflight("https://eu.example.org", "GET", ""); a.status != 204 {
		t.Errorf("subdomain wildcard: %d", a.status)
	}
	for _, bad := range []struct{ origin, method, headers, code string }{
		{"https://evil.test", "GET", "", "cors_origin_not_allowed"},
		{"https://example.org", "GET", "", "cors_origin_not_allowed"},
		{"https://evilexample.org", "GET", "", "cors_origin_not_allowed"},
		{"https://app.example.com", "DELETE", "", "cors_method_not_allowed"},
		{"https://app.example.com", "PUT", "x-admin", "cors_headers_not_allowed"},
	} {
		if a := preflight(bad.origin, bad.method, bad.headers); a.status != 403 || a.code() != bad.code || a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight %+v: %d %q %v", bad, a.status, a.code(), a.header)
		}
	}
	if n := e.calls.Load(); n != 0 {
		t.Errorf("%d preflights were forwarded", n)
	}
	a = call(t, http.MethodGet, url+"/api/x", nil, map[string]string{"Origin": "https://app.example.com"})
	if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || a.header.Get("Access-Control-Expose-Headers") != "X-Request-ID" {
		t.Errorf("actual request: %d %v", a.status, a.header)
	}
	if a := call(t, http.MethodGet, url+"/api/x", nil, map[string]string{"Origin": "https://evil.test"}); a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a disallowed origin got CORS headers: %v", a.header)
	}
}

func TestBody_limit_413_before_forwarding_and_a_backend_early_answer_passes_through(t *testing.T) {
	e := newEcho(t)
	// A backend with a smaller limit than the gateway's: the services'
	// own decoder (1 MiB), which answers 413 early and drains.
	strict := newBackend(t, 0, 200, nil)
	strict.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := httpx.Decode[summary](w, r); err != nil {
			httpx.WriteError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	cfg := gatewayconfig.Config{
		MaxRequestBodyBytes: 4 << 20,
		Routes: []gatewayconfig.Route{
			{PathPrefix: "/api/echo", Service: "echo", Upstream: e.url, Timeout: dur(5 * time.Second)},
			{PathPrefix: "/api/strict", Service: "strict", Upstream: strict.URL, Timeout: dur(5 * time.Second)},
		},
	}
	url, _ := startGateway(t, cfg)
	huge := append([]byte(`{"summary":"`), bytes.Repeat([]byte("a"), 8<<20)...)
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(huge)
		if chunked {
			body = io.MultiReader(body)
		}
		if a := call(t, http.MethodPost, url+"/api/echo", body, nil); a.status != 413 || a.code() != "body_too_large" {
			t.Errorf("8 MiB (chunked %v) over a 4 MiB limit: %d %v", chunked, a.status, a.body)
		}
	}
	if n := e.calls.Load(); n > 1 {
		// A chunked body is only known to be too large once it is being
		// forwarded; one declared too large is never forwarded.
		t.Errorf("the backend was called %d times", n)
	}
	mid := append([]byte(`{"summary":"`), bytes.Repeat([]byte("a"), 2<<20)...)
	for i := range 5 {
		if a := call(t, http.MethodPost, url+"/api/strict", bytes.NewReader(mid), nil); a.status != 413 || a.code() != "body_too_large" {
			t.Fatalf("try %d: 2 MiB to a backend that takes 1 MiB: %d %v, want its own 413 passed through", i, a.status, a.body)
		}
	}
}

type summary struct {
	Summary string `json:"summary"`
}

func (summary) Validate() error { return nil }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// headerEcho answers with the query and the headers it received.
func headerEcho(t *testing.T, delay time.Duration) *backend {
	t.Helper()
	b := newBackend(t, 0, 200, nil)
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		h := map[string]string{}
		for k := range r.Header {
			h[k] = r.Header.Get(k)
		}
		httpx.Encode(w, http.StatusOK, map[string]any{"query": r.URL.RawQuery, "headers": h})
	})
	return b
}

func TestAggregation_backends_get_the_query_the_forwarded_headers_and_their_own_timeout(t *testing.T) {
	fast, slow := headerEcho(t, 0), headerEcho(t, 500*time.Millisecond)
	agg := func(path string, forward []string) gatewayconfig.Aggregation {
		return gatewayconfig.Aggregation{Path: path, Timeout: dur(3 * time.Second), OnError: "partial", ForwardHeaders: forward,
			Backends: []gatewayconfig.Backend{
				{Key: "fast", Service: "fast", Upstream: fast.URL, Path: "/users/{user_id}/x"},
				{Key: "slow", Service: "slow", Upstream: slow.URL, Path: "/users/{user_id}/y", Timeout: dur(100 * time.Millisecond)},
			}}
	}
	url, _ := startGateway(t, gatewayconfig.Config{Aggregations: []gatewayconfig.Aggregation{
		agg("/users/{user_id}/dashboard", nil), agg("/users/{user_id}/tenant", []string{"X-Tenant"}),
	}})
	headers := map[string]string{"Authorization": "Bearer t", "Accept-Language": "de", "Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"X-Tenant": "acme", "Cookie": "session=secret"}
	start := time.Now()
	a := call(t, http.MethodGet, url+"/users/ada/dashboard?lang=de&page=2", nil, headers)
	took := time.Since(start)
	fastGot, _ := a.body["fast"].(map[string]any)
	got, _ := fastGot["headers"].(map[string]any)
	if fastGot["query"] != "lang=de&page=2" {
		t.Errorf("query = %v, want lang=de&page=2", fastGot["query"])
	}
	for _, h := range []string{"Authorization", "Accept-Language", "Traceparent", "X-Request-Id"} {
		if got[h] == nil || got[h] == "" {
			t.Errorf("the backend did not receive %s: %v", h, got)
		}
	}
	for _, h := range []string{"Cookie", "X-Tenant"} {
		if got[h] != nil {
			t.Errorf("the backend received %s, which is not to be forwarded", h)
		}
	}
	errs, _ := a.body["_errors"].(map[string]any)
	if _, ok := errs["slow"]; !ok || a.body["slow"] != nil || took > 400*time.Millisecond {
		t.Errorf("the slow backend's own 100ms timeout did not cut it: %v after %s", a.body, took)
	}

	a = call(t, http.MethodGet, url+"/users/ada/tenant", nil, headers)
	fastGot, _ = a.body["fast"].(map[string]any)
	got, _ = fastGot["headers"].(map[string]any)
	if got["X-Tenant"] != "acme" || got["Authorization"] != nil {
		t.Errorf("forwardHeaders [X-Tenant]: the backend got %v", got)
	}
}

// flaky answers 503 to its first failures calls, sleeping slow on the
// first, then 200; it counts calls by method.
type flaky struct {
	url          string
	calls, posts atomic.Int64
}

func newFlaky(t *testing.T, failures int64, slow time.Duration) *flaky {
	t.Helper()
	f := &flaky{}
	b := newBackend(t, 0, 200, nil)
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.calls.Add(1)
		if r.Method == http.MethodPost {
			f.posts.Add(1)
		}
		if n == 1 && slow > 0 {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return
			}
		}
		if n <= failures {
			httpx.WriteError(w, httpx.Errorf(http.StatusServiceUnavailable, "unavailable", "try %d", n))
			return
		}
		w.Header().Set("X-Powered-By", "flaky")
		httpx.Encode(w, http.StatusOK, map[string]any{"try": n, "env": r.Header.Get("X-Env"), "cookie": r.Header.Get("Cookie")})
	})
	f.url = b.URL
	return f
}

func TestRoute_retries_GET_and_HEAD_within_the_route_deadline_only(t *testing.T) {
	twice := newFlaky(t, 2, 0)
	slowFirst := newFlaky(t, 0, 2*time.Second)
	// never takes 200 ms every time: each try is cut at its 100 ms.
	var neverCalls atomic.Int64
	never := newBackend(t, 0, 200, nil)
	never.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		neverCalls.Add(1)
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
		}
	})
	retry := &gatewayconfig.Retries{Attempts: 3, PerTryTimeout: dur(150 * time.Millisecond)}
	url, _ := startGateway(t, gatewayconfig.Config{Routes: []gatewayconfig.Route{
		{PathPrefix: "/twice", Service: "a", Upstream: twice.url, Timeout: dur(5 * time.Second), Retries: retry},
		{PathPrefix: "/slow", Service: "b", Upstream: slowFirst.url, Timeout: dur(5 * time.Second), Retries: retry},
		{PathPrefix: "/never", Service: "c", Upstream: never.URL, Timeout: dur(250 * time.Millisecond),
			Retries: &gatewayconfig.Retries{Attempts: 50, PerTryTimeout: dur(100 * time.Millisecond)}},
	}})
	if a := call(t, http.MethodGet, url+"/twice", nil, nil); a.status != 200 || a.body["try"] != float64(3) {
		t.Errorf("GET after two 503s: %d %v, want 200 on the third try", a.status, a.body)
	}
	before := twice.calls.Load()
	if a := call(t, http.MethodPost, url+"/twice", strings.NewReader("{}"), nil); a.status != 200 || twice.calls.Load()-before != 1 {
		t.Errorf("POST: %d after %d calls, want one call", a.status, twice.calls.Load()-before)
	}
	start := time.Now()
	if a := call(t, http.MethodGet, url+"/slow", nil, nil); a.status != 200 || time.Since(start) > time.Second {
		t.Errorf("a slow first try: %d after %s, want 200 from the second try (perTryTimeout 150ms)", a.status, time.Since(start))
	}
	start = time.Now()
	a := call(t, http.MethodGet, url+"/never", nil, nil)
	took := time.Since(start)
	// 50 attempts were allowed; the 250 ms deadline allows only a few.
	if a.status != http.StatusGatewayTimeout || took > 600*time.Millisecond {
		t.Errorf("always too slow: %d after %s, want 504 at the route's 250ms deadline", a.status, took)
	}
	if n := neverCalls.Load(); n < 2 || n > 3 {
		t.Errorf("%d tries of the 50 allowed: want 2 or 3 (100 ms each within 250 ms)", n)
	}
}

func TestRoute_header_ops_and_a_timeout_longer_than_the_servers_write_timeout(t *testing.T) {
	ok := newFlaky(t, 0, 0)
	slow := newBackend(t, 700*time.Millisecond, 200, map[string]string{"slow": "done"})
	url, _ := startGateway(t, gatewayconfig.Config{
		Routes: []gatewayconfig.Route{
			{PathPrefix: "/ops", Service: "a", Upstream: ok.url, Timeout: dur(5 * time.Second),
				RequestHeaders:  &gatewayconfig.HeaderOps{Set: map[string]string{"x-env": "prod"}, Remove: []string{"cookie"}},
				ResponseHeaders: &gatewayconfig.HeaderOps{Set: map[string]string{"Cache-Control": "no-store"}, Remove: []string{"X-Powered-By"}}},
			{PathPrefix: "/slow", Service: "b", Upstream: slow.URL, Timeout: dur(3 * time.Second)},
		},
		Aggregations: []gatewayconfig.Aggregation{{Path: "/agg", Timeout: dur(3 * time.Second), OnError: "fail",
			Backends: []gatewayconfig.Backend{{Key: "slow", Service: "b", Upstream: slow.URL, Path: "/x"}}}},
	}, "GATEWAY_WRITE_TIMEOUT", "300ms")
	a := call(t, http.MethodGet, url+"/ops", nil, map[string]string{"Cookie": "session=1", "X-Env": "dev"})
	if a.body["env"] != "prod" || a.body["cookie"] != "" || a.header.Get("Cache-Control") != "no-store" || a.header.Get("X-Powered-By") != "" {
		t.Errorf("header ops: backend saw %v, client got %v", a.body, a.header)
	}
	// The server's write timeout is 300 ms here; the route and the
	// aggregation allow 3 s and the backend takes 700 ms.
	for _, path := range []string{"/slow", "/agg"} {
		if a := call(t, http.MethodGet, url+path, nil, nil); a.status != 200 {
			t.Errorf("%s: %d %v: the server's write timeout cut a route with a longer timeout", path, a.status, a.body)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 named cn as a
// kubernetes.io/tls Secret's files would be.
func selfSigned(t *testing.T, dir, cn string) *x509.CertPool {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: a reader between the two writes sees a pair that does
	// not match, which it must refuse and keep the previous one.
	writeRaw(t, filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	writeRaw(t, filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	return pool
}

func TestTLS_serves_HTTPS_and_a_rotated_certificate_without_a_restart(t *testing.T) {
	dir := t.TempDir()
	first := selfSigned(t, dir, "first")
	e := newEcho(t)
	path := filepath.Join(t.TempDir(), gatewayconfig.FileName)
	writeConfig(t, path, gatewayconfig.Config{Routes: []gatewayconfig.Route{{PathPrefix: "/api", Service: "s", Upstream: e.url, Timeout: dur(5 * time.Second)}}})
	url := "https" + strings.TrimPrefix(runGateway(t, path, "GATEWAY_TLS_CERT_FILE", filepath.Join(dir, "tls.crt"), "GATEWAY_TLS_KEY_FILE", filepath.Join(dir, "tls.key")), "http")
	served := func(pool *x509.CertPool) (string, int, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		resp, err := c.Get(url + "/api/x")
		if err != nil {
			return "", 0, err
		}
		defer func() { _ = resp.Body.Close() }()
		return resp.TLS.PeerCertificates[0].Subject.CommonName + " " + resp.Proto, resp.StatusCode, nil
	}
	waitFor(t, func() bool { _, code, err := served(first); return err == nil && code == 200 })
	got, _, _ := served(first)
	if got != "first HTTP/2.0" {
		t.Errorf("served %q, want the first certificate over HTTP/2", got)
	}
	if resp, err := http.Get("http" + strings.TrimPrefix(url, "https") + "/api/x"); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered on the TLS port")
		}
	}

	second := selfSigned(t, dir, "second")
	waitFor(t, func() bool { got, _, err := served(second); return err == nil && strings.HasPrefix(got, "second") })
	if _, _, err := served(first); err == nil {
		t.Error("the rotated-out certificate is still served")
	}
}
