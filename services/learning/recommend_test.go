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

package learning

import (
	"testing"

	"github.com/skillmesh/skillmesh/services/career"
)

var catalogue = []Course{
	{ID: "go-1", Skill: "Go", Level: 1, Hours: 4},
	{ID: "go-2", Skill: "Go", Level: 2, Hours: 10},
	{ID: "go-4", Skill: "Go", Level: 4, Hours: 30},
	{ID: "go-5", Skill: "Go", Level: 5, Hours: 40},
	{ID: "k8s-3", Skill: "Kubernetes", Level: 3, Hours: 20},
	{ID: "pg-2", Skill: "PostgreSQL", Level: 2, Hours: 8},
}

func ids(cs []Course) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestRecommend(t *testing.T) {
	for _, tc := range []struct {
		name     string
		gap      career.Gap
		enrolled map[string]bool
		want     []string
	}{
		{"climbs from the current level to the required one", career.Gap{Skill: "Go", Current: 1, Required: 4}, nil, []string{"go-2", "go-4"}},
		{"stops at the first course reaching the requirement", career.Gap{Skill: "Go", Current: 0, Required: 2}, nil, []string{"go-1", "go-2"}},
		{"skips courses already taken", career.Gap{Skill: "Go", Current: 1, Required: 4}, map[string]bool{"go-2": true}, []string{"go-4"}},
		{"matches the skill in any case", career.Gap{Skill: "kubernetes", Current: 0, Required: 3}, nil, []string{"k8s-3"}},
		{"a course beyond the requirement when none meets it exactly", career.Gap{Skill: "PostgreSQL", Current: 0, Required: 1}, nil, []string{"pg-2"}},
		{"no course for the skill", career.Gap{Skill: "Rust", Current: 0, Required: 3}, nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Recommend([]career.Gap{tc.gap}, catalogue, tc.enrolled)
			if len(got) != 1 || got[0].Gap != tc.gap {
				t.Fatalf("got %+v", got)
			}
			if g := ids(got[0].Courses); len(g) != len(tc.want) || (len(g) > 0 && g[0] != tc.want[0]) || (len(g) > 1 && g[1] != tc.want[1]) {
				t.Errorf("courses = %v, want %v", g, tc.want)
			}
		})
	}
}

func TestRecommend_keeps_the_plan_order(t *testing.T) {
	gaps := []career.Gap{{Skill: "Kubernetes", Required: 3}, {Skill: "Go", Current: 3, Required: 4}}
	got := Recommend(gaps, catalogue, nil)
	if len(got) != 2 || got[0].Gap.Skill != "Kubernetes" || got[1].Gap.Skill != "Go" || ids(got[1].Courses)[0] != "go-4" {
		t.Errorf("got %+v", got)
	}
}

func TestParseCourses_refuses_bad_catalogues(t *testing.T) {
	for _, bad := range []string{`[{"id":"a","skill":"Go","level":0,"hours":1}]`, `[{"id":"a","skill":"Go","level":1,"hours":1},{"id":"a","skill":"Go","level":2,"hours":1}]`, `[`} {
		if _, err := ParseCourses([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
