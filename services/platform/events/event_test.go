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
	"encoding/hex"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/events"
)

func TestNew_fills_the_CloudEvents_attributes(t *testing.T) {
	before := time.Now()
	ev, err := events.New("skills.assessed", "skills", map[string]int{"level": 3})
	if err != nil {
		t.Fatal(err)
	}
	if ev.SpecVersion != "1.0" || ev.Type != "skills.assessed" || ev.Source != "skills" ||
		ev.DataContentType != "application/json" || string(ev.Data) != `{"level":3}` {
		t.Errorf("New = %+v", ev)
	}
	if ev.Time.Location() != time.UTC || ev.Time.Before(before.Add(-time.Second)) {
		t.Errorf("Time = %v, want now in UTC", ev.Time)
	}
	if b, err := hex.DecodeString(ev.ID); err != nil || len(b) != 16 {
		t.Errorf("ID = %q, want 32 hex digits", ev.ID)
	}
}

func TestNew_gives_every_event_its_own_ID(t *testing.T) {
	seen := map[string]bool{}
	for range 10_000 {
		ev, _ := events.New("t", "s", nil)
		if seen[ev.ID] {
			t.Fatalf("ID %s given twice", ev.ID)
		}
		seen[ev.ID] = true
	}
}

func TestNew_fails_on_data_that_is_not_JSON(t *testing.T) {
	if _, err := events.New("t", "s", make(chan int)); err == nil {
		t.Error("a channel was accepted as event data")
	}
}

func TestDecode_reads_the_data_and_reports_a_mismatch(t *testing.T) {
	ev, _ := events.New("t", "s", map[string]string{"user_id": "u1"})
	var v struct {
		UserID string `json:"user_id"`
	}
	if err := ev.Decode(&v); err != nil || v.UserID != "u1" {
		t.Errorf("Decode = %+v, %v", v, err)
	}
	var n int
	if err := ev.Decode(&n); err == nil {
		t.Error("an object decoded into an int")
	}
}
