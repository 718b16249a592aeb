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

// Package learning is the learning service: a course catalogue in its own
// database, enrolments with progress, and recommendations for the gaps of a
// user's career plan, learned from career.plan.updated events alone.
package learning

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/outbox"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed data/courses.json
var coursesJSON []byte

// Errors the API maps to statuses.
var (
	ErrUnknownCourse     = errors.New("unknown course")
	ErrAlreadyEnrolled   = errors.New("already enrolled")
	ErrNotEnrolled       = errors.New("not enrolled")
	ErrUnknownUser       = errors.New("unknown user")
	ErrNoPlanReceivedYet = errors.New("no career plan received for this user yet")
)

// Enrollment is a course a user takes.
type Enrollment struct {
	Course
	EnrolledAt time.Time `json:"enrolled_at"`
	Progress   int       `json:"progress"`
}

// Recommendations answers GET /users/{user_id}/recommendations.
type Recommendations struct {
	UserID          string           `json:"user_id"`
	TargetRole      string           `json:"target_role"`
	PlanUpdatedAt   time.Time        `json:"plan_updated_at"`
	Recommendations []Recommendation `json:"recommendations"`
}

// Service is the learning service's logic.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService migrates db, seeds the catalogue and returns the service.
func NewService(ctx context.Context, db *store.DB) (*Service, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, sub); err != nil {
		return nil, fmt.Errorf("learning schema: %w", err)
	}
	if err := outbox.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("outbox schema: %w", err)
	}
	courses, err := ParseCourses(coursesJSON)
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, now: func() time.Time { return time.Now().UTC() }}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for _, c := range courses {
			if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO courses (id, title, skill, level, hours, provider) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET title = excluded.title, skill = excluded.skill, level = excluded.level,
				hours = excluded.hours, provider = excluded.provider`),
				c.ID, c.Title, c.Skill, c.Level, c.Hours, c.Provider); err != nil {
				return fmt.Errorf("seed course %s: %w", c.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

const courseColumns = `c.id, c.title, c.skill, c.level, c.hours, c.provider`

func scanCourse(row interface{ Scan(...any) error }, extra ...any) (Course, error) {
	var c Course
	err := row.Scan(append([]any{&c.ID, &c.Title, &c.Skill, &c.Level, &c.Hours, &c.Provider}, extra...)...)
	return c, err
}

// Courses lists the catalogue, or the courses of one skill.
func (s *Service) Courses(ctx context.Context, skill string) ([]Course, error) {
	q := `SELECT ` + courseColumns + ` FROM courses c`
	var args []any
	if skill != "" {
		q += ` WHERE LOWER(c.skill) = ?`
		args = append(args, strings.ToLower(skill))
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(q+` ORDER BY c.skill, c.level, c.id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read courses: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []Course{}
	for rows.Next() {
		c, err := scanCourse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Course returns one course.
func (s *Service) Course(ctx context.Context, id string) (Course, error) {
	c, err := scanCourse(s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT `+courseColumns+` FROM courses c WHERE c.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Course{}, ErrUnknownCourse
	}
	return c, err
}

// Enroll puts the user on a course.
func (s *Service) Enroll(ctx context.Context, userID, courseID string) (Enrollment, error) {
	c, err := s.Course(ctx, courseID)
	if err != nil {
		return Enrollment{}, err
	}
	e := Enrollment{Course: c, EnrolledAt: s.now().Truncate(time.Millisecond)}
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO enrollments (user_id, course_id, enrolled_at, progress) VALUES (?, ?, ?, 0)
		ON CONFLICT (user_id, course_id) DO NOTHING`), userID, courseID, store.TimeKey(e.EnrolledAt))
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Enrollment{}, ErrAlreadyEnrolled
	}
	return e, nil
}

// SetProgress records how far the user is through a course, 0–100.
func (s *Service) SetProgress(ctx context.Context, userID, courseID string, progress int) error {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE enrollments SET progress = ? WHERE user_id = ? AND course_id = ?`),
		progress, userID, courseID)
	if err != nil {
		return fmt.Errorf("set progress: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotEnrolled
	}
	return nil
}

// Enrollments lists the user's courses with progress. A user with neither
// enrolments nor a plan is unknown.
func (s *Service) Enrollments(ctx context.Context, userID string) ([]Enrollment, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT `+courseColumns+`, e.enrolled_at, e.progress
		FROM enrollments e JOIN courses c ON c.id = e.course_id WHERE e.user_id = ? ORDER BY e.enrolled_at, c.id`), userID)
	if err != nil {
		return nil, fmt.Errorf("read enrollments: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []Enrollment{}
	for rows.Next() {
		var at string
		var e Enrollment
		if e.Course, err = scanCourse(rows, &at, &e.Progress); err != nil {
			return nil, err
		}
		e.EnrolledAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if _, err := s.gaps(ctx, userID); errors.Is(err, ErrNoPlanReceivedYet) {
			return nil, ErrUnknownUser
		}
	}
	return out, nil
}

type storedGaps struct {
	TargetRole string       `json:"target_role"`
	UpdatedAt  time.Time    `json:"updated_at"`
	Gaps       []career.Gap `json:"gaps"`
}

func (s *Service) gaps(ctx context.Context, userID string) (storedGaps, error) {
	var g storedGaps
	var at, body string
	err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT target_role, updated_at, gaps FROM user_gaps WHERE user_id = ?`), userID).
		Scan(&g.TargetRole, &at, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return g, ErrNoPlanReceivedYet
	}
	if err != nil {
		return g, fmt.Errorf("read gaps: %w", err)
	}
	g.UpdatedAt, _ = time.Parse(time.RFC3339Nano, at)
	return g, json.Unmarshal([]byte(body), &g.Gaps)
}

// Recommend answers with courses for the gaps of the user's latest plan.
func (s *Service) Recommend(ctx context.Context, userID string) (Recommendations, error) {
	g, err := s.gaps(ctx, userID)
	if err != nil {
		return Recommendations{}, err
	}
	catalogue, err := s.Courses(ctx, "")
	if err != nil {
		return Recommendations{}, err
	}
	enrolled := map[string]bool{}
	list, err := s.Enrollments(ctx, userID)
	if err != nil {
		return Recommendations{}, err
	}
	for _, e := range list {
		enrolled[e.ID] = true
	}
	return Recommendations{UserID: userID, TargetRole: g.TargetRole, PlanUpdatedAt: g.UpdatedAt,
		Recommendations: Recommend(g.Gaps, catalogue, enrolled)}, nil
}

// HandlePlanUpdated stores the gaps of a career.plan.updated event. It is
// idempotent, and a plan older than the stored one changes nothing.
func (s *Service) HandlePlanUpdated(ctx context.Context, ev events.Event) error {
	var data career.PlanUpdatedEvent
	if err := ev.Decode(&data); err != nil {
		return fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
	}
	gaps, err := json.Marshal(data.Gaps)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		first, err := outbox.FirstDelivery(ctx, s.db, tx, ev.ID)
		if err != nil || !first {
			return err
		}
		// Only a newer plan replaces the stored one (RFC 3339 with a fixed
		// zone compares as text).
		_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO user_gaps (user_id, target_role, updated_at, gaps) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET target_role = excluded.target_role, updated_at = excluded.updated_at, gaps = excluded.gaps
			WHERE excluded.updated_at > user_gaps.updated_at`),
			data.UserID, data.TargetRole, store.TimeKey(data.UpdatedAt), string(gaps))
		if err != nil {
			return fmt.Errorf("store gaps: %w", err)
		}
		return nil
	})
}
