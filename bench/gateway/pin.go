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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// pinEnv is set, to the CPU list the bench started with, in the bench
// process re-executed under taskset: it tells that process it is the pinned
// one and which CPUs the machine gave it.
const pinEnv = "BENCH_GATEWAY_PINNED"

// pinning is where the processes run. The fairness rule: the proxies under
// test get one CPU to themselves, and wrk and this process (which hosts
// every backend) another, so the load generator never takes CPU time from
// what it measures, and both proxies run under the same conditions.
type pinning struct {
	taskset     string // the taskset binary; "" when not pinning
	proxy, load int    // CPU ids: the proxies', and wrk's and the bench's
	cpus        int    // CPUs the bench may use, whatever its own affinity now
	why         string // when not pinning: why not
}

func (p pinning) on() bool { return p.taskset != "" }

// proxyCPUs is the taskset list of the proxies under test.
func (p pinning) proxyCPUs() string { return strconv.Itoa(p.proxy) }

// bothCPUs is the taskset list of the two-core table: the proxies' CPU and
// the load's, so that table uses two cores on a bigger machine too.
func (p pinning) bothCPUs() string { return fmt.Sprintf("%d,%d", p.proxy, p.load) }

// command is name with args, run on cpus (a taskset list) when pinning and
// cpus is set; otherwise where the bench runs.
func (p pinning) command(cpus, name string, args ...string) *exec.Cmd {
	if !p.on() || cpus == "" {
		return exec.Command(name, args...)
	}
	return exec.Command(p.taskset, append([]string{"-c", cpus, name}, args...)...)
}

// describe is the Setup line on pinning.
func (p pinning) describe() string {
	if !p.on() {
		return "Pinning: none (" + p.why + "): the proxies, wrk and the bench's backends share every CPU."
	}
	return fmt.Sprintf("Pinning: the proxies under test (gateway, floor, nginx) on CPU %d (taskset -c %d); "+
		"wrk and this bench process, which hosts every backend, on CPU %d (taskset -c %d), "+
		"except in the two-core table.", p.proxy, p.proxy, p.load, p.load)
}

// reexecPinned runs this program again under taskset on the load CPU, when
// it is not that process already and the machine allows it, and returns the
// exit code of that run. ok is false when the bench should carry on here,
// unpinned; detectPinning then says why.
func reexecPinned() (code int, ok bool) {
	if os.Getenv(pinEnv) != "" {
		return 0, false
	}
	cpus, err := allowedCPUs()
	if err != nil || len(cpus) < 2 {
		return 0, false
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return 0, false
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false
	}
	cmd := exec.Command(taskset, append([]string{"-c", strconv.Itoa(cpus[1]), self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), pinEnv+"="+formatCPUs(cpus))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The pinned run stops its children on a signal; this one only passes
	// the signal on and waits for it.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gateway: cannot re-run pinned, running unpinned:", err)
		return 0, false
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	if err := cmd.Wait(); err != nil {
		if ee, isExit := errors.AsType[*exec.ExitError](err); isExit && ee.ExitCode() > 0 {
			return ee.ExitCode(), true
		}
		return 1, true
	}
	return 0, true
}

// detectPinning is the pinning this process runs under.
func detectPinning() pinning {
	mine, err := allowedCPUs()
	if err != nil {
		return pinning{cpus: 1, why: err.Error()}
	}
	env := os.Getenv(pinEnv)
	if env == "" {
		p := pinning{cpus: len(mine), why: "taskset is missing"}
		if len(mine) < 2 {
			p.why = "only 1 CPU"
		}
		return p
	}
	all, err := parseCPUList(env)
	taskset, lookErr := exec.LookPath("taskset")
	switch {
	case err != nil || len(all) < 2:
		return pinning{cpus: len(mine), why: fmt.Sprintf("%s=%q is not a list of 2 or more CPUs", pinEnv, env)}
	case lookErr != nil:
		return pinning{cpus: len(all), why: "taskset is missing"}
	case len(mine) != 1 || mine[0] != all[1]:
		return pinning{cpus: len(all), why: fmt.Sprintf("this process runs on CPUs %s, not CPU %d alone",
			formatCPUs(mine), all[1])}
	}
	return pinning{taskset: taskset, proxy: all[0], load: all[1], cpus: len(all)}
}

// allowedCPUs is this process's CPU affinity (Cpus_allowed_list).
func allowedCPUs() ([]int, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("CPU affinity: %w", err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return parseCPUList(strings.TrimSpace(v))
		}
	}
	return nil, errors.New("CPU affinity: no Cpus_allowed_list in /proc/self/status")
}

// parseCPUList reads a kernel CPU list: "0-3,6,8-9".
func parseCPUList(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("CPU list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// formatCPUs writes CPU ids as a list parseCPUList reads.
func formatCPUs(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}
