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
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

// The suite runs the real SetupWithManager against a real kube-apiserver and
// etcd (envtest). There is no kube-controller-manager: specs play the
// Deployment controller by patching Deployment status, and the garbage
// collector's work is checked through owner references.
var (
	ctx        context.Context
	cancel     context.CancelFunc
	testEnv    *envtest.Environment
	k8sClient  client.Client
	reconciler *MicroserviceReconciler
	// gatewayReconciler is the Gateway controller the suite runs.
	gatewayReconciler *GatewayReconciler
	// managerWrites counts the mutating requests the manager sends.
	managerWrites atomic.Int64
	// deploymentApplies counts the manager's applies (PATCH) of Deployments.
	deploymentApplies atomic.Int64
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.TODO())

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gatewayv1.Install(scheme))

	By("starting kube-apiserver and etcd, with our CRDs and the Gateway API's (standard channel, from its Go module)")
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases"), gatewayAPICRDs()},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "set KUBEBUILDER_ASSETS, or run `make test`, which obtains kube-apiserver and etcd")

	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.WrapTransport = countWrites(&managerWrites)
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:  scheme,
		Cache:   CacheOptions(true),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	Expect(err).NotTo(HaveOccurred())
	reconciler = &MicroserviceReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("skillmesh-operator"),
		ClusterDomain:           contract.DefaultClusterDomain,
		MaxConcurrentReconciles: 2,
	}
	Expect(reconciler.SetupWithManager(ctx, mgr)).To(Succeed())
	gatewayReconciler = &GatewayReconciler{
		Client:        mgr.GetClient(),
		Scheme:        mgr.GetScheme(),
		Recorder:      mgr.GetEventRecorder("skillmesh-operator"),
		ClusterDomain: contract.DefaultClusterDomain,
	}
	gatewayReconciler.GatewayAPI, err = GatewayAPIInstalled(cfg)
	Expect(err).NotTo(HaveOccurred())
	Expect(gatewayReconciler.GatewayAPI).To(BeTrue(), "the Gateway API CRDs were installed")
	Expect(gatewayReconciler.SetupWithManager(ctx, mgr)).To(Succeed())

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

// gatewayAPICRDs is the standard channel's CRD directory of the
// sigs.k8s.io/gateway-api module this build uses.
func gatewayAPICRDs() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	Expect(err).NotTo(HaveOccurred(), "go list -m sigs.k8s.io/gateway-api")
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
}

var _ = AfterSuite(func() {
	By("stopping the test environment")
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})

// countWrites wraps the manager's transport to count every request that can
// change state, so specs can show that a reconcile with nothing to do writes
// nothing.
func countWrites(n *atomic.Int64) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			switch req.Method {
			case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				n.Add(1)
			}
			if req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/deployments/") {
				deploymentApplies.Add(1)
			}
			return rt.RoundTrip(req)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// newNamespace gives each spec a namespace of its own.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "spec-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
