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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

// kstatusOf is what Flux, kpt and cli-utils' apply --wait read: kstatus
// itself computed over the object as the API server returns it.
func kstatusOf(obj client.Object) func() status.Status {
	return func() status.Status {
		fresh, ok := obj.DeepCopyObject().(client.Object)
		Expect(ok).To(BeTrue())
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
			return status.UnknownStatus
		}
		return kstatusOfObject(fresh)
	}
}

func kstatusOfObject(obj client.Object) status.Status {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: raw})
	Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// stuckPod writes a pod of the Microservice as the kubelet would report it.
func stuckPod(ns, name string, st corev1.PodStatus) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-7c9f-x2", Namespace: ns, Labels: map[string]string{
			contract.LabelManagedBy: contract.ManagedByValue, contract.LabelMicroservice: name,
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "skillmesh/nope:v1"}}},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, pod)).To(Succeed())
	pod.Status = st
	ExpectWithOffset(1, k8sClient.Status().Update(ctx, pod)).To(Succeed())
	return pod
}

func waiting(reason string) corev1.PodStatus {
	return corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "skillmesh/nope:v1",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "kubelet: " + reason}}}}}
}

func markRollingOut(ns, name string) {
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return err
		}
		d.Status.ObservedGeneration = d.Generation
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 2, 1, 1, 1
		return k8sClient.Status().Update(ctx, d)
	}, timeout, interval).Should(Succeed())
}

var _ = Describe("kstatus reads a Microservice and a Gateway right", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("InProgress before the operator's first pass: status starts at observedGeneration -1", func() {
		ms := testutil.ForCreate(testutil.NewMicroservice(ns, "skills"))
		ms.Spec.Paused = true
		ms.Status = platformv1alpha1.MicroserviceStatus{}
		fresh := ms.DeepCopy()
		fresh.Status = platformv1alpha1.MicroserviceStatus{ObservedGeneration: -1}
		fresh.Generation = 1
		Expect(kstatusOfObject(fresh)).To(Equal(status.InProgressStatus))
		// The API server fills the default: what a tool reads right after apply.
		Expect(k8sClient.Create(ctx, ms)).To(Succeed())
		Expect(ms.Status.ObservedGeneration).To(BeNumerically("<=", ms.Generation))
		if ms.Status.ObservedGeneration != ms.Generation {
			Expect(ms.Status.ObservedGeneration).To(Equal(int64(-1)))
			Expect(kstatusOfObject(ms)).To(Equal(status.InProgressStatus))
		}
		gw := &platformv1alpha1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"}}
		gw.Status.ObservedGeneration = -1
		gw.Generation = 1
		Expect(kstatusOfObject(gw)).To(Equal(status.InProgressStatus))
	})

	It("InProgress while a dependency is missing, then not serving, during a rollout; Current when Ready", func() {
		ms := createMicroservice(testutil.NewMicroservice(ns, "career", testutil.WithDependsOn("skills")))
		Eventually(conditionOf(ns, "career", "DependenciesReady"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "DependencyNotFound"))
		markDeploymentAvailable(ns, "career")
		Eventually(conditionOf(ns, "career", "Reconciling"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "DependencyNotFound"))
		Expect(kstatusOf(ms)()).To(Equal(status.InProgressStatus))

		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		Eventually(conditionOf(ns, "career", "DependenciesReady"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "DependencyNotReady"))
		Expect(kstatusOf(ms)()).To(Equal(status.InProgressStatus))

		markDeploymentAvailable(ns, "skills")
		Eventually(conditionOf(ns, "career", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		Eventually(kstatusOf(ms), timeout, interval).Should(Equal(status.CurrentStatus))
		Expect(conditionOf(ns, "career", "Stalled")()).To(haveCondition(metav1.ConditionFalse, "AsExpected"))

		By("a rollout: still Ready (kubectl wait holds), but InProgress")
		markRollingOut(ns, "career")
		Eventually(conditionOf(ns, "career", "Reconciling"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "RollingOut"))
		Expect(conditionOf(ns, "career", "Ready")()).To(haveCondition(metav1.ConditionTrue, "Ready"))
		Expect(kstatusOf(ms)()).To(Equal(status.InProgressStatus))
		markDeploymentAvailable(ns, "career")
		Eventually(kstatusOf(ms), timeout, interval).Should(Equal(status.CurrentStatus))
	})

	DescribeTable("Failed when it cannot progress on its own",
		func(st corev1.PodStatus, reason string) {
			ms := createMicroservice(testutil.NewMicroservice(ns, "skills"))
			markDeploymentAvailable(ns, "skills")
			Eventually(kstatusOf(ms), timeout, interval).Should(Equal(status.CurrentStatus))
			pod := stuckPod(ns, "skills", st)
			Eventually(conditionOf(ns, "skills", "Stalled"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, reason))
			Expect(kstatusOf(ms)()).To(Equal(status.FailedStatus))
			Expect(conditionOf(ns, "skills", "Ready")()).To(haveCondition(metav1.ConditionFalse, reason))

			Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
			Eventually(kstatusOf(ms), timeout, interval).Should(Equal(status.CurrentStatus))
		},
		Entry("the image cannot be pulled", waiting("ImagePullBackOff"), "ImagePullBackOff"),
		Entry("a crash loop", waiting("CrashLoopBackOff"), "CrashLoopBackOff"),
		Entry("an unschedulable pod", corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
			Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available"}}}, "Unschedulable"),
	)

	It("Failed when the progress deadline is exceeded", func() {
		ms := createMicroservice(testutil.NewMicroservice(ns, "skills"))
		markDeploymentAvailable(ns, "skills")
		markProgressDeadlineExceeded(ns, "skills")
		Eventually(kstatusOf(ms), timeout, interval).Should(Equal(status.FailedStatus))
		Expect(conditionOf(ns, "skills", "Stalled")()).To(haveCondition(metav1.ConditionTrue, "ProgressDeadlineExceeded"))
	})

	It("Failed, once and without a retry loop, when the API server refuses a child; Current once the spec is fixed", func() {
		ms := createMicroservice(testutil.NewMicroservice(ns, "skills", func(m *platformv1alpha1.Microservice) {
			// CEL cannot see it; the API server refuses the Deployment.
			m.Spec.Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}
		}))
		Eventually(conditionOf(ns, "skills", "Stalled"), timeout, interval).Should(And(
			haveCondition(metav1.ConditionTrue, "ApplyRefused"),
			HaveField("Message", ContainSubstring("must be less than or equal to cpu limit"))))
		Expect(kstatusOf(ms)()).To(Equal(status.FailedStatus))
		Expect(conditionOf(ns, "skills", "Ready")()).To(haveCondition(metav1.ConditionFalse, "ApplyRefused"))
		got := &platformv1alpha1.Microservice{}
		Expect(k8sClient.Get(ctx, key(ns, "skills"), got)).To(Succeed())
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation), "a refusal is the server's answer: the generation is observed")

		By("sending the refused Deployment no more while the spec stays as it is")
		before := deploymentApplies.Load()
		Consistently(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "skills"), &appsv1.Deployment{}))
		}, 5*time.Second, interval).Should(BeTrue())
		GinkgoWriter.Printf("Deployment applies in the 5 s after Stalled: %d (all applies of the suite so far: %d)\n",
			deploymentApplies.Load()-before, deploymentApplies.Load())
		// A retry loop with backoff would have sent several in 5 s; one may
		// still be in flight from an event that came with the refusal.
		Expect(deploymentApplies.Load()-before).To(BeNumerically("<=", 1), "a refused child must not be retried in a loop")

		updateMicroservice(ns, "skills", func(m *platformv1alpha1.Microservice) { m.Spec.Resources.Limits = nil })
		deploymentOf(ns, "skills")
		markDeploymentAvailable(ns, "skills")
		Eventually(kstatusOf(ms), timeout, interval).Should(Equal(status.CurrentStatus))
	})

	It("reads a Gateway alike: InProgress while a backend is missing, Current when it serves", func() {
		gw := &platformv1alpha1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"},
			Spec: platformv1alpha1.GatewaySpec{Routes: []platformv1alpha1.Route{{PathPrefix: "/skills", Service: "skills"}}}}
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		deploymentOf(ns, "edge")
		markDeploymentAvailable(ns, "edge")
		Eventually(gatewayConditionOf(ns, "edge", "Reconciling"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "BackendNotFound"))
		Expect(kstatusOf(gw)()).To(Equal(status.InProgressStatus))
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		markDeploymentAvailable(ns, "skills")
		Eventually(kstatusOf(gw), timeout, interval).Should(Equal(status.CurrentStatus))
	})
})

func gatewayConditionOf(ns, name, condType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		gw := &platformv1alpha1.Gateway{}
		if err := k8sClient.Get(ctx, key(ns, name), gw); err != nil {
			return nil
		}
		for i := range gw.Status.Conditions {
			if gw.Status.Conditions[i].Type == condType {
				return &gw.Status.Conditions[i]
			}
		}
		return nil
	}
}
