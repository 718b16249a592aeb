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

package gateway

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's per-backend figures; per-route ones come from
// httpx.Instrument.
type metrics struct {
	latency *prometheus.HistogramVec
	errors  *prometheus.CounterVec
	reloads *prometheus.CounterVec
	retries *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_backend_request_duration_seconds", Help: "Latency of calls to each backend.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"backend"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_backend_errors_total", Help: "Failed or timed-out calls to each backend.",
		}, []string{"backend"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_config_reloads_total", Help: "Configuration loads, by result.",
		}, []string{"result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_backend_retries_total", Help: "Calls sent again once because the backend never handled the first (a pod going away).",
		}, []string{"host"}),
	}
	reg.MustRegister(m.latency, m.errors, m.reloads, m.retries)
	return m
}

// backendMetrics are one backend's series, looked up once when a
// configuration is compiled rather than by label on every request.
type backendMetrics struct {
	latency prometheus.Observer
	errors  prometheus.Counter
}

func (m *metrics) backend(name string) backendMetrics {
	return backendMetrics{latency: m.latency.WithLabelValues(name), errors: m.errors.WithLabelValues(name)}
}

func (b backendMetrics) observe(d time.Duration) { b.latency.Observe(d.Seconds()) }

func (b backendMetrics) failed() { b.errors.Inc() }

// retried counts a retry by the backend's host (a Service name and port: few).
func (m *metrics) retried(req *http.Request) { m.retries.WithLabelValues(req.URL.Host).Inc() }
