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
	"strconv"
	"strings"
)

// The goals the gateway is held to, against nginx and the backend direct,
// all measured in the same run.
const (
	goalRPSvsNginx     = 1.0  // req/s at least this × nginx's
	goalCPUvsNginx     = 1.0  // CPU per request at most this × nginx's
	goalP99vsNginx     = 1.2  // p99 at most this × nginx's
	goalRPSvsDirect    = 0.45 // req/s at least this × the backend's direct
	goalRSSvsNginx     = 1.5  // peak RSS at most this × nginx's, at refConns
	goalOverheadP99    = 1.0  // ms the dashboard's p99 may exceed its slowest backend's at half saturation
	goalAggPerCoreSecs = 5000 // aggregations per CPU second at saturation, many users
)

// of groups table cells.
func of(cells ...string) []string { return cells }

// row writes one Markdown table row of the cells of every group.
func row(w *strings.Builder, groups ...[]string) {
	var cells []string
	for _, g := range groups {
		cells = append(cells, g...)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// header writes a table's head: the first left-aligned columns are text,
// the rest figures.
func header(w *strings.Builder, text int, names ...string) {
	fmt.Fprintf(w, "\n| %s |\n|", strings.Join(names, " | "))
	for i := range names {
		if i < text {
			fmt.Fprint(w, "---|")
		} else {
			fmt.Fprint(w, "---:|")
		}
	}
	fmt.Fprintln(w)
}

// serverCells are req/s, p50, p99, CPU s per 10k requests and peak RSS.
func serverCells(f figures) []string {
	return of(rps(f.rps), ms(f.p50), ms(f.p99), cpu10k(f.cpuPer10k), mib(f.rssMiB))
}

// serverRatios are a's serverCells over b's.
func serverRatios(a, b figures) []string {
	return of(ratio(a.rps, b.rps), ratio(a.p50, b.p50), ratio(a.p99, b.p99),
		ratio(a.cpuPer10k, b.cpuPer10k), ratio(a.rssMiB, b.rssMiB))
}

// aggCells are aggregations/s, p50, p99, CPU s per 10k, aggregations per
// core-second and sub-calls per aggregation.
func aggCells(f figures) []string {
	return of(rps(f.rps), ms(f.p50), ms(f.p99), cpu10k(f.cpuPer10k),
		fmt.Sprintf("%.0f", f.perCoreSecond), fmt.Sprintf("%.2f", f.callsPer))
}

func aggRatios(a, b figures) []string {
	return of(ratio(a.rps, b.rps), ratio(a.p50, b.p50), ratio(a.p99, b.p99), ratio(a.cpuPer10k, b.cpuPer10k),
		ratio(a.perCoreSecond, b.perCoreSecond), ratio(a.callsPer, b.callsPer))
}

// compareRatio writes the "gateway / -compare" row when -compare is set:
// the tree's gateway's figures over the -compare one's, by name; label
// says what is compared when the row alone does not.
func compareRatio(w *strings.Builder, b *bench, r *rig, lead []string, label string, name func(*variant) string,
	conns int, ratios func(a, b figures) []string) {
	if len(r.variants) < 2 {
		return
	}
	g, x := b.fig(name(r.variants[0]), conns), b.fig(name(r.variants[1]), conns)
	row(w, lead, of("**gateway / -compare"+label+"**"), ratios(g, x))
}

// thousands writes n with a comma between thousands, as the tables' prose
// does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// goal is one goal's verdict: what, pass or fail, and the figure.
func goal(what string, ok bool, got string) string {
	verdict := "pass"
	if !ok {
		verdict = "**FAIL**"
	}
	return fmt.Sprintf("%s: %s (%s)", what, verdict, got)
}

func times(v float64) string { return fmt.Sprintf("%.2f×", v) }

func proxyTable(w *strings.Builder, b *bench, r *rig) {
	fmt.Fprintf(w, "\n### Proxy: a small JSON answer (%d bytes) directly, through nginx, through the gateway's route, "+
		"through the floor\n", len(smallBody))
	header(w, 2, "conns", "target", "req/s", "p50", "p99", "CPU s / 10k req", "peak RSS")
	gw := r.variants[0]
	for _, c := range b.o.conns {
		cs := of(strconv.Itoa(c))
		d, n, g, fl := b.fig(nDirect, c), b.fig(nNginx, c), b.fig(gw.key, c), b.fig(nFloor, c)
		row(w, cs, of("direct to the backend (baseline)", rps(d.rps), ms(d.p50), ms(d.p99), "–", "–"))
		row(w, cs, of("nginx (1 worker)"), serverCells(n))
		for _, v := range r.variants {
			row(w, cs, of(v.label), serverCells(b.fig(v.key, c)))
		}
		row(w, cs, of(floorLabel), serverCells(fl))
		row(w, cs, of("**gateway / direct**", ratio(g.rps, d.rps), ratio(g.p50, d.p50), ratio(g.p99, d.p99), "–", "–"))
		row(w, cs, of("**gateway / nginx**"), serverRatios(g, n))
		row(w, cs, of("**gateway / floor**"), serverRatios(g, fl))
		row(w, cs, of("**floor / nginx**"), serverRatios(fl, n))
		compareRatio(w, b, r, cs, "", func(v *variant) string { return v.key }, c, serverRatios)
	}
	fmt.Fprintln(w)
	for _, c := range b.o.conns {
		fmt.Fprintf(w, "- Goals at %d connections (%s): %s\n", c, gw.label, proxyGoals(b.fig(nDirect, c),
			b.fig(nNginx, c), b.fig(gw.key, c), c == refConns))
	}
}

// proxyGoals are the proxy table's verdicts for one connection count; the
// memory goal is held at refConns only.
func proxyGoals(d, n, g figures, withRSS bool) string {
	rpsN, cpuN, p99N, rpsD := g.rps/n.rps, g.cpuPer10k/n.cpuPer10k, g.p99/n.p99, g.rps/d.rps
	goals := []string{
		goal(fmt.Sprintf("req/s ≥ %.2f× nginx", goalRPSvsNginx), rpsN >= goalRPSvsNginx, times(rpsN)),
		goal(fmt.Sprintf("CPU per request ≤ %.2f× nginx", goalCPUvsNginx), cpuN <= goalCPUvsNginx, times(cpuN)),
		goal(fmt.Sprintf("p99 ≤ %.2f× nginx", goalP99vsNginx), p99N <= goalP99vsNginx, times(p99N)),
		goal(fmt.Sprintf("req/s ≥ %.2f× direct", goalRPSvsDirect), rpsD >= goalRPSvsDirect, times(rpsD)),
	}
	if withRSS {
		rss := g.rssMiB / n.rssMiB
		goals = append(goals, goal(fmt.Sprintf("peak RSS ≤ %.2f× nginx", goalRSSvsNginx), rss <= goalRSSvsNginx,
			fmt.Sprintf("%s, %s against %s", times(rss), mib(g.rssMiB), mib(n.rssMiB))))
	}
	return strings.Join(goals, " · ")
}

func twoCoreTable(w *strings.Builder, b *bench, r *rig) {
	fmt.Fprintf(w, "\n### Two cores, %d connections: nginx worker_processes 2, gateway GOMAXPROCS=2, "+
		"neither pinned (both CPUs, shared with wrk)\n", refConns)
	header(w, 1, "target", "req/s", "p50", "p99", "CPU s / 10k req", "peak RSS")
	n, g := b.fig(nNginx2, refConns), b.fig(r.variants[0].key+sTwoCores, refConns)
	row(w, of("nginx (2 workers)"), serverCells(n))
	for _, v := range r.variants {
		row(w, of(v.label+" (GOMAXPROCS=2)"), serverCells(b.fig(v.key+sTwoCores, refConns)))
	}
	row(w, of("**gateway / nginx**"), serverRatios(g, n))
	compareRatio(w, b, r, nil, "", func(v *variant) string { return v.key + sTwoCores }, refConns, serverRatios)
}

func edgeTable(w *strings.Builder, b *bench, r *rig) {
	fmt.Fprintf(w, "\n### Edge features: JWT auth and a rate limit (never reached), %d connections\n", refConns)
	header(w, 1, "target", "req/s", "p50", "p99", "CPU s / 10k req", "peak RSS")
	n := b.fig(nNginx, refConns)
	row(w, of("nginx (plain, the reference)"), serverCells(n))
	for _, v := range r.variants {
		row(w, of(v.label+", edge off"), serverCells(b.fig(v.key, refConns)))
		row(w, of(v.label+", edge on"), serverCells(b.fig(v.key+sEdge, refConns)))
	}
	gw := r.variants[0]
	on, off := b.fig(gw.key+sEdge, refConns), b.fig(gw.key, refConns)
	row(w, of("**edge on / edge off**"), serverRatios(on, off))
	row(w, of("**edge on / nginx**"), serverRatios(on, n))
	compareRatio(w, b, r, nil, ", edge on", func(v *variant) string { return v.key + sEdge }, refConns, serverRatios)

	c := b.o.aggConns
	fmt.Fprintf(w, "\nThe dashboard with the edge features off and on, %d connections, %s users (each its own token)\n",
		c, thousands(userCount))
	header(w, 1, "target", "aggregations/s", "p50", "p99", "CPU s / 10k", "aggregations per core-second",
		"sub-calls per aggregation")
	for _, v := range r.variants {
		row(w, of(v.label+", edge off"), aggCells(b.fig(v.key+sDash, c)))
		row(w, of(v.label+", edge on"), aggCells(b.fig(v.key+sDashEdge, c)))
	}
	row(w, of("**edge on / edge off**"), aggRatios(b.fig(gw.key+sDashEdge, c), b.fig(gw.key+sDash, c)))
	compareRatio(w, b, r, nil, ", edge on", func(v *variant) string { return v.key + sDashEdge }, c, aggRatios)
}

func saturationTable(w *strings.Builder, b *bench, r *rig) {
	c := b.o.aggConns
	fmt.Fprintf(w, "\n### Aggregation at saturation: the sample dashboard over 3 backends that answer at once, "+
		"%d connections\n", c)
	header(w, 2, "load", "target", "aggregations/s", "p50", "p99", "CPU s / 10k", "aggregations per core-second",
		"sub-calls per aggregation")
	for _, load := range []struct{ label, suffix string }{
		{thousands(userCount) + " users, round-robin", sDash},
		{"one user (" + oneUser + ")", sDashOne},
	} {
		for _, v := range r.variants {
			row(w, of(load.label, v.label), aggCells(b.fig(v.key+load.suffix, c)))
		}
		compareRatio(w, b, r, of(load.label), "", func(v *variant) string { return v.key + load.suffix }, c, aggRatios)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Sub-calls below 3 per aggregation mean identical calls in flight were made once (coalescing); "+
		"the calls of the aggregations still in flight when a run ends add a little above 3.")
}

func halfTable(w *strings.Builder, b *bench, r *rig, f facts) {
	c := f.halfConns
	sat := b.fig(r.variants[0].key+sDash, b.o.aggConns).rps
	fmt.Fprintf(w, "\n### Overhead at half saturation: the dashboard over 3 backends that each take %d ms, "+
		"%d connections (≈ 0.5 × %.0f aggregations/s × (%.1f ms + %d ms think time)), %s users\n\n"+
		"Each connection pauses a random 0–%d ms before each request (wrk's delay()), the direct backend runs too, "+
		"so arrivals are spread as an open load's would be instead of every connection in step.\n",
		backendDelay.Milliseconds(), c, sat, littleLatency*1000, thinkMillis, thousands(userCount), 2*thinkMillis)
	header(w, 1, "target", "req/s", "of saturation", "p50", "p99")
	var slow figures // the slowest backend: the largest p50 and p99 of the three
	for _, key := range dashboardKeys {
		d := b.fig(prefixDirect+key, c)
		slow.p50, slow.p99 = max(slow.p50, d.p50), max(slow.p99, d.p99)
		row(w, of(key+" backend, direct", rps(d.rps), "–", ms(d.p50), ms(d.p99)))
	}
	row(w, of("slowest backend (the largest of the three)", "–", "–", ms(slow.p50), ms(slow.p99)))
	for _, v := range r.variants {
		g, vsat := b.fig(v.key+sDashSlow, c), b.fig(v.key+sDash, b.o.aggConns).rps
		row(w, of("dashboard through "+v.label, rps(g.rps), fmt.Sprintf("%.2f", g.rps/vsat), ms(g.p50), ms(g.p99)))
	}
	for _, v := range r.variants {
		g := b.fig(v.key+sDashSlow, c)
		row(w, of("**"+v.label+"'s overhead** (dashboard − slowest backend)", "–", "–",
			msDelta(g.p50-slow.p50), msDelta(g.p99-slow.p99)))
	}
	gw := r.variants[0]
	over := b.fig(gw.key+sDashSlow, c).p99 - slow.p99
	perCore := b.fig(gw.key+sDash, b.o.aggConns).perCoreSecond
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- Goals (%s): %s · %s\n", gw.label,
		goal(fmt.Sprintf("dashboard p99 overhead at half saturation ≤ %.0f ms", goalOverheadP99),
			over <= goalOverheadP99, msDelta(over)),
		goal("aggregations per core-second at saturation ≥ "+thousands(goalAggPerCoreSecs),
			perCore >= goalAggPerCoreSecs, fmt.Sprintf("%.0f, %s users", perCore, thousands(userCount))))
}

func bigTable(w *strings.Builder, b *bench, r *rig, f facts) {
	sizes := make([]string, 0, len(r.bigs))
	for _, big := range r.bigs {
		sizes = append(sizes, fmt.Sprintf("%s (%d connections)", big.label, big.conns))
	}
	fmt.Fprintf(w, "\n### Large bodies: JSON answers of %s, with Content-Length\n", strings.Join(sizes, " and "))
	header(w, 3, "body", "conns", "target", "req/s", "MB/s", "p99", "CPU s / 10k req", "peak RSS")
	mbps := func(f figures) string { return fmt.Sprintf("%.0f", f.bytesPerSec/1e6) }
	for _, big := range r.bigs {
		lead := of(big.label, strconv.Itoa(big.conns))
		d, n := b.fig(big.key+" "+nDirect, big.conns), b.fig(big.key+" "+nNginx, big.conns)
		row(w, lead, of("direct to the backend (baseline)", rps(d.rps), mbps(d), ms(d.p99), "–", "–"))
		row(w, lead, of("nginx (1 worker)", rps(n.rps), mbps(n), ms(n.p99), cpu10k(n.cpuPer10k), mib(n.rssMiB)))
		for _, v := range r.variants {
			g := b.fig(big.key+" "+v.key, big.conns)
			row(w, lead, of(v.label, rps(g.rps), mbps(g), ms(g.p99), cpu10k(g.cpuPer10k), mib(g.rssMiB)))
		}
		ratios := func(a, b figures) []string {
			return of(ratio(a.rps, b.rps), ratio(a.bytesPerSec, b.bytesPerSec), ratio(a.p99, b.p99),
				ratio(a.cpuPer10k, b.cpuPer10k), ratio(a.rssMiB, b.rssMiB))
		}
		row(w, lead, of("**gateway / nginx**"), ratios(b.fig(big.key+" "+r.variants[0].key, big.conns), n))
		compareRatio(w, b, r, lead, "", func(v *variant) string { return big.key + " " + v.key }, big.conns, ratios)
	}
	fmt.Fprintln(w)
	for _, v := range r.variants {
		fmt.Fprintf(w, "- %s: %s\n", v.label, streamed(b, r, f, v))
	}
}

// streamed says, per large body, whether the gateway streamed it: its peak
// RSS during the runs stayed within half of what holding every answer in
// flight (conns × body size) would take, over its RSS before those runs.
func streamed(b *bench, r *rig, f facts, v *variant) string {
	before := float64(f.rssBefore[v.key]) / (1 << 20)
	parts := make([]string, 0, 1+len(r.bigs))
	parts = append(parts, "RSS before the large-body runs "+mib(before))
	for _, big := range r.bigs {
		peak := float64(b.peakRSS(big.key+" "+v.key, big.conns)) / (1 << 20)
		bound := float64(big.conns) * float64(len(big.body)) / 2 / (1 << 20)
		verdict := "yes"
		if peak-before >= bound {
			verdict = "**no**"
		}
		parts = append(parts, fmt.Sprintf("%s × %d: peak %s (%+.1f MiB; half of conns × body is %s): streamed: %s",
			big.label, big.conns, mib(peak), peak-before, mib(bound), verdict))
	}
	return strings.Join(parts, "; ")
}
