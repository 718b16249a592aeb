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
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

type deploymentOption func(*appsv1.Deployment)

func observedDeployment(opts ...deploymentOption) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "skills", Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func unavailable(d *appsv1.Deployment) {
	d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
	d.Status.Conditions[0].Status = corev1.ConditionFalse
	d.Status.Conditions[0].Message = "Deployment does not have minimum availability."
}

func deadlineExceeded(d *appsv1.Deployment) {
	unavailable(d)
	d.Status.Conditions[1] = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "skills-abc" has timed out progressing.`}
}

func rollingOut(d *appsv1.Deployment)     { d.Status.UpdatedReplicas = 1 }
func notObservedYet(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }

type want struct {
	status metav1.ConditionStatus
	reason string
}

func Test_computeMicroserviceStatus(t *testing.T) {
	ready := []platformv1alpha1.DependencyStatus{{Name: "career", Found: true, Ready: true}}
	for _, tc := range []struct {
		name string
		obs  microserviceObservation
		want map[string]want
	}{
		{
			name: "first visit: nothing observed yet",
			obs:  microserviceObservation{},
			want: map[string]want{
				"Ready": {metav1.ConditionUnknown, "Reconciling"}, "Available": {metav1.ConditionUnknown, "Reconciling"},
				"Degraded": {metav1.ConditionUnknown, "Reconciling"}, "Progressing": {metav1.ConditionTrue, "Reconciling"},
				"DependenciesReady": {metav1.ConditionTrue, "NoDependencies"}, "Paused": {metav1.ConditionFalse, "NotPaused"},
			},
		},
		{
			name: "available with ready dependencies",
			obs:  microserviceObservation{Deployment: observedDeployment(), Dependencies: ready},
			want: map[string]want{
				"Ready": {metav1.ConditionTrue, "Ready"}, "Available": {metav1.ConditionTrue, "Available"},
				"Degraded": {metav1.ConditionFalse, "AsExpected"}, "Progressing": {metav1.ConditionFalse, "RolloutComplete"},
				"DependenciesReady": {metav1.ConditionTrue, "DependenciesReady"},
			},
		},
		{
			name: "available but rolling out is still Ready",
			obs:  microserviceObservation{Deployment: observedDeployment(rollingOut)},
			want: map[string]want{"Ready": {metav1.ConditionTrue, "Ready"}, "Progressing": {metav1.ConditionTrue, "RollingOut"}},
		},
		{
			name: "new generation not yet seen by the Deployment controller",
			obs:  microserviceObservation{Deployment: observedDeployment(notObservedYet)},
			want: map[string]want{"Progressing": {metav1.ConditionTrue, "Reconciling"}},
		},
		{
			name: "unavailable",
			obs:  microserviceObservation{Deployment: observedDeployment(unavailable)},
			want: map[string]want{"Ready": {metav1.ConditionFalse, "Unavailable"}, "Available": {metav1.ConditionFalse, "Unavailable"}},
		},
		{
			name: "progress deadline exceeded is Degraded and names the reason in Ready",
			obs:  microserviceObservation{Deployment: observedDeployment(deadlineExceeded), Dependencies: ready},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "ProgressDeadlineExceeded"}, "Degraded": {metav1.ConditionTrue, "ProgressDeadlineExceeded"},
				"Progressing": {metav1.ConditionFalse, "ProgressDeadlineExceeded"},
			},
		},
		{
			name: "missing dependency wins over unready one",
			obs: microserviceObservation{Deployment: observedDeployment(), Dependencies: []platformv1alpha1.DependencyStatus{
				{Name: "career", Found: true}, {Name: "learning"}}},
			want: map[string]want{"Ready": {metav1.ConditionFalse, "DependencyNotFound"}, "DependenciesReady": {metav1.ConditionFalse, "DependencyNotFound"}},
		},
		{
			name: "unready dependency",
			obs: microserviceObservation{Deployment: observedDeployment(), Dependencies: []platformv1alpha1.DependencyStatus{
				{Name: "career", Found: true}}},
			want: map[string]want{"Ready": {metav1.ConditionFalse, "DependencyNotReady"}, "DependenciesReady": {metav1.ConditionFalse, "DependencyNotReady"}},
		},
		{
			name: "a stuck pod names the kubelet's reason in Degraded and Ready",
			obs: microserviceObservation{Deployment: observedDeployment(unavailable), Dependencies: ready,
				PodIssue: &podIssue{Reason: "ImagePullBackOff", Message: "Pod careers-1: container service is waiting: ImagePullBackOff"}},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "ImagePullBackOff"}, "Degraded": {metav1.ConditionTrue, "ImagePullBackOff"},
				"Available": {metav1.ConditionFalse, "Unavailable"},
			},
		},
		{
			name: "apply failure",
			obs:  microserviceObservation{Deployment: observedDeployment(), ApplyErr: errors.New("admission webhook denied")},
			want: map[string]want{"Ready": {metav1.ConditionFalse, "ApplyFailed"}, "Degraded": {metav1.ConditionTrue, "ApplyFailed"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testutil.NewMicroservice("careers", "skills", testutil.WithReplicas(2))
			m.Generation = 7
			st := computeMicroserviceStatus(m, tc.obs)
			for typ, w := range tc.want {
				c := meta.FindStatusCondition(st.Conditions, typ)
				if c == nil {
					t.Fatalf("condition %s missing", typ)
				}
				if c.Status != w.status || c.Reason != w.reason {
					t.Errorf("%s = %s/%s (%s), want %s/%s", typ, c.Status, c.Reason, c.Message, w.status, w.reason)
				}
				if c.ObservedGeneration != 7 {
					t.Errorf("%s observedGeneration = %d, want 7", typ, c.ObservedGeneration)
				}
				if c.Message == "" {
					t.Errorf("%s has no message for a person to read", typ)
				}
			}
			if len(st.Conditions) != 6 {
				t.Errorf("want all 6 condition types, got %d", len(st.Conditions))
			}
			wantGen := int64(7)
			if tc.obs.ApplyErr != nil {
				wantGen = 0
			}
			if st.ObservedGeneration != wantGen {
				t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, wantGen)
			}
		})
	}
}

func Test_status_reports_replicas_as_ready_over_desired(t *testing.T) {
	m := testutil.NewMicroservice("careers", "skills", testutil.WithReplicas(2))
	st := computeMicroserviceStatus(m, microserviceObservation{Deployment: observedDeployment(unavailable)})
	if st.Ready != "0/2" || st.Replicas != 2 || st.ReadyReplicas != 0 {
		t.Errorf("ready=%q replicas=%d readyReplicas=%d", st.Ready, st.Replicas, st.ReadyReplicas)
	}
	// With an autoscaler the desired count is the Deployment's, which the HPA sets.
	m = testutil.NewMicroservice("careers", "skills", testutil.WithAutoscaling(2, 9))
	d := observedDeployment()
	d.Spec.Replicas = ptr.To[int32](5)
	if st := computeMicroserviceStatus(m, microserviceObservation{Deployment: d}); st.Ready != "2/5" {
		t.Errorf("ready = %q, want 2/5", st.Ready)
	}
}

func Test_unchanged_conditions_keep_their_transition_time(t *testing.T) {
	m := testutil.NewMicroservice("careers", "skills")
	obs := microserviceObservation{Deployment: observedDeployment()}
	first := computeMicroserviceStatus(m, obs)
	old := metav1.NewTime(metav1.Now().Add(-3600e9))
	for i := range first.Conditions {
		first.Conditions[i].LastTransitionTime = old
	}
	m.Status = first
	again := computeMicroserviceStatus(m, obs)
	for _, c := range again.Conditions {
		if !c.LastTransitionTime.Equal(&old) {
			t.Errorf("%s lastTransitionTime moved although nothing changed", c.Type)
		}
	}
}
