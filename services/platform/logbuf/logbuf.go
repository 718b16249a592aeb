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

// Package logbuf batches log lines into few writes: a service that logs a
// line per request otherwise makes a write system call per request (to the
// pipe the container runtime reads, which wakes the reader each time),
// as much as its whole answer costs. nginx's access_log buffer= does the
// same. Lines are written whole, in order, within Interval of being
// logged; Close writes what is left.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Defaults of New.
const (
	DefaultInterval = 100 * time.Millisecond
	DefaultSize     = 64 << 10
)

// Writer buffers what is written to it and writes it on every Interval
// tick, when the buffer is full, and on Close.
type Writer struct {
	out  io.Writer
	size int

	mu   sync.Mutex
	buf  []byte
	err  error // the last write error, reported once by the next Write
	done chan struct{}
	wg   sync.WaitGroup
}

// New starts a Writer over out flushing every interval (0: DefaultInterval).
func New(out io.Writer, interval time.Duration) *Writer {
	if interval <= 0 {
		interval = DefaultInterval
	}
	w := &Writer{out: out, size: DefaultSize, buf: make([]byte, 0, DefaultSize), done: make(chan struct{})}
	w.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				_ = w.Flush()
			}
		}
	})
	return w
}

// Write appends p (one log record, as slog writes them) to the buffer,
// writing the buffer first when p would not fit.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.err; err != nil {
		w.err = nil
		return 0, err
	}
	if len(w.buf)+len(p) > w.size {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > w.size {
			return w.out.Write(p)
		}
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}

// Close stops the ticker and writes what is left.
func (w *Writer) Close() error {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
	return w.Flush()
}
