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
	"math"
	"slices"
	"strconv"
	"strings"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape is one read of a /metrics endpoint.
type scrape []sample

// parseMetrics reads the Prometheus text format; comments are skipped.
func parseMetrics(text string) scrape {
	var s scrape
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, rest := line, map[string]string{}, ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest = line[:i], line[j+1:]
			labels = parseLabels(line[i+1 : j])
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		s = append(s, sample{name: name, labels: labels, value: v})
	}
	return s
}

func parseLabels(s string) map[string]string {
	labels := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			break
		}
		key := strings.TrimSpace(s[:eq])
		var val strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			val.WriteByte(s[i])
		}
		labels[key] = val.String()
		s = strings.TrimLeft(s[min(i+1, len(s)):], ", ")
	}
	return labels
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (s scrape) sum(name string, match map[string]string) float64 {
	t := 0.0
	for _, x := range s {
		if x.name == name && matches(x.labels, match) {
			t += x.value
		}
	}
	return t
}

// by sums name's samples grouped by one label.
func (s scrape) by(name, label string, match map[string]string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s {
		if x.name == name && matches(x.labels, match) {
			out[x.labels[label]] += x.value
		}
	}
	return out
}

// minus is s − before, sample by sample (counters and histogram buckets).
func (s scrape) minus(before scrape) scrape {
	key := func(x sample) string {
		keys := make([]string, 0, len(x.labels))
		for k, v := range x.labels {
			keys = append(keys, k+"="+v)
		}
		slices.Sort(keys)
		return x.name + "{" + strings.Join(keys, ",") + "}"
	}
	prev := map[string]float64{}
	for _, x := range before {
		prev[key(x)] = x.value
	}
	out := make(scrape, 0, len(s))
	for _, x := range s {
		x.value -= prev[key(x)]
		out = append(out, x)
	}
	return out
}

// quantile estimates a histogram's q-quantile from its cumulative buckets
// (linear within a bucket, as PromQL's histogram_quantile does).
func (s scrape) quantile(name string, match map[string]string, q float64) float64 {
	type bucket struct{ le, count float64 }
	var buckets []bucket
	for le, c := range s.by(name+"_bucket", "le", match) {
		v, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		buckets = append(buckets, bucket{v, c})
	}
	slices.SortFunc(buckets, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	if len(buckets) == 0 || buckets[len(buckets)-1].count == 0 {
		return math.NaN()
	}
	rank := q * buckets[len(buckets)-1].count
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return lower
			}
			if b.count == below {
				return b.le
			}
			return lower + (b.le-lower)*(rank-below)/(b.count-below)
		}
		lower, below = b.le, b.count
	}
	return lower
}
