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

// Package career is the career service: a role catalogue in its own
// database, career plans that compare a user's skills (asked of the skills
// service over HTTP, never read from its database) with a target role, and a
// consumer of skills.assessed that refreshes a user's plan without any call.
package career

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/client"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
	"github.com/skillmesh/skillmesh/services/platform/outbox"
	"github.com/skillmesh/skillmesh/services/platform/store"
	"github.com/skillmesh/skillmesh/services/skills"
)

// TopicPlanUpdated is published whenever a plan is made or refreshed.
const TopicPlanUpdated = "career.plan.updated"

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed data/roles.json
var rolesJSON []byte

// Errors the API maps to statuses.
var (
	ErrNoPlan      = errors.New("no career plan for this user")
	ErrUnknownRole = errors.New("unknown role")
)

// Plan is a user's career plan.
type Plan struct {
	UserID       string    `json:"user_id"`
	TargetRole   string    `json:"target_role"`
	RoleTitle    string    `json:"role_title"`
	Gaps         []Gap     `json:"gaps"`
	Progress     int       `json:"progress"`
	LearningPath []Step    `json:"learning_path"`
	Assessed     bool      `json:"assessed"`
	BasedOn      time.Time `json:"based_on"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PlanUpdatedEvent is the data of a career.plan.updated event.
type PlanUpdatedEvent struct {
	UserID     string    `json:"user_id"`
	TargetRole string    `json:"target_role"`
	Gaps       []Gap     `json:"gaps"`
	Progress   int       `json:"progress"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Service is the career service's logic.
type Service struct {
	db     *store.DB
	skills *skills.Client
	relay  *outbox.Relay
	clock  store.Clock
}

// NewService migrates db, seeds the role catalogue and returns the service.
func NewService(ctx context.Context, db *store.DB, skillsClient *skills.Client, relay *outbox.Relay) (*Service, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, sub); err != nil {
		return nil, fmt.Errorf("career schema: %w", err)
	}
	if err := outbox.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("outbox schema: %w", err)
	}
	s := &Service{db: db, skills: skillsClient, relay: relay}
	roles, err := ParseRoles(rolesJSON)
	if err != nil {
		return nil, err
	}
	if err := s.seedRoles(ctx, roles); err != nil {
		return nil, err
	}
	return s, nil
}

// seedRoles writes the embedded catalogue, replacing older versions of it.
func (s *Service) seedRoles(ctx context.Context, roles []Role) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range roles {
			req, err := json.Marshal(r.Requirements)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO roles (id, title, description, requirements) VALUES (?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, requirements = excluded.requirements`),
				r.ID, r.Title, r.Description, string(req)); err != nil {
				return fmt.Errorf("seed role %s: %w", r.ID, err)
			}
		}
		return nil
	})
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Roles lists the catalogue.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, description, requirements FROM roles ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Role returns one role.
func (s *Service) Role(ctx context.Context, id string) (Role, error) {
	return s.role(ctx, s.db, id)
}

func (s *Service) role(ctx context.Context, q querier, id string) (Role, error) {
	r, err := scanRole(q.QueryRowContext(ctx, s.db.Rebind(`SELECT id, title, description, requirements FROM roles WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, ErrUnknownRole
	}
	return r, err
}

func scanRole(row interface{ Scan(...any) error }) (Role, error) {
	var r Role
	var req string
	if err := row.Scan(&r.ID, &r.Title, &r.Description, &req); err != nil {
		return Role{}, err
	}
	if err := json.Unmarshal([]byte(req), &r.Requirements); err != nil {
		return Role{}, fmt.Errorf("decode role %s: %w", r.ID, err)
	}
	return r, nil
}

// MakePlan asks the skills service for the user's latest assessment and
// plans towards targetRole. A user never assessed gets a plan from zero.
func (s *Service) MakePlan(ctx context.Context, userID, targetRole string) (Plan, error) {
	role, err := s.Role(ctx, targetRole)
	if err != nil {
		return Plan{}, err
	}
	current := map[string]int{}
	assessed := false
	basedOn := time.Time{}
	a, err := s.skills.Latest(ctx, userID)
	switch {
	case client.IsNotFound(err):
	case err != nil:
		return Plan{}, httpx.Errorf(503, "skills_unavailable", "the skills service did not answer: %v", err)
	default:
		assessed, basedOn = true, a.AssessedAt
		for _, sk := range a.Skills {
			current[sk.Name] = sk.Level
		}
	}
	p := s.plan(userID, role, current, assessed, basedOn)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error { return s.savePlan(ctx, tx, p) })
	if err != nil {
		return Plan{}, err
	}
	s.notify()
	return p, nil
}

func (s *Service) plan(userID string, role Role, current map[string]int, assessed bool, basedOn time.Time) Plan {
	gaps, progress, path := Analyse(role, current)
	return Plan{UserID: userID, TargetRole: role.ID, RoleTitle: role.Title, Gaps: gaps, Progress: progress,
		LearningPath: path, Assessed: assessed, BasedOn: basedOn,
		// Full precision from a monotonic clock: learning keeps the newest
		// plan by this time, so two plans must never compare equal.
		UpdatedAt: s.clock.Now()}
}

// savePlan stores p and its career.plan.updated event in tx.
func (s *Service) savePlan(ctx context.Context, tx *sql.Tx, p Plan) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO plans (user_id, target_role, based_on, updated_at, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET target_role = excluded.target_role, based_on = excluded.based_on,
		updated_at = excluded.updated_at, body = excluded.body`),
		p.UserID, p.TargetRole, p.BasedOn.Format(time.RFC3339Nano), p.UpdatedAt.Format(time.RFC3339Nano), string(body)); err != nil {
		return fmt.Errorf("store plan: %w", err)
	}
	ev, err := events.New(TopicPlanUpdated, "career", PlanUpdatedEvent{
		UserID: p.UserID, TargetRole: p.TargetRole, Gaps: p.Gaps, Progress: p.Progress, UpdatedAt: p.UpdatedAt})
	if err != nil {
		return err
	}
	return outbox.Add(ctx, s.db, tx, ev)
}

// Plan returns the user's stored plan.
func (s *Service) Plan(ctx context.Context, userID string) (Plan, error) {
	return s.loadPlan(ctx, s.db, userID)
}

func (s *Service) loadPlan(ctx context.Context, q querier, userID string) (Plan, error) {
	var body string
	err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT body FROM plans WHERE user_id = ?`), userID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, ErrNoPlan
	}
	if err != nil {
		return Plan{}, fmt.Errorf("read plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return Plan{}, fmt.Errorf("decode plan: %w", err)
	}
	return p, nil
}

// HandleAssessed refreshes the plan of the user a skills.assessed event is
// about, from the event alone. It is idempotent: the event is recorded in
// the same transaction as its effect, and an assessment older than the one
// a plan is based on changes nothing.
func (s *Service) HandleAssessed(ctx context.Context, ev events.Event) error {
	var data skills.AssessedEvent
	if err := ev.Decode(&data); err != nil {
		return fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
	}
	changed := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		first, err := outbox.FirstDelivery(ctx, s.db, tx, ev.ID)
		if err != nil || !first {
			return err
		}
		p, err := s.loadPlan(ctx, tx, data.UserID)
		if errors.Is(err, ErrNoPlan) {
			return nil // no target role chosen yet: nothing to refresh
		}
		if err != nil {
			return err
		}
		if p.Assessed && !data.AssessedAt.After(p.BasedOn) {
			return nil // an older or the same assessment, delivered late
		}
		role, err := s.role(ctx, tx, p.TargetRole)
		if err != nil {
			return err
		}
		current := make(map[string]int, len(data.Skills))
		for _, sk := range data.Skills {
			current[sk.Name] = sk.Level
		}
		changed = true
		return s.savePlan(ctx, tx, s.plan(data.UserID, role, current, true, data.AssessedAt))
	})
	if err == nil && changed {
		s.notify()
	}
	return err
}

func (s *Service) notify() {
	if s.relay != nil {
		s.relay.Notify()
	}
}
