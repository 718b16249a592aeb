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
	"encoding/json"
	"fmt"
	"io"
	stdmaps "maps"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/test/utils"
)

// resilienceSpecs are the failure and rollout specs: each puts a steady
// load on the stack through the gateway's NodePort (balanced by kube-proxy
// like a user's traffic, never a port-forward pinned to one pod), breaks or
// rolls a part, and counts every answer. They run after the others, inside
// the suite's Ordered container, on the stack those left Ready.
func resilienceSpecs() {
	var edge *edgeClient

	It("reaches the gateway through a NodePort, as make dev does", func() {
		_, err := kubectl.Run("apply", "-n", namespace, "-f", "config/dev/gateway-nodeport.yaml")
		Expect(err).NotTo(HaveOccurred())
		edge = newEdgeClient()
		Eventually(func(g Gomega) {
			code, body := edge.do(http.MethodGet, "/users/ada/dashboard", "")
			g.Expect(code).To(Equal(http.StatusOK), body)
		}, shortTimeout).Should(Succeed())
	})

	It("keeps reads and writes answering while Redis is down for 30 s, and delivers every event made meanwhile", func() {
		ready := watchReady("skills", "career", "learning")
		l := startLoad(edge, readers(), assessWriter("outage"))
		time.Sleep(3 * time.Second)

		By("scaling Redis to zero")
		_, err := kubectl.Run("-n", namespace, "scale", "deployment/redis", "--replicas=0")
		Expect(err).NotTo(HaveOccurred())
		Eventually(redisPods, shortTimeout).Should(BeEmpty())
		down := time.Now()
		before := len(l.assessed())

		By("skills' /health says warn, the broker down and events waiting in the outbox; readiness passes")
		Eventually(func(g Gomega) {
			code, body := edge.do(http.MethodGet, "/api/skills/health", "")
			g.Expect(code).To(Equal(http.StatusOK), body)
			var rep struct {
				Status string `json:"status"`
				Checks map[string]struct {
					Status        string   `json:"status"`
					ObservedValue *float64 `json:"observedValue"`
				} `json:"checks"`
			}
			g.Expect(json.Unmarshal([]byte(body), &rep)).To(Succeed())
			g.Expect(rep.Status).To(Equal("warn"), body)
			g.Expect(rep.Checks["broker"].Status).To(Equal("warn"), body)
			g.Expect(rep.Checks["broker"].ObservedValue).To(HaveValue(BeNumerically(">", 0)), body)
		}, shortTimeout).Should(Succeed())
		time.Sleep(time.Until(down.Add(30 * time.Second)))
		during := len(l.assessed()) - before

		By("bringing Redis back")
		_, err = kubectl.Run("-n", namespace, "scale", "deployment/redis", "--replicas=1")
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl.Run("-n", namespace, "rollout", "status", "deployment/redis", "--timeout=120s")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(3 * time.Second)
		l.stop()
		notReady := ready.stop()
		l.report("Redis down 30 s")

		Expect(l.reads.failed()).To(BeZero(), l.reads.failures())
		Expect(l.writes.failed()).To(BeZero(), l.writes.failures())
		Expect(notReady).To(BeEmpty(), "Microservices stay Ready while the broker is down")
		Expect(during).To(BeNumerically(">", 0), "assessments were made during the outage")

		By("every assessment, those made during the outage too, reaches career and then learning")
		assessed := l.assessed()
		Eventually(delivered, stackTimeout).WithArguments(edge, assessed).Should(Equal(len(assessed)))
		GinkgoWriter.Printf("Redis down 30 s: %d assessments (%d during the outage), %d plans refreshed and recommended after\n",
			len(assessed), during, delivered(edge, assessed))
	})

	It("loses no event when the Redis pod is deleted with events in flight: its data is on a volume", func() {
		streamBefore := redisCLI("XLEN", "skillmesh:events:skills.assessed")
		l := startLoad(edge, nil, assessWriter("inflight"), assessWriter("inflight2"))
		Eventually(l.writes.oks, shortTimeout).Should(BeNumerically(">=", 10))

		By("deleting the Redis pod")
		pods := redisPods()
		Expect(pods).To(HaveLen(1))
		_, err := kubectl.Run("-n", namespace, "delete", "pod", pods[0], "--wait=false")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() []string { return slices.DeleteFunc(redisPods(), func(p string) bool { return p == pods[0] }) }, shortTimeout).ShouldNot(BeEmpty())
		_, err = kubectl.Run("-n", namespace, "rollout", "status", "deployment/redis", "--timeout=120s")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(3 * time.Second)
		l.stop()
		l.report("Redis pod deleted")
		Expect(l.writes.failed()).To(BeZero(), l.writes.failures())

		assessed := l.assessed()
		Eventually(delivered, stackTimeout).WithArguments(edge, assessed).Should(Equal(len(assessed)))
		By("the stream kept what it held before the pod went, and holds each new assessment once")
		Eventually(func() int { return redisCLI("XLEN", "skillmesh:events:skills.assessed") }, shortTimeout).
			Should(Equal(streamBefore + len(assessed)))
		groups, err := kubectl.Run("-n", namespace, "exec", "deploy/redis", "--", "redis-cli", "XINFO", "GROUPS", "skillmesh:events:skills.assessed")
		Expect(err).NotTo(HaveOccurred())
		Expect(groups).To(ContainSubstring("career"))
		GinkgoWriter.Printf("Redis pod deleted: %d assessments, %d delivered, stream %d → %d\n",
			len(assessed), len(assessed), streamBefore, streamBefore+len(assessed))
	})

	It("measures the gap of a sqlite Microservice's rollout (one replica, Recreate)", func() {
		l := startLoad(edge, []worker{{name: "skills reads", next: func(int) (string, string, string) {
			return http.MethodGet, "/api/skills/users/ada/skills", ""
		}}})
		time.Sleep(2 * time.Second)
		_, err := kubectl.Run("-n", namespace, "rollout", "restart", "deployment/skills")
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl.Run("-n", namespace, "rollout", "status", "deployment/skills", "--timeout=180s")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			code, body := edge.do(http.MethodGet, "/api/skills/users/ada/skills", "")
			g.Expect(code).To(Equal(http.StatusOK), body)
		}, shortTimeout).Should(Succeed())
		time.Sleep(2 * time.Second)
		l.stop()
		l.report("sqlite rollout (skills, 1 replica)")
		GinkgoWriter.Printf("sqlite rollout gap: %s with failures (%d of %d requests)\n",
			l.reads.gap().Round(100*time.Millisecond), l.reads.failed(), l.reads.count())
	})

	It("rolls the gateway with 2 replicas under load with no failed request", func() {
		gw := &platformv1alpha1.Gateway{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "api"}, gw)).To(Succeed())
		patch := client.MergeFrom(gw.DeepCopy())
		gw.Spec.Replicas = ptr.To[int32](2)
		Expect(k8s.Patch(ctx, gw, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "api"}, gw)).To(Succeed())
			g.Expect(gw.Status.Ready).To(Equal("2/2"))
		}, stackTimeout).Should(Succeed())

		rollUnderLoad("deployment/api", "gateway rollout (2 replicas)", edge, readers(), assessWriter("gwroll"))
	})

	It("runs career on PostgreSQL with 2 replicas and rolls it under load with no failed request", func() {
		_, err := kubectl.Run("apply", "-n", namespace, "-f", "test/e2e/testdata/postgres.yaml")
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl.Run("-n", namespace, "rollout", "status", "deployment/postgres", "--timeout=180s")
		Expect(err).NotTo(HaveOccurred())

		By("replacing the sqlite career with one on PostgreSQL (an engine does not change in place)")
		old := getMicroservice("career")
		Expect(k8s.Delete(ctx, old)).To(Succeed())
		// Until the old pods have drained they answer the gateway's kept-alive
		// connections (from their sqlite): wait until they are gone, not only
		// terminating.
		Eventually(func() []corev1.Pod {
			var pods corev1.PodList
			Expect(k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{contract.LabelMicroservice: "career"})).To(Succeed())
			return pods.Items
		}, shortTimeout).Should(BeEmpty())
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKeyFromObject(old), &platformv1alpha1.Microservice{})
		}, shortTimeout).ShouldNot(Succeed())
		pg := &platformv1alpha1.Microservice{
			ObjectMeta: metav1.ObjectMeta{Name: "career", Namespace: namespace},
			Spec:       *old.Spec.DeepCopy(),
		}
		pg.Spec.Replicas = ptr.To[int32](2)
		pg.Spec.Database = &platformv1alpha1.Database{Engine: platformv1alpha1.DatabasePostgres,
			URLSecretRef: &platformv1alpha1.SecretKeySelector{Name: "career-db", Key: "url"}}
		Expect(k8s.Create(ctx, pg)).To(Succeed())
		Eventually(func(g Gomega) {
			ms := getMicroservice("career")
			g.Expect(meta.FindStatusCondition(ms.Status.Conditions, platformv1alpha1.ConditionReady)).To(beTrueWith(platformv1alpha1.ReasonReady))
			g.Expect(ms.Status.Ready).To(Equal("2/2"))
		}, stackTimeout).Should(Succeed())
		Eventually(func(g Gomega) {
			code, body := edge.do(http.MethodPost, "/api/career/users/ada/career-plan", `{"target_role": "backend-engineer"}`)
			g.Expect(code).To(Equal(http.StatusOK), body)
		}, shortTimeout).Should(Succeed())

		rollUnderLoad("deployment/career", "career rollout (PostgreSQL, 2 replicas)", edge, []worker{
			{name: "career reads", next: func(int) (string, string, string) {
				return http.MethodGet, "/api/career/users/ada/career-plan", ""
			}},
			{name: "dashboard", next: func(int) (string, string, string) { return http.MethodGet, "/users/ada/dashboard", "" }},
		}, []worker{{name: "career writes", next: func(i int) (string, string, string) {
			return http.MethodPost, fmt.Sprintf("/api/career/users/pg-%d/career-plan", i), `{"target_role": "backend-engineer"}`
		}}}...)
	})
}

// rollUnderLoad restarts a Deployment's pods under load and expects every
// request to have answered 2xx.
func rollUnderLoad(deployment, title string, edge *edgeClient, reads []worker, writes ...worker) {
	l := startLoad(edge, reads, writes...)
	time.Sleep(3 * time.Second)
	_, err := kubectl.Run("-n", namespace, "rollout", "restart", deployment)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	_, err = kubectl.Run("-n", namespace, "rollout", "status", deployment, "--timeout=180s")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	// The old pods' drain (preStop, then the server's) outlasts the rollout.
	time.Sleep(15 * time.Second)
	l.stop()
	l.report(title)
	ExpectWithOffset(1, l.reads.failed()).To(BeZero(), l.reads.failures())
	ExpectWithOffset(1, l.writes.failed()).To(BeZero(), l.writes.failures())
}

// --- load ------------------------------------------------------------------

// edgeClient calls the gateway through the kind node's NodePort.
type edgeClient struct {
	base string
	http *http.Client
}

func newEdgeClient() *edgeClient {
	out, err := utils.Run(exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
		clusterName+"-control-plane"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return &edgeClient{
		base: "http://" + strings.TrimSpace(out) + ":30080",
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
	}
}

func (e *edgeClient) do(method, path, body string) (int, string) {
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	authorize(req)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// worker makes one kind of request; next gives the i-th.
type worker struct {
	name string
	next func(i int) (method, path, body string)
}

func readers() []worker {
	return []worker{
		{name: "dashboard", next: func(int) (string, string, string) { return http.MethodGet, "/users/ada/dashboard", "" }},
		{name: "skills reads", next: func(int) (string, string, string) { return http.MethodGet, "/api/skills/users/ada/skills", "" }},
		{name: "career reads", next: func(int) (string, string, string) { return http.MethodGet, "/api/career/users/ada/career-plan", "" }},
	}
}

// assessWriter makes, for user <prefix>-i, a career plan and then an
// assessment (which must refresh that plan through skills.assessed), and
// remembers each assessment's time.
func assessWriter(prefix string) worker {
	return worker{name: "writes " + prefix, next: func(i int) (string, string, string) {
		user := fmt.Sprintf("%s-%d", prefix, i/2)
		if i%2 == 0 {
			return http.MethodPost, "/api/career/users/" + user + "/career-plan", `{"target_role": "backend-engineer"}`
		}
		return http.MethodPost, "/api/skills/users/" + user + "/assess", cvAda
	}}
}

// stats count one side (reads or writes) of a load.
type stats struct {
	mu        sync.Mutex
	latencies []time.Duration
	fails     map[string]int
	firstFail time.Time
	lastFail  time.Time
	okCount   atomic.Int64
}

func (s *stats) record(name string, d time.Duration, code int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, d)
	if code >= 200 && code < 300 {
		s.okCount.Add(1)
		return
	}
	if s.fails == nil {
		s.fails = map[string]int{}
	}
	if len(body) > 120 {
		body = body[:120]
	}
	s.fails[fmt.Sprintf("%s: %d %s", name, code, body)]++
	now := time.Now()
	if s.firstFail.IsZero() {
		s.firstFail = now
	}
	s.lastFail = now
}

func (s *stats) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.latencies)
}

func (s *stats) oks() int { return int(s.okCount.Load()) }

func (s *stats) failed() int { return s.count() - s.oks() }

// failures describes the failed answers, by kind, for a failed assertion.
func (s *stats) failures() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("failed answers: %v", s.fails)
}

// gap is the time from the first failure to the last.
func (s *stats) gap() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastFail.Sub(s.firstFail)
}

func (s *stats) p99() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	return l[(len(l)*99)/100]
}

// load runs each worker in its own goroutine, one request at a time with a
// short pause (a steady load that two cores shared with the cluster carry).
type load struct {
	reads, writes stats
	done          chan struct{}
	wg            sync.WaitGroup
	mu            sync.Mutex
	made          map[string]time.Time // user → assessed_at
}

func startLoad(edge *edgeClient, reads []worker, writes ...worker) *load {
	l := &load{done: make(chan struct{}), made: map[string]time.Time{}}
	run := func(w worker, s *stats, pause time.Duration) {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			method, path, body := w.next(i)
			start := time.Now()
			code, answer := edge.do(method, path, body)
			s.record(w.name, time.Since(start), code, answer)
			if code >= 200 && code < 300 {
				l.remember(path, answer)
			}
			time.Sleep(pause)
		}
	}
	for _, w := range reads {
		l.wg.Add(1)
		go run(w, &l.reads, 20*time.Millisecond)
	}
	for _, w := range writes {
		l.wg.Add(1)
		go run(w, &l.writes, 50*time.Millisecond)
	}
	return l
}

// remember keeps each assessment's user and time.
func (l *load) remember(path, answer string) {
	if !strings.HasSuffix(path, "/assess") {
		return
	}
	var a struct {
		UserID     string    `json:"user_id"`
		AssessedAt time.Time `json:"assessed_at"`
	}
	if json.Unmarshal([]byte(answer), &a) == nil && a.UserID != "" {
		l.mu.Lock()
		l.made[a.UserID] = a.AssessedAt
		l.mu.Unlock()
	}
}

func (l *load) assessed() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return stdmaps.Clone(l.made)
}

func (l *load) stop() {
	close(l.done)
	l.wg.Wait()
}

// report prints the load's counts, so a regression shows in the log.
func (l *load) report(title string) {
	line := func(side string, s *stats) {
		if s.count() > 0 {
			GinkgoWriter.Printf("  %-6s %6d requests %4d non-2xx  p99 %s\n", side, s.count(), s.failed(), s.p99().Round(time.Millisecond))
		}
	}
	GinkgoWriter.Printf("%s:\n", title)
	line("reads", &l.reads)
	line("writes", &l.writes)
	AddReportEntry(title, fmt.Sprintf("reads %d (%d non-2xx, p99 %s), writes %d (%d non-2xx, p99 %s)",
		l.reads.count(), l.reads.failed(), l.reads.p99().Round(time.Millisecond),
		l.writes.count(), l.writes.failed(), l.writes.p99().Round(time.Millisecond)))
}

// delivered counts the users whose plan is based on their assessment and
// whose recommendations come from that plan: the event went skills →
// career → learning.
func delivered(edge *edgeClient, assessed map[string]time.Time) int {
	n := 0
	for user, at := range assessed {
		code, body := edge.do(http.MethodGet, "/api/career/users/"+user+"/career-plan", "")
		var plan struct {
			BasedOn   time.Time `json:"based_on"`
			UpdatedAt time.Time `json:"updated_at"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &plan) != nil || !plan.BasedOn.Equal(at) {
			continue
		}
		code, body = edge.do(http.MethodGet, "/api/learning/users/"+user+"/recommendations", "")
		var rec struct {
			PlanUpdatedAt time.Time `json:"plan_updated_at"`
		}
		if code == http.StatusOK && json.Unmarshal([]byte(body), &rec) == nil && rec.PlanUpdatedAt.Equal(plan.UpdatedAt) {
			n++
		}
	}
	return n
}

func redisPods() []string {
	var pods corev1.PodList
	ExpectWithOffset(1, k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/name": "redis"})).To(Succeed())
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	return names
}

// redisCLI runs a redis-cli command that answers an integer.
func redisCLI(args ...string) int {
	out, err := kubectl.Run(append([]string{"-n", namespace, "exec", "deploy/redis", "--", "redis-cli"}, args...)...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	n, err := strconv.Atoi(strings.TrimSpace(out))
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), out)
	return n
}

// readyWatch samples the Ready condition of Microservices every second and
// remembers each time one was not True.
type readyWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen []string
}

func watchReady(names ...string) *readyWatch {
	r := &readyWatch{done: make(chan struct{})}
	r.wg.Go(func() {
		for {
			select {
			case <-r.done:
				return
			case <-time.After(time.Second):
			}
			for _, name := range names {
				c := microserviceCondition(name, platformv1alpha1.ConditionReady)()
				if c == nil || c.Status != metav1.ConditionTrue {
					r.mu.Lock()
					r.seen = append(r.seen, fmt.Sprintf("%s %s: %v", time.Now().Format(time.TimeOnly), name, c))
					r.mu.Unlock()
				}
			}
		}
	})
	return r
}

func (r *readyWatch) stop() []string {
	close(r.done)
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen
}
