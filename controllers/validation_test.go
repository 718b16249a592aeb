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
	"bytes"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

// The CRD's OpenAPI schema and CEL rules are what `kubectl apply` meets, so
// each rule is checked against the real API server: the bad object is
// refused with its message, and the closest good one is accepted.
var _ = Describe("Microservice validation", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	type mod = testutil.MicroserviceOption
	rejects := func(name string, message string, mods ...mod) {
		ms := testutil.ForCreate(testutil.NewMicroservice(ns, name, mods...))
		err := k8sClient.Create(ctx, ms)
		ExpectWithOffset(1, err).To(HaveOccurred(), "the API server accepted a bad Microservice")
		ExpectWithOffset(1, apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
		ExpectWithOffset(1, err.Error()).To(ContainSubstring(message))
	}
	accepts := func(name string, mods ...mod) {
		ms := testutil.ForCreate(testutil.NewMicroservice(ns, name, mods...))
		ExpectWithOffset(1, k8sClient.Create(ctx, ms)).To(Succeed())
	}
	sqlite := testutil.WithSQLite("1Gi")

	DescribeTable("rejects a bad object with a message a person understands",
		func(name, message string, mods ...mod) { rejects(name, message, mods...) },
		Entry("sqlite with more than one replica", "skills",
			"a sqlite database has a single writer on a ReadWriteOnce volume: replicas must be 0 or 1",
			sqlite, testutil.WithReplicas(2)),
		Entry("sqlite with autoscaling", "skills",
			"a sqlite database has a single writer: autoscaling cannot be used with it",
			sqlite, testutil.WithReplicas(1), testutil.WithAutoscaling(1, 3)),
		Entry("postgres without urlSecretRef", "skills",
			"database engine postgres needs urlSecretRef",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.Database = &platformv1alpha1.Database{Engine: platformv1alpha1.DatabasePostgres}
			}),
		Entry("sqlite without storage", "skills",
			"database engine sqlite needs storage",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.Database = &platformv1alpha1.Database{Engine: platformv1alpha1.DatabaseSQLite}
			}),
		Entry("sqlite with a URL secret", "skills",
			"urlSecretRef is only for engine postgres",
			sqlite, func(ms *platformv1alpha1.Microservice) {
				ms.Spec.Database.URLSecretRef = &platformv1alpha1.SecretKeySelector{Name: "db", Key: "url"}
			}),
		Entry("an unknown database engine", "skills",
			`Unsupported value: "mysql"`,
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.Database = &platformv1alpha1.Database{Engine: "mysql"}
			}),
		Entry("a dependsOn name that is not a DNS-1035 label", "skills",
			"dependsOn name must be a DNS-1035 label",
			testutil.WithDependsOn("Career_Service")),
		Entry("a dependsOn name starting with a digit", "skills",
			"dependsOn name must be a DNS-1035 label",
			testutil.WithDependsOn("1career")),
		Entry("a dependsOn name given twice", "skills",
			"dependsOn must not name the same Microservice twice",
			testutil.WithDependsOn("career", "learning", "career")),
		Entry("a dependsOn naming the object itself", "skills",
			"a Microservice cannot depend on itself",
			testutil.WithDependsOn("career", "skills")),
		Entry("a dependsOn envVar that is not a variable name", "skills",
			"dependsOn envVar must be an environment variable name",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: "career", EnvVar: "CAREER-URL"}}
			}),
		Entry("a config key that is not an environment variable name", "skills",
			"config keys must be environment variable names",
			testutil.WithConfig("", map[string]string{"LOG_LEVEL": "debug", "log-format": "json"})),
		Entry("a config key starting with a digit", "skills",
			"config keys must be environment variable names",
			testutil.WithConfig("", map[string]string{"1A": "x"})),
		Entry("an envPrefix that cannot start a variable name", "skills",
			"envPrefix must be the start of an environment variable name",
			testutil.WithConfig("SKILLS-", map[string]string{"A": "1"})),
		Entry("autoscaling.minReplicas above maxReplicas", "skills",
			"autoscaling.minReplicas must not be greater than autoscaling.maxReplicas",
			testutil.WithAutoscaling(5, 2)),
		Entry("a negative port", "skills", "spec.port in body should be greater than or equal to 1", testutil.WithPort(-1)),
		Entry("port above 65535", "skills", "should be less than or equal to 65535", testutil.WithPort(70000)),
		Entry("an empty image", "skills", "spec.image", func(ms *platformv1alpha1.Microservice) { ms.Spec.Image = "" }),
		Entry("a blank image", "skills", "image must not be empty", func(ms *platformv1alpha1.Microservice) { ms.Spec.Image = "   " }),
		Entry("negative replicas", "skills", "should be greater than or equal to 0", testutil.WithReplicas(-1)),
		Entry("a name that is not a DNS-1035 label", "1skills",
			"a Microservice's name becomes its Service's DNS name and must be a DNS-1035 label"),
		Entry("a bad topic name", "skills", "topic names are lower-case words",
			testutil.WithEvents("broker", "url", []string{"Skills Assessed"}, nil)),
		Entry("a probe path without a leading slash", "skills", "probe path must start with '/'",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.Probes = &platformv1alpha1.Probes{Liveness: &platformv1alpha1.Probe{Path: "healthz"}}
			}),
		Entry("runAsUser root", "skills", "spec.runAsUser in body should be greater than or equal to 1",
			func(ms *platformv1alpha1.Microservice) { ms.Spec.RunAsUser = new(int64(0)) }),
		Entry("an allowFrom entry that selects nothing", "skills",
			"an allowFrom entry needs a namespaceSelector, a podSelector or both",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowFrom: []platformv1alpha1.NetworkPolicyPeer{{}}}
			}),
		Entry("an allowEgressTo cidr that is an address, not a range", "skills",
			"cidr must be an address range such as 203.0.113.0/24",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowEgressTo: []platformv1alpha1.EgressDestination{{CIDR: "203.0.113.7"}}}
			}),
		Entry("an allowEgressTo port out of range", "skills",
			"should be less than or equal to 65535",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowEgressTo: []platformv1alpha1.EgressDestination{
					{CIDR: "203.0.113.0/24", Ports: []platformv1alpha1.EgressPort{{Port: 70000}}}}}
			}),
		Entry("a disruption budget that is neither a number nor a percentage", "skills",
			"disruptionBudget.minAvailable must be a non-negative number or a percentage",
			func(ms *platformv1alpha1.Microservice) {
				ms.Spec.DisruptionBudget = &platformv1alpha1.DisruptionBudget{MinAvailable: intstr.FromString("half")}
			}),
	)

	It("reports several broken rules at once", func() {
		ms := testutil.ForCreate(testutil.NewMicroservice(ns, "skills", sqlite, testutil.WithReplicas(3),
			testutil.WithConfig("", map[string]string{"bad-key": "x"})))
		err := k8sClient.Create(ctx, ms)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(And(ContainSubstring("replicas must be 0 or 1"), ContainSubstring("config keys must be environment variable names")))
	})

	It("accepts the good neighbours of every rule", func() {
		accepts("a", sqlite, testutil.WithReplicas(1))
		accepts("b", sqlite, testutil.WithReplicas(0))
		accepts("c", testutil.WithPostgres("db", "url"), testutil.WithReplicas(5), testutil.WithAutoscaling(2, 2))
		accepts("d", testutil.WithDependsOn("career", "learning-paths"), func(ms *platformv1alpha1.Microservice) {
			ms.Spec.DependsOn[0].EnvVar = "CAREER_API"
		})
		accepts("e", testutil.WithConfig("SKILLS_", map[string]string{"_A": "1", "LOG_LEVEL": "x", "b2": "y"}))
		accepts("f", testutil.WithPort(65535), func(ms *platformv1alpha1.Microservice) {
			ms.Spec.DisruptionBudget = &platformv1alpha1.DisruptionBudget{MinAvailable: intstr.FromString("50%")}
		})
		accepts("g", testutil.WithEvents("broker", "url", []string{"skills.assessed", "career.plan-updated"}, []string{"x_y"}))
		accepts("h", func(ms *platformv1alpha1.Microservice) {
			ms.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{
				AllowFrom: []platformv1alpha1.NetworkPolicyPeer{
					{NamespaceSelector: &metav1.LabelSelector{}},
					{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "batch"}}},
				},
				AllowEgressTo: []platformv1alpha1.EgressDestination{
					{CIDR: "203.0.113.7/32", Ports: []platformv1alpha1.EgressPort{{Port: 443}, {Port: 53, Protocol: corev1.ProtocolUDP}}},
					{CIDR: "2001:db8::/32"},
				},
			}
		})
	})

	It("fills the documented defaults", func() {
		ms := testutil.ForCreate(testutil.NewMicroservice(ns, "defaults", testutil.WithAutoscaling(1, 3)))
		ms.Spec.Port, ms.Spec.Replicas = 0, nil
		ms.Spec.Autoscaling.MinReplicas, ms.Spec.Autoscaling.TargetCPUUtilizationPercentage = nil, nil
		Expect(k8sClient.Create(ctx, ms)).To(Succeed())
		Expect(ms.Spec.Port).To(Equal(int32(8080)))
		Expect(ms.Spec.Replicas).To(HaveValue(Equal(int32(1))))
		Expect(ms.Spec.Autoscaling.MinReplicas).To(HaveValue(Equal(int32(1))))
		Expect(ms.Spec.Autoscaling.TargetCPUUtilizationPercentage).To(HaveValue(Equal(int32(80))))
	})

	It("checks updates too: a running sqlite service cannot be scaled out", func() {
		accepts("skills", sqlite)
		err := updateOnce(ns, "skills", func(ms *platformv1alpha1.Microservice) { ms.Spec.Replicas = ptr.To[int32](2) })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("replicas must be 0 or 1"))
	})
})

var _ = Describe("Gateway validation", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	gateway := func(mods ...func(*platformv1alpha1.Gateway)) *platformv1alpha1.Gateway {
		gw := &platformv1alpha1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"},
			Spec: platformv1alpha1.GatewaySpec{
				Routes: []platformv1alpha1.Route{{PathPrefix: "/skills", Service: "skills"}},
				Aggregations: []platformv1alpha1.Aggregation{{
					Path: "/users/{user_id}/dashboard",
					Backends: []platformv1alpha1.AggregationBackend{
						{Key: "skills", Service: "skills", Path: "/users/{user_id}/skills"},
						{Key: "plan", Service: "career", Path: "/users/{user_id}/career-plan"},
					},
					Timeout: &metav1.Duration{Duration: 2e9},
					Compute: map[string]string{"total_skills": "size(skills.skills)"},
				}},
			},
		}
		for _, m := range mods {
			m(gw)
		}
		return gw
	}

	It("accepts the dashboard sample and fills defaults", func() {
		gw := gateway()
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
		Expect(gw.Spec.Port).To(Equal(int32(8080)))
		Expect(string(gw.Spec.ServiceType)).To(Equal("ClusterIP"))
		Expect(gw.Spec.Aggregations[0].OnError).To(Equal(platformv1alpha1.OnErrorPartial))
		Expect(gw.Spec.MaxRequestBodyBytes).To(HaveValue(Equal(int64(1 << 20))))
		Expect(gw.Spec.Aggregations[0].Backends[0].Coalesce).To(HaveValue(BeTrue()))
	})

	It("accepts the edge settings", func() {
		gw := gateway(func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Auth = &platformv1alpha1.GatewayAuth{JWT: &platformv1alpha1.JWTAuth{Issuer: "https://issuer.test", Audiences: []string{"skillmesh"},
				JWKSSecretRef: platformv1alpha1.SecretKeySelector{Name: "jwks", Key: "jwks.json"}}}
			gw.Spec.Routes[0].Auth, gw.Spec.Aggregations[0].UserClaim = platformv1alpha1.AuthNone, "email"
			gw.Spec.RateLimit = &platformv1alpha1.RateLimit{RequestsPerSecond: 50, Burst: 100, TrustedProxies: []string{"10.0.0.0/8", "192.0.2.1"}}
			gw.Spec.CORS = &platformv1alpha1.CORS{AllowOrigins: []string{"https://app.example.com", "https://*.example.org:8443"},
				AllowMethods: []string{"GET", "PUT"}, AllowHeaders: []string{"Authorization", "*"}, AllowCredentials: true,
				MaxAge: &metav1.Duration{Duration: 600e9}}
			gw.Spec.Aggregations[0].Backends[0].Timeout = &metav1.Duration{Duration: 5e8}
			gw.Spec.Aggregations[0].ForwardHeaders = []string{"Authorization", "X-Tenant"}
		})
		Expect(k8sClient.Create(ctx, gw)).To(Succeed())
	})

	DescribeTable("rejects a bad Gateway",
		func(message string, mod func(*platformv1alpha1.Gateway)) {
			err := k8sClient.Create(ctx, gateway(mod))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("a pathPrefix without a leading slash", "a route's pathPrefix must start with '/'",
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Routes[0].PathPrefix = "skills" }),
		Entry("two routes with the same prefix", "each route's pathPrefix must be unique",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Routes = append(gw.Spec.Routes, platformv1alpha1.Route{PathPrefix: "/skills", Service: "career"})
			}),
		Entry("two backends with the same key", "each backend key of an aggregation must be unique",
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Aggregations[0].Backends[1].Key = "skills" }),
		Entry("a zero timeout", "an aggregation's timeout must be a positive duration",
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Aggregations[0].Timeout = &metav1.Duration{} }),
		Entry("an unknown onError", `Unsupported value: "ignore"`,
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Aggregations[0].OnError = "ignore" }),
		Entry("an unknown service type", `Unsupported value: "ExternalName"`,
			func(gw *platformv1alpha1.Gateway) { gw.Spec.ServiceType = "ExternalName" }),
		Entry("auth required without spec.auth", "auth: required on a route or aggregation needs spec.auth.jwt",
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Routes[0].Auth = platformv1alpha1.AuthRequired }),
		Entry("an unknown auth policy", `Unsupported value: "maybe"`,
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Aggregations[0].Auth = "maybe" }),
		Entry("jwt without audiences", "spec.auth.jwt.audiences",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Auth = &platformv1alpha1.GatewayAuth{JWT: &platformv1alpha1.JWTAuth{Issuer: "https://issuer.test",
					JWKSSecretRef: platformv1alpha1.SecretKeySelector{Name: "jwks", Key: "jwks.json"}}}
			}),
		Entry("a trusted proxy that is not a CIDR", "a trusted proxy must be a CIDR",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.RateLimit = &platformv1alpha1.RateLimit{RequestsPerSecond: 10, Burst: 20, TrustedProxies: []string{"10.0.0.0/33"}}
			}),
		Entry("a zero burst", "spec.rateLimit.burst",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.RateLimit = &platformv1alpha1.RateLimit{RequestsPerSecond: 10}
			}),
		Entry("an origin with a path", "an origin is scheme://host[:port] with no path",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.CORS = &platformv1alpha1.CORS{AllowOrigins: []string{"https://app.example.com/"}}
			}),
		Entry("any origin with credentials", "allowOrigins '*' cannot be used with allowCredentials",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.CORS = &platformv1alpha1.CORS{AllowOrigins: []string{"*"}, AllowCredentials: true}
			}),
		Entry("a zero body limit", "spec.maxRequestBodyBytes",
			func(gw *platformv1alpha1.Gateway) { gw.Spec.MaxRequestBodyBytes = new(int64(0)) }),
		Entry("a backend timeout over its aggregation's", "a backend's timeout must be at most its aggregation's",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Aggregations[0].Backends[0].Timeout = &metav1.Duration{Duration: 3e9}
			}),
		Entry("a per-try timeout over the route's", "retries.perTryTimeout must be at most the route's timeout",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Routes[0].Retries = &platformv1alpha1.RouteRetries{Attempts: 2, PerTryTimeout: &metav1.Duration{Duration: 31e9}}
			}),
		Entry("a header name with a space", "header names are tokens",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Routes[0].ResponseHeaders = &platformv1alpha1.HeaderModifier{Set: map[string]string{"Cache Control": "no-store"}}
			}),
		Entry("an ingress host that is not a DNS name", "host must be a DNS name",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Expose = &platformv1alpha1.Expose{Ingress: &platformv1alpha1.ExposeIngress{Host: "https://api.example.com"}}
			}),
		Entry("ingress TLS without a host", "tlsSecretName needs a host",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Expose = &platformv1alpha1.Expose{Ingress: &platformv1alpha1.ExposeIngress{TLSSecretName: "tls"}}
			}),
		Entry("stripPrefix with replacePrefix", "set stripPrefix or replacePrefix, not both",
			func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Routes[0].StripPrefix, gw.Spec.Routes[0].ReplacePrefix = true, "/v1"
			}),
		Entry("a forwarded header that is not a header name", "spec.aggregations[0].forwardHeaders[0]",
			func(gw *platformv1alpha1.Gateway) { gw.Spec.Aggregations[0].ForwardHeaders = []string{"X Tenant"} }),
	)
})

var _ = Describe("The samples", func() {
	It("are accepted by the API server as they are shipped", func() {
		ns := newNamespace()
		files, err := filepath.Glob(filepath.Join("..", "config", "samples", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var created []string
		for _, f := range files {
			if filepath.Base(f) == "kustomization.yaml" {
				continue
			}
			raw, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			for doc := range bytes.SplitSeq(raw, []byte("\n---\n")) {
				obj := &unstructured.Unstructured{}
				Expect(yaml.Unmarshal(doc, &obj.Object)).To(Succeed(), f)
				if len(obj.Object) == 0 {
					continue
				}
				obj.SetNamespace(ns)
				Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "%s: %s", f, obj.GetName())
				created = append(created, obj.GetKind()+"/"+obj.GetName())
			}
		}
		Expect(created).To(ContainElements("Microservice/skills", "Microservice/career", "Microservice/learning", "Gateway/api"))
	})
})
