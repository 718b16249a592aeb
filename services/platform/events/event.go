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
// consumer groups: one group per subscribing service, so every service gets
// every event and the replicas of one service share them.
//
// Delivery is at least once. A message is acknowledged only after its
// handler succeeds; one left pending by a consumer that crashed or failed is
// reclaimed after ClaimMinIdle and handled again; after MaxDeliveries it is
// moved to a dead-letter stream. Handlers must therefore be idempotent: the
// same event ID applied twice must change nothing (the services record the
// IDs they applied in the same transaction as the effect).
package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event is an envelope with the CloudEvents attribute names.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data"`
}

// New wraps data as an event of type topic from source, with a fresh ID.
func New(topic, source string, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s event: %w", topic, err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return Event{
		SpecVersion: "1.0", ID: hex.EncodeToString(b), Type: topic, Source: source,
		Time: time.Now().UTC(), DataContentType: "application/json", Data: raw,
	}, nil
}

// Decode unmarshals the event's data into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode data of %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}

func (e Event) valid() error {
	if e.ID == "" || e.Type == "" || e.Source == "" {
		return fmt.Errorf("envelope lacks id, type or source")
	}
	return nil
}
