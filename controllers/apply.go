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

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fieldOwner is the one field manager the operator applies with.
const fieldOwner = client.FieldOwner("skillmesh-operator")

// applyResult says what applyIfChanged did.
type applyResult string

const (
	applyUnchanged applyResult = ""
	applyCreated   applyResult = "Created"
	applyUpdated   applyResult = "Updated"
	// applyAvoided: not sent, the cache has not yet seen our last write of it.
	applyAvoided applyResult = "Avoided"
)

// applyIfChanged server-side applies desired unless the live object already
// holds every field desired sets, as owned by our field manager. Comparing the
// extracted fields with the desired ones, instead of applying blindly, is what
// lets a reconcile with nothing to do send no write at all. A field someone
// else changed (kubectl edit, another controller) is no longer ours, so the
// comparison fails and the forced apply takes it back.
//
// Right after a write the cache may not hold it yet; t (which may be nil)
// knows, and with t.Avoid the apply waits for the watch event instead of
// sending what the server already holds (applyAvoided: requeue the owner).
func applyIfChanged[T client.Object, A runtime.ApplyConfiguration](
	ctx context.Context, c client.Client, t *WriteTracker, key client.ObjectKey, live T, desired A,
	extract func(T, string) (A, error),
) (applyResult, error) {
	result, kind, cachedRV := applyUpdated, kindOf(live), ""
	switch err := c.Get(ctx, key, live); {
	case apierrors.IsNotFound(err):
		result = applyCreated
	case err != nil:
		return applyUnchanged, fmt.Errorf("get %T %s: %w", live, key, err)
	default:
		cachedRV = live.GetResourceVersion()
		current, err := extract(live, string(fieldOwner))
		if err != nil {
			return applyUnchanged, fmt.Errorf("extract fields of %T %s: %w", live, key, err)
		}
		if equality.Semantic.DeepEqual(current, desired) {
			return applyUnchanged, nil
		}
	}
	last, behind := t.behind(kind, key, cachedRV)
	if behind && t.Avoid {
		childWrites.WithLabelValues(kind, outcomeAvoided).Inc()
		return applyAvoided, nil
	}
	if err := c.Apply(ctx, desired, fieldOwner, client.ForceOwnership); err != nil {
		return applyUnchanged, fmt.Errorf("apply %T %s: %w", live, key, err)
	}
	rv := appliedResourceVersion(desired)
	t.wrote(kind, key, rv, nil)
	if rv != "" && (rv == cachedRV || rv == last.rv) {
		childWrites.WithLabelValues(kind, outcomeNoop).Inc()
		return applyUnchanged, nil
	}
	childWrites.WithLabelValues(kind, map[applyResult]string{applyCreated: outcomeCreated, applyUpdated: outcomeUpdated}[result]).Inc()
	return result, nil
}

// deleteIfControlled removes an optional child the spec no longer asks for,
// but only one that owner controls: an object of the same name made by
// someone else is left alone.
func deleteIfControlled(ctx context.Context, c client.Client, owner metav1.Object, key client.ObjectKey, obj client.Object) (bool, error) {
	if err := c.Get(ctx, key, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(obj, owner) {
		return false, nil
	}
	if err := c.Delete(ctx, obj, client.Preconditions{UID: new(obj.GetUID())}); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return true, nil
}
