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
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of a write, the label of the write metrics.
const (
	outcomeCreated = "created"
	outcomeUpdated = "updated"
	// outcomeNoop: the request was sent but the server already held it (the
	// resourceVersion did not move): the cache was behind our last write.
	outcomeNoop = "noop"
	// outcomeAvoided: not sent, because the cache was behind our last write
	// (see WriteTracker).
	outcomeAvoided = "avoided"
)

var (
	childWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skillmesh_child_writes_total",
		Help: "Server-side applies of children, by kind and outcome (created, updated, noop, avoided).",
	}, []string{"kind", "outcome"})
	statusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skillmesh_status_writes_total",
		Help: "Status patches, by kind and outcome (updated, noop, avoided).",
	}, []string{"kind", "outcome"})
)

func init() {
	metrics.Registry.MustRegister(childWrites, statusWrites)
}

// staleWindow bounds how long a write is remembered: a cache later than that
// behind our write is trusted again, so a child deleted by someone before the
// cache ever saw it is still recreated.
const staleWindow = 5 * time.Second

// staleRequeue is when a reconcile that avoided an apply looks again, should
// the watch event of the write it waits for never come.
const staleRequeue = 2 * time.Second

// WriteTracker remembers the resourceVersion each of the operator's writes
// returned, so that a reconcile that runs before the informer delivered that
// write (its cache holds an older object, or none) can tell: right after a
// create the next reconcile would otherwise see no child and apply it again,
// and right after a status patch it would compute status from the old one.
// With Avoid set those writes are not sent: a child's apply waits for the
// watch event (the owner is requeued anyway), and status is computed from the
// status last written. Without it the writes are sent and only counted
// (skillmesh_child_writes_total / skillmesh_status_writes_total, outcome
// noop). A nil tracker tracks nothing.
type WriteTracker struct {
	Avoid bool

	mu     sync.Mutex
	last   map[trackedKey]trackedWrite
	writes int
}

type trackedKey struct {
	kind string
	key  client.ObjectKey
}

type trackedWrite struct {
	rv     string
	at     time.Time
	status any
}

// NewWriteTracker returns a tracker; avoid says whether it avoids the writes
// a stale cache would cause or only counts them.
func NewWriteTracker(avoid bool) *WriteTracker {
	return &WriteTracker{Avoid: avoid, last: map[trackedKey]trackedWrite{}}
}

// behind reports whether the cache's copy (cachedRV, "" when the cache has
// none) predates our last write of kind/key, and that write.
func (t *WriteTracker) behind(kind string, key client.ObjectKey, cachedRV string) (trackedWrite, bool) {
	if t == nil {
		return trackedWrite{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := trackedKey{kind, key}
	w, ok := t.last[k]
	switch {
	case !ok:
		return trackedWrite{}, false
	case time.Since(w.at) > staleWindow:
		delete(t.last, k)
		return w, false
	case cachedRV == "":
		return w, true
	}
	if c, err := resourceversion.CompareResourceVersion(cachedRV, w.rv); err != nil || c >= 0 {
		// The cache caught up (or the versions do not compare): trust it.
		delete(t.last, k)
		return w, false
	}
	return w, true
}

// wrote records a write of kind/key that returned rv (and, for status, the
// status written).
func (t *WriteTracker) wrote(kind string, key client.ObjectKey, rv string, status any) {
	if t == nil || rv == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last[trackedKey{kind, key}] = trackedWrite{rv: rv, at: time.Now(), status: status}
	if t.writes++; t.writes%1024 == 0 {
		for k, w := range t.last {
			if time.Since(w.at) > staleWindow {
				delete(t.last, k)
			}
		}
	}
}

// appliedResourceVersion reads metadata.resourceVersion from an apply
// configuration that holds the server's answer (client.Apply decodes it there).
func appliedResourceVersion(ac any) string {
	v := reflect.ValueOf(ac)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName("ObjectMetaApplyConfiguration")
	if !f.IsValid() || f.IsNil() {
		return ""
	}
	om, ok := reflect.TypeAssert[*metav1ac.ObjectMetaApplyConfiguration](f)
	if !ok || om.ResourceVersion == nil {
		return ""
	}
	return *om.ResourceVersion
}

// kindOf names an object's Go type: ConfigMap, Deployment, …
func kindOf(o any) string {
	t := reflect.TypeOf(o)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
