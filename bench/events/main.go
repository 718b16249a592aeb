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

// Command events benchmarks the skills.assessed event path on loopback with
// real parts: a private redis-server (Debian's binary), skills and career
// started through their real Run with a SQLite database each, and HTTP.
//
//  1. Latency: assessments sent one at a time (POST /users/{id}/assess to
//     skills), each timed until career's API (GET /users/{id}/career-plan)
//     shows a plan whose based_on is that assessment's assessed_at; p50, p99
//     and max beside the raw Redis round trip (XADD then XREADGROUP of one
//     message by a bare go-redis client) measured in the same run.
//
//  2. Throughput and loss: 10,000 assessments by concurrent clients, waited
//     for until career has handled every one, then counted everywhere they
//     leave a trace (skills' database and outbox, the Redis stream and
//     career's consumer group, career's processed_events and the plans it
//     refreshed, each user's plan through the API). Any mismatch, or one
//     lost event, makes the program exit 1.
//
//     go run ./bench/events          # the full run (make bench-events)
//     go run ./bench/events -quick   # 100 latency samples, 1,000 assessments
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/skillmesh/skillmesh/internal/testutil/redisserver"
)

type options struct {
	samples      int
	warmup       int
	latencyUsers int
	poll         time.Duration
	n            int
	clients      int
	users        int
	drainTimeout time.Duration
	keep         bool
}

func main() {
	var o options
	var quick bool
	flag.IntVar(&o.samples, "samples", 500, "sequential events timed for the latency table")
	flag.IntVar(&o.warmup, "warmup", 50, "sequential events sent first and not timed")
	flag.IntVar(&o.latencyUsers, "latency-users", 50, "users the sequential events go to, in turn")
	flag.DurationVar(&o.poll, "poll", 500*time.Microsecond, "pause between two reads of career's API while waiting")
	flag.IntVar(&o.n, "n", 10_000, "assessments of the throughput and loss run")
	flag.IntVar(&o.clients, "clients", 8, "concurrent clients of the throughput run")
	flag.IntVar(&o.users, "users", 1000, "users of the throughput run (a plan each)")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 2*time.Minute,
		"how long after the last POST every event may take to be handled before the run fails")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases and service logs (their folder is printed)")
	flag.BoolVar(&quick, "quick", false, "quick mode: 100 samples after 10 warm-up, 1,000 assessments over 100 users")
	flag.Parse()
	if quick {
		o.samples, o.warmup, o.n, o.users = 100, 10, 1000, 100
	}
	if o.samples < 1 || o.n < 1 || o.clients < 1 || o.users < o.clients || o.latencyUsers < 1 {
		fmt.Fprintln(os.Stderr, "bench-events: want -samples, -n, -clients, -latency-users ≥ 1 and -users ≥ -clients")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-events: FAIL:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) (bool, error) {
	srv, err := redisserver.Start()
	if err != nil {
		if errors.Is(err, redisserver.ErrSkipped) {
			return false, err
		}
		return false, fmt.Errorf("%w (as root: apt-get install -y redis-server)", err)
	}
	defer srv.Stop()
	dir, err := os.MkdirTemp("", "skillmesh-bench-events-")
	if err != nil {
		return false, err
	}
	if o.keep {
		defer fmt.Fprintln(os.Stderr, "databases and service logs kept in", dir)
	} else {
		defer func() { _ = os.RemoveAll(dir) }()
	}
	urls := make([]string, 3)
	for i := range urls {
		if urls[i], err = dbURL(srv.URL, 11+i); err != nil {
			return false, err
		}
	}
	r := report{o: o, redisVer: redisVersion(), loadStart: loadAverage()}

	progress("Redis baselines on %s", urls[0])
	rtt, err := measureRedisRTT(ctx, urls[0], o.warmup, o.samples)
	if err != nil {
		return false, fmt.Errorf("redis round trip: %w", err)
	}
	if r.rtp, err = measureRedisThroughput(ctx, urls[0], o.n, o.clients); err != nil {
		return false, fmt.Errorf("redis throughput: %w", err)
	}

	progress("Latency: %d sequential assessments", o.warmup+o.samples)
	st, err := startStack(urls[1], filepath.Join(dir, "latency"))
	if err != nil {
		return false, err
	}
	r.lat, err = measureLatency(st, o)
	r.lat.redisRTT = rtt
	r.problems = append(r.problems, st.logProblems()...)
	if serr := st.stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return false, fmt.Errorf("latency: %w", err)
	}

	progress("Throughput: %d assessments by %d clients over %d users", o.n, o.clients, o.users)
	st, err = startStack(urls[2], filepath.Join(dir, "throughput"))
	if err != nil {
		return false, err
	}
	drainErr, err := runThroughput(ctx, st, o, &r)
	r.problems = append(r.problems, st.logProblems()...)
	if err != nil {
		_ = st.stop()
		return false, fmt.Errorf("throughput: %w", err)
	}
	ok := r.print(os.Stdout)
	if drainErr != nil {
		pln(os.Stdout, "FAIL:", drainErr)
		ok = false
	}
	return ok, nil
}

// runThroughput sends the assessments, waits for career, checks every plan
// through the API, stops the services and counts. A run whose events are not
// all handled in time is still counted (drainErr), so the table shows where
// they went missing.
func runThroughput(ctx context.Context, st *stack, o options, r *report) (drainErr, err error) {
	t, err := measureThroughput(ctx, st, o)
	if err != nil {
		return nil, err
	}
	rdb, err := redisClient(st.broker)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rdb.Close() }()
	if drainErr = waitDrained(ctx, rdb, o.n, o.drainTimeout); drainErr == nil {
		t.endToEnd = time.Since(t.started)
	}
	progress("Counting")
	c := &t.counts
	c.created = len(t.sent)
	if c.plansMatched, c.plansUsers, c.firstBadPlan, err = checkPlans(ctx, st, t.sent, o.clients); err != nil {
		return drainErr, err
	}
	if err := redisCounts(ctx, rdb, c); err != nil {
		return drainErr, err
	}
	// career's relay publishes the refreshed plans behind its consumer.
	if c.planUpdatesStream, err = waitPlanUpdates(ctx, rdb, int64(o.n+o.users), 30*time.Second); err != nil {
		return drainErr, err
	}
	if err := st.stop(); err != nil {
		return drainErr, err
	}
	outbox, processed, err := dbCounts(ctx, st, c)
	if err != nil {
		return drainErr, err
	}
	t.loaded = loadedFrom(t.sent, outbox, processed)
	r.thr = t
	return drainErr, nil
}
