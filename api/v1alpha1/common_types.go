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

package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/intstr"
)

// SecretReference names a Secret in the object's namespace.
type SecretReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretKeySelector names one key of a Secret in the object's namespace.
type SecretKeySelector struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key within the Secret whose value is used.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// Autoscaling asks for a HorizontalPodAutoscaler on CPU utilisation. While it
// is set the autoscaler, not spec.replicas, owns the replica count.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not be greater than autoscaling.maxReplicas"
type Autoscaling struct {
	// minReplicas is the lower bound the autoscaler may scale down to.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the upper bound the autoscaler may scale up to.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas int32 `json:"maxReplicas"`

	// targetCPUUtilizationPercentage is the mean CPU utilisation, as a share of
	// the requested CPU, that the autoscaler aims for.
	// +optional
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}

// DisruptionBudget asks for a PodDisruptionBudget.
type DisruptionBudget struct {
	// minAvailable is the number or percentage of pods that must stay up during
	// a voluntary disruption such as a node drain.
	// +required
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="disruptionBudget.minAvailable must be a non-negative number or a percentage such as 50%"
	MinAvailable intstr.IntOrString `json:"minAvailable"`
}

// Condition types shared by Microservice and Gateway. Ready summarises the
// others, so `kubectl wait --for=condition=Ready` tells the whole truth.
const (
	// ConditionReady is True when the workload is available and everything it
	// depends on is ready.
	ConditionReady = "Ready"
	// ConditionAvailable mirrors the Deployment's minimum availability.
	ConditionAvailable = "Available"
	// ConditionProgressing is True while a rollout is under way.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when the rollout cannot finish on its own.
	ConditionDegraded = "Degraded"
	// ConditionDependenciesReady is True when every Microservice named in
	// spec.dependsOn exists and is Ready.
	ConditionDependenciesReady = "DependenciesReady"
	// ConditionPaused is True while spec.paused stops the operator from
	// changing the object's children.
	ConditionPaused = "Paused"
	// ConditionBackendsReady is True when every Microservice a Gateway routes
	// to exists and is Ready.
	ConditionBackendsReady = "BackendsReady"
	// ConditionReconciling is True while the object is on its way to its
	// spec and will get there on its own: a rollout, a dependency that does
	// not serve yet, a pass not yet complete. kstatus reads it as InProgress.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the object cannot progress without a
	// person: an image that cannot be pulled, a crash loop, an unschedulable
	// pod, an exceeded progress deadline, a child the API server refused.
	// kstatus reads it as Failed.
	ConditionStalled = "Stalled"
	// ConditionConfigValid is True when a Gateway's routes and aggregations
	// make a file its gateway accepts: every expression compiles, every
	// backend path names only parameters its aggregation has, no two paths
	// collide. While False, <name>-routes keeps the last valid file.
	ConditionConfigValid = "ConfigValid"
	// ConditionExposed, on a Gateway with spec.expose, is True when the
	// HTTPRoute and Ingress it asks for are applied.
	ConditionExposed = "Exposed"
	// ConditionNetworkPolicyReady says what NetworkPolicy was rendered from
	// the service graph, or why not: True when it admits exactly the graph's
	// edges (or spec.networkPolicy.enforce is false), False when some
	// egress had to be left open (a broker or database host that is not a
	// Service of the cluster) or waits for a URL that cannot be read, and
	// the message names it.
	ConditionNetworkPolicyReady = "NetworkPolicyReady"
)

// Condition reasons, CamelCase as the API conventions ask.
const (
	// ReasonReconciling: the operator has not observed the outcome yet.
	ReasonReconciling = "Reconciling"
	// ReasonReady: every check passed.
	ReasonReady = "Ready"
	// ReasonAvailable: the Deployment has its minimum availability.
	ReasonAvailable = "Available"
	// ReasonUnavailable: fewer pods are ready than the Deployment needs.
	ReasonUnavailable = "Unavailable"
	// ReasonRollingOut: a new revision is being rolled out.
	ReasonRollingOut = "RollingOut"
	// ReasonRolloutComplete: every replica runs the current revision.
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonProgressDeadlineExceeded: the Deployment gave up waiting for its
	// rollout (crash loops, unpullable images, unschedulable pods).
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonAsExpected: nothing is wrong.
	ReasonAsExpected = "AsExpected"
	// ReasonApplyFailed: applying a child failed in a way that may pass
	// (a timeout, a conflict, the API server away); the operator retries.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonApplyRefused: the API server refused a child as invalid or
	// forbidden; retrying the same spec cannot help.
	ReasonApplyRefused = "ApplyRefused"
	// ReasonReadFailed: the operator could not read what status depends on,
	// so it does not know; it retries.
	ReasonReadFailed = "ReadFailed"
	// ReasonNoDependencies: spec.dependsOn is empty.
	ReasonNoDependencies = "NoDependencies"
	// ReasonDependenciesReady: every dependency is Ready.
	ReasonDependenciesReady = "DependenciesReady"
	// ReasonDependencyNotFound: a named dependency does not exist.
	ReasonDependencyNotFound = "DependencyNotFound"
	// ReasonDependencyNotReady: a named dependency exists but is not Ready.
	ReasonDependencyNotReady = "DependencyNotReady"
	// ReasonPaused: spec.paused is true.
	ReasonPaused = "Paused"
	// ReasonNotPaused: spec.paused is false.
	ReasonNotPaused = "NotPaused"
	// ReasonNoBackends: a Gateway names no Microservice.
	ReasonNoBackends = "NoBackends"
	// ReasonBackendsReady: every Microservice a Gateway names is Ready.
	ReasonBackendsReady = "BackendsReady"
	// ReasonBackendNotFound: a Microservice a Gateway names does not exist.
	ReasonBackendNotFound = "BackendNotFound"
	// ReasonBackendNotReady: a Microservice a Gateway names is not Ready.
	ReasonBackendNotReady = "BackendNotReady"
	// ReasonConfigValid: the gateway would accept the rendered file.
	ReasonConfigValid = "ConfigValid"
	// ReasonInvalidConfig: the gateway would refuse the rendered file; the
	// message names the place and the problem.
	ReasonInvalidConfig = "InvalidConfig"
	// ReasonExposed: the HTTPRoute and Ingress asked for are applied.
	ReasonExposed = "Exposed"
	// ReasonGatewayAPINotInstalled: spec.expose.httpRoute asks for an
	// HTTPRoute and the cluster has no Gateway API CRDs.
	ReasonGatewayAPINotInstalled = "GatewayAPINotInstalled"
	// ReasonNetworkPolicyRendered: the NetworkPolicy admits the graph's
	// edges and nothing else.
	ReasonNetworkPolicyRendered = "Rendered"
	// ReasonNetworkPolicyNotEnforced: spec.networkPolicy.enforce is false.
	ReasonNetworkPolicyNotEnforced = "NotEnforced"
	// ReasonEgressLeftOpen: a broker or database host could not be mapped
	// to a Service of the cluster, and no allowEgressTo entry stands in for
	// it, so egress on its port is open to every address.
	ReasonEgressLeftOpen = "EgressLeftOpen"
	// ReasonEndpointUnresolved: the URL of a broker or database cannot be
	// read (its Secret or key is missing, or it is not a URL), so its
	// egress rule waits for it.
	ReasonEndpointUnresolved = "EndpointUnresolved"
)
