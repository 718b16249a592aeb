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
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/internal/testutil/redisserver"
	"github.com/skillmesh/skillmesh/services/platform/events"
)

var srv *redisserver.Server

func TestMain(m *testing.M) {
	var err error
	srv, err = redisserver.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redis for the events tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

var topicSeq atomic.Int64

// topic gives every test streams of its own.
func topic(*testing.T) string {
	return fmt.Sprintf("test.%d.%d", time.Now().UnixNano(), topicSeq.Add(1))
}

func bus(t *testing.T, group, consumer string, tune func(*events.RedisOptions)) (*events.Redis, *redis.Client) {
	t.Helper()
	c := srv.Client()
	t.Cleanup(func() { _ = c.Close() })
	opts := events.RedisOptions{Group: group, Consumer: consumer, ClaimMinIdle: 200 * time.Millisecond, Block: 100 * time.Millisecond}
	if tune != nil {
		tune(&opts)
	}
	return events.NewRedis(c, opts), c
}

// subscribe runs Subscribe in the background until the test ends or stop is called.
func subscribe(t *testing.T, b *events.Redis, topic string, h events.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = b.Subscribe(ctx, topic, h); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func publish(t *testing.T, b *events.Redis, topic string, data any) events.Event {
	t.Helper()
	ev, err := events.New(topic, "test", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func pending(t *testing.T, c *redis.Client, topic string) int64 {
	const group = "career"
	t.Helper()
	p, err := c.XPending(context.Background(), events.StreamKey(topic), group).Result()
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

func TestDelivers_the_envelope_and_acknowledges(t *testing.T) {
	tp := topic(t)
	b, c := bus(t, "career", "c1", nil)
	got := make(chan events.Event, 1)
	subscribe(t, b, tp, func(_ context.Context, ev events.Event) error { got <- ev; return nil })
	sent := publish(t, b, tp, map[string]string{"user_id": "u1"})
	var ev events.Event
	select {
	case ev = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery")
	}
	if ev.ID != sent.ID || ev.Type != tp || ev.Source != "test" || ev.SpecVersion != "1.0" || !ev.Time.Equal(sent.Time) {
		t.Errorf("delivered %+v, sent %+v", ev, sent)
	}
	var data map[string]string
	if err := ev.Decode(&data); err != nil || data["user_id"] != "u1" {
		t.Errorf("data = %v, err = %v", data, err)
	}
	eventually(t, "the acknowledgement", func() bool { return pending(t, c, tp) == 0 })
}

func TestFailed_handling_is_redelivered_until_it_succeeds(t *testing.T) {
	tp := topic(t)
	b, c := bus(t, "career", "c1", nil)
	var mu sync.Mutex
	var seen []string
	subscribe(t, b, tp, func(_ context.Context, ev events.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ev.ID)
		if len(seen) < 3 {
			return errors.New("database busy")
		}
		return nil
	})
	sent := publish(t, b, tp, "x")
	eventually(t, "three deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 3 })
	eventually(t, "the acknowledgement", func() bool { return pending(t, c, tp) == 0 })
	mu.Lock()
	defer mu.Unlock()
	for _, id := range seen {
		if id != sent.ID {
			t.Errorf("redelivery carried id %s, want %s", id, sent.ID)
		}
	}
}

func TestA_crashed_consumers_messages_are_reclaimed_by_another(t *testing.T) {
	tp := topic(t)
	a, c := bus(t, "career", "pod-a", nil)
	const n = 20
	var taken atomic.Int64
	block := make(chan struct{})
	stopA := subscribe(t, a, tp, func(ctx context.Context, _ events.Event) error {
		taken.Add(1)
		select { // pod-a "crashes" while handling: it never acknowledges
		case <-block:
		case <-ctx.Done():
		}
		return errors.New("crashed")
	})
	for i := range n {
		publish(t, a, tp, i)
	}
	eventually(t, "pod-a to take messages", func() bool { return taken.Load() > 0 })
	stopA()
	left := pending(t, c, tp)
	if left == 0 {
		t.Fatalf("pod-a acknowledged what it never finished")
	}

	b, _ := bus(t, "career", "pod-b", nil)
	var mu sync.Mutex
	handled := map[string]int{}
	subscribe(t, b, tp, func(_ context.Context, ev events.Event) error {
		mu.Lock()
		handled[ev.ID]++
		mu.Unlock()
		return nil
	})
	// pod-b takes over the messages pod-a left pending and reads the rest.
	eventually(t, "pod-b to handle every message", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == n })
	eventually(t, "every acknowledgement", func() bool { return pending(t, c, tp) == 0 })
	close(block)
}

func TestPoison_messages_go_to_the_dead_letter_stream(t *testing.T) {
	tp := topic(t)
	b, c := bus(t, "career", "c1", func(o *events.RedisOptions) { o.MaxDeliveries = 3 })
	var calls atomic.Int64
	subscribe(t, b, tp, func(context.Context, events.Event) error { calls.Add(1); return errors.New("cannot apply") })
	sent := publish(t, b, tp, "x")
	// An envelope that is not JSON: dead-lettered at once, handler never called for it.
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: events.StreamKey(tp), Values: map[string]any{"event": "{not json"}}).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two dead letters", func() bool {
		n, _ := c.XLen(context.Background(), events.DeadLetterKey(tp)).Result()
		return n == 2
	})
	eventually(t, "the main stream to be acknowledged", func() bool { return pending(t, c, tp) == 0 })
	msgs, err := c.XRange(context.Background(), events.DeadLetterKey(tp), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var sawPoison, sawFailing bool
	for _, m := range msgs {
		reason, _ := m.Values["error"].(string)
		raw, _ := m.Values["event"].(string)
		switch {
		case raw == "{not json":
			sawPoison = reason != ""
		case len(raw) > 0:
			sawFailing = reason != "" && strings.Contains(raw, sent.ID)
		}
	}
	if !sawPoison || !sawFailing {
		t.Errorf("dead letters: %+v", msgs)
	}
	if calls.Load() != 3 {
		t.Errorf("handler calls = %d, want exactly MaxDeliveries (3)", calls.Load())
	}
}

func TestEvery_group_gets_every_message_and_a_group_shares_them(t *testing.T) {
	tp := topic(t)
	const n = 200
	counts := func() (func(context.Context, events.Event) error, func() map[string]int) {
		var mu sync.Mutex
		m := map[string]int{}
		return func(_ context.Context, ev events.Event) error { mu.Lock(); m[ev.ID]++; mu.Unlock(); return nil },
			func() map[string]int {
				mu.Lock()
				defer mu.Unlock()
				return maps.Clone(m)
			}
	}
	careerA, _ := bus(t, "career", "a", nil)
	careerB, _ := bus(t, "career", "b", nil)
	learning, _ := bus(t, "learning", "a", nil)
	hCareer, careerSeen := counts()
	hLearning, learningSeen := counts()
	subscribe(t, careerA, tp, hCareer)
	subscribe(t, careerB, tp, hCareer)
	subscribe(t, learning, tp, hLearning)
	for i := range n {
		publish(t, careerA, tp, i)
	}
	eventually(t, "both groups to see every message", func() bool { return len(careerSeen()) == n && len(learningSeen()) == n })
	for id, k := range careerSeen() {
		if k != 1 {
			t.Errorf("career handled %s %d times", id, k)
		}
	}
}

func TestA_thousand_events_none_lost(t *testing.T) {
	tp := topic(t)
	b, c := bus(t, "career", "c1", func(o *events.RedisOptions) { o.Batch = 64 })
	var got atomic.Int64
	subscribe(t, b, tp, func(context.Context, events.Event) error { got.Add(1); return nil })
	for i := range 1000 {
		publish(t, b, tp, i)
	}
	eventually(t, "1000 deliveries", func() bool { return got.Load() >= 1000 })
	eventually(t, "every acknowledgement", func() bool { return pending(t, c, tp) == 0 })
	if got.Load() != 1000 {
		t.Errorf("delivered %d, want exactly 1000", got.Load())
	}
}

func TestPublish_refuses_an_incomplete_envelope(t *testing.T) {
	b, _ := bus(t, "career", "c1", nil)
	if err := b.Publish(context.Background(), events.Event{Type: "x"}); err == nil {
		t.Error("an event without id and source was published")
	}
}
