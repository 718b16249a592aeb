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
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// labelNamespaceName is the label the API server puts on every namespace,
// holding its name: how a policy selects one namespace.
const labelNamespaceName = "kubernetes.io/metadata.name"

// pods is a set of pods of the graph: those labelled Labels in Namespace,
// reached on Ports (for an egress edge; an ingress edge is on the policy's
// own port). What names them is for the condition's message.
type pods struct {
	// Kind and Name say what the pods are: "Microservice skills",
	// "Gateway gateway", "Service redis".
	Kind, Name string
	Namespace  string
	Labels     map[string]string
	Ports      []netPort
}

// netPort is a port of a NetworkPolicy rule: a number or a container
// port's name, and its protocol.
type netPort struct {
	Port     intstr.IntOrString
	Protocol corev1.Protocol
}

func tcp(port int32) netPort {
	return netPort{Port: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP}
}

// endpoint is an address the pods call that a Secret names (the broker,
// the database): Pods when its host is a Service of the cluster with a
// selector, otherwise why not.
type endpoint struct {
	// Role is what it is to the service: "broker", "database".
	Role string
	// Host and Port are the URL's (Port defaulted by its scheme).
	Host string
	Port int32
	Pods *pods
	// Unmapped says why the host is not a Service's pods.
	Unmapped string
}

// clusterDNS is where pods resolve names: kubeadm's (and kind's) CoreDNS,
// k8s-app=kube-dns in kube-system, on port 53 over UDP and TCP.
var clusterDNS = pods{
	Kind: "DNS", Name: "kube-dns", Namespace: "kube-system",
	Labels: map[string]string{"k8s-app": "kube-dns"},
	Ports: []netPort{
		{Port: intstr.FromInt32(53), Protocol: corev1.ProtocolUDP},
		{Port: intstr.FromInt32(53), Protocol: corev1.ProtocolTCP},
	},
}

// networkPolicyInput is what a NetworkPolicy is rendered from: the owner's
// pods and port, its spec.networkPolicy, and its edges in the graph.
type networkPolicyInput struct {
	Kind, Name, Namespace string
	Owner                 *metav1ac.OwnerReferenceApplyConfiguration
	Labels                map[string]string
	// Selector selects the owner's pods.
	Selector map[string]string
	Port     int32
	Spec     *platformv1alpha1.NetworkPolicy
	// OpenIngress admits every caller (a Gateway: the entry point) unless
	// spec.allowFrom narrows it.
	OpenIngress bool
	// Callers may call the port: dependents, Gateways routing here.
	Callers []pods
	// Calls are the pods the owner may call: spec.dependsOn, a Gateway's
	// backends.
	Calls []pods
	// Endpoints are the broker and database the owner's Secrets name.
	Endpoints []endpoint
	// DNS is where the pods resolve names.
	DNS pods
	// Metrics selects the namespaces that may scrape /metrics (on the
	// port, as every bundled service serves it); nil: none beyond the
	// graph.
	Metrics *metav1.LabelSelector
}

// renderNetworkPolicy is the owner's NetworkPolicy (nil when
// spec.networkPolicy.enforce is false) and the NetworkPolicyReady condition
// that says what it admits. It is pure.
func renderNetworkPolicy(in networkPolicyInput) (*networkingv1ac.NetworkPolicyApplyConfiguration, metav1.Condition) {
	cond := metav1.Condition{Type: platformv1alpha1.ConditionNetworkPolicyReady, Status: metav1.ConditionTrue}
	if !in.Spec.Enforced() {
		cond.Reason = platformv1alpha1.ReasonNetworkPolicyNotEnforced
		cond.Message = "spec.networkPolicy.enforce is false: no NetworkPolicy, so any pod may call this one and it may call anything"
		return nil, cond
	}
	spec := ptrOr(in.Spec)
	ps := networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(in.Selector)).
		WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)

	// Ingress: the port from the graph's callers and allowFrom; from
	// everyone for an entry point left open. A rule with no peers admits
	// every source, so none is written when there is nobody to admit.
	port := []*networkingv1ac.NetworkPolicyPortApplyConfiguration{policyPort(tcp(in.Port))}
	var from []*networkingv1ac.NetworkPolicyPeerApplyConfiguration
	for _, c := range in.Callers {
		from = append(from, podsPeer(c))
	}
	for _, p := range spec.AllowFrom {
		// An allowFrom entry has a NetworkPolicy peer's shape.
		from = append(from, convert[networkingv1ac.NetworkPolicyPeerApplyConfiguration](p))
	}
	everyone := in.OpenIngress && len(spec.AllowFrom) == 0
	switch {
	case everyone:
		ps.WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithPorts(port...))
	case len(from) > 0:
		ps.WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithPorts(port...).WithFrom(from...))
	}
	if in.Metrics != nil && !everyone {
		ps.WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithPorts(policyPort(tcp(in.Port))).
			WithFrom(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(convert[metav1ac.LabelSelectorApplyConfiguration](in.Metrics))))
	}

	// Egress: DNS, then each callee on its ports, then the Secrets'
	// endpoints, then allowEgressTo.
	ps.WithEgress(egressTo(in.DNS))
	for _, c := range in.Calls {
		ps.WithEgress(egressTo(c))
	}
	var open, unmapped, unknown []string
	for _, e := range in.Endpoints {
		switch {
		case e.Pods != nil:
			ps.WithEgress(egressTo(*e.Pods))
		case e.Port == 0:
			// No URL to read (its Secret or key is missing, or not a URL):
			// nothing to open. The pods cannot use it either; the Secret's
			// change brings the rule.
			unknown = append(unknown, fmt.Sprintf("%s (%s)", e.Role, e.Unmapped))
		case len(spec.AllowEgressTo) == 0:
			// Never silently closed, never silently open: the port stays
			// reachable everywhere and the condition says why.
			ps.WithEgress(networkingv1ac.NetworkPolicyEgressRule().WithPorts(policyPort(tcp(e.Port))))
			open = append(open, fmt.Sprintf("%s %s:%d (%s)", e.Role, e.Host, e.Port, e.Unmapped))
		default:
			unmapped = append(unmapped, fmt.Sprintf("%s %s:%d (%s)", e.Role, e.Host, e.Port, e.Unmapped))
		}
	}
	for _, d := range spec.AllowEgressTo {
		r := networkingv1ac.NetworkPolicyEgressRule().
			WithTo(networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(d.CIDR)))
		for _, p := range d.Ports {
			r.WithPorts(policyPort(netPort{Port: intstr.FromInt32(p.Port), Protocol: protocolOr(p.Protocol)}))
		}
		ps.WithEgress(r)
	}

	np := networkingv1ac.NetworkPolicy(in.Name, in.Namespace).
		WithLabels(in.Labels).
		WithOwnerReferences(in.Owner).
		WithSpec(ps)
	cond.Reason = platformv1alpha1.ReasonNetworkPolicyRendered
	cond.Message = policySummary(in, spec, unmapped)
	if len(unknown) > 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonEndpointUnresolved
		cond.Message = "No egress rule for " + strings.Join(unknown, "; ") + " until its URL can be read. " + cond.Message
	}
	if len(open) > 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonEgressLeftOpen
		cond.Message = "Egress left open to every address for " + strings.Join(open, "; ") +
			": list the address in spec.networkPolicy.allowEgressTo to narrow it. " + cond.Message
	}
	return np, cond
}

// policySummary says in a sentence what the policy admits.
func policySummary(in networkPolicyInput, spec platformv1alpha1.NetworkPolicy, unmapped []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "NetworkPolicy %s: ingress on port %d from ", in.Name, in.Port)
	var callers []string
	everyone := in.OpenIngress && len(spec.AllowFrom) == 0
	switch {
	case everyone:
		callers = append(callers, "every caller")
	default:
		for _, c := range in.Callers {
			callers = append(callers, c.describe(in.Namespace))
		}
		if n := len(spec.AllowFrom); n > 0 {
			callers = append(callers, plural(n, "allowFrom entry", "allowFrom entries"))
		}
	}
	if in.Metrics != nil && !everyone {
		callers = append(callers, "the metrics namespaces")
	}
	if len(callers) == 0 {
		callers = append(callers, "nobody")
	}
	b.WriteString(strings.Join(callers, ", "))
	b.WriteString("; egress to DNS")
	for _, c := range in.Calls {
		b.WriteString(", " + c.describe(in.Namespace))
	}
	for _, e := range in.Endpoints {
		if e.Pods != nil {
			fmt.Fprintf(&b, ", %s %s", e.Role, e.Pods.describe(in.Namespace))
		}
	}
	if n := len(spec.AllowEgressTo); n > 0 {
		b.WriteString(", " + plural(n, "allowEgressTo entry", "allowEgressTo entries"))
	}
	if len(unmapped) > 0 {
		b.WriteString("; not Services of the cluster, so reached only through allowEgressTo: " + strings.Join(unmapped, "; "))
	}
	return b.String()
}

func (p pods) describe(home string) string {
	name := p.Name
	if p.Namespace != home {
		name = p.Namespace + "/" + p.Name
	}
	return p.Kind + " " + name
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func ptrOr(p *platformv1alpha1.NetworkPolicy) platformv1alpha1.NetworkPolicy {
	if p == nil {
		return platformv1alpha1.NetworkPolicy{}
	}
	return *p
}

func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// podsPeer selects p's pods in p's namespace, whichever namespace the
// policy is in.
func podsPeer(p pods) *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return networkingv1ac.NetworkPolicyPeer().
		WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{labelNamespaceName: p.Namespace})).
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(maps.Clone(p.Labels)))
}

func egressTo(p pods) *networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration {
	r := networkingv1ac.NetworkPolicyEgressRule().WithTo(podsPeer(p))
	for _, port := range p.Ports {
		r.WithPorts(policyPort(port))
	}
	return r
}

func policyPort(p netPort) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
	return networkingv1ac.NetworkPolicyPort().WithPort(p.Port).WithProtocol(p.Protocol)
}

// microservicePolicyInput is the policy input of a Microservice: callers
// and endpoints gathered by the pass, callees from its resolved
// dependencies.
func microservicePolicyInput(in microserviceInput) networkPolicyInput {
	ms := in.Microservice
	calls := make([]pods, 0, len(in.Dependencies))
	for _, d := range in.Dependencies {
		calls = append(calls, microservicePods(d.Namespace, d.Name, d.Port))
	}
	return networkPolicyInput{
		Kind: "Microservice", Name: ms.Name, Namespace: ms.Namespace,
		Owner: ownerReference(ms), Labels: commonLabels(ms), Selector: selectorLabels(ms),
		Port: portOf(ms), Spec: ms.Spec.NetworkPolicy,
		Callers: in.Graph.Callers, Calls: calls, Endpoints: in.Graph.Endpoints,
		DNS: in.Graph.dns(), Metrics: in.Graph.Metrics,
	}
}

// gatewayPolicyInput is the policy input of a Gateway: open to every
// caller, calling its backends on their ports (and any port a route
// overrides).
func gatewayPolicyInput(in gatewayInput) networkPolicyInput {
	gw := in.Gateway
	overrides := map[string][]int32{}
	for _, r := range gw.Spec.Routes {
		if r.Port != nil {
			overrides[r.Service] = append(overrides[r.Service], *r.Port)
		}
	}
	names := slices.Sorted(maps.Keys(in.Backends))
	calls := make([]pods, 0, len(names))
	for _, name := range names {
		ref := in.Backends[name]
		p := microservicePods(ref.Namespace, ref.Name, ref.Port)
		for _, o := range overrides[name] {
			if !slices.Contains(p.Ports, tcp(o)) {
				p.Ports = append(p.Ports, tcp(o))
			}
		}
		calls = append(calls, p)
	}
	return networkPolicyInput{
		Kind: "Gateway", Name: gw.Name, Namespace: gw.Namespace,
		Owner: gatewayOwner(gw), Labels: gatewayLabels(gw), Selector: gatewaySelector(gw),
		Port: gatewayPort(gw), Spec: gw.Spec.NetworkPolicy, OpenIngress: true,
		Calls: calls, DNS: in.Graph.dns(), Metrics: in.Graph.Metrics,
	}
}

// microservicePods are the pods of Microservice namespace/name on port.
func microservicePods(namespace, name string, port int32) pods {
	return pods{Kind: "Microservice", Name: name, Namespace: namespace,
		Labels: map[string]string{contract.LabelMicroservice: name}, Ports: []netPort{tcp(port)}}
}

// gatewayPods are the pods of Gateway namespace/name.
func gatewayPods(namespace, name string) pods {
	return pods{Kind: "Gateway", Name: name, Namespace: namespace,
		Labels: map[string]string{contract.LabelGateway: name}}
}

// graphEdges is what a pass gathered of the graph around an owner, for
// its NetworkPolicy.
type graphEdges struct {
	// Callers are the pods that call the owner (a Microservice's
	// dependents and the Gateways routing to it), sorted.
	Callers []pods
	// Endpoints are the broker and database its Secrets name.
	Endpoints []endpoint
	// DNS is where pods resolve names; clusterDNS when unset.
	DNS *pods
	// Metrics selects the namespaces that may scrape the pods.
	Metrics *metav1.LabelSelector
}

func (g graphEdges) dns() pods {
	if g.DNS != nil {
		return *g.DNS
	}
	return clusterDNS
}
