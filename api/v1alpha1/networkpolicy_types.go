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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NetworkPolicy is the network policy the operator derives from the service
// graph: who may call the pods (the Microservices that list this one in
// dependsOn, the Gateways that route to it) and whom they may call (DNS, the
// Microservices in their own dependsOn, their broker and database). The
// fields here only add to that graph, for what lies outside it.
type NetworkPolicy struct {
	// enforce renders the NetworkPolicy <name>. false renders none and
	// removes one rendered before: any pod may then call this one, and it
	// may call anything.
	// +optional
	// +kubebuilder:default=true
	Enforce *bool `json:"enforce,omitempty"`

	// allowFrom admits callers outside the graph, e.g. a monitoring
	// namespace, on the service's port. Each entry selects pods as a
	// NetworkPolicy peer does: podSelector alone means pods of this
	// namespace, namespaceSelector alone every pod of those namespaces, both
	// the selected pods of the selected namespaces. On a Gateway, which
	// otherwise admits every caller, allowFrom narrows ingress to these.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	AllowFrom []NetworkPolicyPeer `json:"allowFrom,omitempty"`

	// allowEgressTo admits calls outside the cluster: to a CIDR, on the
	// ports listed (every port when none are).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	AllowEgressTo []EgressDestination `json:"allowEgressTo,omitempty"`
}

// NetworkPolicyPeer selects calling pods by namespace and pod labels.
// +kubebuilder:validation:XValidation:rule="has(self.namespaceSelector) || has(self.podSelector)",message="an allowFrom entry needs a namespaceSelector, a podSelector or both (an empty selector {} selects all)"
type NetworkPolicyPeer struct {
	// namespaceSelector selects namespaces by their labels
	// (kubernetes.io/metadata.name is the namespace's name).
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// podSelector selects pods by their labels.
	// +optional
	PodSelector *metav1.LabelSelector `json:"podSelector,omitempty"`
}

// EgressDestination is a range of addresses outside the cluster.
type EgressDestination struct {
	// cidr is the range, e.g. 203.0.113.0/24 or 2001:db8::/32 (a single
	// address is /32 or /128).
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="cidr must be an address range such as 203.0.113.0/24 (a single address is 203.0.113.7/32)"
	CIDR string `json:"cidr"`

	// ports of the range that may be called; every port when empty.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Ports []EgressPort `json:"ports,omitempty"`
}

// EgressPort is a port and protocol.
type EgressPort struct {
	// port number.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// protocol of the port.
	// +optional
	// +kubebuilder:default=TCP
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	Protocol corev1.Protocol `json:"protocol,omitempty"`
}

// Enforced reports whether a NetworkPolicy should be rendered: unless
// enforce is false.
func (p *NetworkPolicy) Enforced() bool {
	return p == nil || p.Enforce == nil || *p.Enforce
}
