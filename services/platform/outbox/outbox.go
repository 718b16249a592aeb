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

// Package outbox makes publishing an event part of the database transaction
// that causes it (the transactional outbox): Add writes the event beside the
// change, and the Relay publishes what is written, in order, retrying until
// the broker takes it. A crash between commit and publish loses nothing; a
// crash after publish and before marking it may publish it twice, which the
// consumers' FirstDelivery check makes harmless.
package outbox

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the outbox and processed_events tables.
func Migrate(ctx context.Context, db *store.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return db.MigrateSet(ctx, "outbox_goose_db_version", sub)
}

// clock orders the outbox: events added in one instant keep their order.
var clock store.Clock

// Add records ev in tx; it is published after the transaction commits.
func Add(ctx context.Context, db *store.DB, tx *sql.Tx, ev events.Event) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO outbox (id, topic, payload, created_at) VALUES (?, ?, ?, ?)`),
		ev.ID, ev.Type, string(payload), store.TimeKey(clock.Now()))
	if err != nil {
		return fmt.Errorf("add event %s to the outbox: %w", ev.ID, err)
	}
	return nil
}

// FirstDelivery records in tx that eventID is being applied and reports
// whether this is the first time. A consumer applies an event only when it
// is, in the same transaction, so a redelivered event changes nothing.
func FirstDelivery(ctx context.Context, db *store.DB, tx *sql.Tx, eventID string) (bool, error) {
	res, err := tx.ExecContext(ctx,
		db.Rebind(`INSERT INTO processed_events (event_id, processed_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING`),
		eventID, store.TimeKey(time.Now()))
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", eventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", eventID, err)
	}
	return n == 1, nil
}

// Relay publishes the outbox.
type Relay struct {
	DB        *store.DB
	Publisher events.Publisher
	Logger    *slog.Logger
	// Interval between sweeps when nothing nudges the relay (default 1s).
	Interval time.Duration
	// Batch is how many events one sweep publishes at most (default 100).
	Batch int
	wake  chan struct{}
}

// NewRelay returns a relay over db's outbox.
func NewRelay(db *store.DB, pub events.Publisher, logger *slog.Logger) *Relay {
	return &Relay{DB: db, Publisher: pub, Logger: logger, Interval: time.Second, Batch: 100, wake: make(chan struct{}, 1)}
}

// Notify wakes the relay after a commit, so events go out at once instead of
// at the next sweep.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		n, err := r.Sweep(ctx)
		wait := r.Interval
		switch {
		case err != nil && ctx.Err() == nil:
			r.Logger.Warn("Outbox relay failed; retrying", "error", err, "retry_in", backoff)
			wait, backoff = backoff, min(2*backoff, 10*time.Second)
		case err == nil:
			backoff = 100 * time.Millisecond
			if n == r.Batch {
				wait = 0 // more are waiting
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-time.After(wait):
		}
	}
}

// Sweep publishes up to Batch pending events, oldest first, and reports how
// many it published. It stops at the first failure so order is kept.
//
// The events it published are marked in one statement at the end, not one
// by one: on SQLite every statement waits for the service's single
// connection behind the requests that write, and a write per event let the
// relay fall a second and more behind under load. A crash before the mark
// publishes the batch again, which the consumers' FirstDelivery makes
// harmless.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	rows, err := r.DB.QueryContext(ctx, r.DB.Rebind(
		`SELECT id, payload FROM outbox WHERE published_at IS NULL ORDER BY created_at, id LIMIT ?`), r.Batch)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	type pending struct{ id, payload string }
	var todo []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.payload); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("read outbox: %w", err)
		}
		todo = append(todo, p)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var failed error
	ids := make([]any, 0, len(todo))
	for _, p := range todo {
		var ev events.Event
		if err := json.Unmarshal([]byte(p.payload), &ev); err != nil {
			failed = fmt.Errorf("decode outbox event %s: %w", p.id, err)
			break
		}
		if err := r.Publisher.Publish(ctx, ev); err != nil {
			failed = fmt.Errorf("publish %s %s: %w", ev.Type, ev.ID, err)
			break
		}
		ids = append(ids, p.id)
	}
	if err := r.markPublished(ctx, ids); err != nil {
		return 0, errors.Join(failed, err)
	}
	return len(ids), failed
}

// markPublished sets published_at on the events ids names, in one statement.
func (r *Relay) markPublished(ctx context.Context, ids []any) error {
	if len(ids) == 0 {
		return nil
	}
	// A context of its own: events already in the broker should be marked
	// even when a shutdown cancels ctx, or they go out a second time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	q := `UPDATE outbox SET published_at = ? WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := append([]any{store.TimeKey(time.Now())}, ids...)
	if _, err := r.DB.ExecContext(ctx, r.DB.Rebind(q), args...); err != nil {
		return fmt.Errorf("mark %d events published: %w", len(ids), err)
	}
	return nil
}

// Pending counts events not yet published, for tests and metrics.
func Pending(ctx context.Context, db *store.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`).Scan(&n)
	return n, err
}
