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
	"io"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// edgeSpecs are the Gateway's edge behaviour on the sample stack, through
// the NodePort the resilience specs applied: configuration that cannot ship
// broken.
func edgeSpecs() {
	It("answers the dashboard 401 without a token, 403 with another user's, 200 with her own", func() {
		edge := newEdgeClient()
		dashboard := func(auth string) (int, http.Header, string) {
			req, err := http.NewRequest(http.MethodGet, edge.base+"/users/ada/dashboard", nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Authorization", auth)
			resp, err := edge.http.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, string(b)
		}
		code, h, body := dashboard("")
		Expect(code).To(Equal(http.StatusUnauthorized), body)
		Expect(h.Get("WWW-Authenticate")).To(HavePrefix("Bearer"))
		Expect(body).To(ContainSubstring("missing_token"))
		code, _, body = dashboard("Bearer not.a.token")
		Expect(code).To(Equal(http.StatusUnauthorized), body)
		Expect(body).To(ContainSubstring("malformed_token"))
		code, _, body = dashboard("Bearer " + tokenFor("grace"))
		Expect(code).To(Equal(http.StatusForbidden), body)
		code, h, body = dashboard("Bearer " + tokenFor("ada"))
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(h.Get("X-Skillmesh-Completed")).To(Equal("true"), body)
		Expect(body).To(And(ContainSubstring(`"total_skills"`), ContainSubstring(`"skills"`)))
		GinkgoWriter.Printf("dashboard: no token 401, grace's token 403, ada's token 200 (%d bytes)\n", len(body))
	})

	It("answers a burst over the rate limit with some 429s and no 5xx, and stops when the limit goes", func() {
		edge := newEdgeClient()
		setRateLimit := func(rl *platformv1alpha1.RateLimit) {
			Eventually(func() error {
				gw := &platformv1alpha1.Gateway{}
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "api"}, gw); err != nil {
					return err
				}
				patch := client.MergeFrom(gw.DeepCopy())
				gw.Spec.RateLimit = rl
				return k8s.Patch(ctx, gw, patch)
			}, shortTimeout).Should(Succeed())
		}
		burst := func() map[int]int {
			codes := map[int]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 10 {
						code, _ := edge.do(http.MethodGet, "/api/skills/users/ada/skills", "")
						mu.Lock()
						codes[code]++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			return codes
		}
		setRateLimit(&platformv1alpha1.RateLimit{RequestsPerSecond: 5, Burst: 10})
		// The ConfigMap reaches the pods' volume within the kubelet's sync.
		var codes map[int]int
		Eventually(func() int { codes = burst(); return codes[http.StatusTooManyRequests] }, stackTimeout, time.Second).Should(BeNumerically(">", 0))
		GinkgoWriter.Printf("burst of 80 at 5 req/s, burst 10: %v\n", codes)
		for code, n := range codes {
			Expect(code).To(Or(Equal(http.StatusOK), Equal(http.StatusTooManyRequests)), "%d answers %d", n, code)
		}
		Expect(codes[http.StatusOK]).To(BeNumerically(">=", 10))

		setRateLimit(nil)
		Eventually(func() int { return burst()[http.StatusTooManyRequests] }, stackTimeout, time.Second).Should(BeZero())
	})

	It("keeps serving through an edit to an expression that does not compile, says Failed, then Current when fixed", func() {
		edge := newEdgeClient()
		gw := &platformv1alpha1.Gateway{}
		key := client.ObjectKey{Namespace: namespace, Name: "api"}
		Expect(k8s.Get(ctx, key, gw)).To(Succeed())
		good := gw.Spec.Aggregations[0].Compute["total_skills"]
		setExpression := func(expr string) {
			Eventually(func() error {
				if err := k8s.Get(ctx, key, gw); err != nil {
					return err
				}
				patch := client.MergeFrom(gw.DeepCopy())
				gw.Spec.Aggregations[0].Compute["total_skills"] = expr
				return k8s.Patch(ctx, gw, patch)
			}, shortTimeout).Should(Succeed())
		}

		l := startLoad(edge, readers())
		setExpression("size(skills.skills")
		Eventually(gatewayCondition(platformv1alpha1.ConditionConfigValid), shortTimeout).Should(And(
			haveStatus(metav1.ConditionFalse, platformv1alpha1.ReasonInvalidConfig),
			HaveField("Message", ContainSubstring("spec.aggregations[0] (/users/{user_id}/dashboard): compute.total_skills"))))
		Eventually(kstatusOf(gw), shortTimeout).Should(Equal(status.FailedStatus))

		By("rolling the gateway while the spec is invalid: new pods start on the last valid file")
		_, err := kubectl.Run("-n", namespace, "rollout", "restart", "deployment/api")
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl.Run("-n", namespace, "rollout", "status", "deployment/api", "--timeout=180s")
		Expect(err).NotTo(HaveOccurred())
		code, body := edge.do(http.MethodGet, "/users/ada/dashboard", "")
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring(`"total_skills"`))

		By("fixing the expression")
		setExpression(good)
		Eventually(kstatusOf(gw), stackTimeout).Should(Equal(status.CurrentStatus))
		Expect(gatewayCondition(platformv1alpha1.ConditionConfigValid)()).To(beTrueWith(platformv1alpha1.ReasonConfigValid))
		l.stop()
		l.report("gateway through an invalid edit and a rollout")
		Expect(l.reads.failed()).To(BeZero(), l.reads.failures())
	})
}
