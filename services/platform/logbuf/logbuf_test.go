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

package logbuf_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/logbuf"
)

// countingFile is a real file that counts the writes it is given.
type countingFile struct {
	mu     sync.Mutex
	f      *os.File
	writes int
}

func (c *countingFile) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.f.Write(p)
}

func (c *countingFile) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

func TestLines_arrive_whole_in_order_in_few_writes_and_Close_writes_the_rest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := &countingFile{f: f}
	w := logbuf.New(out, 20*time.Millisecond)
	logger := slog.New(slog.NewJSONHandler(w, nil))
	const n = 5000
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range n / 4 {
				logger.Info("request", "g", g, "i", i, "pad", strings.Repeat("x", 100))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	last := map[string]int{}
	for _, l := range lines {
		var g, i int
		if _, err := fmt.Sscanf(string(l[bytes.Index(l, []byte(`"g":`)):]), `"g":%d,"i":%d`, &g, &i); err != nil {
			t.Fatalf("a line came apart: %s", l)
		}
		if prev, ok := last[fmt.Sprint(g)]; ok && i != prev+1 {
			t.Fatalf("goroutine %d: line %d after %d", g, i, prev)
		}
		last[fmt.Sprint(g)] = i
	}
	if got := out.count(); got > n/20 {
		t.Errorf("%d lines took %d writes; buffering should need far fewer", n, got)
	}
}

func TestA_line_reaches_the_file_within_the_interval(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	w := logbuf.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return got.Write(p)
	}), 10*time.Millisecond)
	defer func() { _ = w.Close() }()
	_, _ = w.Write([]byte("one line\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		s := got.String()
		mu.Unlock()
		if s == "one line\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the output holds %q", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
