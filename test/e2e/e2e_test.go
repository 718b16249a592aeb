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
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/test/utils"
)

const (
	// stackTimeout bounds pods starting for real: scheduling, volumes, probes.
	stackTimeout = 5 * time.Minute
	shortTimeout = 2 * time.Minute
)

// A CV with a handful of skills, and a richer one for the second assessment.
const (
	cvAda = `{"summary": "Backend engineer who enjoys Go and Kubernetes.",
  "experience": [{"title": "Senior Engineer", "company": "Acme", "years": 4,
                  "description": "Built golang microservices on k8s with PostgreSQL and Redis."}],
  "skills": ["Docker", "REST API design"]}`
	cvGraceBefore = `{"summary": "Engineer who writes Python.", "skills": ["Python"]}`
	cvGraceAfter  = `{"summary": "Engineer who writes Python and Go.",
  "experience": [{"title": "Engineer", "company": "Initech", "years": 6,
                  "description": "Go services, Docker, Git, unit testing and REST API design."}],
  "skills": ["Python", "Go", "Docker", "Git"]}`
)

var _ = Describe("skillmesh on kind", Ordered, func() {
	var gateway *gatewayClient

	AfterAll(func() { gateway.stop() })

	It("runs the manager, which serves metrics to an authorised client only", func() {
		Eventually(func(g Gomega) {
			var pods corev1.PodList
			g.Expect(k8s.List(ctx, &pods, client.InNamespace(managerNamespace), client.MatchingLabels{"control-plane": "controller-manager"})).To(Succeed())
			g.Expect(pods.Items).To(HaveLen(1))
			g.Expect(pods.Items[0].Status.Phase).To(Equal(corev1.PodRunning))
			g.Expect(podReady(&pods.Items[0])).To(BeTrue())
		}, shortTimeout).Should(Succeed())

		By("binding the metrics-reader role to a service account and asking with its token")
		_, _ = kubectl.Run("delete", "clusterrolebinding", "skillmesh-e2e-metrics", "--ignore-not-found")
		_, err := kubectl.Run("create", "clusterrolebinding", "skillmesh-e2e-metrics", "--clusterrole=skillmesh-metrics-reader",
			"--serviceaccount="+managerNamespace+":"+managerName)
		Expect(err).NotTo(HaveOccurred())
		token, err := kubectl.Run("-n", managerNamespace, "create", "token", managerName)
		Expect(err).NotTo(HaveOccurred())

		pf, err := kubectl.StartPortForward(managerNamespace, "service/skillmesh-controller-manager-metrics-service", "8443")
		Expect(err).NotTo(HaveOccurred())
		defer pf.Stop()
		url := "https://127.0.0.1:" + pf.LocalPort + "/metrics"
		// The manager's serving certificate is self-signed; the check here is
		// that it authenticates and authorises the caller.
		insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // self-signed metrics certificate
		}}
		get := func(bearer string) (int, string) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(bearer))
			}
			resp, err := insecure.Do(req)
			if err != nil {
				return 0, err.Error()
			}
			defer func() { _ = resp.Body.Close() }()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		Eventually(func(g Gomega) {
			code, body := get(token)
			g.Expect(code).To(Equal(http.StatusOK), body)
			g.Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="microservice"`))
			g.Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="gateway"`))
		}, shortTimeout).Should(Succeed())
		code, _ := get("")
		Expect(code).To(Equal(http.StatusUnauthorized), "metrics without a token")
	})

	It("brings the sample stack to Ready through real probes", func() {
		applyJWKS()
		_, err := kubectl.Run("apply", "-n", namespace, "-k", "config/samples")
		Expect(err).NotTo(HaveOccurred())
		for _, name := range []string{"skills", "career", "learning"} {
			Eventually(microserviceCondition(name, platformv1alpha1.ConditionReady), stackTimeout).Should(beTrueWith(platformv1alpha1.ReasonReady), name)
		}
		Eventually(gatewayCondition(platformv1alpha1.ConditionReady), stackTimeout).Should(beTrueWith(platformv1alpha1.ReasonReady))

		By("kstatus (Flux, kpt, cli-utils --wait) reads the whole stack as Current, and kubectl wait agrees")
		for _, obj := range []client.Object{
			&platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Name: "skills", Namespace: namespace}},
			&platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Name: "career", Namespace: namespace}},
			&platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Name: "learning", Namespace: namespace}},
			&platformv1alpha1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: namespace}},
		} {
			Eventually(kstatusOf(obj), stackTimeout).Should(Equal(status.CurrentStatus), obj.GetName())
		}
		_, err = kubectl.Run("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "microservices", "--all")
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl.Run("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "gateways", "--all")
		Expect(err).NotTo(HaveOccurred())

		By("every pod the operator made is Ready by its HTTP readiness probe")
		var pods corev1.PodList
		Expect(k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{contract.LabelManagedBy: contract.ManagedByValue})).To(Succeed())
		Expect(pods.Items).To(HaveLen(4))
		for i := range pods.Items {
			p := &pods.Items[i]
			Expect(podReady(p)).To(BeTrue(), p.Name)
			probe := p.Spec.Containers[0].ReadinessProbe
			Expect(probe).NotTo(BeNil(), p.Name)
			Expect(probe.HTTPGet).NotTo(BeNil(), p.Name)
			Expect(probe.HTTPGet.Path).To(Equal(contract.PathReadiness), p.Name)
		}
	})

	It("answers the dashboard through the gateway Service, over the three services and Redis", func() {
		var err error
		gateway, err = newGatewayClient()
		Expect(err).NotTo(HaveOccurred())

		// Ready pods reach kube-proxy's rules a moment later (EndpointSlice →
		// kube-proxy sync), so a Service may still refuse for a second: wait
		// until each route reaches its service's readiness endpoint.
		for _, route := range []string{"/api/skills", "/api/career", "/api/learning"} {
			Eventually(func(g Gomega) {
				code, body := gateway.do(http.MethodGet, route+contract.PathReadiness, "")
				g.Expect(code).To(Equal(http.StatusOK), body)
			}, shortTimeout).Should(Succeed(), route)
		}
		code, body := gateway.do(http.MethodPost, "/api/skills/users/ada/assess", cvAda)
		Expect(code).To(Equal(http.StatusCreated), body)
		code, body = gateway.do(http.MethodPost, "/api/career/users/ada/career-plan", `{"target_role": "backend-engineer"}`)
		Expect(code).To(Equal(http.StatusOK), body)

		By("learning recommends courses once career.plan.updated reached it through Redis")
		var course string
		Eventually(func(g Gomega) {
			code, body := gateway.do(http.MethodGet, "/api/learning/users/ada/recommendations", "")
			g.Expect(code).To(Equal(http.StatusOK), body)
			var rec struct {
				Recommendations []struct {
					Courses []struct {
						ID string `json:"id"`
					} `json:"courses"`
				} `json:"recommendations"`
			}
			g.Expect(json.Unmarshal([]byte(body), &rec)).To(Succeed())
			g.Expect(rec.Recommendations).NotTo(BeEmpty())
			g.Expect(rec.Recommendations[0].Courses).NotTo(BeEmpty())
			course = rec.Recommendations[0].Courses[0].ID
		}, shortTimeout).Should(Succeed())
		code, body = gateway.do(http.MethodPost, "/api/learning/users/ada/enrollments", fmt.Sprintf(`{"course_id": %q}`, course))
		Expect(code).To(Equal(http.StatusCreated), body)

		resp, body := gateway.get("/users/ada/dashboard")
		Expect(resp.StatusCode).To(Equal(http.StatusOK), body)
		Expect(resp.Header.Get("X-Skillmesh-Completed")).To(Equal("true"))
		var dash struct {
			Skills struct {
				Skills []json.RawMessage `json:"skills"`
			} `json:"skills"`
			Career struct {
				Progress int `json:"progress"`
			} `json:"career"`
			Courses struct {
				Courses []struct {
					ID string `json:"id"`
				} `json:"courses"`
			} `json:"courses"`
			TotalSkills          int `json:"total_skills"`
			CompletionPercentage int `json:"completion_percentage"`
		}
		Expect(json.Unmarshal([]byte(body), &dash)).To(Succeed())
		Expect(dash.TotalSkills).To(Equal(len(dash.Skills.Skills)))
		Expect(dash.TotalSkills).To(BeNumerically(">=", 5))
		Expect(dash.CompletionPercentage).To(Equal(dash.Career.Progress))
		Expect(dash.Courses.Courses).To(ContainElement(HaveField("ID", course)))
	})

	// On the sample stack as shipped, before later specs change it; every
	// spec after these runs with the policies enforced.
	networkPolicySpecs()

	It("rolls new pods on a config change, going Progressing then Ready", func() {
		before := getMicroservice("skills")
		oldPods := podNames("skills")
		Expect(oldPods).NotTo(BeEmpty())

		seen := recordConditions("skills")
		defer seen.stop()
		patch := client.MergeFrom(before.DeepCopy())
		before.Spec.Config["LOG_LEVEL"] = "debug"
		Expect(k8s.Patch(ctx, before, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			ms := getMicroservice("skills")
			g.Expect(ms.Status.ObservedGeneration).To(Equal(ms.Generation))
			g.Expect(ms.Status.ConfigHash).NotTo(Equal(before.Status.ConfigHash))
			g.Expect(meta.FindStatusCondition(ms.Status.Conditions, platformv1alpha1.ConditionReady)).To(beTrueWith(platformv1alpha1.ReasonReady))
			pods := podNames("skills")
			g.Expect(pods).To(HaveLen(1))
			g.Expect(oldPods).NotTo(ContainElement(pods[0]), "a new pod runs the new config")
		}, stackTimeout).Should(Succeed())

		transitions := seen.stop()
		Expect(transitions).To(ContainElement(HavePrefix("Progressing=True")), "%v", transitions)
		Expect(transitions[len(transitions)-1]).To(Equal("Progressing=False/RolloutComplete Ready=True/Ready"), "%v", transitions)
		Expect(indexWithPrefix(transitions, "Progressing=True")).To(BeNumerically("<", len(transitions)-1))
	})

	It("turns the dependents' DependenciesReady False while a dependency is scaled to zero, and back", func() {
		scale("skills", 0)
		Eventually(microserviceCondition("career", platformv1alpha1.ConditionDependenciesReady), shortTimeout).
			Should(And(haveStatus(metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotReady), HaveField("Message", ContainSubstring("skills"))))
		Expect(microserviceCondition("career", platformv1alpha1.ConditionReady)()).To(haveStatus(metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotReady))
		By("readiness flows on along dependsOn: learning depends on career")
		Eventually(microserviceCondition("learning", platformv1alpha1.ConditionDependenciesReady), shortTimeout).
			Should(haveStatus(metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotReady))

		scale("skills", 1)
		Eventually(microserviceCondition("career", platformv1alpha1.ConditionDependenciesReady), stackTimeout).
			Should(beTrueWith(platformv1alpha1.ReasonDependenciesReady))
		Eventually(microserviceCondition("learning", platformv1alpha1.ConditionReady), stackTimeout).Should(beTrueWith(platformv1alpha1.ReasonReady))
	})

	It("processes an event published while the career pod is deleted, in the pod that replaces it", func() {
		code, body := gateway.do(http.MethodPost, "/api/skills/users/grace/assess", cvGraceBefore)
		Expect(code).To(Equal(http.StatusCreated), body)
		code, body = gateway.do(http.MethodPost, "/api/career/users/grace/career-plan", `{"target_role": "backend-engineer"}`)
		Expect(code).To(Equal(http.StatusOK), body)

		old := podNames("career")
		Expect(old).To(HaveLen(1))
		By("deleting " + old[0] + " and waiting until it is gone")
		_, err := kubectl.Run("-n", namespace, "delete", "pod", old[0], "--wait=true", "--timeout=120s")
		Expect(err).NotTo(HaveOccurred())

		By("publishing skills.assessed while no career pod from before runs")
		code, body = gateway.do(http.MethodPost, "/api/skills/users/grace/assess", cvGraceAfter)
		Expect(code).To(Equal(http.StatusCreated), body)
		var assessed struct {
			AssessedAt string `json:"assessed_at"`
		}
		Expect(json.Unmarshal([]byte(body), &assessed)).To(Succeed())

		Eventually(func(g Gomega) {
			code, body := gateway.do(http.MethodGet, "/api/career/users/grace/career-plan", "")
			g.Expect(code).To(Equal(http.StatusOK), body)
			var plan struct {
				BasedOn string `json:"based_on"`
			}
			g.Expect(json.Unmarshal([]byte(body), &plan)).To(Succeed())
			g.Expect(plan.BasedOn).To(Equal(assessed.AssessedAt))
		}, stackTimeout).Should(Succeed())
		now := podNames("career")
		Expect(now).To(HaveLen(1))
		Expect(now[0]).NotTo(Equal(old[0]))
	})

	It("reports a Microservice whose image cannot be pulled as not Ready, naming the kubelet's reason", func() {
		broken := &platformv1alpha1.Microservice{
			ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: namespace},
			Spec: platformv1alpha1.MicroserviceSpec{
				Image: "skillmesh/does-not-exist:v0.0.1",
				Args:  []string{"skills"},
				Port:  8080,
			},
		}
		Expect(k8s.Create(ctx, broken)).To(Succeed())
		Eventually(func(g Gomega) {
			c := microserviceCondition("broken", platformv1alpha1.ConditionReady)()
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(BeElementOf("ErrImagePull", "ImagePullBackOff"))
			g.Expect(c.Message).To(ContainSubstring("skillmesh/does-not-exist:v0.0.1"))
		}, shortTimeout).Should(Succeed())

		By("kstatus reads it as Failed at once, so a GitOps tool stops waiting")
		Eventually(kstatusOf(broken), shortTimeout).Should(Equal(status.FailedStatus))
		c := microserviceCondition("broken", platformv1alpha1.ConditionStalled)()
		Expect(c).NotTo(BeNil())
		Expect(c.Status).To(Equal(metav1.ConditionTrue))
		Expect(c.Reason).To(BeElementOf("ErrImagePull", "ImagePullBackOff"))
	})

	It("documents the API: kubectl explain shows spec.env with valueFrom", func() {
		out, err := kubectl.Run("explain", "microservice.spec.env")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("valueFrom"))
	})

	It("garbage-collects a deleted Microservice's children", func() {
		Expect(childrenOf("broken")).NotTo(BeEmpty())
		Expect(k8s.Delete(ctx, &platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: namespace}})).To(Succeed())
		Eventually(childrenOf, shortTimeout).WithArguments("broken").Should(BeEmpty())
	})

	It("turns the Gateway's BackendsReady False when a backend goes, and the dashboard answers partially", func() {
		Expect(k8s.Delete(ctx, &platformv1alpha1.Microservice{ObjectMeta: metav1.ObjectMeta{Name: "learning", Namespace: namespace}})).To(Succeed())
		Eventually(gatewayCondition(platformv1alpha1.ConditionBackendsReady), shortTimeout).
			Should(And(haveStatus(metav1.ConditionFalse, platformv1alpha1.ReasonBackendNotFound), HaveField("Message", ContainSubstring("learning"))))
		// whenDeleted defaults to Retain: everything goes but the claim and its data.
		Eventually(childrenOf, shortTimeout).WithArguments("learning").Should(ConsistOf("PersistentVolumeClaim"))
		claim := &corev1.PersistentVolumeClaim{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "learning-data"}, claim)).To(Succeed())
		Expect(claim.OwnerReferences).To(BeEmpty())

		Eventually(func(g Gomega) {
			resp, body := gateway.get("/users/ada/dashboard")
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK), body)
			g.Expect(resp.Header.Get("X-Skillmesh-Completed")).To(Equal("false"))
			var dash struct {
				Errors map[string]json.RawMessage `json:"_errors"`
				Skills json.RawMessage            `json:"skills"`
			}
			g.Expect(json.Unmarshal([]byte(body), &dash)).To(Succeed())
			g.Expect(dash.Errors).To(HaveKey("courses"))
			g.Expect(dash.Skills).NotTo(BeEmpty(), "the backends that answer are still in the dashboard")
		}, shortTimeout).Should(Succeed())

		By("restoring learning: the Gateway counts it again")
		applyJWKS()
		_, err := kubectl.Run("apply", "-n", namespace, "-k", "config/samples")
		Expect(err).NotTo(HaveOccurred())
		Eventually(gatewayCondition(platformv1alpha1.ConditionBackendsReady), stackTimeout).Should(beTrueWith(platformv1alpha1.ReasonBackendsReady))
		again := &corev1.PersistentVolumeClaim{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "learning-data"}, again)).To(Succeed())
		Expect(again.UID).To(Equal(claim.UID), "the new learning took the same claim back")
		// No plan is published again: ada's courses come from the data that
		// stayed on the claim.
		Eventually(func(g Gomega) {
			resp, body := gateway.get("/users/ada/dashboard")
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK), body)
			g.Expect(resp.Header.Get("X-Skillmesh-Completed")).To(Equal("true"))
		}, shortTimeout).Should(Succeed())
	})

	resilienceSpecs()
	edgeSpecs()
})

// --- helpers ---------------------------------------------------------------

func getMicroservice(name string) *platformv1alpha1.Microservice {
	ms := &platformv1alpha1.Microservice{}
	ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, ms)).To(Succeed())
	return ms
}

func microserviceCondition(name, condType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		ms := &platformv1alpha1.Microservice{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, ms); err != nil {
			return nil
		}
		return meta.FindStatusCondition(ms.Status.Conditions, condType)
	}
}

// gatewayCondition reads a condition of the sample Gateway "api".
func gatewayCondition(condType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		gw := &platformv1alpha1.Gateway{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "api"}, gw); err != nil {
			return nil
		}
		return meta.FindStatusCondition(gw.Status.Conditions, condType)
	}
}

func haveStatus(want metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), HaveField("Status", want), HaveField("Reason", reason))
}

func beTrueWith(reason string) OmegaMatcher { return haveStatus(metav1.ConditionTrue, reason) }

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podNames lists a Microservice's pods that are not being deleted.
func podNames(name string) []string {
	var pods corev1.PodList
	ExpectWithOffset(1, k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{contract.LabelMicroservice: name})).To(Succeed())
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	return names
}

func scale(name string, replicas int32) {
	ms := getMicroservice(name)
	patch := client.MergeFrom(ms.DeepCopy())
	ms.Spec.Replicas = new(replicas)
	ExpectWithOffset(1, k8s.Patch(ctx, ms, patch)).To(Succeed())
}

// childrenOf lists what the operator made for a Microservice and still exists.
func childrenOf(name string) []string {
	sel := client.MatchingLabels{contract.LabelMicroservice: name}
	var out []string
	var deployments appsv1.DeploymentList
	var services corev1.ServiceList
	var configMaps corev1.ConfigMapList
	var claims corev1.PersistentVolumeClaimList
	var pods corev1.PodList
	for kind, list := range map[string]client.ObjectList{
		"Deployment": &deployments, "Service": &services, "ConfigMap": &configMaps,
		"PersistentVolumeClaim": &claims, "Pod": &pods,
	} {
		if err := k8s.List(ctx, list, client.InNamespace(namespace), sel); err != nil {
			out = append(out, kind+" list failed: "+err.Error())
			continue
		}
		n := meta.LenList(list)
		for range n {
			out = append(out, kind)
		}
	}
	return out
}

func indexWithPrefix(list []string, prefix string) int {
	for i, s := range list {
		if strings.HasPrefix(s, prefix) {
			return i
		}
	}
	return -1
}

// conditionRecorder watches one Microservice and records every distinct
// (Progressing, Ready) pair its status goes through, so a spec can assert
// the order of transitions without sampling at a lucky moment.
type conditionRecorder struct {
	mu   sync.Mutex
	seen []string
	w    watch.Interface
	done chan struct{}
}

func recordConditions(name string) *conditionRecorder {
	w, err := k8s.Watch(ctx, &platformv1alpha1.MicroserviceList{}, client.InNamespace(namespace),
		client.MatchingFields{"metadata.name": name})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	r := &conditionRecorder{w: w, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range w.ResultChan() {
			ms, ok := ev.Object.(*platformv1alpha1.Microservice)
			if !ok {
				continue
			}
			state := describe(ms.Status.Conditions, platformv1alpha1.ConditionProgressing) + " " +
				describe(ms.Status.Conditions, platformv1alpha1.ConditionReady)
			r.mu.Lock()
			if len(r.seen) == 0 || r.seen[len(r.seen)-1] != state {
				r.seen = append(r.seen, state)
			}
			r.mu.Unlock()
		}
	}()
	return r
}

func describe(conds []metav1.Condition, t string) string {
	c := meta.FindStatusCondition(conds, t)
	if c == nil {
		return t + "=?"
	}
	return fmt.Sprintf("%s=%s/%s", t, c.Status, c.Reason)
}

// stop ends the watch and returns what it saw; calling it twice is fine.
func (r *conditionRecorder) stop() []string {
	r.w.Stop()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// gatewayClient talks to the gateway's Service through a port-forward,
// restarting the forward when the connection breaks.
type gatewayClient struct {
	pf   *utils.PortForward
	http *http.Client
}

func newGatewayClient() (*gatewayClient, error) {
	g := &gatewayClient{http: &http.Client{Timeout: 15 * time.Second}}
	return g, g.forward()
}

func (g *gatewayClient) forward() error {
	g.pf.Stop()
	pf, err := kubectl.StartPortForward(namespace, "service/api", "8080")
	g.pf = pf
	return err
}

func (g *gatewayClient) stop() {
	if g != nil {
		g.pf.Stop()
	}
}

func (g *gatewayClient) send(method, path, body string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, "http://127.0.0.1:"+g.pf.LocalPort+path, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	authorize(req)
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func (g *gatewayClient) get(path string) (*http.Response, string) {
	resp, body := g.request(http.MethodGet, path, "")
	return resp, body
}

func (g *gatewayClient) do(method, path, body string) (int, string) {
	resp, b := g.request(method, path, body)
	return resp.StatusCode, b
}

func (g *gatewayClient) request(method, path, body string) (*http.Response, string) {
	resp, b, err := g.send(method, path, body)
	if err != nil {
		// The forward dies with the pod it picked; one fresh forward, once.
		ExpectWithOffset(2, g.forward()).To(Succeed())
		resp, b, err = g.send(method, path, body)
	}
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	return resp, b
}

// kstatusOf is what Flux, kpt and cli-utils' apply --wait compute for obj.
func kstatusOf(obj client.Object) func() status.Status {
	return func() status.Status {
		fresh, ok := obj.DeepCopyObject().(client.Object)
		if !ok || k8s.Get(ctx, client.ObjectKeyFromObject(obj), fresh) != nil {
			return status.UnknownStatus
		}
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(fresh)
		if err != nil {
			return status.UnknownStatus
		}
		res, err := status.Compute(&unstructured.Unstructured{Object: raw})
		if err != nil {
			return status.UnknownStatus
		}
		return res.Status
	}
}
