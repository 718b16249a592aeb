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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// it is 100 on every Linux architecture Go builds for.
const clockTicks = 100

// cpuSeconds is the user plus system CPU time pid has used so far, threads
// included.
func cpuSeconds(pid int) (float64, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	// Fields after the command: state(0) ppid(1) … utime(11) stime(12).
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// procStat returns the fields of /proc/<pid>/stat after the command name,
// which may itself hold spaces and parentheses.
func procStat(pid int) ([]string, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return f, nil
}

// treeCPUSeconds is the CPU time of pid and its direct children: nginx's
// master and its workers.
func treeCPUSeconds(pid int) (float64, error) {
	var total float64
	for i, p := range family(pid) {
		s, err := cpuSeconds(p)
		if err != nil && i == 0 {
			return 0, err
		}
		total += s // a worker gone meanwhile counts nothing
	}
	return total, nil
}

// rssBytes is the resident memory of pid now (VmRSS of /proc/<pid>/status).
func rssBytes(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		v, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status: VmRSS: %w", pid, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// treeRSSBytes is the resident memory of pid and its direct children, added
// up: nginx's master and workers. Shared pages count once per process, as
// they would for separate servers.
func treeRSSBytes(pid int) (int64, error) {
	var total int64
	for i, p := range family(pid) {
		n, err := rssBytes(p)
		if err != nil && i == 0 {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// family is pid followed by its direct children.
func family(pid int) []int {
	out := []int{pid}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		f, err := procStat(p)
		if err != nil || f[1] != strconv.Itoa(pid) {
			continue // gone meanwhile, or not ours
		}
		out = append(out, p)
	}
	return out
}

// meter reads what a served process (or process tree) has used: the CPU
// seconds so far and the resident bytes now.
type meter struct {
	cpu func() (float64, error)
	rss func() (int64, error)
}

func processMeter(pid int) *meter {
	return &meter{
		cpu: func() (float64, error) { return cpuSeconds(pid) },
		rss: func() (int64, error) { return rssBytes(pid) },
	}
}

func treeMeter(pid int) *meter {
	return &meter{
		cpu: func() (float64, error) { return treeCPUSeconds(pid) },
		rss: func() (int64, error) { return treeRSSBytes(pid) },
	}
}

// rssEvery is how often the resident memory is sampled during a run: often
// enough to catch a 10 MiB body held for the few milliseconds it takes to
// pass, rarely enough to cost nothing.
const rssEvery = 100 * time.Millisecond

// watchRSS samples rss every rssEvery until the returned function is called;
// that function gives the largest sample.
func watchRSS(rss func() (int64, error)) func() (int64, error) {
	stop, done := make(chan struct{}), make(chan struct{})
	var peak int64
	var first error
	sample := func() {
		n, err := rss()
		if err != nil && first == nil {
			first = err
		}
		peak = max(peak, n)
	}
	go func() {
		defer close(done)
		t := time.NewTicker(rssEvery)
		defer t.Stop()
		for {
			sample()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int64, error) {
		close(stop)
		<-done
		sample()
		if first != nil {
			return 0, fmt.Errorf("resident memory: %w", first)
		}
		return peak, nil
	}
}

// child is a process the bench started and kills at the end.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
}

func startChild(name string, cmd *exec.Cmd) (*child, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) Pid() int { return c.cmd.Process.Pid }

// exited says how the child exited, or nil while it runs.
func (c *child) exited() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited while being measured (%v)", c.name, c.err)
	default:
		return nil
	}
}

// server is a proxy under test: its process, its URL, and its meter.
type server struct {
	*child
	url   string
	meter *meter
}

// newServer is c serving url, measured by m; m's errors say so when they
// come from c having exited, which would otherwise read as a missing file
// in /proc.
func newServer(c *child, url string, m *meter) *server {
	why := func(err error) error {
		if exit := c.exited(); err != nil && exit != nil {
			return fmt.Errorf("%w: %w", exit, err)
		}
		return err
	}
	return &server{child: c, url: url, meter: &meter{
		cpu: func() (float64, error) { v, err := m.cpu(); return v, why(err) },
		rss: func() (int64, error) { v, err := m.rss(); return v, why(err) },
	}}
}

// waitReady polls url until it answers 200, the child exits, or 30 s pass.
func (c *child) waitReady(url, logPath string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited while starting (%v); its log: %s", c.name, c.err, tail(logPath))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 30s; its log: %s", c.name, tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop asks the child to stop (SIGTERM, then SIGKILL after 10 s) and waits.
func (c *child) Stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	raw, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(raw) > 2000 {
		raw = raw[len(raw)-2000:]
	}
	return strings.TrimSpace(string(raw))
}
