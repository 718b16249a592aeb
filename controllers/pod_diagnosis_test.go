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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

func waitingPod(name, reason, message string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name:  "service",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}},
		}}},
	}
}

func Test_diagnosePods(t *testing.T) {
	running := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "a-running"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "service", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}},
	}
	deleting := waitingPod("a-old", "CrashLoopBackOff", "back-off")
	deleting.DeletionTimestamp = &metav1.Time{}
	unschedulable := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "u"},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/1 nodes are available: 1 Insufficient memory.",
		}}},
	}
	initStuck := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "i"},
		Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{{
			Name: "migrate", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		}}},
	}
	for _, tc := range []struct {
		name        string
		pods        []corev1.Pod
		wantReason  string
		wantMessage string
	}{
		{name: "no pods", pods: nil},
		{name: "running pod", pods: []corev1.Pod{running}},
		{name: "creating is a normal step", pods: []corev1.Pod{waitingPod("c", "ContainerCreating", "")}},
		{
			name: "image pull back-off, with the kubelet's message", pods: []corev1.Pod{running, waitingPod("b", "ImagePullBackOff", `Back-off pulling image "nope:v1"`)},
			wantReason: "ImagePullBackOff", wantMessage: `Pod b: container service is waiting: ImagePullBackOff: Back-off pulling image "nope:v1"`,
		},
		{name: "a pod being deleted is not the new spec's problem", pods: []corev1.Pod{deleting, running}},
		{
			name:       "first stuck pod by name, whatever the list order",
			pods:       []corev1.Pod{waitingPod("z", "ErrImagePull", "z"), waitingPod("m", "CrashLoopBackOff", "m")},
			wantReason: "CrashLoopBackOff", wantMessage: "Pod m: container service is waiting: CrashLoopBackOff: m",
		},
		{
			name: "init containers count", pods: []corev1.Pod{initStuck},
			wantReason: "CrashLoopBackOff", wantMessage: "Pod i: container migrate is waiting: CrashLoopBackOff",
		},
		{
			name: "unschedulable", pods: []corev1.Pod{unschedulable},
			wantReason: "Unschedulable", wantMessage: "Pod u cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diagnosePods(tc.pods)
			if tc.wantReason == "" {
				if got != nil {
					t.Fatalf("diagnosePods = %+v, want nil", got)
				}
				return
			}
			if got == nil || got.Reason != tc.wantReason || got.Message != tc.wantMessage {
				t.Fatalf("diagnosePods = %+v, want %s / %q", got, tc.wantReason, tc.wantMessage)
			}
		})
	}
}

func Test_podIssueChanged_passes_only_diagnosis_changes(t *testing.T) {
	creating := waitingPod("p", "ContainerCreating", "")
	pulling := waitingPod("p", "ErrImagePull", "not found")
	backoff := waitingPod("p", "ImagePullBackOff", "Back-off")
	backoffAgain := waitingPod("p", "ImagePullBackOff", "Back-off")
	backoffAgain.ResourceVersion = "2"
	for _, tc := range []struct {
		name     string
		old, new corev1.Pod
		want     bool
	}{
		{"creating to pull error", creating, pulling, true},
		{"pull error to back-off", pulling, backoff, true},
		{"same back-off, new resourceVersion", backoff, backoffAgain, false},
		{"back-off to creating", backoff, creating, true},
		{"nothing stuck either side", creating, creating, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := podIssueChanged.Update(event.UpdateEvent{ObjectOld: &tc.old, ObjectNew: &tc.new}); got != tc.want {
				t.Errorf("Update = %v, want %v", got, tc.want)
			}
		})
	}
}
