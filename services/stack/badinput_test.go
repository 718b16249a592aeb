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

package stack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/skills"
)

// raw sends body as it is, so malformed JSON reaches the server.
func raw(t *testing.T, method, url, body string) (int, map[string]map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestBad_input_gets_a_JSON_error_and_writes_nothing(t *testing.T) {
	broker := brokerURL()
	sk := start(t, skills.Run, env(t, "skills", broker, nil))
	cr := start(t, career.Run, env(t, "career", broker, map[string]string{"SKILLS_URL": sk.URL}))
	ln := start(t, learning.Run, env(t, "learning", broker, nil))

	for _, tc := range []struct {
		name, method, url, body string
		status                  int
		contains                string
	}{
		{"malformed JSON", "POST", sk.URL + "/users/ada/assess", `{"summary":`, 400, "not valid JSON"},
		{"unknown field", "POST", sk.URL + "/users/ada/assess", `{"summary":"Go","salary":100}`, 400, "salary"},
		{"empty CV", "POST", sk.URL + "/users/ada/assess", `{}`, 400, "empty"},
		{"negative years", "POST", sk.URL + "/users/ada/assess", `{"experience":[{"title":"x","years":-2}]}`, 400, "years"},
		{"oversized body", "POST", sk.URL + "/users/ada/assess", `{"summary":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "exceeds"},
		{"bad user id", "POST", sk.URL + "/users/a%20b/assess", `{"summary":"Go"}`, 400, "user_id"},
		{"unknown user's skills", "GET", sk.URL + "/users/nobody/skills", ``, 404, "no assessment"},
		{"unknown route", "GET", sk.URL + "/nope", ``, 404, "no route"},
		{"unknown role", "POST", cr.URL + "/users/ada/career-plan", `{"target_role":"astronaut"}`, 400, "astronaut"},
		{"missing role", "POST", cr.URL + "/users/ada/career-plan", `{}`, 400, "target_role is required"},
		{"unknown user's plan", "GET", cr.URL + "/users/nobody/career-plan", ``, 404, "no career plan"},
		{"unknown role id", "GET", cr.URL + "/roles/astronaut", ``, 404, "astronaut"},
		{"unknown course", "POST", ln.URL + "/users/ada/enrollments", `{"course_id":"basket-weaving"}`, 400, "basket-weaving"},
		{"progress out of range", "PUT", ln.URL + "/users/ada/enrollments/go-2", `{"progress":101}`, 400, "0 to 100"},
		{"progress on a course not taken", "PUT", ln.URL + "/users/ada/enrollments/go-2", `{"progress":10}`, 404, "not enrolled"},
		{"unknown user's courses", "GET", ln.URL + "/users/nobody/courses", ``, 404, "nobody"},
		{"recommendations before any plan", "GET", ln.URL + "/users/nobody/recommendations", ``, 404, "no career plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := raw(t, tc.method, tc.url, tc.body)
			if code != tc.status {
				t.Fatalf("status = %d, want %d (%v)", code, tc.status, body)
			}
			e := body["error"]
			if e["code"] == "" || !strings.Contains(e["message"], tc.contains) {
				t.Errorf("error = %v, want a code and a message containing %q", e, tc.contains)
			}
		})
	}
	// None of the refused requests left anything behind.
	if code, _ := raw(t, "GET", sk.URL+"/users/ada/skills", ""); code != 404 {
		t.Errorf("a refused assessment was stored: GET skills = %d", code)
	}
	if code, _ := raw(t, "GET", cr.URL+"/users/ada/career-plan", ""); code != 404 {
		t.Errorf("a refused plan was stored: GET plan = %d", code)
	}
	if streamLen(t, broker, skills.TopicAssessed) != 0 {
		t.Errorf("a refused assessment published an event")
	}
}
