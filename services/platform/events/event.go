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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SpecVersion is the CloudEvents version whose attribute names Event uses.
const SpecVersion = "1.0"

// Event is an envelope with the CloudEvents attribute names, so that tools
// that speak CloudEvents JSON can read the streams as they are.
type Event struct {
	SpecVersion string `json:"specversion"`
	ID          string `json:"id"`
	// Type is the topic, e.g. "skills.assessed"; it picks the stream.
	Type string `json:"type"`
	// Source is the publishing service, e.g. "skills".
	Source          string          `json:"source"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data"`
}

// New wraps data, encoded as JSON, as an event of type topic from source,
// with a fresh random ID and the current time in UTC.
func New(topic, source string, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s event: %w", topic, err)
	}
	return Event{
		SpecVersion: SpecVersion, ID: newID(), Type: topic, Source: source,
		Time: time.Now().UTC(), DataContentType: "application/json", Data: raw,
	}, nil
}

// newID is 128 random bits in hex: unique without coordination between
// replicas, which a counter would need.
func newID() string {
	b := make([]byte, 16)
	// crypto/rand.Read never fails (it aborts the program instead).
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Decode unmarshals the event's data into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode data of %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// valid rejects envelopes no subscriber could route or deduplicate.
func (e Event) valid() error {
	if e.ID == "" || e.Type == "" || e.Source == "" {
		return errors.New("envelope lacks id, type or source")
	}
	return nil
}
