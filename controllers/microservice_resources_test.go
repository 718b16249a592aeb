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
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

// as turns an apply configuration into the typed object it describes, so
// tests read fields the way the API server will store them.
func as[T any](t *testing.T, ac any) *T {
	t.Helper()
	raw, err := json.Marshal(ac)
	if err != nil {
		t.Fatalf("marshal %T: %v", ac, err)
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("unmarshal into %T: %v", out, err)
	}
	return out
}

// dependenciesOf resolves every dependency of ms, as the reconciler does, to
// the Microservices found (by namespace and name); the others are missing.
func dependenciesOf(ms *platformv1alpha1.Microservice, found ...*platformv1alpha1.Microservice) []reference {
	byKey := map[string]*platformv1alpha1.Microservice{}
	for _, f := range found {
		byKey[f.Namespace+"/"+f.Name] = f
	}
	refs := make([]reference, 0, len(ms.Spec.DependsOn))
	for _, d := range ms.Spec.DependsOn {
		ns := dependencyNamespace(ms, d)
		refs = append(refs, referenceTo(ns, d.Name, contract.DefaultClusterDomain, byKey[ns+"/"+d.Name]))
	}
	return refs
}

func render(ms *platformv1alpha1.Microservice, deps ...*platformv1alpha1.Microservice) microserviceChildren {
	return renderMicroservice(microserviceInput{Microservice: ms, Dependencies: dependenciesOf(ms, deps...), ClusterDomain: contract.DefaultClusterDomain})
}

func container(t *testing.T, ch microserviceChildren) corev1.Container {
	t.Helper()
	d := as[appsv1.Deployment](t, ch.Deployment)
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("want 1 container, got %d", n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

func ms(opts ...testutil.MicroserviceOption) *platformv1alpha1.Microservice {
	return testutil.NewMicroservice("careers", "skills", opts...)
}

func Test_children_are_controlled_by_the_Microservice_and_labelled(t *testing.T) {
	m := ms(testutil.WithSQLite("1Gi"), testutil.WithReplicas(1), func(m *platformv1alpha1.Microservice) {
		m.Spec.DisruptionBudget = &platformv1alpha1.DisruptionBudget{MinAvailable: intstr.FromInt32(1)}
		m.Spec.Database.WhenDeleted = platformv1alpha1.DeletionDelete
	})
	ch := render(m)
	metas := map[string]metav1.ObjectMeta{
		"ConfigMap":             as[corev1.ConfigMap](t, ch.ConfigMap).ObjectMeta,
		"Deployment":            as[appsv1.Deployment](t, ch.Deployment).ObjectMeta,
		"Service":               as[corev1.Service](t, ch.Service).ObjectMeta,
		"PersistentVolumeClaim": as[corev1.PersistentVolumeClaim](t, ch.PVC).ObjectMeta,
		"PodDisruptionBudget":   as[policyv1.PodDisruptionBudget](t, ch.PDB).ObjectMeta,
	}
	for kind, om := range metas {
		if om.Namespace != "careers" {
			t.Errorf("%s namespace = %q", kind, om.Namespace)
		}
		if len(om.OwnerReferences) != 1 {
			t.Fatalf("%s: want one owner reference, got %d", kind, len(om.OwnerReferences))
		}
		r := om.OwnerReferences[0]
		if r.Kind != "Microservice" || r.APIVersion != "platform.skillmesh.dev/v1alpha1" || r.Name != "skills" ||
			r.UID != m.UID || !ptr.Deref(r.Controller, false) || !ptr.Deref(r.BlockOwnerDeletion, false) {
			t.Errorf("%s: owner reference %+v does not name the controlling Microservice", kind, r)
		}
		if om.Labels[contract.LabelManagedBy] != contract.ManagedByValue || om.Labels[contract.LabelMicroservice] != "skills" {
			t.Errorf("%s labels %v lack the managed-by and microservice labels the cache selects on", kind, om.Labels)
		}
	}
}

func Test_a_retained_data_claim_has_no_owner_and_a_deleted_one_has(t *testing.T) {
	for _, tc := range []struct {
		policy    platformv1alpha1.DeletionPolicy
		wantOwner bool
	}{{"", false}, {platformv1alpha1.DeletionRetain, false}, {platformv1alpha1.DeletionDelete, true}} {
		m := ms(testutil.WithSQLite("1Gi"), func(m *platformv1alpha1.Microservice) { m.Spec.Database.WhenDeleted = tc.policy })
		pvc := as[corev1.PersistentVolumeClaim](t, render(m).PVC)
		if got := len(pvc.OwnerReferences) == 1; got != tc.wantOwner {
			t.Errorf("whenDeleted %q: owner references %+v", tc.policy, pvc.OwnerReferences)
		}
		if pvc.Name != "skills-data" || pvc.Labels[contract.LabelManagedBy] != contract.ManagedByValue {
			t.Errorf("whenDeleted %q: claim %s labels %v", tc.policy, pvc.Name, pvc.Labels)
		}
	}
}

func Test_configMap_carries_config_with_envPrefix(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix string
		config map[string]string
		want   map[string]string
	}{
		{"no config renders an empty ConfigMap", "", nil, nil},
		{"keys without prefix", "", map[string]string{"LOG_LEVEL": "debug"}, map[string]string{"LOG_LEVEL": "debug"}},
		{"prefix before every key", "SKILLS_", map[string]string{"LOG_LEVEL": "debug", "TAXONOMY": "v2"},
			map[string]string{"SKILLS_LOG_LEVEL": "debug", "SKILLS_TAXONOMY": "v2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := render(ms(testutil.WithConfig(tc.prefix, tc.config)))
			cm := as[corev1.ConfigMap](t, ch.ConfigMap)
			if cm.Name != "skills-config" {
				t.Errorf("name = %q, want skills-config", cm.Name)
			}
			if !equality.Semantic.DeepEqual(cm.Data, tc.want) {
				t.Errorf("data = %v, want %v", cm.Data, tc.want)
			}
			c := container(t, ch)
			if len(c.EnvFrom) == 0 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != "skills-config" {
				t.Errorf("envFrom %+v does not load the ConfigMap first", c.EnvFrom)
			}
		})
	}
}

func Test_configHash_changes_with_config_and_not_with_replicas(t *testing.T) {
	base := render(ms(testutil.WithConfig("", map[string]string{"A": "1"}))).ConfigHash
	for _, tc := range []struct {
		name     string
		m        *platformv1alpha1.Microservice
		wantSame bool
	}{
		{"same config", ms(testutil.WithConfig("", map[string]string{"A": "1"})), true},
		{"replicas changed", ms(testutil.WithConfig("", map[string]string{"A": "1"}), testutil.WithReplicas(3)), true},
		{"image changed", ms(testutil.WithConfig("", map[string]string{"A": "1"}), func(m *platformv1alpha1.Microservice) { m.Spec.Image = "other:v2" }), true},
		{"value changed", ms(testutil.WithConfig("", map[string]string{"A": "2"})), false},
		{"key added", ms(testutil.WithConfig("", map[string]string{"A": "1", "B": "1"})), false},
		{"prefix changed", ms(testutil.WithConfig("X_", map[string]string{"A": "1"})), false},
		{"boundary moved between key and value", ms(testutil.WithConfig("", map[string]string{"A1": ""})), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := render(tc.m)
			if got := ch.ConfigHash == base; got != tc.wantSame {
				t.Errorf("hash %s vs base %s: same=%v, want %v", ch.ConfigHash, base, got, tc.wantSame)
			}
			d := as[appsv1.Deployment](t, ch.Deployment)
			if d.Spec.Template.Annotations[contract.AnnotationConfigHash] != ch.ConfigHash {
				t.Errorf("pod template annotation %q != hash %q", d.Spec.Template.Annotations[contract.AnnotationConfigHash], ch.ConfigHash)
			}
		})
	}
}

func Test_deployment_runs_the_image_with_port_args_and_replicas(t *testing.T) {
	m := ms(testutil.WithPort(9090), testutil.WithReplicas(3), func(m *platformv1alpha1.Microservice) {
		m.Spec.Args = []string{"skills", "--verbose"}
	})
	d := as[appsv1.Deployment](t, render(m).Deployment)
	c := d.Spec.Template.Spec.Containers[0]
	if d.Name != "skills" || ptr.Deref(d.Spec.Replicas, -1) != 3 {
		t.Errorf("name %q replicas %v", d.Name, d.Spec.Replicas)
	}
	if c.Image != testutil.DefaultImage || strings.Join(c.Args, " ") != "skills --verbose" {
		t.Errorf("image %q args %v", c.Image, c.Args)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 9090 || c.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports = %+v, want http:9090/TCP", c.Ports)
	}
	if v := envOf(c)["PORT"].Value; v != "9090" {
		t.Errorf("PORT = %q, want 9090", v)
	}
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate == nil {
		t.Errorf("strategy = %+v, want an explicit RollingUpdate", d.Spec.Strategy)
	}
}

func Test_dependsOn_becomes_URL_env_vars(t *testing.T) {
	learning := testutil.NewMicroservice("careers", "learning-paths", testutil.WithPort(9000))
	m := ms(func(m *platformv1alpha1.Microservice) {
		m.Spec.DependsOn = []platformv1alpha1.Dependency{
			{Name: "learning-paths"},
			{Name: "career", EnvVar: "CAREER_SERVICE"},
		}
	})
	env := envOf(container(t, render(m, learning)))
	for name, want := range map[string]string{
		// Found: its own port.
		"LEARNING_PATHS_URL": "http://learning-paths.careers.svc.cluster.local:9000",
		// Not found yet: the default port, with envVar overriding the name.
		"CAREER_SERVICE": "http://career.careers.svc.cluster.local:8080",
	} {
		if got := env[name].Value; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := env["CAREER_URL"]; ok {
		t.Errorf("CAREER_URL set although envVar overrides it")
	}
}

func Test_probes_default_and_override(t *testing.T) {
	c := container(t, render(ms()))
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port != intstr.FromString("http") {
			t.Fatalf("%s probe = %+v, want HTTP GET on port http", name, p)
		}
	}
	if c.LivenessProbe.HTTPGet.Path != "/health/live" || c.ReadinessProbe.HTTPGet.Path != "/health/ready" || c.StartupProbe.HTTPGet.Path != "/health/live" {
		t.Errorf("default paths: %s %s %s", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path, c.StartupProbe.HTTPGet.Path)
	}

	c = container(t, render(ms(func(m *platformv1alpha1.Microservice) {
		m.Spec.Probes = &platformv1alpha1.Probes{
			Readiness: &platformv1alpha1.Probe{Path: "/ready", PeriodSeconds: ptr.To[int32](2), TimeoutSeconds: ptr.To[int32](3),
				FailureThreshold: ptr.To[int32](4), InitialDelaySeconds: ptr.To[int32](5)},
			Startup: &platformv1alpha1.Probe{FailureThreshold: ptr.To[int32](100)},
		}
	})))
	r := c.ReadinessProbe
	if r.HTTPGet.Path != "/ready" || r.PeriodSeconds != 2 || r.TimeoutSeconds != 3 || r.FailureThreshold != 4 || r.InitialDelaySeconds != 5 {
		t.Errorf("readiness override not applied: %+v", r)
	}
	if c.StartupProbe.FailureThreshold != 100 || c.StartupProbe.HTTPGet.Path != "/health/live" {
		t.Errorf("startup override should change only the threshold: %+v", c.StartupProbe)
	}
	if c.LivenessProbe.HTTPGet.Path != "/health/live" {
		t.Errorf("liveness should keep its default, got %q", c.LivenessProbe.HTTPGet.Path)
	}
}

func Test_secretRefs_become_envFrom_and_are_never_copied(t *testing.T) {
	ch := render(ms(func(m *platformv1alpha1.Microservice) {
		m.Spec.SecretRefs = []platformv1alpha1.SecretReference{{Name: "api-keys"}, {Name: "smtp"}}
	}))
	c := container(t, ch)
	var names []string
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			names = append(names, e.SecretRef.Name)
		}
	}
	if strings.Join(names, ",") != "api-keys,smtp" {
		t.Errorf("envFrom secrets = %v", names)
	}
	if len(as[corev1.ConfigMap](t, ch.ConfigMap).Data) != 0 {
		t.Errorf("secret data leaked into the ConfigMap")
	}
}

func Test_security_context_is_restricted(t *testing.T) {
	d := as[appsv1.Deployment](t, render(ms()).Deployment)
	ps := d.Spec.Template.Spec.SecurityContext
	if ps == nil || !ptr.Deref(ps.RunAsNonRoot, false) || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context = %+v", ps)
	}
	c := d.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || ptr.Deref(sc.AllowPrivilegeEscalation, true) || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) ||
		!ptr.Deref(sc.RunAsNonRoot, false) || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context = %+v", sc)
	}
	var tmp bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/tmp" {
			tmp = true
		}
	}
	if !tmp {
		t.Errorf("a read-only root needs a writable /tmp; mounts = %+v", c.VolumeMounts)
	}
}

func Test_database_engines(t *testing.T) {
	t.Run("sqlite gets a PVC, a mount, Recreate and a file URL", func(t *testing.T) {
		ch := render(ms(testutil.WithSQLite("2Gi"), func(m *platformv1alpha1.Microservice) {
			m.Spec.Database.StorageClassName = new("fast")
		}))
		pvc := as[corev1.PersistentVolumeClaim](t, ch.PVC)
		if pvc.Name != "skills-data" || pvc.Spec.Resources.Requests.Storage().Cmp(resource.MustParse("2Gi")) != 0 ||
			ptr.Deref(pvc.Spec.StorageClassName, "") != "fast" || pvc.Spec.AccessModes[0] != corev1.ReadWriteOnce {
			t.Errorf("pvc = %+v", pvc.Spec)
		}
		d := as[appsv1.Deployment](t, ch.Deployment)
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate != nil {
			t.Errorf("strategy = %+v, want Recreate alone", d.Spec.Strategy)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if got := envOf(c)["DATABASE_URL"].Value; got != "sqlite:///data/skills.db" {
			t.Errorf("DATABASE_URL = %q", got)
		}
		var mounted bool
		for _, vm := range c.VolumeMounts {
			mounted = mounted || (vm.MountPath == "/data" && vm.Name == "data")
		}
		var claimed bool
		for _, v := range d.Spec.Template.Spec.Volumes {
			claimed = claimed || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "skills-data")
		}
		if !mounted || !claimed {
			t.Errorf("volume not wired: mounted=%v claimed=%v", mounted, claimed)
		}
		if ptr.Deref(d.Spec.Template.Spec.SecurityContext.FSGroup, 0) == 0 {
			t.Errorf("fsGroup unset: a non-root container could not write the volume")
		}
	})
	t.Run("postgres reads the URL from the Secret", func(t *testing.T) {
		ch := render(ms(testutil.WithPostgres("skills-db", "url")))
		if ch.PVC != nil {
			t.Errorf("postgres should not get a PVC")
		}
		e := envOf(container(t, ch))["DATABASE_URL"]
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
			e.ValueFrom.SecretKeyRef.Name != "skills-db" || e.ValueFrom.SecretKeyRef.Key != "url" {
			t.Errorf("DATABASE_URL = %+v", e)
		}
	})
}

func Test_events_become_broker_and_topic_env(t *testing.T) {
	env := envOf(container(t, render(ms(testutil.WithEvents("broker", "url", []string{"skills.assessed"}, []string{"a.b", "c.d"})))))
	b := env["BROKER_URL"]
	if b.ValueFrom == nil || b.ValueFrom.SecretKeyRef == nil || b.ValueFrom.SecretKeyRef.Name != "broker" || b.ValueFrom.SecretKeyRef.Key != "url" {
		t.Errorf("BROKER_URL = %+v", b)
	}
	if env["EVENTS_PUBLISHES"].Value != "skills.assessed" || env["EVENTS_SUBSCRIBES"].Value != "a.b,c.d" {
		t.Errorf("topics: publishes=%q subscribes=%q", env["EVENTS_PUBLISHES"].Value, env["EVENTS_SUBSCRIBES"].Value)
	}
	if _, ok := envOf(container(t, render(ms())))["BROKER_URL"]; ok {
		t.Errorf("BROKER_URL set without spec.events")
	}
}

func Test_resources_are_passed_through(t *testing.T) {
	c := container(t, render(ms(testutil.WithResources("100m", "128Mi"))))
	if c.Resources.Requests.Cpu().Cmp(resource.MustParse("100m")) != 0 || c.Resources.Limits.Memory().Cmp(resource.MustParse("128Mi")) != 0 {
		t.Errorf("resources = %+v", c.Resources)
	}
	if c := container(t, render(ms())); len(c.Resources.Requests)+len(c.Resources.Limits) != 0 {
		t.Errorf("empty resources should stay empty, got %+v", c.Resources)
	}
}

func Test_service_selects_the_pods_on_the_http_port(t *testing.T) {
	s := as[corev1.Service](t, render(ms(testutil.WithPort(9090))).Service)
	if s.Name != "skills" || s.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("service %q type %q", s.Name, s.Spec.Type)
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != "http" || s.Spec.Ports[0].Port != 9090 || s.Spec.Ports[0].TargetPort != intstr.FromString("http") {
		t.Errorf("ports = %+v", s.Spec.Ports)
	}
	if !equality.Semantic.DeepEqual(s.Spec.Selector, map[string]string{contract.LabelMicroservice: "skills"}) {
		t.Errorf("selector = %v", s.Spec.Selector)
	}
}

func Test_autoscaling_and_disruption_budget(t *testing.T) {
	for _, tc := range []struct {
		name            string
		m               *platformv1alpha1.Microservice
		wantHPA         bool
		wantPDB         *intstr.IntOrString
		wantReplicasSet bool
	}{
		{"one replica: neither", ms(), false, nil, true},
		{"three replicas: an implied PDB of 1", ms(testutil.WithReplicas(3)), false, new(intstr.FromInt32(1)), true},
		{"explicit budget on one replica", ms(func(m *platformv1alpha1.Microservice) {
			m.Spec.DisruptionBudget = &platformv1alpha1.DisruptionBudget{MinAvailable: intstr.FromString("50%")}
		}), false, new(intstr.FromString("50%")), true},
		{"autoscaling: HPA owns replicas", ms(testutil.WithAutoscaling(2, 5)), true, new(intstr.FromInt32(1)), false},
		{"autoscaling from one: no implied PDB", ms(testutil.WithAutoscaling(1, 5)), true, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := render(tc.m)
			if (ch.HPA != nil) != tc.wantHPA {
				t.Fatalf("HPA rendered = %v, want %v", ch.HPA != nil, tc.wantHPA)
			}
			if tc.wantHPA {
				h := as[autoscalingv2.HorizontalPodAutoscaler](t, ch.HPA)
				a := tc.m.Spec.Autoscaling
				if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != "skills" ||
					ptr.Deref(h.Spec.MinReplicas, 0) != *a.MinReplicas || h.Spec.MaxReplicas != a.MaxReplicas ||
					ptr.Deref(h.Spec.Metrics[0].Resource.Target.AverageUtilization, 0) != 80 {
					t.Errorf("hpa = %+v", h.Spec)
				}
			}
			if (ch.PDB != nil) != (tc.wantPDB != nil) {
				t.Fatalf("PDB rendered = %v, want %v", ch.PDB != nil, tc.wantPDB != nil)
			}
			if tc.wantPDB != nil {
				p := as[policyv1.PodDisruptionBudget](t, ch.PDB)
				if *p.Spec.MinAvailable != *tc.wantPDB {
					t.Errorf("minAvailable = %v, want %v", p.Spec.MinAvailable, tc.wantPDB)
				}
			}
			d := as[appsv1.Deployment](t, ch.Deployment)
			if (d.Spec.Replicas != nil) != tc.wantReplicasSet {
				t.Errorf("deployment replicas set = %v, want %v", d.Spec.Replicas != nil, tc.wantReplicasSet)
			}
		})
	}
}

func Test_rendering_is_deterministic(t *testing.T) {
	m := ms(testutil.WithConfig("P_", map[string]string{"A": "1", "B": "2", "C": "3"}), testutil.WithDependsOn("a", "b", "c"),
		testutil.WithEvents("s", "k", []string{"x"}, []string{"y"}))
	first := render(m)
	for range 20 {
		again := render(m)
		if !equality.Semantic.DeepEqual(first, again) {
			t.Fatalf("two renders of the same input differ")
		}
	}
}
