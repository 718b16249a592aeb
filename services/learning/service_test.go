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

package learning_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/internal/testutil/dbtest"
	"github.com/skillmesh/skillmesh/internal/testutil/pgserver"
	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

var pg *pgserver.Server

func TestMain(m *testing.M) {
	var err error
	if pg, err = pgserver.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

func planEvent(t *testing.T, user string, at time.Time, gaps ...career.Gap) events.Event {
	t.Helper()
	ev, err := events.New(career.TopicPlanUpdated, "career", career.PlanUpdatedEvent{
		UserID: user, TargetRole: "backend-engineer", Gaps: gaps, UpdatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestCatalogue_and_enrolments(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, err := learning.NewService(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		all, err := svc.Courses(ctx, "")
		if err != nil || len(all) < 30 {
			t.Fatalf("catalogue = %d courses (err %v), want at least 30", len(all), err)
		}
		goCourses, _ := svc.Courses(ctx, "go")
		if len(goCourses) == 0 {
			t.Fatalf("no Go course found by skill, any case")
		}
		if _, err := svc.Enrollments(ctx, "ada"); !errors.Is(err, learning.ErrUnknownUser) {
			t.Errorf("a user with nothing is unknown: err = %v", err)
		}
		if _, err := svc.Enroll(ctx, "ada", goCourses[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Enroll(ctx, "ada", goCourses[0].ID); !errors.Is(err, learning.ErrAlreadyEnrolled) {
			t.Errorf("second enrolment: err = %v", err)
		}
		if _, err := svc.Enroll(ctx, "ada", "no-such-course"); !errors.Is(err, learning.ErrUnknownCourse) {
			t.Errorf("unknown course: err = %v", err)
		}
		if err := svc.SetProgress(ctx, "ada", goCourses[0].ID, 40); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetProgress(ctx, "ada", "python-2", 10); !errors.Is(err, learning.ErrNotEnrolled) {
			t.Errorf("progress on a course not taken: err = %v", err)
		}
		list, err := svc.Enrollments(ctx, "ada")
		if err != nil || len(list) != 1 || list[0].Progress != 40 || list[0].ID != goCourses[0].ID {
			t.Errorf("enrolments = %+v (err %v)", list, err)
		}
	})
}

func TestPlan_events_drive_recommendations_idempotently_and_in_order(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, err := learning.NewService(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Recommend(ctx, "ada"); !errors.Is(err, learning.ErrNoPlanReceivedYet) {
			t.Errorf("before any plan: err = %v", err)
		}
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		older := planEvent(t, "ada", t0, career.Gap{Skill: "Go", Current: 1, Required: 4}, career.Gap{Skill: "Docker", Current: 0, Required: 3})
		newer := planEvent(t, "ada", t0.Add(time.Hour), career.Gap{Skill: "Kubernetes", Current: 0, Required: 3})

		for _, ev := range []events.Event{newer, newer, older} { // a duplicate, then a late older plan
			if err := svc.HandlePlanUpdated(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := svc.Recommend(ctx, "ada")
		if err != nil {
			t.Fatal(err)
		}
		if !rec.PlanUpdatedAt.Equal(t0.Add(time.Hour)) || len(rec.Recommendations) != 1 || rec.Recommendations[0].Gap.Skill != "Kubernetes" {
			t.Fatalf("recommendations follow the newest plan only, got %+v", rec)
		}
		if len(rec.Recommendations[0].Courses) == 0 {
			t.Errorf("no course recommended for Kubernetes")
		}
		if _, err := svc.Enrollments(ctx, "ada"); err != nil {
			t.Errorf("a user with a plan is known: err = %v", err)
		}
	})
}
