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
	"sync"
)

// Handler applies one event; an error means "deliver it again later".
type Handler func(ctx context.Context, ev Event) error

// Publisher sends an event to the stream of its type.
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
}

// Subscriber delivers a topic's events to a handler until ctx ends.
type Subscriber interface {
	Subscribe(ctx context.Context, topic string, h Handler) error
}

// Memory is an in-process Publisher and Subscriber for unit tests of
// handlers only: it keeps no state across restarts and retries nothing.
type Memory struct {
	mu       sync.Mutex
	handlers map[string][]Handler
	// Published records every event, in order.
	Published []Event
}

// NewMemory returns an empty in-memory bus.
func NewMemory() *Memory { return &Memory{handlers: map[string][]Handler{}} }

// Publish hands ev to every subscriber of its type, synchronously, and
// returns the first handler error.
func (m *Memory) Publish(ctx context.Context, ev Event) error {
	m.mu.Lock()
	m.Published = append(m.Published, ev)
	hs := append([]Handler(nil), m.handlers[ev.Type]...)
	m.mu.Unlock()
	for _, h := range hs {
		if err := h(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// Subscribe registers h and blocks until ctx ends.
func (m *Memory) Subscribe(ctx context.Context, topic string, h Handler) error {
	m.mu.Lock()
	m.handlers[topic] = append(m.handlers[topic], h)
	m.mu.Unlock()
	<-ctx.Done()
	return nil
}
