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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DatabaseEngine names the database a Microservice keeps its data in.
// +kubebuilder:validation:Enum=sqlite;postgres
type DatabaseEngine string

const (
	// DatabaseSQLite is an embedded SQLite file on a PersistentVolumeClaim:
	// one writer, so one replica.
	DatabaseSQLite DatabaseEngine = "sqlite"
	// DatabasePostgres is a PostgreSQL server whose URL lives in a Secret.
	DatabasePostgres DatabaseEngine = "postgres"
)

// MicroserviceSpec is what should run.
// +kubebuilder:validation:XValidation:rule="!has(self.database) || self.database.engine != 'sqlite' || !has(self.replicas) || self.replicas <= 1",message="a sqlite database has a single writer on a ReadWriteOnce volume: replicas must be 0 or 1 (use engine postgres to run more)"
// +kubebuilder:validation:XValidation:rule="!has(self.database) || self.database.engine != 'sqlite' || !has(self.autoscaling)",message="a sqlite database has a single writer: autoscaling cannot be used with it (use engine postgres to scale out)"
// +kubebuilder:validation:XValidation:rule="!has(self.env) || !has(self.dependsOn) || self.env.all(e, !self.dependsOn.exists(d, (has(d.envVar) ? d.envVar : d.name.upperAscii().replace('-', '_') + '_URL') == e.name))",message="spec.env must not set the URL variable of a spec.dependsOn entry (its NAME_URL, or its envVar): the operator sets it to the dependency's address"
// +kubebuilder:validation:XValidation:rule="!has(self.database) || self.database.engine != 'sqlite' || !has(self.volumeMounts) || self.volumeMounts.all(m, m.mountPath != '/data' && m.mountPath != '/data/')",message="mountPath /data holds the sqlite database and cannot be shadowed: mount below it or elsewhere"
type MicroserviceSpec struct {
	// image is the container image to run, e.g. ghcr.io/skillmesh/services:v0.1.0.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self.trim() != ''",message="image must not be empty"
	Image string `json:"image"`

	// args are passed to the image's entrypoint.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Args []string `json:"args,omitempty"`

	// port the service listens on for HTTP; also given to the pod as PORT.
	// +optional
	// +kubebuilder:default=8080
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// replicas is the number of pods, unless autoscaling is set.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// config is rendered into the ConfigMap <name>-config and loaded into the
	// container's environment. A change rolls the pods.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_]*$'))",message="config keys must be environment variable names: letters, digits and '_', not starting with a digit"
	Config map[string]string `json:"config,omitempty"`

	// envPrefix is put before every config key, e.g. SKILLS_ turns LOG_LEVEL
	// into SKILLS_LOG_LEVEL.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z_][A-Za-z0-9_]*$')",message="envPrefix must be the start of an environment variable name: letters, digits and '_', not starting with a digit"
	EnvPrefix string `json:"envPrefix,omitempty"`

	// secretRefs are Secrets loaded whole into the container's environment.
	// Their values are never copied into a ConfigMap.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	SecretRefs []SecretReference `json:"secretRefs,omitempty"`

	// dependsOn names Microservices (in this namespace unless an entry names
	// another) that this one calls. Each becomes an environment variable
	// holding its in-cluster URL, and the DependenciesReady condition reports
	// whether each one serves.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(d, self.exists_one(e, (has(e.envVar) ? e.envVar : e.name.upperAscii().replace('-', '_') + '_URL') == (has(d.envVar) ? d.envVar : d.name.upperAscii().replace('-', '_') + '_URL')))",message="dependsOn must not name the same Microservice twice, and two entries must not set the same URL variable (the same name in two namespaces: give one of them an envVar)"
	DependsOn []Dependency `json:"dependsOn,omitempty"`

	// probes override the default health checks.
	// +optional
	Probes *Probes `json:"probes,omitempty"`

	// resources are the container's requests and limits.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// database gives the service a database of its own.
	// +optional
	Database *Database `json:"database,omitempty"`

	// events connects the service to the event broker.
	// +optional
	Events *Events `json:"events,omitempty"`

	// autoscaling adds a HorizontalPodAutoscaler.
	// +optional
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`

	// disruptionBudget adds a PodDisruptionBudget. Without it, one with
	// minAvailable 1 is made whenever more than one replica runs.
	// +optional
	DisruptionBudget *DisruptionBudget `json:"disruptionBudget,omitempty"`

	// paused stops the operator from changing the children; status is still
	// reported.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// networkPolicy shapes the NetworkPolicy <name> derived from the service
	// graph: ingress on the port from the Microservices that depend on this
	// one and the Gateways that route to it, egress to DNS, to spec.dependsOn
	// and to the broker and database the Secrets name. On by default.
	// +optional
	NetworkPolicy *NetworkPolicy `json:"networkPolicy,omitempty"`

	// PodOptions: command, env, serviceAccountName, imagePullSecrets,
	// imagePullPolicy, placement, podMetadata, volumes and volumeMounts.
	PodOptions `json:",inline"`
}

// Dependency names a Microservice this one calls.
type Dependency struct {
	// name of the Microservice.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="dependsOn name must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and not ending with '-'"
	Name string `json:"name"`

	// namespace of the Microservice; the dependent's own when unset. Its URL
	// then names that namespace, and its readiness flows across.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="dependsOn namespace must be a namespace name: lower-case letters, digits and '-'"
	Namespace string `json:"namespace,omitempty"`

	// envVar overrides the environment variable that receives the URL;
	// the default is the upper-cased name with '-' as '_' and a _URL suffix.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z_][A-Za-z0-9_]*$')",message="dependsOn envVar must be an environment variable name: letters, digits and '_', not starting with a digit"
	EnvVar string `json:"envVar,omitempty"`
}

// Probes override the default liveness (/health/live), readiness
// (/health/ready) and startup (/health/live) probes.
type Probes struct {
	// +optional
	Liveness *Probe `json:"liveness,omitempty"`
	// +optional
	Readiness *Probe `json:"readiness,omitempty"`
	// +optional
	Startup *Probe `json:"startup,omitempty"`
}

// Probe is an HTTP GET health check on the service's port. Unset fields keep
// their defaults.
type Probe struct {
	// path of the HTTP GET.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="probe path must start with '/'"
	Path string `json:"path,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	InitialDelaySeconds *int32 `json:"initialDelaySeconds,omitempty"`
}

// DeletionPolicy says what happens to a Microservice's data when the
// Microservice is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionRetain keeps the claim <name>-data and its data; a Microservice
	// created again with the same name takes the same claim back.
	DeletionRetain DeletionPolicy = "Retain"
	// DeletionDelete deletes the claim, and its data, with the Microservice.
	DeletionDelete DeletionPolicy = "Delete"
)

// Database is the service's own database.
// +kubebuilder:validation:XValidation:rule="self.engine == oldSelf.engine",message="database.engine cannot change: the data lives in the old engine; create a new Microservice for the new one"
// +kubebuilder:validation:XValidation:rule="!has(self.storage) || !has(oldSelf.storage) || quantity(string(self.storage)).compareTo(quantity(string(oldSelf.storage))) >= 0",message="database.storage cannot shrink: a bound PersistentVolumeClaim only grows"
// +kubebuilder:validation:XValidation:rule="has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",message="database.storageClassName cannot change: a PersistentVolumeClaim's class is fixed when it is made"
// +kubebuilder:validation:XValidation:rule="self.engine != 'postgres' || has(self.urlSecretRef)",message="database engine postgres needs urlSecretRef: the Secret key that holds the postgres:// URL"
// +kubebuilder:validation:XValidation:rule="self.engine != 'sqlite' || has(self.storage)",message="database engine sqlite needs storage: the size of the volume that holds the database file, e.g. 1Gi"
// +kubebuilder:validation:XValidation:rule="self.engine != 'sqlite' || !has(self.urlSecretRef)",message="urlSecretRef is only for engine postgres; a sqlite database lives on the Microservice's own volume"
type Database struct {
	// engine is sqlite (a file on a PersistentVolumeClaim) or postgres.
	// +required
	Engine DatabaseEngine `json:"engine"`

	// storage is the size of the sqlite volume.
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// storageClassName for the sqlite volume; the cluster default when unset.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// urlSecretRef is the Secret key holding the postgres:// URL.
	// +optional
	URLSecretRef *SecretKeySelector `json:"urlSecretRef,omitempty"`

	// whenDeleted is what happens to a sqlite database's claim <name>-data
	// when the Microservice is deleted: Retain (the default) keeps it and its
	// data, and a Microservice created again with the same name takes it
	// back; Delete removes it with the Microservice. Like a StatefulSet's
	// persistentVolumeClaimRetentionPolicy.
	// +optional
	// +kubebuilder:default=Retain
	WhenDeleted DeletionPolicy `json:"whenDeleted,omitempty"`
}

// Events connects a service to the event broker (Redis Streams).
type Events struct {
	// brokerSecretRef is the Secret key holding the broker URL, e.g.
	// redis://redis:6379/0.
	// +required
	BrokerSecretRef SecretKeySelector `json:"brokerSecretRef"`

	// publishes lists the topics the service publishes.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.all(t, t.matches('^[a-z0-9]+([._-][a-z0-9]+)*$'))",message="topic names are lower-case words joined by '.', '_' or '-', e.g. skills.assessed"
	Publishes []string `json:"publishes,omitempty"`

	// subscribes lists the topics the service consumes.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.all(t, t.matches('^[a-z0-9]+([._-][a-z0-9]+)*$'))",message="topic names are lower-case words joined by '.', '_' or '-', e.g. skills.assessed"
	Subscribes []string `json:"subscribes,omitempty"`
}

// DependencyStatus reports one entry of spec.dependsOn.
type DependencyStatus struct {
	// name of the Microservice.
	Name string `json:"name"`
	// namespace of the Microservice. Defaulted to "" so statuses written
	// before this field existed (an older operator) stay valid.
	// +optional
	// +kubebuilder:default=""
	Namespace string `json:"namespace"`
	// url the dependency is reached at, as given to the pods.
	// +optional
	URL string `json:"url,omitempty"`
	// found is true when the Microservice exists.
	Found bool `json:"found"`
	// ready is true when the Microservice is Ready and has a ready pod (one
	// scaled to zero serves nobody).
	Ready bool `json:"ready"`
}

// MicroserviceStatus is what the operator observed.
type MicroserviceStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Reconciling, Stalled, Available, Progressing,
	// Degraded, DependenciesReady, NetworkPolicyReady and Paused.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// replicas is the number of pods the Deployment has.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of pods that pass their readiness probe.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// ready is readyReplicas/desired replicas, as kubectl shows it.
	// +optional
	Ready string `json:"ready,omitempty"`

	// url is the in-cluster address, resolved by Kubernetes DNS.
	// +optional
	URL string `json:"url,omitempty"`

	// configHash is the hash of the rendered configuration that the pods run.
	// +optional
	ConfigHash string `json:"configHash,omitempty"`

	// dependencies reports each entry of spec.dependsOn.
	// +optional
	// +listType=map
	// +listMapKey=namespace
	// +listMapKey=name
	Dependencies []DependencyStatus `json:"dependencies,omitempty"`
}

// Microservice runs one service: a Deployment, a Service, its configuration
// and, where asked, a volume, an autoscaler and a disruption budget.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=msvc,categories=skillmesh
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="a Microservice's name becomes its Service's DNS name and must be a DNS-1035 label: at most 63 lower-case letters, digits and '-', starting with a letter"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.dependsOn) || self.spec.dependsOn.all(d, d.name != self.metadata.name || has(d.namespace))",message="a Microservice cannot depend on itself"
type Microservice struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// +required
	Spec MicroserviceSpec `json:"spec"`

	// status starts at observedGeneration -1, so kstatus (Flux, kpt,
	// cli-utils) reads a Microservice the operator has not seen yet as
	// InProgress rather than Current.
	// +optional
	// +kubebuilder:default={"observedGeneration":-1}
	Status MicroserviceStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// MicroserviceList is a list of Microservices.
type MicroserviceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []Microservice `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &Microservice{}, &MicroserviceList{})
		return nil
	})
}
