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

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/settings"
	"github.com/skillmesh/skillmesh/services/skills"
)

type runFunc func(ctx context.Context, src settings.Source, stderr io.Writer, ln net.Listener) error

// service is one service running in this process through its real Run, as
// services/stack's tests start them, on a loopback port.
type service struct {
	name    string
	url     string
	logPath string
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// stack is skills and career over one Redis database, a SQLite file each.
type stack struct {
	broker   string // redis://…/<db>
	dir      string
	skills   *service
	career   *service
	services []*service
}

// startStack starts skills, then career (which calls skills), on broker.
// Settings are the defaults the operator would leave, apart from logs at
// warn and no drain delay.
func startStack(broker, dir string) (*stack, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	s := &stack{broker: broker, dir: dir}
	sk, err := startService("skills", skills.Run, s.env("skills", nil), dir)
	if err != nil {
		return nil, err
	}
	s.skills = sk
	s.services = append(s.services, sk)
	cr, err := startService("career", career.Run, s.env("career", map[string]string{"SKILLS_URL": sk.url}), dir)
	if err != nil {
		_ = s.stop()
		return nil, err
	}
	s.career = cr
	s.services = append(s.services, cr)
	return s, nil
}

func (s *stack) dbPath(name string) string { return filepath.Join(s.dir, name+".db") }

func (s *stack) env(name string, extra map[string]string) map[string]string {
	prefix := strings.ToUpper(name) + "_"
	e := map[string]string{
		"DATABASE_URL":         "sqlite://" + s.dbPath(name),
		"BROKER_URL":           s.broker,
		prefix + "DRAIN_DELAY": "0s",
		prefix + "LOG_LEVEL":   "warn",
		// One consumer per group, as one replica would be.
		prefix + "CONSUMER_NAME": name + "-0",
	}
	switch name {
	case "skills":
		e["EVENTS_PUBLISHES"] = skills.TopicAssessed
	case "career":
		e["EVENTS_PUBLISHES"] = career.TopicPlanUpdated
		e["EVENTS_SUBSCRIBES"] = skills.TopicAssessed
	}
	maps.Copy(e, extra)
	return e
}

// stop stops every service and returns the first error a Run returned.
func (s *stack) stop() error {
	var first error
	for _, svc := range slices.Backward(s.services) {
		if err := svc.stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// logProblems returns the warnings and errors the services logged.
func (s *stack) logProblems() []string {
	var out []string
	for _, svc := range s.services {
		f, err := os.Open(svc.logPath)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				out = append(out, svc.name+": "+line)
			}
		}
		_ = f.Close()
	}
	return out
}

func startService(name string, run runFunc, env map[string]string, dir string) (*service, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{name: name, url: "http://" + ln.Addr().String(), logPath: logPath,
		cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, settings.FromMap(env), logFile, ln)
		_ = logFile.Close()
		s.done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-s.done:
			s.stopped = true
			return nil, fmt.Errorf("%s exited while starting: %w", name, err)
		default:
		}
		if code, _, _ := call(http.MethodGet, s.url+"/health/ready", nil, nil); code == http.StatusOK {
			return s, nil
		}
		if time.Now().After(deadline) {
			_ = s.stop()
			return nil, fmt.Errorf("%s not ready within 30s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *service) stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	s.cancel()
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s did not stop within 30s", s.name)
	}
}

// httpClient keeps connections alive: every client of the bench reuses its
// own, as a service's client would.
var httpClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	},
}

// call speaks JSON over HTTP; out is filled on a 2xx answer.
func call(method, url string, body, out any) (int, string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, string(raw), fmt.Errorf("decode %s %s: %w", method, url, err)
		}
	}
	return resp.StatusCode, string(raw), nil
}

// expect is call that wants one status.
func expect(method, url string, want int, body, out any) error {
	code, raw, err := call(method, url, body, out)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("%s %s = %d %s, want %d", method, url, code, strings.TrimSpace(raw), want)
	}
	return nil
}

// assess asks skills for an assessment of cv.
func assess(st *stack, user string, cv skills.CV) (skills.Assessment, error) {
	var a skills.Assessment
	err := expect(http.MethodPost, st.skills.url+"/users/"+user+"/assess", http.StatusCreated, cv, &a)
	return a, err
}

// makePlan gives user a career plan towards role.
func makePlan(st *stack, user, role string) error {
	return expect(http.MethodPost, st.career.url+"/users/"+user+"/career-plan", http.StatusOK,
		map[string]string{"target_role": role}, nil)
}

// plan reads user's plan through career's API.
func plan(st *stack, user string) (career.Plan, error) {
	var p career.Plan
	err := expect(http.MethodGet, st.career.url+"/users/"+user+"/career-plan", http.StatusOK, nil, &p)
	return p, err
}

// redisClient is a bare client of url.
func redisClient(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opts), nil
}

// dbURL is the server's URL with another database number, so each phase's
// streams and groups start empty.
func dbURL(serverURL string, db int) (string, error) {
	i := strings.LastIndex(serverURL, "/")
	if i < len("redis://") {
		return "", errors.New("redis URL has no database path: " + serverURL)
	}
	return fmt.Sprintf("%s/%d", serverURL[:i], db), nil
}

// The CVs the bench sends, in turn: real text for the taxonomy to read.
var cvs = []skills.CV{
	{
		Summary: "Backend engineer.",
		Experience: []skills.Experience{{Title: "Senior Engineer", Company: "Acme", Years: 6,
			Description: "Go microservices, REST API design, PostgreSQL, Docker."}},
		Skills: []string{"golang", "postgres"},
	},
	{
		Summary:    "Junior developer.",
		Experience: []skills.Experience{{Title: "Developer", Company: "Acme", Years: 1, Description: "Go and Docker."}},
	},
}

const targetRole = "backend-engineer"
