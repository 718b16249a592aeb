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
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// dependsOnIndex indexes Microservices by the names in spec.dependsOn, so a
// change to one Microservice finds its dependents without a full list.
const dependsOnIndex = "spec.dependsOn.name"

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
	// Writes remembers the operator's last writes, to avoid (or only count)
	// those a cache not yet holding them would repeat; nil tracks nothing.
	Writes *WriteTracker
}

// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=microservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=microservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.skillmesh.dev,resources=microservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=core,resources=services;configmaps;persistentvolumeclaims,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=core,resources=pods,verbs=get;list;watch

// Reconcile fetches the Microservice, renders its children, applies those
// that differ from what runs, and writes status once, only if it changed.
func (r *MicroserviceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ms := &platformv1alpha1.Microservice{}
	if err := r.Get(ctx, req.NamespacedName, ms); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ms.DeletionTimestamp.IsZero() {
		// Owner references hand the children to the garbage collector.
		return ctrl.Result{}, nil
	}

	found, depStatus, err := r.observeDependencies(ctx, ms)
	if err != nil {
		return ctrl.Result{}, err
	}
	children := renderMicroservice(microserviceInput{Microservice: ms, Dependencies: found, ClusterDomain: r.ClusterDomain})

	var (
		applyErr error
		result   ctrl.Result
	)
	if !ms.Spec.Paused {
		result, applyErr = r.applyChildren(ctx, ms, children)
	}

	deployment, issue, err := observeWorkload(ctx, r, client.ObjectKeyFromObject(ms), selectorLabels(ms))
	if err != nil {
		return ctrl.Result{}, err
	}
	substituted := lastWrittenStatus(r.Writes, ms, &ms.Status)
	status := computeMicroserviceStatus(ms, microserviceObservation{
		Deployment:   deployment,
		Dependencies: depStatus,
		ApplyErr:     applyErr,
		PodIssue:     issue,
		URL:          microserviceURL(ms, r.ClusterDomain),
		ConfigHash:   children.ConfigHash,
	})
	countAvoidedStatus(ms, substituted, &ms.Status, status)
	if err := r.writeStatus(ctx, ms, status); err != nil {
		return ctrl.Result{}, errors.Join(applyErr, err)
	}
	return result, applyErr
}

// observeDependencies looks up every spec.dependsOn entry in the cache.
func (r *MicroserviceReconciler) observeDependencies(ctx context.Context, ms *platformv1alpha1.Microservice) (
	map[string]*platformv1alpha1.Microservice, []platformv1alpha1.DependencyStatus, error,
) {
	found := make(map[string]*platformv1alpha1.Microservice, len(ms.Spec.DependsOn))
	status := make([]platformv1alpha1.DependencyStatus, 0, len(ms.Spec.DependsOn))
	for _, d := range ms.Spec.DependsOn {
		dep := &platformv1alpha1.Microservice{}
		err := r.Get(ctx, client.ObjectKey{Namespace: ms.Namespace, Name: d.Name}, dep)
		switch {
		case apierrors.IsNotFound(err):
			status = append(status, platformv1alpha1.DependencyStatus{Name: d.Name})
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("get dependency %s: %w", d.Name, err)
		}
		found[d.Name] = dep
		status = append(status, platformv1alpha1.DependencyStatus{
			Name:  d.Name,
			URL:   microserviceURL(dep, r.ClusterDomain),
			Found: true,
			Ready: isServing(dep),
		})
	}
	return found, status, nil
}

// applyChildren applies every desired child and removes optional ones the
// spec no longer asks for. The PVC is never removed while the Microservice
// lives: it holds data, and only the garbage collector takes it, with its owner.
func (r *MicroserviceReconciler) applyChildren(ctx context.Context, ms *platformv1alpha1.Microservice, ch microserviceChildren) (
	ctrl.Result, error,
) {
	set := newChildSet(ctx, r.Client, r.Recorder, ms, r.Writes)
	// The ConfigMap and the volume go first so new pods never start without them.
	res, err := applyIfChanged(ctx, r.Client, r.Writes, set.key(configMapName(ms.Name)), &corev1.ConfigMap{}, ch.ConfigMap, corev1ac.ExtractConfigMap)
	set.record("ConfigMap", configMapName(ms.Name), res, err)
	if ch.PVC != nil {
		res, err = applyIfChanged(ctx, r.Client, r.Writes, set.key(dataClaimName(ms.Name)), &corev1.PersistentVolumeClaim{}, ch.PVC, corev1ac.ExtractPersistentVolumeClaim)
		set.record("PersistentVolumeClaim", dataClaimName(ms.Name), res, err)
	}
	set.applyWorkload(ms.Name, ch.Deployment, ch.Service, ch.HPA, ch.PDB)
	return set.result(), set.err()
}

// writeStatus patches status only when it changed, and tells a person, by
// an Event, when readiness changed.
func (r *MicroserviceReconciler) writeStatus(ctx context.Context, ms *platformv1alpha1.Microservice, status platformv1alpha1.MicroserviceStatus) error {
	return patchStatus(ctx, r.Client, r.Recorder, r.Writes, ms, &ms.Status, status,
		func(s *platformv1alpha1.MicroserviceStatus) []metav1.Condition { return s.Conditions })
}

// SetupWithManager registers the controller: it watches Microservices, every
// child it owns (so edits and deletions are undone), and the Microservices
// others depend on (so readiness flows along spec.dependsOn).
func (r *MicroserviceReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &platformv1alpha1.Microservice{}, dependsOnIndex, dependsOnNames); err != nil {
		return fmt.Errorf("index %s: %w", dependsOnIndex, err)
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
		// Pods only for a stuck container or an unschedulable pod, whose
		// reason the Deployment does not carry.
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(ownerOfPod(contract.LabelMicroservice)),
			builder.WithPredicates(podIssueChanged)).
		Watches(&platformv1alpha1.Microservice{},
			handler.EnqueueRequestsFromMapFunc(r.dependentsOf),
			builder.WithPredicates(dependencyChanged)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("microservice").
		Complete(r)
}

func dependsOnNames(o client.Object) []string {
	ms, ok := o.(*platformv1alpha1.Microservice)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(ms.Spec.DependsOn))
	for _, d := range ms.Spec.DependsOn {
		names = append(names, d.Name)
	}
	return names
}

// dependentsOf maps a Microservice to those in its namespace that depend on it.
func (r *MicroserviceReconciler) dependentsOf(ctx context.Context, o client.Object) []reconcile.Request {
	var list platformv1alpha1.MicroserviceList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{dependsOnIndex: o.GetName()}); err != nil {
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
