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
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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
	// Writes: as MicroserviceReconciler.Writes (the two may share one).
	Writes *WriteTracker
}

// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=gateways,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=gateways/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=gateways/finalizers,verbs=update
// +kubebuilder:rbac:groups=core,resources=pods,verbs=get;list;watch

// Reconcile fetches the Gateway, resolves its backends, renders and applies
// its children, and writes status once, only if it changed.
func (r *GatewayReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	gw := &platformv1alpha1.Gateway{}
	if err := r.Get(ctx, req.NamespacedName, gw); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	found := map[string]*platformv1alpha1.Microservice{}
	exists := map[string]bool{}
	for _, name := range backendServices(gw) {
		ms := &platformv1alpha1.Microservice{}
		switch err := r.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: name}, ms); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return ctrl.Result{}, fmt.Errorf("get backend %s: %w", name, err)
		default:
			found[name], exists[name] = ms, true
		}
	}
	image := r.Image
	if image == "" {
		image = DefaultGatewayImage
	}
	children, err := renderGateway(gatewayInput{Gateway: gw, Microservices: found, ClusterDomain: r.ClusterDomain, Image: image})
	applyErr := err
	var result ctrl.Result
	if err == nil {
		result, applyErr = r.applyChildren(ctx, gw, children)
	}
	deployment, issue, err := observeWorkload(ctx, r, client.ObjectKeyFromObject(gw), gatewaySelector(gw))
	if err != nil {
		return ctrl.Result{}, err
	}
	substituted := lastWrittenStatus(r.Writes, gw, &gw.Status)
	status := computeGatewayStatus(gw, gatewayObservation{
		Deployment: deployment, Backends: children.Backends, Found: exists, ApplyErr: applyErr, PodIssue: issue,
		URL: contract.ServiceURL(gw.Name, gw.Namespace, r.ClusterDomain, gatewayPort(gw)),
	})
	countAvoidedStatus(gw, substituted, &gw.Status, status)
	if err := r.writeStatus(ctx, gw, status); err != nil {
		return ctrl.Result{}, errors.Join(applyErr, err)
	}
	return result, applyErr
}

func (r *GatewayReconciler) applyChildren(ctx context.Context, gw *platformv1alpha1.Gateway, ch gatewayChildren) (ctrl.Result, error) {
	set := newChildSet(ctx, r.Client, r.Recorder, gw, r.Writes)
	res, err := applyIfChanged(ctx, r.Client, r.Writes, set.key(gatewayConfigMapName(gw.Name)), &corev1.ConfigMap{}, ch.ConfigMap, corev1ac.ExtractConfigMap)
	set.record("ConfigMap", gatewayConfigMapName(gw.Name), res, err)
	set.applyWorkload(gw.Name, ch.Deployment, ch.Service, ch.HPA, ch.PDB)
	return set.result(), set.err()
}

func (r *GatewayReconciler) writeStatus(ctx context.Context, gw *platformv1alpha1.Gateway, status platformv1alpha1.GatewayStatus) error {
	return patchStatus(ctx, r.Client, r.Recorder, r.Writes, gw, &gw.Status, status,
		func(s *platformv1alpha1.GatewayStatus) []metav1.Condition { return s.Conditions })
}

// SetupWithManager registers the controller: Gateways, their children, and
// the Microservices they name (through the backendServices index).
func (r *GatewayReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &platformv1alpha1.Gateway{}, backendIndex, func(o client.Object) []string {
		gw, ok := o.(*platformv1alpha1.Gateway)
		if !ok {
			return nil
		}
		return backendServices(gw)
	}); err != nil {
		return fmt.Errorf("index %s: %w", backendIndex, err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&platformv1alpha1.Gateway{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.ConfigMap{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(ownerOfPod(contract.LabelGateway)),
			builder.WithPredicates(podIssueChanged)).
		Watches(&platformv1alpha1.Microservice{},
			handler.EnqueueRequestsFromMapFunc(r.gatewaysNaming),
			builder.WithPredicates(dependencyChanged)).
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
