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

package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of a write, the label of the write metrics.
const (
	outcomeCreated = "created"
	outcomeUpdated = "updated"
	// outcomeNoop: the request was sent but the server already held it (the
	// resourceVersion did not move): the cache was behind the operator's
	// last write.
	outcomeNoop = "noop"
)

var (
	childWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skillmesh_child_writes_total",
		Help: "Server-side applies of children, by kind and outcome (created, updated, noop).",
	}, []string{"kind", "outcome"})
	statusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skillmesh_status_writes_total",
		Help: "Status patches, by kind and outcome (updated, noop).",
	}, []string{"kind", "outcome"})
)

func init() {
	metrics.Registry.MustRegister(childWrites, statusWrites)
}
