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

// Package devauth is the development token issuer of make dev and the e2e
// suite: an ES256 key pair kept in a directory, its public half as the JWKS
// the sample Gateway verifies with, and tokens for a user. It is for
// development only: a real deployment's tokens come from its identity
// provider, and its JWKS from that provider's jwks_uri.
package devauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// The sample Gateway's auth.jwt: config/samples/platform_v1alpha1_gateway.yaml.
const (
	Issuer   = "https://skillmesh.dev/dev"
	Audience = "skillmesh"
	// SecretName and SecretKey hold the JWKS in the sample's namespace.
	SecretName = "gateway-jwks"
	SecretKey  = "jwks.json"
)

const privateFile = "private.pem"

// KeyPair signs development tokens.
type KeyPair struct {
	key *ecdsa.PrivateKey
	kid string
}

// LoadOrCreate reads the key pair in dir, making one the first time, so the
// tokens printed by one make dev stay valid in the next.
func LoadOrCreate(dir string) (*KeyPair, error) {
	path := filepath.Join(dir, privateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		der, merr := x509.MarshalPKCS8PrivateKey(key)
		if merr != nil {
			return nil, merr
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		data = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads a PEM PKCS#8 P-256 private key.
func Parse(pemData []byte) (*KeyPair, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("devauth: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devauth: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("devauth: a %T, not an ECDSA key", k)
	}
	pub, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pub)
	return &KeyPair{key: ec, kid: "dev-" + hex.EncodeToString(sum[:6])}, nil
}

// New makes a key pair in memory (for tests).
func New() (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return Parse(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// JWKS is the public key as a JSON Web Key Set.
func (k *KeyPair) JWKS() ([]byte, error) {
	return json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: "ES256", Use: "sig",
	}}}, "", "  ")
}

// Token is a token for user (its sub), valid for ttl.
func (k *KeyPair) Token(user string, ttl time.Duration) (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: user,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	})
	t.Header["kid"] = k.kid
	return t.SignedString(k.key)
}
