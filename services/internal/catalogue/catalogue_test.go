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

// Package catalogue_test checks the three embedded catalogues (skill
// taxonomy, career roles, learning courses) against each other.
package catalogue_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type skill struct {
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Aliases  []string `json:"aliases"`
}

type requirement struct {
	Skill string `json:"skill"`
	Level int    `json:"level"`
}

type role struct {
	ID           string        `json:"id"`
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	Requirements []requirement `json:"requirements"`
}

type course struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Skill    string `json:"skill"`
	Level    int    `json:"level"`
	Hours    int    `json:"hours"`
	Provider string `json:"provider"`
}

const (
	taxonomyPath = "../../skills/data/taxonomy.json"
	rolesPath    = "../../career/data/roles.json"
	coursesPath  = "../../learning/data/courses.json"

	minSkills  = 160
	minRoles   = 12
	minCourses = 45
)

var (
	categories = map[string]bool{
		"language": true, "framework": true, "database": true, "cloud": true, "devops": true,
		"data": true, "ml": true, "frontend": true, "mobile": true, "security": true,
		"testing": true, "architecture": true, "practice": true, "soft": true, "tool": true,
	}
	kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

	// Skills and roles the product relies on by name.
	requiredSkills = []string{
		"Go", "Python", "Java", "JavaScript", "TypeScript", "Rust", "C", "C++", "C#", "Kotlin",
		"Swift", "Ruby", "PHP", "Scala", "R", "SQL", "Bash", "Kubernetes", "Docker", "Helm",
		"Terraform", "Ansible", "PostgreSQL", "MySQL", "Redis", "MongoDB", "Kafka", "RabbitMQ",
		"Elasticsearch", "gRPC", "REST API Design", "GraphQL", "React", "Vue.js", "Angular",
		"Node.js", "Django", "Flask", "FastAPI", "Spring Boot", "Amazon Web Services",
		"Google Cloud", "Azure", "Linux", "Git", "Continuous Integration", "Prometheus",
		"Grafana", "OpenTelemetry", "Microservices", "Distributed Systems", "System Design",
		"Machine Learning", "Deep Learning", "PyTorch", "TensorFlow", "Pandas", "NumPy", "Spark",
		"Airflow", "dbt", "Data Modeling", "Statistics", "Unit Testing", "Test-Driven Development",
		"OAuth", "Threat Modeling", "Agile", "Scrum", "Communication", "Leadership", "Mentoring",
		"Product Management",
	}
	requiredRoles = []string{
		"backend-engineer", "frontend-engineer", "fullstack-engineer", "platform-engineer",
		"site-reliability-engineer", "data-engineer", "data-scientist", "ml-engineer",
		"mobile-engineer", "security-engineer", "engineering-manager", "cloud-architect",
		"devops-engineer", "qa-engineer",
	}
	// Everyday words that must not be aliases: in prose they rarely name a
	// skill, and aliases are matched in any case.
	proseWords = map[string]bool{
		"go": true, "r": true, "c": true, "rust": true, "swift": true, "spark": true,
		"chef": true, "puppet": true, "make": true, "ant": true, "julia": true, "dart": true,
		"ruby": true, "java": true, "spring": true, "express": true, "flask": true, "helm": true,
		"rest": true, "containers": true, "excel": true, "flux": true, "phoenix": true,
		"torch": true, "pact": true, "vault": true, "lead": true, "team": true, "test": true,
		"testing": true, "data": true, "cloud": true, "design": true, "management": true,
		"security": true, "it": true, "ops": true, "dev": true, "api": true, "apis": true,
		"profiling": true, "prompting": true,
	}
)

func load(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

type catalogue struct {
	skills  []skill
	roles   []role
	courses []course
	byName  map[string]skill // exact canonical name → skill
}

func loadAll(t *testing.T) catalogue {
	t.Helper()
	var c catalogue
	load(t, taxonomyPath, &c.skills)
	load(t, rolesPath, &c.roles)
	load(t, coursesPath, &c.courses)
	c.byName = map[string]skill{}
	for _, s := range c.skills {
		c.byName[s.Name] = s
	}
	return c
}

func TestTaxonomy(t *testing.T) {
	c := loadAll(t)
	if len(c.skills) < minSkills {
		t.Errorf("taxonomy has %d skills, want at least %d", len(c.skills), minSkills)
	}
	names := map[string]string{} // lower-case name → name
	for _, s := range c.skills {
		key := strings.ToLower(s.Name)
		if strings.TrimSpace(s.Name) == "" || s.Name != strings.TrimSpace(s.Name) {
			t.Errorf("skill %q: name is empty or has surrounding spaces", s.Name)
		}
		if prev, dup := names[key]; dup {
			t.Errorf("skill %q: name duplicates %q (case-insensitive)", s.Name, prev)
		}
		names[key] = s.Name
		if !categories[s.Category] {
			t.Errorf("skill %q: unknown category %q", s.Name, s.Category)
		}
		if s.Aliases == nil {
			t.Errorf("skill %q: aliases missing (use [] for none)", s.Name)
		}
	}
	aliases := map[string]string{} // alias → owning skill
	for _, s := range c.skills {
		for _, a := range s.Aliases {
			switch {
			case a == "" || a != strings.TrimSpace(a):
				t.Errorf("skill %q: alias %q is empty or has surrounding spaces", s.Name, a)
			case a != strings.ToLower(a):
				t.Errorf("skill %q: alias %q is not lower-case", s.Name, a)
			case proseWords[a]:
				t.Errorf("skill %q: alias %q is an everyday word", s.Name, a)
			}
			key := strings.ToLower(a)
			if owner, dup := aliases[key]; dup {
				t.Errorf("skill %q: alias %q is already an alias of %q", s.Name, a, owner)
			}
			aliases[key] = s.Name
			if name, clash := names[key]; clash {
				t.Errorf("skill %q: alias %q equals the name of skill %q", s.Name, a, name)
			}
		}
	}
	for _, n := range requiredSkills {
		if _, ok := c.byName[n]; !ok {
			t.Errorf("taxonomy lacks required skill %q", n)
		}
	}
}

func TestRoles(t *testing.T) {
	c := loadAll(t)
	if len(c.roles) < minRoles {
		t.Errorf("roles has %d roles, want at least %d", len(c.roles), minRoles)
	}
	ids := map[string]bool{}
	for _, r := range c.roles {
		if !kebab.MatchString(r.ID) {
			t.Errorf("role %q: id is not lower-case kebab", r.ID)
		}
		if ids[r.ID] {
			t.Errorf("role %q: duplicate id", r.ID)
		}
		ids[r.ID] = true
		if strings.TrimSpace(r.Title) == "" || strings.TrimSpace(r.Description) == "" {
			t.Errorf("role %q: title or description is empty", r.ID)
		}
		if n := len(r.Requirements); n < 5 || n > 9 {
			t.Errorf("role %q: %d requirements, want 5 to 9", r.ID, n)
		}
		seen := map[string]bool{}
		for _, req := range r.Requirements {
			if _, ok := c.byName[req.Skill]; !ok {
				t.Errorf("role %q: skill %q is not a taxonomy name", r.ID, req.Skill)
			}
			if seen[req.Skill] {
				t.Errorf("role %q: skill %q required twice", r.ID, req.Skill)
			}
			seen[req.Skill] = true
			if req.Level < 1 || req.Level > 5 {
				t.Errorf("role %q: skill %q has level %d, want 1 to 5", r.ID, req.Skill, req.Level)
			}
		}
	}
	for _, id := range requiredRoles {
		if !ids[id] {
			t.Errorf("roles lack required role %q", id)
		}
	}
}

func TestCourses(t *testing.T) {
	c := loadAll(t)
	if len(c.courses) < minCourses {
		t.Errorf("courses has %d courses, want at least %d", len(c.courses), minCourses)
	}
	ids := map[string]bool{}
	levels := map[string]map[int]bool{} // skill → course levels
	for _, co := range c.courses {
		if !kebab.MatchString(co.ID) {
			t.Errorf("course %q: id is not lower-case kebab", co.ID)
		}
		if ids[co.ID] {
			t.Errorf("course %q: duplicate id", co.ID)
		}
		ids[co.ID] = true
		if strings.TrimSpace(co.Title) == "" || strings.TrimSpace(co.Provider) == "" {
			t.Errorf("course %q: title or provider is empty", co.ID)
		}
		if _, ok := c.byName[co.Skill]; !ok {
			t.Errorf("course %q: skill %q is not a taxonomy name", co.ID, co.Skill)
		}
		if co.Level < 1 || co.Level > 5 {
			t.Errorf("course %q: level %d, want 1 to 5", co.ID, co.Level)
		}
		if co.Hours < 1 || co.Hours > 80 {
			t.Errorf("course %q: %d hours, want 1 to 80", co.ID, co.Hours)
		}
		if levels[co.Skill] == nil {
			levels[co.Skill] = map[int]bool{}
		}
		levels[co.Skill][co.Level] = true
	}
	maxRequired := map[string]int{}
	requiredBy := map[string]string{}
	for _, r := range c.roles {
		for _, req := range r.Requirements {
			if req.Level > maxRequired[req.Skill] {
				maxRequired[req.Skill] = req.Level
				requiredBy[req.Skill] = r.ID
			}
		}
	}
	required := make([]string, 0, len(maxRequired))
	for skill := range maxRequired {
		required = append(required, skill)
	}
	slices.Sort(required)
	for _, skill := range required {
		level := maxRequired[skill]
		n := len(levels[skill])
		switch {
		case n == 0:
			t.Errorf("skill %q (required by role %q) has no course", skill, requiredBy[skill])
		case level >= 4 && n < 2:
			t.Errorf("skill %q (level %d in role %q) has courses at %d level, want 2 or more", skill, level, requiredBy[skill], n)
		}
		top := 0
		for l := range levels[skill] {
			top = max(top, l)
		}
		if n > 0 && top < level {
			t.Errorf("skill %q: courses reach level %d, role %q requires %d", skill, top, requiredBy[skill], level)
		}
	}
}
