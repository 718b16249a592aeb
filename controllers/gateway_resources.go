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
	"errors"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/utils/ptr"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

const (
	gatewayContainer      = "gateway"
	gatewayConfigVolume   = "config"
	gatewayConfigDir      = "/etc/skillmesh/gateway"
	gatewayJWKSVolume     = "jwks"
	gatewayJWKSDir        = "/etc/skillmesh/jwks"
	gatewayJWKSFile       = "jwks.json"
	gatewayTLSVolume      = "tls"
	gatewayTLSDir         = "/etc/skillmesh/tls"
	defaultRouteTimeout   = 30 * time.Second
	defaultAggregateAfter = 2 * time.Second
)

// gatewayInput is everything rendering a Gateway depends on.
type gatewayInput struct {
	Gateway *platformv1alpha1.Gateway
	// Backends are the Microservices the Gateway names, resolved, by name.
	Backends map[string]reference
	// SecretVersions are the versions of the Secrets the pods read in env.
	SecretVersions map[string]string
	ClusterDomain  string
	// Image runs the bundled gateway unless spec.image says otherwise.
	Image string
	// Graph is what the NetworkPolicy needs beyond the backends.
	Graph graphEdges
}

// gatewayChildren is the desired state of a Gateway's children.
type gatewayChildren struct {
	workloadChildren
	// ConfigMap holds the routes file; when ConfigErr is set it holds no file
	// and is only created when missing, so a Gateway's first pods start (and
	// stay not ready) and later ones keep the last valid file.
	ConfigMap *corev1ac.ConfigMapApplyConfiguration
	// ConfigErr is why the gateway would refuse the file the spec renders,
	// each problem named by its place in the spec.
	ConfigErr error
	// Ingress exposes the gateway outside the cluster; nil: none (and an
	// existing one is removed).
	Ingress *networkingv1ac.IngressApplyConfiguration
	// HTTPRoute is the Gateway API route to the gateway; nil: none.
	HTTPRoute *gatewayv1ac.HTTPRouteApplyConfiguration
	// NetworkPolicy admits every caller (or allowFrom) and calls the
	// backends; nil when not enforced. NetworkPolicyCondition says so.
	NetworkPolicy          *networkingv1ac.NetworkPolicyApplyConfiguration
	NetworkPolicyCondition metav1.Condition
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

// renderGateway computes the Gateway's children. It is pure. The routes
// file goes through the gateway's own checks first (the same code): a spec
// the CRD's schema lets through but the gateway would refuse never reaches
// the pods.
func renderGateway(in gatewayInput) (gatewayChildren, error) {
	gw := in.Gateway
	cfg := gatewayConfigFor(in)
	cfg.Version = gatewayconfig.Version
	ch := gatewayChildren{
		workloadChildren: renderWorkload(gatewayWorkload(in)),
		ConfigMap: corev1ac.ConfigMap(gatewayConfigMapName(gw.Name), gw.Namespace).
			WithLabels(gatewayLabels(gw)).WithOwnerReferences(gatewayOwner(gw)),
		Ingress:   gatewayIngress(gw),
		HTTPRoute: gatewayHTTPRoute(gw),
	}
	ch.NetworkPolicy, ch.NetworkPolicyCondition = renderNetworkPolicy(gatewayPolicyInput(in))
	if err := cfg.Validate(); err != nil {
		ch.ConfigErr = specError(err)
		return ch, nil
	}
	data, err := gatewayconfig.Marshal(cfg)
	if err != nil {
		return gatewayChildren{}, err
	}
	ch.ConfigMap.WithData(map[string]string{gatewayconfig.FileName: string(data)})
	return ch, nil
}

// gatewayIngress is spec.expose.ingress: every path of the host to the
// gateway's Service, TLS terminated by the ingress controller when asked.
func gatewayIngress(gw *platformv1alpha1.Gateway) *networkingv1ac.IngressApplyConfiguration {
	if gw.Spec.Expose == nil || gw.Spec.Expose.Ingress == nil {
		return nil
	}
	in := gw.Spec.Expose.Ingress
	path := networkingv1ac.HTTPIngressPath().WithPath("/").WithPathType(networkingv1.PathTypePrefix).
		WithBackend(networkingv1ac.IngressBackend().WithService(networkingv1ac.IngressServiceBackend().
			WithName(gw.Name).WithPort(networkingv1ac.ServiceBackendPort().WithName(portName))))
	rule := networkingv1ac.IngressRule().WithHTTP(networkingv1ac.HTTPIngressRuleValue().WithPaths(path))
	if in.Host != "" {
		rule.WithHost(in.Host)
	}
	spec := networkingv1ac.IngressSpec().WithRules(rule)
	if in.ClassName != "" {
		spec.WithIngressClassName(in.ClassName)
	}
	if in.TLSSecretName != "" {
		spec.WithTLS(networkingv1ac.IngressTLS().WithHosts(in.Host).WithSecretName(in.TLSSecretName))
	}
	return networkingv1ac.Ingress(gw.Name, gw.Namespace).WithLabels(gatewayLabels(gw)).WithOwnerReferences(gatewayOwner(gw)).WithSpec(spec)
}

// specError says the file's problems in the spec's words: the file's routes
// and aggregations are the spec's, in order, so "aggregations[0] (…)"
// becomes "spec.aggregations[0] (…)". The compiler's own lines (the
// expression and a caret under the fault) stay as they are.
func specError(err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "routes[") || strings.HasPrefix(l, "aggregations[") {
			lines[i] = "spec." + l
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// gatewayWorkload describes the gateway's Deployment, Service, autoscaler
// and disruption budget: the same workload a Microservice runs.
func gatewayWorkload(in gatewayInput) workload {
	gw := in.Gateway
	return workload{
		Name: gw.Name, Namespace: gw.Namespace,
		Owner:            gatewayOwner(gw),
		Labels:           gatewayLabels(gw),
		Selector:         gatewaySelector(gw),
		Port:             gatewayPort(gw),
		ServiceType:      gw.Spec.ServiceType,
		Replicas:         ptr.Deref(gw.Spec.Replicas, 1),
		Autoscaling:      gw.Spec.Autoscaling,
		DisruptionBudget: gw.Spec.DisruptionBudget,
		Template:         gatewayPodTemplate(in),
	}
}

// backendReference is the resolved Microservice name, or one that says it
// was not found when the input lacks it.
func backendReference(in gatewayInput, service string) reference {
	if ref, ok := in.Backends[service]; ok {
		return ref
	}
	return referenceTo(in.Gateway.Namespace, service, in.ClusterDomain, nil)
}

// gatewayConfigFor resolves every service of the spec to its URL and every
// default to its value, so the file says exactly what the gateway does.
func gatewayConfigFor(in gatewayInput) gatewayconfig.Config {
	gw := in.Gateway
	cfg := gatewayconfig.Config{Routes: []gatewayconfig.Route{}, Aggregations: []gatewayconfig.Aggregation{}}
	cfg.MaxRequestBodyBytes = ptr.Deref(gw.Spec.MaxRequestBodyBytes, gatewayconfig.DefaultMaxRequestBodyBytes)
	if a := gw.Spec.Auth; a != nil && a.JWT != nil {
		cfg.Auth = &gatewayconfig.Auth{Issuer: a.JWT.Issuer, Audiences: a.JWT.Audiences, JWKSFile: gatewayJWKSDir + "/" + gatewayJWKSFile}
	}
	if rl := gw.Spec.RateLimit; rl != nil {
		cfg.RateLimit = &gatewayconfig.RateLimit{RequestsPerSecond: float64(rl.RequestsPerSecond), Burst: int(rl.Burst), TrustedProxies: rl.TrustedProxies}
	}
	if c := gw.Spec.CORS; c != nil {
		cfg.CORS = &gatewayconfig.CORS{AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
			ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials}
		if c.MaxAge != nil {
			cfg.CORS.MaxAge = gatewayconfig.Duration{Duration: c.MaxAge.Duration}
		}
	}
	for _, r := range gw.Spec.Routes {
		timeout := defaultRouteTimeout
		if r.Timeout != nil {
			timeout = r.Timeout.Duration
		}
		cfg.Routes = append(cfg.Routes, gatewayconfig.Route{
			PathPrefix: r.PathPrefix, Service: r.Service, Upstream: backendReference(in, r.Service).URLOn(r.Port),
			StripPrefix: r.StripPrefix, ReplacePrefix: r.ReplacePrefix, Timeout: gatewayconfig.Duration{Duration: timeout},
			Auth: authPolicy(gw, r.Auth), UserClaim: userClaim(gw, r.Auth, r.UserClaim),
			RequestHeaders: headerOps(r.RequestHeaders), ResponseHeaders: headerOps(r.ResponseHeaders),
		})
		if rt := r.Retries; rt != nil {
			last := &cfg.Routes[len(cfg.Routes)-1]
			last.Retries = &gatewayconfig.Retries{Attempts: int(rt.Attempts)}
			if rt.PerTryTimeout != nil {
				last.Retries.PerTryTimeout = gatewayconfig.Duration{Duration: rt.PerTryTimeout.Duration}
			}
		}
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
		agg := gatewayconfig.Aggregation{Path: a.Path, Timeout: gatewayconfig.Duration{Duration: timeout}, OnError: onError, Compute: a.Compute,
			Auth: authPolicy(gw, a.Auth), UserClaim: userClaim(gw, a.Auth, a.UserClaim), ForwardHeaders: a.ForwardHeaders}
		for _, b := range a.Backends {
			be := gatewayconfig.Backend{Key: b.Key, Service: b.Service, Upstream: backendReference(in, b.Service).URL(), Path: b.Path,
				Coalesce: b.Coalesce}
			if b.Timeout != nil {
				be.Timeout = gatewayconfig.Duration{Duration: b.Timeout.Duration}
			}
			agg.Backends = append(agg.Backends, be)
		}
		cfg.Aggregations = append(cfg.Aggregations, agg)
	}
	return cfg
}

func headerOps(m *platformv1alpha1.HeaderModifier) *gatewayconfig.HeaderOps {
	if m == nil {
		return nil
	}
	return &gatewayconfig.HeaderOps{Set: m.Set, Remove: m.Remove}
}

// authPolicy resolves a route's or aggregation's auth: required by default
// when the Gateway verifies tokens. The file writes none as nothing.
func authPolicy(gw *platformv1alpha1.Gateway, p platformv1alpha1.AuthPolicy) string {
	if p == platformv1alpha1.AuthRequired || (p == "" && gw.Spec.Auth != nil) {
		return gatewayconfig.AuthRequired
	}
	return ""
}

// userClaim is the claim checked against {user_id} where auth is required.
func userClaim(gw *platformv1alpha1.Gateway, p platformv1alpha1.AuthPolicy, claim string) string {
	if authPolicy(gw, p) != gatewayconfig.AuthRequired {
		return ""
	}
	if claim == "" {
		return gatewayconfig.DefaultUserClaim
	}
	return claim
}

func gatewayOwner(gw *platformv1alpha1.Gateway) *metav1ac.OwnerReferenceApplyConfiguration {
	return controllerRef("Gateway", gw.Name, gw.UID)
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

// gatewayPodTemplate runs the gateway with the rendered file mounted as a
// directory (not a subPath), so Kubernetes' symlink swap of a changed
// ConfigMap reaches the running pods and the gateway reloads in place,
// without a rollout. Only the Secrets its env reads roll it (their hash is
// on the template only when there are some).
func gatewayPodTemplate(in gatewayInput) *corev1ac.PodTemplateSpecApplyConfiguration {
	gw := in.Gateway
	image, args := in.Image, []string{"gateway"}
	if gw.Spec.Image != "" {
		image, args = gw.Spec.Image, nil
	}
	c := defaultProbes(corev1ac.Container().
		WithName(gatewayContainer).
		WithImage(image).
		WithPorts(corev1ac.ContainerPort().WithName(portName).WithContainerPort(gatewayPort(gw)).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(
			corev1ac.EnvVar().WithName(contract.EnvPort).WithValue(itoa(gatewayPort(gw))),
			corev1ac.EnvVar().WithName(gatewayconfig.EnvConfigPath).WithValue(gatewayConfigDir+"/"+gatewayconfig.FileName)))
	if len(args) > 0 {
		c.WithArgs(args...)
	}
	if gw.Spec.TLS != nil {
		c.WithEnv(
			corev1ac.EnvVar().WithName("GATEWAY_TLS_CERT_FILE").WithValue(gatewayTLSDir+"/"+corev1.TLSCertKey),
			corev1ac.EnvVar().WithName("GATEWAY_TLS_KEY_FILE").WithValue(gatewayTLSDir+"/"+corev1.TLSPrivateKeyKey))
		// The kubelet probes HTTPS without verifying the certificate.
		c.LivenessProbe.HTTPGet.WithScheme(corev1.URISchemeHTTPS)
		c.ReadinessProbe.HTTPGet.WithScheme(corev1.URISchemeHTTPS)
	}
	if r := resourcesFor(gw.Spec.Resources); r != nil {
		c.WithResources(r)
	}
	var annotations map[string]string
	if len(in.SecretVersions) > 0 {
		annotations = map[string]string{contract.AnnotationConfigHash: configHash(nil, in.SecretVersions)}
	}
	volumes := []*corev1ac.VolumeApplyConfiguration{corev1ac.Volume().WithName(gatewayConfigVolume).WithConfigMap(
		corev1ac.ConfigMapVolumeSource().WithName(gatewayConfigMapName(gw.Name)))}
	mounts := []*corev1ac.VolumeMountApplyConfiguration{corev1ac.VolumeMount().WithName(gatewayConfigVolume).WithMountPath(gatewayConfigDir).WithReadOnly(true)}
	if a := gw.Spec.Auth; a != nil && a.JWT != nil {
		// A directory mount (not a subPath), so a rotated key set reaches the
		// running pods, which reload it; the Secret is not in the pod
		// template's hash for the same reason.
		ref := a.JWT.JWKSSecretRef
		volumes = append(volumes, corev1ac.Volume().WithName(gatewayJWKSVolume).WithSecret(corev1ac.SecretVolumeSource().
			WithSecretName(ref.Name).WithItems(corev1ac.KeyToPath().WithKey(ref.Key).WithPath(gatewayJWKSFile))))
		mounts = append(mounts, corev1ac.VolumeMount().WithName(gatewayJWKSVolume).WithMountPath(gatewayJWKSDir).WithReadOnly(true))
	}
	if t := gw.Spec.TLS; t != nil {
		// A directory mount, so a renewed certificate reaches the pods.
		volumes = append(volumes, corev1ac.Volume().WithName(gatewayTLSVolume).WithSecret(corev1ac.SecretVolumeSource().WithSecretName(t.SecretName).
			WithItems(corev1ac.KeyToPath().WithKey(corev1.TLSCertKey).WithPath(corev1.TLSCertKey), corev1ac.KeyToPath().WithKey(corev1.TLSPrivateKeyKey).WithPath(corev1.TLSPrivateKeyKey))))
		mounts = append(mounts, corev1ac.VolumeMount().WithName(gatewayTLSVolume).WithMountPath(gatewayTLSDir).WithReadOnly(true))
	}
	return podTemplateFor(podTemplate{
		Labels:      gatewayLabels(gw),
		Annotations: annotations,
		Container:   c,
		Volumes:     volumes,
		Mounts:      mounts,
		Options:     gw.Spec.PodOptions,
	})
}
