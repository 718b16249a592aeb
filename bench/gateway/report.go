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

	"github.com/skillmesh/skillmesh/internal/devauth"
)

// printReport writes the tables in Markdown, so a run can be pasted into
// docs/performance/gateway.md as it is.
func printReport(out io.Writer, b *bench, r *rig, f facts) error {
	w := &strings.Builder{}
	fmt.Fprintf(w, "\n%s\n", setup(r))
	proxyTable(w, b, r)
	twoCoreTable(w, b, r)
	edgeTable(w, b, r)
	saturationTable(w, b, r)
	halfTable(w, b, r, f)
	bigTable(w, b, r, f)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Figures are medians of the runs; ratios compare medians taken in this same run.")
	_, err := io.WriteString(out, w.String())
	return err
}

// setup says what ran where, so a table is never read without its context.
func setup(r *rig) string {
	o := r.o
	lines := []string{
		fmt.Sprintf("Setup: %s (%s), %s; %s; %s.", plural(r.pin.cpus, "CPU"), cpuModel(), runtime.Version(),
			firstLine(r.nginxBin, "-v"), firstLine(r.wrkBin, "-v")),
		r.pin.describe(),
		fmt.Sprintf("Load: wrk, 1 thread, a fixed number of connections (a closed loop), %s per run, "+
			"%d run(s) per figure, %s warm-up once per target and connection count; loopback.",
			o.duration, o.runs, o.warmup),
		"Fairness: gateway GOMAXPROCS=1 (skillmesh-svc gateway, a separate process); nginx worker_processes 1, " +
			"keepalive 128 idle upstream connections per worker; both log one line per request to a file. " +
			twoCoreSetup(r.pin),
		"Floor: this bench binary re-executed (-floor-child), GOMAXPROCS=1 on the gateway's CPU, as a bare " +
			"net/http server (no log, no metrics, no routing) whose one handler sends every request to the small " +
			"backend through one shared upstream.Transport, the gateway's own client (" + floorTimeout.String() +
			" timeout), and copies the answer back. It measures the Go floor on this machine: what Go's net/http " +
			"server, runtime and the gateway's client cost with nothing else, so gateway / floor is what the " +
			"gateway's own features cost and floor / nginx what Go costs against nginx.",
		"CPU: utime+stime from /proc/<pid>/stat over each run (nginx: master + workers). " +
			"RSS: VmRSS from /proc/<pid>/status sampled every 100 ms during each run, the peak kept " +
			"(nginx: the sum over master + workers); the table gives the median of the runs' peaks.",
		fmt.Sprintf("Aggregation load: the dashboard's requests go round-robin over %s users (u0 … u%d, "+
			"/users/<id>/dashboard), except the one-user rows (every request for %s); "+
			"sub-calls are the requests the three backends served during a run, per aggregation completed.",
			thousands(userCount), userCount-1, oneUser),
		fmt.Sprintf("Edge on: a JWT (ES256, internal/devauth keys, issuer %s, audience %s) required on the route "+
			"and the aggregations, the path's user the token's subject (each of the %s users its own token), "+
			"and a rate limit of %.0f req/s, burst %.0f, per client (never reached: a 429 would fail the run).",
			devauth.Issuer, devauth.Audience, thousands(userCount), edgeRate, edgeRate),
		"Large bodies: JSON arrays of strings, sent with Content-Length; nginx buffers them as it does by default " +
			"(proxy_buffering on: memory, then a temp file).",
	}
	if o.compare != "" {
		lines = append(lines, "Compare: -compare "+o.compare+" ran beside the gateway (the same GOMAXPROCS and CPUs), "+
			"taking its turn in every run.")
	}
	if o.cpuprofile != "" {
		lines = append(lines,
			"Profiling: the gateway ran under a CPU profile (this binary re-executed), not as skillmesh-svc.")
	}
	return "- " + strings.Join(lines, "\n- ")
}

// twoCoreSetup says where the two-core table's processes ran.
func twoCoreSetup(p pinning) string {
	const procs = "Two-core table: gateway GOMAXPROCS=2, nginx worker_processes 2"
	if !p.on() {
		return procs + ", unpinned like everything else."
	}
	return fmt.Sprintf("%s, on CPUs %s (taskset -c %s), wrk too; the backends stay on CPU %d with the bench.",
		procs, p.bothCPUs(), p.bothCPUs(), p.load)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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
func firstLine(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimPrefix(line, "nginx version: ")
}

func rps(v float64) string { return fmt.Sprintf("%.0f", v) }

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

// msDelta is a difference of latencies, signed.
func msDelta(v float64) string { return fmt.Sprintf("%+.2f ms", v) }

func mib(v float64) string { return fmt.Sprintf("%.1f MiB", v) }

func cpu10k(v float64) string { return fmt.Sprintf("%.3f", v) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
