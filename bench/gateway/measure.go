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
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// target is one URL under load, with the meter of the process that serves
// it (nil for the bench's own backends, which run in this process).
type target struct {
	name   string
	url    string
	meter  *meter
	calls  func() int64 // requests the backends behind url have served so far; nil: not counted
	script string       // the wrk script making the requests; "" for url again and again
	header string       // a header sent with every request ("Authorization: Bearer …"), or ""
	wide   bool         // wrk runs on both CPUs (the two-core table), not beside the bench
}

// usage is what a target's process and backends have used so far.
type usage struct {
	cpu   float64
	calls int64
}

func (t target) usage() (usage, error) {
	var u usage
	if t.meter != nil {
		var err error
		if u.cpu, err = t.meter.cpu(); err != nil {
			return usage{}, fmt.Errorf("CPU time: %w", err)
		}
	}
	if t.calls != nil {
		u.calls = t.calls()
	}
	return u, nil
}

// bench measures targets with wrk and keeps every target's runs by name and
// connection count, so a table can use figures another took in this run.
type bench struct {
	ctx    context.Context
	o      options
	w      *wrk
	stderr io.Writer
	runs   map[string][]result
}

func runKey(name string, conns int) string { return name + "@" + strconv.Itoa(conns) }

// results are name's runs at conns; nil when it was not measured.
func (b *bench) results(name string, conns int) []result { return b.runs[runKey(name, conns)] }

// fig is the medians of name's runs at conns.
func (b *bench) fig(name string, conns int) figures { return medians(b.results(name, conns)) }

// measure takes o.runs runs of each target not yet measured at conns,
// after one warm-up each.
func (b *bench) measure(ts []target, conns int) error {
	ts = slices.DeleteFunc(slices.Clone(ts), func(t target) bool { return b.results(t.name, conns) != nil })
	if b.o.warmup > 0 {
		for _, t := range ts {
			if _, err := b.w.run(t, conns, b.o.warmup); err != nil {
				return err
			}
		}
	}
	// Targets take turns within each run, so drift on the machine
	// touches them all alike.
	for i := range b.o.runs {
		for _, t := range ts {
			if err := b.ctx.Err(); err != nil {
				return err
			}
			r, err := b.w.run(t, conns, b.o.duration)
			if err != nil {
				return err
			}
			logf(b.stderr, "  c=%-3d run %d %-30s %9.0f req/s  p50 %8.3f ms  p99 %8.3f ms\n",
				conns, i+1, t.name, r.RPS(), r.P50US/1000, r.P99US/1000)
			key := runKey(t.name, conns)
			b.runs[key] = append(b.runs[key], r)
		}
	}
	return nil
}

// figures are the medians of one target's runs.
type figures struct {
	runs          int     // how many; 0: not measured, every figure 0
	rps, p50, p99 float64 // p50 and p99 in ms
	cpuPer10k     float64 // CPU seconds per 10,000 requests; 0 when not measured
	perCoreSecond float64 // requests per CPU second of the serving process; 0 when not measured
	rssMiB        float64 // peak resident memory during a run, MiB; 0 when not measured
	callsPer      float64 // backend requests per request; 0 when not counted
	bytesPerSec   float64 // response bytes wrk read per second, headers included
}

func medians(rs []result) figures {
	if len(rs) == 0 {
		return figures{}
	}
	med := func(f func(result) float64) float64 {
		v := make([]float64, 0, len(rs))
		for _, r := range rs {
			v = append(v, f(r))
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	per := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	return figures{
		runs: len(rs),
		rps:  med(result.RPS),
		p50:  med(func(r result) float64 { return r.P50US / 1000 }),
		p99:  med(func(r result) float64 { return r.P99US / 1000 }),
		cpuPer10k: med(func(r result) float64 {
			return r.CPU / float64(r.Requests) * 10_000
		}),
		perCoreSecond: med(func(r result) float64 { return per(float64(r.Requests), r.CPU) }),
		rssMiB:        med(func(r result) float64 { return float64(r.PeakRSS) / (1 << 20) }),
		callsPer:      med(func(r result) float64 { return float64(r.Calls) / float64(r.Requests) }),
		bytesPerSec:   med(func(r result) float64 { return float64(r.Bytes) / (float64(r.DurationUS) / 1e6) }),
	}
}

// peakRSS is the largest resident memory of name's runs at conns, in bytes.
func (b *bench) peakRSS(name string, conns int) int64 {
	var peak int64
	for _, r := range b.results(name, conns) {
		peak = max(peak, r.PeakRSS)
	}
	return peak
}
