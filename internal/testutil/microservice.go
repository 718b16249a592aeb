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

// Package testutil builds test fixtures shared by the operator's suites.
package testutil

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// DefaultImage is the image fixtures run unless told otherwise.
const DefaultImage = "registry.example/skillmesh/services:v0.1.0"

// MicroserviceOption changes a fixture.
type MicroserviceOption func(*platformv1alpha1.Microservice)

// NewMicroservice is a valid Microservice with the API defaults filled in, as
// the API server would return it, changed by opts.
func NewMicroservice(namespace, name string, opts ...MicroserviceOption) *platformv1alpha1.Microservice {
	ms := &platformv1alpha1.Microservice{
		TypeMeta: metav1.TypeMeta{APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "Microservice"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:  namespace,
			Name:       name,
			UID:        types.UID("uid-" + name),
			Generation: 1,
		},
		Spec: platformv1alpha1.MicroserviceSpec{
			Image:    DefaultImage,
			Port:     8080,
			Replicas: ptr.To[int32](1),
		},
	}
	for _, o := range opts {
		o(ms)
	}
	return ms
}

// WithReplicas sets spec.replicas.
func WithReplicas(n int32) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) { ms.Spec.Replicas = new(n) }
}

// WithPort sets spec.port.
func WithPort(p int32) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) { ms.Spec.Port = p }
}

// WithConfig sets spec.config and spec.envPrefix.
func WithConfig(prefix string, kv map[string]string) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		ms.Spec.EnvPrefix = prefix
		ms.Spec.Config = kv
	}
}

// WithDependsOn adds dependencies by name.
func WithDependsOn(names ...string) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		for _, n := range names {
			ms.Spec.DependsOn = append(ms.Spec.DependsOn, platformv1alpha1.Dependency{Name: n})
		}
	}
}

// WithSQLite gives the Microservice a sqlite database of the given size.
func WithSQLite(size string) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		q := resource.MustParse(size)
		ms.Spec.Database = &platformv1alpha1.Database{Engine: platformv1alpha1.DatabaseSQLite, Storage: &q}
	}
}

// WithPostgres gives the Microservice a postgres database from a Secret key.
func WithPostgres(secret, key string) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		ms.Spec.Database = &platformv1alpha1.Database{
			Engine:       platformv1alpha1.DatabasePostgres,
			URLSecretRef: &platformv1alpha1.SecretKeySelector{Name: secret, Key: key},
		}
	}
}

// WithEvents connects the Microservice to a broker.
func WithEvents(secret, key string, publishes, subscribes []string) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		ms.Spec.Events = &platformv1alpha1.Events{
			BrokerSecretRef: platformv1alpha1.SecretKeySelector{Name: secret, Key: key},
			Publishes:       publishes,
			Subscribes:      subscribes,
		}
	}
}

// WithAutoscaling adds an autoscaler between min and max replicas.
func WithAutoscaling(minReplicas, maxReplicas int32) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		ms.Spec.Autoscaling = &platformv1alpha1.Autoscaling{
			MinReplicas:                    new(minReplicas),
			MaxReplicas:                    maxReplicas,
			TargetCPUUtilizationPercentage: ptr.To[int32](80),
		}
	}
}

// WithResources sets requests and limits.
func WithResources(cpu, memory string) MicroserviceOption {
	return func(ms *platformv1alpha1.Microservice) {
		ms.Spec.Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memory)},
		}
	}
}

// ForCreate strips what the API server sets, so the fixture can be created.
func ForCreate(ms *platformv1alpha1.Microservice) *platformv1alpha1.Microservice {
	out := ms.DeepCopy()
	out.UID = ""
	out.Generation = 0
	out.ResourceVersion = ""
	return out
}
