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
)

func Test_trimPod_keeps_what_the_diagnosis_reads(t *testing.T) {
	now := metav1.Now()
	for _, p := range []corev1.Pod{
		waitingPod("b", "ImagePullBackOff", `Back-off pulling image "nope:v1"`),
		{
			ObjectMeta: metav1.ObjectMeta{Name: "u", Labels: map[string]string{"skillmesh.dev/microservice": "skills"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "service", Image: "x"}}},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "no node",
			}}},
		},
		{ObjectMeta: metav1.ObjectMeta{Name: "d", DeletionTimestamp: &now}, Status: waitingPod("d", "CrashLoopBackOff", "").Status},
	} {
		out, err := trimPod(&p)
		if err != nil {
			t.Fatal(err)
		}
		trimmed := out.(*corev1.Pod)
		if got, want := diagnosePods([]corev1.Pod{*trimmed}), diagnosePods([]corev1.Pod{p}); (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("pod %s: diagnosis of the trimmed pod %+v, of the pod %+v", p.Name, got, want)
		}
		if len(trimmed.Spec.Containers) != 0 {
			t.Errorf("pod %s: the spec was cached", p.Name)
		}
		if trimmed.Labels["skillmesh.dev/microservice"] != p.Labels["skillmesh.dev/microservice"] {
			t.Errorf("pod %s: the label ownerOfPod reads was dropped", p.Name)
		}
	}
}
