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
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

const (
	containerName  = "app"
	dataVolume     = "data"
	defaultStorage = "1Gi"
	// podFSGroup owns the sqlite volume, so a non-root container can write it
	// whatever user the image runs as.
	podFSGroup = 65532
)

// microserviceInput is everything rendering depends on, gathered before it.
type microserviceInput struct {
	Microservice *platformv1alpha1.Microservice
	// Dependencies are the entries of spec.dependsOn, resolved, in order.
	Dependencies []reference
	// SecretVersions are the versions of the Secrets the pods read (by
	// name), from secretVersions: a change rolls the pods.
	SecretVersions map[string]string
	// ClusterDomain is the DNS suffix of the cluster's Services.
	ClusterDomain string
	// Graph is who calls the Microservice and which Services its Secrets
	// name, for its NetworkPolicy.
	Graph graphEdges
}

// microserviceChildren is the desired state of every object a Microservice
// owns. Optional children are nil when the spec does not ask for them.
type microserviceChildren struct {
	workloadChildren
	ConfigMap  *corev1ac.ConfigMapApplyConfiguration
	PVC        *corev1ac.PersistentVolumeClaimApplyConfiguration
	ConfigHash string
	// NetworkPolicy admits the graph's edges; nil when not enforced (an
	// existing one is removed). NetworkPolicyCondition says what it admits.
	NetworkPolicy          *networkingv1ac.NetworkPolicyApplyConfiguration
	NetworkPolicyCondition metav1.Condition
}

func configMapName(ms string) string { return ms + "-config" }
func dataClaimName(ms string) string { return ms + "-data" }

// renderMicroservice computes the desired children. It is pure: the same
// input always gives the same output, so it is table-tested without a server.
func renderMicroservice(in microserviceInput) microserviceChildren {
	ms := in.Microservice
	data := renderedConfig(ms.Spec)
	hash := configHash(data, in.SecretVersions)
	out := microserviceChildren{
		workloadChildren: renderWorkload(microserviceWorkload(in, hash)),
		ConfigMap:        configMapFor(ms, data),
		ConfigHash:       hash,
	}
	if isSQLite(ms.Spec.Database) {
		out.PVC = dataClaimFor(ms)
	}
	out.NetworkPolicy, out.NetworkPolicyCondition = renderNetworkPolicy(microservicePolicyInput(in))
	return out
}

// microserviceWorkload describes the Microservice's Deployment, Service,
// autoscaler and disruption budget.
func microserviceWorkload(in microserviceInput, hash string) workload {
	ms := in.Microservice
	return workload{
		Name: ms.Name, Namespace: ms.Namespace,
		Owner:            ownerReference(ms),
		Labels:           commonLabels(ms),
		Selector:         selectorLabels(ms),
		Port:             portOf(ms),
		Replicas:         desiredReplicas(ms.Spec),
		Autoscaling:      ms.Spec.Autoscaling,
		DisruptionBudget: ms.Spec.DisruptionBudget,
		Strategy:         strategyFor(ms.Spec),
		Template:         microservicePodTemplate(in, hash),
	}
}

func isSQLite(db *platformv1alpha1.Database) bool {
	return db != nil && db.Engine == platformv1alpha1.DatabaseSQLite
}

func isPostgres(db *platformv1alpha1.Database) bool {
	return db != nil && db.Engine == platformv1alpha1.DatabasePostgres
}

// retainsData reports whether the sqlite claim outlives the Microservice.
func retainsData(db *platformv1alpha1.Database) bool {
	return db.WhenDeleted != platformv1alpha1.DeletionDelete
}

func portOf(ms *platformv1alpha1.Microservice) int32 {
	if ms.Spec.Port == 0 {
		return defaultPort
	}
	return ms.Spec.Port
}

// desiredReplicas is spec.replicas with the API default applied.
func desiredReplicas(spec platformv1alpha1.MicroserviceSpec) int32 {
	return ptr.Deref(spec.Replicas, 1)
}

func selectorLabels(ms *platformv1alpha1.Microservice) map[string]string {
	return map[string]string{contract.LabelMicroservice: ms.Name}
}

func commonLabels(ms *platformv1alpha1.Microservice) map[string]string {
	return map[string]string{
		contract.LabelName:         ms.Name,
		contract.LabelManagedBy:    contract.ManagedByValue,
		contract.LabelMicroservice: ms.Name,
	}
}

func ownerReference(ms *platformv1alpha1.Microservice) *metav1ac.OwnerReferenceApplyConfiguration {
	return controllerRef("Microservice", ms.Name, ms.UID)
}

// controllerRef makes the owner the controller of a child, so the garbage
// collector deletes the child with it and Owns() maps events back to it.
func controllerRef(kind, name string, uid types.UID) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(platformv1alpha1.GroupVersion.String()).
		WithKind(kind).
		WithName(name).
		WithUID(uid).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// renderedConfig is spec.config with envPrefix put before every key.
func renderedConfig(spec platformv1alpha1.MicroserviceSpec) map[string]string {
	data := make(map[string]string, len(spec.Config))
	for k, v := range spec.Config {
		data[spec.EnvPrefix+k] = v
	}
	return data
}

// configHash is a short, stable digest of what the pods read at start and
// only at start: the rendered configuration and the versions of the Secrets
// in their environment. It goes on the pod template, so editing spec.config
// or rotating a Secret rolls the pods, while a change of replicas (which is
// not configuration) does not. Without Secrets the digest is the one earlier
// releases computed, so upgrading the operator rolls nothing.
func configHash(data, secrets map[string]string) string {
	h := sha256.New()
	writeSorted := func(m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			// Length-prefixing keeps {"a":"bc"} and {"ab":"c"} apart.
			h.Write([]byte{byte(len(k) >> 8), byte(len(k))})
			h.Write([]byte(k))
			h.Write([]byte{0})
			h.Write([]byte(m[k]))
			h.Write([]byte{0})
		}
	}
	writeSorted(data)
	if len(secrets) > 0 {
		h.Write([]byte("\x00secrets\x00"))
		writeSorted(secrets)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func configMapFor(ms *platformv1alpha1.Microservice, data map[string]string) *corev1ac.ConfigMapApplyConfiguration {
	cm := corev1ac.ConfigMap(configMapName(ms.Name), ms.Namespace).
		WithLabels(commonLabels(ms)).
		WithOwnerReferences(ownerReference(ms))
	if len(data) > 0 {
		cm.WithData(data)
	}
	return cm
}

// strategyFor is Recreate for sqlite (one writer: the old pod must let go of
// the volume before the new one starts) and an explicit RollingUpdate
// otherwise. Naming the rolling parameters makes them ours, so switching to
// Recreate removes them instead of leaving a combination the API refuses.
func strategyFor(spec platformv1alpha1.MicroserviceSpec) *appsv1ac.DeploymentStrategyApplyConfiguration {
	if isSQLite(spec.Database) {
		return appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType)
	}
	return appsv1ac.DeploymentStrategy().
		WithType(appsv1.RollingUpdateDeploymentStrategyType).
		WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
			WithMaxUnavailable(intstr.FromString("25%")).
			WithMaxSurge(intstr.FromString("25%")))
}

func microservicePodTemplate(in microserviceInput, hash string) *corev1ac.PodTemplateSpecApplyConfiguration {
	ms := in.Microservice
	p := podTemplate{
		Labels:      commonLabels(ms),
		Annotations: map[string]string{contract.AnnotationConfigHash: hash},
		Container:   containerFor(in),
		Options:     ms.Spec.PodOptions,
	}
	if isSQLite(ms.Spec.Database) {
		p.FSGroup = ptr.To[int64](podFSGroup)
		p.Volumes = append(p.Volumes, corev1ac.Volume().WithName(dataVolume).
			WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(dataClaimName(ms.Name))))
		p.Mounts = append(p.Mounts, corev1ac.VolumeMount().WithName(dataVolume).WithMountPath(contract.DataDir))
	}
	return podTemplateFor(p)
}

func containerFor(in microserviceInput) *corev1ac.ContainerApplyConfiguration {
	ms := in.Microservice
	probes := ptr.Deref(ms.Spec.Probes, platformv1alpha1.Probes{})
	c := corev1ac.Container().
		WithName(containerName).
		WithImage(ms.Spec.Image).
		WithPorts(corev1ac.ContainerPort().WithName(portName).WithContainerPort(portOf(ms)).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(envFor(in)...).
		WithEnvFrom(envFromFor(ms)...).
		WithLivenessProbe(probeFor(probes.Liveness, contract.PathLiveness, livenessDefaults)).
		WithReadinessProbe(probeFor(probes.Readiness, contract.PathReadiness, readinessDefaults)).
		WithStartupProbe(probeFor(probes.Startup, contract.PathLiveness, startupDefaults))
	if len(ms.Spec.Args) > 0 {
		c.WithArgs(ms.Spec.Args...)
	}
	if r := resourcesFor(ms.Spec.Resources); r != nil {
		c.WithResources(r)
	}
	return c
}

// envFor is the environment the operator computes; spec.config arrives
// through envFrom instead, and spec.env is added after this. The order is
// stable so the template never changes by accident.
func envFor(in microserviceInput) []*corev1ac.EnvVarApplyConfiguration {
	ms := in.Microservice
	env := []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName(contract.EnvPort).WithValue(itoa(portOf(ms))),
	}
	for i, dep := range ms.Spec.DependsOn {
		// Dependencies is resolved from spec.dependsOn, entry by entry; an
		// entry not resolved (none in a test input) gets the default port.
		url := contract.ServiceURL(dep.Name, dependencyNamespace(ms, dep), in.ClusterDomain, defaultPort)
		if i < len(in.Dependencies) {
			url = in.Dependencies[i].URL()
		}
		env = append(env, corev1ac.EnvVar().WithName(dependencyEnvVar(dep)).WithValue(url))
	}
	switch db := ms.Spec.Database; {
	case isSQLite(db):
		env = append(env, corev1ac.EnvVar().WithName(contract.EnvDatabaseURL).
			WithValue("sqlite://"+contract.DataDir+"/"+ms.Name+".db"))
	case isPostgres(db) && db.URLSecretRef != nil:
		env = append(env, secretEnv(contract.EnvDatabaseURL, *db.URLSecretRef))
	}
	if ev := ms.Spec.Events; ev != nil {
		env = append(env, secretEnv(contract.EnvBrokerURL, ev.BrokerSecretRef))
		if len(ev.Publishes) > 0 {
			env = append(env, corev1ac.EnvVar().WithName(contract.EnvEventsPublishes).WithValue(strings.Join(ev.Publishes, ",")))
		}
		if len(ev.Subscribes) > 0 {
			env = append(env, corev1ac.EnvVar().WithName(contract.EnvEventsSubscribes).WithValue(strings.Join(ev.Subscribes, ",")))
		}
	}
	return env
}

// dependencyNamespace is where a dependency lives: its own namespace field,
// or the dependent's.
func dependencyNamespace(ms *platformv1alpha1.Microservice, dep platformv1alpha1.Dependency) string {
	if dep.Namespace != "" {
		return dep.Namespace
	}
	return ms.Namespace
}

func secretEnv(name string, ref platformv1alpha1.SecretKeySelector) *corev1ac.EnvVarApplyConfiguration {
	return corev1ac.EnvVar().WithName(name).WithValueFrom(corev1ac.EnvVarSource().
		WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(ref.Name).WithKey(ref.Key)))
}

func dependencyEnvVar(dep platformv1alpha1.Dependency) string {
	if dep.EnvVar != "" {
		return dep.EnvVar
	}
	return contract.DependencyEnvVar(dep.Name)
}

func envFromFor(ms *platformv1alpha1.Microservice) []*corev1ac.EnvFromSourceApplyConfiguration {
	out := make([]*corev1ac.EnvFromSourceApplyConfiguration, 0, 1+len(ms.Spec.SecretRefs))
	out = append(out, corev1ac.EnvFromSource().WithConfigMapRef(corev1ac.ConfigMapEnvSource().WithName(configMapName(ms.Name))))
	for _, ref := range ms.Spec.SecretRefs {
		out = append(out, corev1ac.EnvFromSource().WithSecretRef(corev1ac.SecretEnvSource().WithName(ref.Name)))
	}
	return out
}

// dataClaimFor is the sqlite volume's claim. With whenDeleted Retain (the
// default) it has no owner: the garbage collector leaves it, and its data,
// when the Microservice goes, and a Microservice of the same name applies
// the same claim again. With Delete the Microservice controls it. Switching
// between the two adds or removes the owner reference on the live claim.
func dataClaimFor(ms *platformv1alpha1.Microservice) *corev1ac.PersistentVolumeClaimApplyConfiguration {
	db := ms.Spec.Database
	size := resource.MustParse(defaultStorage)
	if db.Storage != nil {
		size = *db.Storage
	}
	spec := corev1ac.PersistentVolumeClaimSpec().
		WithAccessModes(corev1.ReadWriteOnce).
		WithResources(corev1ac.VolumeResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceStorage: size}))
	if db.StorageClassName != nil {
		spec.WithStorageClassName(*db.StorageClassName)
	}
	pvc := corev1ac.PersistentVolumeClaim(dataClaimName(ms.Name), ms.Namespace).
		WithLabels(commonLabels(ms)).
		WithSpec(spec)
	if !retainsData(db) {
		pvc.WithOwnerReferences(ownerReference(ms))
	}
	return pvc
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
