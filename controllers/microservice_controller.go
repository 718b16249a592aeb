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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// dependsOnIndex indexes Microservices by the namespace/name of each entry
// of spec.dependsOn, so a change to one Microservice finds its dependents,
// in any namespace, without a full list.
const dependsOnIndex = "spec.dependsOn"

// MicroserviceReconciler keeps a Microservice's children as its spec says and
// reports what it observes.
type MicroserviceReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// ClusterDomain is the DNS suffix of Services (cluster.local by default).
	ClusterDomain string
	// MaxConcurrentReconciles bounds parallel reconciles; 0 means 1.
	MaxConcurrentReconciles int
	// APIReader reads, uncached, the one thing the cache must not hold:
	// the value of a Secret that holds a broker or database URL, of which
	// only host and port are kept (for the NetworkPolicy's egress). The
	// manager's API reader when nil.
	APIReader client.Reader
	// MetricsNamespaces selects the namespaces whose pods may scrape the
	// Microservices' /metrics (--metrics-namespace-selector); nil: none
	// beyond the graph.
	MetricsNamespaces *metav1.LabelSelector

	endpoints *endpointResolver
}

// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=microservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=microservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=microservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=core,resources=services;configmaps;persistentvolumeclaims,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=core,resources=pods,verbs=get;list;watch
// Secrets are watched as metadata only (PartialObjectMetadata); the value of
// the Secret keys that hold a broker or database URL is read with a GET when
// their version changes, and only its host and port are kept.
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch

// Reconcile gets the Microservice, keeps a copy, and in one deferred step
// computes status from what the pass observed and how it ended and patches
// it once, only if it changed. The pass itself resolves the dependencies and
// Secret versions, renders the children and applies those that differ.
func (r *MicroserviceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	ms := &platformv1alpha1.Microservice{}
	if err := r.Get(ctx, req.NamespacedName, ms); err != nil {
		if apierrors.IsNotFound(err) {
			r.endpoints.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ms.DeletionTimestamp.IsZero() {
		// Owner references hand the children to the garbage collector.
		r.endpoints.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	original := ms.DeepCopy()
	obs := microserviceObservation{ClusterDomain: r.ClusterDomain}
	defer func() {
		obs.Outcome = outcomeOf(retErr)
		next := computeMicroserviceStatus(original, obs)
		if err := patchStatus(ctx, r.Client, r.Recorder, "Microservice", ms, original, &ms.Status, next, microserviceConditions); err != nil {
			retErr = statusPatchFailed(err, retErr)
		}
	}()
	return ctrl.Result{}, r.reconcile(ctx, ms, &obs)
}

// reconcile is one pass; obs collects what it saw for status.
func (r *MicroserviceReconciler) reconcile(ctx context.Context, ms *platformv1alpha1.Microservice, obs *microserviceObservation) error {
	deps, err := r.resolveDependencies(ctx, ms)
	if err != nil {
		return readFailed(err)
	}
	obs.Dependencies = deps
	versions, err := secretVersions(ctx, r.Client, ms.Namespace, microserviceSecrets(ms))
	if err != nil {
		return readFailed(err)
	}
	graph, err := r.graphAround(ctx, ms, versions)
	if err != nil {
		return err
	}
	children := renderMicroservice(microserviceInput{
		Microservice: ms, Dependencies: deps, SecretVersions: versions, ClusterDomain: r.ClusterDomain,
		Graph: graph,
	})
	obs.ConfigHash = children.ConfigHash
	if !ms.Spec.Paused {
		obs.NetworkPolicy = &children.NetworkPolicyCondition
	}

	var applyErr error
	if !ms.Spec.Paused {
		applyErr = r.applyChildren(ctx, ms, children)
	}
	obs.Workload, err = observeWorkload(ctx, r.Client, client.ObjectKeyFromObject(ms), selectorLabels(ms))
	return passError(applyErr, err)
}

// resolveDependencies resolves every spec.dependsOn entry, in order.
func (r *MicroserviceReconciler) resolveDependencies(ctx context.Context, ms *platformv1alpha1.Microservice) ([]reference, error) {
	refs := make([]reference, 0, len(ms.Spec.DependsOn))
	for _, d := range ms.Spec.DependsOn {
		ref, err := resolveReference(ctx, r.Client, r.ClusterDomain, dependencyNamespace(ms, d), d.Name)
		if err != nil {
			return nil, fmt.Errorf("resolve dependency: %w", err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// applyChildren applies every desired child and removes optional ones the
// spec no longer asks for. The ConfigMap and the volume go first so new pods
// never start without them. The claim is never removed while the
// Microservice lives: it holds data.
func (r *MicroserviceReconciler) applyChildren(ctx context.Context, ms *platformv1alpha1.Microservice, ch microserviceChildren) error {
	s := newChildren(ctx, r.Client, r.Recorder, ms)
	// The policy goes before the pods, which then never run unrestricted.
	s.applyNetworkPolicy(ms.Name, ch.NetworkPolicy)
	applyChild(s, "ConfigMap", configMapName(ms.Name), &corev1.ConfigMap{}, ch.ConfigMap, corev1ac.ExtractConfigMap)
	if ch.PVC != nil {
		applyChild(s, "PersistentVolumeClaim", dataClaimName(ms.Name), &corev1.PersistentVolumeClaim{}, ch.PVC, corev1ac.ExtractPersistentVolumeClaim)
	}
	s.applyWorkload(ms.Name, ch.workloadChildren)
	return s.done()
}

func microserviceConditions(s *platformv1alpha1.MicroserviceStatus) []metav1.Condition {
	return s.Conditions
}

// SetupWithManager registers the controller: it watches Microservices, every
// child it owns (so edits and deletions are undone), the Microservices others
// depend on (so readiness flows along spec.dependsOn, across namespaces), and
// the metadata of the Secrets the pods read (so a rotated Secret rolls them).
func (r *MicroserviceReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.endpoints = newEndpointResolver(r.APIReader, r.Client, r.ClusterDomain)
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &platformv1alpha1.Microservice{}, dependsOnIndex, dependsOnKeys); err != nil {
		return fmt.Errorf("index %s: %w", dependsOnIndex, err)
	}
	if err := indexGatewayBackends(ctx, mgr); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &platformv1alpha1.Microservice{}, secretsIndex, func(o client.Object) []string {
		if ms, ok := o.(*platformv1alpha1.Microservice); ok {
			return microserviceSecrets(ms)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("index %s: %w", secretsIndex, err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		// Our own status writes bump no generation, so they do not wake us.
		For(&platformv1alpha1.Microservice{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.NetworkPolicy{}).
		// Pods only for a stuck container or an unschedulable pod, whose
		// reason the Deployment does not carry.
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(ownerOfPod(contract.LabelMicroservice)),
			builder.WithPredicates(podIssueChanged)).
		Watches(&platformv1alpha1.Microservice{},
			handler.EnqueueRequestsFromMapFunc(r.dependentsOf),
			builder.WithPredicates(dependencyChanged)).
		// The other end of each edge: a caller's dependsOn or a Gateway's
		// backends changed, so the callees' ingress does (graph.go).
		Watches(&platformv1alpha1.Microservice{}, handler.EnqueueRequestsFromMapFunc(dependencyRequests),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&platformv1alpha1.Gateway{}, handler.EnqueueRequestsFromMapFunc(backendRequests),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// The Services a broker or database URL names: their selector is
		// the egress rule's.
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(r.endpoints.usersOf),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(usersOfSecret(r.Client, &platformv1alpha1.MicroserviceList{})),
			builder.OnlyMetadata, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("microservice").
		Complete(r)
}

// dependsOnKeys are the index keys of a Microservice: namespace/name of each
// dependency.
func dependsOnKeys(o client.Object) []string {
	ms, ok := o.(*platformv1alpha1.Microservice)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(ms.Spec.DependsOn))
	for _, d := range ms.Spec.DependsOn {
		keys = append(keys, dependencyNamespace(ms, d)+"/"+d.Name)
	}
	return keys
}

// dependentsOf maps a Microservice to those, in any namespace, that depend on it.
func (r *MicroserviceReconciler) dependentsOf(ctx context.Context, o client.Object) []reconcile.Request {
	var list platformv1alpha1.MicroserviceList
	if err := r.List(ctx, &list, client.MatchingFields{dependsOnIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List dependents", "Microservice", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, d := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&d)})
	}
	return reqs
}

// dependencyChanged passes what a dependent cares about: a dependency coming,
// going, changing its spec (its port is in the dependent's URL), or changing
// whether it serves (Ready with a ready pod).
var dependencyChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		oldMS, okOld := e.ObjectOld.(*platformv1alpha1.Microservice)
		newMS, okNew := e.ObjectNew.(*platformv1alpha1.Microservice)
		if !okOld || !okNew {
			return false
		}
		return oldMS.Generation != newMS.Generation || isServing(oldMS) != isServing(newMS)
	},
}
