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

// Package stack_test runs the three services together on loopback, with
// real Redis Streams between them and a SQLite database each, and checks
// what crosses the boundaries: HTTP calls, events, restarts and failures.
package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/internal/devauth"
	"github.com/skillmesh/skillmesh/internal/testutil/redisserver"
	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/settings"
	"github.com/skillmesh/skillmesh/services/skills"
)

var redisSrv *redisserver.Server

func TestMain(m *testing.M) {
	var err error
	if redisSrv, err = redisserver.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "redis:", err)
		os.Exit(1)
	}
	code := m.Run()
	redisSrv.Stop()
	os.Exit(code)
}

type runFunc func(ctx context.Context, src settings.Source, stderr io.Writer, ln net.Listener) error

// service is one running service of the stack.
type service struct {
	URL  string
	stop func() error
}

var dbIndex atomic.Int64

// brokerURL gives each test a Redis database of its own, so streams and
// consumer groups of one test never meet another's.
func brokerURL() string {
	return fmt.Sprintf("%s%d", redisSrv.URL[:len(redisSrv.URL)-1], 1+dbIndex.Add(1)%15)
}

// start runs a service through its real Run, as the binary would, on a
// loopback port, and waits until it is ready.
func start(t *testing.T, run runFunc, env map[string]string) *service {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, settings.FromMap(env), io.Discard, ln) }()
	s := &service{URL: "http://" + ln.Addr().String()}
	var stopped bool
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("service exited while starting: %v", err)
		default:
		}
		if code, _ := call(t, http.MethodGet, s.URL+"/health/ready", nil, nil); code == http.StatusOK {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatal("service not ready within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call speaks JSON over HTTP; a transport error is status 0.
// stackKeys is the identity provider of the sample Gateway's auth.jwt here.
var stackKeys = func() *devauth.KeyPair {
	k, err := devauth.New()
	if err != nil {
		panic(err)
	}
	return k
}()

var userInPath = regexp.MustCompile(`/users/([^/?]+)`)

func call(t *testing.T, method, url string, body, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Signed as the user the path names, as the sample Gateway asks.
	if m := userInPath.FindStringSubmatch(req.URL.Path); m != nil {
		tok, err := stackKeys.Token(m[1], time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode %s %s: %v: %s", method, url, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

// streamLen counts the messages of a topic's stream on broker.
func streamLen(t *testing.T, broker, topic string) int64 {
	t.Helper()
	opts, err := redis.ParseURL(broker)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	n, _ := c.XLen(context.Background(), events.StreamKey(topic)).Result()
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// env is what the operator would inject, plus fast test timings.
func env(t *testing.T, name, broker string, extra map[string]string) map[string]string {
	prefix := map[string]string{"skills": "SKILLS_", "career": "CAREER_", "learning": "LEARNING_"}[name]
	e := map[string]string{
		"DATABASE_URL":                   "sqlite://" + filepath.Join(t.TempDir(), name+".db"),
		"BROKER_URL":                     broker,
		prefix + "DRAIN_DELAY":           "0s",
		prefix + "LOG_LEVEL":             "warn",
		prefix + "EVENTS_CLAIM_MIN_IDLE": "500ms",
		prefix + "CONSUMER_NAME":         name + "-0",
	}
	switch name {
	case "skills":
		e["EVENTS_PUBLISHES"] = skills.TopicAssessed
	case "career":
		e["EVENTS_PUBLISHES"] = career.TopicPlanUpdated
		e["EVENTS_SUBSCRIBES"] = skills.TopicAssessed
	case "learning":
		e["EVENTS_SUBSCRIBES"] = career.TopicPlanUpdated
	}
	maps.Copy(e, extra)
	return e
}

var juniorCV = skills.CV{
	Summary:    "Junior developer.",
	Experience: []skills.Experience{{Title: "Developer", Company: "Acme", Years: 1, Description: "Go and Docker."}},
}

var seniorCV = skills.CV{
	Summary: "Backend engineer.",
	Experience: []skills.Experience{
		{Title: "Senior Engineer", Company: "Acme", Years: 6, Description: "Go microservices, REST API design, PostgreSQL, Docker."},
	},
	Skills: []string{"golang", "postgres"},
}

func TestAssessment_flows_to_career_and_learning_through_events_alone(t *testing.T) {
	broker := brokerURL()
	sk := start(t, skills.Run, env(t, "skills", broker, nil))
	cr := start(t, career.Run, env(t, "career", broker, map[string]string{"SKILLS_URL": sk.URL}))
	ln := start(t, learning.Run, env(t, "learning", broker, nil))

	if code, body := call(t, http.MethodPost, sk.URL+"/users/ada/assess", juniorCV, nil); code != http.StatusCreated {
		t.Fatalf("assess = %d %s", code, body)
	}
	var plan career.Plan
	if code, body := call(t, http.MethodPost, cr.URL+"/users/ada/career-plan", map[string]string{"target_role": "backend-engineer"}, &plan); code != 200 {
		t.Fatalf("career-plan = %d %s", code, body)
	}
	if !plan.Assessed || plan.Progress == 0 || plan.Progress == 100 || len(plan.Gaps) == 0 {
		t.Fatalf("first plan = %+v", plan)
	}
	first := plan

	// Assess again, then stop skills: career must refresh from the event alone.
	var latest skills.Assessment
	if code, body := call(t, http.MethodPost, sk.URL+"/users/ada/assess", seniorCV, &latest); code != http.StatusCreated {
		t.Fatalf("assess = %d %s", code, body)
	}
	eventually(t, "skills to publish both assessments", func() bool { return streamLen(t, broker, skills.TopicAssessed) == 2 })
	if err := sk.stop(); err != nil {
		t.Fatalf("skills stopped with %v", err)
	}
	eventually(t, "career to refresh the plan", func() bool {
		var p career.Plan
		code, _ := call(t, http.MethodGet, cr.URL+"/users/ada/career-plan", nil, &p)
		plan = p
		return code == 200 && p.BasedOn.Equal(latest.AssessedAt)
	})
	if plan.Progress <= first.Progress || len(plan.Gaps) >= len(first.Gaps) {
		t.Errorf("refreshed plan did not improve: progress %d → %d, gaps %d → %d", first.Progress, plan.Progress, len(first.Gaps), len(plan.Gaps))
	}

	// Learning recommends courses for exactly the refreshed gaps.
	var rec learning.Recommendations
	eventually(t, "learning to receive the refreshed plan", func() bool {
		code, _ := call(t, http.MethodGet, ln.URL+"/users/ada/recommendations", nil, &rec)
		return code == 200 && rec.PlanUpdatedAt.Equal(plan.UpdatedAt)
	})
	if len(rec.Recommendations) != len(plan.Gaps) {
		t.Fatalf("recommendations for %d gaps, plan has %d", len(rec.Recommendations), len(plan.Gaps))
	}
	for i, r := range rec.Recommendations {
		if r.Gap != plan.Gaps[i] || len(r.Courses) == 0 {
			t.Errorf("recommendation %d = %+v for gap %+v", i, r, plan.Gaps[i])
		}
	}

	// Enrolling removes the course from the recommendations.
	if len(rec.Recommendations) == 0 || len(rec.Recommendations[0].Courses) == 0 {
		t.Fatalf("no course to enrol in: %+v", rec)
	}
	course := rec.Recommendations[0].Courses[0]
	if code, body := call(t, http.MethodPost, ln.URL+"/users/ada/enrollments", map[string]string{"course_id": course.ID}, nil); code != http.StatusCreated {
		t.Fatalf("enroll = %d %s", code, body)
	}
	if code, _ := call(t, http.MethodPost, ln.URL+"/users/ada/enrollments", map[string]string{"course_id": course.ID}, nil); code != http.StatusConflict {
		t.Errorf("second enrolment = %d, want 409", code)
	}
	var again learning.Recommendations
	call(t, http.MethodGet, ln.URL+"/users/ada/recommendations", nil, &again)
	for _, c := range again.Recommendations[0].Courses {
		if c.ID == course.ID {
			t.Errorf("enrolled course %s still recommended", course.ID)
		}
	}
}
