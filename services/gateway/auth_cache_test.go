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
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// A verified token is remembered, but never past its exp, never across a
// change of the key set, and never when it failed.
func TestVerified_tokens_are_remembered_within_their_exp_and_key_set_only(t *testing.T) {
	s := newTestSigner(t)
	keys := s.keys
	clock := time.Now()
	v := newVerifier(&gatewayconfig.Auth{Issuer: "i", Audiences: []string{"a"}, JWKSFile: s.path}, keys, func() time.Time { return clock })
	raw := s.sign(t, jwt.MapClaims{"iss": "i", "aud": "a", "sub": "ada", "exp": clock.Add(20 * time.Second).Unix()})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+raw)
	same := func(a, b jwt.MapClaims) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }

	first, err := v.verify(req)
	if err != nil {
		t.Fatal(err.message)
	}
	if again, _ := v.verify(req); !same(first, again) {
		t.Error("the second verification did not come from the cache")
	}
	// The same keys in a new set (a reload): verified again.
	keys.current.Store(&keySet{keys: keys.current.Load().keys, hash: "new"})
	if again, _ := v.verify(req); same(first, again) {
		t.Error("a token verified with the previous key set was served from the cache")
	}
	// Past exp (and the 30 s leeway): refused although it was cached.
	clock = clock.Add(time.Minute)
	if _, err := v.verify(req); err == nil || err.code != "token_expired" {
		t.Errorf("an expired token after caching: %+v", err)
	}
}
