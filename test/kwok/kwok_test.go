//go:build kwok

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

package kwok

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

var _ = Describe("The operator on a KWOK cluster", func() {
	It("brings the sample stack to Ready, with pods Ready behind every Service", func() {
		ns := newNamespace()
		objs := sampleObjects()
		var services []string
		for _, o := range objs {
			o.SetNamespace(ns)
			if o.GetKind() == "Microservice" {
				services = append(services, o.GetName())
				if engine, _, _ := unstructured.NestedString(o.Object, "spec", "database", "engine"); engine == "sqlite" {
					volumeFor(ns, o.GetName()+"-data")
				}
			}
		}
		Expect(services).To(ConsistOf("skills", "career", "learning"))

		By("applying config/samples (kustomize build) in a fresh namespace")
		for _, o := range objs {
			Expect(k8sClient.Create(ctx, o)).To(Succeed(), "create %s %s", o.GetKind(), o.GetName())
		}

		By("waiting for every Microservice and the Gateway to report Ready")
		for _, name := range services {
			Eventually(func(g Gomega) {
				ms := &platformv1alpha1.Microservice{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ms)).To(Succeed())
				g.Expect(readyCondition(ms.Status.Conditions)).To(Equal(platformv1alpha1.ReasonReady), "Microservice %s", name)
				g.Expect(ms.Status.Ready).To(Equal("1/1"))
			}).Should(Succeed())
		}
		Eventually(func(g Gomega) {
			gw := &platformv1alpha1.Gateway{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "api"}, gw)).To(Succeed())
			g.Expect(readyCondition(gw.Status.Conditions)).To(Equal(platformv1alpha1.ReasonReady))
			g.Expect(meta.IsStatusConditionTrue(gw.Status.Conditions, platformv1alpha1.ConditionBackendsReady)).To(BeTrue())
		}).Should(Succeed())

		By("finding the KWOK pods as ready endpoints of each Service (the real EndpointSlice controller)")
		for _, name := range append(services, "api") {
			Eventually(func(g Gomega) {
				var slices discoveryv1.EndpointSliceList
				g.Expect(k8sClient.List(ctx, &slices, client.InNamespace(ns),
					client.MatchingLabels{discoveryv1.LabelServiceName: name})).To(Succeed())
				ready := 0
				for _, s := range slices.Items {
					for _, e := range s.Endpoints {
						if e.Conditions.Ready != nil && *e.Conditions.Ready && len(e.Addresses) > 0 {
							ready++
						}
					}
				}
				g.Expect(ready).To(Equal(1), "ready endpoints of Service %s", name)
			}).Should(Succeed())
		}
	})

	It("says Exposed False GatewayAPINotInstalled for an HTTPRoute this cluster cannot have, and stays Ready", func() {
		ns := newNamespace()
		Expect(k8sClient.Create(ctx, microservice(ns, "orders"))).To(Succeed())
		gw := &platformv1alpha1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"},
			Spec: platformv1alpha1.GatewaySpec{
				Routes: []platformv1alpha1.Route{{PathPrefix: "/orders", Service: "orders"}},
				Expose: &platformv1alpha1.Expose{HTTPRoute: &platformv1alpha1.ExposeHTTPRoute{
					ParentRefs: []platformv1alpha1.ParentReference{{Name: "public"}}}},
			},
		}
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(gw), gw)).To(Succeed())
			exposed := meta.FindStatusCondition(gw.Status.Conditions, platformv1alpha1.ConditionExposed)
			g.Expect(exposed).NotTo(BeNil())
			g.Expect(exposed.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(exposed.Reason).To(Equal(platformv1alpha1.ReasonGatewayAPINotInstalled))
			g.Expect(readyCondition(gw.Status.Conditions)).To(Equal(platformv1alpha1.ReasonReady))
		}).Should(Succeed())
		// No error loop: the status settles and stays.
		rv := gw.ResourceVersion
		Consistently(func() string {
			_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(gw), gw)
			return gw.ResourceVersion
		}, "3s", "500ms").Should(Equal(rv))
	})

	It("leaves a deleted Microservice's children to the real garbage collector", func() {
		ns := newNamespace()
		ms := microservice(ns, "orders")
		Expect(k8sClient.Create(ctx, ms)).To(Succeed())
		waitReady(ns, "orders")

		key := client.ObjectKey{Namespace: ns, Name: "orders"}
		children := []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.ConfigMap{}}
		Expect(k8sClient.Get(ctx, key, children[0])).To(Succeed())
		Expect(k8sClient.Get(ctx, key, children[1])).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orders-config"}, children[2])).To(Succeed())
		Expect(podsOf(ns, "orders")).To(HaveLen(2))

		By("deleting the Microservice only")
		Expect(k8sClient.Delete(ctx, ms)).To(Succeed())

		By("waiting for kube-controller-manager's garbage collector to remove its children and their pods")
		for _, c := range children {
			Eventually(func() error {
				return k8sClient.Get(ctx, client.ObjectKeyFromObject(c), c)
			}).Should(Satisfy(apierrors.IsNotFound), "%T %s", c, c.GetName())
		}
		Eventually(func() []corev1.Pod { return podsOf(ns, "orders") }).Should(BeEmpty())
	})

	It("flows readiness along dependsOn: missing, not ready, then ready", func() {
		ns := newNamespace()

		By("creating the dependent first: its dependency is not found")
		api := microservice(ns, "api")
		api.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: "db"}}
		Expect(k8sClient.Create(ctx, api)).To(Succeed())
		Eventually(dependenciesReady(ns)).Should(Equal(reason{metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotFound}))

		By("creating the dependency with pods no node can take (it asks for more CPU than the fake node has)")
		db := microservice(ns, "db")
		db.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("5000")}
		Expect(k8sClient.Create(ctx, db)).To(Succeed())
		Eventually(dependenciesReady(ns)).Should(Equal(reason{metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotReady}))
		Consistently(func(g Gomega) {
			got := &platformv1alpha1.Microservice{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, got)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, platformv1alpha1.ConditionReady)).To(BeFalse())
			g.Expect(dependenciesReady(ns)()).To(Equal(reason{metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotReady}))
		}, "3s").Should(Succeed())

		By("shrinking the dependency's request: its pods schedule, KWOK makes them Ready")
		Eventually(func() error {
			got := &platformv1alpha1.Microservice{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, got); err != nil {
				return err
			}
			got.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}
			return k8sClient.Update(ctx, got)
		}).Should(Succeed())
		waitReady(ns, "db")
		Eventually(dependenciesReady(ns)).Should(Equal(reason{metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesReady}))
		waitReady(ns, "api")
	})
})

// reason is a condition's status and reason, compared as one value.
type reason struct {
	Status metav1.ConditionStatus
	Reason string
}

// dependenciesReady reads the DependenciesReady condition of ns/api.
func dependenciesReady(ns string) func() reason {
	return func() reason {
		ms := &platformv1alpha1.Microservice{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "api"}, ms); err != nil {
			return reason{Reason: err.Error()}
		}
		c := meta.FindStatusCondition(ms.Status.Conditions, platformv1alpha1.ConditionDependenciesReady)
		if c == nil {
			return reason{}
		}
		return reason{c.Status, c.Reason}
	}
}

// readyCondition is the Ready condition's reason when it is True, else a
// description that reads well in a failure.
func readyCondition(conds []metav1.Condition) string {
	c := meta.FindStatusCondition(conds, platformv1alpha1.ConditionReady)
	switch {
	case c == nil:
		return "no Ready condition"
	case c.Status != metav1.ConditionTrue:
		return string(c.Status) + ": " + c.Reason + ": " + c.Message
	}
	return c.Reason
}

func waitReady(ns, name string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		ms := &platformv1alpha1.Microservice{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ms)).To(Succeed())
		g.Expect(readyCondition(ms.Status.Conditions)).To(Equal(platformv1alpha1.ReasonReady), "Microservice %s", name)
	}).Should(Succeed())
}

func microservice(ns, name string) *platformv1alpha1.Microservice {
	return &platformv1alpha1.Microservice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: platformv1alpha1.MicroserviceSpec{
			Image:    "skillmesh/services:v0.1.0",
			Replicas: new(int32(2)),
			Config:   map[string]string{"LOG_LEVEL": "info"},
		},
	}
}

func podsOf(ns, name string) []corev1.Pod {
	var pods corev1.PodList
	Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{contract.LabelMicroservice: name})).To(Succeed())
	return pods.Items
}

// sampleObjects is `kustomize build config/samples`, decoded.
func sampleObjects() []*unstructured.Unstructured {
	kustomize := filepath.Join(root, "bin", "kustomize")
	out, err := exec.Command(kustomize, "build", filepath.Join(root, "config", "samples")).Output()
	Expect(err).NotTo(HaveOccurred(), "%s build config/samples (run `make kustomize`)", kustomize)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var objs []*unstructured.Unstructured
	for {
		o := &unstructured.Unstructured{}
		err := dec.Decode(&o.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		Expect(err).NotTo(HaveOccurred())
		if len(o.Object) > 0 {
			objs = append(objs, o)
		}
	}
}

// volumeFor makes a PersistentVolume bound in advance to the claim ns/claim:
// a KWOK cluster has no storage provisioner, and the scheduler places no pod
// whose claim is unbound. kube-controller-manager's binder does the binding.
func volumeFor(ns, claim string) {
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + claim},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: claim},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/kwok/" + ns + "/" + claim},
			},
		},
	}
	Expect(k8sClient.Create(ctx, pv)).To(Succeed())
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(context.Background(), pv))).To(Succeed())
	})
}
