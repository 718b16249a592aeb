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

package stack_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/events"
	"github.com/skillmesh/skillmesh/services/platform/store"
	"github.com/skillmesh/skillmesh/services/skills"
)

func TestCareer_killed_mid_stream_loses_no_event_and_applies_none_twice(t *testing.T) {
	const users = 40
	broker := brokerURL()
	sk := start(t, skills.Run, env(t, "skills", broker, nil))
	careerEnv := env(t, "career", broker, map[string]string{"SKILLS_URL": sk.URL})
	cr := start(t, career.Run, careerEnv)
	for i := range users {
		if code, body := call(t, http.MethodPost, fmt.Sprintf("%s/users/u%d/career-plan", cr.URL, i),
			map[string]string{"target_role": "platform-engineer"}, nil); code != 200 {
			t.Fatalf("career-plan = %d %s", code, body)
		}
	}
	if err := cr.stop(); err != nil {
		t.Fatal(err)
	}

	// Events pile up while career is down.
	assessedAt := map[string]time.Time{}
	for i := range users {
		var a skills.Assessment
		cv := skills.CV{Experience: []skills.Experience{{Title: "SRE", Years: float64(i%7 + 1), Description: "Kubernetes, Go, Linux, Terraform"}}}
		if code, body := call(t, http.MethodPost, fmt.Sprintf("%s/users/u%d/assess", sk.URL, i), cv, &a); code != 201 {
			t.Fatalf("assess = %d %s", code, body)
		}
		assessedAt[a.UserID] = a.AssessedAt
	}
	eventually(t, "every assessment to be published", func() bool { return streamLen(t, broker, skills.TopicAssessed) == users })

	// Career comes back as a real process and is killed (SIGKILL: no
	// shutdown, no commit, no acknowledgement) as soon as it is under way:
	// events are in flight, some handled, some delivered and not acknowledged.
	proc := startProcess(t, "career", careerEnv)
	eventually(t, "career to start consuming", func() bool { return refreshed(t, proc.URL, assessedAt) > 0 })
	proc.kill()

	// A new pod (a new consumer name) takes over what the old one left pending.
	careerEnv["CAREER_CONSUMER_NAME"] = "career-1"
	cr = start(t, career.Run, careerEnv)
	eventually(t, "every plan to be refreshed", func() bool { return refreshed(t, cr.URL, assessedAt) == users })
	if err := cr.stop(); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(context.Background(), careerEnv["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if n := count(t, db.DB, `SELECT COUNT(*) FROM processed_events`); n != users {
		t.Errorf("processed events = %d, want %d", n, users)
	}
	// One plan update when each plan was made, and exactly one per assessment.
	if n := count(t, db.DB, `SELECT COUNT(*) FROM outbox WHERE topic = 'career.plan.updated'`); n != 2*users {
		t.Errorf("plan updates = %d, want %d: an event was applied twice or not at all", n, 2*users)
	}
}

// refreshed counts the users whose plan is based on their latest assessment.
func refreshed(t *testing.T, careerURL string, assessedAt map[string]time.Time) int {
	n := 0
	for user, at := range assessedAt {
		var p career.Plan
		if code, _ := call(t, http.MethodGet, careerURL+"/users/"+user+"/career-plan", nil, &p); code == 200 && p.BasedOn.Equal(at) {
			n++
		}
	}
	return n
}

// process is a service running as its own OS process, from the real binary.
type process struct {
	URL  string
	kill func()
}

// startProcess runs `skillmesh-svc name` with env, on a free loopback port.
func startProcess(t *testing.T, name string, env map[string]string) *process {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(binary(t), name)
	cmd.Env = []string{"PORT=" + strconv.Itoa(port), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	var once sync.Once
	p.kill = func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(p.kill)
	eventually(t, name+" process to be ready", func() bool {
		code, _ := call(t, http.MethodGet, p.URL+"/health/ready", nil, nil)
		return code == http.StatusOK
	})
	return p
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds skillmesh-svc once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "skillmesh-svc-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "skillmesh-svc")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/skillmesh/skillmesh/services/cmd/skillmesh-svc").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPoison_events_land_in_the_dead_letter_stream(t *testing.T) {
	broker := brokerURL()
	start(t, career.Run, env(t, "career", broker, map[string]string{
		"SKILLS_URL": "http://127.0.0.1:1", "CAREER_EVENTS_MAX_DELIVERIES": "3",
	}))
	opts, _ := redis.ParseURL(broker)
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	ctx := context.Background()
	// Not an envelope at all.
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: events.StreamKey(skills.TopicAssessed), Values: map[string]any{"event": "garbage"}}).Err(); err != nil {
		t.Fatal(err)
	}
	// An envelope whose data career cannot decode: it fails on every delivery.
	ev, _ := events.New(skills.TopicAssessed, "skills", "not an object")
	if err := events.NewRedis(c, events.RedisOptions{}).Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both to be dead-lettered", func() bool {
		n, _ := c.XLen(ctx, events.DeadLetterKey(skills.TopicAssessed)).Result()
		return n == 2
	})
	p, err := c.XPending(ctx, events.StreamKey(skills.TopicAssessed), "career").Result()
	if err != nil || p.Count != 0 {
		t.Errorf("pending = %+v (err %v), want nothing left", p, err)
	}
}

func TestSkills_down_career_times_out_opens_its_breaker_and_stays_alive(t *testing.T) {
	// A skills service that accepts connections and never answers.
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	cr := start(t, career.Run, env(t, "career", brokerURL(), map[string]string{
		"SKILLS_URL": hang.URL, "CAREER_SKILLS_TIMEOUT": "200ms",
	}))
	var last string
	for range 5 {
		code, body := call(t, http.MethodPost, cr.URL+"/users/ada/career-plan", map[string]string{"target_role": "backend-engineer"}, nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "skills_unavailable") {
			t.Fatalf("career-plan with skills hanging = %d %s, want 503 skills_unavailable", code, body)
		}
		last = body
	}
	if !strings.Contains(last, "deadline exceeded") && !strings.Contains(last, "circuit open") {
		t.Errorf("the error does not say the call timed out: %s", last)
	}
	code, body := call(t, http.MethodPost, cr.URL+"/users/ada/career-plan", map[string]string{"target_role": "backend-engineer"}, nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "circuit open") {
		t.Errorf("after five failures = %d %s, want the breaker open", code, body)
	}
	if code, _ := call(t, http.MethodGet, cr.URL+"/health/live", nil, nil); code != http.StatusOK {
		t.Errorf("/health/live = %d while skills is down, want 200", code)
	}
}
