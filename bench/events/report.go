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
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// dist summarises durations.
type dist struct {
	n             int
	p50, p99, max time.Duration
}

func summarise(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return dist{n: len(s), p50: rank(s, 0.50), p99: rank(s, 0.99), max: s[len(s)-1]}
}

// rank is the nearest-rank percentile of sorted s.
func rank(s []time.Duration, p float64) time.Duration {
	i := max(int(math.Ceil(p*float64(len(s))))-1, 0)
	return s[i]
}

func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// report is everything one run measured.
type report struct {
	o        options
	redisVer string
	// loadStart is /proc/loadavg's 1-minute figure when the run began.
	loadStart string
	lat       latencyResult
	rtp       redisThroughput
	thr       throughputResult
	problems  []string
}

// print writes the tables in Markdown, so a run can be pasted into
// docs/performance/events.md as it is.
func (r report) print(w io.Writer) (ok bool) {
	o := r.o
	pf(w, "\nSetup: %d CPUs (%s), %s, %s; SQLite (modernc, WAL) per service; loopback;"+
		" load average at start %s, at end %s (other work on the machine shows here).\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), r.redisVer, r.loadStart, loadAverage())
	pln(w, "skills and career run in this process through their real Run (as services/stack's tests do),"+
		" with default settings (outbox relay woken on commit, one consumer reading batches of 16);"+
		" the bench's clients share the CPUs with them.")

	rtt := summarise(r.lat.redisRTT)
	pf(w, "\nLatency, one event in flight: %d events after %d warm-up, %d users with a plan, "+
		"career's API polled every %s\n\n", o.samples, o.warmup, o.latencyUsers, o.poll)
	pln(w, "| path | p50 | p99 | max | p50 ÷ Redis | p99 ÷ Redis |")
	pln(w, "|---|---:|---:|---:|---:|---:|")
	row := func(name string, d dist) {
		pf(w, "| %s | %s | %s | %s | %s | %s |\n", name, ms(d.p50), ms(d.p99), ms(d.max),
			ratio(d.p50.Seconds(), rtt.p50.Seconds()), ratio(d.p99.Seconds(), rtt.p99.Seconds()))
	}
	row("Redis: XADD then XREADGROUP of it, bare go-redis client (baseline)", rtt)
	row("skills: POST /users/{id}/assess answered", summarise(r.lat.post))
	row("career: GET /users/{id}/career-plan answered, nothing in flight", summarise(r.lat.getPlan))
	row("**skills.assessed → plan refreshed**: POST sent → GET shows based_on = assessed_at", summarise(r.lat.endToEnd))
	row("… the same, from the POST's answer", summarise(r.lat.afterPost))
	pf(w, "\nGETs per event until the refreshed plan showed: median %d.\n", medianInt(r.lat.polls))

	t := r.thr
	pf(w, "\nThroughput: %d assessments by %d concurrent clients over %d users (each client its own users, in turn),"+
		" until career has handled and acknowledged every one\n\n", t.n, t.clients, t.users)
	pln(w, "| run | events | wall time | events/s | ÷ Redis alone |")
	pln(w, "|---|---:|---:|---:|---:|")
	base := rate(r.rtp.delivered, r.rtp.elapsed)
	pf(w, "| Redis alone: %d producers XADD, one group consumer XREADGROUP COUNT 16 + XACK each (baseline)"+
		" | %d | %s | %.0f | 1.00× |\n",
		r.rtp.producers, r.rtp.delivered, secs(r.rtp.elapsed), base)
	pf(w, "| skills: every POST /assess answered | %d | %s | %.0f | %s |\n",
		len(t.sent), secs(t.posting), rate(len(t.sent), t.posting), ratio(rate(len(t.sent), t.posting), base))
	pf(w, "| **end to end: every event handled by career and acknowledged** | %d | %s | %.0f | %s |\n",
		t.n, secs(t.endToEnd), rate(t.n, t.endToEnd), ratio(rate(t.n, t.endToEnd), base))

	pf(w, "\nEach event's way under that load, from its POST being sent (services' own timestamps)\n\n")
	pln(w, "| point reached | events | p50 | p99 | max | p50 ÷ Redis | p99 ÷ Redis |")
	pln(w, "|---|---:|---:|---:|---:|---:|---:|")
	lrow := func(name string, d dist) {
		pf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", name, d.n, ms(d.p50), ms(d.p99), ms(d.max),
			ratio(d.p50.Seconds(), rtt.p50.Seconds()), ratio(d.p99.Seconds(), rtt.p99.Seconds()))
	}
	lrow("POST /assess answered", summarise(t.loaded.post))
	lrow("in Redis: skills' relay published it (outbox.published_at)", summarise(t.loaded.published))
	lrow("career's handler took it (processed_events.processed_at)", summarise(t.loaded.handled))

	pf(w, "\nLoss check after the %d assessments\n\n", t.n)
	pln(w, "| count | got | want | |")
	pln(w, "|---|---:|---:|---|")
	ok = true
	for _, c := range t.counts.checks(t.n, t.users) {
		mark := "ok"
		if !c.ok() {
			mark, ok = "**MISMATCH**", false
		}
		pf(w, "| %s | %d | %d | %s |\n", c.what, c.got, c.want, mark)
	}
	if t.counts.firstBadPlan != "" {
		pf(w, "\nFirst stale plan: %s\n", t.counts.firstBadPlan)
	}
	if len(r.problems) > 0 {
		pf(w, "\nThe services logged %d warning(s) or error(s); the first ones:\n", len(r.problems))
		for _, p := range r.problems[:min(len(r.problems), 10)] {
			pln(w, "    "+p)
		}
	} else {
		pln(w, "\nThe services logged no warning and no error.")
	}
	if ok {
		pf(w, "\nlost = %d, duplicated = %d: every assessment reached career's plan exactly once.\n",
			t.counts.lost, t.counts.streamLen-int64(t.counts.streamDistinct))
	} else {
		pf(w, "\nFAIL: lost = %d; the counts above do not match.\n", t.counts.lost)
	}
	return ok
}

// pf and pln print to the report; a failed write to stdout has nowhere to
// be reported.
func pf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func pln(w io.Writer, args ...any) { _, _ = fmt.Fprintln(w, args...) }

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// loadAverage is the 1-minute load average, "?" where /proc has none.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// redisVersion is redis-server's own version line, shortened.
func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "redis-server (version unknown)"
	}
	for f := range strings.FieldsSeq(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return "redis-server " + v
		}
	}
	return strings.TrimSpace(string(out))
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
