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
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

const (
	gatewayContainer      = "gateway"
	gatewayConfigVolume   = "config"
	gatewayConfigDir      = "/etc/skillmesh/gateway"
	defaultRouteTimeout   = 30 * time.Second
	defaultAggregateAfter = 2 * time.Second
)

// gatewayInput is everything rendering a Gateway depends on.
type gatewayInput struct {
	Gateway *platformv1alpha1.Gateway
	// Microservices of the Gateway's namespace that it names, by name.
	Microservices map[string]*platformv1alpha1.Microservice
	ClusterDomain string
	// Image runs the bundled gateway unless spec.image says otherwise.
	Image string
}

// gatewayChildren is the desired state of a Gateway's children.
type gatewayChildren struct {
	ConfigMap  *corev1ac.ConfigMapApplyConfiguration
	Deployment *appsv1ac.DeploymentApplyConfiguration
	Service    *corev1ac.ServiceApplyConfiguration
	HPA        *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration
	PDB        *policyv1ac.PodDisruptionBudgetApplyConfiguration
	// Backends reports each Microservice named, in name order.
	Backends []platformv1alpha1.BackendStatus
}

func gatewayConfigMapName(gw string) string { return gw + "-routes" }

// backendServices lists the Microservices a Gateway names, sorted, once each.
func backendServices(gw *platformv1alpha1.Gateway) []string {
	var names []string
	for _, r := range gw.Spec.Routes {
		names = append(names, r.Service)
	}
	for _, a := range gw.Spec.Aggregations {
		for _, b := range a.Backends {
			names = append(names, b.Service)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// renderGateway computes the Gateway's children. It is pure.
func renderGateway(in gatewayInput) (gatewayChildren, error) {
	gw := in.Gateway
	cfg := gatewayConfigFor(in)
	data, err := gatewayconfig.Marshal(cfg)
	if err != nil {
		return gatewayChildren{}, err
	}
	labels := gatewayLabels(gw)
	owner := controllerRef("Gateway", gw.Name, gw.UID)
	out := gatewayChildren{
		ConfigMap: corev1ac.ConfigMap(gatewayConfigMapName(gw.Name), gw.Namespace).
			WithLabels(labels).WithOwnerReferences(owner).
			WithData(map[string]string{gatewayconfig.FileName: string(data)}),
		Deployment: gatewayDeployment(in, labels, owner),
		Service: corev1ac.Service(gw.Name, gw.Namespace).
			WithLabels(labels).WithOwnerReferences(owner).
			WithSpec(corev1ac.ServiceSpec().
				WithType(gatewayServiceType(gw)).
				WithSelector(gatewaySelector(gw)).
				WithPorts(corev1ac.ServicePort().WithName(portName).WithProtocol(corev1.ProtocolTCP).
					WithPort(gatewayPort(gw)).WithTargetPort(intstr.FromString(portName)))),
	}
	if gw.Spec.Autoscaling != nil {
		out.HPA = autoscaler(gw.Name, gw.Namespace, labels, owner, gw.Spec.Autoscaling)
	}
	if gw.Spec.DisruptionBudget != nil || ptr.Deref(gw.Spec.Replicas, 1) > 1 {
		out.PDB = disruptionBudget(gw.Name, gw.Namespace, labels, owner, gatewaySelector(gw), gw.Spec.DisruptionBudget)
	}
	for _, name := range backendServices(gw) {
		ms, ok := in.Microservices[name]
		out.Backends = append(out.Backends, platformv1alpha1.BackendStatus{
			Service: name,
			URL:     upstream(in, name, nil),
			Ready:   ok && isServing(ms),
		})
	}
	return out, nil
}

// upstream is a Microservice's DNS URL on its own port, or on the route's
// port when it overrides. A Microservice that does not exist yet gets the
// default port; BackendsReady says it is missing meanwhile.
func upstream(in gatewayInput, service string, port *int32) string {
	p := int32(defaultPort)
	if ms, ok := in.Microservices[service]; ok {
		p = portOf(ms)
	}
	if port != nil {
		p = *port
	}
	return contract.ServiceURL(service, in.Gateway.Namespace, in.ClusterDomain, p)
}

// gatewayConfigFor resolves every service of the spec to its URL.
func gatewayConfigFor(in gatewayInput) gatewayconfig.Config {
	gw := in.Gateway
	cfg := gatewayconfig.Config{Routes: []gatewayconfig.Route{}, Aggregations: []gatewayconfig.Aggregation{}}
	for _, r := range gw.Spec.Routes {
		timeout := defaultRouteTimeout
		if r.Timeout != nil {
			timeout = r.Timeout.Duration
		}
		cfg.Routes = append(cfg.Routes, gatewayconfig.Route{
			PathPrefix: r.PathPrefix, Service: r.Service, Upstream: upstream(in, r.Service, r.Port),
			StripPrefix: r.StripPrefix, Timeout: gatewayconfig.Duration{Duration: timeout},
		})
	}
	for _, a := range gw.Spec.Aggregations {
		timeout := defaultAggregateAfter
		if a.Timeout != nil {
			timeout = a.Timeout.Duration
		}
		onError := string(a.OnError)
		if onError == "" {
			onError = string(platformv1alpha1.OnErrorPartial)
		}
		agg := gatewayconfig.Aggregation{Path: a.Path, Timeout: gatewayconfig.Duration{Duration: timeout}, OnError: onError, Compute: a.Compute}
		for _, b := range a.Backends {
			agg.Backends = append(agg.Backends, gatewayconfig.Backend{Key: b.Key, Service: b.Service, Upstream: upstream(in, b.Service, nil), Path: b.Path})
		}
		cfg.Aggregations = append(cfg.Aggregations, agg)
	}
	return cfg
}

func gatewayLabels(gw *platformv1alpha1.Gateway) map[string]string {
	return map[string]string{
		contract.LabelName:      gw.Name,
		contract.LabelManagedBy: contract.ManagedByValue,
		contract.LabelGateway:   gw.Name,
	}
}

func gatewaySelector(gw *platformv1alpha1.Gateway) map[string]string {
	return map[string]string{contract.LabelGateway: gw.Name}
}

func gatewayPort(gw *platformv1alpha1.Gateway) int32 {
	if gw.Spec.Port == 0 {
		return defaultPort
	}
	return gw.Spec.Port
}

func gatewayServiceType(gw *platformv1alpha1.Gateway) corev1.ServiceType {
	if gw.Spec.ServiceType == "" {
		return corev1.ServiceTypeClusterIP
	}
	return gw.Spec.ServiceType
}

// gatewayDeployment runs the gateway with the rendered file mounted as a
// directory (not a subPath), so Kubernetes' symlink swap of a changed
// ConfigMap reaches the running pods and the gateway reloads in place,
// without a rollout.
func gatewayDeployment(in gatewayInput, labels map[string]string, owner *metav1ac.OwnerReferenceApplyConfiguration) *appsv1ac.DeploymentApplyConfiguration {
	gw := in.Gateway
	image, args := in.Image, []string{"gateway"}
	if gw.Spec.Image != "" {
		image, args = gw.Spec.Image, nil
	}
	c := corev1ac.Container().
		WithName(gatewayContainer).
		WithImage(image).
		WithPorts(corev1ac.ContainerPort().WithName(portName).WithContainerPort(gatewayPort(gw)).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(
			corev1ac.EnvVar().WithName(contract.EnvPort).WithValue(itoa(gatewayPort(gw))),
			corev1ac.EnvVar().WithName(gatewayconfig.EnvConfigPath).WithValue(gatewayConfigDir+"/"+gatewayconfig.FileName)).
		WithLivenessProbe(probeFor(nil, livenessOf, contract.PathLiveness, probeDefaults{period: 10, timeout: 1, failures: 3})).
		WithReadinessProbe(probeFor(nil, readinessOf, contract.PathReadiness, probeDefaults{period: 5, timeout: 1, failures: 3})).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName(tmpVolume).WithMountPath("/tmp"),
			corev1ac.VolumeMount().WithName(gatewayConfigVolume).WithMountPath(gatewayConfigDir).WithReadOnly(true))
	if len(args) > 0 {
		c.WithArgs(args...)
	}
	if r := resourcesFor(gw.Spec.Resources); r != nil {
		c.WithResources(r)
	}
	spec := appsv1ac.DeploymentSpec().
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(gatewaySelector(gw))).
		WithTemplate(corev1ac.PodTemplateSpec().
			WithLabels(labels).
			WithSpec(corev1ac.PodSpec().
				WithSecurityContext(restrictedPodSecurity()).
				WithContainers(c).
				WithVolumes(
					corev1ac.Volume().WithName(tmpVolume).WithEmptyDir(corev1ac.EmptyDirVolumeSource()),
					corev1ac.Volume().WithName(gatewayConfigVolume).WithConfigMap(
						corev1ac.ConfigMapVolumeSource().WithName(gatewayConfigMapName(gw.Name))))))
	if gw.Spec.Autoscaling == nil {
		spec.WithReplicas(ptr.Deref(gw.Spec.Replicas, 1))
	}
	return appsv1ac.Deployment(gw.Name, gw.Namespace).WithLabels(labels).WithOwnerReferences(owner).WithSpec(spec)
}
