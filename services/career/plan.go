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
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Role is a job with the skills it needs.
type Role struct {
	ID           string        `json:"id"`
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	Requirements []Requirement `json:"requirements"`
}

// Requirement is one skill a role needs, at a level 1–5.
type Requirement struct {
	Skill string `json:"skill"`
	Level int    `json:"level"`
}

// Gap is a required skill the user has below the required level.
type Gap struct {
	Skill    string `json:"skill"`
	Current  int    `json:"current"`
	Required int    `json:"required"`
}

// Step is one stage of the learning path: raise skill from one level to another.
type Step struct {
	Order int    `json:"order"`
	Skill string `json:"skill"`
	From  int    `json:"from"`
	To    int    `json:"to"`
}

// ParseRoles reads the role catalogue and checks it.
func ParseRoles(data []byte) ([]Role, error) {
	var roles []Role
	if err := json.Unmarshal(data, &roles); err != nil {
		return nil, fmt.Errorf("parse roles: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if r.ID == "" || seen[r.ID] {
			return nil, fmt.Errorf("role id %q is empty or repeated", r.ID)
		}
		seen[r.ID] = true
		for _, q := range r.Requirements {
			if q.Skill == "" || q.Level < 1 || q.Level > 5 {
				return nil, fmt.Errorf("role %s: requirement %+v needs a skill and a level 1-5", r.ID, q)
			}
		}
	}
	return roles, nil
}

// Analyse compares the user's levels (by skill name, any case) with the
// role's requirements. It is pure and deterministic:
//   - gaps: every requirement above the user's level, largest gap first;
//   - progress: the share of required levels the user already has, 0–100;
//   - path: one step per gap, in the order to learn them.
func Analyse(role Role, current map[string]int) (gaps []Gap, progress int, path []Step) {
	levels := make(map[string]int, len(current))
	for k, v := range current {
		levels[strings.ToLower(k)] = v
	}
	var have, need int
	gaps = []Gap{}
	for _, q := range role.Requirements {
		cur := levels[strings.ToLower(q.Skill)]
		need += q.Level
		have += min(cur, q.Level)
		if cur < q.Level {
			gaps = append(gaps, Gap{Skill: q.Skill, Current: cur, Required: q.Level})
		}
	}
	slices.SortFunc(gaps, func(a, b Gap) int {
		return cmp.Or(
			cmp.Compare(b.Required-b.Current, a.Required-a.Current),
			cmp.Compare(b.Required, a.Required),
			strings.Compare(a.Skill, b.Skill),
		)
	})
	progress = 100
	if need > 0 {
		progress = int(math.Round(100 * float64(have) / float64(need)))
	}
	path = make([]Step, 0, len(gaps))
	for i, g := range gaps {
		path = append(path, Step{Order: i + 1, Skill: g.Skill, From: g.Current, To: g.Required})
	}
	return gaps, progress, path
}
