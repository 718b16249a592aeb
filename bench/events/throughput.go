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
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/skills"
)

// sent is one assessment as the client saw it.
type sent struct {
	user       string
	assessedAt time.Time
	start      time.Time // POST sent
	post       time.Duration
}

// throughputResult is the run of N assessments by concurrent clients.
type throughputResult struct {
	n, clients, users int
	started           time.Time
	posting           time.Duration // first POST sent → last POST answered
	endToEnd          time.Duration // first POST sent → every event handled and acknowledged
	sent              []sent
	counts            counts
	loaded            loadedLatency
}

// redisThroughput is the broker alone: producers XADD the same envelope,
// one consumer of a group reads batches and acknowledges each message, as
// the services do.
type redisThroughput struct {
	n, producers int
	elapsed      time.Duration
	delivered    int
}

// measureRedisThroughput has producers XADD n envelopes between them while
// one group consumer reads them (COUNT 16, BLOCK) and XACKs each one.
func measureRedisThroughput(ctx context.Context, url string, n, producers int) (redisThroughput, error) {
	r := redisThroughput{n: n, producers: producers}
	c, err := redisClient(url)
	if err != nil {
		return r, err
	}
	defer func() { _ = c.Close() }()
	payload, err := sampleEnvelope()
	if err != nil {
		return r, err
	}
	const stream, group = "bench:throughput", "bench"
	if err := c.XGroupCreateMkStream(ctx, stream, group, "$").Err(); err != nil {
		return r, fmt.Errorf("xgroup create: %w", err)
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for p := range producers {
		g.Go(func() error {
			for range share(n, producers, p) {
				if err := c.XAdd(gctx, &redis.XAddArgs{Stream: stream, Values: []any{"event", payload}}).Err(); err != nil {
					return fmt.Errorf("xadd: %w", err)
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		for r.delivered < n {
			res, err := c.XReadGroup(gctx, &redis.XReadGroupArgs{
				Group: group, Consumer: "c", Streams: []string{stream, ">"}, Count: 16, Block: 2 * time.Second,
			}).Result()
			if errors.Is(err, redis.Nil) {
				return fmt.Errorf("consumer idle for 2s after %d of %d messages", r.delivered, n)
			}
			if err != nil {
				return fmt.Errorf("xreadgroup: %w", err)
			}
			for _, m := range res[0].Messages {
				if err := c.XAck(gctx, stream, group, m.ID).Err(); err != nil {
					return fmt.Errorf("xack: %w", err)
				}
				r.delivered++
			}
		}
		return nil
	})
	err = g.Wait()
	r.elapsed = time.Since(start)
	return r, err
}

// share is how many of n items worker k of workers takes.
func share(n, workers, k int) int {
	s := n / workers
	if k < n%workers {
		s++
	}
	return s
}

// measureThroughput gives o.users users a plan, then has o.clients clients
// send o.n assessments between them, each client to users of its own in
// turn (so one user's assessments are made in order), and waits until career
// has handled every one.
func measureThroughput(ctx context.Context, st *stack, o options) (throughputResult, error) {
	r := throughputResult{n: o.n, clients: o.clients, users: o.users}
	users := make([]string, o.users)
	for i := range users {
		users[i] = fmt.Sprintf("user-%05d", i)
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(o.clients)
	for _, u := range users {
		g.Go(func() error { return makePlan(st, u, targetRole) })
	}
	if err := g.Wait(); err != nil {
		return r, fmt.Errorf("make plans: %w", err)
	}

	perClient := make([][]sent, o.clients)
	r.started = time.Now()
	g, _ = errgroup.WithContext(ctx)
	for k := range o.clients {
		g.Go(func() error {
			var mine []string
			for i := k; i < len(users); i += o.clients {
				mine = append(mine, users[i])
			}
			out := make([]sent, 0, share(o.n, o.clients, k))
			for i := range share(o.n, o.clients, k) {
				user := mine[i%len(mine)]
				t0 := time.Now()
				a, err := assess(st, user, cvs[i%len(cvs)])
				if err != nil {
					return err
				}
				out = append(out, sent{user: user, assessedAt: a.AssessedAt, start: t0, post: time.Since(t0)})
			}
			perClient[k] = out
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return r, fmt.Errorf("assess: %w", err)
	}
	r.posting = time.Since(r.started)
	for _, s := range perClient {
		r.sent = append(r.sent, s...)
	}

	return r, nil
}

// waitDrained waits until the skills.assessed stream holds at least n
// messages and career's group has read up to its last one with none
// pending: every published event handled and acknowledged.
func waitDrained(ctx context.Context, rdb *redis.Client, n int, timeout time.Duration) error {
	stream := events.StreamKey(skills.TopicAssessed)
	deadline := time.Now().Add(timeout)
	var last string
	for {
		length, err := rdb.XLen(ctx, stream).Result()
		if err != nil {
			return err
		}
		g, err := careerGroup(ctx, rdb, stream)
		if err != nil {
			return err
		}
		if length >= int64(n) {
			tail, err := rdb.XRevRangeN(ctx, stream, "+", "-", 1).Result()
			if err != nil {
				return err
			}
			if len(tail) == 1 && g.LastDeliveredID == tail[0].ID && g.Pending == 0 {
				return nil
			}
		}
		last = fmt.Sprintf("stream length %d of %d, career's group: last delivered %s, pending %d, lag %d",
			length, n, g.LastDeliveredID, g.Pending, g.Lag)
		if time.Now().After(deadline) {
			return fmt.Errorf("events not all handled within %s: %s", timeout, last)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// careerGroup is the career consumer group's XINFO GROUPS entry.
func careerGroup(ctx context.Context, rdb *redis.Client, stream string) (redis.XInfoGroup, error) {
	groups, err := rdb.XInfoGroups(ctx, stream).Result()
	if err != nil {
		return redis.XInfoGroup{}, fmt.Errorf("xinfo groups %s: %w", stream, err)
	}
	for _, g := range groups {
		if g.Name == "career" {
			return g, nil
		}
	}
	return redis.XInfoGroup{}, fmt.Errorf("no career group on %s", stream)
}

// checkPlans reads every user's plan through career's API and counts those
// based on the user's last assessment.
func checkPlans(ctx context.Context, st *stack, all []sent, clients int) (
	matched, users int, firstBad string, err error) {
	lastOf := map[string]time.Time{}
	for _, s := range all {
		if s.assessedAt.After(lastOf[s.user]) {
			lastOf[s.user] = s.assessedAt
		}
	}
	var mu sync.Mutex
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(clients)
	for user, at := range lastOf {
		g.Go(func() error {
			p, err := plan(st, user)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if p.BasedOn.Equal(at) && p.Assessed {
				matched++
			} else if firstBad == "" {
				firstBad = fmt.Sprintf("%s: plan based on %s, last assessment %s", user, p.BasedOn, at)
			}
			return nil
		})
	}
	err = g.Wait()
	return matched, len(lastOf), firstBad, err
}

// waitPlanUpdates waits until career's relay has published want
// career.plan.updated events (it runs behind the consumer), or timeout.
func waitPlanUpdates(ctx context.Context, rdb *redis.Client, want int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, err := rdb.XLen(ctx, events.StreamKey(career.TopicPlanUpdated)).Result()
		if err != nil || n >= want || time.Now().After(deadline) {
			return n, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
