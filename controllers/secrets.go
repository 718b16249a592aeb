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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// secretsIndex indexes Microservices and Gateways by the Secrets their pods
// read, so a changed Secret finds the objects to roll without a full list.
const secretsIndex = "spec.secretNames"

var secretGVK = corev1.SchemeGroupVersion.WithKind("Secret")

// secretMetadata is the metadata-only form of a Secret. The operator reads
// Secrets only this way (a PartialObjectMetadata watch): their values never
// reach its memory, its cache or its logs, and the resourceVersion, which
// moves with every change of the data, is all a rollout needs.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(secretGVK)
	return m
}

// podOptionSecrets are the Secrets the user's env entries read
// (env[].valueFrom.secretKeyRef). Secret volumes are left out: the kubelet
// updates their files in place, no rollout needed.
func podOptionSecrets(o platformv1alpha1.PodOptions) []string {
	var names []string
	for _, e := range o.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			names = append(names, e.ValueFrom.SecretKeyRef.Name)
		}
	}
	return names
}

// microserviceSecrets are the Secrets a Microservice's pods read in their
// environment, sorted, once each: secretRefs, env, database and events.
func microserviceSecrets(ms *platformv1alpha1.Microservice) []string {
	names := podOptionSecrets(ms.Spec.PodOptions)
	for _, r := range ms.Spec.SecretRefs {
		names = append(names, r.Name)
	}
	if db := ms.Spec.Database; db != nil && db.URLSecretRef != nil {
		names = append(names, db.URLSecretRef.Name)
	}
	if ev := ms.Spec.Events; ev != nil {
		names = append(names, ev.BrokerSecretRef.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// gatewaySecrets are the Secrets a Gateway's pods read in their environment.
func gatewaySecrets(gw *platformv1alpha1.Gateway) []string {
	names := podOptionSecrets(gw.Spec.PodOptions)
	slices.Sort(names)
	return slices.Compact(names)
}

// secretVersions reads the metadata of each named Secret of the namespace:
// name → uid/resourceVersion, or "absent" for one that does not exist (the
// kubelet then reports CreateContainerConfigError, and its creation rolls
// the pods again).
func secretVersions(ctx context.Context, c client.Reader, namespace string, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		m := secretMetadata()
		switch err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, m); {
		case apierrors.IsNotFound(err):
			out[name] = "absent"
		case err != nil:
			return nil, fmt.Errorf("get metadata of Secret %s: %w", name, err)
		default:
			out[name] = string(m.UID) + "/" + m.ResourceVersion
		}
	}
	return out, nil
}

// usersOfSecret maps a Secret (its metadata) to the objects of list's kind in
// its namespace whose pods read it, through secretsIndex.
func usersOfSecret(c client.Reader, list client.ObjectList) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		users, ok := list.DeepCopyObject().(client.ObjectList)
		if !ok {
			return nil
		}
		if err := c.List(ctx, users, client.InNamespace(o.GetNamespace()), client.MatchingFields{secretsIndex: o.GetName()}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "List the users of a Secret", "Secret", client.ObjectKeyFromObject(o))
			return nil
		}
		items, err := meta.ExtractList(users)
		if err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(items))
		for _, item := range items {
			if obj, ok := item.(client.Object); ok {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
			}
		}
		return reqs
	}
}
