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

// Command gateway benchmarks the bundled gateway on loopback with wrk,
// against the backend hit directly and nginx as a reverse proxy, under one
// fairness rule: the proxies under test get one core each (gateway
// GOMAXPROCS=1, nginx worker_processes 1), pinned to CPU 0, and wrk and this
// process (which hosts the backends) run on CPU 1. In one run it prints:
//
//   - the proxy comparison at 16, 64 and 256 connections, with CPU and peak
//     resident memory per proxy, and the goals against nginx and direct;
//     beside them the floor, the cheapest Go proxy built from the gateway's
//     pieces (a bare net/http server and its upstream client), which splits
//     the gateway's gap to nginx into what Go costs and what its features do;
//   - the same at two cores (GOMAXPROCS=2, worker_processes 2, unpinned);
//   - the cost of the edge features (JWT auth and a rate limit) on a route
//     and on the dashboard;
//   - the dashboard aggregation at saturation over 1,000 users and over one
//     (what coalescing saves), and its overhead at half saturation over
//     backends that each take 20 ms;
//   - large answers (256 KiB and 10 MiB): throughput, and whether the
//     gateway streams them (its memory stays flat).
//
// Each figure is the median of -runs runs, printed beside a baseline
// measured in the same run, as a ratio. -compare runs an older build of
// skillmesh-svc beside the gateway in every table.
//
//	go run ./bench/gateway            # the full run (about 16 minutes; 22 with -compare)
//	go run ./bench/gateway -short     # a quick look (about 1.5 minutes; 2 with -compare)
//	go run ./bench/gateway -short -cpuprofile /tmp/gw.pprof   # profile the gateway
//	go run ./bench/gateway -compare /tmp/old/skillmesh-svc    # before and after, one run
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

// backendDelay is how long each slow dashboard backend takes.
const backendDelay = 20 * time.Millisecond

// refConns is the connection count of the edge and two-core tables and of
// the memory goal: a busy but not overloaded gateway.
const refConns = 64

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
	var short, gatewayChild, floorChild bool
	var floorPort int
	var floorBackend string
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second,
		"unmeasured load before the runs of each target and connection count")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per figure; the median is reported")
	flag.StringVar(&conns, "conns", "16,64,256", "connection counts for the proxy comparison, comma-separated")
	flag.IntVar(&o.aggConns, "agg-conns", refConns,
		"connections for the dashboard at saturation (with and without the edge features)")
	flag.BoolVar(&short, "short", false, "quick mode: 2 s runs, 1 run, 1 s warm-up")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "",
		"write a CPU profile of the gateway to this file (the gateway then runs as this binary re-executed)")
	flag.StringVar(&o.compare, "compare", "",
		"another skillmesh-svc binary (say, built from an older commit) run beside the gateway and measured in the same runs")
	flag.BoolVar(&gatewayChild, "gateway-child", false, "internal: run as the profiled gateway")
	flag.BoolVar(&floorChild, "floor-child", false, "internal: run as the floor proxy")
	flag.IntVar(&floorPort, "floor-port", 0, "internal: the floor proxy's loopback port")
	flag.StringVar(&floorBackend, "floor-upstream", "", "internal: the floor proxy's backend (host:port)")
	flag.Parse()

	if gatewayChild {
		if err := runGatewayChild(o.cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "gateway child:", err)
			os.Exit(1)
		}
		return
	}
	if floorChild {
		if err := runFloorChild(floorPort, floorBackend); err != nil {
			fmt.Fprintln(os.Stderr, "floor child:", err)
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
	if o.runs < 1 || o.aggConns < 1 {
		fmt.Fprintln(os.Stderr, "bench-gateway: -runs and -agg-conns must be at least 1")
		os.Exit(2)
	}
	// Flags first, so a mistake is reported before anything re-runs.
	if code, ok := reexecPinned(); ok {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	pin := detectPinning()
	logf(stderr, "%s\n", pin.describe())
	r, err := newRig(o, pin, stderr)
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.startProxies(); err != nil {
		return err
	}
	if err := r.checkAnswers(); err != nil {
		return err
	}
	w, err := newWrk(r.wrkBin, r.dir, pin)
	if err != nil {
		return err
	}
	b := &bench{ctx: ctx, o: o, w: w, stderr: stderr, runs: map[string][]result{}}
	f, err := measureAll(b, r)
	if err != nil {
		return err
	}
	return printReport(stdout, b, r, f)
}

// logf writes progress; a progress line that cannot be written is no
// reason to stop measuring.
func logf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}

// fetch GETs url, with header ("Name: value") when set.
func fetch(url, header string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if name, value, ok := strings.Cut(header, ":"); ok {
		req.Header.Set(name, strings.TrimSpace(value))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: read the body: %w", url, err)
	}
	return resp.StatusCode, string(raw), nil
}

// get is fetch for an answer that must be 200.
func get(url, header string) (string, error) {
	status, body, err := fetch(url, header)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", errors.New(http.StatusText(status) + ": " + abbrev(body))
	}
	return body, nil
}

// abbrev shortens an answer for an error message: a wrong 10 MiB body
// should not fill the terminal.
func abbrev(s string) string {
	if len(s) > 300 {
		return fmt.Sprintf("%s… (%d bytes)", s[:300], len(s))
	}
	return s
}
