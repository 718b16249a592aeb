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

package skills_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/skillmesh/skillmesh/internal/testutil/dbtest"
	"github.com/skillmesh/skillmesh/internal/testutil/pgserver"
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

func newService(t *testing.T, db *store.DB) *skills.Service {
	t.Helper()
	tax, err := skills.DefaultTaxonomy()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := skills.NewService(context.Background(), db, tax, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

var sampleCV = skills.CV{
	Summary: "Platform engineer who loves Go and Kubernetes.",
	Experience: []skills.Experience{
		{Title: "Senior Engineer", Company: "Acme", Years: 5, Description: "Built Kubernetes operators in golang; ran PostgreSQL and Redis."},
		{Title: "Engineer", Company: "Beta", Years: 2, Description: "Python services, Docker, CI/CD with GitHub Actions."},
	},
	Skills:    []string{"k8s", "Terraform", "postgres"},
	Education: []skills.Education{{Degree: "BSc", Field: "Computer Science"}},
}

func TestDefaultTaxonomy_is_large_enough(t *testing.T) {
	tax, err := skills.DefaultTaxonomy()
	if err != nil {
		t.Fatal(err)
	}
	if tax.Len() < 150 {
		t.Errorf("taxonomy has %d skills, want at least 150", tax.Len())
	}
	for alias, want := range map[string]string{"golang": "Go", "k8s": "Kubernetes", "postgres": "PostgreSQL", "js": "JavaScript"} {
		if s, ok := tax.Lookup(alias); !ok || s.Name != want {
			t.Errorf("alias %q → %q, want %q", alias, s.Name, want)
		}
	}
}

func TestAssess_stores_history_and_the_event_in_one_transaction(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		first, err := svc.Assess(ctx, "u1", sampleCV)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]skills.AssessedSkill{}
		for _, s := range first.Skills {
			found[s.Name] = s
		}
		for _, name := range []string{"Go", "Kubernetes", "PostgreSQL", "Redis", "Python", "Docker", "Terraform", "GitHub Actions", "Continuous Integration"} {
			if _, ok := found[name]; !ok {
				t.Errorf("%s not found; got %v", name, first.Skills)
			}
		}
		if found["Kubernetes"].Level < found["Terraform"].Level || first.Scores["Go"] != found["Go"].Score {
			t.Errorf("scores do not follow the evidence: %+v", first.Skills)
		}

		second, err := svc.Assess(ctx, "u1", skills.CV{Skills: []string{"Rust"}})
		if err != nil {
			t.Fatal(err)
		}
		latest, err := svc.Latest(ctx, "u1")
		if err != nil || latest.ID != second.ID {
			t.Fatalf("latest = %s (err %v), want %s", latest.ID, err, second.ID)
		}
		history, err := svc.History(ctx, "u1")
		if err != nil || len(history) != 2 || history[1].ID != first.ID {
			t.Fatalf("history = %d entries (err %v)", len(history), err)
		}
		if n, err := outbox.Pending(ctx, db); err != nil || n != 2 {
			t.Errorf("outbox holds %d events (err %v), want one per assessment", n, err)
		}
		if _, err := svc.Latest(ctx, "nobody"); !errors.Is(err, skills.ErrNotFound) {
			t.Errorf("unknown user: err = %v", err)
		}
		// What is stored reads back exactly as it was answered.
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(history[1])
		if string(a) != string(b) {
			t.Errorf("stored assessment differs:\n%s\n%s", a, b)
		}
	})
}
