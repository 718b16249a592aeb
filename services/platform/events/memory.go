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
	"slices"
	"sync"
)

// Memory is an in-process Publisher and Subscriber for unit tests of
// handlers only: Publish calls the subscribed handlers synchronously, keeps
// nothing for subscribers that come later and retries nothing.
type Memory struct {
	mu        sync.Mutex
	subs      map[string][]memorySub
	nextSub   int
	published []Event
}

// memorySub names a handler so that Subscribe can remove it again (funcs
// cannot be compared).
type memorySub struct {
	id int
	h  Handler
}

// NewMemory returns an empty in-memory bus.
func NewMemory() *Memory { return &Memory{subs: map[string][]memorySub{}} }

// Publish records ev, hands it to every subscriber of its type in turn and
// returns the first handler error, so a test sees a failing handler at once.
func (m *Memory) Publish(ctx context.Context, ev Event) error {
	m.mu.Lock()
	m.published = append(m.published, ev)
	// Handlers run unlocked: one may publish in turn.
	subs := slices.Clone(m.subs[ev.Type])
	m.mu.Unlock()
	for _, s := range subs {
		if err := s.h(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// Subscribe registers h, blocks until ctx ends and then unregisters it.
func (m *Memory) Subscribe(ctx context.Context, topic string, h Handler) error {
	m.mu.Lock()
	m.nextSub++
	id := m.nextSub
	m.subs[topic] = append(m.subs[topic], memorySub{id: id, h: h})
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.subs[topic] = slices.DeleteFunc(m.subs[topic], func(s memorySub) bool { return s.id == id })
	m.mu.Unlock()
	return nil
}

// Subscribers is how many handlers are registered for topic, so a test can
// wait until its Subscribe goroutine has registered before publishing.
func (m *Memory) Subscribers(topic string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs[topic])
}

// Published returns a copy of every event published so far, in order.
func (m *Memory) Published() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.published)
}
