//go:build e2e

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

package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// strangerNamespace holds a pod that is in no graph: it may call the
// gateway (the entry point) and nothing else.
const strangerNamespace = "skillmesh-e2e-stranger"

// peer is one pod of the matrix: how to find it, and the Service it serves
// behind (the address others dial).
type peer struct {
	name     string
	selector string // label selector of its pod in namespace; "" for the stranger
	addr     string // host:port of its Service; "" when it serves nothing
}

func stackPeers() []peer {
	svc := func(name string, port int) string {
		return fmt.Sprintf("%s.%s.svc.cluster.local:%d", name, namespace, port)
	}
	return []peer{
		{"gateway", contract.LabelGateway + "=api", svc("api", 8080)},
		{"skills", contract.LabelMicroservice + "=skills", svc("skills", 8080)},
		{"career", contract.LabelMicroservice + "=career", svc("career", 8080)},
		{"learning", contract.LabelMicroservice + "=learning", svc("learning", 8080)},
		{"redis", "app.kubernetes.io/name=redis", svc("redis", 6379)},
		{"stranger", "", ""},
	}
}

// graphEdges are the calls the sample stack's graph declares, as
// caller → callee: the Gateway's routes and aggregations, dependsOn
// (career → skills, learning → career) and every service's broker. The
// gateway admits every caller, but the services' own egress is the graph's,
// so only the pods without a policy of ours (Redis, whose sample policy
// closes only its ingress, and the stranger) reach it besides.
func graphEdges() map[[2]string]bool {
	return map[[2]string]bool{
		{"gateway", "skills"}: true, {"gateway", "career"}: true, {"gateway", "learning"}: true,
		{"career", "skills"}: true, {"learning", "career"}: true,
		{"skills", "redis"}: true, {"career", "redis"}: true, {"learning", "redis"}: true,
		{"redis", "gateway"}: true, {"stranger", "gateway"}: true,
	}
}

func networkPolicySpecs() {
	It("leaves kube-score no CRITICAL on the sample stack's objects but the two the README justifies", func() {
		manifests := stackManifests("Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler")
		// The README ("An outside judge") says why these two stay: no CPU
		// limit (throttling, not protection), and IfNotPresent with pinned
		// tags (kind has no registry to pull from).
		cmd := exec.Command(envOr("KUBE_SCORE", "kube-score"), "score", "--output-format", "ci", //nolint:gosec // test tool
			"--ignore-container-cpu-limit", "--ignore-test", "container-image-pull-policy", "-")
		cmd.Stdin = strings.NewReader(manifests)
		out, err := cmd.CombinedOutput()
		var critical, warnings []string
		for _, l := range nonEmptyLines(string(out)) {
			switch {
			case strings.HasPrefix(l, "[CRITICAL]"):
				critical = append(critical, l)
			case strings.HasPrefix(l, "[WARNING]"):
				warnings = append(warnings, l)
			}
		}
		GinkgoWriter.Printf("kube-score: %d CRITICAL, %d WARNING\n%s\n", len(critical), len(warnings), strings.Join(warnings, "\n"))
		Expect(critical).To(BeEmpty(), "kube-score:\n%s", out)
		if err != nil {
			// kube-score exits 1 for a CRITICAL only; anything else is its own failure.
			Expect(err).To(BeAssignableToTypeOf(&exec.ExitError{}), string(out))
		}
	})

	It("admits exactly the graph's edges: a connection from every pod's own network namespace to every other", func() {
		peers := stackPeers()
		By("every Microservice and the Gateway has its policy, and says what it admits")
		for _, name := range []string{"skills", "career", "learning"} {
			Eventually(microserviceCondition(name, platformv1alpha1.ConditionNetworkPolicyReady), shortTimeout).
				Should(beTrueWith(platformv1alpha1.ReasonNetworkPolicyRendered), name)
		}
		Eventually(gatewayCondition(platformv1alpha1.ConditionNetworkPolicyReady), shortTimeout).
			Should(beTrueWith(platformv1alpha1.ReasonNetworkPolicyRendered))
		// The node's policy agent: kube-router's firewall in the offline node
		// image (hack/kind/node/network-policy.yaml), kindnetd in kind's own.
		agent := ""
		for _, ds := range []string{"kube-router", "kindnet"} {
			if _, err := kubectl.Run("-n", "kube-system", "get", "daemonset", ds); err == nil {
				agent = ds
			}
		}
		Expect(agent).NotTo(BeEmpty(), "no NetworkPolicy agent (kube-router or kindnet) runs in kube-system: nothing would enforce the policies")
		out, err := kubectl.Run("-n", "kube-system", "rollout", "status", "daemonset/"+agent, "--timeout=120s")
		Expect(err).NotTo(HaveOccurred(), "the node's NetworkPolicy agent %s: %s", agent, out)

		By("a stranger pod in another namespace")
		stranger := startStranger(peers)

		By("dialling every other pod's Service from each pod, in a debug container beside it")
		observed := map[[2]string]string{}
		for _, src := range peers {
			var lines []string
			if src.name == "stranger" {
				lines = strangerResult(stranger)
			} else {
				lines = dialFrom(src, peers)
			}
			for _, l := range lines {
				target, result, _ := strings.Cut(l, " ")
				observed[[2]string{src.name, target}] = result
			}
		}

		expected := graphEdges()
		table, wrong := matrix(peers, expected, observed)
		GinkgoWriter.Printf("connectivity matrix (row calls column; ✓ open, · refused or timed out; expected where they differ):\n%s", table)
		Expect(wrong).To(BeEmpty(), "the connections that differ from the graph:\n%s", table)

		By("the stack still serves through the policies: the dashboard answers, every service is Ready")
		// Through a port-forward to the gateway: its calls to the three
		// services cross their policies.
		gw, err := newGatewayClient()
		Expect(err).NotTo(HaveOccurred())
		defer gw.stop()
		resp, body := gw.request(http.MethodGet, "/users/ada/dashboard", "")
		Expect(resp.StatusCode).To(Equal(http.StatusOK), body)
		Expect(resp.Header.Get("X-Skillmesh-Completed")).To(Equal("true"), "every backend answered through the policies: %s", body)
		for _, name := range []string{"skills", "career", "learning"} {
			Expect(microserviceCondition(name, platformv1alpha1.ConditionReady)()).To(beTrueWith(platformv1alpha1.ReasonReady), name)
		}
	})
}

// targetsFor are the dial arguments from src: every other peer that serves.
func targetsFor(src peer, peers []peer) []string {
	var args []string
	for _, t := range peers {
		if t.name != src.name && t.addr != "" {
			args = append(args, t.name+"="+t.addr)
		}
	}
	return args
}

// dialFrom runs `skillmesh-svc dial` in an ephemeral container of src's
// pod (it shares the pod's network namespace, so the pod's own policy
// applies) and returns its lines.
func dialFrom(src peer, peers []peer) []string {
	pods := &corev1.PodList{}
	Expect(k8s.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: mustSelector(src.selector)})).To(Succeed())
	var pod string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			pod = p.Name
			break
		}
	}
	Expect(pod).NotTo(BeEmpty(), "no ready pod of %s", src.name)
	container := fmt.Sprintf("netcheck-%d", time.Now().UnixNano())
	args := append([]string{"-n", namespace, "debug", "pod/" + pod, "--image=" + servicesImage,
		"--image-pull-policy=IfNotPresent", "--profile=restricted", "-c", container, "--",
		"/skillmesh-svc", "dial", "-timeout", "3s"}, targetsFor(src, peers)...)
	out, err := kubectl.Run(args...)
	Expect(err).NotTo(HaveOccurred(), out)
	Eventually(func() (*corev1.ContainerStateTerminated, error) {
		p := &corev1.Pod{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: pod}, p); err != nil {
			return nil, err
		}
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name == container {
				return s.State.Terminated, nil
			}
		}
		return nil, nil
	}, time.Minute).Should(HaveField("ExitCode", BeZero()), "the dial check in %s", pod)
	logs, err := kubectl.Run("-n", namespace, "logs", "pod/"+pod, "-c", container)
	Expect(err).NotTo(HaveOccurred(), logs)
	return nonEmptyLines(logs)
}

// startStranger runs the dial check as a pod of its own in a namespace no
// policy names.
func startStranger(peers []peer) *corev1.Pod {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: strangerNamespace}}
	if err := k8s.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		Fail(fmt.Sprintf("create namespace %s: %v", strangerNamespace, err))
	}
	DeferCleanup(func() {
		_, _ = kubectl.Run("delete", "namespace", strangerNamespace, "--wait=false", "--ignore-not-found")
	})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: strangerNamespace, Name: fmt.Sprintf("stranger-%d", time.Now().Unix())},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: new(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: "dial", Image: servicesImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Args: append([]string{"dial", "-timeout", "3s"}, targetsFor(peer{name: "stranger"}, peers)...),
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: new(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		},
	}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	return pod
}

func strangerResult(pod *corev1.Pod) []string {
	Eventually(func() (corev1.PodPhase, error) {
		p := &corev1.Pod{}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), p)
		return p.Status.Phase, err
	}, time.Minute).Should(Equal(corev1.PodSucceeded))
	logs, err := kubectl.Run("-n", strangerNamespace, "logs", "pod/"+pod.Name)
	Expect(err).NotTo(HaveOccurred(), logs)
	return nonEmptyLines(logs)
}

// matrix prints observed against expected, a row per caller, and lists
// the pairs where they differ.
func matrix(peers []peer, expected map[[2]string]bool, observed map[[2]string]string) (string, []string) {
	var targets []string
	for _, p := range peers {
		if p.addr != "" {
			targets = append(targets, p.name)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s", "")
	for _, t := range targets {
		fmt.Fprintf(&b, " %-22s", t)
	}
	b.WriteString("\n")
	var wrong []string
	for _, src := range peers {
		fmt.Fprintf(&b, "%-10s", src.name)
		for _, t := range targets {
			cell := "-"
			if t != src.name {
				got, want := observed[[2]string{src.name, t}], expected[[2]string{src.name, t}]
				switch {
				case got == "open" && want, got != "open" && got != "" && !strings.HasPrefix(got, "error") && !want:
					cell = map[bool]string{true: "✓", false: "·"}[want]
				default:
					cell = fmt.Sprintf("%s (want %s)", orMissing(got), map[bool]string{true: "open", false: "closed"}[want])
					wrong = append(wrong, fmt.Sprintf("%s → %s: %s, want %s", src.name, t, orMissing(got),
						map[bool]string{true: "open", false: "closed"}[want]))
				}
			}
			fmt.Fprintf(&b, " %-22s", cell)
		}
		b.WriteString("\n")
	}
	slices.Sort(wrong)
	return b.String(), wrong
}

func orMissing(s string) string {
	if s == "" {
		return "no answer"
	}
	return s
}

func nonEmptyLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func mustSelector(s string) labels.Selector {
	sel, err := labels.Parse(s)
	Expect(err).NotTo(HaveOccurred(), s)
	return sel
}

// stackManifests are the live objects of those kinds in the stack's
// namespace, as YAML documents, status and managed fields left out.
func stackManifests(kinds ...string) string {
	gvks := map[string]schema.GroupVersionKind{
		"Deployment":              {Group: "apps", Version: "v1", Kind: "DeploymentList"},
		"Service":                 {Version: "v1", Kind: "ServiceList"},
		"NetworkPolicy":           {Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicyList"},
		"PodDisruptionBudget":     {Group: "policy", Version: "v1", Kind: "PodDisruptionBudgetList"},
		"HorizontalPodAutoscaler": {Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscalerList"},
	}
	docs := make([]string, 0, 16)
	for _, k := range kinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvks[k])
		Expect(k8s.List(ctx, list, client.InNamespace(namespace))).To(Succeed(), k)
		for _, item := range list.Items {
			unstructured.RemoveNestedField(item.Object, "status")
			unstructured.RemoveNestedField(item.Object, "metadata", "managedFields")
			raw, err := yaml.Marshal(item.Object)
			Expect(err).NotTo(HaveOccurred())
			docs = append(docs, string(raw))
		}
	}
	Expect(docs).NotTo(BeEmpty())
	return strings.Join(docs, "---\n")
}
