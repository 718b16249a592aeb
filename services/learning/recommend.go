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
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/skillmesh/skillmesh/services/career"
)

// Course teaches one skill up to a level.
type Course struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Skill    string `json:"skill"`
	Level    int    `json:"level"`
	Hours    int    `json:"hours"`
	Provider string `json:"provider"`
}

// Recommendation is the courses that close one gap, in the order to take them.
type Recommendation struct {
	Gap     career.Gap `json:"gap"`
	Courses []Course   `json:"courses"`
}

// ParseCourses reads the catalogue and checks it.
func ParseCourses(data []byte) ([]Course, error) {
	var courses []Course
	if err := json.Unmarshal(data, &courses); err != nil {
		return nil, fmt.Errorf("parse courses: %w", err)
	}
	seen := map[string]bool{}
	for _, c := range courses {
		if c.ID == "" || seen[c.ID] || c.Skill == "" || c.Level < 1 || c.Level > 5 || c.Hours < 1 {
			return nil, fmt.Errorf("course %+v: needs a unique id, a skill, a level 1-5 and hours", c)
		}
		seen[c.ID] = true
	}
	return courses, nil
}

// Recommend picks, for each gap in the plan's order, the courses of that
// skill above the user's level and up to the next level at or beyond the
// required one, easiest first, leaving out courses already enrolled in. It
// is pure: the same inputs give the same list.
func Recommend(gaps []career.Gap, catalogue []Course, enrolled map[string]bool) []Recommendation {
	bySkill := map[string][]Course{}
	for _, c := range catalogue {
		k := strings.ToLower(c.Skill)
		bySkill[k] = append(bySkill[k], c)
	}
	out := make([]Recommendation, 0, len(gaps))
	for _, g := range gaps {
		candidates := slices.Clone(bySkill[strings.ToLower(g.Skill)])
		slices.SortFunc(candidates, func(a, b Course) int {
			return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(a.Hours, b.Hours), strings.Compare(a.ID, b.ID))
		})
		var picked []Course
		for _, c := range candidates {
			if c.Level <= g.Current || enrolled[c.ID] {
				continue
			}
			picked = append(picked, c)
			if c.Level >= g.Required {
				break
			}
		}
		out = append(out, Recommendation{Gap: g, Courses: append([]Course{}, picked...)})
	}
	return out
}
