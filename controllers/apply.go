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
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// fieldOwner is the one field manager the operator applies with.
const fieldOwner = client.FieldOwner("skillmesh-operator")

// applyResult says what applyIfChanged did.
type applyResult string

const (
	applyUnchanged applyResult = ""
	applyCreated   applyResult = "Created"
	applyUpdated   applyResult = "Updated"
)

// children applies one owner's children in one pass, collects their errors,
// and tells a developer (a log line before each write) and a person (one
// Event per pass naming every child created or updated: an Event is a write
// of its own, and a Microservice's first pass creates three children) what
// changed.
type children struct {
	ctx     context.Context
	c       client.Client
	rec     events.EventRecorder
	owner   client.Object
	errs    []error
	changes []string
	created bool
}

func newChildren(ctx context.Context, c client.Client, rec events.EventRecorder, owner client.Object) *children {
	return &children{ctx: ctx, c: c, rec: rec, owner: owner}
}

// applyChild applies one child through s, unless it is already as desired.
func applyChild[T client.Object, A runtime.ApplyConfiguration](s *children, kind, name string, live T, desired A,
	extract func(T, string) (A, error)) {
	key := client.ObjectKey{Namespace: s.owner.GetNamespace(), Name: name}
	res, err := applyIfChanged(s.ctx, s.c, kind, key, live, desired, extract)
	if err != nil {
		s.errs = append(s.errs, err)
		return
	}
	if res != applyUnchanged {
		s.changes = append(s.changes, fmt.Sprintf("%s %s %s", res, kind, name))
		s.created = s.created || res == applyCreated
	}
}

// createIfMissing applies desired only when no object of that name exists:
// for a child whose content must not change now, but without which the
// workload cannot start.
func createIfMissing[T client.Object](s *children, kind, name string, live T, desired runtime.ApplyConfiguration) {
	key := client.ObjectKey{Namespace: s.owner.GetNamespace(), Name: name}
	switch err := s.c.Get(s.ctx, key, live); {
	case err == nil:
		return
	case !apierrors.IsNotFound(err):
		s.errs = append(s.errs, readFailed(fmt.Errorf("get %s %s: %w", kind, key, err)))
		return
	}
	if err := s.c.Apply(s.ctx, desired, fieldOwner, client.ForceOwnership); err != nil {
		s.errs = append(s.errs, fmt.Errorf("apply %s %s: %w", kind, key, err))
		return
	}
	childWrites.WithLabelValues(kind, outcomeCreated).Inc()
	s.changes = append(s.changes, fmt.Sprintf("%s %s %s", applyCreated, kind, name))
	s.created = true
}

// applyWorkload applies what every owner runs: the Deployment and Service,
// and the autoscaler and disruption budget when asked for (removing them
// when no longer asked for).
func (s *children) applyWorkload(name string, w workloadChildren) {
	applyChild(s, "Deployment", name, &appsv1.Deployment{}, w.Deployment, appsv1ac.ExtractDeployment)
	applyChild(s, "Service", name, &corev1.Service{}, w.Service, corev1ac.ExtractService)
	if w.HPA != nil {
		applyChild(s, "HorizontalPodAutoscaler", name, &autoscalingv2.HorizontalPodAutoscaler{}, w.HPA, autoscalingv2ac.ExtractHorizontalPodAutoscaler)
	} else {
		s.removeUnwanted("HorizontalPodAutoscaler", name, &autoscalingv2.HorizontalPodAutoscaler{})
	}
	if w.PDB != nil {
		applyChild(s, "PodDisruptionBudget", name, &policyv1.PodDisruptionBudget{}, w.PDB, policyv1ac.ExtractPodDisruptionBudget)
	} else {
		s.removeUnwanted("PodDisruptionBudget", name, &policyv1.PodDisruptionBudget{})
	}
}

// removeUnwanted deletes an optional child the spec no longer asks for.
func (s *children) removeUnwanted(kind, name string, obj client.Object) {
	key := client.ObjectKey{Namespace: s.owner.GetNamespace(), Name: name}
	deleted, err := deleteIfControlled(s.ctx, s.c, s.owner, kind, key, obj)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("delete %s %s: %w", kind, name, err))
		return
	}
	if deleted {
		s.rec.Eventf(s.owner, nil, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s: the spec no longer asks for it", kind, name)
	}
}

// done emits the pass's one Event of changes (reason Created when any child
// was created, else Updated) and returns what applying failed with: nil, a
// terminal error when the API server refused every failed child, or the
// joined errors to retry.
func (s *children) done() error {
	if len(s.changes) > 0 {
		reason := applyUpdated
		if s.created {
			reason = applyCreated
		}
		s.rec.Eventf(s.owner, nil, corev1.EventTypeNormal, string(reason), "Apply", "%s", strings.Join(s.changes, ", "))
	}
	return applyError(s.errs)
}

// applyIfChanged server-side applies desired unless the live object already
// holds every field desired sets, as owned by our field manager. Comparing the
// extracted fields with the desired ones, instead of applying blindly, is what
// lets a pass with nothing to do send no write at all. A field someone else
// changed (kubectl edit, another controller) is no longer ours, so the
// comparison fails and the forced apply takes it back.
func applyIfChanged[T client.Object, A runtime.ApplyConfiguration](
	ctx context.Context, c client.Client, kind string, key client.ObjectKey, live T, desired A,
	extract func(T, string) (A, error),
) (applyResult, error) {
	log := ctrl.LoggerFrom(ctx)
	result, cachedRV := applyUpdated, ""
	switch err := c.Get(ctx, key, live); {
	case apierrors.IsNotFound(err):
		result = applyCreated
	case err != nil:
		return applyUnchanged, readFailed(fmt.Errorf("get %s %s: %w", kind, key, err))
	default:
		cachedRV = live.GetResourceVersion()
		current, err := extract(live, string(fieldOwner))
		if err != nil {
			return applyUnchanged, fmt.Errorf("extract fields of %s %s: %w", kind, key, err)
		}
		if equality.Semantic.DeepEqual(current, desired) {
			log.V(2).Info("Unchanged "+kind, kind, klog.KRef(key.Namespace, key.Name))
			return applyUnchanged, nil
		}
	}
	log.Info("Applying "+kind, kind, klog.KRef(key.Namespace, key.Name), "create", result == applyCreated)
	if err := c.Apply(ctx, desired, fieldOwner, client.ForceOwnership); err != nil {
		return applyUnchanged, fmt.Errorf("apply %s %s: %w", kind, key, err)
	}
	// The server's answer is decoded into desired. Its resourceVersion equal
	// to the cache's means the server already held all of it: the cache was
	// behind our own last write.
	if rv := appliedResourceVersion(desired); rv != "" && rv == cachedRV {
		childWrites.WithLabelValues(kind, outcomeNoop).Inc()
		return applyUnchanged, nil
	}
	childWrites.WithLabelValues(kind, map[applyResult]string{applyCreated: outcomeCreated, applyUpdated: outcomeUpdated}[result]).Inc()
	return result, nil
}

// appliedResourceVersion reads metadata.resourceVersion from an apply
// configuration that holds the server's answer.
func appliedResourceVersion(ac runtime.ApplyConfiguration) string {
	raw, err := json.Marshal(ac)
	if err != nil {
		return ""
	}
	var answer struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return ""
	}
	return answer.Metadata.ResourceVersion
}

// deleteIfControlled removes an optional child the spec no longer asks for,
// but only one that owner controls: an object of the same name made by
// someone else is left alone.
func deleteIfControlled(ctx context.Context, c client.Client, owner metav1.Object, kind string, key client.ObjectKey, obj client.Object) (bool, error) {
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, readFailed(err)
	}
	if !metav1.IsControlledBy(obj, owner) {
		return false, nil
	}
	ctrl.LoggerFrom(ctx).Info("Deleting "+kind, kind, klog.KRef(key.Namespace, key.Name))
	if err := c.Delete(ctx, obj, client.Preconditions{UID: new(obj.GetUID())}); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return true, nil
}

// patchStatus writes next as the status of obj (whose copy before the pass
// is original, with status at *current) only when it differs, and tells a
// person, by an Event, when readiness changed. It is the pass's one status
// write.
func patchStatus[S any](ctx context.Context, c client.Client, rec events.EventRecorder, kind string, obj, original client.Object,
	current *S, next S, conditions func(*S) []metav1.Condition) error {
	if equality.Semantic.DeepEqual(*current, next) {
		return nil
	}
	cachedRV := obj.GetResourceVersion()
	before := meta.FindStatusCondition(conditions(current), platformv1alpha1.ConditionReady)
	*current = next
	ctrl.LoggerFrom(ctx).V(1).Info("Patching status", kind, klog.KObj(obj))
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(original)); err != nil {
		return fmt.Errorf("patch status of %s %s: %w", kind, klog.KObj(obj), err)
	}
	if obj.GetResourceVersion() == cachedRV {
		statusWrites.WithLabelValues(kind, outcomeNoop).Inc()
		return nil
	}
	statusWrites.WithLabelValues(kind, outcomeUpdated).Inc()
	announceReadiness(rec, obj, before, meta.FindStatusCondition(conditions(current), platformv1alpha1.ConditionReady))
	return nil
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

// statusPatchFailed is what a pass returns when its status patch failed:
// the patch error, to be retried, with what the pass itself returned told
// but not wrapped (a terminal error of the pass must not stop the retry).
func statusPatchFailed(patchErr, passErr error) error {
	if passErr == nil {
		return patchErr
	}
	return fmt.Errorf("%w (the pass itself: %v)", patchErr, passErr)
}
