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
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/gateway"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/skills"
)

// sampleGatewayConfig is the Gateway of config/samples rendered as the
// operator renders it, with each service's URL the loopback one it runs on.
func sampleGatewayConfig(t *testing.T, urls map[string]string) gatewayconfig.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "platform_v1alpha1_gateway.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var gw platformv1alpha1.Gateway
	if err := yaml.Unmarshal(raw, &gw); err != nil {
		t.Fatal(err)
	}
	cfg := gatewayconfig.Config{Routes: []gatewayconfig.Route{}, Aggregations: []gatewayconfig.Aggregation{}}
	policy := func(p platformv1alpha1.AuthPolicy) (string, string) {
		if p == platformv1alpha1.AuthNone || gw.Spec.Auth == nil {
			return "", ""
		}
		return gatewayconfig.AuthRequired, gatewayconfig.DefaultUserClaim
	}
	if a := gw.Spec.Auth; a != nil {
		jwks, err := stackKeys.JWKS()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "jwks.json")
		if err := os.WriteFile(path, jwks, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Auth = &gatewayconfig.Auth{Issuer: a.JWT.Issuer, Audiences: a.JWT.Audiences, JWKSFile: path}
	}
	for _, r := range gw.Spec.Routes {
		auth, claim := policy(r.Auth)
		cfg.Routes = append(cfg.Routes, gatewayconfig.Route{PathPrefix: r.PathPrefix, Service: r.Service, Upstream: urls[r.Service],
			StripPrefix: r.StripPrefix, ReplacePrefix: r.ReplacePrefix, Timeout: gatewayconfig.Duration{Duration: r.Timeout.Duration},
			Auth: auth, UserClaim: claim})
	}
	for _, a := range gw.Spec.Aggregations {
		auth, claim := policy(a.Auth)
		agg := gatewayconfig.Aggregation{Path: a.Path, Timeout: gatewayconfig.Duration{Duration: a.Timeout.Duration},
			OnError: string(a.OnError), Compute: a.Compute, Auth: auth, UserClaim: claim}
		for _, b := range a.Backends {
			agg.Backends = append(agg.Backends, gatewayconfig.Backend{Key: b.Key, Service: b.Service, Upstream: urls[b.Service], Path: b.Path})
		}
		cfg.Aggregations = append(cfg.Aggregations, agg)
	}
	return cfg
}

func TestThe_sample_stack_answers_the_dashboard_end_to_end(t *testing.T) {
	broker := brokerURL()
	sk := start(t, skills.Run, env(t, "skills", broker, nil))
	cr := start(t, career.Run, env(t, "career", broker, map[string]string{"SKILLS_URL": sk.URL}))
	ln := start(t, learning.Run, env(t, "learning", broker, nil))
	path := filepath.Join(t.TempDir(), gatewayconfig.FileName)
	data, err := gatewayconfig.Marshal(sampleGatewayConfig(t, map[string]string{"skills": sk.URL, "career": cr.URL, "learning": ln.URL}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	gw := start(t, gateway.Run, map[string]string{gatewayconfig.EnvConfigPath: path, "GATEWAY_DRAIN_DELAY": "0s", "GATEWAY_LOG_LEVEL": "error"})

	// Through the gateway's routes: assess, plan, enrol.
	if code, body := call(t, http.MethodPost, gw.URL+"/api/skills/users/ada/assess", seniorCV, nil); code != http.StatusCreated {
		t.Fatalf("assess through the gateway = %d %s", code, body)
	}
	var plan career.Plan
	if code, body := call(t, http.MethodPost, gw.URL+"/api/career/users/ada/career-plan", map[string]string{"target_role": "backend-engineer"}, &plan); code != 200 {
		t.Fatalf("plan through the gateway = %d %s", code, body)
	}
	var rec learning.Recommendations
	eventually(t, "learning to hear of the plan", func() bool {
		code, _ := call(t, http.MethodGet, gw.URL+"/api/learning/users/ada/recommendations", nil, &rec)
		return code == 200 && rec.PlanUpdatedAt.Equal(plan.UpdatedAt)
	})
	course := rec.Recommendations[0].Courses[0].ID
	if code, body := call(t, http.MethodPost, gw.URL+"/api/learning/users/ada/enrollments", map[string]string{"course_id": course}, nil); code != 201 {
		t.Fatalf("enrol through the gateway = %d %s", code, body)
	}

	// The dashboard: three services at once, merged, with CEL fields.
	var dash map[string]any
	code, body := call(t, http.MethodGet, gw.URL+"/users/ada/dashboard", nil, &dash)
	if code != 200 {
		t.Fatalf("dashboard = %d %s", code, body)
	}
	sks, _ := dash["skills"].(map[string]any)["skills"].([]any)
	if dash["total_skills"] != float64(len(sks)) || len(sks) == 0 {
		t.Errorf("total_skills = %v, skills = %d", dash["total_skills"], len(sks))
	}
	if dash["gaps_remaining"] != float64(len(plan.Gaps)) || dash["completion_percentage"] != float64(plan.Progress) {
		t.Errorf("gaps_remaining = %v (plan %d), completion = %v (plan %d)", dash["gaps_remaining"], len(plan.Gaps), dash["completion_percentage"], plan.Progress)
	}
	courses, _ := dash["courses"].(map[string]any)["courses"].([]any)
	if len(courses) != 1 {
		t.Errorf("courses on the dashboard = %v", dash["courses"])
	}
	if _, partial := dash["_errors"]; partial {
		t.Errorf("a healthy stack answered partially: %v", dash["_errors"])
	}

	// Career gone: the dashboard still answers, flagged partial.
	if err := cr.stop(); err != nil {
		t.Fatal(err)
	}
	dashboardAs := func(user string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, gw.URL+"/users/ada/dashboard", nil)
		if user != "" {
			tok, err := stackKeys.Token(user, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	if resp := dashboardAs("ada"); resp.StatusCode != 200 || resp.Header.Get(gateway.HeaderCompleted) != "false" {
		t.Errorf("with career down: %d completed=%q, want 200 and false", resp.StatusCode, resp.Header.Get(gateway.HeaderCompleted))
	}

	// The sample's auth: no token 401, another user's 403.
	if resp := dashboardAs(""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ada's dashboard without a token: %d, want 401", resp.StatusCode)
	}
	if resp := dashboardAs("grace"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("ada's dashboard with grace's token: %d, want 403", resp.StatusCode)
	}
}
