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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skillmesh/skillmesh/internal/devauth"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// userCount is how many users the dashboard load spreads over.
const userCount = 1000

// oneUser is the user of the fixed-path loads, and of the edge-on route's
// token.
const oneUser = "ada"

// variant is one gateway build under test: the tree's own, or -compare's.
// Every table with a gateway row has a row per variant.
type variant struct {
	key     string // in target names: "gateway", "compare"
	label   string // in tables
	bin     string
	profile string  // the tree's own gateway under -cpuprofile
	plain   *server // GOMAXPROCS=1, pinned, edge features off
	edge    *server // the same with auth and a rate limit
}

// rig is everything the bench starts: backends, proxies, keys, scripts,
// and what stops them again.
type rig struct {
	o              options
	pin            pinning
	stderr         io.Writer
	dir            string
	nginxBin       string
	wrkBin         string
	up             upstreams
	bigs           []*bigBody
	cfg            gatewayconfig.Config
	jwksFile       string
	users          []string
	tokens         []string // tokens[i] is users[i]'s
	adaToken       string
	nginx          *server
	floor          *server // the bare Go proxy of the proxy table (see floor.go)
	variants       []*variant
	stops          []func() // in the order they were added; close runs them backwards
	usersScript    string   // wrk script: the fast dashboard over every user
	usersEdge      string   // the same, each user with its token
	slowUserScript string   // the slow dashboard over every user, paced (thinkMillis)
	pacedScript    string   // one URL, paced (thinkMillis)
}

// newRig finds the tools, starts the backends, builds the gateway and makes
// the keys; nothing is measured yet.
func newRig(o options, pin pinning, stderr io.Writer) (r *rig, err error) {
	r = &rig{o: o, pin: pin, stderr: stderr}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if r.nginxBin, err = tool("nginx", "nginx-light", "/usr/sbin/nginx"); err != nil {
		return r, err
	}
	if r.wrkBin, err = tool("wrk", "wrk"); err != nil {
		return r, err
	}
	if r.dir, err = os.MkdirTemp("", "bench-gateway-"); err != nil {
		return r, fmt.Errorf("temp folder: %w", err)
	}
	// nginx's workers run as nobody when the bench is root and must reach
	// their folder beneath this one.
	if err := os.Chmod(r.dir, 0o755); err != nil {
		return r, fmt.Errorf("temp folder: %w", err)
	}
	r.stops = append(r.stops, func() { _ = os.RemoveAll(r.dir) })
	if err := r.startBackends(); err != nil {
		return r, err
	}
	if err := r.makeKeys(); err != nil {
		return r, err
	}
	r.cfg = gatewayConfig(r.up)
	logf(stderr, "building skillmesh-svc …\n")
	bin, err := buildGateway(pin, r.dir)
	if err != nil {
		return r, err
	}
	r.variants = []*variant{{key: "gateway", label: "skillmesh gateway", bin: bin, profile: o.cpuprofile}}
	if o.compare != "" {
		r.variants = append(r.variants, &variant{key: "compare", label: "-compare gateway", bin: o.compare})
	}
	return r, nil
}

func (r *rig) close() {
	for _, stop := range slices.Backward(r.stops) {
		stop()
	}
	r.stops = nil
}

// startBackends starts the small backend, the large ones and the two sets
// of dashboard backends (at once, and 20 ms late).
func (r *rig) startBackends() error {
	start := func(body string, delay time.Duration) (*backend, error) {
		b, err := startBackend(body, delay)
		if err == nil {
			r.stops = append(r.stops, b.Close)
		}
		return b, err
	}
	var err error
	if r.up.small, err = start(smallBody, 0); err != nil {
		return err
	}
	r.bigs = bigBodies()
	r.up.big = map[*bigBody]*backend{}
	for _, big := range r.bigs {
		if r.up.big[big], err = start(big.body, 0); err != nil {
			return err
		}
	}
	r.up.fast, r.up.slow = map[string]*backend{}, map[string]*backend{}
	for _, key := range dashboardKeys {
		if r.up.fast[key], err = start(dashboardBodies[key], 0); err != nil {
			return err
		}
		if r.up.slow[key], err = start(dashboardBodies[key], backendDelay); err != nil {
			return err
		}
	}
	return nil
}

// makeKeys makes the development key pair the edge-on gateways verify
// with, a token for every user, and the wrk scripts that use them.
func (r *rig) makeKeys() error {
	kp, err := devauth.New()
	if err != nil {
		return fmt.Errorf("dev keys: %w", err)
	}
	jwks, err := kp.JWKS()
	if err != nil {
		return fmt.Errorf("dev keys: JWKS: %w", err)
	}
	r.jwksFile = filepath.Join(r.dir, "jwks.json")
	if err := os.WriteFile(r.jwksFile, jwks, 0o644); err != nil {
		return fmt.Errorf("dev keys: %w", err)
	}
	// Valid well past the longest run; the users' tokens all differ, so
	// the gateway verifies (or remembers) as many as it would in production.
	if r.adaToken, err = kp.Token(oneUser, 24*time.Hour); err != nil {
		return fmt.Errorf("dev keys: token: %w", err)
	}
	for i := range userCount {
		u := "u" + strconv.Itoa(i)
		t, err := kp.Token(u, 24*time.Hour)
		if err != nil {
			return fmt.Errorf("dev keys: token: %w", err)
		}
		r.users, r.tokens = append(r.users, u), append(r.tokens, t)
	}
	return r.writeScripts()
}

// writeScripts writes the wrk scripts that spread the dashboard's load
// over the users.
func (r *rig) writeScripts() error {
	scripts := []struct {
		path           *string
		name, prefix   string
		users, withTok []string
		think          int
	}{
		{&r.usersScript, "users", "", r.users, nil, 0},
		{&r.usersEdge, "users-edge", "", r.users, r.tokens, 0},
		{&r.slowUserScript, "users-slow", slowPrefix, r.users, nil, thinkMillis},
	}
	for _, s := range scripts {
		var err error
		if *s.path, err = writeScript(r.dir, s.name, usersScript(s.prefix, s.users, s.withTok)+pause(s.think)); err != nil {
			return err
		}
	}
	var err error
	r.pacedScript, err = writeScript(r.dir, "paced", pause(thinkMillis))
	return err
}

// startProxies starts nginx, every variant's gateways, edge on and off, and
// the floor, on the proxies' CPU with one core each.
func (r *rig) startProxies() error {
	var err error
	if r.nginx, err = startNginx(r.pin, r.nginxBin, filepath.Join(r.dir, "nginx"), 1, r.pin.proxyCPUs(),
		nginxUpstreams(r.up)); err != nil {
		return err
	}
	r.stops = append(r.stops, r.nginx.Stop)
	edge := edgeConfig(r.cfg, r.jwksFile)
	for _, v := range r.variants {
		spec := gatewaySpec{name: v.label, dir: filepath.Join(r.dir, v.key), bin: v.bin, profile: v.profile,
			cfg: r.cfg, procs: 1, cpus: r.pin.proxyCPUs()}
		if v.plain, err = startGateway(r.pin, spec); err != nil {
			return fmt.Errorf("%s: %w", v.label, err)
		}
		r.stops = append(r.stops, v.plain.Stop)
		spec.name, spec.dir, spec.profile, spec.cfg = v.label+", edge on", spec.dir+"-edge", "", edge
		if v.edge, err = startGateway(r.pin, spec); err != nil {
			return fmt.Errorf("%s: %w", spec.name, err)
		}
		r.stops = append(r.stops, v.edge.Stop)
	}
	if r.floor, err = startFloor(r.pin, filepath.Join(r.dir, "floor"), 1, r.pin.proxyCPUs(),
		strings.TrimPrefix(r.up.small.URL, "http://")); err != nil {
		return err
	}
	r.stops = append(r.stops, r.floor.Stop)
	return nil
}

// twoCores are the proxies of the two-core table, started for it alone so
// they sit idle through no other run.
type twoCores struct {
	nginx    *server
	gateways []*server // by variant
}

func (t *twoCores) stop() {
	for _, g := range t.gateways {
		g.Stop()
	}
	if t.nginx != nil {
		t.nginx.Stop()
	}
}

// startTwoCores starts nginx with 2 workers and a gateway per variant with
// GOMAXPROCS=2, on both CPUs, and checks they answer.
func (r *rig) startTwoCores() (*twoCores, error) {
	t := &twoCores{}
	var err error
	cpus := r.pin.bothCPUs()
	if t.nginx, err = startNginx(r.pin, r.nginxBin, filepath.Join(r.dir, "nginx-2"), 2, cpus,
		nginxUpstreams(r.up)); err != nil {
		return t, err
	}
	for _, v := range r.variants {
		g, err := startGateway(r.pin, gatewaySpec{name: v.label + ", GOMAXPROCS=2", dir: filepath.Join(r.dir, v.key+"-2"),
			bin: v.bin, cfg: r.cfg, procs: 2, cpus: cpus})
		if err != nil {
			return t, err
		}
		t.gateways = append(t.gateways, g)
	}
	for _, s := range append([]*server{t.nginx}, t.gateways...) {
		if err := wantBody(s.url+proxyPrefix+proxyPath, "", smallBody); err != nil {
			return t, fmt.Errorf("two cores: %w", err)
		}
	}
	return t, nil
}

// proxyPath is the small backend's path, behind the proxies' prefix.
const proxyPath = "/users/" + oneUser + "/profile"

// answerCheck is one URL and what it must answer.
type answerCheck struct {
	name, url, header string
	check             func(string) error
}

// checkAnswers makes sure every target answers what it should before any
// figure is taken: a fast wrong answer would look like a good result, and
// an edge-on gateway that lets a request without a token through would
// measure nothing of its edge.
func (r *rig) checkAnswers() error {
	bearer := "Authorization: Bearer "
	checks := make([]answerCheck, 0, 3+2*len(r.bigs)+(6+len(r.bigs))*len(r.variants))
	checks = append(checks,
		answerCheck{"direct", r.up.small.URL + proxyPath, "", equals(smallBody)},
		answerCheck{"nginx", r.nginx.url + proxyPrefix + proxyPath, "", equals(smallBody)},
		answerCheck{"floor", r.floor.url + proxyPrefix + proxyPath, "", equals(smallBody)})
	for _, big := range r.bigs {
		checks = append(checks,
			answerCheck{big.label + " direct", r.up.big[big].URL + bigPath, "", equals(big.body)},
			answerCheck{big.label + " nginx", r.nginx.url + big.prefix + bigPath, "", equals(big.body)})
	}
	for _, v := range r.variants {
		g, e := v.plain.url, v.edge.url
		checks = append(checks,
			answerCheck{v.label, g + proxyPrefix + proxyPath, "", equals(smallBody)},
			answerCheck{v.label + ", edge on", e + proxyPrefix + proxyPath, bearer + r.adaToken, equals(smallBody)},
			answerCheck{v.label + " dashboard", g + "/users/" + oneUser + "/dashboard", "", isDashboard},
			answerCheck{v.label + " dashboard, a user of many", g + "/users/u7/dashboard", "", isDashboard},
			answerCheck{v.label + " dashboard, 20 ms backends", g + slowPrefix + "/users/u7/dashboard", "", isDashboard},
			answerCheck{v.label + " dashboard, edge on", e + "/users/u7/dashboard", bearer + r.tokens[7], isDashboard})
		for _, big := range r.bigs {
			checks = append(checks, answerCheck{v.label + " " + big.label, g + big.prefix + bigPath, "", equals(big.body)})
		}
	}
	for _, c := range checks {
		body, err := get(c.url, c.header)
		if err != nil {
			return fmt.Errorf("check %s: %w", c.name, err)
		}
		if err := c.check(body); err != nil {
			return fmt.Errorf("check %s: %w", c.name, err)
		}
	}
	return r.checkEdgeRefuses()
}

// bigPath is what the large-body loads ask for; the backends answer any.
const bigPath = "/data"

// checkEdgeRefuses makes sure the edge-on gateways refuse a request
// without a token, and a token for another user than the path's.
func (r *rig) checkEdgeRefuses() error {
	for _, v := range r.variants {
		for _, c := range []struct{ url, header string }{
			{v.edge.url + proxyPrefix + proxyPath, ""},
			{v.edge.url + "/users/u7/dashboard", ""},
			{v.edge.url + "/users/u7/dashboard", "Authorization: Bearer " + r.tokens[8]},
		} {
			status, _, err := fetch(c.url, c.header)
			if err != nil {
				return fmt.Errorf("check %s, edge on: %w", v.label, err)
			}
			if status != http.StatusUnauthorized && status != http.StatusForbidden {
				return fmt.Errorf("check %s, edge on: %s with header %q answered %d, want 401 or 403",
					v.label, c.url, abbrev(c.header), status)
			}
		}
	}
	return nil
}

// wantBody checks url answers want.
func wantBody(url, header, want string) error {
	body, err := get(url, header)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := equals(want)(body); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

// equals checks an answer is want, byte for byte; a large body is named by
// its length and start.
func equals(want string) func(string) error {
	return func(got string) error {
		if got != want {
			return fmt.Errorf("answered %d bytes %q, want %d bytes %q", len(got), abbrev(got), len(want), abbrev(want))
		}
		return nil
	}
}

// isDashboard checks an answer is the dashboard the CEL fields compute
// from the three backends, all of them answering.
func isDashboard(body string) error {
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return fmt.Errorf("%w: %s", err, abbrev(body))
	}
	if d["total_skills"] != float64(2) || d["gaps_remaining"] != float64(2) || d["_errors"] != nil {
		return fmt.Errorf("answered %s", abbrev(body))
	}
	return nil
}
