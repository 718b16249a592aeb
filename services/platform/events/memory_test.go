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
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/events"
)

func TestMemory_hands_events_to_subscribers_of_their_type(t *testing.T) {
	m := events.NewMemory()
	ctx := t.Context()
	got := make(chan events.Event, 2)
	go func() {
		_ = m.Subscribe(ctx, "a.b", func(_ context.Context, ev events.Event) error { got <- ev; return nil })
	}()
	// Subscribe registers before it blocks; wait until it has.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev, _ := events.New("a.b", "test", 1)
		_ = m.Publish(ctx, ev)
		select {
		case d := <-got:
			if d.Type != "a.b" {
				t.Fatalf("delivered %+v", d)
			}
			other, _ := events.New("c.d", "test", 2)
			_ = m.Publish(ctx, other)
			select {
			case e := <-got:
				t.Fatalf("an event of another type was delivered: %+v", e)
			default:
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("never delivered")
		}
	}
}
