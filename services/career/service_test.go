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

package career_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillmesh/skillmesh/internal/testutil/dbtest"
	"github.com/skillmesh/skillmesh/internal/testutil/pgserver"
	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/client"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/platform/outbox"
	"github.com/skillmesh/skillmesh/services/platform/store"
	"github.com/skillmesh/skillmesh/services/skills"
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

// skillsService runs the real skills service over HTTP on loopback.
func skillsService(t *testing.T) (*skills.Service, *skills.Client) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "skills.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tax, err := skills.DefaultTaxonomy()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := skills.NewService(ctx, db, tax, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(skills.NewServer(svc, health.New(time.Second), prometheus.NewRegistry(), slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	c, err := skills.NewClient(srv.URL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return svc, c
}

func assessedEvent(t *testing.T, a skills.Assessment) events.Event {
	t.Helper()
	data := skills.AssessedEvent{UserID: a.UserID, AssessedAt: a.AssessedAt}
	for _, s := range a.Skills {
		data.Skills = append(data.Skills, skills.LeveledSkill{Name: s.Name, Level: s.Level})
	}
	ev, err := events.New(skills.TopicAssessed, "skills", data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestCatalogue_has_the_roles(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		_, sk := skillsService(t)
		svc, err := career.NewService(context.Background(), db, sk, nil)
		if err != nil {
			t.Fatal(err)
		}
		roles, err := svc.Roles(context.Background())
		if err != nil || len(roles) < 10 {
			t.Fatalf("roles = %d (err %v), want at least 10", len(roles), err)
		}
		if _, err := svc.Role(context.Background(), "astronaut"); !errors.Is(err, career.ErrUnknownRole) {
			t.Errorf("unknown role: err = %v", err)
		}
	})
}

func TestPlan_from_the_skills_service_then_refreshed_by_events(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		skillsSvc, sk := skillsService(t)
		svc, err := career.NewService(ctx, db, sk, nil)
		if err != nil {
			t.Fatal(err)
		}

		// Never assessed: a plan from zero.
		p, err := svc.MakePlan(ctx, "ada", "backend-engineer")
		if err != nil || p.Assessed || p.Progress != 0 || len(p.Gaps) == 0 {
			t.Fatalf("plan = %+v, err = %v", p, err)
		}
		if _, err := svc.MakePlan(ctx, "ada", "astronaut"); !errors.Is(err, career.ErrUnknownRole) {
			t.Errorf("unknown role: err = %v", err)
		}

		// Assessed over HTTP: the plan uses the levels the skills service gives.
		a1, err := skillsSvc.Assess(ctx, "ada", skills.CV{Experience: []skills.Experience{{Years: 2, Description: "Go, Docker"}}})
		if err != nil {
			t.Fatal(err)
		}
		p, err = svc.MakePlan(ctx, "ada", "backend-engineer")
		if err != nil || !p.Assessed || !p.BasedOn.Equal(a1.AssessedAt) || p.Progress == 0 {
			t.Fatalf("assessed plan = %+v, err = %v", p, err)
		}

		// A newer assessment arrives as an event; applying it twice changes nothing more.
		a2, err := skillsSvc.Assess(ctx, "ada", skills.CV{Experience: []skills.Experience{{Years: 8, Description: "Go, Docker, PostgreSQL, REST API design, microservices, unit tests, Git"}}})
		if err != nil {
			t.Fatal(err)
		}
		ev := assessedEvent(t, a2)
		before, _ := outbox.Pending(ctx, db)
		for range 2 {
			if err := svc.HandleAssessed(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		after, _ := outbox.Pending(ctx, db)
		if after != before+1 {
			t.Errorf("plan updates from one event delivered twice = %d, want 1", after-before)
		}
		refreshed, err := svc.Plan(ctx, "ada")
		if err != nil || !refreshed.BasedOn.Equal(a2.AssessedAt) || refreshed.Progress <= p.Progress {
			t.Fatalf("refreshed = %+v, err = %v", refreshed, err)
		}

		// The older assessment delivered late changes nothing.
		if err := svc.HandleAssessed(ctx, assessedEvent(t, a1)); err != nil {
			t.Fatal(err)
		}
		if still, _ := svc.Plan(ctx, "ada"); !still.BasedOn.Equal(a2.AssessedAt) {
			t.Errorf("a late, older event rolled the plan back to %v", still.BasedOn)
		}

		// An event for a user without a plan is acknowledged and ignored.
		other, _ := skillsSvc.Assess(ctx, "grace", skills.CV{Skills: []string{"Go"}})
		if err := svc.HandleAssessed(ctx, assessedEvent(t, other)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Plan(ctx, "grace"); !errors.Is(err, career.ErrNoPlan) {
			t.Errorf("a plan appeared for a user who never asked: %v", err)
		}
	})
}
