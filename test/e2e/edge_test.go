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
	"net/http"

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
		Eventually(gatewayCondition("api", platformv1alpha1.ConditionConfigValid), shortTimeout).Should(And(
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
		Expect(gatewayCondition("api", platformv1alpha1.ConditionConfigValid)()).To(beTrueWith(platformv1alpha1.ReasonConfigValid))
		l.stop()
		l.report("gateway through an invalid edit and a rollout")
		Expect(l.reads.failed()).To(BeZero(), l.reads.failures())
	})
}
