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
	"cmp"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// podIssue is why a workload's pods cannot run, in the kubelet's or the
// scheduler's own words: the Deployment's conditions only say that replicas
// are unavailable, and its Progressing condition waits ten minutes before it
// gives up, while a person wants "ImagePullBackOff" at once.
type podIssue struct {
	// Reason is the kubelet's waiting reason (ImagePullBackOff,
	// CrashLoopBackOff, …) or the scheduler's (Unschedulable).
	Reason string
	// Message names the pod and container and carries the kubelet's message.
	Message string
}

// stuckReasons are container waiting reasons that do not clear by waiting a
// few seconds. ContainerCreating and PodInitializing are normal steps and are
// left out.
var stuckReasons = map[string]bool{
	"ErrImagePull":               true,
	"ImagePullBackOff":           true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"CrashLoopBackOff":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
}

// diagnosePods returns the first issue among the pods, in a stable order
// (by name), or nil when none is stuck. Pods being deleted are skipped: an
// old ReplicaSet's pods going away are not a problem of the new spec.
func diagnosePods(pods []corev1.Pod) *podIssue {
	sorted := slices.Clone(pods)
	slices.SortFunc(sorted, func(a, b corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })
	for i := range sorted {
		if issue := diagnosePod(&sorted[i]); issue != nil {
			return issue
		}
	}
	return nil
}

func diagnosePod(p *corev1.Pod) *podIssue {
	if p.DeletionTimestamp != nil {
		return nil
	}
	statuses := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && stuckReasons[w.Reason] {
			msg := fmt.Sprintf("Pod %s: container %s is waiting: %s", p.Name, cs.Name, w.Reason)
			if w.Message != "" {
				msg += ": " + w.Message
			}
			return &podIssue{Reason: w.Reason, Message: msg}
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return &podIssue{Reason: c.Reason, Message: fmt.Sprintf("Pod %s cannot be scheduled: %s", p.Name, c.Message)}
		}
	}
	return nil
}

// podIssueChanged passes only pod events that can change a diagnosis: a pod
// coming or going, or its issue changing. Readiness flows through the
// Deployment's status, so the many other pod updates wake nobody.
var podIssueChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		oldPod, okOld := e.ObjectOld.(*corev1.Pod)
		newPod, okNew := e.ObjectNew.(*corev1.Pod)
		if !okOld || !okNew {
			return false
		}
		a, b := diagnosePod(oldPod), diagnosePod(newPod)
		return (a == nil) != (b == nil) || (a != nil && *a != *b)
	},
}

// ownerOfPod maps a pod to the object whose name its label carries
// (contract.LabelMicroservice or contract.LabelGateway).
func ownerOfPod(label string) handler.MapFunc {
	return func(_ context.Context, o client.Object) []reconcile.Request {
		name, ok := o.GetLabels()[label]
		if !ok {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
	}
}
