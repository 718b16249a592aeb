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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/gateway"
	"github.com/skillmesh/skillmesh/services/platform/settings"
)

// proxyPrefix is the route both proxies serve the small backend under.
const proxyPrefix = "/api/bench"

// dashboardPath is the aggregation, as in config/samples.
const dashboardPath = "/users/{user_id}/dashboard"

// gatewayConfig is the file the operator would render: one route to the
// small backend and the sample's dashboard over the three slow backends.
func gatewayConfig(small string, dash map[string]string) gatewayconfig.Config {
	five := gatewayconfig.Duration{Duration: 5 * time.Second}
	return gatewayconfig.Config{
		Routes: []gatewayconfig.Route{
			{PathPrefix: proxyPrefix, Service: "bench", Upstream: small, StripPrefix: true, Timeout: five},
		},
		Aggregations: []gatewayconfig.Aggregation{{
			Path: dashboardPath, Timeout: gatewayconfig.Duration{Duration: 2 * time.Second}, OnError: "partial",
			Backends: []gatewayconfig.Backend{
				{Key: keySkills, Service: "skills", Upstream: dash[keySkills], Path: "/users/{user_id}/skills"},
				{Key: keyCareer, Service: "career", Upstream: dash[keyCareer], Path: "/users/{user_id}/career-plan"},
				{Key: keyCourses, Service: "learning", Upstream: dash[keyCourses], Path: "/users/{user_id}/courses"},
			},
			Compute: map[string]string{
				"total_skills":          "has(skills.skills) ? size(skills.skills) : 0",
				"gaps_remaining":        "has(career.gaps) ? size(career.gaps) : 0",
				"completion_percentage": "has(career.progress) ? career.progress : 0",
			},
		}},
	}
}

// buildGateway builds the services binary the image ships.
func buildGateway(dir string) (string, error) {
	bin := filepath.Join(dir, "skillmesh-svc")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/skillmesh/skillmesh/services/cmd/skillmesh-svc")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build skillmesh-svc: %w", err)
	}
	return bin, nil
}

// startGateway runs the gateway as its own process with one P, its settings
// from the environment as the operator gives them, its log (one line per
// request at the default level) into a file. With profile set, the bench
// binary itself runs gateway.Run under a CPU profile instead of the
// skillmesh-svc binary (see runGatewayChild).
func startGateway(dir, bin string, cfg gatewayconfig.Config, profile string) (*child, string, error) {
	path := filepath.Join(dir, gatewayconfig.FileName)
	data, err := gatewayconfig.Marshal(cfg)
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(bin, "gateway")
	if profile != "" {
		self, err := os.Executable()
		if err != nil {
			return nil, "", err
		}
		cmd = exec.Command(self, "-gateway-child", "-cpuprofile", profile)
	}
	cmd.Dir = dir // no stray .env
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "PORT="+strconv.Itoa(port), gatewayconfig.EnvConfigPath+"="+path,
		"GATEWAY_DRAIN_DELAY=0s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	c, err := startChild("gateway", cmd)
	if err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := c.waitReady(url+"/health/ready", logPath); err != nil {
		c.Stop()
		return nil, "", err
	}
	return c, url, nil
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

// nginxConfig is nginx as a reverse proxy to the small backend, in the shape
// of the gateway's route: one worker, keepalive upstream connections, the
// prefix stripped, X-Forwarded-* and a request ID set, an access log line per
// request into a file (as the gateway logs one).
func nginxConfig(dir string, port int, upstream string) string {
	return strings.NewReplacer("{dir}", dir, "{port}", strconv.Itoa(port),
		"{upstream}", strings.TrimPrefix(upstream, "http://"), "{prefix}", proxyPrefix).Replace(`
worker_processes 1;
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
  upstream backend {
    server {upstream};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:{port};
    location = /nginx-ready { return 200 "ok\n"; }
    location {prefix}/ {
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $request_id;
      proxy_connect_timeout 2s;
      proxy_read_timeout 5s;
    }
  }
}
`)
}

// startNginx runs nginx in the foreground with the bench's own config.
func startNginx(bin, dir, upstream string) (*child, string, error) {
	// Workers drop to nobody when the bench runs as root; they must reach
	// the temp folders beneath dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(dir, port, upstream)), 0o600); err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(dir, "nginx-error.log")
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", logPath, "-g", "daemon off;")
	out, err := os.Create(filepath.Join(dir, "nginx-stderr.log"))
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = out.Close() }()
	cmd.Stdout, cmd.Stderr = out, out
	c, err := startChild("nginx", cmd)
	if err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := c.waitReady(url+"/nginx-ready", out.Name()); err != nil {
		c.Stop()
		return nil, "", fmt.Errorf("%w; error log: %s", err, tail(logPath))
	}
	return c, url, nil
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
