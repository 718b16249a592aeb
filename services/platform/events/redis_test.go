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
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/internal/testutil/redisserver"
	"github.com/skillmesh/skillmesh/services/platform/events"
)

// srv is the package's Redis; nil when the Redis tests are skipped.
var (
	srv        *redisserver.Server
	skipReason string
)

func TestMain(m *testing.M) {
	var err error
	srv, err = redisserver.Start()
	switch {
	case errors.Is(err, redisserver.ErrSkipped):
		skipReason = err.Error()
		os.Exit(m.Run())
	case err != nil:
		fmt.Fprintln(os.Stderr, "redis for the events tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// patience bounds every wait; nothing asserts how fast anything happens.
const patience = 20 * time.Second

var topicSeq atomic.Int64

// newTopic gives a test streams of its own, also on a shared server that
// keeps the streams of earlier runs.
func newTopic(t *testing.T) string {
	t.Helper()
	if srv == nil {
		t.Skip(skipReason)
	}
	t.Parallel()
	return fmt.Sprintf("test.%s.%d.%d", t.Name(), time.Now().UnixNano(), topicSeq.Add(1))
}

func client(t *testing.T) *redis.Client {
	t.Helper()
	c := srv.Client()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// bus is a consumer with short timings, so that redelivery happens within
// the test.
func bus(t *testing.T, group, consumer string, tune func(*events.RedisOptions)) *events.Redis {
	t.Helper()
	opts := events.RedisOptions{Group: group, Consumer: consumer, ClaimMinIdle: 100 * time.Millisecond, Block: 50 * time.Millisecond}
	if tune != nil {
		tune(&opts)
	}
	return events.NewRedis(client(t), opts)
}

// subscribe runs Subscribe in the background; stop (called at the latest
// when the test ends) cancels it and checks that it returned nil.
func subscribe(t *testing.T, b *events.Redis, topic string, h events.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Subscribe(ctx, topic, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Subscribe returned %v after its context ended, want nil", err)
				}
			case <-time.After(patience):
				t.Errorf("Subscribe did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func publish(t *testing.T, p events.Publisher, topic string, data any) events.Event {
	t.Helper()
	ev, err := events.New(topic, "test", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// pending is the number of the group's messages delivered but not acked.
func pending(t *testing.T, c *redis.Client, topic, group string) int64 {
	t.Helper()
	p, err := c.XPending(context.Background(), events.StreamKey(topic), group).Result()
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

// tally counts handler calls per event ID.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func newTally() *tally { return &tally{m: map[string]int{}} }

func (c *tally) handler(_ context.Context, ev events.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[ev.ID]++
	return nil
}

func (c *tally) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

func (c *tally) distinct() int { return len(c.snapshot()) }

// exactlyOnce fails t unless the tally holds each of want exactly once.
func (c *tally) exactlyOnce(t *testing.T, who string, want []events.Event) {
	t.Helper()
	got := c.snapshot()
	if len(got) != len(want) {
		t.Errorf("%s handled %d distinct events, want %d", who, len(got), len(want))
	}
	for _, ev := range want {
		if got[ev.ID] != 1 {
			t.Errorf("%s handled %s %d times, want once", who, ev.ID, got[ev.ID])
		}
	}
}

func TestPublish_then_Subscribe_delivers_the_whole_envelope_and_acks_it(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	b := bus(t, "career", "c1", nil)
	got := make(chan events.Event, 1)
	subscribe(t, b, topic, func(_ context.Context, ev events.Event) error { got <- ev; return nil })
	sent := publish(t, b, topic, map[string]string{"user_id": "u1"})

	var ev events.Event
	select {
	case ev = <-got:
	case <-time.After(patience):
		t.Fatal("nothing delivered")
	}
	if ev.SpecVersion != "1.0" || ev.ID != sent.ID || ev.Type != topic || ev.Source != "test" ||
		!ev.Time.Equal(sent.Time) || ev.DataContentType != "application/json" {
		t.Errorf("delivered %+v, sent %+v", ev, sent)
	}
	var data map[string]string
	if err := ev.Decode(&data); err != nil || data["user_id"] != "u1" {
		t.Errorf("data = %v, err = %v", data, err)
	}
	eventually(t, "the ack", func() bool { return pending(t, c, topic, "career") == 0 })

	// On the wire: one field, "event", holding the CloudEvents JSON.
	msgs, err := c.XRange(context.Background(), events.StreamKey(topic), "-", "+").Result()
	if err != nil || len(msgs) != 1 || len(msgs[0].Values) != 1 {
		t.Fatalf("stream entries = %+v, err = %v", msgs, err)
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(msgs[0].Values["event"].(string)), &attrs); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(attrs))
	want := []string{"data", "datacontenttype", "id", "source", "specversion", "time", "type"}
	if !slices.Equal(keys, want) {
		t.Errorf("envelope attributes = %v, want %v", keys, want)
	}
}

func TestA_failing_handler_gets_the_event_again_until_it_succeeds(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	b := bus(t, "career", "c1", nil)
	var mu sync.Mutex
	var seen []string
	subscribe(t, b, topic, func(_ context.Context, ev events.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ev.ID)
		if len(seen) <= 2 {
			return errors.New("database busy")
		}
		return nil
	})
	sent := publish(t, b, topic, "x")

	eventually(t, "three deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 3 })
	eventually(t, "the ack", func() bool { return pending(t, c, topic, "career") == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Errorf("handler called %d times, want 3 (two failures, one success)", len(seen))
	}
	for _, id := range seen {
		if id != sent.ID {
			t.Errorf("a redelivery carried id %s, want %s", id, sent.ID)
		}
	}
	if n, _ := c.XLen(context.Background(), events.DeadLetterKey(topic)).Result(); n != 0 {
		t.Errorf("%d dead letters for an event that succeeded", n)
	}
}

func TestA_crashed_consumers_messages_are_reclaimed_by_another_in_its_group(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	const n = 40
	a := bus(t, "career", "pod-a", nil)
	var taken atomic.Int64
	stopA := subscribe(t, a, topic, func(ctx context.Context, _ events.Event) error {
		taken.Add(1)
		<-ctx.Done() // pod-a dies in the middle of its first event
		return ctx.Err()
	})
	sent := make([]events.Event, 0, n)
	for i := range n {
		sent = append(sent, publish(t, a, topic, i))
	}
	eventually(t, "pod-a to take an event", func() bool { return taken.Load() > 0 })
	stopA()

	left, err := c.XPendingExt(context.Background(), &redis.XPendingExtArgs{
		Stream: events.StreamKey(topic), Group: "career", Start: "-", End: "+", Count: n,
	}).Result()
	if err != nil || len(left) == 0 {
		t.Fatalf("pod-a left nothing pending (err %v): it acked what it never finished", err)
	}
	for _, p := range left {
		if p.Consumer != "pod-a" {
			t.Fatalf("pending entry %+v does not belong to pod-a", p)
		}
	}

	// pod-b starts later, takes over what pod-a read and reads the rest.
	handled := newTally()
	subscribe(t, bus(t, "career", "pod-b", nil), topic, handled.handler)
	eventually(t, "pod-b to handle every event", func() bool { return handled.distinct() == n })
	eventually(t, "every ack", func() bool { return pending(t, c, topic, "career") == 0 })
	handled.exactlyOnce(t, "pod-b", sent)
}

func TestEvery_group_gets_every_event_and_one_groups_consumers_share_them(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	const n = 200
	// No reclaiming during the test: this is the happy path, where a slow
	// moment of one consumer must not count as a duplicate.
	calm := func(o *events.RedisOptions) { o.ClaimMinIdle = time.Hour }
	careerA, careerB, learning := newTally(), newTally(), newTally()
	subscribe(t, bus(t, "career", "a", calm), topic, careerA.handler)
	subscribe(t, bus(t, "career", "b", calm), topic, careerB.handler)
	subscribe(t, bus(t, "learning", "a", calm), topic, learning.handler)
	p := bus(t, "", "", nil)
	sent := make([]events.Event, 0, n)
	for i := range n {
		sent = append(sent, publish(t, p, topic, i))
	}

	eventually(t, "both groups to handle every event", func() bool {
		return careerA.distinct()+careerB.distinct() >= n && learning.distinct() == n
	})
	eventually(t, "every ack", func() bool {
		return pending(t, c, topic, "career") == 0 && pending(t, c, topic, "learning") == 0
	})
	learning.exactlyOnce(t, "learning", sent)
	career := newTally()
	for _, part := range []*tally{careerA, careerB} {
		for id, k := range part.snapshot() {
			career.m[id] += k
		}
	}
	career.exactlyOnce(t, "career (both consumers)", sent)
	t.Logf("career's consumers split the events %d/%d", careerA.distinct(), careerB.distinct())
}

func TestA_thousand_events_arrive_each_exactly_once(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	const n = 1000
	handled := newTally()
	tune := func(o *events.RedisOptions) { o.Batch, o.ClaimMinIdle = 64, time.Hour }
	subscribe(t, bus(t, "career", "c1", tune), topic, handled.handler)
	p := bus(t, "", "", nil)
	sent := make([]events.Event, 0, n)
	for i := range n {
		sent = append(sent, publish(t, p, topic, i))
	}
	eventually(t, "every event", func() bool { return handled.distinct() == n })
	eventually(t, "every ack", func() bool { return pending(t, c, topic, "career") == 0 })
	handled.exactlyOnce(t, "the consumer", sent)
}
