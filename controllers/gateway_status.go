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

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// gatewayObservation is what a Gateway reconcile saw.
type gatewayObservation struct {
	Deployment *appsv1.Deployment
	Backends   []platformv1alpha1.BackendStatus
	// Found names the backends that exist.
	Found    map[string]bool
	ApplyErr error
	// PodIssue is why the gateway's pods cannot run, if one is stuck.
	PodIssue *podIssue
	URL      string
}

// computeGatewayStatus derives the Gateway's status from an observation; the
// Deployment conditions mean what they mean for a Microservice.
func computeGatewayStatus(gw *platformv1alpha1.Gateway, obs gatewayObservation) platformv1alpha1.GatewayStatus {
	st := *gw.Status.DeepCopy()
	st.URL = obs.URL
	st.Backends = obs.Backends
	st.Replicas, st.ReadyReplicas = 0, 0
	desired := ptr.Deref(gw.Spec.Replicas, 1)
	if d := obs.Deployment; d != nil {
		st.Replicas, st.ReadyReplicas = d.Status.Replicas, d.Status.ReadyReplicas
		if gw.Spec.Autoscaling != nil && d.Spec.Replicas != nil {
			desired = *d.Spec.Replicas
		}
	}
	st.Ready = fmt.Sprintf("%d/%d", st.ReadyReplicas, desired)
	set := func(c metav1.Condition) {
		c.ObservedGeneration = gw.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
	available := availableCondition(obs.Deployment)
	degraded := degradedCondition(obs.Deployment, obs.ApplyErr, obs.PodIssue)
	backends := backendsCondition(obs.Backends, obs.Found)
	set(available)
	set(progressingCondition(obs.Deployment, desired))
	set(degraded)
	set(backends)
	set(readyCondition(available, degraded, backends, obs.ApplyErr, st.Ready))
	if obs.ApplyErr == nil {
		st.ObservedGeneration = gw.Generation
	}
	return st
}

// backendsCondition is True when every Microservice the Gateway names
// exists and is Ready; otherwise it names those that are not.
func backendsCondition(backends []platformv1alpha1.BackendStatus, found map[string]bool) metav1.Condition {
	refs := make([]reference, 0, len(backends))
	for _, b := range backends {
		refs = append(refs, reference{name: b.Service, found: found[b.Service], ready: b.Ready})
	}
	return referencesCondition(refs, referenceVocabulary{
		condType: platformv1alpha1.ConditionBackendsReady, noun: "backends",
		none: platformv1alpha1.ReasonNoBackends, noneMessage: "The Gateway names no Microservice",
		allReady: platformv1alpha1.ReasonBackendsReady,
		notFound: platformv1alpha1.ReasonBackendNotFound, notReady: platformv1alpha1.ReasonBackendNotReady,
	})
}
