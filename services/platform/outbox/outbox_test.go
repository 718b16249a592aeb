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

package outbox_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/internal/testutil/dbtest"
	"github.com/skillmesh/skillmesh/internal/testutil/pgserver"
	"github.com/skillmesh/skillmesh/internal/testutil/redisserver"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/outbox"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

var (
	pg       *pgserver.Server
	redisSrv *redisserver.Server
)

func TestMain(m *testing.M) {
	var err error
	if pg, err = pgserver.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
	if redisSrv, err = redisserver.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "redis:", err)
		pg.Stop()
		os.Exit(1)
	}
	code := m.Run()
	redisSrv.Stop()
	pg.Stop()
	os.Exit(code)
}

func add(t *testing.T, db *store.DB, topic string, n int) []events.Event {
	t.Helper()
	out := make([]events.Event, 0, n)
	for i := range n {
		ev, _ := events.New(topic, "skills", i)
		if err := db.InTx(context.Background(), func(tx *sql.Tx) error { return outbox.Add(context.Background(), db, tx, ev) }); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestRelay_publishes_in_order_and_keeps_events_while_the_broker_is_down(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		// First a broker nobody listens on, then the real one.
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		defer func() { _ = down.Close() }()
		relay := outbox.NewRelay(db, events.NewRedis(down, events.RedisOptions{}), slog.New(slog.DiscardHandler))
		relay.Batch = 7
		topic := fmt.Sprintf("outbox.test.%d", time.Now().UnixNano())
		sent := add(t, db, topic, 20)

		if _, err := relay.Sweep(ctx); err == nil {
			t.Fatal("a sweep with the broker down reported success")
		}
		if n, _ := outbox.Pending(ctx, db); n != 20 {
			t.Fatalf("pending = %d after a failed sweep, want all 20 kept", n)
		}

		up := redisSrv.Client()
		defer func() { _ = up.Close() }()
		relay.Publisher = events.NewRedis(up, events.RedisOptions{})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- relay.Run(rctx) }()
		stream := events.StreamKey(topic)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if n, _ := up.XLen(ctx, stream).Result(); n >= 20 {
				break
			}
			relay.Notify()
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		msgs, err := up.XRange(ctx, stream, "-", "+").Result()
		if err != nil || len(msgs) != 20 {
			t.Fatalf("stream holds %d messages (err %v), want 20", len(msgs), err)
		}
		for i, m := range msgs {
			var ev events.Event
			raw, _ := m.Values["event"].(string)
			if err := json.Unmarshal([]byte(raw), &ev); err != nil || ev.ID != sent[i].ID {
				t.Fatalf("message %d is %s, want %s in order", i, ev.ID, sent[i].ID)
			}
		}
		if n, _ := outbox.Pending(ctx, db); n != 0 {
			t.Errorf("pending = %d after publishing, want 0", n)
		}
	})
}

func TestFirstDelivery_is_true_once_per_event(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		var firsts []bool
		for range 3 {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				first, err := outbox.FirstDelivery(ctx, db, tx, "evt-1")
				firsts = append(firsts, first)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !firsts[0] || firsts[1] || firsts[2] {
			t.Errorf("first deliveries = %v, want [true false false]", firsts)
		}
		// A rolled-back transaction does not count as applied.
		_ = db.InTx(ctx, func(tx *sql.Tx) error {
			_, _ = outbox.FirstDelivery(ctx, db, tx, "evt-2")
			return errors.New("handler failed")
		})
		var first bool
		_ = db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			first, err = outbox.FirstDelivery(ctx, db, tx, "evt-2")
			return err
		})
		if !first {
			t.Errorf("an event whose handling rolled back was marked applied")
		}
	})
}

// failingAt publishes through next until its failAt-th call, which fails.
type failingAt struct {
	next   events.Publisher
	failAt int
	calls  int
}

func (f *failingAt) Publish(ctx context.Context, ev events.Event) error {
	f.calls++
	if f.calls == f.failAt {
		return errors.New("broker went away")
	}
	return f.next.Publish(ctx, ev)
}

// A sweep marks its whole batch in one statement at the end; one that fails
// midway must still mark exactly the events that reached the broker, so the
// next sweep neither skips nor repeats any.
func TestSweep_that_fails_midway_marks_exactly_what_it_published(t *testing.T) {
	dbtest.Engines(t, pg, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		up := redisSrv.Client()
		defer func() { _ = up.Close() }()
		pub := &failingAt{next: events.NewRedis(up, events.RedisOptions{}), failAt: 4}
		relay := outbox.NewRelay(db, pub, slog.New(slog.DiscardHandler))
		relay.Batch = 10
		topic := fmt.Sprintf("outbox.test.partial.%d", time.Now().UnixNano())
		sent := add(t, db, topic, 12)

		n, err := relay.Sweep(ctx)
		if err == nil || n != 3 {
			t.Fatalf("sweep = %d, %v; want 3 published and the broker's error", n, err)
		}
		if p, _ := outbox.Pending(ctx, db); p != 9 {
			t.Fatalf("pending = %d after 3 of 12 published, want 9", p)
		}
		for range 2 { // the rest: a batch of 9, then nothing
			if _, err := relay.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if p, _ := outbox.Pending(ctx, db); p != 0 {
			t.Fatalf("pending = %d, want 0", p)
		}
		msgs, err := up.XRange(ctx, events.StreamKey(topic), "-", "+").Result()
		if err != nil || len(msgs) != len(sent) {
			t.Fatalf("stream holds %d messages (err %v), want %d, each once", len(msgs), err, len(sent))
		}
		for i, m := range msgs {
			var ev events.Event
			raw, _ := m.Values["event"].(string)
			if err := json.Unmarshal([]byte(raw), &ev); err != nil || ev.ID != sent[i].ID {
				t.Fatalf("message %d is %s, want %s in order", i, ev.ID, sent[i].ID)
			}
		}
	})
}
