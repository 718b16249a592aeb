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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

func templateHash(ns, name string) func() string {
	return func() string {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return ""
		}
		return d.Spec.Template.Annotations[contract.AnnotationConfigHash]
	}
}

func rotate(ns, name, value string) {
	EventuallyWithOffset(1, func() error {
		s := &corev1.Secret{}
		if err := k8sClient.Get(ctx, key(ns, name), s); err != nil {
			return err
		}
		s.StringData = map[string]string{"url": value}
		return k8sClient.Update(ctx, s)
	}, timeout, interval).Should(Succeed())
}

func secretEnvVar(name, secret string) platformv1alpha1.EnvVar {
	return platformv1alpha1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "url"}}}
}

var _ = Describe("Secrets that rotate", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		for _, name := range []string{"broker", "api", "unused"} {
			Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				StringData: map[string]string{"url": "v1"}})).To(Succeed())
		}
	})

	It("rolls a Microservice's pods when a Secret they read changes, and not for one they do not", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills", testutil.WithEvents("broker", "url", nil, nil),
			func(m *platformv1alpha1.Microservice) {
				m.Spec.Env = []platformv1alpha1.EnvVar{secretEnvVar("API_URL", "api")}
			}))
		Eventually(templateHash(ns, "skills"), timeout, interval).ShouldNot(BeEmpty())
		first := templateHash(ns, "skills")()

		rotate(ns, "broker", "v2")
		Eventually(templateHash(ns, "skills"), timeout, interval).ShouldNot(Equal(first))
		second := templateHash(ns, "skills")()
		rotate(ns, "api", "v2")
		Eventually(templateHash(ns, "skills"), timeout, interval).ShouldNot(Equal(second))
		Eventually(func() string {
			ms := &platformv1alpha1.Microservice{}
			_ = k8sClient.Get(ctx, key(ns, "skills"), ms)
			return ms.Status.ConfigHash
		}, timeout, interval).Should(Equal(templateHash(ns, "skills")()))

		By("a Secret nobody reads changes nothing")
		d := deploymentOf(ns, "skills")
		rotate(ns, "unused", "v2")
		Consistently(func() string { return deploymentOf(ns, "skills").ResourceVersion }, 2*time.Second, interval).Should(Equal(d.ResourceVersion))
	})

	It("rolls a Gateway's pods when a Secret its env reads changes", func() {
		gw := &platformv1alpha1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"},
			Spec: platformv1alpha1.GatewaySpec{PodOptions: platformv1alpha1.PodOptions{Env: []platformv1alpha1.EnvVar{secretEnvVar("JWKS_URL", "api")}}}}
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		Eventually(templateHash(ns, "edge"), timeout, interval).ShouldNot(BeEmpty())
		first := templateHash(ns, "edge")()
		rotate(ns, "api", "v3")
		Eventually(templateHash(ns, "edge"), timeout, interval).ShouldNot(Equal(first))
	})
})

var _ = Describe("Data that survives", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	claim := func() *corev1.PersistentVolumeClaim {
		pvc := &corev1.PersistentVolumeClaim{}
		EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key(ns, "learning-data"), pvc) }, timeout, interval).Should(Succeed())
		return pvc
	}

	It("keeps the claim of a deleted Microservice (Retain) and gives it back to one of the same name", func() {
		first := createMicroservice(testutil.NewMicroservice(ns, "learning", testutil.WithSQLite("1Gi")))
		pvc := claim()
		Expect(pvc.OwnerReferences).To(BeEmpty(), "with Retain the garbage collector must have no owner to follow")
		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "learning"), &platformv1alpha1.Microservice{}) }, timeout, interval).
			ShouldNot(Succeed())
		Expect(claim().UID).To(Equal(pvc.UID))

		createMicroservice(testutil.NewMicroservice(ns, "learning", testutil.WithSQLite("1Gi")))
		deploymentOf(ns, "learning")
		markDeploymentAvailable(ns, "learning")
		Eventually(conditionOf(ns, "learning", "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		again := claim()
		Expect(again.UID).To(Equal(pvc.UID), "the same claim, so the same data")
		Expect(again.OwnerReferences).To(BeEmpty())
	})

	It("lets the Microservice control the claim with Delete, and switches both ways on a live object", func() {
		owner := createMicroservice(testutil.NewMicroservice(ns, "learning", testutil.WithSQLite("1Gi"),
			func(m *platformv1alpha1.Microservice) { m.Spec.Database.WhenDeleted = platformv1alpha1.DeletionDelete }))
		Eventually(func() bool { return metav1.IsControlledBy(claim(), owner) }, timeout, interval).Should(BeTrue())
		updateMicroservice(ns, "learning", func(m *platformv1alpha1.Microservice) { m.Spec.Database.WhenDeleted = platformv1alpha1.DeletionRetain })
		Eventually(func() []metav1.OwnerReference { return claim().OwnerReferences }, timeout, interval).Should(BeEmpty())
		updateMicroservice(ns, "learning", func(m *platformv1alpha1.Microservice) { m.Spec.Database.WhenDeleted = platformv1alpha1.DeletionDelete })
		Eventually(func() bool { return metav1.IsControlledBy(claim(), owner) }, timeout, interval).Should(BeTrue())
	})
})

var _ = Describe("Dependencies in another namespace", func() {
	It("gives the dependency's URL in its namespace and lets its readiness flow across", func() {
		home, other := newNamespace(), newNamespace()
		createMicroservice(testutil.NewMicroservice(home, "career", func(m *platformv1alpha1.Microservice) {
			m.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: "skills", Namespace: other}}
		}))
		Eventually(conditionOf(home, "career", "DependenciesReady"), timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, "DependencyNotFound"), HaveField("Message", ContainSubstring(other+"/skills"))))

		createMicroservice(testutil.NewMicroservice(other, "skills", testutil.WithPort(9191)))
		Eventually(conditionOf(home, "career", "DependenciesReady"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "DependencyNotReady"))
		Eventually(func() []corev1.EnvVar { return deploymentOf(home, "career").Spec.Template.Spec.Containers[0].Env }, timeout, interval).
			Should(ContainElement(corev1.EnvVar{Name: "SKILLS_URL", Value: fmt.Sprintf("http://skills.%s.svc.cluster.local:9191", other)}))

		markDeploymentAvailable(other, "skills")
		Eventually(conditionOf(home, "career", "DependenciesReady"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "DependenciesReady"))
		ms := &platformv1alpha1.Microservice{}
		Expect(k8sClient.Get(ctx, key(home, "career"), ms)).To(Succeed())
		Expect(ms.Status.Dependencies).To(ConsistOf(HaveField("Namespace", other)))
	})
})

var _ = Describe("Admission of the pod options and the database", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	refuse := func(ms *platformv1alpha1.Microservice, words ...string) {
		err := k8sClient.Create(ctx, testutil.ForCreate(ms))
		ExpectWithOffset(1, err).To(HaveOccurred())
		for _, w := range words {
			ExpectWithOffset(1, err.Error()).To(ContainSubstring(w))
		}
	}
	m := func(opts ...testutil.MicroserviceOption) *platformv1alpha1.Microservice {
		return testutil.NewMicroservice(ns, "skills", opts...)
	}
	withEnv := func(name string) testutil.MicroserviceOption {
		return func(m *platformv1alpha1.Microservice) {
			m.Spec.Env = append(m.Spec.Env, platformv1alpha1.EnvVar{Name: name, Value: "x"})
		}
	}
	withMount := func(path string) testutil.MicroserviceOption {
		return func(m *platformv1alpha1.Microservice) {
			m.Spec.Volumes = []platformv1alpha1.Volume{{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{}}}
			m.Spec.VolumeMounts = []platformv1alpha1.VolumeMount{{Name: "scratch", MountPath: path}}
		}
	}

	It("refuses env names the operator sets, naming the variable", func() {
		for _, name := range []string{"PORT", "DATABASE_URL", "BROKER_URL", "EVENTS_PUBLISHES", "EVENTS_SUBSCRIBES"} {
			refuse(m(withEnv(name)), "env "+name+" is set by the operator")
		}
		refuse(m(testutil.WithDependsOn("career"), withEnv("CAREER_URL")), "URL variable of a spec.dependsOn entry")
		Expect(k8sClient.Create(ctx, testutil.ForCreate(m(testutil.WithDependsOn("career"), withEnv("MODE"))))).To(Succeed())
	})

	It("refuses the operator's labels, mounts over its directories and mounts of no volume", func() {
		refuse(m(func(m *platformv1alpha1.Microservice) {
			m.Spec.PodMetadata = &platformv1alpha1.PodMetadata{Labels: map[string]string{contract.LabelMicroservice: "other"}}
		}), "podMetadata.labels may not set skillmesh.dev/*")
		refuse(m(withMount("/tmp")), "mountPath /tmp")
		refuse(m(testutil.WithSQLite("1Gi"), withMount("/data")), "mountPath /data holds the sqlite database")
		refuse(m(func(m *platformv1alpha1.Microservice) {
			m.Spec.VolumeMounts = []platformv1alpha1.VolumeMount{{Name: "nowhere", MountPath: "/x"}}
		}), "every volumeMounts entry must name a volume")
		Expect(k8sClient.Create(ctx, testutil.ForCreate(m(withMount("/data"))))).To(Succeed(), "/data is free without a sqlite database")
	})

	It("refuses changes a bound claim cannot take, and takes growth", func() {
		createMicroservice(m(testutil.WithSQLite("1Gi")))
		change := func(f func(*platformv1alpha1.Microservice)) error {
			return updateOnce(ns, "skills", f)
		}
		Expect(change(func(ms *platformv1alpha1.Microservice) {
			ms.Spec.Database.Storage = new(resource.MustParse("512Mi"))
		})).
			To(MatchError(ContainSubstring("database.storage cannot shrink")))
		Expect(change(func(ms *platformv1alpha1.Microservice) { ms.Spec.Database.StorageClassName = new("fast") })).
			To(MatchError(ContainSubstring("database.storageClassName cannot change")))
		Expect(change(func(ms *platformv1alpha1.Microservice) {
			ms.Spec.Database = &platformv1alpha1.Database{Engine: platformv1alpha1.DatabasePostgres,
				URLSecretRef: &platformv1alpha1.SecretKeySelector{Name: "db", Key: "url"}}
		})).To(MatchError(ContainSubstring("database.engine cannot change")))
		Expect(change(func(ms *platformv1alpha1.Microservice) { ms.Spec.Database.Storage = new(resource.MustParse("2Gi")) })).To(Succeed())
	})
})
