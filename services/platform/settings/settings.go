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

// Package settings loads a service's configuration from its environment, the
// way the operator hands it over: unprefixed names the operator injects
// (PORT, DATABASE_URL, BROKER_URL, EVENTS_*, <DEP>_URL) and the service's own
// keys under its prefix (SKILLS_LOG_LEVEL), with an optional .env file for
// local runs. Parsing is caarlos0/env's; this package only decides where the
// values come from and in which order.
package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
)

// Source is where values come from: the process environment, and values
// from a .env file beneath it (the environment wins, as in twelve-factor
// apps and the seed's settings class).
type Source struct {
	values map[string]string
}

// FromEnviron builds a Source from os.Environ()-style pairs, with the
// .env file at dotenvPath underneath when it exists. A missing file is fine;
// an unreadable or malformed one is an error that names it.
func FromEnviron(environ []string, dotenvPath string) (Source, error) {
	values := map[string]string{}
	if dotenvPath != "" {
		file, err := godotenv.Read(dotenvPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return Source{}, fmt.Errorf("read %s: %w", dotenvPath, err)
		default:
			maps.Copy(values, file)
		}
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			values[k] = v
		}
	}
	return Source{values: values}, nil
}

// FromMap is a Source over fixed values, for tests and for callers that
// already hold the environment as a map.
func FromMap(values map[string]string) Source {
	return Source{values: maps.Clone(values)}
}

// FromProcess is the running process's environment over ./.env.
func FromProcess() (Source, error) {
	return FromEnviron(os.Environ(), ".env")
}

// Lookup returns one raw value.
func (s Source) Lookup(name string) (string, bool) {
	v, ok := s.values[name]
	return v, ok
}

// Load fills cfg, a pointer to a struct with `env` tags. Fields tagged
// directly are read unprefixed; a field of struct type tagged
// `envPrefix:"SKILLS_"` reads its own fields under that prefix. Errors name
// every variable that is missing or does not parse.
func Load[T any](src Source, cfg *T) error {
	return LoadPrefixed(src, "", cfg)
}

// LoadPrefixed is Load with prefix put before every variable name: the
// service's own settings, e.g. SKILLS_LOG_LEVEL for prefix SKILLS_.
func LoadPrefixed[T any](src Source, prefix string, cfg *T) error {
	err := env.ParseWithOptions(cfg, env.Options{Environment: src.values, Prefix: prefix})
	if err == nil {
		return nil
	}
	agg, ok := errors.AsType[env.AggregateError](err)
	if !ok {
		return fmt.Errorf("settings: %w", err)
	}
	// caarlos0/env names the Go field of a value that does not parse; a
	// person fixing the deployment needs the variable instead.
	keys := map[string][]string{}
	fieldKeys(reflect.TypeFor[T](), prefix, keys)
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		if pe, ok := errors.AsType[env.ParseError](e); ok {
			msgs = append(msgs, fmt.Sprintf("%s: %v", src.variableFor(keys[pe.Name]), pe.Err))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("settings: %s", strings.Join(msgs, "; "))
}

// variableFor picks, among the variables a field may be read from, the ones
// that are set: a value that does not parse came from one of them.
func (s Source) variableFor(candidates []string) string {
	var set []string
	for _, k := range candidates {
		if _, ok := s.values[k]; ok {
			set = append(set, k)
		}
	}
	if len(set) == 0 {
		set = candidates
	}
	return strings.Join(set, " or ")
}

// fieldKeys maps each field name to the full variable names it is read
// from, following envPrefix into nested structs as caarlos0/env does.
func fieldKeys(t reflect.Type, prefix string, out map[string][]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for f := range t.Fields() {
		if key, _, _ := strings.Cut(f.Tag.Get("env"), ","); key != "" {
			out[f.Name] = append(out[f.Name], prefix+key)
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			fieldKeys(ft, prefix+f.Tag.Get("envPrefix"), out)
		}
	}
}
