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
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// printReport writes the tables in Markdown, so a run can be pasted into
// docs/performance/gateway.md as it is.
func printReport(out io.Writer, o options, proxyRuns map[int]map[string][]result, aggRuns map[string][]result) error {
	w := &strings.Builder{}
	fmt.Fprintf(w, "\n%s\n\n", setup(o))

	fmt.Fprintf(w, "Proxy: a small JSON answer (%d bytes) directly, through the gateway's route, through nginx\n",
		len(smallBody))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| conns | target | req/s | p50 | p99 | CPU s / 10k req |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|")
	for _, c := range o.conns {
		d, g, n := medians(proxyRuns[c]["direct"]), medians(proxyRuns[c]["gateway"]), medians(proxyRuns[c]["nginx"])
		fmt.Fprintf(w, "| %d | direct to the backend (baseline) | %s | %s | %s | – |\n", c, rps(d.rps), ms(d.p50), ms(d.p99))
		fmt.Fprintf(w, "| %d | nginx | %s | %s | %s | %.3f |\n", c, rps(n.rps), ms(n.p50), ms(n.p99), n.cpuPer10k)
		fmt.Fprintf(w, "| %d | skillmesh gateway | %s | %s | %s | %.3f |\n", c, rps(g.rps), ms(g.p50), ms(g.p99), g.cpuPer10k)
		fmt.Fprintf(w, "| %d | **gateway / direct** | %s | %s | %s | – |\n",
			c, ratio(g.rps, d.rps), ratio(g.p50, d.p50), ratio(g.p99, d.p99))
		fmt.Fprintf(w, "| %d | **gateway / nginx** | %s | %s | %s | %s |\n",
			c, ratio(g.rps, n.rps), ratio(g.p50, n.p50), ratio(g.p99, n.p99), ratio(g.cpuPer10k, n.cpuPer10k))
		if rs, ok := proxyRuns[c][compareName]; ok {
			x := medians(rs)
			fmt.Fprintf(w, "| %d | -compare gateway | %s | %s | %s | %.3f |\n", c, rps(x.rps), ms(x.p50), ms(x.p99), x.cpuPer10k)
			fmt.Fprintf(w, "| %d | **gateway / -compare gateway** | %s | %s | %s | %s |\n",
				c, ratio(g.rps, x.rps), ratio(g.p50, x.p50), ratio(g.p99, x.p99), ratio(g.cpuPer10k, x.cpuPer10k))
		}
	}

	b, a := medians(aggRuns["one 20 ms backend"]), medians(aggRuns["dashboard"])
	delay := float64(backendDelay.Milliseconds())
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Aggregation: the sample dashboard over 3 backends that each take %s, %d connections\n",
		backendDelay, o.aggConns)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | req/s | p50 | p99 | p50 − 20 ms | p99 − 20 ms | CPU s / 10k req |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| one 20 ms backend, direct (baseline) | %s | %s | %s | %s | %s | – |\n",
		rps(b.rps), ms(b.p50), ms(b.p99), ms(b.p50-delay), ms(b.p99-delay))
	fmt.Fprintf(w, "| dashboard through the gateway (3 calls in parallel, CEL) | %s | %s | %s | %s | %s | %.3f |\n",
		rps(a.rps), ms(a.p50), ms(a.p99), ms(a.p50-delay), ms(a.p99-delay), a.cpuPer10k)
	fmt.Fprintf(w, "| **gateway's overhead over the baseline** | %s | %s | %s | – | – | – |\n",
		ratio(a.rps, b.rps), ms(a.p50-b.p50), ms(a.p99-b.p99))
	if rs, ok := aggRuns[compareName]; ok {
		x := medians(rs)
		fmt.Fprintf(w, "| dashboard through the -compare gateway | %s | %s | %s | %s | %s | %.3f |\n",
			rps(x.rps), ms(x.p50), ms(x.p99), ms(x.p50-delay), ms(x.p99-delay), x.cpuPer10k)
		fmt.Fprintf(w, "| **gateway / -compare gateway** | %s | %s | %s | – | – | %s |\n",
			ratio(a.rps, x.rps), ratio(a.p50, x.p50), ratio(a.p99, x.p99), ratio(a.cpuPer10k, x.cpuPer10k))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Figures are medians of the runs; ratios compare medians taken in this same run.")
	_, err := io.WriteString(out, w.String())
	return err
}

// setup says what ran where, so a table is never read without its context.
func setup(o options) string {
	lines := []string{
		fmt.Sprintf("Setup: %d CPUs (%s), %s; %s; %s.", runtime.NumCPU(), cpuModel(), runtime.Version(),
			firstLine("nginx", "-v"), firstLine("wrk", "-v")),
		fmt.Sprintf("Load: wrk, 1 thread, fixed connections, %s per run, %d run(s) per figure, %s warm-up; loopback.",
			o.duration, o.runs, o.warmup),
		"Fairness: nginx worker_processes 1 (keepalive 128 upstream connections); gateway GOMAXPROCS=1 " +
			"(skillmesh-svc gateway, a separate process); both log one line per request to a file.",
		"CPU: utime+stime from /proc/<pid>/stat over each run (nginx: master + worker).",
	}
	if o.compare != "" {
		lines = append(lines, "Compare: -compare "+o.compare+" ran beside the gateway (GOMAXPROCS=1 too), "+
			"taking its turn in every run.")
	}
	if o.cpuprofile != "" {
		lines = append(lines,
			"Profiling: the gateway ran under a CPU profile (this binary re-executed), not as skillmesh-svc.")
	}
	return "- " + strings.Join(lines, "\n- ")
}

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

// firstLine is the first line a program prints for its version.
func firstLine(name string, args ...string) string {
	bin, err := exec.LookPath(name)
	if err != nil {
		bin = "/usr/sbin/" + name
	}
	out, _ := exec.Command(bin, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimPrefix(line, "nginx version: ")
}

func rps(v float64) string { return fmt.Sprintf("%.0f", v) }

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
