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
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// HeaderSubject carries the verified token's subject to the backends. The
// gateway removes it from every incoming request, so a backend can trust it
// came from a token the gateway verified.
const HeaderSubject = "X-Skillmesh-Subject"

// signingMethods are the algorithms a token may be signed with: asymmetric
// only (a JWKS of public keys cannot verify HMAC, and accepting "none" or
// HS256 with a public key as secret is the classic JWT forgery).
var signingMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// clockLeeway absorbs small clock differences between issuer and gateway.
const clockLeeway = 30 * time.Second

// keySet is a parsed JWKS: public signing keys by key ID.
type keySet struct {
	keys map[string]jose.JSONWebKey
	hash string
}

// ParseJWKS reads a JSON Web Key Set of public signing keys. Every key needs
// a kid unless the set holds one key; private keys are refused (a JWKS for a
// verifier must not hold them), as are keys of a type tokens cannot be
// verified with.
func ParseJWKS(data []byte) (map[string]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("the JWKS holds no keys")
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("keys[%d] (kid %q) is a private key: a verifier's JWKS holds public keys only", i, k.KeyID)
		}
		if k.Use != "" && k.Use != "sig" {
			continue // an encryption key: not for tokens
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("keys[%d] (kid %q): a %T cannot verify a token signature", i, k.KeyID, k.Key)
		}
		if k.KeyID == "" && len(set.Keys) > 1 {
			return nil, fmt.Errorf("keys[%d] has no kid: a JWKS of several keys needs one on each", i)
		}
		if _, dup := keys[k.KeyID]; dup {
			return nil, fmt.Errorf("keys[%d]: kid %q appears twice", i, k.KeyID)
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("the JWKS holds no signing keys")
	}
	return keys, nil
}

// keyFile is the JWKS file, reloaded when its content changes, like the
// routes; a file that does not parse keeps the previous keys.
type keyFile struct {
	liveFile[keySet]
}

func newKeyFile(path string) *keyFile {
	return &keyFile{liveFile[keySet]{paths: []string{path}, parse: func(data [][]byte, hash string) (*keySet, error) {
		keys, err := ParseJWKS(data[0])
		if err != nil {
			return nil, err
		}
		return &keySet{keys: keys, hash: hash}, nil
	}}}
}

func (f *keyFile) path() string { return f.paths[0] }

// authError is why a request's token was not accepted: an HTTP status (401
// or 403), a code for programs and a message for people.
type authError struct {
	status        int
	code, message string
}

func unauthorized(code, format string, args ...any) *authError {
	return &authError{status: http.StatusUnauthorized, code: code, message: fmt.Sprintf(format, args...)}
}

// write answers with e: a 401 carries the RFC 6750 challenge, with
// error="invalid_token" when a token was sent.
func (e *authError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		challenge := `Bearer realm="skillmesh"`
		if e.code != "missing_token" {
			challenge += fmt.Sprintf(`, error="invalid_token", error_description=%q`, e.message)
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	httpx.WriteError(w, httpx.Errorf(e.status, e.code, "%s", e.message))
}

// verifier checks bearer tokens against one auth configuration.
type verifier struct {
	keys   *keyFile
	parser *jwt.Parser
	issuer string
	now    func() time.Time
	cache  verified
}

// Verifying an ES256 signature costs about 0.2 ms of CPU here, more than
// the rest of a proxied request; a client sends the same token many times.
// verified remembers tokens that passed, for at most verifiedTTL and never
// past their exp, and forgets them all when the key set changes (a removed
// key must stop verifying at once). Only successes are kept: a refused token
// is checked again every time.
const (
	verifiedTTL  = time.Minute
	verifiedSize = 10_000
)

type verified struct {
	mu      sync.Mutex
	keys    *keySet
	entries map[string]verifiedToken
}

type verifiedToken struct {
	claims jwt.MapClaims
	until  time.Time
}

func (c *verified) get(raw string, keys *keySet, now time.Time) (jwt.MapClaims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != keys {
		return nil, false
	}
	e, ok := c.entries[raw]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.claims, true
}

func (c *verified) put(raw string, keys *keySet, claims jwt.MapClaims, now time.Time) {
	until := now.Add(verifiedTTL)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && exp.Before(until) {
		until = exp.Time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != keys || c.entries == nil {
		c.keys, c.entries = keys, map[string]verifiedToken{}
	}
	if len(c.entries) >= verifiedSize {
		for k, e := range c.entries { // drop what expired, or else anything
			if !now.Before(e.until) || len(c.entries) >= verifiedSize {
				delete(c.entries, k)
			}
			if len(c.entries) < verifiedSize/2 {
				break
			}
		}
	}
	c.entries[raw] = verifiedToken{claims: claims, until: until}
}

func newVerifier(a *gatewayconfig.Auth, keys *keyFile, now func() time.Time) *verifier {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(signingMethods),
		jwt.WithIssuer(a.Issuer),
		jwt.WithAudience(a.Audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(clockLeeway),
	}
	if now != nil {
		opts = append(opts, jwt.WithTimeFunc(now))
	} else {
		now = time.Now
	}
	return &verifier{keys: keys, parser: jwt.NewParser(opts...), issuer: a.Issuer, now: now}
}

var errUnknownKey = errors.New("unknown key")

// verify returns the claims of the request's valid bearer token.
func (v *verifier) verify(r *http.Request) (jwt.MapClaims, *authError) {
	raw, ok := bearerToken(r)
	if !ok {
		return nil, unauthorized("missing_token", "this path needs a bearer token: send Authorization: Bearer <JWT>")
	}
	now, set := v.now(), v.keys.current.Load()
	if claims, ok := v.cache.get(raw, set, now); ok {
		return claims, nil
	}
	claims := jwt.MapClaims{}
	var kid string
	_, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if set == nil {
			return nil, errUnknownKey
		}
		k, ok := set.keys[kid]
		if !ok {
			return nil, errUnknownKey
		}
		if k.Algorithm != "" && k.Algorithm != t.Method.Alg() {
			return nil, fmt.Errorf("%w: key %q is for %s, the token is signed with %s", jwt.ErrTokenSignatureInvalid, kid, k.Algorithm, t.Method.Alg())
		}
		return k.Key, nil
	})
	if err == nil {
		v.cache.put(raw, set, claims, now)
		return claims, nil
	}
	return nil, classify(err, kid, v.issuer)
}

// classify names what is wrong with a token, most fundamental first: a
// token that is not a JWT, then its key and signature (claims of a token
// whose signature fails are not to be believed), then its claims.
func classify(err error, kid, issuer string) *authError {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("malformed_token", "the bearer token is not a JWT: %v", err)
	case errors.Is(err, errUnknownKey):
		return unauthorized("unknown_key", "the token is signed with key %q, which the gateway's JWKS does not hold", kid)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthorized("bad_signature", "the token's signature does not verify: %v", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("token_expired", "the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("token_not_yet_valid", "the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthorized("malformed_token", "the token lacks a required claim (exp): %v", err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return unauthorized("wrong_issuer", "the token was not issued by %q", issuer)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthorized("wrong_audience", "the token is not for this gateway's audience")
	default:
		return unauthorized("invalid_token", "the token is not valid: %v", err)
	}
}

// bearerToken reads "Authorization: Bearer <token>" (the scheme is
// case-insensitive, RFC 9110 §11.1).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authorize wraps next with a route's or aggregation's policy: with auth
// required, a valid token; with a {user_id} in the pattern, the token's
// userClaim must name that user. The verified subject goes to next in
// HeaderSubject.
func authorize(v *verifier, policy, userClaim string, hasUserID bool, next http.Handler) http.Handler {
	if policy != gatewayconfig.AuthRequired {
		return next
	}
	if userClaim == "" {
		userClaim = gatewayconfig.DefaultUserClaim
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, aerr := v.verify(r)
		if aerr != nil {
			aerr.write(w)
			return
		}
		if hasUserID {
			user := r.PathValue("user_id")
			got, _ := claims[userClaim].(string)
			if got != user {
				(&authError{status: http.StatusForbidden, code: "forbidden",
					message: fmt.Sprintf("the token's %s claim (%q) does not name user %q", userClaim, got, user)}).write(w)
				return
			}
		}
		if sub, err := claims.GetSubject(); err == nil && sub != "" {
			r.Header.Set(HeaderSubject, sub)
		}
		next.ServeHTTP(w, r)
	})
}
