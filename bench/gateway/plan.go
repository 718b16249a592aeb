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
	"fmt"
	"math"
	"slices"
)

// littleLatency is the latency, in seconds, of one slow dashboard call
// (backendDelay and a little), for Little's law: c connections in a closed
// loop offer c / littleLatency requests per second.
const littleLatency = 0.0205

// thinkMillis is the mean of the random pause (uniform, 0 to twice this)
// each connection of the half-saturation runs takes before its next
// request. Without it, connections whose calls all take 20 ms fall into
// step and arrive in bursts of every connection at once: the tail then
// measures the burst, not the gateway at half its rate. With it, c
// connections offer c / (littleLatency + thinkMillis/1000) requests per
// second.
const thinkMillis = 10

// facts are what the tables need beyond the runs: choices made while
// measuring.
type facts struct {
	halfConns int              // connections of the half-saturation runs
	rssBefore map[string]int64 // each variant's gateway's RSS before the large-body runs, by key
}

// Target names, as the bench keeps the runs. Per variant: its key, then
// what is loaded.
const (
	nDirect      = "direct"
	nNginx       = "nginx"
	nFloor       = "floor"
	nNginx2      = "nginx, 2 workers"
	sEdge        = " edge"
	sTwoCores    = " GOMAXPROCS=2"
	sDash        = " dashboard"
	sDashEdge    = " dashboard, edge"
	sDashOne     = " dashboard, one user"
	sDashSlow    = " dashboard, 20 ms"
	prefixDirect = "backend "
)

// measureAll takes every figure the tables print, table by table; the
// large bodies come last, so the gateway's memory before them is that of a
// gateway that has served everything else.
func measureAll(b *bench, r *rig) (facts, error) {
	f := facts{rssBefore: map[string]int64{}}
	if err := measureProxies(b, r); err != nil {
		return f, err
	}
	if err := measureTwoCores(b, r); err != nil {
		return f, err
	}
	var err error
	if f.halfConns, err = measureAggregation(b, r); err != nil {
		return f, err
	}
	for _, v := range r.variants {
		if f.rssBefore[v.key], err = v.plain.meter.rss(); err != nil {
			return f, fmt.Errorf("%s: RSS before the large bodies: %w", v.label, err)
		}
	}
	for _, big := range r.bigs {
		logf(b.stderr, "large bodies, %s, %d connections\n", big.label, big.conns)
		if err := b.measure(r.bigTargets(big), big.conns); err != nil {
			return f, err
		}
	}
	return f, nil
}

// measureProxies measures the proxy table and, at refConns, the edge-on
// gateways in the same turns (the edge table compares them with these
// runs).
func measureProxies(b *bench, r *rig) error {
	for _, c := range b.o.conns {
		logf(b.stderr, "proxy, %d connections\n", c)
		ts := r.proxyTargets()
		if c == refConns {
			ts = append(ts, r.edgeTargets()...)
		}
		if err := b.measure(ts, c); err != nil {
			return err
		}
	}
	// Without refConns in -conns, the edge table still gets its runs.
	if slices.Contains(b.o.conns, refConns) {
		return nil
	}
	logf(b.stderr, "edge features, %d connections\n", refConns)
	ts := slices.DeleteFunc(r.proxyTargets(), func(t target) bool { return t.name == nDirect || t.name == nFloor })
	return b.measure(append(ts, r.edgeTargets()...), refConns)
}

// measureTwoCores starts the two-core proxies, measures them and stops
// them.
func measureTwoCores(b *bench, r *rig) error {
	logf(b.stderr, "two cores, %d connections\n", refConns)
	t, err := r.startTwoCores()
	defer t.stop()
	if err != nil {
		return err
	}
	ts := []target{{name: nNginx2, url: t.nginx.url + proxyPrefix + proxyPath, meter: t.nginx.meter, wide: true}}
	for i, v := range r.variants {
		g := t.gateways[i]
		ts = append(ts, target{name: v.key + sTwoCores, url: g.url + proxyPrefix + proxyPath, meter: g.meter, wide: true})
	}
	return b.measure(ts, refConns)
}

// measureAggregation measures the dashboard at saturation (many users,
// edge off and on; one user), then at half the saturation rate over the
// slow backends, and returns the connections that took.
func measureAggregation(b *bench, r *rig) (int, error) {
	logf(b.stderr, "aggregation at saturation, %d connections\n", b.o.aggConns)
	if err := b.measure(r.saturationTargets(), b.o.aggConns); err != nil {
		return 0, err
	}
	if err := b.measure(r.oneUserTargets(), b.o.aggConns); err != nil {
		return 0, err
	}
	sat := b.fig(r.variants[0].key+sDash, b.o.aggConns).rps
	conns := halfConns(sat)
	logf(b.stderr, "aggregation at half saturation (%.0f/s), %d connections\n", sat, conns)
	return conns, b.measure(r.halfTargets(), conns)
}

// halfConns is the connection count at which the slow dashboard is offered
// about half the saturation rate: by Little's law, c = rate × (latency +
// think time).
func halfConns(satRate float64) int {
	return min(512, max(1, int(math.Round(0.5*satRate*(littleLatency+thinkMillis/1000.0)))))
}

// proxyTargets are the proxy table's: the backend direct, nginx, each
// variant's gateway, and the floor.
func (r *rig) proxyTargets() []target {
	ts := make([]target, 0, 3+len(r.variants))
	ts = append(ts,
		target{name: nDirect, url: r.up.small.URL + proxyPath},
		target{name: nNginx, url: r.nginx.url + proxyPrefix + proxyPath, meter: r.nginx.meter})
	for _, v := range r.variants {
		ts = append(ts, target{name: v.key, url: v.plain.url + proxyPrefix + proxyPath, meter: v.plain.meter})
	}
	return append(ts, target{name: nFloor, url: r.floor.url + proxyPrefix + proxyPath, meter: r.floor.meter})
}

// edgeTargets are the edge-on gateways' route, with the path user's token.
func (r *rig) edgeTargets() []target {
	ts := make([]target, 0, len(r.variants))
	for _, v := range r.variants {
		ts = append(ts, target{name: v.key + sEdge, url: v.edge.url + proxyPrefix + proxyPath, meter: v.edge.meter,
			header: "Authorization: Bearer " + r.adaToken})
	}
	return ts
}

// saturationTargets are the fast dashboard over every user, through each
// variant's gateway with the edge features off and on.
func (r *rig) saturationTargets() []target {
	calls := sumCalls(r.fast()...)
	ts := make([]target, 0, 2*len(r.variants))
	for _, v := range r.variants {
		ts = append(ts,
			target{name: v.key + sDash, url: v.plain.url, meter: v.plain.meter, calls: calls, script: r.usersScript},
			target{name: v.key + sDashEdge, url: v.edge.url, meter: v.edge.meter, calls: calls, script: r.usersEdge})
	}
	return ts
}

// oneUserTargets are the fast dashboard with every request for one user:
// identical calls in flight at once, which a coalescing gateway makes once.
func (r *rig) oneUserTargets() []target {
	calls := sumCalls(r.fast()...)
	ts := make([]target, 0, len(r.variants))
	for _, v := range r.variants {
		ts = append(ts, target{name: v.key + sDashOne, url: v.plain.url + "/users/" + oneUser + "/dashboard",
			meter: v.plain.meter, calls: calls})
	}
	return ts
}

// halfTargets are the slow dashboard's three backends loaded directly, one
// after the other, and the dashboard through each variant's gateway. One at
// a time, a backend shares its CPU with less than it does under the
// dashboard (three streams of calls): if anything, that counts the
// contention on the bench's CPU as the gateway's overhead, never the other
// way round.
func (r *rig) halfTargets() []target {
	ts := make([]target, 0, len(dashboardKeys)+len(r.variants))
	for _, key := range dashboardKeys {
		ts = append(ts, target{name: prefixDirect + key, url: r.up.slow[key].URL + "/users/u7/" + key, script: r.pacedScript})
	}
	calls := sumCalls(r.slow()...)
	for _, v := range r.variants {
		ts = append(ts, target{name: v.key + sDashSlow, url: v.plain.url, meter: v.plain.meter, calls: calls,
			script: r.slowUserScript})
	}
	return ts
}

// bigTargets are one large body direct, through nginx and through each
// variant's gateway.
func (r *rig) bigTargets(big *bigBody) []target {
	ts := make([]target, 0, 2+len(r.variants))
	ts = append(ts,
		target{name: big.key + " " + nDirect, url: r.up.big[big].URL + bigPath},
		target{name: big.key + " " + nNginx, url: r.nginx.url + big.prefix + bigPath, meter: r.nginx.meter})
	for _, v := range r.variants {
		ts = append(ts, target{name: big.key + " " + v.key, url: v.plain.url + big.prefix + bigPath, meter: v.plain.meter})
	}
	return ts
}

func (r *rig) fast() []*backend { return backendsOf(r.up.fast) }
func (r *rig) slow() []*backend { return backendsOf(r.up.slow) }

func backendsOf(m map[string]*backend) []*backend {
	out := make([]*backend, 0, len(dashboardKeys))
	for _, key := range dashboardKeys {
		out = append(out, m[key])
	}
	return slices.Clip(out)
}
