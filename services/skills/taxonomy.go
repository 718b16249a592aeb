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
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Skill is one entry of the taxonomy.
type Skill struct {
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Aliases  []string `json:"aliases"`
}

// term is a spelling that names a skill.
type term struct {
	text  string // lower-case, or exact case when caseSensitive
	skill int
	// caseSensitive terms are short or ordinary words ("Go", "R", "Swift"):
	// in prose they only count with the capitalisation of the name.
	caseSensitive bool
}

// Taxonomy finds skills in free text.
type Taxonomy struct {
	skills []Skill
	exact  map[string]int // lower-case name or alias → skill
	terms  []term         // longest first, so "Spring Boot" wins over "Spring"
}

// riskyNames are skill names that are also everyday words.
var riskyNames = map[string]bool{
	"go": true, "r": true, "c": true, "swift": true, "rust": true, "spark": true,
	"chef": true, "puppet": true, "dart": true, "make": true, "ant": true, "julia": true, "elixir": true,
	"helm": true, "spring": true, "ruby": true, "cassandra": true, "jenkins": true, "flask": true,
	"flutter": true, "envoy": true, "gin": true, "tableau": true,
}

// ParseTaxonomy reads the taxonomy JSON and indexes every spelling.
func ParseTaxonomy(data []byte) (*Taxonomy, error) {
	var skills []Skill
	if err := json.Unmarshal(data, &skills); err != nil {
		return nil, fmt.Errorf("parse taxonomy: %w", err)
	}
	t := &Taxonomy{skills: skills, exact: map[string]int{}}
	add := func(spelling string, i int, fromName bool) error {
		key := strings.ToLower(strings.TrimSpace(spelling))
		if key == "" {
			return fmt.Errorf("skill %q has an empty spelling", skills[i].Name)
		}
		if j, dup := t.exact[key]; dup && j != i {
			return fmt.Errorf("%q names both %q and %q", spelling, skills[j].Name, skills[i].Name)
		}
		t.exact[key] = i
		risky := fromName && (riskyNames[key] || utf8.RuneCountInString(key) <= 2)
		if risky {
			t.terms = append(t.terms, term{text: strings.TrimSpace(spelling), skill: i, caseSensitive: true})
		} else {
			t.terms = append(t.terms, term{text: key, skill: i})
		}
		return nil
	}
	for i, s := range skills {
		if err := add(s.Name, i, true); err != nil {
			return nil, err
		}
		for _, a := range s.Aliases {
			if err := add(a, i, false); err != nil {
				return nil, err
			}
		}
	}
	slices.SortStableFunc(t.terms, func(a, b term) int { return len(b.text) - len(a.text) })
	return t, nil
}

// Len is the number of skills.
func (t *Taxonomy) Len() int { return len(t.skills) }

// Skills returns every skill.
func (t *Taxonomy) Skills() []Skill { return slices.Clone(t.skills) }

// Lookup resolves one spelling (a name or an alias, any case) to its skill.
func (t *Taxonomy) Lookup(spelling string) (Skill, bool) {
	i, ok := t.exact[strings.ToLower(strings.TrimSpace(spelling))]
	if !ok {
		return Skill{}, false
	}
	return t.skills[i], true
}

// Find counts the mentions of each skill in text, by canonical name. A
// spelling counts only as a whole word: "Java" is not found in "JavaScript",
// nor "C" in "C++". Each stretch of text counts once, for the longest
// spelling that covers it.
func (t *Taxonomy) Find(text string) map[string]int {
	found := map[string]int{}
	if strings.TrimSpace(text) == "" {
		return found
	}
	lower := asciiLower(text)
	taken := make([]bool, len(text))
	for _, tm := range t.terms {
		hay := lower
		if tm.caseSensitive {
			hay = text
		}
		for from := 0; from < len(hay); {
			i := strings.Index(hay[from:], tm.text)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(tm.text)
			from = start + 1
			if !wordBoundary(hay, start, end) || anyTaken(taken, start, end) {
				continue
			}
			for k := start; k < end; k++ {
				taken[k] = true
			}
			found[t.skills[tm.skill].Name]++
		}
	}
	return found
}

func anyTaken(taken []bool, start, end int) bool {
	return slices.Contains(taken[start:end], true)
}

// wordBoundary: the match is not glued to a letter or digit on either side,
// and not followed by '+' or '#' (which would make it C++ or C#).
func wordBoundary(s string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:start])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '+' || r == '#' {
			return false
		}
	}
	return true
}

// asciiLower lower-cases A–Z only, so byte offsets in the result match the
// original text (strings.ToLower may change the length of some runes).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
