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
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/test/utils"
)

// The suite runs on the kind cluster `make test-e2e` creates (KIND_CLUSTER),
// with the images it builds here from this checkout.
var (
	clusterName   = envOr("KIND_CLUSTER", "skillmesh-e2e")
	managerImage  = envOr("IMG", "skillmesh/operator:v0.1.0")
	servicesImage = envOr("SERVICES_IMG", "skillmesh/services:v0.1.0")
	redisImage    = envOr("REDIS_IMG", "skillmesh/redis:7-bookworm")
	postgresImage = envOr("POSTGRES_IMG", "skillmesh/postgres:15-bookworm")

	kubectl = utils.Kubectl{Context: "kind-" + clusterName}
	k8s     client.WithWatch
	ctx     = context.Background()
)

const (
	// namespace holds the sample stack; it enforces the restricted Pod
	// Security profile, so every pod the operator renders must meet it.
	namespace        = "skillmesh-e2e"
	managerNamespace = "skillmesh-system"
	managerName      = "skillmesh-controller-manager"
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// TestE2E runs the e2e suite against a real kind cluster: kubelets run the
// probes, CoreDNS resolves the Service names, the garbage collector and the
// Deployment controller act for real.
func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyPollingInterval(time.Second)
	RunSpecs(t, "e2e suite")
}

var _ = BeforeSuite(func() {
	By("building the operator's, the services', Redis' and PostgreSQL's images")
	_, err := utils.Run(exec.Command("make", "docker-build", "docker-build-services", "docker-build-redis", "docker-build-postgres",
		"IMG="+managerImage, "SERVICES_IMG="+servicesImage, "REDIS_IMG="+redisImage, "POSTGRES_IMG="+postgresImage))
	Expect(err).NotTo(HaveOccurred())

	By("loading them into kind (no registry: imagePullPolicy IfNotPresent with pinned tags)")
	_, err = utils.Run(exec.Command("kind", "load", "docker-image", "--name", clusterName, managerImage, servicesImage, redisImage, postgresImage))
	Expect(err).NotTo(HaveOccurred())

	By("installing the CRDs and deploying the operator")
	_, err = utils.Run(exec.Command("make", "install", "deploy", "IMG="+managerImage, "KUBECTL=kubectl --context "+kubectl.Context))
	Expect(err).NotTo(HaveOccurred())
	_, err = kubectl.Run("-n", managerNamespace, "rollout", "status", "deployment/"+managerName, "--timeout=180s")
	Expect(err).NotTo(HaveOccurred())

	By("connecting a client")
	cfg, err := config.GetConfigWithContext(kubectl.Context)
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(platformv1alpha1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("creating the namespace " + namespace + ", which enforces the restricted Pod Security profile")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            "restricted",
	}}}
	if err := k8s.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		Fail(fmt.Sprintf("create namespace: %v", err))
	}
})

var _ = AfterSuite(func() {
	if os.Getenv("E2E_KEEP") != "" {
		return
	}
	By("deleting the namespace " + namespace)
	_, _ = kubectl.Run("delete", "namespace", namespace, "--wait=false", "--ignore-not-found")
})

// On failure a spec leaves what a person needs to see why: the objects, their
// descriptions, events and every pod's logs, of the stack and the operator.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() {
		return
	}
	dumpCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kubectl.DumpNamespace(dumpCtx, GinkgoWriter, namespace)
	kubectl.DumpNamespace(dumpCtx, GinkgoWriter, managerNamespace)
})
