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

import "context"

// Handler applies one event. A nil error acknowledges it; any other error
// means "deliver it again later".
type Handler func(ctx context.Context, ev Event) error

// Publisher sends an event to the stream of its topic (its Type).
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
}

// Subscriber delivers a topic's events to a handler. Subscribe blocks until
// ctx is done and then returns nil; it returns an error only when it cannot
// run at all.
type Subscriber interface {
	Subscribe(ctx context.Context, topic string, h Handler) error
}

// Both buses must stay interchangeable for the services that take them.
var (
	_ Publisher  = (*Redis)(nil)
	_ Subscriber = (*Redis)(nil)
	_ Publisher  = (*Memory)(nil)
	_ Subscriber = (*Memory)(nil)
)
