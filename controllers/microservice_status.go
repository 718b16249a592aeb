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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// microserviceObservation is what a pass saw and how it ended, gathered
// before status is computed so that computing it is a pure function.
type microserviceObservation struct {
	Workload workloadObservation
	// Dependencies, one per spec.dependsOn entry, in order; nil when the pass
	// ended before it resolved them.
	Dependencies []reference
	Outcome      outcome
	// ClusterDomain is the DNS suffix URLs are made with.
	ClusterDomain string
	// ConfigHash is what rendering produced; empty when the pass ended before.
	ConfigHash string
	// NetworkPolicy is what the pass rendered of the policy; nil when it
	// ended before or is paused (the condition keeps what it said).
	NetworkPolicy *metav1.Condition
}

// computeMicroserviceStatus derives the whole status from an observation.
// The previous status is the starting point, so unchanged conditions keep
// their lastTransitionTime and what a pass did not reach keeps its value.
func computeMicroserviceStatus(ms *platformv1alpha1.Microservice, obs microserviceObservation) platformv1alpha1.MicroserviceStatus {
	st := *ms.Status.DeepCopy()
	st.URL = contract.ServiceURL(ms.Name, ms.Namespace, obs.ClusterDomain, portOf(ms))
	if obs.ConfigHash != "" {
		st.ConfigHash = obs.ConfigHash
	}
	if obs.Dependencies != nil || len(ms.Spec.DependsOn) == 0 {
		st.Dependencies = dependencyStatuses(obs.Dependencies)
	}
	var desired int32
	st.Replicas, st.ReadyReplicas, desired = replicaCounts(obs.Workload.Deployment, desiredReplicas(ms.Spec), ms.Spec.Autoscaling != nil)
	st.Ready = fmt.Sprintf("%d/%d", st.ReadyReplicas, desired)
	refs := referencesCondition(obs.Dependencies, ms.Namespace, dependencyVocabulary)
	if obs.Dependencies == nil && len(ms.Spec.DependsOn) > 0 {
		refs = unknownReferences(dependencyVocabulary)
	}
	setConditions(&st.Conditions, statusInput{
		Generation: ms.Generation,
		Workload:   obs.Workload,
		Desired:    desired,
		References: refs,
		Outcome:    obs.Outcome,
		Ready:      st.Ready,
		Extra:      extraConditions(pausedCondition(ms.Spec.Paused), obs.NetworkPolicy),
	})
	if obs.Outcome.complete() {
		st.ObservedGeneration = ms.Generation
	}
	return st
}

// dependencyStatuses reports each dependency as status.dependencies lists it.
func dependencyStatuses(refs []reference) []platformv1alpha1.DependencyStatus {
	out := make([]platformv1alpha1.DependencyStatus, 0, len(refs))
	for _, r := range refs {
		out = append(out, platformv1alpha1.DependencyStatus{Name: r.Name, Namespace: r.Namespace, URL: r.URL(), Found: r.Found, Ready: r.Serving})
	}
	return out
}

// unknownReferences is the references condition of a pass that could not
// read them.
func unknownReferences(v referenceVocabulary) metav1.Condition {
	return metav1.Condition{Type: v.condType, Status: metav1.ConditionUnknown, Reason: platformv1alpha1.ReasonReadFailed,
		Message: "Could not read the " + v.noun}
}

func pausedCondition(paused bool) metav1.Condition {
	if paused {
		return metav1.Condition{Type: platformv1alpha1.ConditionPaused, Status: metav1.ConditionTrue,
			Reason: platformv1alpha1.ReasonPaused, Message: "spec.paused is true: the operator leaves the children alone"}
	}
	return metav1.Condition{Type: platformv1alpha1.ConditionPaused, Status: metav1.ConditionFalse,
		Reason: platformv1alpha1.ReasonNotPaused, Message: "The operator keeps the children as the spec says"}
}

// extraConditions are the conditions beside the workload's, leaving out
// one the pass did not reach.
func extraConditions(always metav1.Condition, maybe ...*metav1.Condition) []metav1.Condition {
	out := []metav1.Condition{always}
	for _, c := range maybe {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out
}
