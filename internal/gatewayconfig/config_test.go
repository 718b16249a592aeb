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

package gatewayconfig

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() Config {
	return Config{
		Routes: []Route{{PathPrefix: "/api/skills", Service: "skills", Upstream: "http://skills.careers.svc.cluster.local:8080",
			StripPrefix: true, Timeout: Duration{5 * time.Second}}},
		Aggregations: []Aggregation{{Path: "/users/{user_id}/dashboard", Timeout: Duration{2 * time.Second}, OnError: "partial",
			Backends: []Backend{{Key: "skills", Service: "skills", Upstream: "http://skills.careers.svc.cluster.local:8080", Path: "/users/{user_id}/skills"}},
			Compute:  map[string]string{"total_skills": "size(skills.skills)"}}},
	}
}

func TestMarshal_then_Parse_round_trips(t *testing.T) {
	data, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.Version = Version
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	again, _ := Marshal(sample())
	if string(again) != string(data) {
		t.Errorf("Marshal is not deterministic")
	}
}

func TestParse_refuses_bad_files_naming_the_problem(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*Config)
		want   string
	}{
		"wrong version":      {func(c *Config) { c.Version = 7 }, "version 7"},
		"relative prefix":    {func(c *Config) { c.Routes[0].PathPrefix = "api" }, "pathPrefix"},
		"duplicate prefix":   {func(c *Config) { c.Routes = append(c.Routes, c.Routes[0]) }, "unique"},
		"no upstream scheme": {func(c *Config) { c.Routes[0].Upstream = "skills:8080" }, "upstream"},
		"zero timeout":       {func(c *Config) { c.Aggregations[0].Timeout = Duration{} }, "timeout"},
		"bad onError":        {func(c *Config) { c.Aggregations[0].OnError = "ignore" }, "onError"},
		"duplicate key": {func(c *Config) {
			c.Aggregations[0].Backends = append(c.Aggregations[0].Backends, c.Aggregations[0].Backends[0])
		}, "key"},
		"no backends": {func(c *Config) { c.Aggregations[0].Backends = nil }, "at least one backend"},
		"CEL that does not compile": {func(c *Config) { c.Aggregations[0].Compute["n"] = "size(skills.skills" },
			"aggregations[0] (/users/{user_id}/dashboard): compute.n:"},
		"CEL naming an unknown variable": {func(c *Config) { c.Aggregations[0].Compute["n"] = "size(careers.gaps)" },
			"compute.n:"},
		"backend param the path lacks": {func(c *Config) { c.Aggregations[0].Backends[0].Path = "/users/{id}/skills" },
			"aggregations[0] (/users/{user_id}/dashboard).backends[0] (skills): path \"/users/{id}/skills\" names {id}"},
		"param inside a segment": {func(c *Config) { c.Aggregations[0].Backends[0].Path = "/users/u-{user_id}" },
			"a {param} must be a whole segment"},
		"bad aggregation pattern": {func(c *Config) { c.Aggregations[0].Path = "/users/{user_id/dashboard" }, "aggregations[0]"},
		// ServeMux refuses two patterns where neither is more specific: the
		// route's path is narrower, the aggregation's method is.
		"route and aggregation that overlap": {func(c *Config) {
			c.Routes[0].PathPrefix = "/users/me/dashboard"
		}, "conflicts"},
	} {
		t.Run(name, func(t *testing.T) {
			c := sample()
			c.Version = Version
			tc.change(&c)
			data, _ := Marshal(c)
			if c.Version != Version {
				data = []byte(strings.Replace(string(data), `"version": 1`, `"version": 7`, 1))
			}
			if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte(`{"version":1,"routes":[],"aggregations":[],"extra":true}`)); err == nil {
		t.Error("an unknown field was accepted")
	}
}

// FuzzParse: no input makes Parse panic, and whatever it accepts survives a
// round trip unchanged.
func FuzzParse(f *testing.F) {
	seed, _ := Marshal(sample())
	f.Add(seed)
	f.Add([]byte(`{"version":1,"routes":[],"aggregations":[]}`))
	f.Add([]byte(`{"version":1,"routes":[{"pathPrefix":"/","upstream":"http://x","timeout":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("accepted config does not marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip changed an accepted config: %v", err)
		}
	})
}

// The gateway decodes only the answers an expression reads, so what
// CompileCompute says an expression reads must be exact.
func TestCompiled_expressions_name_the_backends_they_read(t *testing.T) {
	a := Aggregation{
		Backends: []Backend{{Key: "skills"}, {Key: "career"}, {Key: "courses"}},
		Compute: map[string]string{
			"guarded":  "has(skills.skills) ? size(skills.skills) : 0",
			"two":      "career.progress + size(courses.courses)",
			"constant": "1 + 2",
			"nested":   "[skills, career].size()",
		},
	}
	exprs, err := CompileCompute(a)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"constant": nil, "guarded": {"skills"}, "nested": {"skills", "career"}, "two": {"career", "courses"}}
	for _, e := range exprs {
		if fmt.Sprint(e.Vars) != fmt.Sprint(want[e.Name]) {
			t.Errorf("%s reads %v, want %v", e.Name, e.Vars, want[e.Name])
		}
	}
	v, err := exprs[1].Eval(map[string]any{"skills": map[string]any{"skills": []any{1, 2}}}) // guarded
	if err != nil || v != int64(2) {
		t.Errorf("guarded = %#v, %v", v, err)
	}
}
