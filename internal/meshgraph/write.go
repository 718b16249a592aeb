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

package meshgraph

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Colours by state, the same in every format: green serves, red does not
// (Ready False or Unknown), amber is Ready but has no pod to answer, grey is
// named by another object but does not exist.
var fill = map[State]string{
	StateReady:      "#d4edda",
	StateNotReady:   "#f8d7da",
	StateNotServing: "#fff3cd",
	StateMissing:    "#e2e3e5",
	StateTopic:      "#e8e0f5",
}

// label is what a node shows: its name, its namespace when the graph spans
// several, and its state when it is not Ready.
func (g Graph) label(n Node) string {
	name := n.Name
	if g.namespaces() > 1 {
		name = n.Namespace + "/" + n.Name
	}
	switch n.Kind {
	case KindTopic:
		return name
	case KindGateway:
		name = "gateway " + name
	}
	if n.State != StateReady {
		s := string(n.State)
		if n.Reason != "" && n.State == StateNotReady {
			s += ": " + n.Reason
		}
		name += "\n(" + s + ")"
	}
	return name
}

func (g Graph) namespaces() int {
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		seen[n.Namespace] = true
	}
	return len(seen)
}

// WriteDOT writes the graph for Graphviz: services as boxes, the gateway
// as a house, topics as ellipses; calls solid (routes bold, aggregation
// backends dashed), events dotted.
func (g Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph skillmesh {\n  rankdir=LR;\n  node [style=filled, fontname=\"Helvetica\"];\n")
	for _, n := range g.Nodes {
		shape := map[Kind]string{KindMicroservice: "box", KindGateway: "house", KindTopic: "ellipse"}[n.Kind]
		extra := ""
		if n.State == StateMissing {
			extra = ", style=\"filled,dashed\""
		}
		fmt.Fprintf(&b, "  %s [label=%s, shape=%s, fillcolor=%q%s];\n", strconv.Quote(n.ID), strconv.Quote(g.label(n)), shape, fill[n.State], extra)
	}
	for _, e := range g.Edges {
		style := map[EdgeKind]string{
			EdgeDependsOn: "solid", EdgeRoute: "bold", EdgeAggregation: "dashed",
			EdgePublishes: "dotted", EdgeSubscribes: "dotted",
		}[e.Kind]
		fmt.Fprintf(&b, "  %s -> %s [label=%q, style=%s];\n", strconv.Quote(e.From), strconv.Quote(e.To), string(e.Kind), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMermaid writes a Mermaid flowchart, as GitHub renders it in
// Markdown: the same shapes, colours and line styles as WriteDOT.
func (g Graph) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	ids := map[string]string{}
	for i, n := range g.Nodes {
		ids[n.ID] = fmt.Sprintf("n%d", i)
		label := strings.ReplaceAll(g.label(n), "\n", "<br/>")
		label = strings.ReplaceAll(label, `"`, "#quot;")
		shape := mermaidShapes[n.Kind]
		fmt.Fprintf(&b, "  %s%s\"%s\"%s:::%s\n", ids[n.ID], shape[0], label, shape[1], class(n.State))
	}
	for _, e := range g.Edges {
		arrow := mermaidArrows[e.Kind]
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", ids[e.From], arrow, e.Kind, ids[e.To])
	}
	for _, s := range []State{StateReady, StateNotReady, StateNotServing, StateMissing, StateTopic} {
		extra := ""
		if s == StateMissing {
			extra = ",stroke-dasharray: 4 4"
		}
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:#555%s\n", class(s), fill[s], extra)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidArrows draw calls solid, routes thick, aggregation backends and
// events dotted.
var mermaidArrows = func() map[EdgeKind]string {
	const dotted = "-.->"
	return map[EdgeKind]string{EdgeDependsOn: "-->", EdgeRoute: "==>", EdgeAggregation: dotted,
		EdgePublishes: dotted, EdgeSubscribes: dotted}
}()

// mermaidShapes open and close a node: a box, a trapezoid for the
// gateway, a stadium for a topic.
var mermaidShapes = map[Kind][2]string{
	KindMicroservice: {"[", "]"}, KindGateway: {"[/", "\\]"}, KindTopic: {"([", "])"},
}

func class(s State) string {
	if s == StateTopic {
		return "topic"
	}
	return strings.ToLower(string(s))
}
