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
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Geometry of the SVG drawing, in pixels.
const (
	minNodeWidth = 150
	charWidth    = 7 // of the 13 px sans-serif label, near enough
	nodeHeight   = 48
	layerGap     = 80 // between the right edge of one column and the next
	rowGap       = 40 // between two nodes of a column
	margin       = 24
)

func isCall(k EdgeKind) bool { return k == EdgeDependsOn || k == EdgeRoute || k == EdgeAggregation }

// layers places every Microservice and Gateway in a column: one past the
// furthest caller, so calls go left to right (the gateway first); a cycle
// cannot push a node past the number of nodes. A topic goes in its first
// publisher's column, below the services: events are a second kind of
// edge, drawn dotted, and do not order the columns. Empty columns close up.
func (g Graph) layers() map[string]int {
	layer := make(map[string]int, len(g.Nodes))
	for _, n := range g.Nodes {
		layer[n.ID] = 0
	}
	for range g.Nodes {
		changed := false
		for _, e := range g.Edges {
			if next := layer[e.From] + 1; isCall(e.Kind) && next > layer[e.To] && next < len(g.Nodes) {
				layer[e.To], changed = next, true
			}
		}
		if !changed {
			break
		}
	}
	for _, n := range g.Nodes {
		if n.Kind != KindTopic {
			continue
		}
		first := -1
		for _, e := range g.Edges {
			if e.To == n.ID && e.Kind == EdgePublishes && (first < 0 || layer[e.From] < first) {
				first = layer[e.From]
			}
		}
		layer[n.ID] = max(first, 0)
	}
	var used []int
	for _, l := range layer {
		if !slices.Contains(used, l) {
			used = append(used, l)
		}
	}
	slices.Sort(used)
	for id, l := range layer {
		layer[id] = slices.Index(used, l)
	}
	return layer
}

// box is a node's place: top-left corner and width.
type box struct{ x, y, w int }

func (b box) midY() int { return b.y + nodeHeight/2 }

func (g Graph) boxes() (map[string]box, int, int) {
	layer := g.layers()
	widths := map[int]int{}
	for _, n := range g.Nodes {
		for l := range strings.SplitSeq(g.label(n), "\n") {
			widths[layer[n.ID]] = max(widths[layer[n.ID]], minNodeWidth, len(l)*charWidth+24)
		}
	}
	xs := map[int]int{}
	x := margin
	for l := 0; l <= len(g.Nodes); l++ {
		if w, ok := widths[l]; ok {
			xs[l] = x
			x += w + layerGap
		}
	}
	rows := map[int]int{}
	out := make(map[string]box, len(g.Nodes))
	width, height := 0, 0
	// Services first, then topics, each sorted by ID: a stable drawing.
	for _, topics := range []bool{false, true} {
		for _, n := range g.Nodes {
			if (n.Kind == KindTopic) != topics {
				continue
			}
			l := layer[n.ID]
			b := box{x: xs[l], y: margin + 16 + rows[l]*(nodeHeight+rowGap), w: widths[l]}
			rows[l]++
			out[n.ID] = b
			width, height = max(width, b.x+b.w+margin), max(height, b.y+nodeHeight+margin)
		}
	}
	return out, width, height
}

// WriteSVG draws the graph as a standalone SVG: Microservices and Gateways
// in columns by the call flow, topics below their publishers, coloured by
// state as in DOT; calls as arrows (bold for routes, dashed for
// aggregation backends), events dotted, each labelled by its kinds. It
// needs nothing installed.
func (g Graph) WriteSVG(w io.Writer) error {
	boxes, width, height := g.boxes()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n",
		width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
		`<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	for _, e := range g.mergedEdges() {
		b.WriteString(edgeSVG(e, boxes[e.From], boxes[e.To]))
	}
	for _, n := range g.Nodes {
		b.WriteString(g.nodeSVG(n, boxes[n.ID]))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawnEdge is every edge between two nodes, drawn once.
type drawnEdge struct {
	From, To string
	Kinds    []EdgeKind
}

func (g Graph) mergedEdges() []drawnEdge {
	var out []drawnEdge
	for _, e := range g.Edges { // sorted by From, To: pairs are adjacent
		if n := len(out); n > 0 && out[n-1].From == e.From && out[n-1].To == e.To {
			out[n-1].Kinds = append(out[n-1].Kinds, e.Kind)
			continue
		}
		out = append(out, drawnEdge{From: e.From, To: e.To, Kinds: []EdgeKind{e.Kind}})
	}
	return out
}

// edgeSVG is one arrow: a curve that bows above the nodes between its ends
// when it skips columns, so it never crosses a box it does not touch.
func edgeSVG(e drawnEdge, from, to box) string {
	x1, y1, x2, y2 := from.x+from.w, from.midY(), to.x, to.midY()
	switch {
	case to.x == from.x && to.y > from.y: // a topic below its publisher
		x1, y1, x2, y2 = from.x+from.w/2, from.y+nodeHeight, to.x+to.w/2, to.y
	case to.x < from.x: // back to the left (a topic's subscriber): into its bottom
		x1, x2, y2 = from.x, to.x+to.w/2, to.y+nodeHeight
	}
	cx1, cy1, cx2, cy2 := (x1+x2)/2, y1, (x1+x2)/2, y2
	if span := x2 - x1; span > layerGap+20 && y1 == y2 {
		lift := min(span/6, 60)
		cy1, cy2 = y1-lift, y2-lift
	}
	kinds := make([]string, len(e.Kinds))
	dash, strokeWidth := "", 1.4
	for i, k := range e.Kinds {
		kinds[i] = string(k)
		switch k {
		case EdgeRoute:
			strokeWidth = 2.4
		case EdgeAggregation:
			if len(e.Kinds) == 1 {
				dash = ` stroke-dasharray="6 4"`
			}
		case EdgePublishes, EdgeSubscribes:
			dash = ` stroke-dasharray="2 3"`
		}
	}
	label := strings.Join(kinds, ", ")
	lx, ly := (x1+x2)/2, (y1+cy1+cy2+y2)/4-4
	return fmt.Sprintf(`<g class="edge" data-kind="%s"><path d="M %d %d C %d %d, %d %d, %d %d" fill="none" stroke="#555" stroke-width="%.1f"%s marker-end="url(#arrow)"/>`+
		`<text x="%d" y="%d" font-size="10" fill="#444" text-anchor="middle">%s</text></g>`+"\n",
		escape(label), x1, y1, cx1, cy1, cx2, cy2, x2, y2, strokeWidth, dash, lx, ly, escape(label))
}

func (g Graph) nodeSVG(n Node, p box) string {
	var b strings.Builder
	stroke := `stroke="#555"`
	if n.State == StateMissing {
		stroke += ` stroke-dasharray="4 4"`
	}
	fmt.Fprintf(&b, `<g class="node" data-kind="%s" data-state="%s" data-id="%s">`, n.Kind, n.State, escape(n.ID))
	switch n.Kind {
	case KindTopic:
		fmt.Fprintf(&b, `<ellipse cx="%d" cy="%d" rx="%d" ry="%d" fill="%s" %s/>`, p.x+p.w/2, p.midY(), p.w/2, nodeHeight/2, fill[n.State], stroke)
	default:
		rx := 6
		if n.Kind == KindGateway {
			rx = 18
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" %s/>`, p.x, p.y, p.w, nodeHeight, rx, fill[n.State], stroke)
	}
	lines := strings.Split(g.label(n), "\n")
	for i, l := range lines {
		y := p.midY() + 5 + (i*2-(len(lines)-1))*8
		weight := ""
		if i == 0 {
			weight = ` font-weight="bold"`
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle"%s>%s</text>`, p.x+p.w/2, y, weight, escape(l))
	}
	b.WriteString("</g>\n")
	return b.String()
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
