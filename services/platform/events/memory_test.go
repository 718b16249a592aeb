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
	"testing"

	"github.com/skillmesh/skillmesh/services/platform/events"
)

// memorySubscribe runs Subscribe until the returned stop, and waits until
// the handler is registered.
func memorySubscribe(t *testing.T, m *events.Memory, topic string, h events.Handler) (stop func()) {
	t.Helper()
	before := m.Subscribers(topic)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Subscribe(ctx, topic, h) }()
	eventually(t, "the subscription", func() bool { return m.Subscribers(topic) > before })
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Subscribe returned %v, want nil", err)
		}
	}
}

func TestMemory_hands_events_to_the_subscribers_of_their_type_only(t *testing.T) {
	m := events.NewMemory()
	var got []events.Event
	stop := memorySubscribe(t, m, "a.b", func(_ context.Context, ev events.Event) error { got = append(got, ev); return nil })
	defer stop()
	ab := publish(t, m, "a.b", 1)
	cd := publish(t, m, "c.d", 2)
	if len(got) != 1 || got[0].ID != ab.ID {
		t.Errorf("delivered %+v, want only %s", got, ab.ID)
	}
	if all := m.Published(); len(all) != 2 || all[0].ID != ab.ID || all[1].ID != cd.ID {
		t.Errorf("Published() = %+v", all)
	}
}

func TestMemory_returns_the_handler_error_and_forgets_ended_subscriptions(t *testing.T) {
	m := events.NewMemory()
	boom := errors.New("boom")
	stop := memorySubscribe(t, m, "a.b", func(context.Context, events.Event) error { return boom })
	ev, _ := events.New("a.b", "test", 1)
	if err := m.Publish(t.Context(), ev); !errors.Is(err, boom) {
		t.Errorf("Publish = %v, want the handler's error", err)
	}
	stop()
	if n := m.Subscribers("a.b"); n != 0 {
		t.Errorf("%d subscribers left after Subscribe returned", n)
	}
	if err := m.Publish(t.Context(), ev); err != nil {
		t.Errorf("Publish with no subscriber = %v", err)
	}
}
