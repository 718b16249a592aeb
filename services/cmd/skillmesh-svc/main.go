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

// Command skillmesh-svc runs one of the bundled services; the first argument
// picks which, so one image serves them all:
//
//	skillmesh-svc skills|career|learning|gateway
//	skillmesh-svc dial name=host:port ...   (a TCP check, for debug containers)
//
// Settings come from the environment (and ./.env): PORT, DATABASE_URL,
// BROKER_URL, EVENTS_PUBLISHES, EVENTS_SUBSCRIBES, <DEP>_URL and the
// service's own <NAME>_… variables.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/gateway"
	"github.com/skillmesh/skillmesh/services/learning"
	"github.com/skillmesh/skillmesh/services/platform/settings"
	"github.com/skillmesh/skillmesh/services/skills"
)

type runFunc func(ctx context.Context, src settings.Source, stderr io.Writer, ln net.Listener) error

var services = map[string]runFunc{
	"skills":   skills.Run,
	"career":   career.Run,
	"learning": learning.Run,
	"gateway":  gateway.Run,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "skillmesh-svc:", err)
		os.Exit(1)
	}
}

// run starts the service args[0] names, logging to stderr, or runs the dial
// check, printing to stdout.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		return fmt.Errorf("name the service to run: skills, career, learning or gateway")
	}
	if args[0] == "dial" {
		return dial(ctx, args[1:], stdout)
	}
	start, ok := services[args[0]]
	if !ok {
		return fmt.Errorf("unknown service %q: want skills, career, learning or gateway", args[0])
	}
	src, err := settings.FromEnviron(environ, ".env")
	if err != nil {
		return err
	}
	return start(ctx, src, stderr, nil)
}
