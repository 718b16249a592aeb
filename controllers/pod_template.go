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
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

const (
	// preStopSeconds is how long a stopping pod keeps serving before its
	// process gets SIGTERM: the time for the endpoint removal to reach every
	// kube-proxy and gateway, so no new connection goes to a pod that
	// already stops. Kubernetes' default grace (30 s) leaves the service
	// 25 s to drain.
	preStopSeconds = 5
	portName       = "http"
	tmpVolume      = "tmp"
	tmpDir         = "/tmp"
)

// podTemplate is what a kind computes for its pods; podTemplateFor adds the
// parts both kinds share (the restricted security profile, the /tmp scratch
// volume) and the user's PodOptions.
type podTemplate struct {
	Labels      map[string]string
	Annotations map[string]string
	// Container is the one container, with what the kind computes: image,
	// args, ports, env, probes, resources.
	Container *corev1ac.ContainerApplyConfiguration
	// Volumes and their Mounts, beside /tmp's.
	Volumes []*corev1ac.VolumeApplyConfiguration
	Mounts  []*corev1ac.VolumeMountApplyConfiguration
	// FSGroup owns mounted volumes, when set.
	FSGroup *int64
	Options platformv1alpha1.PodOptions
}

// podTemplateFor renders a pod template. It is pure. The operator's labels,
// env and mounts come first and the user's after them: CEL keeps the user
// from setting the operator's names, so nothing here needs to pick a winner.
func podTemplateFor(p podTemplate) *corev1ac.PodTemplateSpecApplyConfiguration {
	o := p.Options
	c := p.Container.
		WithSecurityContext(restrictedContainerSecurity()).
		WithLifecycle(preStopWait(o.TerminationGracePeriodSeconds)).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(tmpVolume).WithMountPath(tmpDir)).
		WithVolumeMounts(p.Mounts...)
	applyContainerOptions(c, o)

	security := restrictedPodSecurity()
	if p.FSGroup != nil {
		security.WithFSGroup(*p.FSGroup)
	}
	if o.RunAsUser != nil {
		security.WithRunAsUser(*o.RunAsUser)
	}
	if o.RunAsGroup != nil {
		security.WithRunAsGroup(*o.RunAsGroup)
	}
	spec := corev1ac.PodSpec().
		WithSecurityContext(security).
		WithContainers(c).
		WithVolumes(corev1ac.Volume().WithName(tmpVolume).WithEmptyDir(corev1ac.EmptyDirVolumeSource())).
		WithVolumes(p.Volumes...)
	applyPodOptions(spec, o)

	labels := maps.Clone(p.Labels)
	annotations := maps.Clone(p.Annotations)
	if m := o.PodMetadata; m != nil {
		labels = union(m.Labels, labels)
		annotations = union(m.Annotations, annotations)
	}
	t := corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(spec)
	if len(annotations) > 0 {
		t.WithAnnotations(annotations)
	}
	return t
}

// preStopWait is the native sleep hook (no shell needed in the image): it
// takes preStopSeconds, or a third of a shorter grace period the user set
// (the rest is the service's own drain), and nothing when the grace is 0.
func preStopWait(grace *int64) *corev1ac.LifecycleApplyConfiguration {
	n := int64(preStopSeconds)
	if grace != nil {
		n = min(n, *grace/3)
	}
	if n <= 0 {
		return nil
	}
	return corev1ac.Lifecycle().WithPreStop(corev1ac.LifecycleHandler().WithSleep(corev1ac.SleepAction().WithSeconds(n)))
}

// union is a merged with b, b winning.
func union(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

func applyContainerOptions(c *corev1ac.ContainerApplyConfiguration, o platformv1alpha1.PodOptions) {
	if len(o.Command) > 0 {
		c.WithCommand(o.Command...)
	}
	for _, e := range o.Env {
		env := corev1ac.EnvVar().WithName(e.Name)
		if e.Value != "" {
			env.WithValue(e.Value)
		}
		if e.ValueFrom != nil {
			env.WithValueFrom(convert[corev1ac.EnvVarSourceApplyConfiguration](e.ValueFrom))
		}
		c.WithEnv(env)
	}
	if o.ImagePullPolicy != "" {
		c.WithImagePullPolicy(o.ImagePullPolicy)
	}
	for _, m := range o.VolumeMounts {
		mount := corev1ac.VolumeMount().WithName(m.Name).WithMountPath(m.MountPath)
		if m.SubPath != "" {
			mount.WithSubPath(m.SubPath)
		}
		if m.ReadOnly {
			mount.WithReadOnly(true)
		}
		c.WithVolumeMounts(mount)
	}
}

func applyPodOptions(spec *corev1ac.PodSpecApplyConfiguration, o platformv1alpha1.PodOptions) {
	if o.ServiceAccountName != "" {
		spec.WithServiceAccountName(o.ServiceAccountName)
	}
	for _, s := range o.ImagePullSecrets {
		spec.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(s.Name))
	}
	if len(o.NodeSelector) > 0 {
		spec.WithNodeSelector(o.NodeSelector)
	}
	for i := range o.Tolerations {
		spec.WithTolerations(convert[corev1ac.TolerationApplyConfiguration](&o.Tolerations[i]))
	}
	if o.Affinity != nil {
		spec.WithAffinity(convert[corev1ac.AffinityApplyConfiguration](o.Affinity))
	}
	for i := range o.TopologySpreadConstraints {
		spec.WithTopologySpreadConstraints(convert[corev1ac.TopologySpreadConstraintApplyConfiguration](&o.TopologySpreadConstraints[i]))
	}
	if o.PriorityClassName != "" {
		spec.WithPriorityClassName(o.PriorityClassName)
	}
	if o.TerminationGracePeriodSeconds != nil {
		spec.WithTerminationGracePeriodSeconds(*o.TerminationGracePeriodSeconds)
	}
	for _, v := range o.Volumes {
		vol := corev1ac.Volume().WithName(v.Name)
		switch {
		case v.ConfigMap != nil:
			vol.WithConfigMap(convert[corev1ac.ConfigMapVolumeSourceApplyConfiguration](v.ConfigMap))
		case v.Secret != nil:
			vol.WithSecret(convert[corev1ac.SecretVolumeSourceApplyConfiguration](v.Secret))
		case v.EmptyDir != nil:
			vol.WithEmptyDir(convert[corev1ac.EmptyDirVolumeSourceApplyConfiguration](v.EmptyDir))
		case v.PersistentVolumeClaim != nil:
			vol.WithPersistentVolumeClaim(convert[corev1ac.PersistentVolumeClaimVolumeSourceApplyConfiguration](v.PersistentVolumeClaim))
		}
		spec.WithVolumes(vol)
	}
}

// convert turns a core/v1 value into the apply configuration of the same
// shape. Both marshal to the same JSON by construction (client-go generates
// the one from the other), so a failure is a programming error.
func convert[A any](v any) *A {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	out := new(A)
	if err := json.Unmarshal(raw, out); err != nil {
		panic(fmt.Sprintf("convert %T into %T: %v", v, out, err))
	}
	return out
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

type probeDefaults struct {
	period, timeout, failures int32
}

var (
	livenessDefaults  = probeDefaults{period: 10, timeout: 1, failures: 3}
	readinessDefaults = probeDefaults{period: 5, timeout: 1, failures: 3}
	// The startup probe gives a slow start (migrations, cache warm-up) up to
	// 5 minutes before liveness may kill the container.
	startupDefaults = probeDefaults{period: 5, timeout: 1, failures: 60}
)

// probeFor is an HTTP GET on the named port with the override's fields
// where it sets them and the defaults elsewhere. Every field is set, so the
// probe is wholly ours and reads the same in every Deployment.
func probeFor(override *platformv1alpha1.Probe, path string, d probeDefaults) *corev1ac.ProbeApplyConfiguration {
	o := ptr.Deref(override, platformv1alpha1.Probe{})
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

// defaultProbes are the probes of a container without overrides.
func defaultProbes(c *corev1ac.ContainerApplyConfiguration) *corev1ac.ContainerApplyConfiguration {
	return c.
		WithLivenessProbe(probeFor(nil, contract.PathLiveness, livenessDefaults)).
		WithReadinessProbe(probeFor(nil, contract.PathReadiness, readinessDefaults))
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
