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
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

func testGateway(mods ...func(*platformv1alpha1.Gateway)) *platformv1alpha1.Gateway {
	gw := &platformv1alpha1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "careers", Name: "api", UID: "uid-api"},
		Spec: platformv1alpha1.GatewaySpec{
			Routes: []platformv1alpha1.Route{{PathPrefix: "/api/skills", Service: "skills"}, {PathPrefix: "/api/skills2", Service: "skills"}},
			Aggregations: []platformv1alpha1.Aggregation{{Path: "/d", Backends: []platformv1alpha1.AggregationBackend{
				{Key: "a", Service: "learning", Path: "/x"}, {Key: "b", Service: "career", Path: "/y"}}}},
		},
	}
	for _, m := range mods {
		m(gw)
	}
	return gw
}

// backendsOf resolves every backend of gw, as the reconciler does, to the
// Microservices found (by name); the others are missing.
func backendsOf(gw *platformv1alpha1.Gateway, found ...*platformv1alpha1.Microservice) map[string]reference {
	byName := map[string]*platformv1alpha1.Microservice{}
	for _, f := range found {
		byName[f.Name] = f
	}
	out := map[string]reference{}
	for _, name := range backendServices(gw) {
		out[name] = referenceTo(gw.Namespace, name, contract.DefaultClusterDomain, byName[name])
	}
	return out
}

func renderGW(t *testing.T, gw *platformv1alpha1.Gateway, found ...*platformv1alpha1.Microservice) gatewayChildren {
	t.Helper()
	ch, err := renderGateway(gatewayInput{Gateway: gw, Backends: backendsOf(gw, found...), ClusterDomain: contract.DefaultClusterDomain, Image: "gw:v1"})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func Test_gateway_backends_are_listed_once_each_with_their_readiness(t *testing.T) {
	ready := testutil.NewMicroservice("careers", "skills", testutil.WithPort(9090))
	ready.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}
	ready.Status.ReadyReplicas = 1
	// Ready as its spec says, but scaled to zero: it serves nobody.
	scaledToZero := testutil.NewMicroservice("careers", "career", testutil.WithReplicas(0))
	scaledToZero.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}
	gw := testGateway()
	backends := backendsOf(gw, ready, scaledToZero)
	resolved := make([]reference, 0, len(backends))
	for _, name := range backendServices(gw) {
		resolved = append(resolved, backends[name])
	}
	st := computeGatewayStatus(gw, gatewayObservation{Backends: resolved, ClusterDomain: contract.DefaultClusterDomain})
	want := []platformv1alpha1.BackendStatus{
		{Service: "career", URL: "http://career.careers.svc.cluster.local:8080", Ready: false},
		{Service: "learning", URL: "http://learning.careers.svc.cluster.local:8080", Ready: false},
		{Service: "skills", URL: "http://skills.careers.svc.cluster.local:9090", Ready: true},
	}
	if len(st.Backends) != len(want) {
		t.Fatalf("backends = %+v", st.Backends)
	}
	for i := range want {
		if st.Backends[i] != want[i] {
			t.Errorf("backend %d = %+v, want %+v", i, st.Backends[i], want[i])
		}
	}
	cm := as[corev1.ConfigMap](t, renderGW(t, gw, ready, scaledToZero).ConfigMap)
	cfg, err := gatewayconfig.Parse([]byte(cm.Data[gatewayconfig.FileName]))
	if err != nil {
		t.Fatalf("the rendered file does not parse: %v", err)
	}
	if got := cfg.Routes[0].Upstream; got != "http://skills.careers.svc.cluster.local:9090" {
		t.Errorf("route upstream = %q: the file and status must resolve a backend alike", got)
	}
}

func Test_gateway_image_replicas_autoscaling_and_budget(t *testing.T) {
	d := as[appsv1.Deployment](t, renderGW(t, testGateway()).Deployment)
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != "gw:v1" || len(c.Args) != 1 || c.Args[0] != "gateway" || *d.Spec.Replicas != 1 {
		t.Errorf("default gateway: image %q args %v replicas %v", c.Image, c.Args, d.Spec.Replicas)
	}
	ch := renderGW(t, testGateway(func(gw *platformv1alpha1.Gateway) {
		gw.Spec.Image = "mine:v2"
		gw.Spec.Autoscaling = &platformv1alpha1.Autoscaling{MinReplicas: new(int32(2)), MaxReplicas: 6}
		gw.Spec.DisruptionBudget = &platformv1alpha1.DisruptionBudget{MinAvailable: intstr.FromString("50%")}
	}))
	d = as[appsv1.Deployment](t, ch.Deployment)
	if c := d.Spec.Template.Spec.Containers[0]; c.Image != "mine:v2" || len(c.Args) != 0 || d.Spec.Replicas != nil {
		t.Errorf("own image and autoscaling: image %q args %v replicas %v", c.Image, c.Args, d.Spec.Replicas)
	}
	hpa := as[autoscalingv2.HorizontalPodAutoscaler](t, ch.HPA)
	pdb := as[policyv1.PodDisruptionBudget](t, ch.PDB)
	if hpa.Spec.MaxReplicas != 6 || hpa.Spec.ScaleTargetRef.Name != "api" || pdb.Spec.MinAvailable.String() != "50%" ||
		pdb.Spec.Selector.MatchLabels[contract.LabelGateway] != "api" {
		t.Errorf("hpa %+v pdb %+v", hpa.Spec, pdb.Spec)
	}
	if ch := renderGW(t, testGateway(func(gw *platformv1alpha1.Gateway) { gw.Spec.Replicas = new(int32(3)) })); ch.PDB == nil {
		t.Errorf("three gateway replicas without an implied disruption budget")
	}
}

// Every kind of file the gateway would refuse is caught at render, named in
// the spec's words, and leaves the routes ConfigMap without a file (so it is
// only created when missing, never overwritten).
func Test_a_spec_the_gateway_would_refuse_renders_no_file_and_says_where(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*platformv1alpha1.Gateway)
		want   []string
	}{
		"expression that does not compile": {func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Aggregations[0].Compute = map[string]string{"total": "size(a.items"}
		}, []string{"spec.aggregations[0] (/d): compute.total: ERROR:", "Syntax error"}},
		"expression naming no backend": {func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Aggregations[0].Compute = map[string]string{"ok": "size(a.x)", "total": "size(careers.gaps)"}
		}, []string{"spec.aggregations[0] (/d): compute.total:", "undeclared reference to 'careers'"}},
		"backend path naming a parameter the aggregation lacks": {func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Aggregations[0].Backends[1].Path = "/users/{user_id}/plan"
		}, []string{`spec.aggregations[0] (/d).backends[1] (b): path "/users/{user_id}/plan" names {user_id}`}},
		"route and aggregation the router cannot tell apart": {func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Aggregations[0].Path = "/api/{area}/skills"
			gw.Spec.Routes[0].PathPrefix = "/api/x/skills"
		}, []string{"spec.aggregations[0] (/api/{area}/skills): path:", "conflicts"}},
		"two problems at once": {func(gw *platformv1alpha1.Gateway) {
			gw.Spec.Aggregations[0].Compute = map[string]string{"m": "a.", "n": "b."}
		}, []string{"spec.aggregations[0] (/d): compute.m:", "spec.aggregations[0] (/d): compute.n:"}},
	} {
		t.Run(name, func(t *testing.T) {
			gw := testGateway(tc.change)
			ch := renderGW(t, gw)
			if ch.ConfigErr == nil {
				t.Fatal("ConfigErr = nil, want the gateway's refusal")
			}
			for _, w := range tc.want {
				if !strings.Contains(ch.ConfigErr.Error(), w) {
					t.Errorf("ConfigErr = %q, want it to contain %q", ch.ConfigErr, w)
				}
			}
			if ch.ConfigMap.Data != nil {
				t.Errorf("ConfigMap carries a file although the gateway would refuse it: %v", ch.ConfigMap.Data)
			}
			if ch.Deployment == nil || ch.Service == nil {
				t.Error("the workload must still be rendered")
			}
		})
	}
	if ch := renderGW(t, testGateway()); ch.ConfigErr != nil || ch.ConfigMap.Data[gatewayconfig.FileName] == "" {
		t.Errorf("a valid spec: ConfigErr = %v, file = %q", ch.ConfigErr, ch.ConfigMap.Data[gatewayconfig.FileName])
	}
}

// An invalid routes file makes the Gateway ConfigValid False, not Ready and
// Stalled, which kstatus reads as Failed; the pass is still complete.
func Test_gateway_status_of_a_refused_file(t *testing.T) {
	gw := testGateway(func(gw *platformv1alpha1.Gateway) { gw.Spec.Replicas = ptr.To[int32](2) })
	gw.Generation = 4
	obs := gatewayObservation{Workload: workloadObservation{Deployment: observedDeployment()}, ConfigChecked: true,
		Backends:  []reference{dep("career", true, true), dep("learning", true, true), dep("skills", true, true)},
		ConfigErr: errors.New("spec.aggregations[0] (/d): compute.total: ERROR: <input>:1:6: Syntax error")}
	st := computeGatewayStatus(gw, obs)
	for typ, want := range map[string]struct {
		status metav1.ConditionStatus
		reason string
	}{
		platformv1alpha1.ConditionConfigValid: {metav1.ConditionFalse, platformv1alpha1.ReasonInvalidConfig},
		platformv1alpha1.ConditionReady:       {metav1.ConditionFalse, platformv1alpha1.ReasonInvalidConfig},
		platformv1alpha1.ConditionStalled:     {metav1.ConditionTrue, platformv1alpha1.ReasonInvalidConfig},
		platformv1alpha1.ConditionReconciling: {metav1.ConditionFalse, platformv1alpha1.ReasonInvalidConfig},
	} {
		c := meta.FindStatusCondition(st.Conditions, typ)
		if c == nil || c.Status != want.status || c.Reason != want.reason {
			t.Errorf("%s = %+v, want %s %s", typ, c, want.status, want.reason)
			continue
		}
		if typ != platformv1alpha1.ConditionReconciling && !strings.Contains(c.Message, "spec.aggregations[0] (/d): compute.total") {
			t.Errorf("%s message %q does not name the place", typ, c.Message)
		}
	}
	if st.ObservedGeneration != 4 {
		t.Errorf("observedGeneration = %d, want 4: the pass completed", st.ObservedGeneration)
	}

	obs.ConfigErr = nil
	st = computeGatewayStatus(gw, obs)
	if c := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionConfigValid); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("ConfigValid = %+v, want True", c)
	}
	if c := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %+v, want True", c)
	}

	// A pass that ended before it rendered leaves ConfigValid as it was.
	gw.Status = st
	gw.Status.Conditions[0].Message = "kept"
	before := *meta.FindStatusCondition(gw.Status.Conditions, platformv1alpha1.ConditionConfigValid)
	st = computeGatewayStatus(gw, gatewayObservation{Outcome: outcome{ReadErr: errors.New("boom")}})
	if c := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionConfigValid); c == nil || *c != before {
		t.Errorf("ConfigValid = %+v, want it unchanged (%+v)", c, before)
	}
}

// edgeGateway sets every edge field.
func edgeGateway() *platformv1alpha1.Gateway {
	return testGateway(func(gw *platformv1alpha1.Gateway) {
		gw.Spec.Auth = &platformv1alpha1.GatewayAuth{JWT: &platformv1alpha1.JWTAuth{Issuer: "https://issuer.test", Audiences: []string{"skillmesh"},
			JWKSSecretRef: platformv1alpha1.SecretKeySelector{Name: "dev-jwks", Key: "keys"}}}
		gw.Spec.Routes[1].Auth = platformv1alpha1.AuthNone
		gw.Spec.Aggregations[0].UserClaim = "email"
		gw.Spec.RateLimit = &platformv1alpha1.RateLimit{RequestsPerSecond: 20, Burst: 40, TrustedProxies: []string{"10.0.0.0/8"}}
		gw.Spec.CORS = &platformv1alpha1.CORS{AllowOrigins: []string{"https://app.example.com"}, MaxAge: &metav1.Duration{Duration: time.Minute}}
		gw.Spec.MaxRequestBodyBytes = ptr.To[int64](4096)
		gw.Spec.Aggregations[0].Backends[0].Timeout = &metav1.Duration{Duration: 500 * time.Millisecond}
		gw.Spec.Aggregations[0].Backends[0].Coalesce = new(false)
		gw.Spec.Routes[0].Retries = &platformv1alpha1.RouteRetries{Attempts: 3, PerTryTimeout: &metav1.Duration{Duration: time.Second}}
		gw.Spec.Routes[0].RequestHeaders = &platformv1alpha1.HeaderModifier{Set: map[string]string{"X-Env": "prod"}, Remove: []string{"Cookie"}}
	})
}

func renderedFile(t *testing.T, gw *platformv1alpha1.Gateway) gatewayconfig.Config {
	t.Helper()
	ch := renderGW(t, gw)
	if ch.ConfigErr != nil {
		t.Fatal(ch.ConfigErr)
	}
	cfg, err := gatewayconfig.Parse([]byte(as[corev1.ConfigMap](t, ch.ConfigMap).Data[gatewayconfig.FileName]))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The edge settings reach the file with every default resolved.
func Test_gateway_edge_settings_render_into_the_file(t *testing.T) {
	plain := renderedFile(t, testGateway())
	if plain.Auth != nil || plain.RateLimit != nil || plain.CORS != nil || plain.Routes[0].Auth != "" || plain.MaxRequestBodyBytes != 1<<20 {
		t.Errorf("no edge settings: %+v", plain)
	}
	cfg := renderedFile(t, edgeGateway())
	if cfg.Auth == nil || cfg.Auth.JWKSFile != "/etc/skillmesh/jwks/jwks.json" || cfg.Auth.Issuer != "https://issuer.test" {
		t.Errorf("auth = %+v", cfg.Auth)
	}
	if cfg.Routes[0].Auth != "required" || cfg.Routes[0].UserClaim != "sub" || cfg.Routes[1].Auth != "" || cfg.Routes[1].UserClaim != "" {
		t.Errorf("route policies = %+v", cfg.Routes)
	}
	if a := cfg.Aggregations[0]; a.Auth != "required" || a.UserClaim != "email" || a.Backends[0].Timeout.Duration != 500*time.Millisecond {
		t.Errorf("aggregation = %+v", a)
	}
	if cfg.RateLimit == nil || cfg.RateLimit.RequestsPerSecond != 20 || cfg.RateLimit.Burst != 40 {
		t.Errorf("rateLimit = %+v", cfg.RateLimit)
	}
	if cfg.CORS == nil || cfg.CORS.MaxAge.Duration != time.Minute || cfg.MaxRequestBodyBytes != 4096 {
		t.Errorf("cors = %+v, body limit %d", cfg.CORS, cfg.MaxRequestBodyBytes)
	}
	if r := cfg.Routes[0]; r.Retries == nil || r.Retries.Attempts != 3 || r.Retries.PerTryTimeout.Duration != time.Second ||
		r.RequestHeaders == nil || r.RequestHeaders.Set["X-Env"] != "prod" || r.RequestHeaders.Remove[0] != "Cookie" || r.ResponseHeaders != nil {
		t.Errorf("route retries and headers = %+v %+v %+v", r.Retries, r.RequestHeaders, r.ResponseHeaders)
	}
}

// coalesce: false reaches the file; unset is true (the CRD's default).
func Test_a_backend_with_coalesce_off_renders_it(t *testing.T) {
	a := renderedFile(t, edgeGateway()).Aggregations[0]
	if a.Backends[0].Coalesced() || !a.Backends[1].Coalesced() {
		t.Errorf("coalesce = %v, %v; want false, then true", a.Backends[0].Coalesce, a.Backends[1].Coalesce)
	}
}

// The JWKS Secret is mounted as a directory the gateway reloads from, and
// is not in the template's hash: a rotation must not roll the pods.
func Test_the_JWKS_Secret_is_mounted_as_a_directory_and_never_rolls_the_pods(t *testing.T) {
	d := as[appsv1.Deployment](t, renderGW(t, edgeGateway()).Deployment)
	var vol *corev1.Volume
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "jwks" {
			vol = &d.Spec.Template.Spec.Volumes[i]
		}
	}
	if vol == nil || vol.Secret == nil || vol.Secret.SecretName != "dev-jwks" || len(vol.Secret.Items) != 1 ||
		vol.Secret.Items[0] != (corev1.KeyToPath{Key: "keys", Path: "jwks.json"}) {
		t.Fatalf("jwks volume = %+v", vol)
	}
	mounted := false
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		mounted = mounted || (m.Name == "jwks" && m.MountPath == "/etc/skillmesh/jwks" && m.SubPath == "" && m.ReadOnly)
	}
	if !mounted {
		t.Errorf("mounts = %+v", d.Spec.Template.Spec.Containers[0].VolumeMounts)
	}
	if _, rolls := d.Spec.Template.Annotations[contract.AnnotationConfigHash]; rolls {
		t.Error("the JWKS Secret must not roll the pods: they reload it")
	}
}

// spec.tls mounts the kubernetes.io/tls Secret as a directory, points the
// gateway at its files, probes over HTTPS and reports an https URL.
func Test_spec_tls_serves_HTTPS_from_the_mounted_Secret(t *testing.T) {
	gw := testGateway(func(gw *platformv1alpha1.Gateway) { gw.Spec.TLS = &platformv1alpha1.GatewayTLS{SecretName: "api-tls"} })
	d := as[appsv1.Deployment](t, renderGW(t, gw).Deployment)
	spec := d.Spec.Template.Spec
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == "tls" {
			vol = &spec.Volumes[i]
		}
	}
	if vol == nil || vol.Secret == nil || vol.Secret.SecretName != "api-tls" || len(vol.Secret.Items) != 2 {
		t.Fatalf("tls volume = %+v", vol)
	}
	c := spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["GATEWAY_TLS_CERT_FILE"] != "/etc/skillmesh/tls/tls.crt" || env["GATEWAY_TLS_KEY_FILE"] != "/etc/skillmesh/tls/tls.key" {
		t.Errorf("env = %v", env)
	}
	if c.LivenessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS || c.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
		t.Errorf("probes = %+v %+v, want HTTPS", c.LivenessProbe.HTTPGet, c.ReadinessProbe.HTTPGet)
	}
	if st := computeGatewayStatus(gw, gatewayObservation{ClusterDomain: contract.DefaultClusterDomain}); st.URL != "https://api.careers.svc.cluster.local:8080" {
		t.Errorf("url = %q", st.URL)
	}
	plain := as[appsv1.Deployment](t, renderGW(t, testGateway()).Deployment).Spec.Template.Spec.Containers[0]
	if plain.ReadinessProbe.HTTPGet.Scheme != "" {
		t.Errorf("without tls the probe scheme is left to the API's default, got %q", plain.ReadinessProbe.HTTPGet.Scheme)
	}
}

// spec.expose.ingress renders an Ingress to the gateway's Service.
func Test_spec_expose_ingress_renders_an_Ingress_to_the_gateway(t *testing.T) {
	if ch := renderGW(t, testGateway()); ch.Ingress != nil {
		t.Errorf("an Ingress without spec.expose")
	}
	gw := testGateway(func(gw *platformv1alpha1.Gateway) {
		gw.Spec.Expose = &platformv1alpha1.Expose{Ingress: &platformv1alpha1.ExposeIngress{ClassName: "nginx", Host: "api.example.com", TLSSecretName: "api-example-tls"}}
	})
	ing := as[networkingv1.Ingress](t, renderGW(t, gw).Ingress)
	if ing.Name != "api" || !metav1.IsControlledBy(ing, gw) || ptr.Deref(ing.Spec.IngressClassName, "") != "nginx" {
		t.Errorf("ingress = %+v", ing.ObjectMeta)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "api.example.com" {
		t.Fatalf("rules = %+v", ing.Spec.Rules)
	}
	p := ing.Spec.Rules[0].HTTP.Paths[0]
	if p.Path != "/" || *p.PathType != networkingv1.PathTypePrefix || p.Backend.Service.Name != "api" || p.Backend.Service.Port.Name != "http" {
		t.Errorf("path = %+v", p)
	}
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "api-example-tls" || ing.Spec.TLS[0].Hosts[0] != "api.example.com" {
		t.Errorf("tls = %+v", ing.Spec.TLS)
	}
}

// Without the Gateway API in the cluster, a Gateway asking for an HTTPRoute
// says so in Exposed, and stays Ready: in-cluster callers are served.
func Test_an_HTTPRoute_without_the_Gateway_API_is_Exposed_False_and_Ready_stays(t *testing.T) {
	gw := testGateway(func(gw *platformv1alpha1.Gateway) {
		gw.Spec.Replicas = ptr.To[int32](2)
		gw.Spec.Expose = &platformv1alpha1.Expose{HTTPRoute: &platformv1alpha1.ExposeHTTPRoute{
			ParentRefs: []platformv1alpha1.ParentReference{{Name: "edge"}}}}
	})
	if ch := renderGW(t, gw); ch.HTTPRoute == nil {
		t.Fatal("no HTTPRoute rendered")
	}
	obs := gatewayObservation{Workload: workloadObservation{Deployment: observedDeployment()}, ConfigChecked: true,
		Backends: []reference{dep("career", true, true), dep("learning", true, true), dep("skills", true, true)}}
	for _, tc := range []struct {
		installed bool
		status    metav1.ConditionStatus
		reason    string
	}{{false, metav1.ConditionFalse, "GatewayAPINotInstalled"}, {true, metav1.ConditionTrue, "Exposed"}} {
		obs.GatewayAPI = tc.installed
		st := computeGatewayStatus(gw, obs)
		c := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionExposed)
		if c == nil || c.Status != tc.status || c.Reason != tc.reason {
			t.Errorf("installed %v: Exposed = %+v", tc.installed, c)
		}
		if r := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue {
			t.Errorf("installed %v: Ready = %+v, want True", tc.installed, r)
		}
	}
}
