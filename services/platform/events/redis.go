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
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// StreamKey is the Redis stream of a topic.
func StreamKey(topic string) string { return "skillmesh:events:" + topic }

// DeadLetterKey is where a topic's undeliverable messages go, beside the
// topic's stream so that an operator finds them by the same prefix.
func DeadLetterKey(topic string) string { return StreamKey(topic) + ":dead" }

// Stream entry fields. One field holds the whole envelope so that the
// envelope's shape can grow without touching the stream layout.
const (
	fieldEvent      = "event"
	fieldError      = "error"
	fieldDeliveries = "deliveries"
)

// RedisOptions tune a Redis bus; zero values take the defaults.
type RedisOptions struct {
	// Group is the consumer group: one per subscribing service (e.g. "career").
	Group string
	// Consumer names this process within its group (e.g. the pod's hostname).
	Consumer string
	// MaxDeliveries moves a message to the dead-letter stream once it has
	// been delivered this many times without success (default 5).
	MaxDeliveries int64
	// ClaimMinIdle is how long a message may sit unacknowledged before a
	// consumer of the group takes it over (default 30s). It is also the
	// retry delay of a failed handler, and must exceed the longest handler
	// run, or a slow message is handled twice at once.
	ClaimMinIdle time.Duration
	// Block is how long one read waits for new messages (default 2s); it
	// bounds how long Subscribe takes to return after ctx ends.
	Block time.Duration
	// Batch is how many messages one read takes (default 16).
	Batch int64
	// MaxLen trims each stream to about this many messages (default 100000),
	// so that a topic nobody reads cannot fill Redis's memory.
	MaxLen int64
	// Logger receives consumer failures and dead letters (default: discarded).
	Logger *slog.Logger
}

// withDefaults fills the zero values.
func (o RedisOptions) withDefaults() RedisOptions {
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 5
	}
	if o.ClaimMinIdle <= 0 {
		o.ClaimMinIdle = 30 * time.Second
	}
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 100_000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Redis is a Publisher and Subscriber over Redis Streams. One value may run
// several Subscribe calls at once, one per topic.
type Redis struct {
	rdb      redis.UniversalClient
	opts     RedisOptions
	failures *lastErrors
}

// NewRedis returns a bus over rdb. A publish-only service may leave Group
// and Consumer empty; Subscribe needs both.
func NewRedis(rdb redis.UniversalClient, opts RedisOptions) *Redis {
	return &Redis{rdb: rdb, opts: opts.withDefaults(), failures: newLastErrors()}
}

// Ping is the readiness check of the broker.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Publish appends ev to the stream of its type, trimming the stream to about
// MaxLen messages (approximate trimming costs Redis almost nothing).
func (r *Redis) Publish(ctx context.Context, ev Event) error {
	if err := ev.valid(); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	stream := StreamKey(ev.Type)
	err = r.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: stream, MaxLen: r.opts.MaxLen, Approx: true, Values: []any{fieldEvent, payload},
	}).Err()
	if err != nil {
		return fmt.Errorf("xadd %s: %w", stream, err)
	}
	return nil
}
