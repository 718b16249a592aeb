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

package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/settings"
)

// skillsSettings is shaped like a real service's settings: what the operator
// injects, unprefixed, and the service's own keys under its prefix.
type skillsSettings struct {
	Port        int      `env:"PORT" envDefault:"8080"`
	DatabaseURL string   `env:"DATABASE_URL,required"`
	Publishes   []string `env:"EVENTS_PUBLISHES" envSeparator:","`
	Own         struct {
		LogLevel string        `env:"LOG_LEVEL" envDefault:"info"`
		Timeout  time.Duration `env:"TIMEOUT" envDefault:"2s"`
	} `envPrefix:"SKILLS_"`
}

func TestLoad_reads_injected_and_prefixed_values(t *testing.T) {
	src := settings.FromMap(map[string]string{
		"PORT": "9090", "DATABASE_URL": "sqlite:///data/skills.db", "EVENTS_PUBLISHES": "skills.assessed,x.y",
		"SKILLS_LOG_LEVEL": "debug", "SKILLS_TIMEOUT": "750ms",
		"LOG_LEVEL": "ignored: not under the prefix",
	})
	var s skillsSettings
	if err := settings.Load(src, &s); err != nil {
		t.Fatal(err)
	}
	if s.Port != 9090 || s.DatabaseURL != "sqlite:///data/skills.db" || strings.Join(s.Publishes, "|") != "skills.assessed|x.y" {
		t.Errorf("injected values: %+v", s)
	}
	if s.Own.LogLevel != "debug" || s.Own.Timeout != 750*time.Millisecond {
		t.Errorf("prefixed values: %+v", s.Own)
	}
}

func TestLoad_applies_defaults(t *testing.T) {
	var s skillsSettings
	if err := settings.Load(settings.FromMap(map[string]string{"DATABASE_URL": "x"}), &s); err != nil {
		t.Fatal(err)
	}
	if s.Port != 8080 || s.Own.LogLevel != "info" || s.Own.Timeout != 2*time.Second {
		t.Errorf("defaults: %+v", s)
	}
}

func TestLoad_errors_name_the_variable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"missing required", map[string]string{}, []string{"DATABASE_URL"}},
		{"not a number", map[string]string{"DATABASE_URL": "x", "PORT": "eighty"}, []string{"PORT", "eighty"}},
		{"not a duration, under the prefix", map[string]string{"DATABASE_URL": "x", "SKILLS_TIMEOUT": "soon"}, []string{"SKILLS_TIMEOUT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s skillsSettings
			err := settings.Load(settings.FromMap(tc.env), &s)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestFromEnviron_dotenv_is_underneath_the_environment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("DATABASE_URL=from-file\nSKILLS_LOG_LEVEL=warn\n# a comment\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := settings.FromEnviron([]string{"SKILLS_LOG_LEVEL=error", "EMPTY="}, path)
	if err != nil {
		t.Fatal(err)
	}
	var s skillsSettings
	if err := settings.Load(src, &s); err != nil {
		t.Fatal(err)
	}
	if s.DatabaseURL != "from-file" || s.Own.LogLevel != "error" {
		t.Errorf("want the file's DATABASE_URL and the environment's log level, got %q %q", s.DatabaseURL, s.Own.LogLevel)
	}
}

func TestFromEnviron_missing_dotenv_is_fine_but_a_broken_one_is_not(t *testing.T) {
	if _, err := settings.FromEnviron(nil, filepath.Join(t.TempDir(), "absent.env")); err != nil {
		t.Errorf("a missing .env is optional, got %v", err)
	}
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("A='unterminated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := settings.FromEnviron(nil, path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("want an error naming %s, got %v", path, err)
	}
}

func TestLoadPrefixed_names_the_prefixed_variable(t *testing.T) {
	var own struct {
		LogLevel string        `env:"LOG_LEVEL" envDefault:"info"`
		Drain    time.Duration `env:"DRAIN_DELAY"`
	}
	src := settings.FromMap(map[string]string{"CAREER_LOG_LEVEL": "debug", "LOG_LEVEL": "error"})
	if err := settings.LoadPrefixed(src, "CAREER_", &own); err != nil || own.LogLevel != "debug" {
		t.Fatalf("own = %+v, err = %v", own, err)
	}
	err := settings.LoadPrefixed(settings.FromMap(map[string]string{"CAREER_DRAIN_DELAY": "later"}), "CAREER_", &own)
	if err == nil || !strings.Contains(err.Error(), "CAREER_DRAIN_DELAY") {
		t.Errorf("err = %v, want it to name CAREER_DRAIN_DELAY", err)
	}
}
