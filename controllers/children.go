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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// childSet applies one owner's children, collects their errors, and tells
// a developer (a log line per child) and a person (one Event per reconcile,
// naming every child created or updated: an Event is a write of its own, and
// a Microservice's first reconcile creates three children) what changed.
type childSet struct {
	ctx   context.Context
	c     client.Client
	rec   events.EventRecorder
	owner client.Object
	t     *WriteTracker
	errs  []error
	// avoided: an apply waited for the cache to see our last write; the owner
	// must be looked at again.
	avoided bool
	// changes are "Created ConfigMap x", … for the Event.
	changes []string
	created bool
}

func newChildSet(ctx context.Context, c client.Client, rec events.EventRecorder, owner client.Object, t *WriteTracker) *childSet {
	return &childSet{ctx: ctx, c: c, rec: rec, owner: owner, t: t}
}

func (s *childSet) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: s.owner.GetNamespace(), Name: name}
}

// record notes the outcome of one applyIfChanged.
func (s *childSet) record(kind, name string, res applyResult, err error) {
	if err != nil {
		s.errs = append(s.errs, err)
		return
	}
	if res == applyAvoided {
		s.avoided = true
		return
	}
	if res != applyUnchanged {
		ctrl.LoggerFrom(s.ctx).Info(string(res)+" child", "kind", kind, "name", name)
		s.changes = append(s.changes, fmt.Sprintf("%s %s %s", res, kind, name))
		s.created = s.created || res == applyCreated
	}
}

// announce emits the one Event of this pass's changes: reason Created when
// any child was created, else Updated.
func (s *childSet) announce() {
	if len(s.changes) == 0 {
		return
	}
	reason := applyUpdated
	if s.created {
		reason = applyCreated
	}
	s.rec.Eventf(s.owner, nil, corev1.EventTypeNormal, string(reason), "Apply", "%s", strings.Join(s.changes, ", "))
}

// removeUnwanted deletes an optional child the spec no longer asks for.
func (s *childSet) removeUnwanted(kind, name string, obj client.Object) {
	deleted, err := deleteIfControlled(s.ctx, s.c, s.owner, s.key(name), obj)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("delete %s %s: %w", kind, name, err))
		return
	}
	if deleted {
		s.rec.Eventf(s.owner, nil, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s: the spec no longer asks for it", kind, name)
	}
}

func (s *childSet) err() error { return errors.Join(s.errs...) }

// result announces the changes and is what the reconcile returns once its
// children are applied: a requeue when an apply waited for the cache.
func (s *childSet) result() ctrl.Result {
	s.announce()
	if s.avoided {
		return ctrl.Result{RequeueAfter: staleRequeue}
	}
	return ctrl.Result{}
}

// applyWorkload applies what every owner runs: the Deployment and Service
// named name, and the autoscaler and disruption budget when asked for
// (removing them when no longer asked for).
func (s *childSet) applyWorkload(name string, d *appsv1ac.DeploymentApplyConfiguration, svc *corev1ac.ServiceApplyConfiguration,
	hpa *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration, pdb *policyv1ac.PodDisruptionBudgetApplyConfiguration) {
	res, err := applyIfChanged(s.ctx, s.c, s.t, s.key(name), &appsv1.Deployment{}, d, appsv1ac.ExtractDeployment)
	s.record("Deployment", name, res, err)
	res, err = applyIfChanged(s.ctx, s.c, s.t, s.key(name), &corev1.Service{}, svc, corev1ac.ExtractService)
	s.record("Service", name, res, err)
	if hpa != nil {
		res, err = applyIfChanged(s.ctx, s.c, s.t, s.key(name), &autoscalingv2.HorizontalPodAutoscaler{}, hpa, autoscalingv2ac.ExtractHorizontalPodAutoscaler)
		s.record("HorizontalPodAutoscaler", name, res, err)
	} else {
		s.removeUnwanted("HorizontalPodAutoscaler", name, &autoscalingv2.HorizontalPodAutoscaler{})
	}
	if pdb != nil {
		res, err = applyIfChanged(s.ctx, s.c, s.t, s.key(name), &policyv1.PodDisruptionBudget{}, pdb, policyv1ac.ExtractPodDisruptionBudget)
		s.record("PodDisruptionBudget", name, res, err)
	} else {
		s.removeUnwanted("PodDisruptionBudget", name, &policyv1.PodDisruptionBudget{})
	}
}

// patchStatus writes next as obj's status (held at *current) only when it
// differs, and announces a change of readiness.
func patchStatus[S any](ctx context.Context, c client.Client, rec events.EventRecorder, t *WriteTracker, obj client.Object,
	current *S, next S, conditions func(*S) []metav1.Condition) error {
	kind := kindOf(obj)
	if equality.Semantic.DeepEqual(*current, next) {
		return nil
	}
	cachedRV := obj.GetResourceVersion()
	last, _ := t.behind(kind+"Status", client.ObjectKeyFromObject(obj), cachedRV)
	before := meta.FindStatusCondition(conditions(current), platformv1alpha1.ConditionReady)
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	*current = next
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	rv := obj.GetResourceVersion()
	t.wrote(kind+"Status", client.ObjectKeyFromObject(obj), rv, storedCopy(next))
	if rv == cachedRV || rv == last.rv {
		statusWrites.WithLabelValues(kind, outcomeNoop).Inc()
		return nil
	}
	statusWrites.WithLabelValues(kind, outcomeUpdated).Inc()
	announceReadiness(rec, obj, before, meta.FindStatusCondition(conditions(current), platformv1alpha1.ConditionReady))
	return nil
}

// lastWrittenStatus puts into *current the status the operator last wrote for
// obj when the cache has not seen that write yet (and t avoids stale writes),
// so that status is computed from what the server holds: from the cache's
// older copy a reconcile would patch again what is already there, and move
// lastTransitionTime. It reports whether it did, counting the write avoided.
func lastWrittenStatus[S any](t *WriteTracker, obj client.Object, current *S) bool {
	if t == nil || !t.Avoid {
		return false
	}
	last, behind := t.behind(kindOf(obj)+"Status", client.ObjectKeyFromObject(obj), obj.GetResourceVersion())
	s, ok := last.status.(S)
	if !behind || !ok {
		return false
	}
	*current = s
	return true
}

// storedCopy copies a status as the server stores it (times to the second),
// sharing nothing with the object the response was decoded into.
func storedCopy[S any](s S) any {
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	var out S
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// countAvoidedStatus counts a status write the tracker made unnecessary.
func countAvoidedStatus[S any](obj client.Object, substituted bool, current *S, next S) {
	if substituted && equality.Semantic.DeepEqual(*current, next) {
		statusWrites.WithLabelValues(kindOf(obj), outcomeAvoided).Inc()
	}
}

// announceReadiness emits an Event when the Ready condition changed status
// or reason: Normal when it became True, Warning when False.
func announceReadiness(rec events.EventRecorder, obj client.Object, before, after *metav1.Condition) {
	if after == nil || (before != nil && before.Status == after.Status && before.Reason == after.Reason) {
		return
	}
	switch after.Status {
	case metav1.ConditionTrue:
		rec.Eventf(obj, nil, corev1.EventTypeNormal, after.Reason, "Reconcile", "%s", after.Message)
	case metav1.ConditionFalse:
		rec.Eventf(obj, nil, corev1.EventTypeWarning, after.Reason, "Reconcile", "%s", after.Message)
	}
}
