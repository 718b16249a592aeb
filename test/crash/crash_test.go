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
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
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
	// writers create and edit the Microservices in parallel, as several
	// clients (CI, people, other controllers) would.
	writers = 5
	// heldBack Microservices (the last ones) are created only once the
	// manager is dead, so creates are certainly in flight across a kill and
	// the first kill certainly lands before all 50 have children.
	heldBack = 10
	// killAt is how many Deployments exist when the first SIGKILL comes:
	// some children made, most not.
	killAt = 10
	// converge bounds every wait. The whole test takes half a minute on an
	// idle machine of two cores, a minute or so on a loaded one; the bound is
	// generous because make test runs packages in parallel on such machines.
	converge = 3 * time.Minute
	// final is the value of the last edit every Microservice gets.
	final = "final"
	// root is the module root, from this package's directory.
	root = "../.."
)

var ctx = context.Background()

// spec is what the test last asked of one Microservice, to be found on its
// children once the operator has converged.
type spec struct {
	edit     string
	replicas int32
}

func TestManagerKilledMidPassConverges(t *testing.T) {
	g := NewWithT(t)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	g.SetDefaultEventuallyTimeout(converge)

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: envtestAssets(t),
	}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred(), "set KUBEBUILDER_ASSETS, or run `make test`, which obtains kube-apiserver and etcd")
	t.Cleanup(func() { _ = env.Stop() })

	scheme := k8sruntime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(platformv1alpha1.AddToScheme(scheme)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())

	m := newManager(t, env)
	fakeCtx, stopFaker := context.WithCancel(ctx)
	t.Cleanup(stopFaker)
	go fakeDeploymentController(fakeCtx, c)

	var mu sync.Mutex
	want := map[int]spec{}
	edit := func(i int, s spec) {
		t.Helper()
		editMicroservice(t, c, i, s)
		mu.Lock()
		want[i] = s
		mu.Unlock()
	}

	t.Log("run 1: creates and edits from several clients, SIGKILL once some children exist")
	m.start()
	killed := make(chan struct{})
	var wg sync.WaitGroup
	// On a failed expectation below the test stops; the writers still
	// blocked must finish before it does, or they would report to a test
	// that has returned.
	defer func() {
		select {
		case <-killed:
		default:
			close(killed)
		}
		wg.Wait()
	}()
	for w := range writers {
		wg.Go(func() {
			for i := w; i < services; i += writers {
				if i >= services-heldBack {
					<-killed
				}
				if err := c.Create(ctx, newMicroservice(i)); err != nil {
					t.Errorf("create %s: %v", name(i), err)
					return
				}
				// An edit right behind the create: the operator's first pass
				// may still be running, or its cache may not hold the children
				// it has just made. Some are scaled up already, so that a
				// PodDisruptionBudget exists before the last edit removes it.
				s := spec{edit: "1", replicas: 1}
				if scaledUpEarly(i) {
					s.replicas = 2
				}
				edit(i, s)
			}
		})
	}
	g.Eventually(func() int { return count[appsv1.DeploymentList](c) }).WithPolling(20 * time.Millisecond).
		Should(BeNumerically(">=", killAt))
	m.kill()
	close(killed)
	t.Logf("killed run 1 with %d Deployments and %d Microservices of %d",
		count[appsv1.DeploymentList](c), count[platformv1alpha1.MicroserviceList](c), services)
	wg.Wait()
	g.Expect(t.Failed()).To(BeFalse(), "the writers failed")

	t.Log("down: every Microservice edited again, some scaled up (which implies a PodDisruptionBudget)")
	for i := range services {
		s := spec{edit: "2", replicas: 1}
		if scaledUpEarly(i) || scaledUp(i) {
			s.replicas = 2
		}
		edit(i, s)
	}
	g.Expect(t.Failed()).To(BeFalse(), "an edit failed")

	t.Log("run 2: killed once its workers have started, while it catches up and the first half gets its last edit")
	m.start()
	for i := range services / 2 {
		edit(i, finalSpec(i))
	}
	m.waitForWorkers(g)
	// A random instant in the pass that catches up: 50 Microservices to
	// roll take well over this.
	delay := time.Duration(100+rand.IntN(400)) * time.Millisecond
	time.Sleep(delay)
	m.kill()
	t.Logf("killed run 2 %s after its workers started", delay)

	t.Log("down: the second half gets its last edit")
	for i := services / 2; i < services; i++ {
		edit(i, finalSpec(i))
	}
	g.Expect(t.Failed()).To(BeFalse(), "an edit failed")

	t.Log("run 3: left to converge")
	m.start()

	t.Log("every Microservice Ready for its last generation, with its last edit rolled")
	g.Eventually(func(g Gomega) {
		for i := range services {
			expectConverged(g, c, i, want[i])
		}
	}).Should(Succeed())

	t.Log("every child exactly once, controlled by its Microservice, nothing orphaned")
	expectChildrenExactlyOnce(g, c, want)

	t.Log("at rest: nothing moves")
	before := versions(c)
	g.Expect(before).NotTo(BeEmpty())
	g.Consistently(func() map[string]string { return versions(c) }).
		WithTimeout(5 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(before))

	// Last, so that Events the recorder sent late are counted too.
	t.Log("no child reported created (or deleted) twice")
	expectNoChildCreatedTwice(t, g, c)
}

// envtestAssets is where kube-apiserver and etcd are when KUBEBUILDER_ASSETS
// is not set (go test run by hand): the cache hack/envtest-assets.sh fills
// for make test, in setup-envtest's store layout, for the Kubernetes release
// of k8s.io/api, as the Makefile computes it. Empty when KUBEBUILDER_ASSETS
// is set (it wins) or the cache is empty.
func envtestAssets(t *testing.T) string {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") != "" {
		return ""
	}
	cache := os.Getenv("ENVTEST_CACHE_DIR")
	if cache == "" {
		dir, err := os.UserCacheDir() // $XDG_CACHE_HOME, else $HOME/.cache
		if err != nil {
			return ""
		}
		cache = filepath.Join(dir, "skillmesh", "envtest")
	}
	version := os.Getenv("ENVTEST_K8S_VERSION")
	if version == "" {
		version = k8sVersion(t)
	}
	dir := filepath.Join(cache, "k8s", version+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			t.Logf("KUBEBUILDER_ASSETS is not set and %s is not in %s", bin, dir)
			return ""
		}
	}
	t.Logf("KUBEBUILDER_ASSETS is not set: using %s", dir)
	return dir
}

// k8sVersion is the Kubernetes release matching k8s.io/api (v0.37.2 is
// 1.37.2), read as the Makefile reads it, or hack/envtest-assets.sh's
// default when go cannot say.
func k8sVersion(t *testing.T) string {
	list := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", "k8s.io/api")
	list.Dir = root
	out, err := list.Output()
	v := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(v, "v0.") {
		t.Logf("cannot read the version of k8s.io/api (%v): assuming 1.37.2", err)
		return "1.37.2"
	}
	parts := strings.SplitN(strings.TrimPrefix(v, "v0."), ".", 2)
	if len(parts) != 2 {
		return "1.37.2"
	}
	patch, _, _ := strings.Cut(parts[1], "-")
	return "1." + parts[0] + "." + patch
}

func name(i int) string { return fmt.Sprintf("svc-%02d", i) }

func key(n string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: n} }

// sqlite says which Microservices have a sqlite database (and so a claim).
func sqlite(i int) bool { return i%3 == 0 }

// claimOwned says which claims the Microservice controls: whenDeleted
// Delete. The others (Retain, the default) have no owner, so that the
// garbage collector leaves their data.
func claimOwned(i int) bool { return i%6 == 0 }

// newMicroservice is Microservice i as first created: most depend on the one
// before them (readiness flows along the chain), a few also on one created
// only after the first kill (not found, then found), a third have sqlite.
func newMicroservice(i int) *platformv1alpha1.Microservice {
	ms := testutil.ForCreate(testutil.NewMicroservice(namespace, name(i),
		testutil.WithConfig("APP_", map[string]string{"EDIT": "0"})))
	ms.Spec.Args = []string{"--edit=0"}
	if i%10 != 0 {
		ms.Spec.DependsOn = append(ms.Spec.DependsOn, platformv1alpha1.Dependency{Name: name(i - 1)})
	}
	if i%10 == 5 && i < services-heldBack {
		ms.Spec.DependsOn = append(ms.Spec.DependsOn, platformv1alpha1.Dependency{Name: name(services - heldBack + i/10)})
	}
	if sqlite(i) {
		testutil.WithSQLite("64Mi")(ms)
		if claimOwned(i) {
			ms.Spec.Database.WhenDeleted = platformv1alpha1.DeletionDelete
		}
	}
	return ms
}

// scaledUpEarly Microservices run two replicas from their first edit until
// their last, which scales them back to one: the PodDisruptionBudget that two
// replicas imply is made, perhaps by a run killed later, and must be removed.
// sqlite ones stay at one (a single writer).
func scaledUpEarly(i int) bool { return !sqlite(i) && i%5 == 2 }

// scaledUp Microservices are scaled to two replicas while the manager is
// down, and stay so: their budget is made after a kill.
func scaledUp(i int) bool { return !sqlite(i) && i%5 == 1 }

// finalSpec is the last edit of Microservice i.
func finalSpec(i int) spec {
	s := spec{edit: final, replicas: 1}
	if scaledUp(i) {
		s.replicas = 2
	}
	return s
}

// editMicroservice changes what the pods get: a config value (the ConfigMap
// and the pod template's config hash), an argument (the pod template
// itself) and the replicas, retrying on conflict (the manager patches status
// in between).
func editMicroservice(t *testing.T, c client.Client, i int, s spec) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ms := &platformv1alpha1.Microservice{}
		if err := c.Get(ctx, key(name(i)), ms); err != nil {
			return err
		}
		ms.Spec.Config["EDIT"] = s.edit
		ms.Spec.Args = []string{"--edit=" + s.edit}
		ms.Spec.Replicas = new(s.replicas)
		return c.Update(ctx, ms)
	})
	if err != nil {
		t.Errorf("edit %s: %v", name(i), err)
	}
}

// expectConverged checks Microservice i: its status is for its current
// generation and says everything is well, and its children carry s.
func expectConverged(g Gomega, c client.Client, i int, s spec) {
	ms := &platformv1alpha1.Microservice{}
	g.Expect(c.Get(ctx, key(name(i)), ms)).To(Succeed())
	g.Expect(ms.Status.ObservedGeneration).To(Equal(ms.Generation), "%s: observedGeneration", ms.Name)

	// Every condition the controller sets, each for this generation: a
	// status written for an older generation, or by a pass killed halfway,
	// would show here.
	wantConditions := map[string]metav1.ConditionStatus{
		platformv1alpha1.ConditionReady:              metav1.ConditionTrue,
		platformv1alpha1.ConditionAvailable:          metav1.ConditionTrue,
		platformv1alpha1.ConditionProgressing:        metav1.ConditionFalse,
		platformv1alpha1.ConditionDegraded:           metav1.ConditionFalse,
		platformv1alpha1.ConditionDependenciesReady:  metav1.ConditionTrue,
		platformv1alpha1.ConditionPaused:             metav1.ConditionFalse,
		platformv1alpha1.ConditionReconciling:        metav1.ConditionFalse,
		platformv1alpha1.ConditionStalled:            metav1.ConditionFalse,
		platformv1alpha1.ConditionNetworkPolicyReady: metav1.ConditionTrue,
	}
	g.Expect(ms.Status.Conditions).To(HaveLen(len(wantConditions)), "%s: conditions", ms.Name)
	for typ, status := range wantConditions {
		cond := meta.FindStatusCondition(ms.Status.Conditions, typ)
		g.Expect(cond).NotTo(BeNil(), "%s: condition %s", ms.Name, typ)
		g.Expect(cond.Status).To(Equal(status), "%s: %s is %s %s: %s", ms.Name, typ, cond.Status, cond.Reason, cond.Message)
		g.Expect(cond.ObservedGeneration).To(Equal(ms.Generation), "%s: %s observedGeneration", ms.Name, typ)
	}
	g.Expect(meta.FindStatusCondition(ms.Status.Conditions, platformv1alpha1.ConditionProgressing).Reason).
		To(Equal(platformv1alpha1.ReasonRolloutComplete), ms.Name)
	g.Expect(ms.Status.Replicas).To(Equal(s.replicas), "%s: status.replicas", ms.Name)
	g.Expect(ms.Status.ReadyReplicas).To(Equal(s.replicas), "%s: status.readyReplicas", ms.Name)
	g.Expect(ms.Status.Dependencies).To(HaveLen(len(ms.Spec.DependsOn)), "%s: status.dependencies", ms.Name)
	for _, d := range ms.Status.Dependencies {
		g.Expect(d.Found && d.Ready).To(BeTrue(), "%s: dependency %s found %t ready %t", ms.Name, d.Name, d.Found, d.Ready)
	}

	cm := &corev1.ConfigMap{}
	g.Expect(c.Get(ctx, key(name(i)+"-config"), cm)).To(Succeed())
	g.Expect(cm.Data).To(HaveKeyWithValue("APP_EDIT", s.edit), "%s: ConfigMap", ms.Name)
	d := &appsv1.Deployment{}
	g.Expect(c.Get(ctx, key(name(i)), d)).To(Succeed())
	g.Expect(d.Spec.Replicas).To(HaveValue(Equal(s.replicas)), "%s: Deployment replicas", ms.Name)
	g.Expect(d.Spec.Template.Spec.Containers).To(HaveLen(1), ms.Name)
	g.Expect(d.Spec.Template.Spec.Containers[0].Args).To(Equal([]string{"--edit=" + s.edit}), "%s: pod template args", ms.Name)
	g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue(contract.AnnotationConfigHash, ms.Status.ConfigHash),
		"%s: pod template config hash", ms.Name)
	g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation), "%s: Deployment rolled", ms.Name)
}

// expectChildrenExactlyOnce checks that every Microservice has each child
// its spec renders exactly once, under the name the operator gives it and
// controlled by it (the retained claims by nobody), and that no child of
// any kind the operator makes belongs to no live Microservice.
func expectChildrenExactlyOnce(g Gomega, c client.Client, want map[int]spec) {
	uids := map[string]types.UID{}
	for _, o := range items[platformv1alpha1.MicroserviceList](c) {
		uids[o.GetName()] = o.GetUID()
	}
	g.Expect(uids).To(HaveLen(services))

	type child struct{ kind, name string }
	wanted := map[child]int{}
	for i := range services {
		wanted[child{"Deployment", name(i)}] = i
		wanted[child{"Service", name(i)}] = i
		wanted[child{"ConfigMap", name(i) + "-config"}] = i
		wanted[child{"NetworkPolicy", name(i)}] = i
		if sqlite(i) {
			wanted[child{"PersistentVolumeClaim", name(i) + "-data"}] = i
		}
		if want[i].replicas > 1 {
			wanted[child{"PodDisruptionBudget", name(i)}] = i
		}
	}
	seen := map[child]int{}
	for kind, objs := range children(c) {
		for _, o := range objs {
			ms, labelled := o.GetLabels()[contract.LabelMicroservice]
			if !labelled && len(o.GetOwnerReferences()) == 0 {
				continue // not the operator's: kube-root-ca.crt, the default Service account's
			}
			ch := child{kind, o.GetName()}
			i, ok := wanted[ch]
			g.Expect(ok).To(BeTrue(), "%s %s is no child any Microservice asks for", kind, o.GetName())
			seen[ch]++
			g.Expect(ms).To(Equal(name(i)), "%s %s: label %s", kind, o.GetName(), contract.LabelMicroservice)
			owner := metav1.GetControllerOf(o)
			if kind == "PersistentVolumeClaim" && !claimOwned(i) {
				g.Expect(o.GetOwnerReferences()).To(BeEmpty(), "retained claim %s has an owner", o.GetName())
				continue
			}
			g.Expect(owner).NotTo(BeNil(), "%s %s has no controller", kind, o.GetName())
			g.Expect(owner.Kind).To(Equal("Microservice"), "%s %s", kind, o.GetName())
			g.Expect(owner.UID).To(Equal(uids[name(i)]), "%s %s is controlled by %s/%s", kind, o.GetName(), owner.Name, owner.UID)
			g.Expect(o.GetOwnerReferences()).To(HaveLen(1), "%s %s owners", kind, o.GetName())
		}
	}
	for ch := range wanted {
		g.Expect(seen[ch]).To(Equal(1), "%s %s", ch.kind, ch.name)
	}
}

// expectNoChildCreatedTwice reads every Event in the namespace. The operator
// records through events.k8s.io/v1 (mgr.GetEventRecorder); core/v1 Events
// are the same objects seen through the older API, so one list holds all.
// A pass that creates children says so in one Event of reason Created whose
// note lists "Created <Kind> <name>" for each (with "Updated <Kind> <name>"
// for the others it changed); an optional child removed gets an Event of
// reason Deleted, "Deleted <Kind> <name>: why". A repeat in the same process
// becomes a series (count 2 and up), one from a restarted process a new
// Event. Every child here is created once and never recreated, every budget
// removed at most once: a change may go unreported (SIGKILL between the
// write and the Event), none may be reported twice.
func expectNoChildCreatedTwice(t *testing.T, g Gomega, c client.Client) {
	var evs eventsv1.EventList
	g.Expect(c.List(ctx, &evs, client.InNamespace(namespace))).To(Succeed())
	reported := map[string][]string{}
	for _, ev := range evs.Items {
		n := 1
		if ev.Series != nil {
			n = int(ev.Series.Count)
		}
		var changes []string
		switch ev.Reason {
		case "Created", "Updated":
			changes = strings.Split(ev.Note, ", ")
		case "Deleted":
			change, _, _ := strings.Cut(ev.Note, ":")
			changes = []string{change}
		}
		for _, change := range changes {
			if strings.HasPrefix(change, "Created ") || strings.HasPrefix(change, "Deleted ") {
				for range n {
					reported[change] = append(reported[change], fmt.Sprintf("by %s for %s at %s",
						ev.Name, ev.Regarding.Name, ev.EventTime.Format(time.StampMicro)))
				}
			}
		}
	}
	g.Expect(reported).NotTo(BeEmpty(), "the manager reports what it creates")
	deleted := 0
	for change := range reported {
		if strings.HasPrefix(change, "Deleted ") {
			deleted++
		}
	}
	t.Logf("%d Events: %d children reported created, %d reported deleted", len(evs.Items), len(reported)-deleted, deleted)
	for change, by := range reported {
		g.Expect(by).To(HaveLen(1), "%q reported %d times: %s", change, len(by), strings.Join(by, "; "))
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
	_ = meta.EachListItem(list, func(o k8sruntime.Object) error {
		out = append(out, o.(client.Object))
		return nil
	})
	return out
}

func count[L any, P listOf[L]](c client.Client) int { return len(items[L, P](c)) }

// children is every object of each kind the Microservice controller makes,
// the optional ones (none asked for here) included.
func children(c client.Client) map[string][]client.Object {
	return map[string][]client.Object{
		"Deployment":              items[appsv1.DeploymentList](c),
		"Service":                 items[corev1.ServiceList](c),
		"ConfigMap":               items[corev1.ConfigMapList](c),
		"PersistentVolumeClaim":   items[corev1.PersistentVolumeClaimList](c),
		"HorizontalPodAutoscaler": items[autoscalingv2.HorizontalPodAutoscalerList](c),
		"PodDisruptionBudget":     items[policyv1.PodDisruptionBudgetList](c),
		"NetworkPolicy":           items[networkingv1.NetworkPolicyList](c),
	}
}

// versions is every object's resourceVersion, Microservices and children:
// a write of any, spec or status, changes it.
func versions(c client.Client) map[string]string {
	out := map[string]string{}
	for _, o := range items[platformv1alpha1.MicroserviceList](c) {
		out["Microservice/"+o.GetName()] = o.GetResourceVersion()
	}
	for kind, objs := range children(c) {
		for _, o := range objs {
			out[kind+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	return out
}

// fakeDeploymentController plays the Deployment controller envtest lacks,
// as the controllers suite does by hand: each Deployment's current
// generation becomes available, once. Nothing else is needed for Ready:
// without pods there is no pod issue to diagnose.
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
				d.Status = testutil.AvailableStatus(d)
				_ = c.Status().Update(ctx, d) // a conflict is retried on the next round
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
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
	// logStart is where the current run's output begins in log.
	logStart int64
}

func newManager(t *testing.T, env *envtest.Environment) *manager {
	t.Helper()
	dir := t.TempDir()
	m := &manager{t: t, bin: filepath.Join(dir, "manager"), kubeconfig: filepath.Join(dir, "kubeconfig")}
	build := exec.Command("go", "build", "-o", m.bin, "./cmd")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the manager: %v\n%s", err, out)
	}
	// The manager's own identity, as in a cluster, with every permission:
	// what RBAC grants it is config/rbac's business, not this test's.
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
			t.Logf("manager log (last 64 KiB of %d bytes):\n%s", len(out), tail(out, 64<<10))
		}
		_ = m.log.Close()
	})
	return m
}

func (m *manager) start() {
	m.t.Helper()
	m.runs++
	if st, err := m.log.Stat(); err == nil {
		m.logStart = st.Size()
	}
	_, _ = fmt.Fprintf(m.log, "----- run %d -----\n", m.runs)
	m.cmd = exec.Command(m.bin, "--kubeconfig="+m.kubeconfig,
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--leader-elect=false")
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start the manager: %v", err)
	}
}

// waitForWorkers waits until the current run's Microservice controller has
// synced its caches and started reconciling, by its log.
func (m *manager) waitForWorkers(g Gomega) {
	g.Eventually(func() bool {
		out, err := os.ReadFile(m.log.Name())
		if err != nil || int64(len(out)) < m.logStart {
			return false
		}
		for line := range bytes.SplitSeq(out[m.logStart:], []byte("\n")) {
			if bytes.Contains(line, []byte(`"Starting workers"`)) && bytes.Contains(line, []byte(`"controller":"microservice"`)) {
				return true
			}
		}
		return false
	}).WithPolling(20*time.Millisecond).Should(BeTrue(), "run %d never started its workers", m.runs)
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
