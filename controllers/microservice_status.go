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
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// microserviceObservation is what a reconcile saw, gathered before status is
// computed so that computing it is a pure function.
type microserviceObservation struct {
	// Deployment as the cache holds it; nil before it exists.
	Deployment *appsv1.Deployment
	// Dependencies, one per spec.dependsOn entry, in order.
	Dependencies []platformv1alpha1.DependencyStatus
	// ApplyErr is the error applying the children failed with, if any.
	ApplyErr error
	// PodIssue is why the pods cannot run, if one of them is stuck.
	PodIssue *podIssue
	// URL and ConfigHash are what rendering produced.
	URL        string
	ConfigHash string
}

// computeMicroserviceStatus derives the whole status from an observation.
// Previous conditions are passed in so unchanged ones keep their
// lastTransitionTime.
func computeMicroserviceStatus(ms *platformv1alpha1.Microservice, obs microserviceObservation) platformv1alpha1.MicroserviceStatus {
	st := *ms.Status.DeepCopy()
	gen := ms.Generation
	st.URL = obs.URL
	st.ConfigHash = obs.ConfigHash
	st.Dependencies = obs.Dependencies
	st.Replicas, st.ReadyReplicas = 0, 0
	desired := desiredReplicas(ms.Spec)
	if d := obs.Deployment; d != nil {
		st.Replicas = d.Status.Replicas
		st.ReadyReplicas = d.Status.ReadyReplicas
		if ms.Spec.Autoscaling != nil && d.Spec.Replicas != nil {
			desired = *d.Spec.Replicas
		}
	}
	st.Ready = fmt.Sprintf("%d/%d", st.ReadyReplicas, desired)

	set := func(c metav1.Condition) {
		c.ObservedGeneration = gen
		meta.SetStatusCondition(&st.Conditions, c)
	}
	available := availableCondition(obs.Deployment)
	degraded := degradedCondition(obs.Deployment, obs.ApplyErr, obs.PodIssue)
	deps := dependenciesCondition(obs.Dependencies)
	set(available)
	set(progressingCondition(obs.Deployment, desired))
	set(degraded)
	set(deps)
	set(pausedCondition(ms.Spec.Paused))
	set(readyCondition(available, degraded, deps, obs.ApplyErr, st.Ready))
	if obs.ApplyErr == nil {
		st.ObservedGeneration = gen
	}
	return st
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

func degradedCondition(d *appsv1.Deployment, applyErr error, pods *podIssue) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionDegraded}
	switch {
	case applyErr != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, platformv1alpha1.ReasonApplyFailed, applyErr.Error()
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

func dependenciesCondition(deps []platformv1alpha1.DependencyStatus) metav1.Condition {
	refs := make([]reference, 0, len(deps))
	for _, d := range deps {
		refs = append(refs, reference{name: d.Name, found: d.Found, ready: d.Ready})
	}
	return referencesCondition(refs, referenceVocabulary{
		condType: platformv1alpha1.ConditionDependenciesReady, noun: "dependencies",
		none: platformv1alpha1.ReasonNoDependencies, noneMessage: "spec.dependsOn is empty",
		allReady: platformv1alpha1.ReasonDependenciesReady,
		notFound: platformv1alpha1.ReasonDependencyNotFound, notReady: platformv1alpha1.ReasonDependencyNotReady,
	})
}

// reference is a Microservice another object names.
type reference struct {
	name         string
	found, ready bool
}

// referenceVocabulary is how a condition about references speaks.
type referenceVocabulary struct {
	condType, noun, none, noneMessage, allReady, notFound, notReady string
}

// referencesCondition is True when every named Microservice exists and is
// Ready; otherwise it names those that are missing, then those not Ready.
// DependenciesReady (Microservice) and BackendsReady (Gateway) are both this.
func referencesCondition(refs []reference, v referenceVocabulary) metav1.Condition {
	c := metav1.Condition{Type: v.condType}
	if len(refs) == 0 {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, v.none, v.noneMessage
		return c
	}
	var missing, unready []string
	for _, r := range refs {
		switch {
		case !r.found:
			missing = append(missing, r.name)
		case !r.ready:
			unready = append(unready, r.name)
		}
	}
	switch {
	case len(missing) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v.notFound
		c.Message = "Microservice not found: " + strings.Join(missing, ", ")
		if len(unready) > 0 {
			c.Message += "; not ready: " + strings.Join(unready, ", ")
		}
	case len(unready) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v.notReady
		c.Message = "Microservice not ready: " + strings.Join(unready, ", ")
	default:
		c.Status, c.Reason = metav1.ConditionTrue, v.allReady
		c.Message = fmt.Sprintf("All %d %s are Ready", len(refs), v.noun)
	}
	return c
}

func pausedCondition(paused bool) metav1.Condition {
	if paused {
		return metav1.Condition{Type: platformv1alpha1.ConditionPaused, Status: metav1.ConditionTrue,
			Reason: platformv1alpha1.ReasonPaused, Message: "spec.paused is true: the operator leaves the children alone"}
	}
	return metav1.Condition{Type: platformv1alpha1.ConditionPaused, Status: metav1.ConditionFalse,
		Reason: platformv1alpha1.ReasonNotPaused, Message: "The operator keeps the children as the spec says"}
}

// readyCondition summarises: the first failing check names the reason, in
// the order a person would look (cert-manager's readiness chain).
func readyCondition(available, degraded, deps metav1.Condition, applyErr error, ready string) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionReady, Status: metav1.ConditionFalse}
	switch {
	case applyErr != nil:
		c.Reason, c.Message = platformv1alpha1.ReasonApplyFailed, applyErr.Error()
	case degraded.Status == metav1.ConditionTrue:
		c.Reason, c.Message = degraded.Reason, degraded.Message
	case deps.Status == metav1.ConditionFalse:
		c.Reason, c.Message = deps.Reason, deps.Message
	case available.Status != metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = available.Status, available.Reason, available.Message
	default:
		c.Status, c.Reason = metav1.ConditionTrue, platformv1alpha1.ReasonReady
		c.Message = fmt.Sprintf("%s pods ready; %s", ready, strings.ToLower(deps.Message[:1])+deps.Message[1:])
	}
	return c
}

// isServing reports whether others can rely on a Microservice: Ready, with
// at least one ready pod to answer. A Microservice scaled to zero is Ready (it
// is as its spec says) but serves nobody, so its dependents and the Gateways
// routing to it must not count on it.
func isServing(ms *platformv1alpha1.Microservice) bool {
	return meta.IsStatusConditionTrue(ms.Status.Conditions, platformv1alpha1.ConditionReady) && ms.Status.ReadyReplicas > 0
}
