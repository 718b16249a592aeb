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
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/skillmesh/skillmesh/internal/devauth"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/gateway"
	"github.com/skillmesh/skillmesh/services/platform/settings"
)

// proxyPrefix is the route both proxies serve the small backend under.
const proxyPrefix = "/api/bench"

// The aggregations: the sample's dashboard over three backends that answer
// at once (how many aggregations a core can do), and the same over three
// that each take backendDelay (what the gateway adds to a real fan-out).
const (
	dashboardPath     = "/users/{user_id}/dashboard"
	slowPrefix        = "/slow"
	slowDashboardPath = slowPrefix + dashboardPath
)

// upstreams are the bench's backends, by what they serve.
type upstreams struct {
	small      *backend
	big        map[*bigBody]*backend
	fast, slow map[string]*backend // the dashboard's, by key
}

// gatewayConfig is the file the operator would render: a route to the small
// backend, one per large body, and the sample's dashboard twice, over the
// fast backends and over the slow ones.
func gatewayConfig(up upstreams) gatewayconfig.Config {
	five := gatewayconfig.Duration{Duration: 5 * time.Second}
	cfg := gatewayconfig.Config{
		Routes: []gatewayconfig.Route{
			{PathPrefix: proxyPrefix, Service: "bench", Upstream: up.small.URL, StripPrefix: true, Timeout: five},
		},
		Aggregations: []gatewayconfig.Aggregation{
			dashboard(dashboardPath, up.fast),
			dashboard(slowDashboardPath, up.slow),
		},
	}
	for big, b := range up.big {
		cfg.Routes = append(cfg.Routes, gatewayconfig.Route{PathPrefix: big.prefix, Service: big.key,
			Upstream: b.URL, StripPrefix: true, Timeout: gatewayconfig.Duration{Duration: 20 * time.Second}})
	}
	// The map above has no order; the file should have one.
	slices.SortFunc(cfg.Routes, func(a, b gatewayconfig.Route) int { return strings.Compare(a.PathPrefix, b.PathPrefix) })
	return cfg
}

// dashboard is the sample Gateway's aggregation at path over backends.
func dashboard(path string, backends map[string]*backend) gatewayconfig.Aggregation {
	return gatewayconfig.Aggregation{
		Path: path, Timeout: gatewayconfig.Duration{Duration: 2 * time.Second}, OnError: "partial",
		Backends: []gatewayconfig.Backend{
			{Key: keySkills, Service: "skills", Upstream: backends[keySkills].URL, Path: "/users/{user_id}/skills"},
			{Key: keyCareer, Service: "career", Upstream: backends[keyCareer].URL, Path: "/users/{user_id}/career-plan"},
			{Key: keyCourses, Service: "learning", Upstream: backends[keyCourses].URL, Path: "/users/{user_id}/courses"},
		},
		Compute: map[string]string{
			"total_skills":          "has(skills.skills) ? size(skills.skills) : 0",
			"gaps_remaining":        "has(career.gaps) ? size(career.gaps) : 0",
			"completion_percentage": "has(career.progress) ? career.progress : 0",
		},
	}
}

// edgeRate is the rate limit of the edge-on gateway: far above anything
// wrk reaches on loopback, so the limiter runs on every request and never
// refuses one (a 429 would fail the run).
const edgeRate = 1e6

// edgeConfig is cfg with the edge features on: every route and aggregation
// requires a token verified against the JWKS file, with the path's user the
// token's subject, and every request passes the rate limiter.
func edgeConfig(cfg gatewayconfig.Config, jwksFile string) gatewayconfig.Config {
	cfg.Auth = &gatewayconfig.Auth{Issuer: devauth.Issuer, Audiences: []string{devauth.Audience}, JWKSFile: jwksFile}
	cfg.RateLimit = &gatewayconfig.RateLimit{RequestsPerSecond: edgeRate, Burst: int(edgeRate)}
	cfg.Routes = slices.Clone(cfg.Routes)
	for i := range cfg.Routes {
		cfg.Routes[i].Auth = gatewayconfig.AuthRequired
	}
	cfg.Aggregations = slices.Clone(cfg.Aggregations)
	for i := range cfg.Aggregations {
		cfg.Aggregations[i].Auth = gatewayconfig.AuthRequired
	}
	return cfg
}

// buildGateway builds the services binary the image ships, on every CPU
// the bench may use: nothing is measured yet.
func buildGateway(pin pinning, dir string) (string, error) {
	bin := filepath.Join(dir, "skillmesh-svc")
	cmd := pin.command(pin.bothCPUs(), "go", "build", "-o", bin,
		"github.com/skillmesh/skillmesh/services/cmd/skillmesh-svc")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build skillmesh-svc: %w", err)
	}
	return bin, nil
}

// gatewaySpec is one gateway process to start.
type gatewaySpec struct {
	name    string // in errors and progress lines
	dir     string // its own folder, for its config file and log
	bin     string // skillmesh-svc; "" with profile set
	profile string // run this binary as the gateway under a CPU profile into this file
	cfg     gatewayconfig.Config
	procs   int    // GOMAXPROCS
	cpus    string // taskset -c list; "" runs where the bench runs
}

// startGateway runs a gateway as its own process with s.procs Ps, its
// settings from the environment as the operator gives them, its log (one
// line per request at the default level) into a file. With s.profile set,
// the bench binary itself runs gateway.Run under a CPU profile instead of
// the skillmesh-svc binary (see runGatewayChild).
func startGateway(pin pinning, s gatewaySpec) (*server, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	path := filepath.Join(s.dir, gatewayconfig.FileName)
	data, err := gatewayconfig.Marshal(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", s.name, err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("%s: config: %w", s.name, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	logPath := filepath.Join(s.dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	defer func() { _ = logFile.Close() }()
	cmd := pin.command(s.cpus, s.bin, "gateway")
	if s.profile != "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		cmd = pin.command(s.cpus, self, "-gateway-child", "-cpuprofile", s.profile)
	}
	cmd.Dir = s.dir // no stray .env
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(s.procs), "PORT="+strconv.Itoa(port),
		gatewayconfig.EnvConfigPath+"="+path, "GATEWAY_DRAIN_DELAY=0s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	c, err := startChild(s.name, cmd)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := c.waitReady(url+"/health/ready", logPath); err != nil {
		c.Stop()
		return nil, err
	}
	return newServer(c, url, processMeter(c.Pid())), nil
}

// runGatewayChild is the bench binary re-executed as the gateway for
// profiling: what skillmesh-svc's main does, inside a CPU profile; the
// allocation profile is written beside it (<profile>.allocs).
func runGatewayChild(profile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	src, err := settings.FromEnviron(os.Environ(), "")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Clean(profile))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	runErr := gateway.Run(ctx, src, os.Stderr, nil)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return err
	}
	// Beside it, where the bytes were allocated: what drives the GC.
	heap, err := os.Create(filepath.Clean(profile) + ".allocs")
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(heap, 0); err != nil {
		return err
	}
	if err := heap.Close(); err != nil {
		return err
	}
	return runErr
}

// nginxUpstream is one location of nginx's config: the prefix stripped,
// the rest passed to the backend.
type nginxUpstream struct {
	name, prefix, url string
}

// nginxConfig is nginx as a reverse proxy in the shape of the gateway's
// routes: workers worker processes, keepalive upstream connections, the
// prefix stripped, X-Forwarded-* and a request ID set, an access log line
// per request into a file (as the gateway logs one). Large answers are
// buffered as nginx does by default (proxy_buffering on: memory, then temp
// files beneath dir).
func nginxConfig(dir string, port, workers int, ups []nginxUpstream) string {
	var blocks, locations strings.Builder
	for _, u := range ups {
		fmt.Fprintf(&blocks, `
  upstream %s {
    server %s;
    keepalive 128;
  }`, u.name, strings.TrimPrefix(u.url, "http://"))
		fmt.Fprintf(&locations, `
    location %s/ {
      proxy_pass http://%s/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $request_id;
      proxy_connect_timeout 2s;
      proxy_read_timeout 5s;
    }`, u.prefix, u.name)
	}
	return strings.NewReplacer("{dir}", dir, "{port}", strconv.Itoa(port), "{workers}", strconv.Itoa(workers),
		"{upstreams}", blocks.String(), "{locations}", locations.String()).Replace(`
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log {dir}/nginx-access.log;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
{upstreams}
  server {
    listen 127.0.0.1:{port};
    location = /nginx-ready { return 200 "ok\n"; }
{locations}
  }
}
`)
}

// nginxUpstreams are nginx's locations for the bench's backends: the small
// one and the large bodies, under the gateway's prefixes.
func nginxUpstreams(up upstreams) []nginxUpstream {
	out := make([]nginxUpstream, 0, 1+len(up.big))
	out = append(out, nginxUpstream{name: "backend", prefix: proxyPrefix, url: up.small.URL})
	for big, b := range up.big {
		out = append(out, nginxUpstream{name: big.key, prefix: big.prefix, url: b.URL})
	}
	slices.SortFunc(out, func(a, b nginxUpstream) int { return strings.Compare(a.prefix, b.prefix) })
	return out
}

// startNginx runs nginx in the foreground with the bench's own config in
// its own folder dir, on cpus (a taskset list; "" runs where the bench runs).
func startNginx(pin pinning, bin, dir string, workers int, cpus string, ups []nginxUpstream) (*server, error) {
	// Workers drop to nobody when the bench runs as root; they must reach
	// the temp folders beneath dir.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(dir, port, workers, ups)), 0o600); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	logPath := filepath.Join(dir, "nginx-error.log")
	cmd := pin.command(cpus, bin, "-p", dir, "-c", conf, "-e", logPath, "-g", "daemon off;")
	out, err := os.Create(filepath.Join(dir, "nginx-stderr.log"))
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	defer func() { _ = out.Close() }()
	cmd.Stdout, cmd.Stderr = out, out
	c, err := startChild("nginx", cmd)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := c.waitReady(url+"/nginx-ready", out.Name()); err != nil {
		c.Stop()
		return nil, fmt.Errorf("%w; error log: %s", err, tail(logPath))
	}
	return newServer(c, url, treeMeter(c.Pid())), nil
}

// tool finds a Debian-packaged program, installing its package when the
// bench runs as root, and otherwise says what to install.
func tool(name, pkg string, fallbacks ...string) (string, error) {
	find := func() (string, bool) {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
		for _, p := range fallbacks {
			if _, err := os.Stat(p); err == nil {
				return p, true
			}
		}
		return "", false
	}
	if p, ok := find(); ok {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%s is missing: install it with `sudo apt-get install -y %s`", name, pkg)
	}
	fmt.Fprintf(os.Stderr, "%s is missing; installing %s with apt-get\n", name, pkg)
	install := exec.Command("apt-get", "install", "-y", pkg)
	install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	install.Stdout, install.Stderr = os.Stderr, os.Stderr
	if err := install.Run(); err != nil {
		update := exec.Command("apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		_ = update.Run()
		install = exec.Command("apt-get", "install", "-y", pkg)
		install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		install.Stdout, install.Stderr = os.Stderr, os.Stderr
		if err := install.Run(); err != nil {
			return "", fmt.Errorf("apt-get install %s: %w", pkg, err)
		}
	}
	if p, ok := find(); ok {
		return p, nil
	}
	return "", fmt.Errorf("%s still missing after installing %s", name, pkg)
}
