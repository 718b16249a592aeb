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
	corev1 "k8s.io/api/core/v1"
)

// PodOptions are the parts of a pod a team's own service needs beside what
// the operator computes: identity, registry credentials, environment from
// Secrets and ConfigMaps, placement and volumes. Microservice and Gateway
// inline the same struct, so both kinds take the same fields.
// +kubebuilder:validation:XValidation:rule="!has(self.volumeMounts) || self.volumeMounts.all(m, has(self.volumes) && self.volumes.exists(v, v.name == m.name))",message="every volumeMounts entry must name a volume of spec.volumes"
type PodOptions struct {
	// command replaces the image's entrypoint; args (Microservice) are still
	// passed to it.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Command []string `json:"command,omitempty"`

	// env adds environment variables to the container, with a literal value
	// or a valueFrom: secretKeyRef, configMapKeyRef, fieldRef or
	// resourceFieldRef. A name the operator sets itself (PORT, DATABASE_URL,
	// BROKER_URL, EVENTS_PUBLISHES, EVENTS_SUBSCRIBES, a dependency's URL
	// variable, GATEWAY_CONFIG) is refused. A Secret named here rolls the pods
	// when it changes.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []EnvVar `json:"env,omitempty"`

	// serviceAccountName runs the pods as this ServiceAccount of the
	// namespace (the namespace's default when unset).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="serviceAccountName must be a DNS subdomain: lower-case letters, digits, '-' and '.'"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// imagePullSecrets name Secrets of the namespace that hold registry
	// credentials for the image.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	ImagePullSecrets []LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// imagePullPolicy of the container; Kubernetes' default (IfNotPresent,
	// or Always for :latest) when unset.
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// nodeSelector keeps the pods on nodes with these labels.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations let the pods run on tainted nodes.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity: node affinity, pod affinity and anti-affinity.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// topologySpreadConstraints spread the pods across zones or nodes.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// priorityClassName gives the pods a PriorityClass.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// terminationGracePeriodSeconds is how long a pod may take to stop after
	// SIGTERM (Kubernetes' default, 30, when unset).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`

	// runAsUser runs the container as this user ID instead of the image's
	// own (the pod stays non-root under the restricted profile: 0 is
	// refused). IDs above 10000 keep clear of the node's own users.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	RunAsUser *int64 `json:"runAsUser,omitempty"`

	// runAsGroup is the primary group ID of the container's processes.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`

	// podMetadata are labels and annotations put on the pod template.
	// +optional
	PodMetadata *PodMetadata `json:"podMetadata,omitempty"`

	// volumes the container may mount: configMap, secret, emptyDir and
	// persistentVolumeClaim sources.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(v, !(v.name in ['tmp', 'data', 'config']))",message="volume names tmp, data and config are the operator's own: choose another name"
	Volumes []Volume `json:"volumes,omitempty"`

	// volumeMounts mount spec.volumes into the container. /tmp (always) and
	// /data (a sqlite database) are the operator's mounts and cannot be
	// shadowed.
	// +optional
	// +listType=map
	// +listMapKey=mountPath
	// +kubebuilder:validation:MaxItems=32
	VolumeMounts []VolumeMount `json:"volumeMounts,omitempty"`
}

// EnvVar is one environment variable of the container, with the shape of
// Kubernetes' own (name, value, valueFrom).
// +kubebuilder:validation:XValidation:rule="!(has(self.value) && has(self.valueFrom))",message="an env entry takes value or valueFrom, not both"
type EnvVar struct {
	// name of the variable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z_][A-Za-z0-9_.-]*$')",message="env name must be letters, digits, '_', '-' or '.', not starting with a digit"
	// +kubebuilder:validation:XValidation:rule="!(self in ['PORT', 'DATABASE_URL', 'BROKER_URL', 'EVENTS_PUBLISHES', 'EVENTS_SUBSCRIBES', 'GATEWAY_CONFIG'])",messageExpression="'env ' + self + ' is set by the operator (from spec.port, spec.database, spec.events or the routes file) and cannot be set in spec.env'"
	Name string `json:"name"`

	// value is a literal value; $(VAR) references expand as in a pod spec.
	// +optional
	// +kubebuilder:validation:MaxLength=32768
	Value string `json:"value,omitempty"`

	// valueFrom takes the value from a Secret key, a ConfigMap key, a field
	// of the pod or a resource of the container.
	// +optional
	ValueFrom *corev1.EnvVarSource `json:"valueFrom,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// PodMetadata is put on the pod template. The operator's own labels
// (skillmesh.dev/*, app.kubernetes.io/name, app.kubernetes.io/managed-by)
// select the pods and cannot be replaced.
type PodMetadata struct {
	// labels added to the pods.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('skillmesh.dev/') && k != 'app.kubernetes.io/name' && k != 'app.kubernetes.io/managed-by')",message="podMetadata.labels may not set skillmesh.dev/*, app.kubernetes.io/name or app.kubernetes.io/managed-by: the operator selects its pods by them"
	Labels map[string]string `json:"labels,omitempty"`

	// annotations added to the pods.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('skillmesh.dev/'))",message="podMetadata.annotations may not set skillmesh.dev/*: the operator writes those"
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Volume is a volume of the pod, from one of the sources a service needs.
// +kubebuilder:validation:XValidation:rule="[has(self.configMap), has(self.secret), has(self.emptyDir), has(self.persistentVolumeClaim)].filter(x, x).size() == 1",message="a volume takes exactly one source: configMap, secret, emptyDir or persistentVolumeClaim"
type Volume struct {
	// name the volumeMounts refer to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="a volume name must be a DNS-1123 label: lower-case letters, digits and '-'"
	Name string `json:"name"`

	// configMap mounts a ConfigMap's keys as files (updated in place when
	// the ConfigMap changes).
	// +optional
	ConfigMap *corev1.ConfigMapVolumeSource `json:"configMap,omitempty"`

	// secret mounts a Secret's keys as files (updated in place when the
	// Secret changes).
	// +optional
	Secret *corev1.SecretVolumeSource `json:"secret,omitempty"`

	// emptyDir is scratch space that lives as long as the pod.
	// +optional
	EmptyDir *corev1.EmptyDirVolumeSource `json:"emptyDir,omitempty"`

	// persistentVolumeClaim mounts an existing claim of the namespace.
	// +optional
	PersistentVolumeClaim *corev1.PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
}

// VolumeMount mounts one of spec.volumes into the container.
type VolumeMount struct {
	// name of the volume in spec.volumes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// mountPath is the absolute path in the container.
	// +required
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="a mountPath must be an absolute path"
	// +kubebuilder:validation:XValidation:rule="self != '/tmp' && self != '/tmp/'",message="mountPath /tmp is the operator's writable scratch directory and cannot be shadowed: mount below it or elsewhere"
	MountPath string `json:"mountPath"`

	// subPath mounts one file or directory of the volume.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	SubPath string `json:"subPath,omitempty"`

	// readOnly mounts the volume read-only.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
}
