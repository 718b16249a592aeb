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
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

func dashboardGateway(ns string) *platformv1alpha1.Gateway {
	return &platformv1alpha1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"},
		Spec: platformv1alpha1.GatewaySpec{
			ServiceType: corev1.ServiceTypeNodePort,
			Routes: []platformv1alpha1.Route{
				{PathPrefix: "/api/skills", Service: "skills", StripPrefix: true, Timeout: &metav1.Duration{Duration: 5 * time.Second}},
				{PathPrefix: "/api/career", Service: "career", Port: new(int32(9999))},
			},
			Aggregations: []platformv1alpha1.Aggregation{{
				Path: "/users/{user_id}/dashboard",
				Backends: []platformv1alpha1.AggregationBackend{
					{Key: "skills", Service: "skills", Path: "/users/{user_id}/skills"},
					{Key: "courses", Service: "learning", Path: "/users/{user_id}/courses"},
				},
				Compute: map[string]string{"total_skills": "size(skills.skills)"},
			}},
		},
	}
}

// gatewayCondition reads a condition of the Gateway "api" in ns.
func gatewayCondition(ns, condType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		gw := &platformv1alpha1.Gateway{}
		if err := k8sClient.Get(ctx, key(ns, "api"), gw); err != nil {
			return nil
		}
		return meta.FindStatusCondition(gw.Status.Conditions, condType)
	}
}

func renderedGatewayConfig(ns string) func() (gatewayconfig.Config, error) {
	return func() (gatewayconfig.Config, error) {
		cm := &corev1.ConfigMap{}
		if err := k8sClient.Get(ctx, key(ns, "api-routes"), cm); err != nil {
			return gatewayconfig.Config{}, err
		}
		return gatewayconfig.Parse([]byte(cm.Data[gatewayconfig.FileName]))
	}
}

var _ = Describe("Gateway controller", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("runs the bundled gateway with every backend resolved to its DNS URL", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills", testutil.WithPort(9090)))
		gw := dashboardGateway(ns)
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())

		// The Gateway's first pass may run before its cache holds skills (the
		// default port then); the watch on Microservices brings the real one.
		var cfg gatewayconfig.Config
		Eventually(func() ([]gatewayconfig.Route, error) {
			var err error
			cfg, err = renderedGatewayConfig(ns)()
			return cfg.Routes, err
		}, timeout, interval).Should(ConsistOf(
			gatewayconfig.Route{PathPrefix: "/api/skills", Service: "skills", Upstream: fmt.Sprintf("http://skills.%s.svc.cluster.local:9090", ns),
				StripPrefix: true, Timeout: gatewayconfig.Duration{Duration: 5 * time.Second}},
			gatewayconfig.Route{PathPrefix: "/api/career", Service: "career", Upstream: fmt.Sprintf("http://career.%s.svc.cluster.local:9999", ns),
				Timeout: gatewayconfig.Duration{Duration: 30 * time.Second}},
		))
		Expect(cfg.Aggregations).To(HaveLen(1))
		Expect(cfg.Aggregations[0].OnError).To(Equal("partial"))
		Expect(cfg.Aggregations[0].Backends).To(ContainElement(gatewayconfig.Backend{Key: "courses", Service: "learning",
			Upstream: fmt.Sprintf("http://learning.%s.svc.cluster.local:8080", ns), Path: "/users/{user_id}/courses",
			Coalesce: new(true)})) // the CRD's default

		d := deploymentOf(ns, "api")
		Expect(d).To(isControlledByGateway(gw))
		c := d.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(DefaultGatewayImage))
		Expect(c.Args).To(Equal([]string{"gateway"}))
		Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "GATEWAY_CONFIG", Value: "/etc/skillmesh/gateway/gateway.json"}))
		Expect(d.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("ConfigMap.Name", "api-routes")))
		Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		svc := &corev1.Service{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "api"), svc) }, timeout, interval).Should(Succeed())
		Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeNodePort))

		By("naming the backends that are missing")
		Eventually(gatewayCondition(ns, "BackendsReady"), timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, "BackendNotFound"),
			HaveField("Message", And(ContainSubstring("career"), ContainSubstring("learning")))))
	})

	It("follows its Microservices: their ports into the file, their readiness into status", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		createMicroservice(testutil.NewMicroservice(ns, "learning"))
		gw := dashboardGateway(ns)
		gw.Spec.Routes = gw.Spec.Routes[:1]
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		Eventually(gatewayCondition(ns, "BackendsReady"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "BackendNotReady"))

		updateMicroservice(ns, "learning", func(ms *platformv1alpha1.Microservice) { ms.Spec.Port = 7070 })
		Eventually(func() []string {
			cfg, _ := renderedGatewayConfig(ns)()
			var ups []string
			for _, a := range cfg.Aggregations {
				for _, b := range a.Backends {
					ups = append(ups, b.Upstream)
				}
			}
			return ups
		}, timeout, interval).Should(ContainElement(fmt.Sprintf("http://learning.%s.svc.cluster.local:7070", ns)))

		for _, name := range []string{"skills", "learning", "api"} {
			deploymentOf(ns, name)
			markDeploymentAvailable(ns, name)
		}
		Eventually(gatewayCondition(ns, "BackendsReady"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "BackendsReady"))
		Eventually(gatewayCondition(ns, "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		got := &platformv1alpha1.Gateway{}
		Expect(k8sClient.Get(ctx, key(ns, "api"), got)).To(Succeed())
		Expect(got.Status.URL).To(Equal(fmt.Sprintf("http://api.%s.svc.cluster.local:8080", ns)))
		Expect(got.Status.Ready).To(Equal("1/1"))
		Expect(got.Status.Backends).To(ConsistOf(
			platformv1alpha1.BackendStatus{Service: "learning", URL: fmt.Sprintf("http://learning.%s.svc.cluster.local:7070", ns), Ready: true},
			platformv1alpha1.BackendStatus{Service: "skills", URL: fmt.Sprintf("http://skills.%s.svc.cluster.local:8080", ns), Ready: true}))
	})

	It("keeps the last valid file while the spec holds one the gateway would refuse, and says where", func() {
		for _, name := range []string{"skills", "learning"} {
			createMicroservice(testutil.NewMicroservice(ns, name))
		}
		gw := dashboardGateway(ns)
		gw.Spec.Routes = gw.Spec.Routes[:1]
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		for _, name := range []string{"skills", "learning", "api"} {
			deploymentOf(ns, name)
			markDeploymentAvailable(ns, name)
		}
		Eventually(gatewayCondition(ns, "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "Ready"))
		Expect(gatewayCondition(ns, "ConfigValid")()).To(haveCondition(metav1.ConditionTrue, "ConfigValid"))
		Expect(kstatusOf(gw)()).To(Equal(status.CurrentStatus))
		valid := routesFile(ns)

		for _, bad := range []struct {
			what   string
			change func(*platformv1alpha1.Gateway)
			says   string
		}{
			{"an expression that does not compile", func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Aggregations[0].Compute["total_skills"] = "size(skills.skills"
			}, "spec.aggregations[0] (/users/{user_id}/dashboard): compute.total_skills: ERROR: <input>:1:"},
			{"a backend path naming a parameter the aggregation lacks", func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Aggregations[0].Compute["total_skills"] = "size(skills.skills)"
				gw.Spec.Aggregations[0].Backends[1].Path = "/users/{id}/courses"
			}, `spec.aggregations[0] (/users/{user_id}/dashboard).backends[1] (courses): path "/users/{id}/courses" names {id}`},
		} {
			By("refusing " + bad.what)
			updateGateway(ns, bad.change)
			Eventually(gatewayCondition(ns, "ConfigValid"), timeout, interval).Should(And(
				haveCondition(metav1.ConditionFalse, "InvalidConfig"), HaveField("Message", ContainSubstring(bad.says))))
			Eventually(gatewayCondition(ns, "Ready"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "InvalidConfig"))
			Expect(gatewayCondition(ns, "Stalled")()).To(haveCondition(metav1.ConditionTrue, "InvalidConfig"))
			Expect(kstatusOf(gw)()).To(Equal(status.FailedStatus))
			Consistently(func() string { return routesFile(ns) }, "500ms", interval).Should(Equal(valid))
		}

		By("shipping the fix")
		updateGateway(ns, func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Aggregations[0].Backends[1].Path = "/users/{user_id}/courses"
			gw.Spec.Aggregations[0].Compute["course_count"] = "size(courses.courses)"
		})
		Eventually(gatewayCondition(ns, "ConfigValid"), timeout, interval).Should(haveCondition(metav1.ConditionTrue, "ConfigValid"))
		Eventually(kstatusOf(gw), timeout, interval).Should(Equal(status.CurrentStatus))
		cfg, err := renderedGatewayConfig(ns)()
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Aggregations[0].Compute).To(HaveKeyWithValue("course_count", "size(courses.courses)"))
	})

	It("starts a Gateway whose first spec the gateway would refuse with an empty routes ConfigMap", func() {
		gw := dashboardGateway(ns)
		gw.Spec.Aggregations[0].Compute["total_skills"] = "skills.skills.size("
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		Eventually(gatewayCondition(ns, "ConfigValid"), timeout, interval).Should(haveCondition(metav1.ConditionFalse, "InvalidConfig"))
		// The pods can mount it and start, and stay not ready: no file.
		cm := &corev1.ConfigMap{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "api-routes"), cm) }, timeout, interval).Should(Succeed())
		Expect(cm.Data).To(BeEmpty())
		deploymentOf(ns, "api")
	})

	It("exposes the gateway through an Ingress while spec.expose.ingress asks, and removes it after", func() {
		gw := dashboardGateway(ns)
		gw.Spec.Expose = &platformv1alpha1.Expose{Ingress: &platformv1alpha1.ExposeIngress{Host: "api.example.com"}}
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		ing := &networkingv1.Ingress{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "api"), ing) }, timeout, interval).Should(Succeed())
		Expect(ing).To(isControlledByGateway(gw))
		Expect(ing.Spec.Rules[0].Host).To(Equal("api.example.com"))
		Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal("api"))

		updateGateway(ns, func(gw *platformv1alpha1.Gateway) { gw.Spec.Expose = nil })
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "api"), &networkingv1.Ingress{}))
		}, timeout, interval).Should(BeTrue())
	})

	It("exposes the gateway through a Gateway API HTTPRoute, says Exposed, and removes it after", func() {
		gw := dashboardGateway(ns)
		gw.Spec.Expose = &platformv1alpha1.Expose{HTTPRoute: &platformv1alpha1.ExposeHTTPRoute{
			ParentRefs: []platformv1alpha1.ParentReference{{Name: "edge", Namespace: "infra", SectionName: "https"}},
			Hostnames:  []string{"api.example.com"},
		}}
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		route := &gatewayv1.HTTPRoute{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "api"), route) }, timeout, interval).Should(Succeed())
		Expect(route).To(isControlledByGateway(gw))
		Expect(route.Spec.ParentRefs).To(HaveLen(1))
		Expect(string(route.Spec.ParentRefs[0].Name)).To(Equal("edge"))
		Expect(string(*route.Spec.ParentRefs[0].Namespace)).To(Equal("infra"))
		Expect(string(*route.Spec.ParentRefs[0].SectionName)).To(Equal("https"))
		Expect(route.Spec.Hostnames).To(ConsistOf(gatewayv1.Hostname("api.example.com")))
		Expect(route.Spec.Rules).To(HaveLen(1))
		Expect(string(route.Spec.Rules[0].BackendRefs[0].Name)).To(Equal("api"))
		Expect(*route.Spec.Rules[0].BackendRefs[0].Port).To(Equal(gatewayv1.PortNumber(8080)))
		Eventually(gatewayCondition(ns, "Exposed"), timeout, interval).Should(And(
			haveCondition(metav1.ConditionTrue, "Exposed"), HaveField("Message", ContainSubstring("HTTPRoute"))))

		updateGateway(ns, func(gw *platformv1alpha1.Gateway) { gw.Spec.Expose = nil })
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "api"), &gatewayv1.HTTPRoute{}))
		}, timeout, interval).Should(BeTrue())
		Eventually(gatewayCondition(ns, "Exposed"), timeout, interval).Should(BeNil())
	})

	It("undoes a hand edit of the rendered file, and writes nothing when nothing changed", func() {
		createMicroservice(testutil.NewMicroservice(ns, "skills"))
		Expect(k8sClient.Create(ctx, dashboardGateway(ns))).To(Succeed())
		Eventually(func() error { _, err := renderedGatewayConfig(ns)(); return err }, timeout, interval).Should(Succeed())
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, key(ns, "api-routes"), cm)).To(Succeed())
		want := cm.Data[gatewayconfig.FileName]
		cm.Data[gatewayconfig.FileName] = `{"version":1,"routes":[],"aggregations":[]}`
		Expect(k8sClient.Update(ctx, cm)).To(Succeed())
		Eventually(func() string {
			_ = k8sClient.Get(ctx, key(ns, "api-routes"), cm)
			return cm.Data[gatewayconfig.FileName]
		}, timeout, interval).Should(Equal(want))

		Eventually(func() int64 {
			before := managerWrites.Load()
			time.Sleep(time.Second)
			return managerWrites.Load() - before
		}, timeout, interval).Should(BeZero())
		versions := func() []string {
			var out []string
			for _, obj := range []client.Object{&platformv1alpha1.Gateway{}, &appsv1.Deployment{}, &corev1.Service{}} {
				Expect(k8sClient.Get(ctx, key(ns, "api"), obj)).To(Succeed())
				out = append(out, obj.GetResourceVersion())
			}
			Expect(k8sClient.Get(ctx, key(ns, "api-routes"), cm)).To(Succeed())
			return append(out, cm.ResourceVersion)
		}
		before, writes := versions(), managerWrites.Load()
		_, err := gatewayReconciler.Reconcile(ctx, ctrl.Request{NamespacedName: key(ns, "api")})
		Expect(err).NotTo(HaveOccurred())
		Expect(managerWrites.Load() - writes).To(BeZero())
		Expect(versions()).To(Equal(before))
	})
})

// updateGateway changes the Gateway "api" in ns, retrying on conflicts.
func updateGateway(ns string, change func(*platformv1alpha1.Gateway)) {
	EventuallyWithOffset(1, func() error {
		gw := &platformv1alpha1.Gateway{}
		if err := k8sClient.Get(ctx, key(ns, "api"), gw); err != nil {
			return err
		}
		change(gw)
		return k8sClient.Update(ctx, gw)
	}, timeout, interval).Should(Succeed())
}

// routesFile is the raw file in the Gateway's routes ConfigMap.
func routesFile(ns string) string {
	cm := &corev1.ConfigMap{}
	if err := k8sClient.Get(ctx, key(ns, "api-routes"), cm); err != nil {
		return ""
	}
	return cm.Data[gatewayconfig.FileName]
}

func isControlledByGateway(owner *platformv1alpha1.Gateway) OmegaMatcher {
	return WithTransform(func(o client.Object) bool { return metav1.IsControlledBy(o, owner) }, BeTrue())
}
