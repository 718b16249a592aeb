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

package devauth

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

func TestA_kept_key_pair_signs_tokens_its_JWKS_verifies(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.kid != again.kid {
		t.Fatalf("the second make dev made a new key: %s, then %s", first.kid, again.kid)
	}
	raw, err := first.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() {
		t.Fatalf("JWKS %s: %v", raw, err)
	}
	tok, err := again.Token("ada", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(jwt.WithIssuer(Issuer), jwt.WithAudience(Audience), jwt.WithExpirationRequired()).
		ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) { return set.Key(t.Header["kid"].(string))[0].Key, nil })
	if err != nil || claims["sub"] != "ada" {
		t.Fatalf("token does not verify with the JWKS: %v %v", err, claims)
	}
}
