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
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certFiles is the serving certificate, read from the files of a mounted
// kubernetes.io/tls Secret (tls.crt, tls.key) and read again when they
// change, so a rotated certificate (cert-manager renewing it) is served
// without a restart. A pair that does not load keeps the previous one.
type certFiles struct {
	certPath, keyPath string
	current           atomic.Pointer[tls.Certificate]
	refused           atomic.Pointer[refusal]
	mu                sync.Mutex
	lastSum           [32]byte
}

func (c *certFiles) reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	certPEM, err := os.ReadFile(c.certPath)
	if err != nil {
		c.refused.Store(&refusal{err: err})
		return err
	}
	keyPEM, err := os.ReadFile(c.keyPath)
	if err != nil {
		c.refused.Store(&refusal{err: err})
		return err
	}
	sum := sha256.Sum256(append(certPEM, keyPEM...))
	if sum == c.lastSum {
		return nil
	}
	c.lastSum = sum
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		err = fmt.Errorf("the certificate and key do not load: %w", err)
		c.refused.Store(&refusal{hash: fmt.Sprintf("sha256:%x", sum), err: err})
		return err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			c.refused.Store(&refusal{err: err})
			return err
		}
	}
	c.current.Store(&cert)
	c.refused.Store(nil)
	return nil
}

// tlsConfig serves the current certificate; TLS 1.2 at least.
func (c *certFiles) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if cert := c.current.Load(); cert != nil {
				return cert, nil
			}
			return nil, errors.New("no serving certificate loaded")
		},
	}
}

// watch reloads the files every interval until ctx ends.
func (c *certFiles) watch(ctx context.Context, interval time.Duration, logger *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			before := c.current.Load()
			if err := c.reload(); err != nil {
				logger.Error("Serving certificate refused; the previous one keeps serving", "cert", c.certPath, "error", err)
			} else if after := c.current.Load(); after != before {
				logger.Info("Serving certificate loaded", "cert", c.certPath, "subject", after.Leaf.Subject.String(), "not_after", after.Leaf.NotAfter)
			}
		}
	}
}

// check is the readiness check "tls": critical while no certificate serves
// (the pod cannot answer HTTPS at all).
func (c *certFiles) check(context.Context) error {
	if c.current.Load() == nil {
		if r := c.refused.Load(); r != nil {
			return fmt.Errorf("no serving certificate: %w", r.err)
		}
		return errors.New("no serving certificate")
	}
	return nil
}

// notAfter observes when the served certificate expires.
func (c *certFiles) notAfter(context.Context) (any, string, error) {
	if cert := c.current.Load(); cert != nil {
		return cert.Leaf.NotAfter.UTC().Format(time.RFC3339), "expiry of the serving certificate", nil
	}
	return nil, "", errors.New("no serving certificate")
}
