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

// Package crash proves that the operator killed in the middle of its work
// converges when it comes back: the real manager binary runs against a real
// kube-apiserver and etcd (envtest) as its own process, is killed with
// SIGKILL (no deferred status patch, no Event flushed, no cache to trust)
// while Microservices are being created and edited, and is started again.
package crash

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
	"github.com/skillmesh/skillmesh/internal/testutil"
)

const (
	services  = 50
	namespace = "crash"
	converge  = 3 * time.Minute
)

var ctx = context.Background()

func TestManager_killed_mid_pass_converges(t *testing.T) {
	g := NewWithT(t)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which obtains kube-apiserver and etcd")
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(platformv1alpha1.AddToScheme(scheme)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())

	m := newManager(t, env)
	fakeCtx, stopFaker := context.WithCancel(ctx)
	defer stopFaker()
	go fakeDeploymentController(fakeCtx, c)

	m.start()
	// Create and edit the Microservices from five clients; kill the manager
	// once it is partway through (some children made, most not).
	var wg sync.WaitGroup
	for w := range 5 {
		wg.Go(func() {
			for i := w; i < services; i += 5 {
				ms := testutil.NewMicroservice(namespace, name(i), testutil.WithConfig("APP_", map[string]string{"EDIT": "0"}))
				ms.UID, ms.Generation = "", 0
				if i%10 != 0 {
					ms.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: name(i - 1)}}
				}
				if i%3 == 0 {
					testutil.WithSQLite("64Mi")(ms)
				}
				if err := c.Create(ctx, ms); err != nil {
					t.Errorf("create %s: %v", ms.Name, err)
					return
				}
				edit(t, c, i, "1")
			}
		})
	}
	g.Eventually(func() int { return count[appsv1.DeploymentList](c) }, converge).Should(BeNumerically(">=", 10))
	m.kill()
	t.Logf("killed the manager with %d of %d Deployments made", count[appsv1.DeploymentList](c), services)
	wg.Wait()

	// Edits while it is down, then a start that is killed again almost at
	// once (mid-resync), and edits across that kill too.
	for i := range services {
		edit(t, c, i, "2")
	}
	m.start()
	for i := range services / 2 {
		edit(t, c, i, "final")
	}
	time.Sleep(1500 * time.Millisecond)
	m.kill()
	for i := services / 2; i < services; i++ {
		edit(t, c, i, "final")
	}
	m.start()

	t.Log("every Microservice Ready for its last generation, with the last edit rolled")
	g.Eventually(func(g Gomega) {
		for i := range services {
			ms := &platformv1alpha1.Microservice{}
			g.Expect(c.Get(ctx, key(name(i)), ms)).To(Succeed())
			g.Expect(ms.Status.ObservedGeneration).To(Equal(ms.Generation), ms.Name)
			ready := meta.FindStatusCondition(ms.Status.Conditions, platformv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil(), ms.Name)
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s: %s %s", ms.Name, ready.Reason, ready.Message)
			g.Expect(meta.IsStatusConditionTrue(ms.Status.Conditions, platformv1alpha1.ConditionStalled)).To(BeFalse(), ms.Name)

			cm := &corev1.ConfigMap{}
			g.Expect(c.Get(ctx, key(name(i)+"-config"), cm)).To(Succeed())
			g.Expect(cm.Data).To(HaveKeyWithValue("APP_EDIT", "final"), ms.Name)
			d := &appsv1.Deployment{}
			g.Expect(c.Get(ctx, key(name(i)), d)).To(Succeed())
			g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue(contract.AnnotationConfigHash, ms.Status.ConfigHash), ms.Name)
		}
	}, converge).Should(Succeed())

	t.Log("every child exactly once, controlled by its Microservice")
	uids := map[string]types.UID{}
	var list platformv1alpha1.MicroserviceList
	g.Expect(c.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
	g.Expect(list.Items).To(HaveLen(services))
	for _, ms := range list.Items {
		uids[ms.Name] = ms.UID
	}
	for kind, objs := range map[string][]client.Object{
		"Deployment":            items[appsv1.DeploymentList](c),
		"Service":               items[corev1.ServiceList](c),
		"ConfigMap":             items[corev1.ConfigMapList](c),
		"PersistentVolumeClaim": items[corev1.PersistentVolumeClaimList](c),
	} {
		per := map[string]int{}
		for _, o := range objs {
			ms, ok := o.GetLabels()[contract.LabelMicroservice]
			if !ok {
				continue // kube-root-ca.crt
			}
			per[ms]++
			// A claim kept on delete (whenDeleted: Retain, the default) has no
			// owner, so that the garbage collector leaves it; every other
			// child is controlled by its Microservice.
			if owner := metav1.GetControllerOf(o); owner != nil || kind != "PersistentVolumeClaim" {
				g.Expect(owner).NotTo(BeNil(), "%s %s has no controller", kind, o.GetName())
				g.Expect(owner.UID).To(Equal(uids[ms]), "%s %s is controlled by %s", kind, o.GetName(), ms)
			}
		}
		for i := range services {
			want := 1
			if kind == "PersistentVolumeClaim" && i%3 != 0 {
				want = 0
			}
			g.Expect(per[name(i)]).To(Equal(want), "%s of %s", kind, name(i))
		}
	}

	t.Log("no child reported created twice")
	var evs eventsv1.EventList
	g.Expect(c.List(ctx, &evs, client.InNamespace(namespace))).To(Succeed())
	created := map[string]int{}
	for _, ev := range evs.Items {
		n := 1
		if ev.Series != nil {
			n = int(ev.Series.Count)
		}
		for change := range strings.SplitSeq(ev.Note, ", ") {
			if strings.HasPrefix(change, "Created ") {
				created[ev.Regarding.Name+": "+change] += n
			}
		}
	}
	g.Expect(created).NotTo(BeEmpty(), "the manager reports what it creates")
	for what, n := range created {
		g.Expect(n).To(Equal(1), what)
	}

	t.Log("at rest: nothing moves")
	before := versions(c)
	time.Sleep(5 * time.Second)
	g.Expect(versions(c)).To(Equal(before))
}

func name(i int) string { return fmt.Sprintf("svc-%02d", i) }

func key(n string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: n} }

// edit sets the config key APP_EDIT of Microservice i, retrying on conflict
// (the manager patches status in between).
func edit(t *testing.T, c client.Client, i int, value string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ms := &platformv1alpha1.Microservice{}
		if err := c.Get(ctx, key(name(i)), ms); err != nil {
			return err
		}
		ms.Spec.Config["EDIT"] = value
		return c.Update(ctx, ms)
	})
	if err != nil {
		t.Errorf("edit %s: %v", name(i), err)
	}
}

// listOf is a list type whose pointer is a client.ObjectList.
type listOf[L any] interface {
	*L
	client.ObjectList
}

func items[L any, P listOf[L]](c client.Client) []client.Object {
	list := P(new(L))
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		panic(err)
	}
	var out []client.Object
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		out = append(out, o.(client.Object))
		return nil
	})
	return out
}

func count[L any, P listOf[L]](c client.Client) int { return len(items[L, P](c)) }

// versions is every object's resourceVersion, Microservices and children.
func versions(c client.Client) map[string]string {
	out := map[string]string{}
	for kind, objs := range map[string][]client.Object{
		"Microservice": items[platformv1alpha1.MicroserviceList](c),
		"Deployment":   items[appsv1.DeploymentList](c),
		"Service":      items[corev1.ServiceList](c),
		"ConfigMap":    items[corev1.ConfigMapList](c),
		"PVC":          items[corev1.PersistentVolumeClaimList](c),
	} {
		for _, o := range objs {
			out[kind+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	return out
}

// fakeDeploymentController plays the Deployment controller envtest lacks:
// each Deployment's current generation becomes available, once.
func fakeDeploymentController(ctx context.Context, c client.Client) {
	for ctx.Err() == nil {
		var list appsv1.DeploymentList
		if err := c.List(ctx, &list, client.InNamespace(namespace)); err == nil {
			for i := range list.Items {
				d := &list.Items[i]
				n := ptr.Deref(d.Spec.Replicas, 1)
				if d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == n && d.Status.UpdatedReplicas == n {
					continue
				}
				now := metav1.Now()
				d.Status = appsv1.DeploymentStatus{
					ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
					Conditions: []appsv1.DeploymentCondition{
						{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
							LastUpdateTime: now, LastTransitionTime: now},
						{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
							LastUpdateTime: now, LastTransitionTime: now},
					},
				}
				_ = c.Status().Update(ctx, d) // a conflict is retried on the next round
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// manager is the real manager binary, run as a process of its own.
type manager struct {
	t          *testing.T
	bin        string
	kubeconfig string
	log        *os.File
	cmd        *exec.Cmd
	runs       int
}

func newManager(t *testing.T, env *envtest.Environment) *manager {
	t.Helper()
	dir := t.TempDir()
	m := &manager{t: t, bin: filepath.Join(dir, "manager"), kubeconfig: filepath.Join(dir, "kubeconfig")}
	build := exec.Command("go", "build", "-o", m.bin, "./cmd")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the manager: %v\n%s", err, out)
	}
	user, err := env.AddUser(envtest.User{Name: "crash-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	if m.log, err = os.Create(filepath.Join(dir, "manager.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.kill()
		if t.Failed() {
			out, _ := os.ReadFile(m.log.Name())
			t.Logf("manager log (last 8 KiB):\n%s", tail(out, 8<<10))
		}
	})
	return m
}

func (m *manager) start() {
	m.t.Helper()
	m.runs++
	_, _ = fmt.Fprintf(m.log, "----- start %d -----\n", m.runs)
	m.cmd = exec.Command(m.bin, "--metrics-bind-address=0", "--health-probe-bind-address=0", "--leader-elect=false")
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+m.kubeconfig)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start the manager: %v", err)
	}
}

// kill sends SIGKILL: nothing of the pass in progress is finished.
func (m *manager) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	m.cmd = nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
