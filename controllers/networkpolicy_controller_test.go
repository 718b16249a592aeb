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
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

// policyOf reads the NetworkPolicy ns/name, for Eventually.
func policyOf(ns, name string) func() (*networkingv1.NetworkPolicy, error) {
	return fetch(ns, name, &networkingv1.NetworkPolicy{})
}

// ingressPeers are the peers of a policy's first ingress rule (the graph's).
func ingressPeers(np *networkingv1.NetworkPolicy) []networkingv1.NetworkPolicyPeer {
	if len(np.Spec.Ingress) == 0 {
		return nil
	}
	return np.Spec.Ingress[0].From
}

// egressPeers are the pod peers of every egress rule but DNS.
func egressPeers(np *networkingv1.NetworkPolicy) []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, r := range np.Spec.Egress[1:] {
		out = append(out, r.To...)
	}
	return out
}

var _ = Describe("NetworkPolicies from the service graph", func() {
	var ns, other string
	BeforeEach(func() { ns, other = newNamespace(), newNamespace() })

	It("admits every edge at both ends, and moves both ends when the graph changes", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills", testutil.WithPort(8081)))
		createMicroservice(testutil.NewMicroservice(ns, "career", testutil.WithPort(8082), testutil.WithDependsOn("skills")))
		createMicroservice(testutil.NewMicroservice(other, "planner", func(m *platformv1alpha1.Microservice) {
			m.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: "skills", Namespace: ns}}
		}))
		gw := &platformv1alpha1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"},
			Spec: platformv1alpha1.GatewaySpec{Routes: []platformv1alpha1.Route{{PathPrefix: "/api/skills", Service: "skills"}}}}
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())

		By("skills admits its two dependents, one in another namespace, and the Gateway, on its port")
		Eventually(func() ([]networkingv1.NetworkPolicyPeer, error) {
			np, err := policyOf(ns, "skills")()
			return ingressPeers(np), err
		}, timeout, interval).Should(ConsistOf(
			msPeer(ns, "career"), msPeer(other, "planner"), gwPeer(ns, "api")))
		np, _ := policyOf(ns, "skills")()
		Expect(np.Spec.Ingress[0].Ports).To(Equal(ports(8081)))
		Expect(np.OwnerReferences).To(ContainElement(HaveField("Kind", "Microservice")))

		By("each caller may call skills on its port: career, planner across namespaces, the Gateway")
		for _, caller := range []struct{ ns, name string }{{ns, "career"}, {other, "planner"}, {ns, "api"}} {
			Eventually(func() ([]networkingv1.NetworkPolicyEgressRule, error) {
				np, err := policyOf(caller.ns, caller.name)()
				return np.Spec.Egress, err
			}, timeout, interval).Should(ContainElement(networkingv1.NetworkPolicyEgressRule{
				To: []networkingv1.NetworkPolicyPeer{msPeer(ns, "skills")}, Ports: ports(8081),
			}), caller.name)
		}
		Eventually(func() *metav1.Condition {
			return conditionOf(ns, "skills", platformv1alpha1.ConditionNetworkPolicyReady)()
		}, timeout, interval).Should(And(haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonNetworkPolicyRendered),
			HaveField("Message", ContainSubstring("Microservice "+other+"/planner"))))

		By("career stops depending on skills: skills no longer admits it, and career no longer calls it")
		updateMicroservice(ns, "career", func(m *platformv1alpha1.Microservice) { m.Spec.DependsOn = nil })
		Eventually(func() ([]networkingv1.NetworkPolicyPeer, error) {
			np, err := policyOf(ns, "skills")()
			return ingressPeers(np), err
		}, timeout, interval).Should(ConsistOf(msPeer(other, "planner"), gwPeer(ns, "api")))
		Eventually(func() ([]networkingv1.NetworkPolicyPeer, error) {
			np, err := policyOf(ns, "career")()
			return egressPeers(np), err
		}, timeout, interval).Should(BeEmpty())

		By("the Gateway takes a route to career: career admits it, the Gateway calls it")
		Eventually(func() error {
			g := &platformv1alpha1.Gateway{}
			if err := k8sClient.Get(ctx, key(ns, "api"), g); err != nil {
				return err
			}
			g.Spec.Routes = append(g.Spec.Routes, platformv1alpha1.Route{PathPrefix: "/api/career", Service: "career"})
			return k8sClient.Update(ctx, g)
		}, timeout, interval).Should(Succeed())
		Eventually(func() ([]networkingv1.NetworkPolicyPeer, error) {
			np, err := policyOf(ns, "career")()
			return ingressPeers(np), err
		}, timeout, interval).Should(ConsistOf(gwPeer(ns, "api")))
		Eventually(func() ([]networkingv1.NetworkPolicyPeer, error) {
			np, err := policyOf(ns, "api")()
			return egressPeers(np), err
		}, timeout, interval).Should(ConsistOf(msPeer(ns, "career"), msPeer(ns, "skills")))

		By("the Gateway, the entry point, admits every caller")
		np, _ = policyOf(ns, "api")()
		Expect(np.Spec.Ingress).To(Equal([]networkingv1.NetworkPolicyIngressRule{{Ports: ports(8080)}}))

		By("planner goes: skills admits only the Gateway")
		Expect(k8sClient.Delete(ctx, &platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "planner"}})).To(Succeed())
		Eventually(func() ([]networkingv1.NetworkPolicyPeer, error) {
			np, err := policyOf(ns, "skills")()
			return ingressPeers(np), err
		}, timeout, interval).Should(ConsistOf(gwPeer(ns, "api")))
	})

	It("calls the broker's Service pods, follows the Service and the Secret, and says so when it cannot", func() {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broker"},
			StringData: map[string]string{"url": "redis://:s3cret@redis:6379/0"}}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		createMicroservice(testutil.NewMicroservice(ns, "skills", testutil.WithEvents("broker", "url", []string{"skills.assessed"}, nil)))

		By("no Service redis yet: egress on 6379 open to every address, with that reason")
		cond := func() *metav1.Condition {
			return conditionOf(ns, "skills", platformv1alpha1.ConditionNetworkPolicyReady)()
		}
		Eventually(cond, timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonEgressLeftOpen),
			HaveField("Message", ContainSubstring("broker redis:6379 (no Service "+ns+"/redis)"))))
		Expect(cond().Message).NotTo(ContainSubstring("s3cret"))
		np, err := policyOf(ns, "skills")()
		Expect(err).NotTo(HaveOccurred())
		Expect(np.Spec.Egress).To(ContainElement(networkingv1.NetworkPolicyEgressRule{Ports: ports(6379)}))

		By("the Service appears, a Service the operator did not make: egress to its selected pods, on its target port")
		Expect(k8sClient.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "redis"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "redis"},
				Ports: []corev1.ServicePort{{Port: 6379, TargetPort: intstr.FromString("redis")}}}})).To(Succeed())
		redisRule := networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{nsPeer(ns, map[string]string{"app": "redis"})}, Ports: ports("redis")}
		Eventually(func() ([]networkingv1.NetworkPolicyEgressRule, error) {
			np, err := policyOf(ns, "skills")()
			return np.Spec.Egress, err
		}, timeout, interval).Should(And(ContainElement(redisRule),
			Not(ContainElement(networkingv1.NetworkPolicyEgressRule{Ports: ports(6379)}))))
		Eventually(cond, timeout, interval).Should(haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonNetworkPolicyRendered))

		By("the Secret moves the broker outside the cluster: open again, with the reason")
		Eventually(func() error {
			s := &corev1.Secret{}
			if err := k8sClient.Get(ctx, key(ns, "broker"), s); err != nil {
				return err
			}
			s.Data = map[string][]byte{"url": []byte("rediss://:s3cret@cache.example.com:6380")}
			return k8sClient.Update(ctx, s)
		}, timeout, interval).Should(Succeed())
		Eventually(cond, timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonEgressLeftOpen),
			HaveField("Message", ContainSubstring("cache.example.com:6380 (not a Service name of this cluster)"))))
	})

	It("removes the policy when enforce is false, says so, and renders it again when enforced", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		Eventually(policyOf(ns, "skills"), timeout, interval).Should(Not(BeNil()))

		updateMicroservice(ns, "skills", func(m *platformv1alpha1.Microservice) {
			m.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{Enforce: new(false)}
		})
		Eventually(func() bool {
			_, err := policyOf(ns, "skills")()
			return apierrors.IsNotFound(err)
		}, timeout, interval).Should(BeTrue())
		Eventually(conditionOf(ns, "skills", platformv1alpha1.ConditionNetworkPolicyReady), timeout, interval).
			Should(haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonNetworkPolicyNotEnforced))

		updateMicroservice(ns, "skills", func(m *platformv1alpha1.Microservice) { m.Spec.NetworkPolicy.Enforce = nil })
		Eventually(func() error { _, err := policyOf(ns, "skills")(); return err }, timeout, interval).Should(Succeed())
		np, _ := policyOf(ns, "skills")()
		Expect(np.Labels).To(HaveKeyWithValue(contract.LabelManagedBy, contract.ManagedByValue))
	})
})
