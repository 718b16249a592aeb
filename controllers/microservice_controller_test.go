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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

func createMicroservice(ms *platformv1alpha1.Microservice) *platformv1alpha1.Microservice {
	obj := testutil.ForCreate(ms)
	ExpectWithOffset(1, k8sClient.Create(ctx, obj)).To(Succeed())
	return obj
}

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// fetch returns a getter for Eventually.
func fetch[T client.Object](ns, name string, obj T) func() (T, error) {
	return func() (T, error) {
		err := k8sClient.Get(ctx, key(ns, name), obj)
		return obj, err
	}
}

func deploymentOf(ns, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key(ns, name), d) }, timeout, interval).Should(Succeed())
	return d
}

// conditionOf reads one condition of a Microservice, for Eventually.
func conditionOf(ns, name, condType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		ms := &platformv1alpha1.Microservice{}
		if err := k8sClient.Get(ctx, key(ns, name), ms); err != nil {
			return nil
		}
		return meta.FindStatusCondition(ms.Status.Conditions, condType)
	}
}

func haveCondition(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), HaveField("Status", status), HaveField("Reason", reason))
}

// markDeploymentAvailable plays the Deployment controller: every replica of
// the current generation is up.
func markDeploymentAvailable(ns, name string) {
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return err
		}
		d.Status = testutil.AvailableStatus(d)
		return k8sClient.Status().Update(ctx, d)
	}, timeout, interval).Should(Succeed())
}

func markProgressDeadlineExceeded(ns, name string) {
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return err
		}
		d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
		d.Status.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
				Message: "Deployment does not have minimum availability.", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				Message: `ReplicaSet "x" has timed out progressing.`, LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
		}
		return k8sClient.Status().Update(ctx, d)
	}, timeout, interval).Should(Succeed())
}

func careerPodTemplateHash(ns string) func() string {
	const name = "career"
	return func() string {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return ""
		}
		return d.Spec.Template.Annotations[contract.AnnotationConfigHash]
	}
}

func updateMicroservice(ns, name string, change func(*platformv1alpha1.Microservice)) {
	EventuallyWithOffset(1, func() error {
		ms := &platformv1alpha1.Microservice{}
		if err := k8sClient.Get(ctx, key(ns, name), ms); err != nil {
			return err
		}
		change(ms)
		return k8sClient.Update(ctx, ms)
	}, timeout, interval).Should(Succeed())
}

// updateOnce applies change to a fresh copy and returns the API server's
// answer to the update. A conflict (the operator patched status in between)
// is retried, so the answer is about the change itself: admission refusals
// come back as they are.
func updateOnce(ns, name string, change func(*platformv1alpha1.Microservice)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ms := &platformv1alpha1.Microservice{}
		if err := k8sClient.Get(ctx, key(ns, name), ms); err != nil {
			return err
		}
		change(ms)
		return k8sClient.Update(ctx, ms)
	})
}

// updateDeployment edits a Deployment as a person would with kubectl edit,
// retrying a conflict with a write of the operator's.
func updateDeployment(ns, name string, change func(*appsv1.Deployment)) {
	ExpectWithOffset(1, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return err
		}
		change(d)
		return k8sClient.Update(ctx, d)
	})).To(Succeed())
}

func isControlledBy(owner *platformv1alpha1.Microservice) OmegaMatcher {
	return WithTransform(func(o client.Object) bool { return metav1.IsControlledBy(o, owner) }, BeTrue())
}

var _ = Describe("Microservice controller", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("creates the ConfigMap, Deployment and Service, controlled by the Microservice", func() {
		owner := createMicroservice(testutil.NewMicroservice(ns, "skills",
			testutil.WithConfig("SKILLS_", map[string]string{"LOG_LEVEL": "debug"}),
			testutil.WithPort(9090), testutil.WithDependsOn("career")))

		cm := &corev1.ConfigMap{}
		Eventually(fetch(ns, "skills-config", cm), timeout, interval).Should(And(
			HaveField("Data", HaveKeyWithValue("SKILLS_LOG_LEVEL", "debug")), isControlledBy(owner)))

		d := deploymentOf(ns, "skills")
		Expect(d).To(isControlledBy(owner))
		c := d.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(testutil.DefaultImage))
		Expect(c.Ports).To(ConsistOf(HaveField("ContainerPort", int32(9090))))
		Expect(c.Env).To(ContainElements(
			corev1.EnvVar{Name: "PORT", Value: "9090"},
			corev1.EnvVar{Name: "CAREER_URL", Value: fmt.Sprintf("http://career.%s.svc.cluster.local:8080", ns)}))
		Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/health/live"))
		Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/health/ready"))
		Expect(d.Spec.Template.Spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))

		svc := &corev1.Service{}
		Eventually(fetch(ns, "skills", svc), timeout, interval).Should(And(
			HaveField("Spec.Ports", ConsistOf(HaveField("Port", int32(9090)))), isControlledBy(owner)))

		By("reporting the DNS URL and every condition from the first visit")
		Eventually(func() platformv1alpha1.MicroserviceStatus {
			ms := &platformv1alpha1.Microservice{}
			_ = k8sClient.Get(ctx, key(ns, "skills"), ms)
			return ms.Status
		}, timeout, interval).Should(And(
			HaveField("URL", fmt.Sprintf("http://skills.%s.svc.cluster.local:9090", ns)),
			HaveField("Conditions", HaveLen(9)),
			HaveField("ObservedGeneration", owner.Generation)))
		Expect(conditionOf(ns, "skills", "Available")()).To(haveCondition(metav1.ConditionUnknown, "Reconciling"))
		Expect(conditionOf(ns, "skills", "Ready")()).To(haveCondition(metav1.ConditionFalse, "DependencyNotFound"))
	})

	It("rolls the pods on a config change and not on a replicas change", func() {
		createMicroservice(testutil.NewMicroservice(ns, "career", testutil.WithConfig("", map[string]string{"A": "1"})))
		Eventually(careerPodTemplateHash(ns), timeout, interval).ShouldNot(BeEmpty())
		first := careerPodTemplateHash(ns)()

		updateMicroservice(ns, "career", func(ms *platformv1alpha1.Microservice) { ms.Spec.Replicas = ptr.To[int32](3) })
		Eventually(func() *int32 { return deploymentOf(ns, "career").Spec.Replicas }, timeout, interval).Should(HaveValue(Equal(int32(3))))
		Expect(careerPodTemplateHash(ns)()).To(Equal(first))

		updateMicroservice(ns, "career", func(ms *platformv1alpha1.Microservice) { ms.Spec.Config["A"] = "2" })
		Eventually(careerPodTemplateHash(ns), timeout, interval).ShouldNot(Equal(first))
		Eventually(func() string {
			ms := &platformv1alpha1.Microservice{}
			_ = k8sClient.Get(ctx, key(ns, "career"), ms)
			return ms.Status.ConfigHash
		}, timeout, interval).Should(Equal(careerPodTemplateHash(ns)()))
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, key(ns, "career-config"), cm)).To(Succeed())
		Expect(cm.Data).To(HaveKeyWithValue("A", "2"))
	})

	It("undoes hand edits and deletions of its children", func() {
		createMicroservice(testutil.NewMicroservice(ns, "learning", testutil.WithReplicas(2)))
		deploymentOf(ns, "learning")

		By("restoring an image and replicas edited by hand")
		updateDeployment(ns, "learning", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "attacker/image:latest"
			d.Spec.Replicas = ptr.To[int32](7)
		})
		Eventually(func() string { return deploymentOf(ns, "learning").Spec.Template.Spec.Containers[0].Image }, timeout, interval).
			Should(Equal(testutil.DefaultImage))
		Eventually(func() *int32 { return deploymentOf(ns, "learning").Spec.Replicas }, timeout, interval).Should(HaveValue(Equal(int32(2))))

		By("recreating a deleted Deployment, Service and ConfigMap")
		oldUID := deploymentOf(ns, "learning").UID
		Expect(k8sClient.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "learning"}})).To(Succeed())
		Expect(k8sClient.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "learning"}})).To(Succeed())
		Expect(k8sClient.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "learning-config"}})).To(Succeed())
		Eventually(func() bool {
			d := &appsv1.Deployment{}
			return k8sClient.Get(ctx, key(ns, "learning"), d) == nil && d.UID != oldUID
		}, timeout, interval).Should(BeTrue())
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "learning"), &corev1.Service{}) }, timeout, interval).Should(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "learning-config"), &corev1.ConfigMap{}) }, timeout, interval).Should(Succeed())
	})

	It("reports Ready only when the Deployment is available and every dependency is Ready", func() {
		createMicroservice(testutil.NewMicroservice(ns, "gateway-api", testutil.WithDependsOn("skills")))
		Eventually(conditionOf(ns, "gateway-api", "DependenciesReady"), timeout, interval).
			Should(And(haveCondition(metav1.ConditionFalse, "DependencyNotFound"), HaveField("Message", ContainSubstring("skills"))))

		By("creating the dependency: found, not yet Ready")
		createMicroservice(testutil.NewMicroservice(ns, "skills", testutil.WithPort(9191)))
		Eventually(conditionOf(ns, "gateway-api", "DependenciesReady"), timeout, interval).
			Should(And(haveCondition(metav1.ConditionFalse, "DependencyNotReady"), HaveField("Message", ContainSubstring("skills"))))
		By("rolling the dependent's pods to the dependency's real port")
		Eventually(func() []corev1.EnvVar { return deploymentOf(ns, "gateway-api").Spec.Template.Spec.Containers[0].Env }, timeout, interval).
			Should(ContainElement(corev1.EnvVar{Name: "SKILLS_URL", Value: fmt.Sprintf("http://skills.%s.svc.cluster.local:9191", ns)}))

		By("the dependency becoming Ready")
		markDeploymentAvailable(ns, "skills")
		Eventually(conditionOf(ns, "skills", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		Eventually(conditionOf(ns, "gateway-api", "DependenciesReady"), timeout, interval).
			Should(haveCondition(metav1.ConditionTrue, "DependenciesReady"))
		Expect(conditionOf(ns, "gateway-api", "Ready")()).To(haveCondition(metav1.ConditionUnknown, "Reconciling"))

		By("the dependent's own Deployment becoming available")
		markDeploymentAvailable(ns, "gateway-api")
		Eventually(conditionOf(ns, "gateway-api", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		ms := &platformv1alpha1.Microservice{}
		Expect(k8sClient.Get(ctx, key(ns, "gateway-api"), ms)).To(Succeed())
		Expect(ms.Status.Ready).To(Equal("1/1"))
		Expect(ms.Status.Dependencies).To(ConsistOf(platformv1alpha1.DependencyStatus{
			Name: "skills", Namespace: ns, URL: fmt.Sprintf("http://skills.%s.svc.cluster.local:9191", ns), Found: true, Ready: true}))

		By("telling a person through Events")
		Eventually(func() []string {
			var list eventsv1.EventList
			_ = k8sClient.List(ctx, &list, client.InNamespace(ns))
			var reasons []string
			for _, e := range list.Items {
				if e.Regarding.Name == "gateway-api" {
					reasons = append(reasons, e.Reason)
				}
			}
			return reasons
		}, timeout, interval).Should(ContainElements("Created", "DependencyNotFound", "Ready"))
	})

	It("stops counting on a dependency scaled to zero, and counts again when it is back", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		createMicroservice(testutil.NewMicroservice(ns, "career", testutil.WithDependsOn("skills")))
		markDeploymentAvailable(ns, "skills")
		Eventually(conditionOf(ns, "career", "DependenciesReady"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "DependenciesReady"))

		updateMicroservice(ns, "skills", func(ms *platformv1alpha1.Microservice) { ms.Spec.Replicas = ptr.To[int32](0) })
		Eventually(func() *int32 { return deploymentOf(ns, "skills").Spec.Replicas }, timeout, interval).Should(HaveValue(BeZero()))
		markDeploymentAvailable(ns, "skills")
		// Ready as its spec says (0/0), yet nobody answers: career must not count on it.
		Eventually(conditionOf(ns, "skills", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		Eventually(conditionOf(ns, "career", "DependenciesReady"), timeout, interval).
			Should(And(haveCondition(metav1.ConditionFalse, "DependencyNotReady"), HaveField("Message", ContainSubstring("skills"))))

		updateMicroservice(ns, "skills", func(ms *platformv1alpha1.Microservice) { ms.Spec.Replicas = ptr.To[int32](1) })
		Eventually(func() *int32 { return deploymentOf(ns, "skills").Spec.Replicas }, timeout, interval).Should(HaveValue(BeEquivalentTo(1)))
		markDeploymentAvailable(ns, "skills")
		Eventually(conditionOf(ns, "career", "DependenciesReady"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "DependenciesReady"))
	})

	It("reports Degraded when the rollout exceeds its progress deadline", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		deploymentOf(ns, "skills")
		markDeploymentAvailable(ns, "skills")
		Eventually(conditionOf(ns, "skills", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))

		markProgressDeadlineExceeded(ns, "skills")
		Eventually(conditionOf(ns, "skills", "Degraded"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "ProgressDeadlineExceeded"))
		Expect(conditionOf(ns, "skills", "Ready")()).To(haveCondition(metav1.ConditionFalse, "ProgressDeadlineExceeded"))
	})

	It("names a stuck pod's reason in Ready and recovers when the pod goes", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		deploymentOf(ns, "skills")
		markDeploymentAvailable(ns, "skills")
		Eventually(conditionOf(ns, "skills", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))

		// envtest has no kubelet: the pod and its waiting state are written
		// as the kubelet would write them.
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "skills-7c9f-x2", Namespace: ns, Labels: map[string]string{
				contract.LabelManagedBy: contract.ManagedByValue, contract.LabelMicroservice: "skills",
			}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "service", Image: "skillmesh/nope:v1"}}},
		}
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: "service", Image: "skillmesh/nope:v1",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ImagePullBackOff", Message: `Back-off pulling image "skillmesh/nope:v1"`,
			}},
		}}
		Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())

		Eventually(conditionOf(ns, "skills", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "ImagePullBackOff"))
		c := conditionOf(ns, "skills", "Degraded")()
		Expect(c).To(haveCondition(metav1.ConditionTrue, "ImagePullBackOff"))
		Expect(c.Message).To(ContainSubstring(`Pod skills-7c9f-x2: container service is waiting: ImagePullBackOff: Back-off pulling image "skillmesh/nope:v1"`))

		Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
		Eventually(conditionOf(ns, "skills", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
	})

	It("gives a sqlite Microservice a volume and the Recreate strategy", func() {
		owner := createMicroservice(testutil.NewMicroservice(ns, "skills", testutil.WithSQLite("2Gi")))
		pvc := &corev1.PersistentVolumeClaim{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "skills-data"), pvc) }, timeout, interval).Should(Succeed())
		// whenDeleted defaults to Retain: the claim outlives its Microservice.
		Expect(pvc.OwnerReferences).To(BeEmpty())
		Expect(pvc.Labels).To(HaveKeyWithValue(contract.LabelMicroservice, owner.Name))
		Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal("2Gi"))
		d := deploymentOf(ns, "skills")
		Expect(d.Spec.Strategy.Type).To(Equal(appsv1.RecreateDeploymentStrategyType))
		Expect(d.Spec.Strategy.RollingUpdate).To(BeNil())
		Expect(d.Spec.Template.Spec.Containers[0].Env).To(ContainElement(corev1.EnvVar{Name: "DATABASE_URL", Value: "sqlite:///data/skills.db"}))
	})

	It("switches a running Microservice from RollingUpdate to Recreate when it takes a sqlite database", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		Expect(deploymentOf(ns, "skills").Spec.Strategy.Type).To(Equal(appsv1.RollingUpdateDeploymentStrategyType))
		updateMicroservice(ns, "skills", func(ms *platformv1alpha1.Microservice) { testutil.WithSQLite("1Gi")(ms) })
		Eventually(func() appsv1.DeploymentStrategyType { return deploymentOf(ns, "skills").Spec.Strategy.Type }, timeout, interval).
			Should(Equal(appsv1.RecreateDeploymentStrategyType))
		Expect(conditionOf(ns, "skills", "Degraded")()).NotTo(haveCondition(metav1.ConditionTrue, "ApplyFailed"))
	})

	It("adds an autoscaler and a disruption budget, and removes them when the spec drops them", func() {
		owner := createMicroservice(testutil.NewMicroservice(ns, "career", testutil.WithAutoscaling(2, 5)))
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "career"), hpa) }, timeout, interval).Should(Succeed())
		Expect(hpa).To(isControlledBy(owner))
		Expect(hpa.Spec.MaxReplicas).To(Equal(int32(5)))
		pdb := &policyv1.PodDisruptionBudget{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "career"), pdb) }, timeout, interval).Should(Succeed())

		By("leaving the replica count to the autoscaler")
		deploymentOf(ns, "career")
		updateDeployment(ns, "career", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](4) }) // what the HPA would do through /scale
		Consistently(func() *int32 { return deploymentOf(ns, "career").Spec.Replicas }, 2*time.Second, interval).Should(HaveValue(Equal(int32(4))))

		updateMicroservice(ns, "career", func(ms *platformv1alpha1.Microservice) { ms.Spec.Autoscaling = nil })
		Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "career"), hpa)) }, timeout, interval).Should(BeTrue())
		Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "career"), pdb)) }, timeout, interval).Should(BeTrue())
		Eventually(func() *int32 { return deploymentOf(ns, "career").Spec.Replicas }, timeout, interval).Should(HaveValue(Equal(int32(1))))
	})

	It("leaves the children alone while paused, and says so", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		deploymentOf(ns, "skills")
		updateMicroservice(ns, "skills", func(ms *platformv1alpha1.Microservice) { ms.Spec.Paused = true })
		Eventually(conditionOf(ns, "skills", "Paused"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Paused"))

		updateMicroservice(ns, "skills", func(ms *platformv1alpha1.Microservice) { ms.Spec.Image = "registry.example/other:v2" })
		deploymentOf(ns, "skills")
		updateDeployment(ns, "skills", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](5) })
		Consistently(func() *appsv1.Deployment { return deploymentOf(ns, "skills") }, 2*time.Second, interval).Should(And(
			HaveField("Spec.Replicas", HaveValue(Equal(int32(5)))),
			HaveField("Spec.Template.Spec.Containers", ContainElement(HaveField("Image", testutil.DefaultImage)))))

		By("resuming")
		updateMicroservice(ns, "skills", func(ms *platformv1alpha1.Microservice) { ms.Spec.Paused = false })
		Eventually(func() *appsv1.Deployment { return deploymentOf(ns, "skills") }, timeout, interval).Should(And(
			HaveField("Spec.Replicas", HaveValue(Equal(int32(1)))),
			HaveField("Spec.Template.Spec.Containers", ContainElement(HaveField("Image", "registry.example/other:v2")))))
	})

	It("writes nothing when a reconcile finds nothing to change", func() {
		createMicroservice(testutil.NewMicroservice(ns, "learning", testutil.WithSQLite("1Gi")))
		createMicroservice(testutil.NewMicroservice(ns, "career",
			testutil.WithConfig("CAREER_", map[string]string{"A": "1", "B": "2"}),
			testutil.WithDependsOn("learning"), testutil.WithPostgres("db", "url"),
			testutil.WithEvents("broker", "url", []string{"career.plan.updated"}, []string{"skills.assessed"}),
			testutil.WithResources("100m", "64Mi"), testutil.WithAutoscaling(2, 4),
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.SecretRefs = []platformv1alpha1.SecretReference{{Name: "api-keys"}}
			}))
		deploymentOf(ns, "learning")
		deploymentOf(ns, "career")
		markDeploymentAvailable(ns, "learning")
		markDeploymentAvailable(ns, "career")
		Eventually(conditionOf(ns, "career", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))

		By("waiting until the manager is quiet")
		Eventually(func() int64 {
			before := managerWrites.Load()
			time.Sleep(time.Second)
			return managerWrites.Load() - before
		}, timeout, interval).Should(BeZero())

		versions := func() map[string]string {
			out := map[string]string{}
			for name, obj := range map[string]client.Object{
				"ms/learning": &platformv1alpha1.Microservice{}, "ms/career": &platformv1alpha1.Microservice{},
				"cm/learning-config": &corev1.ConfigMap{}, "cm/career-config": &corev1.ConfigMap{},
				"deploy/learning": &appsv1.Deployment{}, "deploy/career": &appsv1.Deployment{},
				"svc/learning": &corev1.Service{}, "svc/career": &corev1.Service{},
				"pvc/learning-data": &corev1.PersistentVolumeClaim{},
				"hpa/career":        &autoscalingv2.HorizontalPodAutoscaler{}, "pdb/career": &policyv1.PodDisruptionBudget{},
				"np/learning": &networkingv1.NetworkPolicy{}, "np/career": &networkingv1.NetworkPolicy{},
			} {
				_, n, _ := cut(name)
				Expect(k8sClient.Get(ctx, key(ns, n), obj)).To(Succeed(), name)
				out[name] = obj.GetResourceVersion()
			}
			return out
		}
		before := versions()
		writes := managerWrites.Load()
		for _, name := range []string{"learning", "career"} {
			_, err := reconciler.Reconcile(ctx, ctrl.Request{NamespacedName: key(ns, name)})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(managerWrites.Load()-writes).To(BeZero(), "a reconcile with nothing to change sent writes")
		Expect(versions()).To(Equal(before))
	})
})

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
