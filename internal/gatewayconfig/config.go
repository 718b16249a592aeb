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
	Version      int           `json:"version"`
	Routes       []Route       `json:"routes"`
	Aggregations []Aggregation `json:"aggregations"`
}

// Route proxies a path prefix to one upstream.
type Route struct {
	PathPrefix  string   `json:"pathPrefix"`
	Service     string   `json:"service"`
	Upstream    string   `json:"upstream"`
	StripPrefix bool     `json:"stripPrefix,omitempty"`
	Timeout     Duration `json:"timeout"`
}

// Aggregation fans one request out to several backends.
type Aggregation struct {
	Path     string            `json:"path"`
	Timeout  Duration          `json:"timeout"`
	OnError  string            `json:"onError"`
	Backends []Backend         `json:"backends"`
	Compute  map[string]string `json:"compute,omitempty"`
}

// Backend is one call of an aggregation.
type Backend struct {
	Key      string `json:"key"`
	Service  string `json:"service"`
	Upstream string `json:"upstream"`
	Path     string `json:"path"`
}

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

// Validate checks what the CRD checks too, for files written by hand.
func (c Config) Validate() error {
	var errs []error
	if c.Version != Version {
		errs = append(errs, fmt.Errorf("version %d: this gateway reads version %d", c.Version, Version))
	}
	prefixes := map[string]bool{}
	for i, r := range c.Routes {
		if !strings.HasPrefix(r.PathPrefix, "/") || prefixes[r.PathPrefix] {
			errs = append(errs, fmt.Errorf("routes[%d]: pathPrefix %q must start with '/' and be unique", i, r.PathPrefix))
		}
		prefixes[r.PathPrefix] = true
		if !strings.HasPrefix(r.Upstream, "http://") && !strings.HasPrefix(r.Upstream, "https://") {
			errs = append(errs, fmt.Errorf("routes[%d]: upstream %q is not an http(s) URL", i, r.Upstream))
		}
		if r.Timeout.Duration <= 0 {
			errs = append(errs, fmt.Errorf("routes[%d]: timeout must be positive", i))
		}
	}
	paths := map[string]bool{}
	for i, a := range c.Aggregations {
		if !strings.HasPrefix(a.Path, "/") || paths[a.Path] {
			errs = append(errs, fmt.Errorf("aggregations[%d]: path %q must start with '/' and be unique", i, a.Path))
		}
		paths[a.Path] = true
		if a.OnError != "partial" && a.OnError != "fail" {
			errs = append(errs, fmt.Errorf("aggregations[%d]: onError %q must be partial or fail", i, a.OnError))
		}
		if a.Timeout.Duration <= 0 {
			errs = append(errs, fmt.Errorf("aggregations[%d]: timeout must be positive", i))
		}
		if len(a.Backends) == 0 {
			errs = append(errs, fmt.Errorf("aggregations[%d]: needs at least one backend", i))
		}
		keys := map[string]bool{}
		for j, b := range a.Backends {
			if b.Key == "" || keys[b.Key] {
				errs = append(errs, fmt.Errorf("aggregations[%d].backends[%d]: key %q must be set and unique", i, j, b.Key))
			}
			keys[b.Key] = true
			if !strings.HasPrefix(b.Path, "/") {
				errs = append(errs, fmt.Errorf("aggregations[%d].backends[%d]: path %q must start with '/'", i, j, b.Path))
			}
		}
	}
	return errors.Join(errs...)
}
