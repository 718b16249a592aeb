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
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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

func dep(name string, found, serving bool) reference {
	return reference{Name: name, Namespace: "careers", Port: 8080, Found: found, Serving: serving, clusterDomain: "cluster.local"}
}

func Test_computeMicroserviceStatus(t *testing.T) {
	ready := []reference{dep("career", true, true)}
	refused := reconcile.TerminalError(fmt.Errorf("apply Deployment careers/skills: %w",
		errors.New(`Deployment.apps "skills" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`)))
	for _, tc := range []struct {
		name    string
		obs     microserviceObservation
		want    map[string]want
		wantGen int64
	}{
		{
			name: "first visit: nothing observed yet",
			obs:  microserviceObservation{},
			want: map[string]want{
				"Ready": {metav1.ConditionUnknown, "Reconciling"}, "Available": {metav1.ConditionUnknown, "Reconciling"},
				"Degraded": {metav1.ConditionUnknown, "Reconciling"}, "Progressing": {metav1.ConditionTrue, "Reconciling"},
				"DependenciesReady": {metav1.ConditionTrue, "NoDependencies"}, "Paused": {metav1.ConditionFalse, "NotPaused"},
				"Reconciling": {metav1.ConditionTrue, "Reconciling"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: 7,
		},
		{
			name: "available with ready dependencies: done",
			obs:  microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()}, Dependencies: ready},
			want: map[string]want{
				"Ready": {metav1.ConditionTrue, "Ready"}, "Available": {metav1.ConditionTrue, "Available"},
				"Degraded": {metav1.ConditionFalse, "AsExpected"}, "Progressing": {metav1.ConditionFalse, "RolloutComplete"},
				"DependenciesReady": {metav1.ConditionTrue, "DependenciesReady"},
				"Reconciling":       {metav1.ConditionFalse, "Ready"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: 7,
		},
		{
			name: "available but rolling out is still Ready, and Reconciling",
			obs:  microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment(rollingOut)}},
			want: map[string]want{
				"Ready": {metav1.ConditionTrue, "Ready"}, "Progressing": {metav1.ConditionTrue, "RollingOut"},
				"Reconciling": {metav1.ConditionTrue, "RollingOut"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: 7,
		},
		{
			name:    "new generation not yet seen by the Deployment controller",
			obs:     microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment(notObservedYet)}},
			want:    map[string]want{"Progressing": {metav1.ConditionTrue, "Reconciling"}, "Reconciling": {metav1.ConditionTrue, "Reconciling"}},
			wantGen: 7,
		},
		{
			name: "unavailable is on its way, not stalled",
			obs:  microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment(unavailable)}},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "Unavailable"}, "Available": {metav1.ConditionFalse, "Unavailable"},
				"Reconciling": {metav1.ConditionTrue, "Unavailable"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: 7,
		},
		{
			name: "progress deadline exceeded is Degraded and Stalled, and names the reason in Ready",
			obs:  microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment(deadlineExceeded)}, Dependencies: ready},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "ProgressDeadlineExceeded"}, "Degraded": {metav1.ConditionTrue, "ProgressDeadlineExceeded"},
				"Progressing": {metav1.ConditionFalse, "ProgressDeadlineExceeded"},
				"Stalled":     {metav1.ConditionTrue, "ProgressDeadlineExceeded"}, "Reconciling": {metav1.ConditionFalse, "ProgressDeadlineExceeded"},
			},
			wantGen: 7,
		},
		{
			name: "missing dependency wins over unready one, and waits",
			obs: microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()},
				Dependencies: []reference{dep("career", true, false), dep("learning", false, false)}},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "DependencyNotFound"}, "DependenciesReady": {metav1.ConditionFalse, "DependencyNotFound"},
				"Reconciling": {metav1.ConditionTrue, "DependencyNotFound"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: 7,
		},
		{
			name: "unready dependency",
			obs: microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()},
				Dependencies: []reference{dep("career", true, false)}},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "DependencyNotReady"}, "DependenciesReady": {metav1.ConditionFalse, "DependencyNotReady"},
				"Reconciling": {metav1.ConditionTrue, "DependencyNotReady"},
			},
			wantGen: 7,
		},
		{
			name: "a stuck pod names the kubelet's reason in Degraded, Ready and Stalled",
			obs: microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment(unavailable),
				PodIssue: &podIssue{Reason: "ImagePullBackOff", Message: "Pod careers-1: container service is waiting: ImagePullBackOff"}},
				Dependencies: ready},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "ImagePullBackOff"}, "Degraded": {metav1.ConditionTrue, "ImagePullBackOff"},
				"Available": {metav1.ConditionFalse, "Unavailable"},
				"Stalled":   {metav1.ConditionTrue, "ImagePullBackOff"}, "Reconciling": {metav1.ConditionFalse, "ImagePullBackOff"},
			},
			wantGen: 7,
		},
		{
			name: "a write that may pass: Degraded, retried, not Stalled, generation not observed",
			obs: microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()},
				Outcome: outcomeOf(errors.New("apply Deployment careers/skills: the server was unable to return a response in the time allotted"))},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "ApplyFailed"}, "Degraded": {metav1.ConditionTrue, "ApplyFailed"},
				"Reconciling": {metav1.ConditionTrue, "ApplyFailed"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: -1,
		},
		{
			name: "a child the API server refused: Stalled with the server's message, generation observed",
			obs:  microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()}, Outcome: outcomeOf(refused)},
			want: map[string]want{
				"Ready": {metav1.ConditionFalse, "ApplyRefused"}, "Degraded": {metav1.ConditionTrue, "ApplyRefused"},
				"Stalled": {metav1.ConditionTrue, "ApplyRefused"}, "Reconciling": {metav1.ConditionFalse, "ApplyRefused"},
			},
			wantGen: 7,
		},
		{
			name: "a read that failed: Ready Unknown, never silence",
			obs: microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()},
				Outcome: outcomeOf(readFailed(errors.New("get Microservice careers/career: context deadline exceeded")))},
			want: map[string]want{
				"Ready": {metav1.ConditionUnknown, "ReadFailed"}, "DependenciesReady": {metav1.ConditionTrue, "NoDependencies"},
				"Reconciling": {metav1.ConditionTrue, "ReadFailed"}, "Stalled": {metav1.ConditionFalse, "AsExpected"},
			},
			wantGen: -1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testutil.NewMicroservice("careers", "skills", testutil.WithReplicas(2))
			m.Generation = 7
			m.Status.ObservedGeneration = -1 // the CRD's default before the first pass
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
			if len(st.Conditions) != 8 {
				t.Errorf("want all 8 condition types, got %d", len(st.Conditions))
			}
			if st.ObservedGeneration != tc.wantGen {
				t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, tc.wantGen)
			}
			if tc.obs.Outcome.Refused != nil {
				if c := meta.FindStatusCondition(st.Conditions, "Stalled"); c.Message != errors.Unwrap(refused).Error() {
					t.Errorf("Stalled message = %q, want the server's own words", c.Message)
				}
			}
		})
	}
}

func Test_a_dependency_in_another_namespace_is_named_with_it(t *testing.T) {
	other := reference{Name: "skills", Namespace: "shared", Port: 9090, Found: true, clusterDomain: "cluster.local"}
	m := testutil.NewMicroservice("careers", "career")
	st := computeMicroserviceStatus(m, microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()},
		Dependencies: []reference{other}, ClusterDomain: "cluster.local"})
	c := meta.FindStatusCondition(st.Conditions, "DependenciesReady")
	if c.Message != "Microservice not ready: shared/skills" {
		t.Errorf("message = %q", c.Message)
	}
	if len(st.Dependencies) != 1 || st.Dependencies[0].Namespace != "shared" || st.Dependencies[0].URL != "http://skills.shared.svc.cluster.local:9090" {
		t.Errorf("dependencies = %+v", st.Dependencies)
	}
}

func Test_status_reports_replicas_as_ready_over_desired(t *testing.T) {
	m := testutil.NewMicroservice("careers", "skills", testutil.WithReplicas(2))
	st := computeMicroserviceStatus(m, microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment(unavailable)}})
	if st.Ready != "0/2" || st.Replicas != 2 || st.ReadyReplicas != 0 {
		t.Errorf("ready=%q replicas=%d readyReplicas=%d", st.Ready, st.Replicas, st.ReadyReplicas)
	}
	// With an autoscaler the desired count is the Deployment's, which the HPA sets.
	m = testutil.NewMicroservice("careers", "skills", testutil.WithAutoscaling(2, 9))
	d := observedDeployment()
	d.Spec.Replicas = ptr.To[int32](5)
	if st := computeMicroserviceStatus(m, microserviceObservation{Workload: workloadObservation{Deployment: d}}); st.Ready != "2/5" {
		t.Errorf("ready = %q, want 2/5", st.Ready)
	}
}

func Test_unchanged_conditions_keep_their_transition_time(t *testing.T) {
	m := testutil.NewMicroservice("careers", "skills")
	obs := microserviceObservation{Workload: workloadObservation{Deployment: observedDeployment()}}
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

func Test_outcomeOf_sorts_errors_into_their_kinds(t *testing.T) {
	invalid := apierrorsInvalid()
	for _, tc := range []struct {
		name                     string
		err                      error
		read, apply, refusedKind bool
	}{
		{name: "none", err: nil},
		{name: "a failed read", err: readFailed(errors.New("timeout")), read: true},
		{name: "a transient write", err: applyError([]error{errors.New("connection refused")}), apply: true},
		{name: "a refused write", err: applyError([]error{invalid}), refusedKind: true},
		{name: "refused and transient together retry", err: applyError([]error{invalid, errors.New("conflict")}), apply: true},
		{name: "a refusal, then a failed read: retried as a read", err: passError(applyError([]error{invalid}), errors.New("list pods: timeout")), read: true},
		{name: "a refusal, then a good read: terminal", err: passError(applyError([]error{invalid}), nil), refusedKind: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := outcomeOf(tc.err)
			if (o.ReadErr != nil) != tc.read || (o.ApplyErr != nil) != tc.apply || (o.Refused != nil) != tc.refusedKind {
				t.Errorf("outcome = %+v", o)
			}
			if terminal := errors.Is(tc.err, reconcile.TerminalError(nil)); terminal != tc.refusedKind {
				t.Errorf("terminal = %v: only a refusal stops the retries", terminal)
			}
			if o.complete() != (tc.err == nil || tc.refusedKind) {
				t.Errorf("complete = %v", o.complete())
			}
		})
	}
}

func apierrorsInvalid() error {
	return apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "skills", field.ErrorList{
		field.Invalid(field.NewPath("spec", "template"), "x", "must be less than or equal to cpu limit"),
	})
}
