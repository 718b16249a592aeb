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
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/skills"
)

// latencyResult is the sequential run: one event in flight at a time.
type latencyResult struct {
	redisRTT  []time.Duration // XADD then XREADGROUP of that message, one bare client
	post      []time.Duration // POST /assess answered
	getPlan   []time.Duration // GET /career-plan answered, nothing in flight
	endToEnd  []time.Duration // POST sent → plan based on it seen through GET
	afterPost []time.Duration // POST answered → plan based on it seen
	polls     []int           // GETs per event until the refreshed plan was seen
}

// sampleEnvelope is a skills.assessed event as skills publishes it, so the
// Redis baseline moves the same bytes.
func sampleEnvelope() ([]byte, error) {
	tax, err := skills.DefaultTaxonomy()
	if err != nil {
		return nil, err
	}
	var leveled []skills.LeveledSkill
	for _, sk := range skills.Assess(tax, cvs[0]) {
		leveled = append(leveled, skills.LeveledSkill{Name: sk.Name, Level: sk.Level})
	}
	ev, err := events.New(skills.TopicAssessed, "skills",
		skills.AssessedEvent{UserID: "lat-000", Skills: leveled, AssessedAt: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	return json.Marshal(ev)
}

// measureRedisRTT times XADD of an envelope then XREADGROUP of that one
// message (no BLOCK: it is there), by one bare go-redis client; the XACK
// that follows is not timed.
func measureRedisRTT(ctx context.Context, url string, warmup, samples int) ([]time.Duration, error) {
	c, err := redisClient(url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }()
	payload, err := sampleEnvelope()
	if err != nil {
		return nil, err
	}
	const stream, group = "bench:rtt", "bench"
	if err := c.XGroupCreateMkStream(ctx, stream, group, "$").Err(); err != nil {
		return nil, fmt.Errorf("xgroup create: %w", err)
	}
	out := make([]time.Duration, 0, samples)
	for i := range warmup + samples {
		t0 := time.Now()
		id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"event", payload}}).Result()
		if err != nil {
			return nil, fmt.Errorf("xadd: %w", err)
		}
		res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: "c", Streams: []string{stream, ">"}, Count: 1, Block: -1,
		}).Result()
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("xreadgroup: %w", err)
		}
		if len(res) != 1 || len(res[0].Messages) != 1 || res[0].Messages[0].ID != id {
			return nil, fmt.Errorf("xreadgroup returned %+v, want message %s", res, id)
		}
		if err := c.XAck(ctx, stream, group, id).Err(); err != nil {
			return nil, fmt.Errorf("xack: %w", err)
		}
		if i >= warmup {
			out = append(out, d)
		}
	}
	return out, nil
}

// measureLatency sends assessments one at a time, each to a user with a plan,
// and polls career's API until the plan is based on that assessment.
func measureLatency(st *stack, o options) (latencyResult, error) {
	var r latencyResult
	users := make([]string, o.latencyUsers)
	for i := range users {
		users[i] = fmt.Sprintf("lat-%03d", i)
		if err := makePlan(st, users[i], targetRole); err != nil {
			return r, err
		}
	}
	for i := range o.warmup + o.samples {
		user := users[i%len(users)]
		t0 := time.Now()
		a, err := assess(st, user, cvs[i%len(cvs)])
		if err != nil {
			return r, err
		}
		t1 := time.Now()
		polls, err := waitForPlan(st, user, a.AssessedAt, o.poll, 10*time.Second)
		if err != nil {
			return r, fmt.Errorf("event %d (user %s): %w", i, user, err)
		}
		t2 := time.Now()
		if i < o.warmup {
			continue
		}
		r.post = append(r.post, t1.Sub(t0))
		r.endToEnd = append(r.endToEnd, t2.Sub(t0))
		r.afterPost = append(r.afterPost, t2.Sub(t1))
		r.polls = append(r.polls, polls)
	}
	for i := range o.warmup + o.samples {
		t0 := time.Now()
		if _, err := plan(st, users[i%len(users)]); err != nil {
			return r, err
		}
		if d := time.Since(t0); i >= o.warmup {
			r.getPlan = append(r.getPlan, d)
		}
	}
	return r, nil
}

// errNotRefreshed means the plan never caught up with an assessment.
var errNotRefreshed = errors.New("plan not refreshed")

// waitForPlan polls GET /users/{user}/career-plan until based_on equals at,
// sleeping poll between reads; it returns how many reads it took.
func waitForPlan(st *stack, user string, at time.Time, poll, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for n := 1; ; n++ {
		p, err := plan(st, user)
		if err != nil {
			return n, err
		}
		if p.BasedOn.Equal(at) {
			return n, nil
		}
		if p.BasedOn.After(at) {
			return n, fmt.Errorf("plan based on %s, newer than the assessment %s sent last", p.BasedOn, at)
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("%w within %s: based on %s, want %s", errNotRefreshed, timeout, p.BasedOn, at)
		}
		time.Sleep(poll)
	}
}
