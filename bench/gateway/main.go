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

// Command gateway benchmarks the bundled gateway on loopback with wrk:
// a small JSON backend hit directly, through the gateway's route and
// through nginx as a reverse proxy; the sample dashboard aggregation over
// three backends that each take 20 ms; and the CPU time the gateway and
// nginx spend per 10,000 requests. Each figure is printed beside a baseline
// measured in the same run, as a ratio.
//
//	go run ./bench/gateway            # the full run (about 4 minutes)
//	go run ./bench/gateway -short     # a quick look (about 30 s)
//	go run ./bench/gateway -short -cpuprofile /tmp/gw.pprof   # profile the gateway
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// compareName names the -compare gateway's figures.
const compareName = "compare"

// backendDelay is how long each dashboard backend takes.
const backendDelay = 20 * time.Millisecond

type options struct {
	duration   time.Duration
	warmup     time.Duration
	runs       int
	conns      []int
	aggConns   int
	cpuprofile string
	compare    string
}

func main() {
	var o options
	var conns string
	var short, gatewayChild bool
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before the runs of each connection count")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per figure; the median is reported")
	flag.StringVar(&conns, "conns", "16,64", "connection counts for the proxy comparison, comma-separated")
	flag.IntVar(&o.aggConns, "agg-conns", 32, "connections for the dashboard aggregation")
	flag.BoolVar(&short, "short", false, "quick mode: 2 s runs, 1 run, 1 s warm-up")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "",
		"write a CPU profile of the gateway to this file (the gateway then runs as this binary re-executed)")
	flag.StringVar(&o.compare, "compare", "",
		"another skillmesh-svc binary (say, built from an older commit) run beside the gateway and measured in the same runs")
	flag.BoolVar(&gatewayChild, "gateway-child", false, "internal: run as the profiled gateway")
	flag.Parse()

	if gatewayChild {
		if err := runGatewayChild(o.cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "gateway child:", err)
			os.Exit(1)
		}
		return
	}
	if short {
		o.duration, o.warmup, o.runs = 2*time.Second, time.Second, 1
	}
	for c := range strings.SplitSeq(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench-gateway: -conns: %q is not a connection count\n", c)
			os.Exit(2)
		}
		o.conns = append(o.conns, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gateway:", err)
		os.Exit(1)
	}
}

// target is one URL under load, with the CPU counter of the process that
// serves it (nil for the backend itself, which runs in this process).
type target struct {
	name string
	url  string
	cpu  func() (float64, error)
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	nginxBin, err := tool("nginx", "nginx-light", "/usr/sbin/nginx")
	if err != nil {
		return err
	}
	wrkBin, err := tool("wrk", "wrk")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-gateway-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	small, err := startBackend(smallBody, 0)
	if err != nil {
		return err
	}
	defer small.Close()
	dash := map[string]string{}
	for key, body := range dashboardBodies {
		b, err := startBackend(body, backendDelay)
		if err != nil {
			return err
		}
		defer b.Close()
		dash[key] = b.URL
	}

	bin := ""
	if o.cpuprofile == "" {
		logf(stderr, "building skillmesh-svc …\n")
		if bin, err = buildGateway(dir); err != nil {
			return err
		}
	}
	cfg := gatewayConfig(small.URL, dash)
	gw, gwURL, err := startGateway(dir, bin, cfg, o.cpuprofile)
	if err != nil {
		return err
	}
	defer gw.Stop()
	ng, ngURL, err := startNginx(nginxBin, dir, small.URL)
	if err != nil {
		return err
	}
	defer ng.Stop()

	gwCPU := func() (float64, error) { return cpuSeconds(gw.Pid()) }
	ngCPU := func() (float64, error) { return treeCPUSeconds(ng.Pid()) }
	const path = "/users/ada/profile"
	proxies := []target{
		{name: "direct", url: small.URL + path},
		{name: "gateway", url: gwURL + proxyPrefix + path, cpu: gwCPU},
		{name: "nginx", url: ngURL + proxyPrefix + path, cpu: ngCPU},
	}
	aggs := []target{
		{name: "one 20 ms backend", url: dash[keySkills] + "/users/ada/skills"},
		{name: "dashboard", url: gwURL + "/users/ada/dashboard", cpu: gwCPU},
	}
	if o.compare != "" {
		cdir := filepath.Join(dir, "compare")
		if err := os.Mkdir(cdir, 0o700); err != nil {
			return err
		}
		cg, cgURL, err := startGateway(cdir, o.compare, cfg, "")
		if err != nil {
			return fmt.Errorf("-compare: %w", err)
		}
		defer cg.Stop()
		cgCPU := func() (float64, error) { return cpuSeconds(cg.Pid()) }
		proxies = append(proxies, target{name: compareName, url: cgURL + proxyPrefix + path, cpu: cgCPU})
		aggs = append(aggs, target{name: compareName, url: cgURL + "/users/ada/dashboard", cpu: cgCPU})
	}
	if err := checkAnswers(proxies, aggs[1:]); err != nil {
		return err
	}
	w, err := newWrk(wrkBin, dir)
	if err != nil {
		return err
	}

	measure := func(ts []target, conns int) (map[string][]result, error) {
		out := map[string][]result{}
		for _, t := range ts {
			if o.warmup > 0 {
				if _, err := w.run(t.url, conns, o.warmup, nil); err != nil {
					return nil, err
				}
			}
		}
		// Targets take turns within each run, so drift on the machine
		// touches them all alike.
		for i := range o.runs {
			for _, t := range ts {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				r, err := w.run(t.url, conns, o.duration, t.cpu)
				if err != nil {
					return nil, err
				}
				logf(stderr, "  c=%-3d run %d %-18s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms\n",
					conns, i+1, t.name, r.RPS(), r.P50US/1000, r.P99US/1000)
				out[t.name] = append(out[t.name], r)
			}
		}
		return out, nil
	}

	proxyRuns := map[int]map[string][]result{}
	for _, c := range o.conns {
		if proxyRuns[c], err = measure(proxies, c); err != nil {
			return err
		}
	}
	aggRuns, err := measure(aggs, o.aggConns)
	if err != nil {
		return err
	}
	return printReport(stdout, o, proxyRuns, aggRuns)
}

// logf writes progress; a progress line that cannot be written is no
// reason to stop measuring.
func logf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}

// checkAnswers makes sure every target answers what it should before any
// figure is taken: a fast wrong answer would look like a good result.
func checkAnswers(proxies, dashboards []target) error {
	for _, t := range proxies {
		body, err := get(t.url)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if body != smallBody {
			return fmt.Errorf("%s answered %q, want the backend's body", t.name, body)
		}
	}
	for _, t := range dashboards {
		body, err := get(t.url)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			return fmt.Errorf("%s: %w: %s", t.name, err, body)
		}
		if d["total_skills"] != float64(2) || d["gaps_remaining"] != float64(2) || d["_errors"] != nil {
			return fmt.Errorf("%s answered %s", t.name, body)
		}
	}
	return nil
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status + ": " + string(raw))
	}
	return string(raw), nil
}

// figures are the medians of one target's runs.
type figures struct {
	rps, p50, p99 float64 // p50 and p99 in ms
	cpuPer10k     float64 // CPU seconds per 10,000 requests; 0 when not measured
}

func medians(rs []result) figures {
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
	return figures{
		rps: med(result.RPS),
		p50: med(func(r result) float64 { return r.P50US / 1000 }),
		p99: med(func(r result) float64 { return r.P99US / 1000 }),
		cpuPer10k: med(func(r result) float64 {
			return r.CPU / float64(r.Requests) * 10_000
		}),
	}
}
