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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/store"
	"github.com/skillmesh/skillmesh/services/skills"
)

// counts are the loss check: every place an assessment leaves a trace.
type counts struct {
	created           int   // POST /assess answered 201
	skillsRows        int   // assessments in skills' database
	outboxRows        int   // skills.assessed in skills' outbox
	outboxPending     int   // of which not yet published
	streamLen         int64 // skills.assessed messages in Redis
	streamDistinct    int   // distinct event IDs among them
	groupPending      int64 // career's group: delivered, not acknowledged
	groupLag          int64 // career's group: not yet delivered
	processed         int   // career's processed_events rows
	lost              int   // skills' events with no processed_events row
	planUpdates       int   // career.plan.updated in career's outbox
	planUpdatesStream int64 // career.plan.updated messages in Redis
	deadLetters       int64 // skills.assessed dead-letter stream
	plansMatched      int   // users whose plan (through the API) is based on their last assessment
	plansUsers        int
	firstBadPlan      string
}

// check is one row of the count table.
type check struct {
	what      string
	got, want int64
}

func (c check) ok() bool { return c.got == c.want }

// checks lays the counts beside what a lossless run gives.
func (c counts) checks(n, users int) []check {
	return []check{
		{"assessments created (POST /assess answered 201)", int64(c.created), int64(n)},
		{"assessments in skills' database", int64(c.skillsRows), int64(n)},
		{"skills.assessed events in skills' outbox", int64(c.outboxRows), int64(n)},
		{"… of which still unpublished", int64(c.outboxPending), 0},
		{"skills.assessed messages in the Redis stream (XLEN)", c.streamLen, int64(n)},
		{"… distinct event IDs among them (duplicates published)", int64(c.streamDistinct), int64(n)},
		{"career's consumer group: pending (delivered, unacknowledged)", c.groupPending, 0},
		{"career's consumer group: lag (never delivered)", c.groupLag, 0},
		{"dead letters (skills.assessed:dead)", c.deadLetters, 0},
		{"events career processed (processed_events rows)", int64(c.processed), int64(n)},
		{"plans refreshed (career.plan.updated from the consumer)", int64(c.planUpdates - users), int64(n)},
		{"career.plan.updated messages in Redis (refreshes + first plans)", c.planUpdatesStream, int64(n + users)},
		{"users whose plan (GET /career-plan) is based on their last assessment", int64(c.plansMatched), int64(c.plansUsers)},
		{"**lost** (skills' events career never processed)", int64(c.lost), 0},
	}
}

// redisCounts reads the streams and career's group.
func redisCounts(ctx context.Context, rdb *redis.Client, c *counts) error {
	stream := events.StreamKey(skills.TopicAssessed)
	var err error
	if c.streamLen, err = rdb.XLen(ctx, stream).Result(); err != nil {
		return err
	}
	ids := map[string]bool{}
	start := "-"
	for {
		msgs, err := rdb.XRangeN(ctx, stream, start, "+", 1000).Result()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			raw, _ := m.Values["event"].(string)
			var ev events.Event
			if err := json.Unmarshal([]byte(raw), &ev); err != nil {
				return fmt.Errorf("message %s: %w", m.ID, err)
			}
			ids[ev.ID] = true
		}
		if len(msgs) < 1000 {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	c.streamDistinct = len(ids)
	g, err := careerGroup(ctx, rdb, stream)
	if err != nil {
		return err
	}
	c.groupPending, c.groupLag = g.Pending, g.Lag
	if c.deadLetters, err = rdb.XLen(ctx, events.DeadLetterKey(skills.TopicAssessed)).Result(); err != nil {
		return err
	}
	return nil
}

// outboxEvent is a skills.assessed row of skills' outbox.
type outboxEvent struct {
	user       string
	assessedAt time.Time
	created    time.Time // outbox.Add, in the assessment's transaction
	published  time.Time // XADD returned
}

// dbCounts reads both databases once the services have stopped, and returns
// the events of skills' outbox by ID and career's processed_at by event ID.
func dbCounts(ctx context.Context, st *stack, c *counts) (map[string]outboxEvent, map[string]time.Time, error) {
	sk, err := store.Open(ctx, "sqlite://"+st.dbPath("skills"))
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = sk.Close() }()
	cr, err := store.Open(ctx, "sqlite://"+st.dbPath("career"))
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = cr.Close() }()

	if err := sk.QueryRowContext(ctx, `SELECT COUNT(*) FROM assessments`).Scan(&c.skillsRows); err != nil {
		return nil, nil, err
	}
	if err := cr.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = ?`,
		career.TopicPlanUpdated).Scan(&c.planUpdates); err != nil {
		return nil, nil, err
	}

	outbox := map[string]outboxEvent{}
	rows, err := sk.QueryContext(ctx,
		`SELECT id, payload, created_at, COALESCE(published_at, '') FROM outbox WHERE topic = ?`, skills.TopicAssessed)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id, payload, created, published string
		if err := rows.Scan(&id, &payload, &created, &published); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		var ev events.Event
		var data skills.AssessedEvent
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		if err := ev.Decode(&data); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		e := outboxEvent{user: data.UserID, assessedAt: data.AssessedAt, created: timeKey(created)}
		if published == "" {
			c.outboxPending++
		} else {
			e.published = timeKey(published)
		}
		outbox[id] = e
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	c.outboxRows = len(outbox)

	processed := map[string]time.Time{}
	rows, err = cr.QueryContext(ctx, `SELECT event_id, processed_at FROM processed_events`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		processed[id] = timeKey(at)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	c.processed = len(processed)
	for id := range outbox {
		if _, ok := processed[id]; !ok {
			c.lost++
		}
	}
	// An assessment without an outbox row is lost before the outbox.
	c.lost += max(c.skillsRows-c.outboxRows, 0)
	return outbox, processed, nil
}

// timeKey parses store.TimeKey's format; a bad value reads as zero.
func timeKey(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.000000000Z", s)
	return t
}

// loadedLatency is each event's way under load, from the services' own
// timestamps, measured from the moment its POST was sent.
type loadedLatency struct {
	post      []time.Duration // POST answered
	published []time.Duration // skills' relay had it in Redis (outbox.published_at)
	handled   []time.Duration // career's handler recorded it (processed_events.processed_at)
}

func loadedFrom(all []sent, outbox map[string]outboxEvent, processed map[string]time.Time) loadedLatency {
	type key struct {
		user string
		at   int64
	}
	ids := make(map[key]string, len(outbox))
	for id, e := range outbox {
		ids[key{e.user, e.assessedAt.UnixNano()}] = id
	}
	var l loadedLatency
	for _, s := range all {
		l.post = append(l.post, s.post)
		id, ok := ids[key{s.user, s.assessedAt.UnixNano()}]
		if !ok {
			continue
		}
		if e := outbox[id]; !e.published.IsZero() {
			l.published = append(l.published, e.published.Sub(s.start))
		}
		if at, ok := processed[id]; ok {
			l.handled = append(l.handled, at.Sub(s.start))
		}
	}
	return l
}
