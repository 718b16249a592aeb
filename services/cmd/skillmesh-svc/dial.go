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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dial is the image's network check, for a debug container beside a pod
// (the images have no shell): it opens a TCP connection to each target from
// the pod's network namespace and prints one line per target, in order:
//
//	skillmesh-svc dial [-timeout 3s] name=host:port ...
//	skills open
//	redis refused
//	career timeout
//
// open: the connection was accepted; refused: a reset or ICMP answer
// (nothing listens, or a policy rejects); timeout: no answer (a policy
// drops); anything else is printed as the error.
func dial(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for each connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	type target struct{ name, addr string }
	var targets []target
	for _, a := range fs.Args() {
		name, addr, ok := strings.Cut(a, "=")
		if !ok {
			name, addr = a, a
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("target %q: want name=host:port: %w", a, err)
		}
		targets = append(targets, target{name, addr})
	}
	if len(targets) == 0 {
		return errors.New("dial: name at least one target, name=host:port")
	}
	results := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { results[i] = t.name + " " + dialOne(ctx, t.addr, *timeout) })
	}
	wg.Wait()
	for _, r := range results {
		if _, err := fmt.Fprintln(out, r); err != nil {
			return err
		}
	}
	return nil
}

// dialOne says what a TCP connection to addr met.
func dialOne(ctx context.Context, addr string, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	switch {
	case err == nil:
		_ = c.Close()
		return "open"
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "refused"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return "error: " + err.Error()
}
