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
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// GatewayAPIInstalled reports whether the cluster serves
// gateway.networking.k8s.io/v1 HTTPRoutes. The operator asks once, at
// start: it watches HTTPRoutes only when they exist (a watch on a kind the
// server lacks would fail the cache), and says in status when a Gateway asks
// for one the cluster cannot have. Installing the CRDs later needs a restart
// of the operator, as for cert-manager's Gateway API support.
func GatewayAPIInstalled(cfg *rest.Config) (bool, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("discovery client: %w", err)
	}
	list, err := dc.ServerResourcesForGroupVersion(gatewayv1.GroupVersion.String())
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("discover %s: %w", gatewayv1.GroupVersion, err)
	}
	return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "httproutes" }), nil
}

// gatewayHTTPRoute is spec.expose.httpRoute: every path of its hostnames,
// from the parent Gateways' listeners, to the gateway's Service.
func gatewayHTTPRoute(gw *platformv1alpha1.Gateway) *gatewayv1ac.HTTPRouteApplyConfiguration {
	if gw.Spec.Expose == nil || gw.Spec.Expose.HTTPRoute == nil {
		return nil
	}
	hr := gw.Spec.Expose.HTTPRoute
	spec := gatewayv1ac.HTTPRouteSpec()
	for _, p := range hr.ParentRefs {
		ref := gatewayv1ac.ParentReference().WithName(gatewayv1.ObjectName(p.Name))
		if p.Group != "" {
			ref.WithGroup(gatewayv1.Group(p.Group))
		}
		if p.Kind != "" {
			ref.WithKind(gatewayv1.Kind(p.Kind))
		}
		if p.Namespace != "" {
			ref.WithNamespace(gatewayv1.Namespace(p.Namespace))
		}
		if p.SectionName != "" {
			ref.WithSectionName(gatewayv1.SectionName(p.SectionName))
		}
		if p.Port != nil {
			ref.WithPort(*p.Port)
		}
		spec.WithParentRefs(ref)
	}
	for _, h := range hr.Hostnames {
		spec.WithHostnames(gatewayv1.Hostname(h))
	}
	spec.WithRules(gatewayv1ac.HTTPRouteRule().WithBackendRefs(gatewayv1ac.HTTPBackendRef().
		WithName(gatewayv1.ObjectName(gw.Name)).WithPort(gatewayPort(gw))))
	return gatewayv1ac.HTTPRoute(gw.Name, gw.Namespace).WithLabels(gatewayLabels(gw)).WithOwnerReferences(gatewayOwner(gw)).WithSpec(spec)
}
