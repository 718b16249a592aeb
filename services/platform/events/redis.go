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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// StreamKey is the Redis stream of a topic.
func StreamKey(topic string) string { return "skillmesh:events:" + topic }

// DeadLetterKey is where a topic's undeliverable messages go.
func DeadLetterKey(topic string) string { return StreamKey(topic) + ":dead" }

const fieldEvent = "event"

// RedisOptions tune a Redis bus; zero values take the defaults.
type RedisOptions struct {
	// Group is the consumer group: one per subscribing service.
	Group string
	// Consumer names this process within its group (the pod name).
	Consumer string
	// MaxDeliveries moves a message to the dead-letter stream once it has
	// been delivered this many times without success (default 5).
	MaxDeliveries int64
	// ClaimMinIdle is how long a message may sit unacknowledged before
	// another consumer takes it over (default 30s).
	ClaimMinIdle time.Duration
	// Block is how long one read waits for new messages (default 2s).
	Block time.Duration
	// Batch is how many messages one read takes (default 16).
	Batch int64
	// MaxLen trims each stream to about this many messages (default 100000).
	MaxLen int64
	Logger *slog.Logger
}

// Redis is a Publisher and Subscriber over Redis Streams.
type Redis struct {
	rdb  redis.UniversalClient
	opts RedisOptions
}

// NewRedis returns a bus over rdb.
func NewRedis(rdb redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.MaxDeliveries <= 0 {
		opts.MaxDeliveries = 5
	}
	if opts.ClaimMinIdle <= 0 {
		opts.ClaimMinIdle = 30 * time.Second
	}
	if opts.Block <= 0 {
		opts.Block = 2 * time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = 100_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Redis{rdb: rdb, opts: opts}
}

// Ping is the readiness check of the broker.
func (r *Redis) Ping(ctx context.Context) error { return r.rdb.Ping(ctx).Err() }

// Publish appends ev to its topic's stream.
func (r *Redis) Publish(ctx context.Context, ev Event) error {
	if err := ev.valid(); err != nil {
		return err
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	stream := StreamKey(ev.Type)
	err = r.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: stream, MaxLen: r.opts.MaxLen, Approx: true, Values: map[string]any{fieldEvent: payload},
	}).Err()
	if err != nil {
		return fmt.Errorf("xadd %s: %w", stream, err)
	}
	return nil
}

// Subscribe consumes topic as a member of the group until ctx ends. Broker
// outages are logged and retried; only ctx ends it.
func (r *Redis) Subscribe(ctx context.Context, topic string, h Handler) error {
	log := r.opts.Logger.With("topic", topic, "group", r.opts.Group, "consumer", r.opts.Consumer)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := r.consume(ctx, topic, h, log)
		if ctx.Err() != nil {
			break
		}
		log.Warn("Event consumer failed; retrying", "error", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	return nil
}

// consume runs until an error: reclaim what others left, then read new.
func (r *Redis) consume(ctx context.Context, topic string, h Handler, log *slog.Logger) error {
	stream := StreamKey(topic)
	err := r.rdb.XGroupCreateMkStream(ctx, stream, r.opts.Group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group %s on %s: %w", r.opts.Group, stream, err)
	}
	lastClaim := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastClaim) >= r.opts.ClaimMinIdle/2 {
			if err := r.reclaim(ctx, topic, h, log); err != nil {
				return err
			}
			lastClaim = time.Now()
		}
		res, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: r.opts.Group, Consumer: r.opts.Consumer, Streams: []string{stream, ">"},
			Count: r.opts.Batch, Block: min(r.opts.Block, r.opts.ClaimMinIdle/2),
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return fmt.Errorf("xreadgroup %s: %w", stream, err)
		}
		for _, s := range res {
			for _, m := range s.Messages {
				r.handle(ctx, topic, m, 1, h, log)
			}
		}
	}
	return nil
}

// reclaim takes over messages idle longer than ClaimMinIdle (their consumer
// crashed, or their handler failed) and handles them again.
func (r *Redis) reclaim(ctx context.Context, topic string, h Handler, log *slog.Logger) error {
	stream := StreamKey(topic)
	start := "0-0"
	for {
		msgs, next, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: stream, Group: r.opts.Group, Consumer: r.opts.Consumer,
			MinIdle: r.opts.ClaimMinIdle, Start: start, Count: r.opts.Batch,
		}).Result()
		if err != nil {
			return fmt.Errorf("xautoclaim %s: %w", stream, err)
		}
		for _, m := range msgs {
			r.handle(ctx, topic, m, r.deliveries(ctx, stream, m.ID), h, log)
		}
		if next == "0-0" || len(msgs) == 0 {
			return nil
		}
		start = next
	}
}

// deliveries is how often the message has been delivered, claims included.
func (r *Redis) deliveries(ctx context.Context, stream, id string) int64 {
	p, err := r.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: r.opts.Group, Start: id, End: id, Count: 1}).Result()
	if err != nil || len(p) == 0 {
		return 1
	}
	return p[0].RetryCount
}

// handle applies one message: acknowledged on success, left pending on
// failure, dead-lettered when it cannot be decoded or has failed too often.
func (r *Redis) handle(ctx context.Context, topic string, m redis.XMessage, deliveries int64, h Handler, log *slog.Logger) {
	raw, _ := m.Values[fieldEvent].(string)
	var ev Event
	if err := json.Unmarshal([]byte(raw), &ev); err != nil || ev.valid() != nil {
		if err == nil {
			err = ev.valid()
		}
		r.deadLetter(ctx, topic, m, raw, "undecodable envelope: "+err.Error(), deliveries, log)
		return
	}
	if deliveries > r.opts.MaxDeliveries {
		r.deadLetter(ctx, topic, m, raw, "delivered "+strconv.FormatInt(deliveries-1, 10)+" times without success", deliveries, log)
		return
	}
	if err := h(ctx, ev); err != nil {
		log.Warn("Event handler failed; the event will be delivered again", "id", ev.ID, "deliveries", deliveries, "error", err)
		return
	}
	if err := r.rdb.XAck(ctx, StreamKey(topic), r.opts.Group, m.ID).Err(); err != nil {
		log.Warn("Could not acknowledge an event; it will be delivered again", "id", ev.ID, "error", err)
	}
}

func (r *Redis) deadLetter(ctx context.Context, topic string, m redis.XMessage, raw, reason string, deliveries int64, log *slog.Logger) {
	err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: DeadLetterKey(topic), MaxLen: r.opts.MaxLen, Approx: true, Values: map[string]any{
		fieldEvent: raw, "error": reason, "deliveries": deliveries, "message_id": m.ID, "group": r.opts.Group,
	}}).Err()
	if err != nil {
		log.Error("Could not dead-letter a message; it stays pending", "message_id", m.ID, "error", err)
		return
	}
	log.Error("Event moved to the dead-letter stream", "message_id", m.ID, "reason", reason, "stream", DeadLetterKey(topic))
	_ = r.rdb.XAck(ctx, StreamKey(topic), r.opts.Group, m.ID).Err()
}
