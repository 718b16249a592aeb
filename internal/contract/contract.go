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

// Package contract holds the names that the operator and the bundled services
// must agree on: environment variables, health paths, labels and the DNS form
// of a service URL. It is a leaf: it imports nothing of ours, so both sides can
// import it without pulling in the other.
package contract

import (
	"fmt"
	"strings"
)

// Environment variables the operator sets on every Microservice pod.
const (
	EnvPort             = "PORT"
	EnvDatabaseURL      = "DATABASE_URL"
	EnvBrokerURL        = "BROKER_URL"
	EnvEventsPublishes  = "EVENTS_PUBLISHES"
	EnvEventsSubscribes = "EVENTS_SUBSCRIBES"
)

// Health endpoints every bundled service serves.
const (
	PathHealth    = "/health"
	PathLiveness  = "/health/live"
	PathReadiness = "/health/ready"
)

// DataDir is where a sqlite Microservice's volume is mounted.
const DataDir = "/data"

// Labels the operator puts on what it makes.
const (
	// LabelName is the well-known app name label.
	LabelName = "app.kubernetes.io/name"
	// LabelManagedBy marks objects the operator owns; its cache only holds
	// objects that carry it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is LabelManagedBy's value.
	ManagedByValue = "skillmesh-operator"
	// LabelMicroservice selects a Microservice's pods.
	LabelMicroservice = "skillmesh.dev/microservice"
	// LabelGateway selects a Gateway's pods.
	LabelGateway = "skillmesh.dev/gateway"
)

// AnnotationConfigHash on a pod template carries the hash of the rendered
// configuration, so a configuration change rolls the pods.
const AnnotationConfigHash = "skillmesh.dev/config-hash"

// DefaultClusterDomain is the DNS suffix of a cluster made by kubeadm or kind.
const DefaultClusterDomain = "cluster.local"

// DependencyEnvVar is the environment variable that carries the URL of the
// Microservice name: "learning-paths" becomes LEARNING_PATHS_URL.
func DependencyEnvVar(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_URL"
}

// ServiceURL is the in-cluster URL of a Service, as Kubernetes DNS resolves it.
func ServiceURL(name, namespace, clusterDomain string, port int32) string {
	return fmt.Sprintf("http://%s.%s.svc.%s:%d", name, namespace, clusterDomain, port)
}
