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
	"errors"
	"fmt"

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
// a person (an Event) and a developer (a log line) what changed.
type childSet struct {
	ctx   context.Context
	c     client.Client
	rec   events.EventRecorder
	owner client.Object
	errs  []error
}

func newChildSet(ctx context.Context, c client.Client, rec events.EventRecorder, owner client.Object) *childSet {
	return &childSet{ctx: ctx, c: c, rec: rec, owner: owner}
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
	if res != applyUnchanged {
		ctrl.LoggerFrom(s.ctx).Info(string(res)+" child", "kind", kind, "name", name)
		s.rec.Eventf(s.owner, nil, corev1.EventTypeNormal, string(res), "Apply", "%s %s %s", res, kind, name)
	}
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

// applyWorkload applies what every owner runs: the Deployment and Service
// named name, and the autoscaler and disruption budget when asked for
// (removing them when no longer asked for).
func (s *childSet) applyWorkload(name string, d *appsv1ac.DeploymentApplyConfiguration, svc *corev1ac.ServiceApplyConfiguration,
	hpa *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration, pdb *policyv1ac.PodDisruptionBudgetApplyConfiguration) {
	res, err := applyIfChanged(s.ctx, s.c, s.key(name), &appsv1.Deployment{}, d, appsv1ac.ExtractDeployment)
	s.record("Deployment", name, res, err)
	res, err = applyIfChanged(s.ctx, s.c, s.key(name), &corev1.Service{}, svc, corev1ac.ExtractService)
	s.record("Service", name, res, err)
	if hpa != nil {
		res, err = applyIfChanged(s.ctx, s.c, s.key(name), &autoscalingv2.HorizontalPodAutoscaler{}, hpa, autoscalingv2ac.ExtractHorizontalPodAutoscaler)
		s.record("HorizontalPodAutoscaler", name, res, err)
	} else {
		s.removeUnwanted("HorizontalPodAutoscaler", name, &autoscalingv2.HorizontalPodAutoscaler{})
	}
	if pdb != nil {
		res, err = applyIfChanged(s.ctx, s.c, s.key(name), &policyv1.PodDisruptionBudget{}, pdb, policyv1ac.ExtractPodDisruptionBudget)
		s.record("PodDisruptionBudget", name, res, err)
	} else {
		s.removeUnwanted("PodDisruptionBudget", name, &policyv1.PodDisruptionBudget{})
	}
}

// patchStatus writes next as obj's status (held at *current) only when it
// differs, and announces a change of readiness.
func patchStatus[S any](ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object,
	current *S, next S, conditions func(*S) []metav1.Condition) error {
	if equality.Semantic.DeepEqual(*current, next) {
		return nil
	}
	before := meta.FindStatusCondition(conditions(current), platformv1alpha1.ConditionReady)
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	*current = next
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
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
