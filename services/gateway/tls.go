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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// certFiles is the serving certificate, read from the files of a mounted
// kubernetes.io/tls Secret (tls.crt, tls.key) and read again when they
// change, so a rotated certificate (cert-manager renewing it) is served
// without a restart. A pair that does not load keeps the previous one.
type certFiles struct {
	liveFile[tls.Certificate]
}

func newCertFiles(certPath, keyPath string) *certFiles {
	return &certFiles{liveFile[tls.Certificate]{paths: []string{certPath, keyPath}, parse: func(data [][]byte, _ string) (*tls.Certificate, error) {
		cert, err := tls.X509KeyPair(data[0], data[1])
		if err != nil {
			return nil, fmt.Errorf("the certificate and key do not load: %w", err)
		}
		if cert.Leaf == nil {
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return nil, err
			}
		}
		return &cert, nil
	}}}
}

func (c *certFiles) certPath() string { return c.paths[0] }

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
				logger.Error("Serving certificate refused; the previous one keeps serving", "cert", c.certPath(), "error", err)
			} else if after := c.current.Load(); after != before {
				logger.Info("Serving certificate loaded", "cert", c.certPath(), "subject", after.Leaf.Subject.String(), "not_after", after.Leaf.NotAfter)
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
