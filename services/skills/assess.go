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
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// CV is what POST /users/{user_id}/assess takes.
type CV struct {
	Summary    string       `json:"summary"`
	Experience []Experience `json:"experience"`
	Skills     []string     `json:"skills"`
	Education  []Education  `json:"education"`
}

// Experience is one job.
type Experience struct {
	Title       string  `json:"title"`
	Company     string  `json:"company"`
	Years       float64 `json:"years"`
	Description string  `json:"description"`
}

// Education is a line of the CV's education: either a plain string
// ("BSc Computer Science, 2015") or an object.
type Education struct {
	Degree      string `json:"degree,omitempty"`
	Field       string `json:"field,omitempty"`
	Institution string `json:"institution,omitempty"`
	Year        int    `json:"year,omitempty"`
}

// UnmarshalJSON accepts a string or an object.
func (e *Education) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = Education{Degree: s}
		return nil
	}
	type plain Education
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("education entry: %w", err)
	}
	*e = Education(p)
	return nil
}

func (e Education) text() string {
	return strings.Join([]string{e.Degree, e.Field, e.Institution}, " ")
}

const (
	maxTextLen     = 20_000
	maxEntries     = 100
	maxYears       = 60
	maxSkillLength = 100
)

// Validate refuses a CV with nothing to assess or with impossible values.
func (cv CV) Validate() error {
	var errs []error
	if strings.TrimSpace(cv.Summary) == "" && len(cv.Experience) == 0 && len(cv.Skills) == 0 && len(cv.Education) == 0 {
		errs = append(errs, errors.New("the CV is empty: give a summary, experience, skills or education"))
	}
	if len(cv.Summary) > maxTextLen {
		errs = append(errs, fmt.Errorf("summary is longer than %d characters", maxTextLen))
	}
	if len(cv.Experience) > maxEntries || len(cv.Skills) > maxEntries || len(cv.Education) > maxEntries {
		errs = append(errs, fmt.Errorf("experience, skills and education take at most %d entries each", maxEntries))
	}
	for i, e := range cv.Experience {
		if e.Years < 0 || e.Years > maxYears || math.IsNaN(e.Years) {
			errs = append(errs, fmt.Errorf("experience[%d].years must be between 0 and %d", i, maxYears))
		}
		if len(e.Description) > maxTextLen {
			errs = append(errs, fmt.Errorf("experience[%d].description is longer than %d characters", i, maxTextLen))
		}
	}
	for i, s := range cv.Skills {
		if strings.TrimSpace(s) == "" || len(s) > maxSkillLength {
			errs = append(errs, fmt.Errorf("skills[%d] must be a non-empty name of at most %d characters", i, maxSkillLength))
		}
	}
	return errors.Join(errs...)
}

// AssessedSkill is one skill found in a CV.
type AssessedSkill struct {
	Name     string  `json:"name"`
	Category string  `json:"category"`
	Level    int     `json:"level"`
	Score    int     `json:"score"`
	Years    float64 `json:"years"`
	Mentions int     `json:"mentions"`
}

// Assessment is the answer of an assessment and what is stored.
type Assessment struct {
	ID         string          `json:"id"`
	UserID     string          `json:"user_id"`
	Skills     []AssessedSkill `json:"skills"`
	Scores     map[string]int  `json:"scores"`
	AssessedAt time.Time       `json:"assessed_at"`
}

type evidence struct {
	years    float64
	mentions int
}

// Assess finds the taxonomy's skills in every text field of cv and scores
// them. It is pure: the same CV always gives the same skills and scores.
func Assess(tax *Taxonomy, cv CV) []AssessedSkill {
	ev := map[string]*evidence{}
	get := func(name string) *evidence {
		if ev[name] == nil {
			ev[name] = &evidence{}
		}
		return ev[name]
	}
	count := func(text string) map[string]int {
		found := tax.Find(text)
		for name, n := range found {
			get(name).mentions += n
		}
		return found
	}
	count(cv.Summary)
	for _, e := range cv.Experience {
		inJob := count(e.Title + "\n" + e.Description)
		// Years spent in a job count once for every skill the job used.
		for name := range inJob {
			get(name).years += e.Years
		}
	}
	for _, s := range cv.Skills {
		// A listed skill is matched whole first ("k8s"), then as text
		// ("Go and Kubernetes").
		if sk, ok := tax.Lookup(s); ok {
			get(sk.Name).mentions++
			continue
		}
		count(s)
	}
	for _, e := range cv.Education {
		count(e.text())
	}

	out := make([]AssessedSkill, 0, len(ev))
	for name, e := range ev {
		sk, _ := tax.Lookup(name)
		score := Score(e.years, e.mentions)
		out = append(out, AssessedSkill{
			Name: name, Category: sk.Category, Level: LevelFor(score), Score: score,
			Years: math.Round(e.years*10) / 10, Mentions: e.mentions,
		})
	}
	slices.SortFunc(out, func(a, b AssessedSkill) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Score is 0–100: twelve points a year of use (up to eight years) and eight
// a mention (up to five), so experience weighs more than name-dropping.
func Score(years float64, mentions int) int {
	s := 12*math.Min(years, 8) + 8*float64(min(mentions, 5))
	return int(math.Min(100, math.Round(s)))
}

// LevelFor maps a score to proficiency 1 (novice) … 5 (expert).
func LevelFor(score int) int {
	return min(5, 1+score/25)
}
