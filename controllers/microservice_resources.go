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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

const (
	containerName  = "app"
	portName       = "http"
	tmpVolume      = "tmp"
	dataVolume     = "data"
	defaultPort    = 8080
	defaultStorage = "1Gi"
	// podFSGroup owns the sqlite volume, so a non-root container can write it
	// whatever user the image runs as.
	podFSGroup = 65532
)

// microserviceInput is everything rendering depends on, gathered before it.
type microserviceInput struct {
	Microservice *platformv1alpha1.Microservice
	// Dependencies holds the Microservices of spec.dependsOn that exist, by name.
	Dependencies map[string]*platformv1alpha1.Microservice
	// ClusterDomain is the DNS suffix of the cluster's Services.
	ClusterDomain string
}

// microserviceChildren is the desired state of every object a Microservice
// owns. Optional children are nil when the spec does not ask for them.
type microserviceChildren struct {
	ConfigMap  *corev1ac.ConfigMapApplyConfiguration
	Deployment *appsv1ac.DeploymentApplyConfiguration
	Service    *corev1ac.ServiceApplyConfiguration
	PVC        *corev1ac.PersistentVolumeClaimApplyConfiguration
	HPA        *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration
	PDB        *policyv1ac.PodDisruptionBudgetApplyConfiguration
	ConfigHash string
}

func configMapName(ms string) string { return ms + "-config" }
func dataClaimName(ms string) string { return ms + "-data" }

// renderMicroservice computes the desired children. It is pure: the same
// input always gives the same output, so it is table-tested without a server.
func renderMicroservice(in microserviceInput) microserviceChildren {
	ms := in.Microservice
	data := renderedConfig(ms.Spec)
	hash := configHash(data)
	out := microserviceChildren{
		ConfigMap:  configMapFor(ms, data),
		Deployment: deploymentFor(in, hash),
		Service:    serviceFor(ms),
		ConfigHash: hash,
	}
	if isSQLite(ms.Spec.Database) {
		out.PVC = dataClaimFor(ms)
	}
	if ms.Spec.Autoscaling != nil {
		out.HPA = autoscalerFor(ms)
	}
	if wantsDisruptionBudget(ms.Spec) {
		out.PDB = disruptionBudgetFor(ms)
	}
	return out
}

func isSQLite(db *platformv1alpha1.Database) bool {
	return db != nil && db.Engine == platformv1alpha1.DatabaseSQLite
}

func isPostgres(db *platformv1alpha1.Database) bool {
	return db != nil && db.Engine == platformv1alpha1.DatabasePostgres
}

// microserviceURL is where the Microservice answers inside the cluster.
func microserviceURL(ms *platformv1alpha1.Microservice, clusterDomain string) string {
	return contract.ServiceURL(ms.Name, ms.Namespace, clusterDomain, portOf(ms))
}

func portOf(ms *platformv1alpha1.Microservice) int32 {
	if ms.Spec.Port == 0 {
		return defaultPort
	}
	return ms.Spec.Port
}

// desiredReplicas is spec.replicas with the API default applied.
func desiredReplicas(spec platformv1alpha1.MicroserviceSpec) int32 {
	if spec.Replicas == nil {
		return 1
	}
	return *spec.Replicas
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

// restrictedPodSecurity meets the restricted Pod Security profile.
func restrictedPodSecurity() *corev1ac.PodSecurityContextApplyConfiguration {
	return corev1ac.PodSecurityContext().
		WithRunAsNonRoot(true).
		WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))
}

// restrictedContainerSecurity: non-root, no privilege escalation, no
// capabilities, read-only root filesystem.
func restrictedContainerSecurity() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithRunAsNonRoot(true).
		WithAllowPrivilegeEscalation(false).
		WithReadOnlyRootFilesystem(true).
		WithCapabilities(corev1ac.Capabilities().WithDrop(corev1.Capability("ALL")))
}

// renderedConfig is spec.config with envPrefix put before every key.
func renderedConfig(spec platformv1alpha1.MicroserviceSpec) map[string]string {
	data := make(map[string]string, len(spec.Config))
	for k, v := range spec.Config {
		data[spec.EnvPrefix+k] = v
	}
	return data
}

// configHash is a short, stable digest of the rendered configuration. It goes
// on the pod template, so editing spec.config rolls the pods while a change
// of replicas (which is not configuration) does not.
func configHash(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		// Length-prefixing keeps {"a":"bc"} and {"ab":"c"} apart.
		h.Write([]byte{byte(len(k) >> 8), byte(len(k))})
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(data[k]))
		h.Write([]byte{0})
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

func deploymentFor(in microserviceInput, hash string) *appsv1ac.DeploymentApplyConfiguration {
	ms := in.Microservice
	spec := appsv1ac.DeploymentSpec().
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorLabels(ms))).
		WithStrategy(strategyFor(ms.Spec)).
		WithTemplate(podTemplateFor(in, hash))
	// With an autoscaler the HPA owns the replica count; setting it here too
	// would make the two fight on every reconcile.
	if ms.Spec.Autoscaling == nil {
		spec.WithReplicas(desiredReplicas(ms.Spec))
	}
	return appsv1ac.Deployment(ms.Name, ms.Namespace).
		WithLabels(commonLabels(ms)).
		WithOwnerReferences(ownerReference(ms)).
		WithSpec(spec)
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

func podTemplateFor(in microserviceInput, hash string) *corev1ac.PodTemplateSpecApplyConfiguration {
	ms := in.Microservice
	podSecurity := restrictedPodSecurity()
	volumes := []*corev1ac.VolumeApplyConfiguration{
		corev1ac.Volume().WithName(tmpVolume).WithEmptyDir(corev1ac.EmptyDirVolumeSource()),
	}
	if isSQLite(ms.Spec.Database) {
		podSecurity.WithFSGroup(podFSGroup)
		volumes = append(volumes, corev1ac.Volume().WithName(dataVolume).
			WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(dataClaimName(ms.Name))))
	}
	return corev1ac.PodTemplateSpec().
		WithLabels(commonLabels(ms)).
		WithAnnotations(map[string]string{contract.AnnotationConfigHash: hash}).
		WithSpec(corev1ac.PodSpec().
			WithSecurityContext(podSecurity).
			WithContainers(containerFor(in)).
			WithVolumes(volumes...))
}

func containerFor(in microserviceInput) *corev1ac.ContainerApplyConfiguration {
	ms := in.Microservice
	port := portOf(ms)
	c := corev1ac.Container().
		WithName(containerName).
		WithImage(ms.Spec.Image).
		WithPorts(corev1ac.ContainerPort().WithName(portName).WithContainerPort(port).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(envFor(in)...).
		WithEnvFrom(envFromFor(ms)...).
		WithLivenessProbe(probeFor(ms.Spec.Probes, livenessOf, contract.PathLiveness, probeDefaults{period: 10, timeout: 1, failures: 3})).
		WithReadinessProbe(probeFor(ms.Spec.Probes, readinessOf, contract.PathReadiness, probeDefaults{period: 5, timeout: 1, failures: 3})).
		// The startup probe gives a slow start (migrations, cache warm-up)
		// up to 5 minutes before liveness may kill the container.
		WithStartupProbe(probeFor(ms.Spec.Probes, startupOf, contract.PathLiveness, probeDefaults{period: 5, timeout: 1, failures: 60})).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(tmpVolume).WithMountPath("/tmp"))
	if len(ms.Spec.Args) > 0 {
		c.WithArgs(ms.Spec.Args...)
	}
	if isSQLite(ms.Spec.Database) {
		c.WithVolumeMounts(corev1ac.VolumeMount().WithName(dataVolume).WithMountPath(contract.DataDir))
	}
	if r := resourcesFor(ms.Spec.Resources); r != nil {
		c.WithResources(r)
	}
	return c
}

// envFor is the environment the operator computes; spec.config arrives
// through envFrom instead. The order is stable so the template never changes
// by accident.
func envFor(in microserviceInput) []*corev1ac.EnvVarApplyConfiguration {
	ms := in.Microservice
	env := []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName(contract.EnvPort).WithValue(itoa(portOf(ms))),
	}
	for _, dep := range ms.Spec.DependsOn {
		env = append(env, corev1ac.EnvVar().WithName(dependencyEnvVar(dep)).WithValue(dependencyURL(in, dep.Name)))
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

// dependencyURL is the DNS URL of a dependency on its own port. A dependency
// that does not exist yet is given the default port; the pods roll when it
// appears with another, and DependenciesReady says it is missing meanwhile.
func dependencyURL(in microserviceInput, name string) string {
	port := int32(defaultPort)
	if dep, ok := in.Dependencies[name]; ok {
		port = portOf(dep)
	}
	return contract.ServiceURL(name, in.Microservice.Namespace, in.ClusterDomain, port)
}

func envFromFor(ms *platformv1alpha1.Microservice) []*corev1ac.EnvFromSourceApplyConfiguration {
	out := make([]*corev1ac.EnvFromSourceApplyConfiguration, 0, 1+len(ms.Spec.SecretRefs))
	out = append(out, corev1ac.EnvFromSource().WithConfigMapRef(corev1ac.ConfigMapEnvSource().WithName(configMapName(ms.Name))))
	for _, ref := range ms.Spec.SecretRefs {
		out = append(out, corev1ac.EnvFromSource().WithSecretRef(corev1ac.SecretEnvSource().WithName(ref.Name)))
	}
	return out
}

type probeDefaults struct {
	period, timeout, failures int32
}

func livenessOf(p *platformv1alpha1.Probes) *platformv1alpha1.Probe  { return p.Liveness }
func readinessOf(p *platformv1alpha1.Probes) *platformv1alpha1.Probe { return p.Readiness }
func startupOf(p *platformv1alpha1.Probes) *platformv1alpha1.Probe   { return p.Startup }

// probeFor is an HTTP GET on the named port with the override's fields
// where it sets them and the defaults elsewhere. Every field is set, so the
// probe is wholly ours and reads the same in every Deployment.
func probeFor(probes *platformv1alpha1.Probes, pick func(*platformv1alpha1.Probes) *platformv1alpha1.Probe,
	path string, d probeDefaults) *corev1ac.ProbeApplyConfiguration {
	var o platformv1alpha1.Probe
	if probes != nil && pick(probes) != nil {
		o = *pick(probes)
	}
	if o.Path != "" {
		path = o.Path
	}
	p := corev1ac.Probe().
		WithHTTPGet(corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromString(portName))).
		WithPeriodSeconds(ptr.Deref(o.PeriodSeconds, d.period)).
		WithTimeoutSeconds(ptr.Deref(o.TimeoutSeconds, d.timeout)).
		WithFailureThreshold(ptr.Deref(o.FailureThreshold, d.failures))
	// Zero is the API's default and is not stored, so setting it would make
	// the live object differ from the desired one forever.
	if delay := ptr.Deref(o.InitialDelaySeconds, 0); delay > 0 {
		p.WithInitialDelaySeconds(delay)
	}
	return p
}

// resourcesFor returns nil for empty requirements: an empty object would be
// recorded as ours and compare unequal to what the server keeps.
func resourcesFor(r corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	if len(r.Requests) == 0 && len(r.Limits) == 0 {
		return nil
	}
	out := corev1ac.ResourceRequirements()
	if len(r.Requests) > 0 {
		out.WithRequests(r.Requests)
	}
	if len(r.Limits) > 0 {
		out.WithLimits(r.Limits)
	}
	return out
}

func serviceFor(ms *platformv1alpha1.Microservice) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(ms.Name, ms.Namespace).
		WithLabels(commonLabels(ms)).
		WithOwnerReferences(ownerReference(ms)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(selectorLabels(ms)).
			WithPorts(corev1ac.ServicePort().
				WithName(portName).
				WithProtocol(corev1.ProtocolTCP).
				WithPort(portOf(ms)).
				WithTargetPort(intstr.FromString(portName))))
}

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
	return corev1ac.PersistentVolumeClaim(dataClaimName(ms.Name), ms.Namespace).
		WithLabels(commonLabels(ms)).
		WithOwnerReferences(ownerReference(ms)).
		WithSpec(spec)
}

func autoscalerFor(ms *platformv1alpha1.Microservice) *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration {
	return autoscaler(ms.Name, ms.Namespace, commonLabels(ms), ownerReference(ms), ms.Spec.Autoscaling)
}

// autoscaler scales the Deployment name on CPU utilisation.
func autoscaler(name, namespace string, labels map[string]string, owner *metav1ac.OwnerReferenceApplyConfiguration,
	a *platformv1alpha1.Autoscaling) *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration {
	return autoscalingv2ac.HorizontalPodAutoscaler(name, namespace).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithSpec(autoscalingv2ac.HorizontalPodAutoscalerSpec().
			WithScaleTargetRef(autoscalingv2ac.CrossVersionObjectReference().
				WithAPIVersion("apps/v1").WithKind("Deployment").WithName(name)).
			WithMinReplicas(ptr.Deref(a.MinReplicas, 1)).
			WithMaxReplicas(a.MaxReplicas).
			WithMetrics(autoscalingv2ac.MetricSpec().
				WithType("Resource").
				WithResource(autoscalingv2ac.ResourceMetricSource().
					WithName(corev1.ResourceCPU).
					WithTarget(autoscalingv2ac.MetricTarget().
						WithType("Utilization").
						WithAverageUtilization(ptr.Deref(a.TargetCPUUtilizationPercentage, 80))))))
}

// wantsDisruptionBudget: asked for explicitly, or implied because more than
// one pod runs and a drain should not take them all at once.
func wantsDisruptionBudget(spec platformv1alpha1.MicroserviceSpec) bool {
	if spec.DisruptionBudget != nil {
		return true
	}
	if spec.Autoscaling != nil {
		return ptr.Deref(spec.Autoscaling.MinReplicas, 1) > 1
	}
	return desiredReplicas(spec) > 1
}

func disruptionBudgetFor(ms *platformv1alpha1.Microservice) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	return disruptionBudget(ms.Name, ms.Namespace, commonLabels(ms), ownerReference(ms), selectorLabels(ms), ms.Spec.DisruptionBudget)
}

// disruptionBudget keeps minAvailable pods (1 unless b says otherwise)
// through voluntary disruptions.
func disruptionBudget(name, namespace string, labels map[string]string, owner *metav1ac.OwnerReferenceApplyConfiguration,
	selector map[string]string, b *platformv1alpha1.DisruptionBudget) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	minAvailable := intstr.FromInt32(1)
	if b != nil {
		minAvailable = b.MinAvailable
	}
	return policyv1ac.PodDisruptionBudget(name, namespace).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithMinAvailable(minAvailable).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selector)))
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
