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

package skills

import (
	"testing"
)

const testTaxonomy = `[
 {"name":"Go","category":"language","aliases":["golang"]},
 {"name":"Java","category":"language","aliases":[]},
 {"name":"JavaScript","category":"language","aliases":["js"]},
 {"name":"C","category":"language","aliases":[]},
 {"name":"C++","category":"language","aliases":["cpp"]},
 {"name":"C#","category":"language","aliases":["csharp"]},
 {"name":"Kubernetes","category":"devops","aliases":["k8s"]},
 {"name":"PostgreSQL","category":"database","aliases":["postgres"]},
 {"name":"Spring","category":"framework","aliases":[]},
 {"name":"Spring Boot","category":"framework","aliases":[]},
 {"name":"Node.js","category":"framework","aliases":["nodejs","node"]},
 {"name":"Leadership","category":"soft","aliases":["led a team"]}
]`

func testTax(t *testing.T) *Taxonomy {
	t.Helper()
	tax, err := ParseTaxonomy([]byte(testTaxonomy))
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func TestFind_whole_words_aliases_and_case(t *testing.T) {
	tax := testTax(t)
	for _, tc := range []struct {
		text string
		want map[string]int
	}{
		{"Built services in Go and golang tooling", map[string]int{"Go": 2}},
		{"we go to market fast", map[string]int{}},
		{"Google and MongoDB", map[string]int{}},
		{"JavaScript, not Java", map[string]int{"JavaScript": 1, "Java": 1}},
		{"C, C++ and C# and cpp", map[string]int{"C": 1, "C++": 2, "C#": 1}},
		{"K8S operators on postgres", map[string]int{"Kubernetes": 1, "PostgreSQL": 1}},
		{"Spring Boot apps, some plain Spring", map[string]int{"Spring Boot": 1, "Spring": 1}},
		{"Node.js and nodejs", map[string]int{"Node.js": 2}},
		{"Led a team of five", map[string]int{"Leadership": 1}},
		{"", map[string]int{}},
	} {
		got := tax.Find(tc.text)
		if len(got) != len(tc.want) {
			t.Errorf("Find(%q) = %v, want %v", tc.text, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("Find(%q)[%s] = %d, want %d (all: %v)", tc.text, k, got[k], v, got)
			}
		}
	}
}

func TestParseTaxonomy_refuses_a_spelling_that_names_two_skills(t *testing.T) {
	if _, err := ParseTaxonomy([]byte(`[{"name":"Go","aliases":["x"]},{"name":"Rust","aliases":["X"]}]`)); err == nil {
		t.Error("an alias shared by two skills was accepted")
	}
}

func TestScore_and_level(t *testing.T) {
	for _, tc := range []struct {
		years    float64
		mentions int
		score    int
		level    int
	}{
		{0, 1, 8, 1},
		{1, 1, 20, 1},
		{2, 2, 40, 2},
		{4, 2, 64, 3},
		{5, 3, 84, 4},
		{8, 5, 100, 5},
		{30, 50, 100, 5},
	} {
		s := Score(tc.years, tc.mentions)
		if s != tc.score || LevelFor(s) != tc.level {
			t.Errorf("Score(%v, %d) = %d level %d, want %d level %d", tc.years, tc.mentions, s, LevelFor(s), tc.score, tc.level)
		}
	}
}

func TestAssess_counts_years_per_job_and_every_field(t *testing.T) {
	tax := testTax(t)
	cv := CV{
		Summary: "Backend engineer: Go and Kubernetes.",
		Experience: []Experience{
			{Title: "Senior Engineer", Company: "Acme", Years: 4, Description: "Go services on k8s, PostgreSQL"},
			{Title: "Engineer", Company: "Beta", Years: 2, Description: "golang APIs; led a team"},
		},
		Skills:    []string{"postgres", "C#", "Docker"},
		Education: []Education{{Degree: "BSc", Field: "Computer Science", Institution: "Uni"}, {Degree: "Java course"}},
	}
	got := map[string]AssessedSkill{}
	for _, s := range Assess(tax, cv) {
		got[s.Name] = s
	}
	for name, want := range map[string]struct {
		years    float64
		mentions int
	}{
		"Go":         {6, 3},
		"Kubernetes": {4, 2},
		"PostgreSQL": {4, 2},
		"Leadership": {2, 1},
		"C#":         {0, 1},
		"Java":       {0, 1},
	} {
		s, ok := got[name]
		if !ok {
			t.Errorf("%s not found in %v", name, got)
			continue
		}
		if s.Years != want.years || s.Mentions != want.mentions || s.Score != Score(want.years, want.mentions) {
			t.Errorf("%s = %+v, want years %v mentions %d", name, s, want.years, want.mentions)
		}
	}
	if _, ok := got["Docker"]; ok {
		t.Errorf("Docker is not in the test taxonomy and must not be invented")
	}
	if len(got) != 6 {
		t.Errorf("found %d skills, want 6: %v", len(got), got)
	}
}

func TestAssess_orders_by_score_then_name(t *testing.T) {
	out := Assess(testTax(t), CV{Skills: []string{"Java", "C", "Go"}, Experience: []Experience{{Years: 3, Description: "Kubernetes"}}})
	names := make([]string, 0, len(out))
	for _, s := range out {
		names = append(names, s.Name)
	}
	if len(names) != 4 || names[0] != "Kubernetes" || names[1] != "C" || names[2] != "Go" || names[3] != "Java" {
		t.Errorf("order = %v", names)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cv   CV
		ok   bool
	}{
		{"empty", CV{}, false},
		{"summary only", CV{Summary: "Go developer"}, true},
		{"negative years", CV{Experience: []Experience{{Title: "x", Years: -1}}}, false},
		{"absurd years", CV{Experience: []Experience{{Title: "x", Years: 99}}}, false},
		{"blank skill", CV{Skills: []string{"Go", " "}}, false},
	} {
		if err := tc.cv.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
