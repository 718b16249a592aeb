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
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

// The expected rules are written out as the API server stores them, so a
// reader sees the policy the table asks for.

func nsPeer(namespace string, labels map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{labelNamespaceName: namespace}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: labels},
	}
}

func msPeer(namespace, name string) networkingv1.NetworkPolicyPeer {
	return nsPeer(namespace, map[string]string{contract.LabelMicroservice: name})
}

func gwPeer(namespace, name string) networkingv1.NetworkPolicyPeer {
	return nsPeer(namespace, map[string]string{contract.LabelGateway: name})
}

func ports(ps ...any) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, 0, len(ps))
	for _, p := range ps {
		port := networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP)}
		switch v := p.(type) {
		case int:
			port.Port = new(intstr.FromInt(v))
		case string:
			port.Port = new(intstr.FromString(v))
		case networkingv1.NetworkPolicyPort:
			port = v
		}
		out = append(out, port)
	}
	return out
}

var dnsRule = networkingv1.NetworkPolicyEgressRule{
	To: []networkingv1.NetworkPolicyPeer{nsPeer("kube-system", map[string]string{"k8s-app": "kube-dns"})},
	Ports: []networkingv1.NetworkPolicyPort{
		{Protocol: ptr.To(corev1.ProtocolUDP), Port: new(intstr.FromInt(53))},
		{Protocol: ptr.To(corev1.ProtocolTCP), Port: new(intstr.FromInt(53))},
	},
}

func renderPolicy(t *testing.T, in microserviceInput) (*networkingv1.NetworkPolicy, metav1.Condition) {
	t.Helper()
	if in.ClusterDomain == "" {
		in.ClusterDomain = contract.DefaultClusterDomain
	}
	ch := renderMicroservice(in)
	if ch.NetworkPolicy == nil {
		return nil, ch.NetworkPolicyCondition
	}
	return as[networkingv1.NetworkPolicy](t, ch.NetworkPolicy), ch.NetworkPolicyCondition
}

func Test_a_Microservice_policy_admits_exactly_its_graph(t *testing.T) {
	redis := &pods{Kind: "Service", Name: "redis", Namespace: "infra", Labels: map[string]string{"app": "redis"},
		Ports: []netPort{{Port: intstr.FromString("redis"), Protocol: corev1.ProtocolTCP}}}
	callers := []pods{
		microservicePods("careers", "career", 8080),
		microservicePods("teams", "planner", 9000),
		gatewayPods("careers", "edge"),
	}
	monitoring := &metav1.LabelSelector{MatchLabels: map[string]string{labelNamespaceName: "monitoring"}}
	for _, tc := range []struct {
		name        string
		ms          *platformv1alpha1.Microservice
		deps        []*platformv1alpha1.Microservice
		graph       graphEdges
		wantIngress []networkingv1.NetworkPolicyIngressRule
		wantEgress  []networkingv1.NetworkPolicyEgressRule
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage []string
	}{{
		name: "nobody calls it and it calls nobody: no ingress at all, egress to DNS only",
		ms:   ms(),
		// An ingress rule without peers would admit every source: none is written.
		wantEgress: []networkingv1.NetworkPolicyEgressRule{dnsRule},
		wantStatus: metav1.ConditionTrue, wantReason: platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"ingress on port 8080 from nobody", "egress to DNS"},
	}, {
		name:  "dependents in this and other namespaces and a Gateway call it, on its port",
		ms:    ms(testutil.WithPort(9090)),
		graph: graphEdges{Callers: callers},
		wantIngress: []networkingv1.NetworkPolicyIngressRule{{
			Ports: ports(9090),
			From:  []networkingv1.NetworkPolicyPeer{msPeer("careers", "career"), msPeer("teams", "planner"), gwPeer("careers", "edge")},
		}},
		wantEgress:  []networkingv1.NetworkPolicyEgressRule{dnsRule},
		wantStatus:  metav1.ConditionTrue,
		wantReason:  platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"from Microservice career, Microservice teams/planner, Gateway edge"},
	}, {
		name: "it calls its dependencies, in other namespaces too, each on its own port",
		ms: ms(func(m *platformv1alpha1.Microservice) {
			m.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: "career"}, {Name: "catalog", Namespace: "shared"}}
		}),
		deps: []*platformv1alpha1.Microservice{
			testutil.NewMicroservice("careers", "career", testutil.WithPort(8082)),
			testutil.NewMicroservice("shared", "catalog"),
		},
		wantEgress: []networkingv1.NetworkPolicyEgressRule{
			dnsRule,
			{To: []networkingv1.NetworkPolicyPeer{msPeer("careers", "career")}, Ports: ports(8082)},
			{To: []networkingv1.NetworkPolicyPeer{msPeer("shared", "catalog")}, Ports: ports(8080)},
		},
		wantStatus:  metav1.ConditionTrue,
		wantReason:  platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"egress to DNS, Microservice career, Microservice shared/catalog"},
	}, {
		name: "allowFrom adds callers outside the graph; the metrics namespaces may scrape",
		ms: ms(func(m *platformv1alpha1.Microservice) {
			m.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowFrom: []platformv1alpha1.NetworkPolicyPeer{
				{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "data"}}},
				{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"batch", "cron"}}}}},
			}}
		}),
		graph: graphEdges{Callers: callers[:1], Metrics: monitoring},
		wantIngress: []networkingv1.NetworkPolicyIngressRule{{
			Ports: ports(8080),
			From: []networkingv1.NetworkPolicyPeer{
				msPeer("careers", "career"),
				{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "data"}}},
				{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"batch", "cron"}}}}},
			},
		}, {
			Ports: ports(8080),
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: monitoring}},
		}},
		wantEgress:  []networkingv1.NetworkPolicyEgressRule{dnsRule},
		wantStatus:  metav1.ConditionTrue,
		wantReason:  platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"Microservice career, 2 allowFrom entries, the metrics namespaces"},
	}, {
		name: "an empty allowFrom selector stays empty: every namespace",
		ms: ms(func(m *platformv1alpha1.Microservice) {
			m.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowFrom: []platformv1alpha1.NetworkPolicyPeer{
				{NamespaceSelector: &metav1.LabelSelector{}}}}
		}),
		wantIngress: []networkingv1.NetworkPolicyIngressRule{{
			Ports: ports(8080),
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}},
		}},
		wantEgress: []networkingv1.NetworkPolicyEgressRule{dnsRule},
		wantStatus: metav1.ConditionTrue, wantReason: platformv1alpha1.ReasonNetworkPolicyRendered,
	}, {
		name: "allowEgressTo adds address ranges, on the ports listed or all",
		ms: ms(func(m *platformv1alpha1.Microservice) {
			m.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowEgressTo: []platformv1alpha1.EgressDestination{
				{CIDR: "203.0.113.0/24", Ports: []platformv1alpha1.EgressPort{{Port: 443}, {Port: 514, Protocol: corev1.ProtocolUDP}}},
				{CIDR: "2001:db8::/32"},
			}}
		}),
		wantEgress: []networkingv1.NetworkPolicyEgressRule{
			dnsRule,
			{
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24"}}},
				Ports: ports(443, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolUDP), Port: new(intstr.FromInt(514))}),
			},
			{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "2001:db8::/32"}}}},
		},
		wantStatus:  metav1.ConditionTrue,
		wantReason:  platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"2 allowEgressTo entries"},
	}, {
		name:  "a broker that is a Service of the cluster: egress to its pods on the target port",
		ms:    ms(testutil.WithEvents("broker", "url", []string{"skills.assessed"}, nil)),
		graph: graphEdges{Endpoints: []endpoint{{Role: "broker", Host: "redis.infra", Port: 6379, Pods: redis}}},
		wantEgress: []networkingv1.NetworkPolicyEgressRule{
			dnsRule,
			{To: []networkingv1.NetworkPolicyPeer{nsPeer("infra", map[string]string{"app": "redis"})}, Ports: ports("redis")},
		},
		wantStatus:  metav1.ConditionTrue,
		wantReason:  platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"broker Service infra/redis"},
	}, {
		name: "a database host that is not a Service, without allowEgressTo: its port is left open, and the condition says so",
		ms:   ms(testutil.WithPostgres("db", "url")),
		graph: graphEdges{Endpoints: []endpoint{{Role: "database", Host: "db.example.com", Port: 5432,
			Unmapped: "not a Service name of this cluster"}}},
		wantEgress: []networkingv1.NetworkPolicyEgressRule{dnsRule, {Ports: ports(5432)}},
		wantStatus: metav1.ConditionFalse, wantReason: platformv1alpha1.ReasonEgressLeftOpen,
		wantMessage: []string{"Egress left open to every address for database db.example.com:5432 (not a Service name of this cluster)",
			"allowEgressTo"},
	}, {
		name: "a database host that is not a Service, with allowEgressTo: only the ranges listed, and the message says so",
		ms: ms(testutil.WithPostgres("db", "url"), func(m *platformv1alpha1.Microservice) {
			m.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowEgressTo: []platformv1alpha1.EgressDestination{
				{CIDR: "198.51.100.10/32", Ports: []platformv1alpha1.EgressPort{{Port: 5432}}}}}
		}),
		graph: graphEdges{Endpoints: []endpoint{{Role: "database", Host: "198.51.100.10", Port: 5432,
			Unmapped: "not a Service name of this cluster"}}},
		wantEgress: []networkingv1.NetworkPolicyEgressRule{dnsRule, {
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.10/32"}}},
			Ports: ports(5432),
		}},
		wantStatus: metav1.ConditionTrue, wantReason: platformv1alpha1.ReasonNetworkPolicyRendered,
		wantMessage: []string{"reached only through allowEgressTo: database 198.51.100.10:5432"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			np, cond := renderPolicy(t, microserviceInput{Microservice: tc.ms, Dependencies: dependenciesOf(tc.ms, tc.deps...), Graph: tc.graph})
			if np == nil {
				t.Fatalf("no policy rendered; condition %+v", cond)
			}
			if np.Name != tc.ms.Name || np.Namespace != tc.ms.Namespace {
				t.Errorf("policy %s/%s, want the Microservice's name", np.Namespace, np.Name)
			}
			if len(np.OwnerReferences) != 1 || np.OwnerReferences[0].Kind != "Microservice" || !ptr.Deref(np.OwnerReferences[0].Controller, false) {
				t.Errorf("owner references %+v, want the Microservice as controller", np.OwnerReferences)
			}
			if np.Labels[contract.LabelManagedBy] != contract.ManagedByValue {
				t.Errorf("labels %v: the cache only holds managed objects", np.Labels)
			}
			if want := map[string]string{contract.LabelMicroservice: tc.ms.Name}; !equality.Semantic.DeepEqual(np.Spec.PodSelector.MatchLabels, want) {
				t.Errorf("podSelector %v, want %v", np.Spec.PodSelector.MatchLabels, want)
			}
			if want := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}; !equality.Semantic.DeepEqual(np.Spec.PolicyTypes, want) {
				t.Errorf("policyTypes %v, want %v (both directions are closed to what is not listed)", np.Spec.PolicyTypes, want)
			}
			if !equality.Semantic.DeepEqual(np.Spec.Ingress, tc.wantIngress) {
				t.Errorf("ingress:\n got %s\nwant %s", js(np.Spec.Ingress), js(tc.wantIngress))
			}
			if !equality.Semantic.DeepEqual(np.Spec.Egress, tc.wantEgress) {
				t.Errorf("egress:\n got %s\nwant %s", js(np.Spec.Egress), js(tc.wantEgress))
			}
			if cond.Type != platformv1alpha1.ConditionNetworkPolicyReady || cond.Status != tc.wantStatus || cond.Reason != tc.wantReason {
				t.Errorf("condition %s=%s %s, want %s %s", cond.Type, cond.Status, cond.Reason, tc.wantStatus, tc.wantReason)
			}
			for _, m := range tc.wantMessage {
				if !strings.Contains(cond.Message, m) {
					t.Errorf("message %q does not say %q", cond.Message, m)
				}
			}
		})
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func Test_enforce_false_renders_no_policy_and_says_so(t *testing.T) {
	m := ms(func(m *platformv1alpha1.Microservice) {
		m.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{Enforce: new(false),
			AllowFrom: []platformv1alpha1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}
	})
	np, cond := renderPolicy(t, microserviceInput{Microservice: m, Graph: graphEdges{Callers: []pods{gatewayPods("careers", "api")}}})
	if np != nil {
		t.Fatalf("a policy was rendered with enforce false: %s", js(np.Spec))
	}
	if cond.Status != metav1.ConditionTrue || cond.Reason != platformv1alpha1.ReasonNetworkPolicyNotEnforced ||
		!strings.Contains(cond.Message, "enforce is false") {
		t.Errorf("condition %+v", cond)
	}
	// enforce unset and true both enforce.
	for _, enforce := range []*bool{nil, new(true)} {
		m.Spec.NetworkPolicy.Enforce = enforce
		if np, _ := renderPolicy(t, microserviceInput{Microservice: m}); np == nil {
			t.Errorf("enforce %v rendered no policy", enforce)
		}
	}
}

func renderGWPolicy(t *testing.T, gw *platformv1alpha1.Gateway, graph graphEdges, found ...*platformv1alpha1.Microservice) (*networkingv1.NetworkPolicy, metav1.Condition) {
	t.Helper()
	ch, err := renderGateway(gatewayInput{Gateway: gw, Backends: backendsOf(gw, found...), ClusterDomain: contract.DefaultClusterDomain,
		Image: "gw:v1", Graph: graph})
	if err != nil {
		t.Fatal(err)
	}
	if ch.NetworkPolicy == nil {
		return nil, ch.NetworkPolicyCondition
	}
	return as[networkingv1.NetworkPolicy](t, ch.NetworkPolicy), ch.NetworkPolicyCondition
}

func Test_a_Gateway_policy_admits_every_caller_and_calls_its_backends(t *testing.T) {
	monitoring := &metav1.LabelSelector{MatchLabels: map[string]string{labelNamespaceName: "monitoring"}}
	// testGateway routes to skills twice and aggregates learning and career.
	gw := testGateway(func(g *platformv1alpha1.Gateway) {
		g.Spec.Port = 8000
		g.Spec.Routes[1].Port = ptr.To[int32](9443)
	})
	np, cond := renderGWPolicy(t, gw, graphEdges{Metrics: monitoring},
		testutil.NewMicroservice("careers", "skills", testutil.WithPort(8081)),
		testutil.NewMicroservice("careers", "career", testutil.WithPort(8082)))
	if np == nil {
		t.Fatalf("no policy; %+v", cond)
	}
	if want := map[string]string{contract.LabelGateway: "api"}; !equality.Semantic.DeepEqual(np.Spec.PodSelector.MatchLabels, want) {
		t.Errorf("podSelector %v, want %v", np.Spec.PodSelector.MatchLabels, want)
	}
	// The entry point: one rule on its port with no peers, which admits
	// every source; the metrics rule would add nothing.
	if want := []networkingv1.NetworkPolicyIngressRule{{Ports: ports(8000)}}; !equality.Semantic.DeepEqual(np.Spec.Ingress, want) {
		t.Errorf("ingress %s, want %s", js(np.Spec.Ingress), js(want))
	}
	wantEgress := []networkingv1.NetworkPolicyEgressRule{
		dnsRule,
		{To: []networkingv1.NetworkPolicyPeer{msPeer("careers", "career")}, Ports: ports(8082)},
		// learning does not exist yet: its default port, until it appears.
		{To: []networkingv1.NetworkPolicyPeer{msPeer("careers", "learning")}, Ports: ports(8080)},
		// skills on its port, and on the one a route overrides.
		{To: []networkingv1.NetworkPolicyPeer{msPeer("careers", "skills")}, Ports: ports(8081, 9443)},
	}
	if !equality.Semantic.DeepEqual(np.Spec.Egress, wantEgress) {
		t.Errorf("egress:\n got %s\nwant %s", js(np.Spec.Egress), js(wantEgress))
	}
	if cond.Status != metav1.ConditionTrue || !strings.Contains(cond.Message, "ingress on port 8000 from every caller") {
		t.Errorf("condition %+v", cond)
	}

	// allowFrom narrows the entry point; the metrics namespaces keep their way in.
	gw.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{AllowFrom: []platformv1alpha1.NetworkPolicyPeer{
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"ingress": "true"}}}}}
	np, cond = renderGWPolicy(t, gw, graphEdges{Metrics: monitoring})
	wantIngress := []networkingv1.NetworkPolicyIngressRule{
		{Ports: ports(8000), From: []networkingv1.NetworkPolicyPeer{
			{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"ingress": "true"}}}}},
		{Ports: ports(8000), From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: monitoring}}},
	}
	if !equality.Semantic.DeepEqual(np.Spec.Ingress, wantIngress) {
		t.Errorf("narrowed ingress:\n got %s\nwant %s", js(np.Spec.Ingress), js(wantIngress))
	}
	if !strings.Contains(cond.Message, "from 1 allowFrom entry, the metrics namespaces") {
		t.Errorf("message %q", cond.Message)
	}

	gw.Spec.NetworkPolicy = &platformv1alpha1.NetworkPolicy{Enforce: new(false)}
	if np, cond := renderGWPolicy(t, gw, graphEdges{}); np != nil || cond.Reason != platformv1alpha1.ReasonNetworkPolicyNotEnforced {
		t.Errorf("enforce false: policy %v, condition %+v", np != nil, cond)
	}
}

func Test_a_URL_host_is_the_Service_a_pod_would_resolve(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string // namespace/name; "" when not a Service
	}{
		{"redis", "careers/redis"},
		{"redis.infra", "infra/redis"},
		{"redis.infra.svc", "infra/redis"},
		{"redis.infra.svc.cluster.local", "infra/redis"},
		{"redis.infra.svc.cluster.local.", "infra/redis"},
		{"Redis.Infra.SVC.cluster.local", "infra/redis"},
		{"10.96.0.12", ""},
		{"2001:db8::1", ""},
		{"db.eu-west-1.rds.amazonaws.com", ""},
		{"redis.infra.svc.other.domain", ""},
	} {
		key, ok := serviceOfHost(tc.host, "careers", contract.DefaultClusterDomain)
		got := ""
		if ok {
			got = key.String()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.host, got, tc.want)
		}
	}
}

func Test_a_URL_in_a_Secret_gives_host_and_port_and_never_its_password(t *testing.T) {
	for _, tc := range []struct {
		raw, host string
		port      int32
		err       string
	}{
		{"redis://:s3cret@redis.infra:6380/0", "redis.infra", 6380, ""},
		{"redis://redis:6379", "redis", 6379, ""},
		{"rediss://default:s3cret@cache.example.com", "cache.example.com", 6379, ""},
		{"postgres://app:s3cret@postgres.data.svc:5432/app?sslmode=disable\n", "postgres.data.svc", 5432, ""},
		{"postgresql://app:s3cret@[2001:db8::7]/app", "2001:db8::7", 5432, ""},
		{"http://app:s3cret@proxy/x", "", 0, `scheme "http" has no default`},
		{"redis://:s3cret@redis:notaport", "", 0, "not a URL with a host"},
		{"redis://:s3cret@redis:99999", "", 0, "not a port number"},
		{"s3cret", "", 0, "not a URL with a host"},
	} {
		host, port, err := parseHostPort(tc.raw)
		if host != tc.host || port != tc.port || !strings.Contains(err, tc.err) || (tc.err == "") != (err == "") {
			t.Errorf("%q: %q %d %q, want %q %d %q", tc.raw, host, port, err, tc.host, tc.port, tc.err)
		}
		if strings.Contains(err, "s3cret") {
			t.Errorf("%q: the error quotes the password: %q", tc.raw, err)
		}
	}
}

func Test_a_Service_becomes_its_selected_pods_on_the_target_port(t *testing.T) {
	svc := func(mod func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "redis"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "redis"}, Ports: []corev1.ServicePort{
				{Name: "metrics", Port: 9121, TargetPort: intstr.FromInt(9121)},
				{Name: "redis", Port: 6379, TargetPort: intstr.FromString("redis")},
				{Name: "plain", Port: 7000},
			}},
		}
		if mod != nil {
			mod(s)
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		svc      *corev1.Service
		port     int32
		target   intstr.IntOrString
		unmapped string
	}{
		{"a named target port", svc(nil), 6379, intstr.FromString("redis"), ""},
		{"no target port: the port itself", svc(nil), 7000, intstr.FromInt(7000), ""},
		{"no such port", svc(nil), 6380, intstr.IntOrString{}, "Service infra/redis has no port 6380"},
		{"no selector", svc(func(s *corev1.Service) { s.Spec.Selector = nil }), 6379, intstr.IntOrString{}, "has no selector"},
		{"ExternalName", svc(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }), 6379, intstr.IntOrString{}, "is an ExternalName"},
	} {
		p, why := servicePods(tc.svc, tc.port)
		switch {
		case tc.unmapped != "":
			if p != nil || !strings.Contains(why, tc.unmapped) {
				t.Errorf("%s: pods %+v, reason %q, want %q", tc.name, p, why, tc.unmapped)
			}
		case p == nil:
			t.Errorf("%s: not mapped: %s", tc.name, why)
		default:
			if p.Namespace != "infra" || p.Labels["app"] != "redis" || len(p.Ports) != 1 || p.Ports[0].Port != tc.target ||
				p.Ports[0].Protocol != corev1.ProtocolTCP {
				t.Errorf("%s: %+v, want app=redis in infra on %s", tc.name, p, tc.target.String())
			}
		}
	}
}

func Test_the_resolver_remembers_who_rests_on_which_Service(t *testing.T) {
	e := newEndpointResolver(nil, nil, contract.DefaultClusterDomain)
	a := types.NamespacedName{Namespace: "careers", Name: "skills"}
	b := types.NamespacedName{Namespace: "careers", Name: "career"}
	redis := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "redis"}}
	pg := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "postgres"}}
	e.record(a, []types.NamespacedName{{Namespace: "infra", Name: "redis"}})
	e.record(b, []types.NamespacedName{{Namespace: "infra", Name: "redis"}, {Namespace: "infra", Name: "postgres"}})
	if got := len(e.usersOf(t.Context(), redis)); got != 2 {
		t.Errorf("redis has %d users, want 2", got)
	}
	// b moves off redis: only a is left on it, b is on postgres.
	e.record(b, []types.NamespacedName{{Namespace: "infra", Name: "postgres"}})
	if got := e.usersOf(t.Context(), redis); len(got) != 1 || got[0].NamespacedName != a {
		t.Errorf("redis users %v, want only %v", got, a)
	}
	e.forget(b)
	if got := e.usersOf(t.Context(), pg); len(got) != 0 {
		t.Errorf("postgres users after forget: %v", got)
	}
	if len(e.uses) != 1 || len(e.users) != 1 {
		t.Errorf("the resolver keeps %d owners and %d Services, want 1 and 1", len(e.uses), len(e.users))
	}
}

func Test_an_endpoint_whose_URL_cannot_be_read_gets_no_rule_and_says_why(t *testing.T) {
	m := ms(testutil.WithEvents("broker", "url", nil, nil))
	np, cond := renderPolicy(t, microserviceInput{Microservice: m, Graph: graphEdges{Endpoints: []endpoint{
		{Role: "broker", Host: "?", Unmapped: "Secret broker not found"}}}})
	if want := []networkingv1.NetworkPolicyEgressRule{dnsRule}; !equality.Semantic.DeepEqual(np.Spec.Egress, want) {
		t.Errorf("egress %s, want DNS only (a port-0 rule is refused by the API server)", js(np.Spec.Egress))
	}
	if cond.Status != metav1.ConditionFalse || cond.Reason != platformv1alpha1.ReasonEndpointUnresolved ||
		!strings.Contains(cond.Message, "broker (Secret broker not found)") {
		t.Errorf("condition %+v", cond)
	}
}
