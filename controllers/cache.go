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
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/skillmesh/skillmesh/internal/contract"
)

// CacheOptions keeps the manager's cache to the children the operator made:
// without the label filter it would hold every ConfigMap, Deployment and Pod
// of the cluster in memory. Services are the exception (trimmed: see
// trimForeignService). Secret values are never cached: only their metadata
// is.
// Pods, the most numerous, are also trimmed to what the pod diagnosis reads.
func CacheOptions(gatewayAPI bool) cache.Options {
	selector := labels.SelectorFromSet(labels.Set{contract.LabelManagedBy: contract.ManagedByValue})
	managed := cache.ByObject{Label: selector}
	opts := cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}: managed,
			// Services are not filtered: a broker or database URL may name
			// any Service, whose selector becomes an egress rule. Those the
			// operator did not make are trimmed to name and spec.
			&corev1.Service{}:                        {Transform: trimForeignService},
			&corev1.PersistentVolumeClaim{}:          managed,
			&appsv1.Deployment{}:                     managed,
			&autoscalingv2.HorizontalPodAutoscaler{}: managed,
			&policyv1.PodDisruptionBudget{}:          managed,
			&networkingv1.Ingress{}:                  managed,
			&networkingv1.NetworkPolicy{}:            managed,
			&corev1.Pod{}:                            {Label: selector, Transform: trimPod},
			// Secrets are watched as metadata only (see secretMetadata), and
			// not filtered: they are the user's, without our label. What a
			// rollout needs is the name, uid and resourceVersion.
			secretMetadata(): {Transform: trimMetadata},
		},
	}
	if gatewayAPI {
		opts.ByObject[&gatewayv1.HTTPRoute{}] = managed
	}
	return opts
}

// trimMetadata keeps of a metadata-only object what mapping and hashing
// read: its identity and version. Labels, annotations and managed fields go.
func trimMetadata(o any) (any, error) {
	m, ok := o.(*metav1.PartialObjectMetadata)
	if !ok {
		return o, nil
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta: m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
			DeletionTimestamp: m.DeletionTimestamp,
		},
	}, nil
}

// trimPod keeps of a pod what diagnosePod and ownerOfPod read: name, labels,
// deletion, conditions and container states. The spec, annotations and
// managed fields (most of a pod's bytes) are dropped before caching.
func trimPod(o any) (any, error) {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return o, nil
	}
	trimmed := &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Labels: p.Labels, DeletionTimestamp: p.DeletionTimestamp, OwnerReferences: p.OwnerReferences,
		},
		Status: corev1.PodStatus{
			Phase:                 p.Status.Phase,
			Conditions:            p.Status.Conditions,
			InitContainerStatuses: trimContainerStatuses(p.Status.InitContainerStatuses),
			ContainerStatuses:     trimContainerStatuses(p.Status.ContainerStatuses),
		},
	}
	return trimmed, nil
}

func trimContainerStatuses(in []corev1.ContainerStatus) []corev1.ContainerStatus {
	if in == nil {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(in))
	for i, cs := range in {
		out[i] = corev1.ContainerStatus{Name: cs.Name, State: corev1.ContainerState{Waiting: cs.State.Waiting}, Ready: cs.Ready}
	}
	return out
}

// trimForeignService keeps of a Service the operator did not make what
// mapping a URL's host to pods reads: identity, labels, type, selector and
// ports. Its own Services stay whole: applying compares their managed
// fields.
func trimForeignService(o any) (any, error) {
	s, ok := o.(*corev1.Service)
	if !ok || s.Labels[contract.LabelManagedBy] == contract.ManagedByValue {
		return o, nil
	}
	return &corev1.Service{
		TypeMeta: s.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: s.Name, Namespace: s.Namespace, UID: s.UID, ResourceVersion: s.ResourceVersion,
			Labels: s.Labels, DeletionTimestamp: s.DeletionTimestamp, OwnerReferences: s.OwnerReferences,
		},
		Spec: corev1.ServiceSpec{Type: s.Spec.Type, Selector: s.Spec.Selector, Ports: s.Spec.Ports},
	}, nil
}
