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
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// gatewayObservation is what a Gateway pass saw and how it ended.
type gatewayObservation struct {
	// NetworkPolicy is what the pass rendered of the policy; nil when it
	// ended before (the condition keeps what it said).
	NetworkPolicy *metav1.Condition
	Workload      workloadObservation
	// Backends are the Microservices the Gateway names, resolved, in name
	// order; nil when the pass ended before it resolved them.
	Backends      []reference
	Outcome       outcome
	ClusterDomain string
	// ConfigChecked: the pass rendered the routes file and checked it;
	// ConfigErr is what the gateway would refuse in it.
	ConfigChecked bool
	ConfigErr     error
	// GatewayAPI: the cluster serves HTTPRoutes (set with ConfigChecked).
	GatewayAPI bool
}

// computeGatewayStatus derives the Gateway's status from an observation; its
// conditions mean what they mean for a Microservice.
func computeGatewayStatus(gw *platformv1alpha1.Gateway, obs gatewayObservation) platformv1alpha1.GatewayStatus {
	st := *gw.Status.DeepCopy()
	st.URL = contract.ServiceURL(gw.Name, gw.Namespace, obs.ClusterDomain, gatewayPort(gw))
	if gw.Spec.TLS != nil {
		st.URL = "https" + strings.TrimPrefix(st.URL, "http")
	}
	resolved := obs.Backends != nil || len(backendServices(gw)) == 0
	if resolved {
		st.Backends = backendStatuses(obs.Backends)
	}
	var desired int32
	st.Replicas, st.ReadyReplicas, desired = replicaCounts(obs.Workload.Deployment, ptr.Deref(gw.Spec.Replicas, 1), gw.Spec.Autoscaling != nil)
	st.Ready = fmt.Sprintf("%d/%d", st.ReadyReplicas, desired)
	refs := referencesCondition(obs.Backends, gw.Namespace, backendVocabulary)
	if !resolved {
		refs = unknownReferences(backendVocabulary)
	}
	in := statusInput{
		Generation: gw.Generation,
		Workload:   obs.Workload,
		Desired:    desired,
		References: refs,
		Outcome:    obs.Outcome,
		Ready:      st.Ready,
	}
	if obs.ConfigChecked {
		// Unchecked (the pass ended before it rendered), ConfigValid keeps
		// what the last check said, with that check's generation.
		in.Extra = []metav1.Condition{configValidCondition(obs.ConfigErr)}
		if gw.Spec.Expose != nil {
			in.Extra = append(in.Extra, exposedCondition(gw.Spec.Expose, obs.GatewayAPI))
		} else {
			meta.RemoveStatusCondition(&st.Conditions, platformv1alpha1.ConditionExposed)
		}
		if obs.NetworkPolicy != nil {
			in.Extra = append(in.Extra, *obs.NetworkPolicy)
		}
		if obs.ConfigErr != nil {
			in.Outcome.Invalid = fmt.Errorf("%s: %w", refusedFileMessage, obs.ConfigErr)
		}
	}
	setConditions(&st.Conditions, in)
	if obs.Outcome.complete() {
		st.ObservedGeneration = gw.Generation
	}
	return st
}

// exposedCondition says whether the way in that spec.expose asks for is
// there. It does not make the Gateway unready: in-cluster callers are served
// either way.
func exposedCondition(e *platformv1alpha1.Expose, gatewayAPI bool) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionExposed, Status: metav1.ConditionTrue, Reason: platformv1alpha1.ReasonExposed}
	if e.HTTPRoute != nil && !gatewayAPI {
		c.Status, c.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonGatewayAPINotInstalled
		c.Message = "spec.expose.httpRoute needs the Gateway API (gateway.networking.k8s.io/v1 HTTPRoute), which this cluster does not serve: " +
			"install its CRDs, then restart the operator"
		return c
	}
	var ways []string
	if e.HTTPRoute != nil {
		ways = append(ways, "an HTTPRoute")
	}
	if e.Ingress != nil {
		ways = append(ways, "an Ingress")
	}
	if len(ways) == 0 {
		c.Message = "spec.expose asks for no HTTPRoute or Ingress"
		return c
	}
	c.Message = "Exposed through " + strings.Join(ways, " and ")
	return c
}

const refusedFileMessage = "The gateway would refuse the routes file (its pods keep the last valid one)"

// configValidCondition says whether the gateway would accept the routes file
// the spec renders, and if not, where and why.
func configValidCondition(err error) metav1.Condition {
	c := metav1.Condition{Type: platformv1alpha1.ConditionConfigValid, Status: metav1.ConditionTrue,
		Reason: platformv1alpha1.ReasonConfigValid, Message: "The gateway accepts the routes and aggregations"}
	if err != nil {
		c.Status, c.Reason = metav1.ConditionFalse, platformv1alpha1.ReasonInvalidConfig
		c.Message = refusedFileMessage + ": " + err.Error()
	}
	return c
}

func backendStatuses(refs []reference) []platformv1alpha1.BackendStatus {
	out := make([]platformv1alpha1.BackendStatus, 0, len(refs))
	for _, r := range refs {
		out = append(out, platformv1alpha1.BackendStatus{Service: r.Name, URL: r.URL(), Ready: r.Serving})
	}
	return out
}
