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

// Package meshgraph is the service graph the objects already declare, as
// data: Microservices and Gateways as nodes, dependsOn, routes and
// aggregation backends as calls, event topics as a second kind of node
// between publishers and subscribers. Writers turn it into DOT and Mermaid.
// It is pure: the same objects always give the same graph, in one order.
package meshgraph

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// Kind is what a node is.
type Kind string

const (
	KindMicroservice Kind = "Microservice"
	KindGateway      Kind = "Gateway"
	KindTopic        Kind = "Topic"
)

// State is how a Microservice or Gateway is doing, as its status says.
type State string

const (
	// StateReady: Ready True with a ready pod.
	StateReady State = "Ready"
	// StateNotServing: Ready True (as its spec says) but no pod answers,
	// e.g. scaled to zero.
	StateNotServing State = "NotServing"
	// StateNotReady: Ready not True.
	StateNotReady State = "NotReady"
	// StateMissing: named by another object but not found.
	StateMissing State = "Missing"
	// StateTopic: a topic has no state of its own.
	StateTopic State = ""
)

// EdgeKind is what an edge stands for.
type EdgeKind string

const (
	EdgeDependsOn   EdgeKind = "dependsOn"
	EdgeRoute       EdgeKind = "route"
	EdgeAggregation EdgeKind = "aggregation"
	EdgePublishes   EdgeKind = "publishes"
	EdgeSubscribes  EdgeKind = "subscribes"
)

// Node is a Microservice, a Gateway or a topic.
type Node struct {
	// ID is unique in the graph: kind/namespace/name.
	ID        string
	Kind      Kind
	Namespace string
	Name      string
	State     State
	// Reason is the Ready condition's reason, when there is one.
	Reason string
}

// Edge goes from a caller (or publisher, or topic) to a callee (or topic,
// or subscriber).
type Edge struct {
	From, To string
	Kind     EdgeKind
}

// Graph is every node and edge, sorted.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// Build makes the graph of the objects given. A Microservice that another
// names but that is not among them is a Missing node. Topics are per
// namespace: a broker is a namespace's, as the samples wire it.
func Build(services []platformv1alpha1.Microservice, gateways []platformv1alpha1.Gateway) Graph {
	b := builder{nodes: map[string]Node{}, edges: map[Edge]bool{}}
	for i := range services {
		ms := &services[i]
		b.node(Node{ID: id(KindMicroservice, ms.Namespace, ms.Name), Kind: KindMicroservice, Namespace: ms.Namespace, Name: ms.Name,
			State: stateOf(ms.Status.Conditions, ms.Status.ReadyReplicas), Reason: reasonOf(ms.Status.Conditions)})
	}
	for i := range gateways {
		gw := &gateways[i]
		b.node(Node{ID: id(KindGateway, gw.Namespace, gw.Name), Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name,
			State: stateOf(gw.Status.Conditions, gw.Status.ReadyReplicas), Reason: reasonOf(gw.Status.Conditions)})
	}
	for i := range services {
		ms := &services[i]
		from := id(KindMicroservice, ms.Namespace, ms.Name)
		for _, d := range ms.Spec.DependsOn {
			ns := cmp.Or(d.Namespace, ms.Namespace)
			b.edge(from, b.microservice(ns, d.Name), EdgeDependsOn)
		}
		if ev := ms.Spec.Events; ev != nil {
			for _, t := range ev.Publishes {
				b.edge(from, b.topic(ms.Namespace, t), EdgePublishes)
			}
			for _, t := range ev.Subscribes {
				b.edge(b.topic(ms.Namespace, t), from, EdgeSubscribes)
			}
		}
	}
	for i := range gateways {
		gw := &gateways[i]
		from := id(KindGateway, gw.Namespace, gw.Name)
		for _, r := range gw.Spec.Routes {
			b.edge(from, b.microservice(gw.Namespace, r.Service), EdgeRoute)
		}
		for _, a := range gw.Spec.Aggregations {
			for _, be := range a.Backends {
				b.edge(from, b.microservice(gw.Namespace, be.Service), EdgeAggregation)
			}
		}
	}
	return b.graph()
}

type builder struct {
	nodes map[string]Node
	edges map[Edge]bool
}

func id(k Kind, namespace, name string) string { return string(k) + "/" + namespace + "/" + name }

func (b *builder) node(n Node) { b.nodes[n.ID] = n }

// microservice is the ID of namespace/name, adding it as Missing when no
// object of that name was given.
func (b *builder) microservice(namespace, name string) string {
	key := id(KindMicroservice, namespace, name)
	if _, ok := b.nodes[key]; !ok {
		b.node(Node{ID: key, Kind: KindMicroservice, Namespace: namespace, Name: name, State: StateMissing})
	}
	return key
}

func (b *builder) topic(namespace, name string) string {
	key := id(KindTopic, namespace, name)
	if _, ok := b.nodes[key]; !ok {
		b.node(Node{ID: key, Kind: KindTopic, Namespace: namespace, Name: name, State: StateTopic})
	}
	return key
}

func (b *builder) edge(from, to string, k EdgeKind) {
	b.edges[Edge{From: from, To: to, Kind: k}] = true
}

func (b *builder) graph() Graph {
	g := Graph{}
	for _, n := range b.nodes {
		g.Nodes = append(g.Nodes, n)
	}
	slices.SortFunc(g.Nodes, func(x, y Node) int { return cmp.Compare(x.ID, y.ID) })
	for e := range b.edges {
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Edges, func(x, y Edge) int {
		return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To), cmp.Compare(x.Kind, y.Kind))
	})
	return g
}

// stateOf reads Ready and the ready pods the way dependents count on a
// Microservice: Ready True with a pod that answers.
func stateOf(conditions []metav1.Condition, readyReplicas int32) State {
	switch {
	case !meta.IsStatusConditionTrue(conditions, platformv1alpha1.ConditionReady):
		return StateNotReady
	case readyReplicas == 0:
		return StateNotServing
	}
	return StateReady
}

func reasonOf(conditions []metav1.Condition) string {
	if c := meta.FindStatusCondition(conditions, platformv1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}
