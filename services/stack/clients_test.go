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
	"context"
	"testing"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/platform/client"
	"github.com/skillmesh/skillmesh/services/skills"
)

// The typed clients are what the gateway and the services use: they must
// read every service's answers whole.
func TestTyped_clients_speak_to_the_real_services(t *testing.T) {
	broker := brokerURL()
	sk := start(t, skills.Run, env(t, "skills", broker, nil))
	cr := start(t, career.Run, env(t, "career", broker, map[string]string{"SKILLS_URL": sk.URL}))
	ln := start(t, learning.Run, env(t, "learning", broker, nil))
	ctx := context.Background()
	skc, _ := skills.NewClient(sk.URL, client.Options{})
	crc, _ := career.NewClient(cr.URL, client.Options{})
	lnc, _ := learning.NewClient(ln.URL, client.Options{})

	if _, err := skc.Latest(ctx, "grace"); !client.IsNotFound(err) {
		t.Fatalf("latest before any assessment: err = %v", err)
	}
	a, err := skc.Assess(ctx, "grace", seniorCV)
	if err != nil || len(a.Skills) == 0 {
		t.Fatalf("assess: %+v, %v", a, err)
	}
	if got, err := skc.Latest(ctx, "grace"); err != nil || got.ID != a.ID {
		t.Fatalf("latest = %+v, %v", got, err)
	}
	roles, err := crc.Roles(ctx)
	if err != nil || len(roles) < 10 {
		t.Fatalf("roles = %d, %v", len(roles), err)
	}
	plan, err := crc.MakePlan(ctx, "grace", "platform-engineer")
	if err != nil || !plan.Assessed || plan.TargetRole != "platform-engineer" {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
	if got, err := crc.Plan(ctx, "grace"); err != nil || !got.UpdatedAt.Equal(plan.UpdatedAt) {
		t.Fatalf("plan read back = %+v, %v", got, err)
	}
	var rec learning.Recommendations
	eventually(t, "learning to hear of the plan", func() bool {
		rec, err = lnc.Recommendations(ctx, "grace")
		return err == nil && rec.PlanUpdatedAt.Equal(plan.UpdatedAt)
	})
	var courseID string
	for _, r := range rec.Recommendations {
		if len(r.Courses) > 0 {
			courseID = r.Courses[0].ID
			break
		}
	}
	if courseID == "" {
		t.Fatalf("no course recommended: %+v", rec)
	}
	if _, err := lnc.Enroll(ctx, "grace", courseID); err != nil {
		t.Fatal(err)
	}
	courses, err := lnc.Courses(ctx, "grace")
	if err != nil || len(courses) != 1 || courses[0].ID != courseID {
		t.Fatalf("courses = %+v, %v", courses, err)
	}
}
