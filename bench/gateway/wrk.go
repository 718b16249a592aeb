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
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript makes wrk print its figures as one JSON line at the end, so
// nothing depends on the layout of its human report. Every script the bench
// writes ends with it.
const wrkScript = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%.0f,"p99_us":%.0f,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

// result is one wrk run.
type result struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Bytes      int64   `json:"bytes"`
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
	Connect    int64   `json:"connect"`
	Read       int64   `json:"read"`
	Write      int64   `json:"write"`
	Status     int64   `json:"status"`
	Timeout    int64   `json:"timeout"`
	// CPU is the CPU seconds the measured process used during the run, 0
	// when nothing is measured.
	CPU float64 `json:"-"`
	// PeakRSS is the largest resident memory sampled during the run, in
	// bytes; 0 when nothing is measured.
	PeakRSS int64 `json:"-"`
	// Calls is how many requests the backends behind the target served
	// during the run; 0 when not counted.
	Calls int64 `json:"-"`
}

func (r result) RPS() float64 {
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

func (r result) errors() int64 { return r.Connect + r.Read + r.Write + r.Status + r.Timeout }

// wrk drives one URL with a fixed number of connections on one thread.
type wrk struct {
	bin    string
	report string // the script that only reports
	pin    pinning
}

func newWrk(bin, dir string, pin pinning) (*wrk, error) {
	report, err := writeScript(dir, "report", "")
	return &wrk{bin: bin, report: report, pin: pin}, err
}

// writeScript writes a wrk script into dir, lua followed by the reporting
// part, and returns its path.
func writeScript(dir, name, lua string) (string, error) {
	path := filepath.Join(dir, name+".lua")
	if err := os.WriteFile(path, []byte(lua+wrkScript), 0o600); err != nil {
		return "", fmt.Errorf("wrk script %s: %w", name, err)
	}
	return path, nil
}

// usersScript makes wrk spread its requests round-robin over users, at
// prefix/users/<id>/dashboard, so the gateway sees many distinct calls at
// once, as it would in production, rather than the same one again and
// again (which coalescing would serve for free). tokens, when set, gives
// each user its own bearer token: a route checks the token's subject
// against the path's user. The requests are formatted once, in init, so
// wrk spends no more per request than with a fixed URL.
func usersScript(prefix string, users, tokens []string) string {
	var b strings.Builder
	b.WriteString("local users = {")
	for _, u := range users {
		fmt.Fprintf(&b, "%q,", u)
	}
	b.WriteString("}\nlocal tokens = {")
	for _, t := range tokens {
		fmt.Fprintf(&b, "%q,", t)
	}
	fmt.Fprintf(&b, `}
local reqs, n = {}, 0
init = function(args)
  for i, u in ipairs(users) do
    local h = {}
    if tokens[i] then h["Authorization"] = "Bearer " .. tokens[i] end
    reqs[i] = wrk.format(nil, %q .. "/users/" .. u .. "/dashboard", h)
  end
end
request = function()
  n = n %% #reqs + 1
  return reqs[n]
end
`, prefix)
	return b.String()
}

// pause is a wrk delay() that waits a random 0 to 2 × mean milliseconds
// before each request ("" for none).
func pause(mean int) string {
	if mean <= 0 {
		return ""
	}
	return fmt.Sprintf("\nmath.randomseed(os.time())\ndelay = function() return math.random(0, %d) end\n", 2*mean)
}

// run loads t for d with conns connections, reading t's meter and backend
// counter (when set) before and after, and sampling the resident memory
// throughout.
func (w *wrk) run(t target, conns int, d time.Duration) (result, error) {
	before, err := t.usage()
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", t.name, err)
	}
	var peak func() (int64, error)
	if t.meter != nil {
		peak = watchRSS(t.meter.rss)
	}
	r, runErr := w.wrk(t, conns, d)
	if peak != nil {
		rss, err := peak()
		if err != nil && runErr == nil {
			runErr = fmt.Errorf("%s: %w", t.name, err)
		}
		r.PeakRSS = rss
	}
	if runErr != nil {
		return r, runErr
	}
	after, err := t.usage()
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", t.name, err)
	}
	r.CPU, r.Calls = after.cpu-before.cpu, after.calls-before.calls
	return r, nil
}

// wrk runs wrk itself and reads its report.
func (w *wrk) wrk(t target, conns int, d time.Duration) (result, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	script := cmp.Or(t.script, w.report)
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(secs) + "s", "--timeout", "5s", "-s", script}
	if t.header != "" {
		args = append(args, "-H", t.header)
	}
	args = append(args, t.url)
	cpus := ""
	if t.wide {
		cpus = w.pin.bothCPUs()
	}
	cmd := w.pin.command(cpus, w.bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk %s: %w: %s", t.url, err, errOut.String())
	}
	var r result
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return result{}, fmt.Errorf("wrk %s: read its report: %w: %s", t.url, err, out.String())
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("wrk %s: no request completed: %s", t.url, out.String())
	}
	if n := r.errors(); n > 0 {
		return r, fmt.Errorf("wrk %s: %d errors (connect %d, read %d, write %d, non-2xx %d, timeout %d)",
			t.url, n, r.Connect, r.Read, r.Write, r.Status, r.Timeout)
	}
	return r, nil
}
