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
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	networkingv1 "k8s.io/api/networking/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// The service graph has two ends on every edge: a Microservice's policy
// admits its callers, and each caller's admits the call. An edge added or
// removed (a dependsOn entry, a Gateway's backend) therefore re-renders the
// policies of both ends: the caller's own reconcile renders its egress, and
// the watches below wake the callee for its ingress, mapping the old object
// as well as the new one so the end of a removed edge hears of it too.

// indexed remembers the managers whose field indexes are registered: both
// controllers read the Gateway backends index, and registering one twice
// is an error.
var indexed sync.Map // manager.Manager → *sync.Once

// indexGatewayBackends registers backendIndex once per manager.
func indexGatewayBackends(ctx context.Context, mgr ctrl.Manager) error {
	once, _ := indexed.LoadOrStore(mgr, &sync.Once{})
	var err error
	once.(*sync.Once).Do(func() {
		err = mgr.GetFieldIndexer().IndexField(ctx, &platformv1alpha1.Gateway{}, backendIndex, func(o client.Object) []string {
			if gw, ok := o.(*platformv1alpha1.Gateway); ok {
				return backendServices(gw)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("index %s: %w", backendIndex, err)
	}
	return nil
}

// graphAround gathers the edges of ms's NetworkPolicy from the cache: the
// Microservices that depend on it (any namespace), the Gateways of its
// namespace that route or aggregate to it, and the Services its broker and
// database URLs name.
func (r *MicroserviceReconciler) graphAround(ctx context.Context, ms *platformv1alpha1.Microservice, versions map[string]string) (graphEdges, error) {
	g := graphEdges{Metrics: r.MetricsNamespaces}
	var dependents platformv1alpha1.MicroserviceList
	if err := r.List(ctx, &dependents, client.MatchingFields{dependsOnIndex: ms.Namespace + "/" + ms.Name}); err != nil {
		return g, readFailed(fmt.Errorf("list dependents: %w", err))
	}
	for _, d := range dependents.Items {
		g.Callers = append(g.Callers, microservicePods(d.Namespace, d.Name, portOf(&d)))
	}
	var gateways platformv1alpha1.GatewayList
	if err := r.List(ctx, &gateways, client.InNamespace(ms.Namespace), client.MatchingFields{backendIndex: ms.Name}); err != nil {
		return g, readFailed(fmt.Errorf("list Gateways: %w", err))
	}
	for _, gw := range gateways.Items {
		g.Callers = append(g.Callers, gatewayPods(gw.Namespace, gw.Name))
	}
	// The cache lists in no fixed order; the policy must not change with it.
	slices.SortFunc(g.Callers, func(a, b pods) int {
		return strings.Compare(a.Kind+"/"+a.Namespace+"/"+a.Name, b.Kind+"/"+b.Namespace+"/"+b.Name)
	})
	for i := range g.Callers {
		g.Callers[i].Ports = nil // an ingress edge is on the callee's port
	}
	eps, err := r.endpoints.resolve(ctx, client.ObjectKeyFromObject(ms), microserviceSecretURLs(ms), versions)
	if err != nil {
		return g, err
	}
	g.Endpoints = eps
	return g, nil
}

// dependencyRequests maps a Microservice to those it depends on: their
// policies admit it.
func dependencyRequests(_ context.Context, o client.Object) []reconcile.Request {
	ms, ok := o.(*platformv1alpha1.Microservice)
	if !ok {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(ms.Spec.DependsOn))
	for _, d := range ms.Spec.DependsOn {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: dependencyNamespace(ms, d), Name: d.Name}})
	}
	return reqs
}

// backendRequests maps a Gateway to the Microservices it names: their policies
// admit it.
func backendRequests(_ context.Context, o client.Object) []reconcile.Request {
	gw, ok := o.(*platformv1alpha1.Gateway)
	if !ok {
		return nil
	}
	names := backendServices(gw)
	reqs := make([]reconcile.Request, 0, len(names))
	for _, name := range names {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: gw.Namespace, Name: name}})
	}
	return reqs
}

// applyNetworkPolicy applies the owner's policy, or removes it when none
// is wanted (spec.networkPolicy.enforce false).
func (s *children) applyNetworkPolicy(name string, np *networkingv1ac.NetworkPolicyApplyConfiguration) {
	if np != nil {
		applyChild(s, "NetworkPolicy", name, &networkingv1.NetworkPolicy{}, np, networkingv1ac.ExtractNetworkPolicy)
		return
	}
	s.removeUnwanted("NetworkPolicy", name, &networkingv1.NetworkPolicy{})
}
