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
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/services/platform/events"
)

// flakyNet dials the real server only while it is up, and remembers the
// connections it made so that a test can cut them.
type flakyNet struct {
	down  atomic.Bool
	tries atomic.Int64
	mu    sync.Mutex
	conns []string // local addresses, as CLIENT KILL ADDR names them
}

func (f *flakyNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.tries.Add(1)
	if f.down.Load() {
		return nil, errors.New("flaky network: redis is down")
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		f.mu.Lock()
		f.conns = append(f.conns, conn.LocalAddr().String())
		f.mu.Unlock()
	}
	return conn, err
}

// cut takes the network down and closes, from the server's side, every
// connection made through it.
func (f *flakyNet) cut(t *testing.T, admin *redis.Client) {
	t.Helper()
	f.down.Store(true)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.conns {
		_ = admin.ClientKillByFilter(context.Background(), "ADDR", a).Err() // gone already is fine
	}
	f.conns = nil
}

// syncBuffer is a log sink that the consumer goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestSubscribe_outlives_Redis_outages_and_logs_them(t *testing.T) {
	topic := newTopic(t)
	admin := client(t)
	flaky := &flakyNet{}
	flaky.down.Store(true)
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.Dialer = flaky.dial
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	var logs syncBuffer
	b := events.NewRedis(rdb, events.RedisOptions{
		Group: "career", Consumer: "c1", ClaimMinIdle: 100 * time.Millisecond, Block: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	handled := newTally()
	subscribe(t, b, topic, handled.handler)
	p := bus(t, "", "", nil)

	// Down from the start: Subscribe keeps trying instead of returning.
	eventually(t, "several attempts", func() bool { return flaky.tries.Load() >= 5 })
	if b.Ping(context.Background()) == nil {
		t.Error("Ping succeeded while Redis was unreachable")
	}
	first := publish(t, p, topic, 1)
	flaky.down.Store(false)
	eventually(t, "the event published during the outage", func() bool { return handled.distinct() == 1 })
	if err := b.Ping(context.Background()); err != nil {
		t.Errorf("Ping after recovery: %v", err)
	}

	// Down again while reading: the consumer's connections are cut.
	flaky.cut(t, admin)
	tries := flaky.tries.Load()
	eventually(t, "reconnection attempts", func() bool { return flaky.tries.Load() >= tries+3 })
	second := publish(t, p, topic, 2)
	flaky.down.Store(false)
	eventually(t, "the event published during the second outage", func() bool { return handled.distinct() == 2 })
	eventually(t, "every ack", func() bool { return pending(t, admin, topic, "career") == 0 })
	handled.exactlyOnce(t, "the consumer", []events.Event{first, second})
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the outage was not logged; logs:\n%s", logs.String())
	}
}

func TestSubscribe_refuses_what_can_never_work(t *testing.T) {
	topic := newTopic(t)
	ok := func(context.Context, events.Event) error { return nil }
	ctx := context.Background() // an accepted call would block: each must return at once
	if err := bus(t, "", "c1", nil).Subscribe(ctx, topic, ok); err == nil {
		t.Error("Subscribe without a group did not fail")
	}
	if err := bus(t, "career", "", nil).Subscribe(ctx, topic, ok); err == nil {
		t.Error("Subscribe without a consumer name did not fail")
	}
	if err := bus(t, "career", "c1", nil).Subscribe(ctx, "", ok); err == nil {
		t.Error("Subscribe without a topic did not fail")
	}
	if err := bus(t, "career", "c1", nil).Subscribe(ctx, topic, nil); err == nil {
		t.Error("Subscribe without a handler did not fail")
	}
}

func TestPublish_refuses_an_incomplete_envelope(t *testing.T) {
	topic := newTopic(t)
	b := bus(t, "", "", nil)
	if err := b.Publish(context.Background(), events.Event{Type: topic}); err == nil {
		t.Error("an event without id and source was published")
	}
}

func TestPublish_trims_the_stream_to_about_MaxLen(t *testing.T) {
	topic := newTopic(t)
	c := client(t)
	b := bus(t, "", "", func(o *events.RedisOptions) { o.MaxLen = 10 })
	for i := range 1000 {
		publish(t, b, topic, i)
	}
	n, err := c.XLen(context.Background(), events.StreamKey(topic)).Result()
	if err != nil || n >= 1000 {
		t.Errorf("stream length = %d (err %v) after 1000 publishes with MaxLen 10", n, err)
	}
}
