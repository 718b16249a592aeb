//go:build e2e

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

package e2e

import (
	"net/http"
	"regexp"
	"sync"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skillmesh/skillmesh/internal/devauth"
)

// The sample Gateway verifies tokens (auth.jwt): the suite is its identity
// provider, as make dev is, with a key pair of its own.
var (
	devKeys     *devauth.KeyPair
	devKeysOnce sync.Once
	tokens      sync.Map // user → token
)

func keys() *devauth.KeyPair {
	devKeysOnce.Do(func() {
		var err error
		devKeys, err = devauth.New()
		Expect(err).NotTo(HaveOccurred())
	})
	return devKeys
}

// applyJWKS writes the Secret the sample Gateway's jwksSecretRef names.
func applyJWKS() {
	jwks, err := keys().JWKS()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: devauth.SecretName, Namespace: namespace},
		Data: map[string][]byte{devauth.SecretKey: jwks}}
	if err := k8s.Create(ctx, s); apierrors.IsAlreadyExists(err) {
		err = k8s.Update(ctx, s)
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
	} else {
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
	}
}

// tokenFor is a valid token for user.
func tokenFor(user string) string {
	if t, ok := tokens.Load(user); ok {
		return t.(string)
	}
	t, err := keys().Token(user, 2*time.Hour)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	tokens.Store(user, t)
	return t
}

var userInPath = regexp.MustCompile(`/users/([^/?]+)`)

// authorize signs req as the user its path names, as that user's browser
// would, unless it already carries credentials.
func authorize(req *http.Request) {
	if req.Header.Get("Authorization") != "" {
		return
	}
	if m := userInPath.FindStringSubmatch(req.URL.Path); m != nil {
		req.Header.Set("Authorization", "Bearer "+tokenFor(m[1]))
	}
}
