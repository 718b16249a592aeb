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

// Package skills is the skills service: it reads a CV, finds the skills of
// its taxonomy in every field, scores them, keeps every assessment in its own
// database and announces each one as a skills.assessed event.
package skills

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/outbox"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

// TopicAssessed is published after every assessment.
const TopicAssessed = "skills.assessed"

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed data/taxonomy.json
var taxonomyJSON []byte

// DefaultTaxonomy is the embedded taxonomy.
func DefaultTaxonomy() (*Taxonomy, error) { return ParseTaxonomy(taxonomyJSON) }

// ErrNotFound means the user has no assessment.
var ErrNotFound = errors.New("no assessment for this user")

// AssessedEvent is the data of a skills.assessed event.
type AssessedEvent struct {
	UserID     string         `json:"user_id"`
	Skills     []LeveledSkill `json:"skills"`
	AssessedAt time.Time      `json:"assessed_at"`
}

// LeveledSkill is a skill with its level, as events and other services see it.
type LeveledSkill struct {
	Name  string `json:"name"`
	Level int    `json:"level"`
}

// Service is the skills service's logic over its database.
type Service struct {
	db    *store.DB
	tax   *Taxonomy
	relay *outbox.Relay
	clock store.Clock
}

// NewService migrates db and returns the service. relay may be nil when no
// broker is configured: events then stay in the outbox until one is.
func NewService(ctx context.Context, db *store.DB, tax *Taxonomy, relay *outbox.Relay) (*Service, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, sub); err != nil {
		return nil, fmt.Errorf("skills schema: %w", err)
	}
	if err := outbox.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("outbox schema: %w", err)
	}
	return &Service{db: db, tax: tax, relay: relay}, nil
}

// Taxonomy returns the taxonomy in use.
func (s *Service) Taxonomy() *Taxonomy { return s.tax }

// Assess scores cv, stores the assessment and its event in one transaction,
// and returns it.
func (s *Service) Assess(ctx context.Context, userID string, cv CV) (Assessment, error) {
	skills := Assess(s.tax, cv)
	at := s.clock.Now()
	a := Assessment{ID: newID(), UserID: userID, Skills: skills, Scores: make(map[string]int, len(skills)),
		// Full precision: consumers order assessments by this time, and two
		// made within one millisecond must still compare as different.
		AssessedAt: at}
	leveled := make([]LeveledSkill, 0, len(skills))
	for _, sk := range skills {
		a.Scores[sk.Name] = sk.Score
		leveled = append(leveled, LeveledSkill{Name: sk.Name, Level: sk.Level})
	}
	ev, err := events.New(TopicAssessed, "skills", AssessedEvent{UserID: userID, Skills: leveled, AssessedAt: a.AssessedAt})
	if err != nil {
		return Assessment{}, err
	}
	body, err := json.Marshal(a)
	if err != nil {
		return Assessment{}, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO assessments (id, user_id, assessed_at, body) VALUES (?, ?, ?, ?)`),
			a.ID, userID, store.TimeKey(at), string(body)); err != nil {
			return fmt.Errorf("store assessment: %w", err)
		}
		return outbox.Add(ctx, s.db, tx, ev)
	})
	if err != nil {
		return Assessment{}, err
	}
	if s.relay != nil {
		s.relay.Notify()
	}
	return a, nil
}

// Latest returns the user's most recent assessment.
func (s *Service) Latest(ctx context.Context, userID string) (Assessment, error) {
	list, err := s.query(ctx, `SELECT body FROM assessments WHERE user_id = ? ORDER BY assessed_at DESC, id DESC LIMIT 1`, userID)
	if err != nil {
		return Assessment{}, err
	}
	if len(list) == 0 {
		return Assessment{}, ErrNotFound
	}
	return list[0], nil
}

// History returns every assessment of the user, newest first.
func (s *Service) History(ctx context.Context, userID string) ([]Assessment, error) {
	return s.query(ctx, `SELECT body FROM assessments WHERE user_id = ? ORDER BY assessed_at DESC, id DESC`, userID)
}

func (s *Service) query(ctx context.Context, q string, args ...any) ([]Assessment, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read assessments: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Assessment
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("read assessments: %w", err)
		}
		var a Assessment
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("decode assessment: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
