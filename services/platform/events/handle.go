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
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// settleTimeout bounds an ack or a dead letter after the handler's outcome.
const settleTimeout = 5 * time.Second

// handle applies one message with deliveries as its delivery count:
// acknowledged on success, left pending on failure (to be reclaimed after
// ClaimMinIdle), dead-lettered when it cannot be decoded or has been
// delivered more than MaxDeliveries times.
func (c *consumer) handle(ctx context.Context, m redis.XMessage, deliveries int64) {
	raw, _ := m.Values[fieldEvent].(string)
	var ev Event
	err := json.Unmarshal([]byte(raw), &ev)
	if err == nil {
		err = ev.valid()
	}
	if err != nil {
		// No retry can fix an envelope: waiting would only delay the alarm.
		c.deadLetter(ctx, m, raw, "undecodable envelope: "+err.Error(), deliveries)
		return
	}
	if deliveries > c.opts.MaxDeliveries {
		reason := c.failures.take(c.stream, m.ID)
		if reason == "" { // it failed in another process, or before a restart
			reason = "max deliveries exceeded"
		}
		c.deadLetter(ctx, m, raw, reason, deliveries)
		return
	}
	if err := c.call(ctx, ev); err != nil {
		c.failures.put(c.stream, m.ID, err.Error())
		if ctx.Err() != nil { // shutting down: not worth a warning
			c.log.Info("Event left pending at shutdown", "id", ev.ID, "message_id", m.ID)
			return
		}
		c.log.Warn("Event handler failed; the event will be delivered again",
			"id", ev.ID, "message_id", m.ID, "deliveries", deliveries, "error", err)
		return
	}
	c.failures.take(c.stream, m.ID)
	c.ack(ctx, m.ID)
}

// call runs the handler, turning a panic into an error: one bad event must
// not stop the service, and a message that keeps panicking is dead-lettered
// like one that keeps failing.
func (c *consumer) call(ctx context.Context, ev Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return c.h(ctx, ev)
}

// settleContext outlives ctx: once a handler's effect is done, a shutdown
// must not drop the ack and so cause a needless redelivery.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

func (c *consumer) ack(ctx context.Context, id string) {
	ctx, cancel := settleContext(ctx)
	defer cancel()
	if err := c.rdb.XAck(ctx, c.stream, c.opts.Group, id).Err(); err != nil {
		c.log.Warn("Could not acknowledge an event; it will be delivered again", "message_id", id, "error", err)
	}
}

// deadLetter copies the message to the topic's dead-letter stream and then
// acknowledges it. The two keys may live on different cluster nodes, so this
// is not one transaction: if the ack fails, a later reclaim dead-letters the
// message a second time, which loses nothing.
func (c *consumer) deadLetter(ctx context.Context, m redis.XMessage, raw, reason string, deliveries int64) {
	ctx, cancel := settleContext(ctx)
	defer cancel()
	dead := DeadLetterKey(c.topic)
	err := c.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: dead, MaxLen: c.opts.MaxLen, Approx: true,
		Values: []any{
			fieldEvent, raw, fieldError, reason, fieldDeliveries, deliveries,
			"message_id", m.ID, "group", c.opts.Group, "consumer", c.opts.Consumer,
		},
	}).Err()
	if err != nil {
		c.log.Error("Could not dead-letter a message; it stays pending", "message_id", m.ID, "error", err)
		return
	}
	c.log.Error("Event moved to the dead-letter stream",
		"message_id", m.ID, "reason", reason, "deliveries", deliveries, "stream", dead)
	c.ack(ctx, m.ID)
}

// maxRememberedErrors bounds lastErrors when messages that failed here are
// settled elsewhere and never forgotten here.
const maxRememberedErrors = 10_000

// lastErrors remembers the latest handler error of each failing message, so
// that a dead letter says why. It is a hint kept in this process only.
type lastErrors struct {
	mu sync.Mutex
	m  map[string]string
}

func newLastErrors() *lastErrors { return &lastErrors{m: map[string]string{}} }

func (l *lastErrors) put(stream, id, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= maxRememberedErrors {
		clear(l.m) // crude but bounded; it loses only hints
	}
	l.m[stream+" "+id] = msg
}

// take returns and forgets the error remembered for a message, "" if none.
func (l *lastErrors) take(stream, id string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := stream + " " + id
	msg := l.m[k]
	delete(l.m, k)
	return msg
}
