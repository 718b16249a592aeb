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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// FuzzParseJWKS: any bytes as a JWKS file: an error or keys, never a panic,
// and never a private key kept.
func FuzzParseJWKS(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "a", Algorithm: "ES256", Use: "sig"}}})
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "a"}}})
	for _, seed := range [][]byte{pub, priv, []byte(`{"keys":[]}`), []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), []byte(`{`)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			return
		}
		for kid, k := range keys {
			if !k.IsPublic() {
				t.Fatalf("kept a private key %q", kid)
			}
		}
	})
}

// FuzzVerify: any Authorization header: never a panic, and nothing but the
// one token signed with the key is ever accepted.
func FuzzVerify(f *testing.F) {
	s := newTestSigner(f)
	v := newVerifier(&gatewayconfig.Auth{Issuer: "i", Audiences: []string{"a"}, JWKSFile: s.path}, s.keys, nil)
	valid := s.sign(f, jwt.MapClaims{"iss": "i", "aud": "a", "sub": "ada", "exp": time.Now().Add(time.Hour).Unix()})
	parts := strings.Split(valid, ".")
	for _, seed := range []string{"Bearer " + valid, "Bearer " + parts[0] + "." + parts[1] + ".", "bearer x.y.z",
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.", "Basic abc", "Bearer " + parts[0] + ".e30." + parts[2]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", header)
		claims, aerr := v.verify(r)
		if aerr == nil {
			if got, _ := bearerToken(r); got != valid {
				t.Fatalf("accepted a token the key did not sign: %q (%v)", header, claims)
			}
			return
		}
		if aerr.status != http.StatusUnauthorized || aerr.code == "" || aerr.message == "" {
			t.Fatalf("refusal without a status, code or message: %+v", aerr)
		}
	})
}

// FuzzCORS: any Origin and preflight headers: never a panic, a wildcard
// origin only ever matches a subdomain of its own scheme, and a refused
// origin never gets an Allow-Origin header.
func FuzzCORS(f *testing.F) {
	p := newCORS(&gatewayconfig.CORS{AllowOrigins: []string{"https://app.example.com", "https://*.example.org"},
		AllowMethods: []string{"GET", "PUT"}, AllowHeaders: []string{"Authorization"}, AllowCredentials: true})
	h := p.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	for _, o := range []string{"https://app.example.com", "https://eu.example.org", "https://example.org", "https://evilexample.org",
		"http://eu.example.org", "https://a.b.example.org", "null", "", "https://x@y.example.org", "HTTPS://EU.EXAMPLE.ORG"} {
		f.Add(o, "PUT", "authorization")
	}
	f.Fuzz(func(t *testing.T, origin, method, headers string) {
		if err := gatewayconfig.CheckOrigin(origin); err == nil && origin != "*" && !strings.Contains(origin, "://") {
			t.Fatalf("CheckOrigin accepted %q", origin)
		}
		allowed := p.allowsOrigin(origin)
		lower := strings.ToLower(origin)
		if allowed && lower != "https://app.example.com" {
			rest, ok := strings.CutPrefix(lower, "https://")
			if !ok || !strings.HasSuffix(rest, ".example.org") || strings.ContainsAny(rest, "/@:") {
				t.Fatalf("the wildcard matched %q", origin)
			}
		}
		r := httptest.NewRequest(http.MethodOptions, "/", nil)
		for k, v := range map[string]string{"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers} {
			if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
				r.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if !allowed && w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("refused origin %q got Access-Control-Allow-Origin", origin)
		}
	})
}
