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

package career

import (
	"testing"
)

var backend = Role{ID: "backend-engineer", Title: "Backend Engineer", Requirements: []Requirement{
	{Skill: "Go", Level: 4}, {Skill: "PostgreSQL", Level: 3}, {Skill: "Kubernetes", Level: 3}, {Skill: "Testing", Level: 2},
}}

func TestAnalyse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		current  map[string]int
		gaps     []Gap
		progress int
	}{
		{
			name:     "nothing yet: every requirement is a gap, largest first",
			current:  map[string]int{},
			gaps:     []Gap{{"Go", 0, 4}, {"Kubernetes", 0, 3}, {"PostgreSQL", 0, 3}, {"Testing", 0, 2}},
			progress: 0,
		},
		{
			name:     "some skills, matched in any case; levels above the requirement do not count extra",
			current:  map[string]int{"go": 5, "PostgreSQL": 1, "Testing": 2, "Rust": 5},
			gaps:     []Gap{{"Kubernetes", 0, 3}, {"PostgreSQL", 1, 3}},
			progress: 58, // (4+1+0+2)/12
		},
		{
			name:     "everything met",
			current:  map[string]int{"Go": 4, "PostgreSQL": 3, "Kubernetes": 5, "Testing": 2},
			gaps:     []Gap{},
			progress: 100,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gaps, progress, path := Analyse(backend, tc.current)
			if progress != tc.progress {
				t.Errorf("progress = %d, want %d", progress, tc.progress)
			}
			if len(gaps) != len(tc.gaps) {
				t.Fatalf("gaps = %+v, want %+v", gaps, tc.gaps)
			}
			for i := range gaps {
				if gaps[i] != tc.gaps[i] {
					t.Errorf("gap %d = %+v, want %+v", i, gaps[i], tc.gaps[i])
				}
				if path[i] != (Step{Order: i + 1, Skill: gaps[i].Skill, From: gaps[i].Current, To: gaps[i].Required}) {
					t.Errorf("step %d = %+v does not follow gap %+v", i, path[i], gaps[i])
				}
			}
		})
	}
}

func TestParseRoles_refuses_bad_catalogues(t *testing.T) {
	for _, bad := range []string{
		`[{"id":"a","requirements":[{"skill":"Go","level":6}]}]`,
		`[{"id":"a"},{"id":"a"}]`,
		`[{"id":""}]`,
		`{`,
	} {
		if _, err := ParseRoles([]byte(bad)); err == nil {
			t.Errorf("ParseRoles(%s) accepted a bad catalogue", bad)
		}
	}
}
