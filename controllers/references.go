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
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

const defaultPort = 8080

// reference is a Microservice that another object names (a dependency, a
// Gateway's backend), resolved once: where it answers, whether it exists,
// whether it serves. Env vars, the gateway's routes file and both statuses
// all read it, so they agree.
type reference struct {
	Name, Namespace string
	// Port is the Microservice's port, or the default before it exists (the
	// pods roll when it appears with another, and status says it is missing).
	Port    int32
	Found   bool
	Serving bool
	// clusterDomain is the DNS suffix URLs are made with.
	clusterDomain string
}

// URL is where the Microservice answers inside the cluster.
func (r reference) URL() string { return r.URLOn(nil) }

// URLOn is the URL on another port when port is set (a route's override).
func (r reference) URLOn(port *int32) string {
	p := r.Port
	if port != nil {
		p = *port
	}
	return contract.ServiceURL(r.Name, r.Namespace, r.clusterDomain, p)
}

// resolveReference reads the Microservice namespace/name from the cache. A
// Microservice that does not exist is not an error: the reference says so.
func resolveReference(ctx context.Context, c client.Reader, clusterDomain, namespace, name string) (reference, error) {
	ms := &platformv1alpha1.Microservice{}
	switch err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, ms); {
	case apierrors.IsNotFound(err):
		return referenceTo(namespace, name, clusterDomain, nil), nil
	case err != nil:
		return reference{}, fmt.Errorf("get Microservice %s/%s: %w", namespace, name, err)
	}
	return referenceTo(namespace, name, clusterDomain, ms), nil
}

// referenceTo is the reference to namespace/name given what was found
// there (nil: nothing). It is pure.
func referenceTo(namespace, name, clusterDomain string, ms *platformv1alpha1.Microservice) reference {
	ref := reference{Name: name, Namespace: namespace, Port: defaultPort, clusterDomain: clusterDomain}
	if ms != nil {
		ref.Port, ref.Found, ref.Serving = portOf(ms), true, isServing(ms)
	}
	return ref
}

// isServing reports whether others can rely on a Microservice: Ready, with
// at least one ready pod to answer. A Microservice scaled to zero is Ready (it
// is as its spec says) but serves nobody, so its dependents and the Gateways
// routing to it must not count on it.
func isServing(ms *platformv1alpha1.Microservice) bool {
	return meta.IsStatusConditionTrue(ms.Status.Conditions, platformv1alpha1.ConditionReady) && ms.Status.ReadyReplicas > 0
}

// referenceVocabulary is how a condition about references speaks.
type referenceVocabulary struct {
	condType, noun, none, noneMessage, allReady, notFound, notReady string
}

var (
	dependencyVocabulary = referenceVocabulary{
		condType: platformv1alpha1.ConditionDependenciesReady, noun: "dependencies",
		none: platformv1alpha1.ReasonNoDependencies, noneMessage: "spec.dependsOn is empty",
		allReady: platformv1alpha1.ReasonDependenciesReady,
		notFound: platformv1alpha1.ReasonDependencyNotFound, notReady: platformv1alpha1.ReasonDependencyNotReady,
	}
	backendVocabulary = referenceVocabulary{
		condType: platformv1alpha1.ConditionBackendsReady, noun: "backends",
		none: platformv1alpha1.ReasonNoBackends, noneMessage: "The Gateway names no Microservice",
		allReady: platformv1alpha1.ReasonBackendsReady,
		notFound: platformv1alpha1.ReasonBackendNotFound, notReady: platformv1alpha1.ReasonBackendNotReady,
	}
)

// referencesCondition is True when every named Microservice exists and
// serves; otherwise it names those that are missing, then those that do not
// serve. DependenciesReady (Microservice) and BackendsReady (Gateway) are both
// this. A reference into another namespace is named namespace/name.
func referencesCondition(refs []reference, home string, v referenceVocabulary) metav1.Condition {
	c := metav1.Condition{Type: v.condType}
	if len(refs) == 0 {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, v.none, v.noneMessage
		return c
	}
	var missing, unready []string
	for _, r := range refs {
		name := r.Name
		if r.Namespace != home {
			name = r.Namespace + "/" + r.Name
		}
		switch {
		case !r.Found:
			missing = append(missing, name)
		case !r.Serving:
			unready = append(unready, name)
		}
	}
	switch {
	case len(missing) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v.notFound
		c.Message = "Microservice not found: " + strings.Join(missing, ", ")
		if len(unready) > 0 {
			c.Message += "; not ready: " + strings.Join(unready, ", ")
		}
	case len(unready) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v.notReady
		c.Message = "Microservice not ready: " + strings.Join(unready, ", ")
	default:
		c.Status, c.Reason = metav1.ConditionTrue, v.allReady
		c.Message = fmt.Sprintf("All %d %s are Ready", len(refs), v.noun)
	}
	return c
}
