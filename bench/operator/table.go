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
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

var methods = []string{"GET", "POST", "PATCH", "PUT", "DELETE"}

// errWriter keeps the first write error, so a table prints without a check per line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func printTable(out io.Writer, o options, r result) error {
	w := &errWriter{w: out}
	n := float64(r.N)
	op, b, st := r.Operator, r.Baseline, r.Steady
	args := o.managerArgs
	if args == "" {
		args = "(defaults)"
	}
	w.printf("\n### N = %d Microservices (chains of 10, 4 config keys, 1 replica each)\n\n", r.N)
	w.printf("manager flags: %s\n\n", args)
	w.printf("| figure | operator | baseline: bare client-go | ratio |\n")
	w.printf("|---|---:|---:|---:|\n")
	row := func(name, a, bl, ratio string) { w.printf("| %s | %s | %s | %s |\n", name, a, bl, ratio) }
	row("first create → all Ready (operator) / all Available (baseline)",
		secs(op.Elapsed), secs(b.Elapsed), ratio(op.Elapsed.Seconds(), b.Elapsed.Seconds()))
	row("throughput, services per second", f1(n/op.Elapsed.Seconds()), f1(n/b.Elapsed.Seconds()),
		ratio(n/op.Elapsed.Seconds(), n/b.Elapsed.Seconds()))
	row("API requests per service, all verbs", f2(total(op.Requests)/n), f2(total(b.Requests)/n),
		ratio(total(op.Requests), total(b.Requests)))
	for _, m := range methods {
		if op.Requests[m] == 0 && b.Requests[m] == 0 {
			continue
		}
		row("  "+m+" per service", f2(op.Requests[m]/n), f2(b.Requests[m]/n), ratio(op.Requests[m], b.Requests[m]))
	}
	row("reconciles per Microservice", f2(op.Reconciles/n), "–", "")
	row("reconcile p50 (baseline: one service's 3 creates)",
		ms(op.P50), ms(b.CreateP50.Seconds()), ratio(op.P50, b.CreateP50.Seconds()))
	row("reconcile p99 (baseline: one service's 3 creates)",
		ms(op.P99), ms(b.CreateP99.Seconds()), ratio(op.P99, b.CreateP99.Seconds()))
	row("peak RSS (VmHWM)", mib(op.Proc.PeakRSSKiB), mib(b.Proc.PeakRSSKiB),
		ratio(float64(op.Proc.PeakRSSKiB), float64(b.Proc.PeakRSSKiB)))
	row("CPU seconds (user+sys)", f1(op.Proc.CPUSeconds), f1(b.Proc.CPUSeconds),
		ratio(op.Proc.CPUSeconds, b.Proc.CPUSeconds))
	if len(op.ChildWrites) > 0 {
		row("child applies by outcome", outcomes(op.ChildWrites), fmt.Sprintf("created %d", 3*r.N), "")
	}
	if len(op.StatusWrites) > 0 {
		row("status patches by outcome", outcomes(op.StatusWrites), "–", "")
	}

	w.printf("\nsteady state: %s window, the manager restarted at its start (re-lists, reconciles all)\n\n",
		secs(st.Window))
	w.printf("| figure | measured | goal |\n")
	w.printf("|---|---:|---:|\n")
	sr := func(name, v, goal string) { w.printf("| %s | %s | %s |\n", name, v, goal) }
	sr("reconciles by the restarted manager", f0(st.ResyncReconciles), fmt.Sprintf("≥ %d", r.N))
	sr("restart → every Microservice reconciled", secs(st.ResyncDuration), "")
	sr("writes issued (POST/PUT/PATCH/DELETE)", verbs(st.Writes), "0")
	sr(fmt.Sprintf("resourceVersions moved, of %d objects", st.Objects), kinds(st.RVMoved), "0")
	sr("restarted manager's requests", verbs(st.Requests), "")
	sr("restarted manager: peak RSS / CPU seconds", mib(st.Proc.PeakRSSKiB)+" / "+f1(st.Proc.CPUSeconds), "")
	return w.err
}

func total(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

func verbs(m map[string]float64) string {
	if total(m) == 0 {
		return "0"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
		}
	}
	return fmt.Sprintf("%.0f (%s)", total(m), strings.Join(parts, ", "))
}

func outcomes(m map[string]float64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func kinds(m map[string]int) string {
	t := 0
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		t += m[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if t == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", t, strings.Join(parts, ", "))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
func f0(v float64) string         { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string         { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string         { return fmt.Sprintf("%.2f", v) }
func mib(kib int64) string        { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

func ms(s float64) string {
	if math.IsNaN(s) {
		return "–"
	}
	return fmt.Sprintf("%.1f ms", s*1000)
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
