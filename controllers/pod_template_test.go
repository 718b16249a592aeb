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
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

// everyPodOption sets each field of PodOptions, as a team bringing its own
// service would.
func everyPodOption() platformv1alpha1.PodOptions {
	return platformv1alpha1.PodOptions{
		Command: []string{"/bin/my-service", "--serve"},
		Env: []platformv1alpha1.EnvVar{
			{Name: "MODE", Value: "strict"},
			{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "key"}}},
			{Name: "FLAGS", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "flags"}, Key: "all", Optional: new(true)}}},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "MEM_LIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory"}}},
		},
		ServiceAccountName: "my-service",
		ImagePullSecrets:   []platformv1alpha1.LocalObjectReference{{Name: "registry"}},
		ImagePullPolicy:    corev1.PullAlways,
		NodeSelector:       map[string]string{"kubernetes.io/arch": "arm64"},
		Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "skillmesh",
			Effect: corev1.TaintEffectNoSchedule}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}}}}}}},
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname",
			WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}}},
		PriorityClassName:             "high",
		TerminationGracePeriodSeconds: ptr.To[int64](45),
		RunAsUser:                     ptr.To[int64](10001),
		RunAsGroup:                    ptr.To[int64](10002),
		PodMetadata: &platformv1alpha1.PodMetadata{
			Labels:      map[string]string{"team": "x"},
			Annotations: map[string]string{"prometheus.io/scrape": "true"},
		},
		Volumes: []platformv1alpha1.Volume{
			{Name: "settings", ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
			{Name: "certs", Secret: &corev1.SecretVolumeSource{SecretName: "certs", DefaultMode: ptr.To[int32](0o440)}},
			{Name: "cache", EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: new(resource.MustParse("64Mi"))}},
			{Name: "models", PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "models", ReadOnly: true}},
		},
		VolumeMounts: []platformv1alpha1.VolumeMount{
			{Name: "settings", MountPath: "/etc/my-service"},
			{Name: "certs", MountPath: "/etc/certs/tls.crt", SubPath: "tls.crt", ReadOnly: true},
			{Name: "cache", MountPath: "/var/cache/my-service"},
			{Name: "models", MountPath: "/models", ReadOnly: true},
		},
	}
}

// podSpecs renders the pods of a Microservice and of a Gateway with opts.
func podSpecs(t *testing.T, opts platformv1alpha1.PodOptions) map[string]corev1.PodTemplateSpec {
	t.Helper()
	m := testutil.NewMicroservice("careers", "skills", testutil.WithSQLite("1Gi"), func(m *platformv1alpha1.Microservice) { m.Spec.PodOptions = opts })
	gw := testGateway(func(gw *platformv1alpha1.Gateway) { gw.Spec.PodOptions = opts })
	return map[string]corev1.PodTemplateSpec{
		"Microservice": as[appsv1.Deployment](t, render(m).Deployment).Spec.Template,
		"Gateway":      as[appsv1.Deployment](t, renderGW(t, gw).Deployment).Spec.Template,
	}
}

func Test_every_pod_option_is_rendered_for_both_kinds(t *testing.T) {
	opts := everyPodOption()
	for kind, tmpl := range podSpecs(t, opts) {
		t.Run(kind, func(t *testing.T) {
			pod, c := tmpl.Spec, tmpl.Spec.Containers[0]
			if !equality.Semantic.DeepEqual(c.Command, opts.Command) {
				t.Errorf("command = %v", c.Command)
			}
			env := envOf(c)
			for _, e := range opts.Env {
				got, ok := env[e.Name]
				if !ok || got.Value != e.Value || !equality.Semantic.DeepEqual(got.ValueFrom, e.ValueFrom) {
					t.Errorf("env %s = %+v, want %+v", e.Name, got, e)
				}
			}
			if env[contract.EnvPort].Value == "" {
				t.Errorf("the operator's PORT is gone")
			}
			if c.ImagePullPolicy != corev1.PullAlways || pod.ServiceAccountName != "my-service" ||
				len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "registry" ||
				pod.PriorityClassName != "high" || ptr.Deref(pod.TerminationGracePeriodSeconds, 0) != 45 {
				t.Errorf("pull policy %q, service account %q, pull secrets %v, priority %q, grace %v",
					c.ImagePullPolicy, pod.ServiceAccountName, pod.ImagePullSecrets, pod.PriorityClassName, pod.TerminationGracePeriodSeconds)
			}
			if !equality.Semantic.DeepEqual(pod.NodeSelector, opts.NodeSelector) || !equality.Semantic.DeepEqual(pod.Tolerations, opts.Tolerations) ||
				!equality.Semantic.DeepEqual(pod.Affinity, opts.Affinity) ||
				!equality.Semantic.DeepEqual(pod.TopologySpreadConstraints, opts.TopologySpreadConstraints) {
				t.Errorf("placement: nodeSelector %v tolerations %v affinity %+v spread %+v", pod.NodeSelector, pod.Tolerations, pod.Affinity, pod.TopologySpreadConstraints)
			}
			if sc := pod.SecurityContext; ptr.Deref(sc.RunAsUser, 0) != 10001 || ptr.Deref(sc.RunAsGroup, 0) != 10002 ||
				!ptr.Deref(sc.RunAsNonRoot, false) {
				t.Errorf("security context %+v: want user 10001, group 10002, still non-root", sc)
			}
			if tmpl.Labels["team"] != "x" || tmpl.Annotations["prometheus.io/scrape"] != "true" {
				t.Errorf("podMetadata: labels %v annotations %v", tmpl.Labels, tmpl.Annotations)
			}
			if tmpl.Labels[contract.LabelManagedBy] != contract.ManagedByValue {
				t.Errorf("the operator's labels are gone: %v", tmpl.Labels)
			}
			checkVolumes(t, opts, pod, c)
		})
	}
}

// checkVolumes: the user's volumes and mounts are there, beside /tmp.
func checkVolumes(t *testing.T, opts platformv1alpha1.PodOptions, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, v := range opts.Volumes {
		got := volumes[v.Name].VolumeSource
		want := corev1.VolumeSource{ConfigMap: v.ConfigMap, Secret: v.Secret, EmptyDir: v.EmptyDir, PersistentVolumeClaim: v.PersistentVolumeClaim}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("volume %s = %+v, want %+v", v.Name, got, want)
		}
	}
	if _, ok := volumes[tmpVolume]; !ok {
		t.Errorf("the operator's /tmp volume is gone")
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	for _, m := range opts.VolumeMounts {
		got := mounts[m.MountPath]
		if got.Name != m.Name || got.SubPath != m.SubPath || got.ReadOnly != m.ReadOnly {
			t.Errorf("mount %s = %+v, want %+v", m.MountPath, got, m)
		}
	}
	if _, ok := mounts[tmpDir]; !ok {
		t.Errorf("the operator's /tmp mount is gone")
	}
}

func Test_no_pod_options_change_nothing_the_operator_rendered_before(t *testing.T) {
	for kind, tmpl := range podSpecs(t, platformv1alpha1.PodOptions{}) {
		pod, c := tmpl.Spec, tmpl.Spec.Containers[0]
		if len(c.Command) != 0 || c.ImagePullPolicy != "" || pod.ServiceAccountName != "" || pod.ImagePullSecrets != nil ||
			pod.NodeSelector != nil || pod.Tolerations != nil || pod.Affinity != nil || pod.TopologySpreadConstraints != nil ||
			pod.PriorityClassName != "" || pod.TerminationGracePeriodSeconds != nil {
			t.Errorf("%s: an empty PodOptions set fields: %+v", kind, pod)
		}
		// /tmp first, then the kind's own volume: the order earlier releases
		// wrote, so an operator upgrade rolls no pod.
		if len(c.VolumeMounts) != 2 || c.VolumeMounts[0].MountPath != tmpDir || len(pod.Volumes) != 2 || pod.Volumes[0].Name != tmpVolume {
			t.Errorf("%s: mounts %+v volumes %+v", kind, c.VolumeMounts, pod.Volumes)
		}
	}
}

func Test_a_Secret_the_pods_read_is_in_the_hash_and_one_they_do_not_is_not(t *testing.T) {
	m := testutil.NewMicroservice("careers", "skills", testutil.WithEvents("broker", "url", nil, nil), func(m *platformv1alpha1.Microservice) {
		m.Spec.Env = everyPodOption().Env
		m.Spec.SecretRefs = []platformv1alpha1.SecretReference{{Name: "extra"}}
		m.Spec.Volumes = everyPodOption().Volumes // a Secret volume is updated in place: no rollout
	})
	if got, want := microserviceSecrets(m), []string{"api", "broker", "extra"}; !equality.Semantic.DeepEqual(got, want) {
		t.Fatalf("secrets read = %v, want %v", got, want)
	}
	hash := func(versions map[string]string) string {
		return render0(m, versions).ConfigHash
	}
	before := hash(map[string]string{"api": "u1/1", "broker": "u2/1", "extra": "u3/1"})
	if rotated := hash(map[string]string{"api": "u1/2", "broker": "u2/1", "extra": "u3/1"}); rotated == before {
		t.Errorf("rotating a Secret left the hash at %s", before)
	}
	if recreated := hash(map[string]string{"api": "u9/1", "broker": "u2/1", "extra": "u3/1"}); recreated == before {
		t.Errorf("a Secret deleted and made again left the hash at %s", before)
	}
	if again := hash(map[string]string{"extra": "u3/1", "broker": "u2/1", "api": "u1/1"}); again != before {
		t.Errorf("the same versions gave another hash: %s vs %s", again, before)
	}
	// Without Secrets the hash is the configuration's alone, as before.
	plain := testutil.NewMicroservice("careers", "skills", testutil.WithConfig("", map[string]string{"A": "1"}))
	if got, want := render0(plain, nil).ConfigHash, configHash(map[string]string{"A": "1"}, nil); got != want {
		t.Errorf("hash without Secrets = %s, want %s", got, want)
	}
	if gatewaySecrets(testGateway()) != nil {
		t.Errorf("a Gateway without env reads no Secret")
	}
	gw := testGateway(func(gw *platformv1alpha1.Gateway) { gw.Spec.Env = everyPodOption().Env })
	if got := gatewaySecrets(gw); len(got) != 1 || got[0] != "api" {
		t.Errorf("gateway secrets = %v", got)
	}
}

func render0(m *platformv1alpha1.Microservice, versions map[string]string) microserviceChildren {
	return renderMicroservice(microserviceInput{Microservice: m, SecretVersions: versions, ClusterDomain: contract.DefaultClusterDomain})
}

func Test_one_disruption_budget_rule_for_both_kinds(t *testing.T) {
	budget := &platformv1alpha1.DisruptionBudget{}
	for _, tc := range []struct {
		name     string
		replicas int32
		auto     *platformv1alpha1.Autoscaling
		budget   *platformv1alpha1.DisruptionBudget
		want     bool
	}{
		{"one replica", 1, nil, nil, false},
		{"two replicas", 2, nil, nil, true},
		{"asked for", 1, nil, budget, true},
		{"autoscaled from one", 1, &platformv1alpha1.Autoscaling{MinReplicas: ptr.To[int32](1), MaxReplicas: 4}, nil, false},
		{"autoscaled from two", 1, &platformv1alpha1.Autoscaling{MinReplicas: ptr.To[int32](2), MaxReplicas: 4}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testutil.NewMicroservice("careers", "skills", testutil.WithReplicas(tc.replicas), func(m *platformv1alpha1.Microservice) {
				m.Spec.Autoscaling, m.Spec.DisruptionBudget = tc.auto, tc.budget
			})
			gw := testGateway(func(gw *platformv1alpha1.Gateway) {
				gw.Spec.Replicas, gw.Spec.Autoscaling, gw.Spec.DisruptionBudget = new(tc.replicas), tc.auto, tc.budget
			})
			if got := render(m).PDB != nil; got != tc.want {
				t.Errorf("Microservice: PDB = %v, want %v", got, tc.want)
			}
			if got := renderGW(t, gw).PDB != nil; got != tc.want {
				t.Errorf("Gateway: PDB = %v, want %v", got, tc.want)
			}
		})
	}
}

func Test_a_dependency_in_another_namespace_gets_its_URL(t *testing.T) {
	m := testutil.NewMicroservice("careers", "career", func(m *platformv1alpha1.Microservice) {
		m.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: "skills", Namespace: "shared"}, {Name: "learning"}}
	})
	shared := testutil.NewMicroservice("shared", "skills", testutil.WithPort(9191))
	env := envOf(container(t, render(m, shared)))
	if got := env["SKILLS_URL"].Value; got != "http://skills.shared.svc.cluster.local:9191" {
		t.Errorf("SKILLS_URL = %q", got)
	}
	if got := env["LEARNING_URL"].Value; got != "http://learning.careers.svc.cluster.local:8080" {
		t.Errorf("LEARNING_URL = %q", got)
	}
	if got := dependsOnKeys(m); !equality.Semantic.DeepEqual(got, []string{"shared/skills", "careers/learning"}) {
		t.Errorf("index keys = %v", got)
	}
}

func Test_pods_wait_before_SIGTERM_for_the_endpoint_removal_to_spread(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace *int64
		want  int64 // 0: no hook
	}{
		{"Kubernetes' default grace", nil, preStopSeconds},
		{"a long grace", ptr.To[int64](120), preStopSeconds},
		{"a short grace keeps two thirds for the drain", ptr.To[int64](6), 2},
		{"no grace, no wait", ptr.To[int64](0), 0},
	} {
		for kind, tmpl := range podSpecs(t, platformv1alpha1.PodOptions{TerminationGracePeriodSeconds: tc.grace}) {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				l := tmpl.Spec.Containers[0].Lifecycle
				var got int64
				if l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
					got = l.PreStop.Sleep.Seconds
				}
				if got != tc.want || (tc.want == 0 && l != nil) {
					t.Errorf("preStop sleep = %d (lifecycle %+v), want %d", got, l, tc.want)
				}
			})
		}
	}
}
