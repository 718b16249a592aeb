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
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/skills"
)

// brokerLink is a loopback TCP relay in front of the real Redis that can be
// taken down (every connection cut, the port refusing) and brought back on
// the same address, as a Redis pod that goes away and returns behind its
// Service does.
type brokerLink struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newBrokerLink(t *testing.T, target string) *brokerLink {
	l := &brokerLink{t: t, target: target}
	l.up()
	l.addr = l.ln.Addr().String()
	t.Cleanup(l.down)
	return l
}

func (l *brokerLink) up() {
	addr := "127.0.0.1:0"
	if l.addr != "" {
		addr = l.addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.ln = ln
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", l.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, c, s)
			l.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		}
	}()
}

func (l *brokerLink) down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		_ = l.ln.Close()
		l.ln = nil
	}
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

func healthReport(t *testing.T, url string) (int, health.Report) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, health.Report{}
	}
	defer func() { _ = resp.Body.Close() }()
	var rep health.Report
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	return resp.StatusCode, rep
}

func TestBroker_outage_is_not_an_outage(t *testing.T) {
	const users = 6
	redisAddr := strings.TrimPrefix(redisSrv.URL, "redis://")
	redisAddr = redisAddr[:strings.Index(redisAddr, "/")]
	link := newBrokerLink(t, redisAddr)
	broker := fmt.Sprintf("redis://%s/%d", link.addr, 1+dbIndex.Add(1)%15)

	sk := start(t, skills.Run, env(t, "skills", broker, nil))
	cr := start(t, career.Run, env(t, "career", broker, map[string]string{"SKILLS_URL": sk.URL}))
	ln := start(t, learning.Run, env(t, "learning", broker, nil))
	for i := range users {
		if code, body := call(t, http.MethodPost, fmt.Sprintf("%s/users/u%d/career-plan", cr.URL, i),
			map[string]string{"target_role": "platform-engineer"}, nil); code != 200 {
			t.Fatalf("career-plan = %d %s", code, body)
		}
	}

	link.down()
	for _, s := range []struct{ name, url string }{{"skills", sk.URL}, {"career", cr.URL}, {"learning", ln.URL}} {
		eventually(t, s.name+"'s /health to warn about the broker", func() bool {
			code, rep := healthReport(t, s.url+"/health")
			return code == http.StatusOK && rep.Status == health.StatusWarn && rep.Checks["broker"].Status == health.StatusWarn
		})
		if code, rep := healthReport(t, s.url+"/health/ready"); code != http.StatusOK || rep.Status != health.StatusPass {
			t.Errorf("%s /health/ready = %d %+v while the broker is down, want 200 pass", s.name, code, rep)
		}
	}

	// Writes answer and their events wait; reads answer.
	assessedAt := map[string]time.Time{}
	for i := range users {
		var a skills.Assessment
		if code, body := call(t, http.MethodPost, fmt.Sprintf("%s/users/u%d/assess", sk.URL, i), seniorCV, &a); code != http.StatusCreated {
			t.Fatalf("assess while the broker is down = %d %s", code, body)
		}
		assessedAt[a.UserID] = a.AssessedAt
		if code, body := call(t, http.MethodGet, fmt.Sprintf("%s/users/u%d/career-plan", cr.URL, i), nil, nil); code != 200 {
			t.Errorf("career-plan read while the broker is down = %d %s", code, body)
		}
	}
	code, rep := healthReport(t, sk.URL+"/health")
	if b := rep.Checks["broker"]; code != http.StatusOK || b.ObservedValue != float64(users) {
		t.Errorf("skills /health = %d %+v, want the broker warning with %d events waiting in the outbox", code, rep, users)
	}
	if n := refreshed(t, cr.URL, assessedAt); n != 0 {
		t.Fatalf("%d plans refreshed with no broker", n)
	}

	// The broker returns: the outbox drains, consumers reconnect and resume.
	link.up()
	eventually(t, "every plan to be refreshed once the broker is back", func() bool { return refreshed(t, cr.URL, assessedAt) == users })
	eventually(t, "learning to hear of every refreshed plan", func() bool {
		for i := range users {
			var p career.Plan
			var rec learning.Recommendations
			call(t, http.MethodGet, fmt.Sprintf("%s/users/u%d/career-plan", cr.URL, i), nil, &p)
			if code, _ := call(t, http.MethodGet, fmt.Sprintf("%s/users/u%d/recommendations", ln.URL, i), nil, &rec); code != 200 || !rec.PlanUpdatedAt.Equal(p.UpdatedAt) {
				return false
			}
		}
		return true
	})
	eventually(t, "skills' /health to pass with an empty outbox", func() bool {
		code, rep := healthReport(t, sk.URL+"/health")
		b := rep.Checks["broker"]
		return code == http.StatusOK && rep.Status == health.StatusPass && b.ObservedValue == 0.0
	})
}
