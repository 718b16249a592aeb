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
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files from this run")

// sampleStack reads the shipped samples (config/samples) and gives them the
// status of a live stack: skills and the gateway Ready, career Ready with
// no pod (scaled to zero), learning not Ready because career does not serve.
func sampleStack(t *testing.T) ([]platformv1alpha1.Microservice, []platformv1alpha1.Gateway) {
	t.Helper()
	var services []platformv1alpha1.Microservice
	var gateways []platformv1alpha1.Gateway
	for _, f := range []string{"platform_v1alpha1_microservice.yaml", "platform_v1alpha1_gateway.yaml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", f))
		if err != nil {
			t.Fatal(err)
		}
		for doc := range bytes.SplitSeq(raw, []byte("\n---\n")) {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatal(err)
			}
			switch meta.Kind {
			case "Microservice":
				var ms platformv1alpha1.Microservice
				if err := yaml.Unmarshal(doc, &ms); err != nil {
					t.Fatal(err)
				}
				ms.Namespace = "skillmesh"
				services = append(services, ms)
			case "Gateway":
				var gw platformv1alpha1.Gateway
				if err := yaml.Unmarshal(doc, &gw); err != nil {
					t.Fatal(err)
				}
				gw.Namespace = "skillmesh"
				gw.Status.Conditions, gw.Status.ReadyReplicas = ready(true, "Ready"), 1
				gateways = append(gateways, gw)
			}
		}
	}
	for i := range services {
		s := &services[i].Status
		switch services[i].Name {
		case "skills":
			s.Conditions, s.ReadyReplicas = ready(true, "Ready"), 1
		case "career":
			s.Conditions, s.ReadyReplicas = ready(true, "Ready"), 0
		case "learning":
			s.Conditions, s.ReadyReplicas = ready(false, "DependencyNotReady"), 1
		}
	}
	return services, gateways
}

func ready(ok bool, reason string) []metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return []metav1.Condition{{Type: platformv1alpha1.ConditionReady, Status: status, Reason: reason}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/meshgraph -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from this run's output:\n%s", path, got)
	}
}

func TestThe_sample_stack_as_DOT_and_Mermaid(t *testing.T) {
	g := Build(sampleStack(t))
	var dot, mermaid bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteMermaid(&mermaid); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample-stack.dot", dot.Bytes())
	golden(t, "sample-stack.mmd", mermaid.Bytes())
}

func TestBuild_has_every_edge_the_objects_declare(t *testing.T) {
	g := Build(sampleStack(t))
	edges := map[string]bool{}
	for _, e := range g.Edges {
		edges[e.From+" "+string(e.Kind)+" "+e.To] = true
	}
	ms := func(n string) string { return "Microservice/skillmesh/" + n }
	topic := func(n string) string { return "Topic/skillmesh/" + n }
	for _, want := range []string{
		ms("career") + " dependsOn " + ms("skills"),
		ms("learning") + " dependsOn " + ms("career"),
		ms("skills") + " publishes " + topic("skills.assessed"),
		topic("skills.assessed") + " subscribes " + ms("career"),
		ms("career") + " publishes " + topic("career.plan.updated"),
		topic("career.plan.updated") + " subscribes " + ms("learning"),
		"Gateway/skillmesh/api route " + ms("skills"),
		"Gateway/skillmesh/api aggregation " + ms("learning"),
	} {
		if !edges[want] {
			t.Errorf("no edge %s; edges: %v", want, g.Edges)
		}
	}
	// Two routes to skills make one route edge.
	n := 0
	for _, e := range g.Edges {
		if e.From == "Gateway/skillmesh/api" && e.To == ms("skills") && e.Kind == EdgeRoute {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d route edges from the gateway to skills, want 1", n)
	}
	states := map[string]State{}
	for _, n := range g.Nodes {
		states[n.Name] = n.State
	}
	if states["skills"] != StateReady || states["career"] != StateNotServing || states["learning"] != StateNotReady || states["api"] != StateReady {
		t.Errorf("states %v", states)
	}
}

func TestA_named_Microservice_that_does_not_exist_is_a_Missing_node_across_namespaces(t *testing.T) {
	ms := platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Namespace: "teams", Name: "planner"},
		Spec: platformv1alpha1.MicroserviceSpec{DependsOn: []platformv1alpha1.Dependency{{Name: "catalog", Namespace: "shared"}}}}
	g := Build([]platformv1alpha1.Microservice{ms}, nil)
	if len(g.Nodes) != 2 || g.Nodes[0].ID != "Microservice/shared/catalog" || g.Nodes[0].State != StateMissing {
		t.Fatalf("nodes %+v", g.Nodes)
	}
	var dot bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	// Two namespaces: labels name them; a missing node is dashed.
	for _, want := range []string{`label="shared/catalog\n(Missing)"`, `style="filled,dashed"`, `label="teams/planner\n(NotReady)"`} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot.String())
		}
	}
}

// The SVG is well-formed XML with one node group per node, each naming its
// node, and the call flow goes left to right: the gateway's column before
// the services', a callee's after its caller's.
func TestThe_SVG_parses_and_names_every_node_in_call_order(t *testing.T) {
	g := Build(sampleStack(t))
	var out bytes.Buffer
	if err := g.WriteSVG(&out); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample-stack.svg", out.Bytes())

	type text struct {
		Value string `xml:",chardata"`
	}
	type shape struct {
		X int `xml:"x,attr"`
	}
	type group struct {
		Class string `xml:"class,attr"`
		ID    string `xml:"data-id,attr"`
		Rect  *shape `xml:"rect"`
		Texts []text `xml:"text"`
	}
	var svg struct {
		XMLName xml.Name `xml:"svg"`
		Groups  []group  `xml:"g"`
	}
	if err := xml.Unmarshal(out.Bytes(), &svg); err != nil {
		t.Fatalf("the SVG is not well-formed XML: %v", err)
	}
	named := map[string]group{}
	for _, gr := range svg.Groups {
		if gr.Class == "node" {
			named[gr.ID] = gr
		}
	}
	for _, n := range g.Nodes {
		gr, ok := named[n.ID]
		if !ok || len(gr.Texts) == 0 || !strings.Contains(gr.Texts[0].Value, n.Name) {
			t.Errorf("node %s is not drawn with its name: %+v", n.ID, gr)
		}
	}
	x := func(id string) int { return named[id].Rect.X }
	gw, skills, career, learning := "Gateway/skillmesh/api", "Microservice/skillmesh/skills", "Microservice/skillmesh/career", "Microservice/skillmesh/learning"
	if x(gw) >= x(learning) || x(learning) >= x(career) || x(career) >= x(skills) {
		t.Errorf("columns gateway %d, learning %d, career %d, skills %d: want each caller left of its callee",
			x(gw), x(learning), x(career), x(skills))
	}
}

func TestLayers_end_in_a_cycle(t *testing.T) {
	a := platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: "a"},
		Spec: platformv1alpha1.MicroserviceSpec{DependsOn: []platformv1alpha1.Dependency{{Name: "b"}}}}
	b := platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: "b"},
		Spec: platformv1alpha1.MicroserviceSpec{DependsOn: []platformv1alpha1.Dependency{{Name: "a"}}}}
	g := Build([]platformv1alpha1.Microservice{a, b}, nil)
	for id, l := range g.layers() {
		if l >= len(g.Nodes) {
			t.Errorf("%s in column %d of %d nodes", id, l, len(g.Nodes))
		}
	}
	var out bytes.Buffer
	if err := g.WriteSVG(&out); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(out.Bytes(), new(struct {
		XMLName xml.Name `xml:"svg"`
	})); err != nil {
		t.Fatal(err)
	}
}
