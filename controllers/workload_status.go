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
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// workloadObservation is what a pass saw of the workload.
type workloadObservation struct {
	// Deployment as the cache holds it; nil before it exists.
	Deployment *appsv1.Deployment
	// PodIssue is why the pods cannot run, if one of them is stuck.
	PodIssue *podIssue
}

// observeWorkload reads, from the cache, the Deployment named like its owner
// (nil before it exists) and the diagnosis of the pods the selector picks.
func observeWorkload(ctx context.Context, c client.Reader, key client.ObjectKey, selector map[string]string) (workloadObservation, error) {
	var obs workloadObservation
	deployment := &appsv1.Deployment{}
	switch err := c.Get(ctx, key, deployment); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return obs, fmt.Errorf("get Deployment %s: %w", key, err)
	default:
		obs.Deployment = deployment
	}
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(key.Namespace), client.MatchingLabels(selector)); err != nil {
		return obs, fmt.Errorf("list pods of %s: %w", key, err)
	}
	obs.PodIssue = diagnosePods(pods.Items)
	return obs, nil
}

// replicaCounts is what status reports of the pods: how many there are, how
// many are ready, and how many the rollout must reach: spec.replicas, or,
// while an autoscaler runs, what it asked the Deployment for.
func replicaCounts(d *appsv1.Deployment, replicas int32, autoscaled bool) (total, ready, desired int32) {
	desired = replicas
	if d != nil {
		total, ready = d.Status.Replicas, d.Status.ReadyReplicas
		if autoscaled && d.Spec.Replicas != nil {
			desired = *d.Spec.Replicas
		}
	}
	return total, ready, desired
}

// statusInput is everything the conditions of either kind are computed from.
type statusInput struct {
	Generation int64
	Workload   workloadObservation
	// Desired is the replica count the rollout must reach.
	Desired int32
	// References is DependenciesReady or BackendsReady.
	References metav1.Condition
	Outcome    outcome
	// Ready is "ready/desired", for Ready's message.
	Ready string
	// Extra conditions of the kind (Paused), set as they are.
	Extra []metav1.Condition
}

// setConditions computes every condition of a workload-running kind into
// conditions, keeping the lastTransitionTime of those that did not change:
// Available, Progressing and Degraded from the Deployment and its pods, the
// references condition, and the summaries Ready, Reconciling and Stalled.
func setConditions(conditions *[]metav1.Condition, in statusInput) {
	set := func(c metav1.Condition) {
		c.ObservedGeneration = in.Generation
		meta.SetStatusCondition(conditions, c)
	}
	d := in.Workload.Deployment
	available := availableCondition(d)
	progressing := progressingCondition(d, in.Desired)
	degraded := degradedCondition(d, in.Outcome, in.Workload.PodIssue)
	ready := readyCondition(available, degraded, in.References, in.Outcome, in.Ready)
	stalled := stalledCondition(degraded)
	set(available)
	set(progressing)
	set(degraded)
	set(in.References)
	for _, c := range in.Extra {
		set(c)
	}
	set(ready)
	set(reconcilingCondition(ready, progressing, stalled))
	set(stalled)
}

func deploymentObserved(d *appsv1.Deployment) bool {
	return d != nil && d.Status.ObservedGeneration > 0
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func availableCondition(d *appsv1.Deployment) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionAvailable}
	if !deploymentObserved(d) {
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, platformv1alpha1.ReasonReconciling,
			"Waiting for the Deployment controller to observe the Deployment"
		return c
	}
	dc := deploymentCondition(d, appsv1.DeploymentAvailable)
	switch {
	case dc == nil:
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, platformv1alpha1.ReasonReconciling,
			"The Deployment reports no Available condition yet"
	case dc.Status == corev1.ConditionTrue:
		c.Status, c.Reason = metav1.ConditionTrue, platformv1alpha1.ReasonAvailable
		c.Message = fmt.Sprintf("%d of %d pods ready", d.Status.ReadyReplicas, d.Status.Replicas)
	default:
		c.Status, c.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonUnavailable
		c.Message = fmt.Sprintf("%d of %d pods ready: %s", d.Status.ReadyReplicas, d.Status.Replicas, dc.Message)
	}
	return c
}

// progressingCondition is True while the Deployment rolls out a revision.
func progressingCondition(d *appsv1.Deployment, desired int32) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionProgressing}
	switch {
	case !deploymentObserved(d) || d.Status.ObservedGeneration < d.Generation:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, platformv1alpha1.ReasonReconciling,
			"Waiting for the Deployment controller to act on the latest change"
	case progressDeadlineExceeded(d) != nil:
		c.Status, c.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonProgressDeadlineExceeded
		c.Message = progressDeadlineExceeded(d).Message
	case d.Status.UpdatedReplicas < desired || d.Status.Replicas > d.Status.UpdatedReplicas ||
		d.Status.AvailableReplicas < d.Status.UpdatedReplicas:
		c.Status, c.Reason = metav1.ConditionTrue, platformv1alpha1.ReasonRollingOut
		c.Message = fmt.Sprintf("%d of %d pods updated, %d available", d.Status.UpdatedReplicas, desired, d.Status.AvailableReplicas)
	default:
		c.Status, c.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonRolloutComplete
		c.Message = fmt.Sprintf("All %d pods run the current revision", desired)
	}
	return c
}

func progressDeadlineExceeded(d *appsv1.Deployment) *appsv1.DeploymentCondition {
	dc := deploymentCondition(d, appsv1.DeploymentProgressing)
	if dc != nil && dc.Status == corev1.ConditionFalse && dc.Reason == "ProgressDeadlineExceeded" {
		return dc
	}
	return nil
}

// degradedCondition is True when the workload cannot get where its spec
// says on its own: a child the API server refused, a stuck pod, an exceeded
// progress deadline. A write that failed and will be retried is Degraded too
// (ApplyFailed), but only a refusal is also Stalled.
func degradedCondition(d *appsv1.Deployment, o outcome, pods *podIssue) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionDegraded}
	switch {
	case o.Refused != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, platformv1alpha1.ReasonApplyRefused, refusalMessage(o.Refused)
	case o.Invalid != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, platformv1alpha1.ReasonInvalidConfig, o.Invalid.Error()
	case o.ApplyErr != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, platformv1alpha1.ReasonApplyFailed, o.ApplyErr.Error()
	case pods != nil:
		// The kubelet's reason (ImagePullBackOff, CrashLoopBackOff, …) is what
		// a person needs; the Deployment would say only "unavailable".
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, pods.Reason, pods.Message
	case !deploymentObserved(d):
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, platformv1alpha1.ReasonReconciling,
			"Waiting for the Deployment controller to observe the Deployment"
	case progressDeadlineExceeded(d) != nil:
		c.Status, c.Reason = metav1.ConditionTrue, platformv1alpha1.ReasonProgressDeadlineExceeded
		c.Message = "The rollout stopped making progress: " + progressDeadlineExceeded(d).Message
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, platformv1alpha1.ReasonAsExpected, "The rollout is making progress or complete"
	}
	return c
}

// refusalMessage is the API server's own words, without the "terminal
// error" wrapping.
func refusalMessage(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		return inner.Error()
	}
	return err.Error()
}

// readyCondition summarises: the first failing check names the reason, in
// the order a person would look (cert-manager's readiness chain). A failed
// read makes it Unknown: the operator does not know.
func readyCondition(available, degraded, refs metav1.Condition, o outcome, ready string) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionReady, Status: metav1.ConditionFalse}
	switch {
	case o.ReadErr != nil:
		c.Status, c.Reason = metav1.ConditionUnknown, platformv1alpha1.ReasonReadFailed
		c.Message = "Could not read what status depends on (retrying): " + o.ReadErr.Error()
	case degraded.Status == metav1.ConditionTrue:
		c.Reason, c.Message = degraded.Reason, degraded.Message
	case refs.Status == metav1.ConditionFalse:
		c.Reason, c.Message = refs.Reason, refs.Message
	case available.Status != metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = available.Status, available.Reason, available.Message
	default:
		c.Status, c.Reason = metav1.ConditionTrue, platformv1alpha1.ReasonReady
		c.Message = fmt.Sprintf("%s pods ready; %s", ready, strings.ToLower(refs.Message[:1])+refs.Message[1:])
	}
	return c
}

// stalledCondition is True when progress needs a person: everything
// Degraded says except a write that will be retried.
func stalledCondition(degraded metav1.Condition) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionStalled}
	if degraded.Status == metav1.ConditionTrue && degraded.Reason != platformv1alpha1.ReasonApplyFailed {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, degraded.Reason, degraded.Message
		return c
	}
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, platformv1alpha1.ReasonAsExpected, "Nothing stops progress"
	return c
}

// reconcilingCondition is True while the object is on its way and will get
// there on its own: not Stalled, and not yet Ready, or Ready while a
// rollout still runs. Its reason is the one that keeps it from being done.
func reconcilingCondition(ready, progressing, stalled metav1.Condition) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionReconciling}
	switch {
	case stalled.Status == metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, stalled.Reason, "Stalled: "+stalled.Message
	case ready.Status != metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, ready.Reason, ready.Message
	case progressing.Status == metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, progressing.Reason, progressing.Message
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, platformv1alpha1.ReasonReady, "The spec is realised"
	}
	return c
}
