//go:build kwok

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

// Package kwok runs the real operator against a KWOK cluster: the real
// kube-apiserver, kube-controller-manager (Deployment, ReplicaSet,
// EndpointSlice, garbage collector) and kube-scheduler, with kwok-controller
// making the pods of a fake node Running and Ready. `make test-kwok` brings
// the cluster up (hack/kwok/cluster.sh), runs this suite and brings it down.
package kwok

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/controllers"
	"github.com/skillmesh/skillmesh/internal/contract"
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	k8sClient client.Client
	scheme    = runtime.NewScheme()
	// root is the checkout, two levels up from this package.
	root = filepath.Join("..", "..")
)

func TestKWOK(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(90 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	RunSpecs(t, "KWOK Suite")
}

// kubeconfig is SKILLMESH_KWOK_KUBECONFIG, else the one hack/kwok/cluster.sh keeps.
func kubeconfig() string {
	if p := os.Getenv("SKILLMESH_KWOK_KUBECONFIG"); p != "" {
		return p
	}
	out, err := exec.Command(filepath.Join(root, "hack", "kwok", "cluster.sh"), "kubeconfig").Output()
	Expect(err).NotTo(HaveOccurred())
	return strings.TrimSpace(string(out))
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))

	path := kubeconfig()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	Expect(err).NotTo(HaveOccurred(), "no KWOK cluster at %s: run `make kwok-up` (or `make test-kwok`)", path)
	cfg.QPS, cfg.Burst = 100, 200

	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.List(ctx, &corev1.NodeList{})).To(Succeed(), "the KWOK cluster at %s does not answer: run `make kwok-up`", path)

	By("installing the CRDs as they are in this checkout")
	_, err = envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())

	By("starting the operator's manager in this process, as cmd/main.go does")
	gatewayAPI, err := controllers.GatewayAPIInstalled(cfg)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  controllers.CacheOptions(gatewayAPI),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	Expect(err).NotTo(HaveOccurred())
	Expect((&controllers.MicroserviceReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("skillmesh-operator"),
		ClusterDomain:           contract.DefaultClusterDomain,
		MaxConcurrentReconciles: 4,
	}).SetupWithManager(ctx, mgr)).To(Succeed())
	Expect((&controllers.GatewayReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("skillmesh-operator"),
		ClusterDomain:           contract.DefaultClusterDomain,
		Image:                   controllers.DefaultGatewayImage,
		MaxConcurrentReconciles: 4,
		GatewayAPI:              gatewayAPI,
	}).SetupWithManager(ctx, mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
})

// newNamespace gives each spec a namespace of its own, removed after it.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kwok-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(context.Background(), ns))).To(Succeed())
	})
	return ns.Name
}
