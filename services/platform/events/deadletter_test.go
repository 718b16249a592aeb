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

package events_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/services/platform/events"
)

// deadLetters waits for want entries in the topic's dead-letter stream.
func deadLetters(t *testing.T, c *redis.Client, topic string, want int) []redis.XMessage {
	t.Helper()
	key := events.DeadLetterKey(topic)
	eventually(t, strconv.Itoa(want)+" dead letters", func() bool {
		n, err := c.XLen(context.Background(), key).Result()
		return err == nil && n >= int64(want)
	})
	msgs, err := c.XRange(context.Background(), key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != want {
		t.Fatalf("dead letters = %+v, want %d", msgs, want)
	}
	return msgs
}

func field(m redis.XMessage, name string) string { s, _ := m.Values[name].(string); return s }

func TestAn_event_that_keeps_failing_is_dead_lettered_after_MaxDeliveries(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	var calls atomic.Int64
	b := bus(t, "career", "c1", func(o *events.RedisOptions) { o.MaxDeliveries = 3 })
	subscribe(t, b, topic, func(context.Context, events.Event) error {
		calls.Add(1)
		return errors.New("cannot apply: no such user")
	})
	sent := publish(t, b, topic, "x")

	dead := deadLetters(t, c, topic, 1)[0]
	eventually(t, "the ack in the main stream", func() bool { return pending(t, c, topic, "career") == 0 })
	if !strings.Contains(field(dead, "event"), sent.ID) {
		t.Errorf("the dead letter does not carry the original envelope: %+v", dead.Values)
	}
	if got := field(dead, "error"); got != "cannot apply: no such user" {
		t.Errorf("error = %q, want the handler's last error", got)
	}
	if d, _ := strconv.Atoi(field(dead, "deliveries")); d <= 3 {
		t.Errorf("deliveries = %q, want more than MaxDeliveries (3)", field(dead, "deliveries"))
	}
	if calls.Load() != 3 {
		t.Errorf("handler called %d times, want MaxDeliveries (3)", calls.Load())
	}
}

func TestA_dead_letter_for_failures_seen_elsewhere_names_the_limit(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	one := func(o *events.RedisOptions) { o.MaxDeliveries = 1 }
	var failed atomic.Int64
	stopA := subscribe(t, bus(t, "career", "pod-a", one), topic, func(context.Context, events.Event) error {
		failed.Add(1)
		return errors.New("pod-a's failure")
	})
	publish(t, bus(t, "", "", nil), topic, "x")
	eventually(t, "pod-a's failure", func() bool { return failed.Load() == 1 })
	stopA()

	// pod-b never saw the error; the delivery count alone sends it away.
	var calls atomic.Int64
	subscribe(t, bus(t, "career", "pod-b", one), topic, func(context.Context, events.Event) error {
		calls.Add(1)
		return nil
	})
	dead := deadLetters(t, c, topic, 1)[0]
	eventually(t, "the ack in the main stream", func() bool { return pending(t, c, topic, "career") == 0 })
	if got := field(dead, "error"); got != "max deliveries exceeded" {
		t.Errorf("error = %q, want %q", got, "max deliveries exceeded")
	}
	if calls.Load() != 0 {
		t.Errorf("pod-b's handler was called %d times for an event past MaxDeliveries", calls.Load())
	}
}

func TestUndecodable_messages_are_dead_lettered_at_once_and_the_rest_flow(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	stream := events.StreamKey(topic)
	poison := []map[string]any{
		{"event": "{not json"},
		{"event": `{"specversion":"1.0","type":"x"}`}, // no id, no source
		{"payload": "no event field"},
	}
	for _, v := range poison {
		if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	good := publish(t, bus(t, "", "", nil), topic, "fine")

	handled := newTally()
	subscribe(t, bus(t, "career", "c1", nil), topic, handled.handler)
	dead := deadLetters(t, c, topic, len(poison))
	eventually(t, "the good event", func() bool { return handled.distinct() == 1 })
	eventually(t, "every ack", func() bool { return pending(t, c, topic, "career") == 0 })
	handled.exactlyOnce(t, "the handler", []events.Event{good})
	for _, m := range dead {
		if !strings.HasPrefix(field(m, "error"), "undecodable envelope") || field(m, "deliveries") != "1" {
			t.Errorf("dead letter %+v: want an undecodable-envelope error on the first delivery", m.Values)
		}
	}
	if field(dead[0], "event") != "{not json" {
		t.Errorf("the dead letter does not keep the original bytes: %+v", dead[0].Values)
	}
}
