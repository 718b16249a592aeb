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

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// backendIndex indexes Gateways by the Microservices they name.
const backendIndex = "spec.backendServices"

// DefaultGatewayImage runs the bundled gateway.
const DefaultGatewayImage = "skillmesh/services:v0.1.0"

// GatewayReconciler runs the bundled gateway for a Gateway and resolves its
// backends to the Microservices' DNS URLs.
type GatewayReconciler struct {
	client.Client
	Scheme        *runtime.Scheme
	Recorder      events.EventRecorder
	ClusterDomain string
	// Image of the bundled gateway (DefaultGatewayImage when empty).
	Image                   string
	MaxConcurrentReconciles int
	// GatewayAPI says the cluster serves Gateway API HTTPRoutes
	// (GatewayAPIInstalled, asked at start).
	GatewayAPI bool
	// MetricsNamespaces selects the namespaces whose pods may scrape the
	// gateways' /metrics when spec.networkPolicy.allowFrom narrows ingress.
	MetricsNamespaces *metav1.LabelSelector
}

// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=gateways,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=gateways/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=gateways/finalizers,verbs=update
// +kubebuilder:rbac:groups=core,resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete

// Reconcile is the Microservice's shape: get, keep a copy, and in one
// deferred step compute status from what the pass saw and how it ended, and
// patch it once, only if it changed.
func (r *GatewayReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	gw := &platformv1alpha1.Gateway{}
	if err := r.Get(ctx, req.NamespacedName, gw); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	original := gw.DeepCopy()
	obs := gatewayObservation{ClusterDomain: r.ClusterDomain}
	defer func() {
		obs.Outcome = outcomeOf(retErr)
		next := computeGatewayStatus(original, obs)
		if err := patchStatus(ctx, r.Client, r.Recorder, "Gateway", gw, original, &gw.Status, next, gatewayConditions); err != nil {
			retErr = statusPatchFailed(err, retErr)
		}
	}()
	return ctrl.Result{}, r.reconcile(ctx, gw, &obs)
}

// reconcile is one pass; obs collects what it saw for status.
func (r *GatewayReconciler) reconcile(ctx context.Context, gw *platformv1alpha1.Gateway, obs *gatewayObservation) error {
	names := backendServices(gw)
	backends := make(map[string]reference, len(names))
	resolved := make([]reference, 0, len(names))
	for _, name := range names {
		ref, err := resolveReference(ctx, r.Client, r.ClusterDomain, gw.Namespace, name)
		if err != nil {
			return readFailed(fmt.Errorf("resolve backend: %w", err))
		}
		backends[name] = ref
		resolved = append(resolved, ref)
	}
	obs.Backends = resolved
	versions, err := secretVersions(ctx, r.Client, gw.Namespace, gatewaySecrets(gw))
	if err != nil {
		return readFailed(err)
	}
	image := r.Image
	if image == "" {
		image = DefaultGatewayImage
	}
	children, applyErr := renderGateway(gatewayInput{
		Gateway: gw, Backends: backends, SecretVersions: versions, ClusterDomain: r.ClusterDomain, Image: image,
		Graph: graphEdges{Metrics: r.MetricsNamespaces},
	})
	if applyErr != nil {
		// The spec cannot be written as a routes file: no retry can help.
		applyErr = reconcile.TerminalError(fmt.Errorf("render the routes file: %w", applyErr))
	} else {
		obs.ConfigChecked, obs.ConfigErr = true, children.ConfigErr
		obs.GatewayAPI = r.GatewayAPI
		obs.NetworkPolicy = &children.NetworkPolicyCondition
		applyErr = r.applyChildren(ctx, gw, children)
	}
	obs.Workload, err = observeWorkload(ctx, r.Client, client.ObjectKeyFromObject(gw), gatewaySelector(gw))
	return passError(applyErr, err)
}

func (r *GatewayReconciler) applyChildren(ctx context.Context, gw *platformv1alpha1.Gateway, ch gatewayChildren) error {
	s := newChildren(ctx, r.Client, r.Recorder, gw)
	s.applyNetworkPolicy(gw.Name, ch.NetworkPolicy)
	if ch.ConfigErr != nil {
		// Keep the last valid file: the running pods serve it and new pods
		// start on it.
		createIfMissing(s, "ConfigMap", gatewayConfigMapName(gw.Name), &corev1.ConfigMap{}, ch.ConfigMap)
	} else {
		applyChild(s, "ConfigMap", gatewayConfigMapName(gw.Name), &corev1.ConfigMap{}, ch.ConfigMap, corev1ac.ExtractConfigMap)
	}
	s.applyWorkload(gw.Name, ch.workloadChildren)
	if ch.Ingress != nil {
		applyChild(s, "Ingress", gw.Name, &networkingv1.Ingress{}, ch.Ingress, networkingv1ac.ExtractIngress)
	} else {
		s.removeUnwanted("Ingress", gw.Name, &networkingv1.Ingress{})
	}
	// Without the Gateway API there is no HTTPRoute to apply or remove:
	// status says so (Exposed False), and nothing is retried.
	if r.GatewayAPI {
		if ch.HTTPRoute != nil {
			applyChild(s, "HTTPRoute", gw.Name, &gatewayv1.HTTPRoute{}, ch.HTTPRoute, gatewayv1ac.ExtractHTTPRoute)
		} else {
			s.removeUnwanted("HTTPRoute", gw.Name, &gatewayv1.HTTPRoute{})
		}
	}
	return s.done()
}

func gatewayConditions(s *platformv1alpha1.GatewayStatus) []metav1.Condition { return s.Conditions }

// SetupWithManager registers the controller: Gateways, their children, the
// Microservices they name (through the backendServices index) and the
// metadata of the Secrets their pods read.
func (r *GatewayReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	indexer := mgr.GetFieldIndexer()
	if err := indexGatewayBackends(ctx, mgr); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &platformv1alpha1.Gateway{}, secretsIndex, func(o client.Object) []string {
		if gw, ok := o.(*platformv1alpha1.Gateway); ok {
			return gatewaySecrets(gw)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("index %s: %w", secretsIndex, err)
	}
	b := ctrl.NewControllerManagedBy(mgr)
	if r.GatewayAPI {
		b = b.Owns(&gatewayv1.HTTPRoute{})
	}
	return b.
		For(&platformv1alpha1.Gateway{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.ConfigMap{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(ownerOfPod(contract.LabelGateway)),
			builder.WithPredicates(podIssueChanged)).
		Watches(&platformv1alpha1.Microservice{},
			handler.EnqueueRequestsFromMapFunc(r.gatewaysNaming),
			builder.WithPredicates(dependencyChanged)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(usersOfSecret(r.Client, &platformv1alpha1.GatewayList{})),
			builder.OnlyMetadata, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("gateway").
		Complete(r)
}

// gatewaysNaming maps a Microservice to the Gateways of its namespace that name it.
func (r *GatewayReconciler) gatewaysNaming(ctx context.Context, o client.Object) []reconcile.Request {
	var list platformv1alpha1.GatewayList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{backendIndex: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List Gateways naming a Microservice", "Microservice", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, gw := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&gw)})
	}
	return reqs
}
