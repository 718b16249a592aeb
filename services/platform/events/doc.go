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

// Package events moves events between services over Redis Streams with
// consumer groups: one stream per topic, one group per subscribing service,
// so every service gets every event and the replicas of one service share
// them.
//
// Delivery is at least once. A message is acknowledged only after its
// handler returns nil. A message left pending, because its handler failed or
// its consumer crashed, is reclaimed by a live consumer of the group once it
// has been idle for ClaimMinIdle and is handled again; after MaxDeliveries
// deliveries it is moved to the topic's dead-letter stream instead. A message
// whose envelope cannot be decoded goes there at once, since no retry can
// fix it.
//
// The package does not deduplicate: the same event can reach a handler more
// than once (a retry, a crash between the handler's effect and the ack, or a
// handler that runs longer than ClaimMinIdle and is reclaimed meanwhile).
// Handlers must therefore be idempotent: applying the same event ID twice
// must change nothing, for example by recording applied IDs in the same
// transaction as the effect.
//
// Memory is an in-process bus for unit tests of handlers; it has none of
// these guarantees.
package events
