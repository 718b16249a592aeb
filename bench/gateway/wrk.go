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
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript makes wrk print its figures as one JSON line at the end, so
// nothing depends on the layout of its human report.
const wrkScript = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%.0f,"p99_us":%.0f,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

// result is one wrk run.
type result struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
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
}

func (r result) RPS() float64 {
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

func (r result) errors() int64 { return r.Connect + r.Read + r.Write + r.Status + r.Timeout }

// wrk drives one URL with a fixed number of connections on one thread.
type wrk struct {
	bin    string
	script string
}

func newWrk(bin, dir string) (*wrk, error) {
	script := filepath.Join(dir, "report.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return nil, err
	}
	return &wrk{bin: bin, script: script}, nil
}

// run loads url for d with conns connections, reading cpu (when not nil)
// before and after.
func (w *wrk) run(url string, conns int, d time.Duration, cpu func() (float64, error)) (result, error) {
	var before float64
	if cpu != nil {
		var err error
		if before, err = cpu(); err != nil {
			return result{}, err
		}
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.Command(w.bin, "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s", "--timeout", "5s",
		"-s", w.script, url)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk %s: %w: %s", url, err, errOut.String())
	}
	var r result
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return result{}, fmt.Errorf("wrk %s: read its report: %w: %s", url, err, out.String())
	}
	if cpu != nil {
		after, err := cpu()
		if err != nil {
			return result{}, err
		}
		r.CPU = after - before
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("wrk %s: no request completed: %s", url, out.String())
	}
	if n := r.errors(); n > 0 {
		return r, fmt.Errorf("wrk %s: %d errors (connect %d, read %d, write %d, non-2xx %d, timeout %d)",
			url, n, r.Connect, r.Read, r.Write, r.Status, r.Timeout)
	}
	return r, nil
}
