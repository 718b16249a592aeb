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

package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The backoff between attempts to reach Redis again: short enough that a
// restart of Redis costs little, capped so that a long outage does not flood
// the log.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Subscribe consumes topic as consumer Consumer of group Group until ctx
// ends, and then returns nil. Redis outages are logged and retried with a
// capped backoff, never returned: a service's consumer must outlive them.
// It returns an error only for a call that can never work.
func (r *Redis) Subscribe(ctx context.Context, topic string, h Handler) error {
	if topic == "" || h == nil {
		return errors.New("subscribe: a topic and a handler are required")
	}
	if r.opts.Group == "" || r.opts.Consumer == "" {
		return fmt.Errorf("subscribe %s: RedisOptions.Group and Consumer are required", topic)
	}
	c := &consumer{
		Redis: r, topic: topic, stream: StreamKey(topic), h: h,
		log: r.opts.Logger.With("topic", topic, "group", r.opts.Group, "consumer", r.opts.Consumer),
	}
	backoff := minBackoff
	for {
		progressed, err := c.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		// A consumer that got as far as reading was healthy: this is a new
		// outage, whose first retry should come soon.
		if progressed {
			backoff = minBackoff
		}
		c.log.Warn("Event consumer failed; retrying", "error", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// consumer is one Subscribe call's state.
type consumer struct {
	*Redis
	topic, stream string
	h             Handler
	log           *slog.Logger
}

// run consumes until ctx ends or Redis fails; progressed tells whether at
// least one read succeeded.
func (c *consumer) run(ctx context.Context) (progressed bool, err error) {
	// Start "0": a group created after events were published (a service's
	// first deployment) still gets every event the stream keeps.
	err = c.rdb.XGroupCreateMkStream(ctx, c.stream, c.opts.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return false, fmt.Errorf("xgroup create %s %s: %w", c.stream, c.opts.Group, err)
	}
	var lastReclaim time.Time
	for ctx.Err() == nil {
		// A message becomes claimable only after ClaimMinIdle, so scanning
		// the pending list twice per ClaimMinIdle is often enough.
		if time.Since(lastReclaim) >= c.opts.ClaimMinIdle/2 {
			if err := c.reclaim(ctx); err != nil {
				return progressed, err
			}
			lastReclaim = time.Now()
		}
		if err := c.read(ctx); err != nil {
			return progressed, err
		}
		progressed = true
	}
	return progressed, ctx.Err()
}

// read handles the next batch of messages never delivered to the group.
func (c *consumer) read(ctx context.Context) error {
	// The read must not outlast the next reclaim; and BLOCK 0 would mean
	// "forever", hence the floor.
	block := max(min(c.opts.Block, c.opts.ClaimMinIdle/2), time.Millisecond)
	res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.opts.Group, Consumer: c.opts.Consumer, Streams: []string{c.stream, ">"},
		Count: c.opts.Batch, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("xreadgroup %s %s: %w", c.stream, c.opts.Group, err)
	}
	for _, s := range res {
		for _, m := range s.Messages {
			if ctx.Err() != nil {
				return nil // the rest stay pending and are reclaimed
			}
			c.handle(ctx, m, 1)
		}
	}
	return nil
}

// reclaim takes over the group's messages idle for ClaimMinIdle (their
// handler failed, or their consumer crashed) and handles them again.
func (c *consumer) reclaim(ctx context.Context) error {
	start := "0-0"
	for ctx.Err() == nil {
		msgs, next, err := c.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: c.stream, Group: c.opts.Group, Consumer: c.opts.Consumer,
			MinIdle: c.opts.ClaimMinIdle, Start: start, Count: c.opts.Batch,
		}).Result()
		if err != nil {
			return fmt.Errorf("xautoclaim %s %s: %w", c.stream, c.opts.Group, err)
		}
		counts, err := c.deliveries(ctx, msgs)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if ctx.Err() != nil {
				return nil
			}
			c.handle(ctx, m, counts[m.ID])
		}
		// The cursor comes back to "0-0" once the whole pending list has
		// been scanned; an empty batch alone does not mean that.
		if next == "0-0" {
			return nil
		}
		start = next
	}
	return nil
}

// deliveries is each claimed message's delivery count, this claim included,
// in one round trip. XAUTOCLAIM does not return it; XPENDING does.
func (c *consumer) deliveries(ctx context.Context, msgs []redis.XMessage) (map[string]int64, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.XPendingExtCmd, len(msgs))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range msgs {
			cmds[i] = p.XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: c.stream, Group: c.opts.Group, Start: m.ID, End: m.ID, Count: 1,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("xpending %s %s: %w", c.stream, c.opts.Group, err)
	}
	counts := make(map[string]int64, len(msgs))
	for i, cmd := range cmds {
		if p := cmd.Val(); len(p) == 1 {
			counts[msgs[i].ID] = p[0].RetryCount
		}
	}
	return counts, nil
}
