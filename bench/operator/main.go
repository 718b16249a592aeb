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

// Command operator benchmarks the skillmesh operator on a KWOK cluster
// (`make bench-operator`): N Microservices in chains of ten, against a bare
// client-go program that creates the same Deployments, Services and
// ConfigMaps itself, in the same run. It prints one table per N.
//
// The manager runs as its own process (bin/manager), so its peak RSS and CPU
// time are read from /proc and its metrics scraped over HTTP; the baseline
// runs as a child process of this program (the same binary, -baseline-child)
// for the same reasons.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
	"github.com/skillmesh/skillmesh/internal/contract"
)

var scheme = runtime.NewScheme()

// controllerName is the Microservice controller's name in metrics and logs.
const controllerName = "microservice"

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
}

type options struct {
	kubeconfig  string
	manager     string
	managerArgs string
	sizes       string
	quick       bool
	steady      time.Duration
	workers     int
	timeout     time.Duration
	logDir      string

	// the baseline child's own flags
	child     bool
	n         int
	namespace string
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the KWOK cluster (hack/kwok/cluster.sh kubeconfig)")
	flag.StringVar(&o.manager, "manager", "bin/manager", "the manager binary (go build -o bin/manager ./cmd)")
	flag.StringVar(&o.managerArgs, "manager-args", "", "extra flags for the manager, space separated")
	flag.StringVar(&o.sizes, "n", "100,1000", "numbers of Microservices, comma separated")
	flag.BoolVar(&o.quick, "quick", false, "N=100 only (same as -n 100)")
	flag.DurationVar(&o.steady, "steady", 2*time.Minute,
		"the steady-state window after all are Ready, the manager restarted at its start")
	flag.IntVar(&o.workers, "workers", 8,
		"parallel creates, for the operator's Microservices and the baseline's objects alike")
	flag.DurationVar(&o.timeout, "timeout", 6*time.Minute, "how long one phase may wait for readiness")
	flag.StringVar(&o.logDir, "log-dir", filepath.Join(os.TempDir(), "skillmesh-bench-operator"),
		"where the manager's logs go")
	flag.BoolVar(&o.child, "baseline-child", false, "internal: run the baseline and print its result as JSON")
	flag.IntVar(&o.n, "baseline-n", 0, "internal: the baseline's N")
	flag.StringVar(&o.namespace, "baseline-namespace", "", "internal: the baseline's namespace")
	flag.Parse()
	ctrllog.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	if o.quick {
		o.sizes = "100"
	}
	if o.kubeconfig == "" {
		fail(errors.New("-kubeconfig is required (hack/kwok/cluster.sh up prints it)"))
	}
	ctx := context.Background()
	if o.child {
		res, err := runBaselineChild(ctx, o)
		if err != nil {
			fail(err)
		}
		fail(json.NewEncoder(os.Stdout).Encode(res))
		return
	}
	if err := run(ctx, o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-operator:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func restConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	// The bench's own client is not the object of measurement: no client-side limit.
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	return cfg, nil
}

func run(ctx context.Context, o options) error {
	var sizes []int
	for f := range strings.SplitSeq(o.sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -n %q", o.sizes)
		}
		sizes = append(sizes, n)
	}
	if err := os.MkdirAll(o.logDir, 0o755); err != nil {
		return err
	}
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	start := time.Now()
	for _, n := range sizes {
		r, err := benchSize(ctx, o, cfg, c, n)
		if err != nil {
			return fmt.Errorf("size %d: %w", n, err)
		}
		if err := printTable(os.Stdout, o, r); err != nil {
			return err
		}
	}
	logf("done in %s; manager logs in %s", time.Since(start).Round(time.Second), o.logDir)
	return nil
}

// result is one N's figures.
type result struct {
	N        int
	Baseline baselineResult
	Operator operatorResult
	Steady   steadyResult
}

type procStats struct {
	PeakRSSKiB int64
	CPUSeconds float64
}

type baselineResult struct {
	Elapsed time.Duration
	// Requests by HTTP method, the informer's list and watch included.
	Requests map[string]float64
	// CreateP50/P99: latency of one service's three creates, the API's cost of a first reconcile's writes.
	CreateP50, CreateP99 time.Duration
	Proc                 procStats
}

type operatorResult struct {
	Elapsed      time.Duration
	Requests     map[string]float64
	Reconciles   float64
	P50, P99     float64
	Proc         procStats
	ChildWrites  map[string]float64
	StatusWrites map[string]float64
}

type steadyResult struct {
	Window           time.Duration
	Writes           map[string]float64
	Requests         map[string]float64
	RVMoved          map[string]int
	Objects          int
	ResyncReconciles float64
	ResyncDuration   time.Duration
	Proc             procStats
}

func benchSize(ctx context.Context, o options, cfg *rest.Config, c client.Client, n int) (result, error) {
	r := result{N: n}
	stamp := time.Now().Format("150405")

	logf("N=%d: baseline, a bare client-go program creating %d ConfigMaps, Deployments and Services", n, n)
	baseNS := fmt.Sprintf("bench-baseline-%d-%s", n, stamp)
	if err := createNamespace(ctx, c, baseNS); err != nil {
		return r, err
	}
	b, err := runBaseline(ctx, o, n, baseNS)
	if err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	r.Baseline = b
	logf("N=%d: baseline all available in %s; deleting its namespace", n, b.Elapsed.Round(time.Millisecond))
	if err := deleteNamespace(ctx, c, baseNS, o.timeout); err != nil {
		return r, err
	}

	ns := fmt.Sprintf("bench-operator-%d-%s", n, stamp)
	if err := createNamespace(ctx, c, ns); err != nil {
		return r, err
	}
	mgr, err := startManager(ctx, o, fmt.Sprintf("%d-%s-a", n, stamp))
	if err != nil {
		return r, err
	}
	defer mgr.stop()
	before, err := mgr.scrape()
	if err != nil {
		return r, err
	}

	logf("N=%d: operator, creating %d Microservices", n, n)
	elapsed, err := createAndWaitReady(ctx, o, cfg, c, ns, n)
	if err != nil {
		return r, err
	}
	after, err := mgr.scrape()
	if err != nil {
		return r, err
	}
	r.Operator = operatorFigures(after.minus(before), mgr.proc(), elapsed)
	logf("N=%d: operator all Ready in %s", n, elapsed.Round(time.Millisecond))

	logf("N=%d: steady state for %s, the manager restarted at its start", n, o.steady)
	r.Steady, err = steadyWindow(ctx, o, c, ns, n, mgr, fmt.Sprintf("%d-%s-b", n, stamp))
	if err != nil {
		return r, err
	}
	logf("N=%d: deleting the operator's namespace", n)
	if err := deleteNamespace(ctx, c, ns, o.timeout); err != nil {
		return r, err
	}
	return r, nil
}

func operatorFigures(d scrape, p procStats, elapsed time.Duration) operatorResult {
	mc := map[string]string{"controller": controllerName}
	return operatorResult{
		Elapsed:      elapsed,
		Requests:     d.by("rest_client_requests_total", "method", nil),
		Reconciles:   d.sum("controller_runtime_reconcile_total", mc),
		P50:          d.quantile("controller_runtime_reconcile_time_seconds", mc, 0.5),
		P99:          d.quantile("controller_runtime_reconcile_time_seconds", mc, 0.99),
		Proc:         p,
		ChildWrites:  d.by("skillmesh_child_writes_total", "outcome", nil),
		StatusWrites: d.by("skillmesh_status_writes_total", "outcome", nil),
	}
}

// steadyWindow restarts the manager at the start of the window (it re-lists
// everything and reconciles every Microservice) and counts what was written
// and which resourceVersions moved until the window ends.
func steadyWindow(ctx context.Context, o options, c client.Client, ns string, n int, mgr *manager, name string) (
	steadyResult, error,
) {
	s := steadyResult{Window: o.steady}
	rvBefore, err := resourceVersions(ctx, c, ns)
	if err != nil {
		return s, err
	}
	s.Objects = len(rvBefore)
	windowStart := time.Now()
	snap, err := mgr.scrape()
	if err != nil {
		return s, err
	}
	last, err := mgr.scrape()
	if err != nil {
		return s, err
	}
	mgr.stop()
	oldWrites := writes(last.minus(snap))

	restarted, err := startManager(ctx, o, name)
	if err != nil {
		return s, err
	}
	defer restarted.stop()
	// The resync: the restarted manager reconciles every Microservice once.
	mc := map[string]string{"controller": controllerName}
	queue := map[string]string{"name": controllerName}
	for {
		m, err := restarted.scrape()
		if err != nil {
			return s, err
		}
		if m.sum("controller_runtime_reconcile_total", mc) >= float64(n) && m.sum("workqueue_depth", queue) == 0 {
			s.ResyncDuration = time.Since(restarted.started)
			break
		}
		if time.Since(windowStart) > o.steady+o.timeout {
			return s, errors.New("the restarted manager did not reconcile every Microservice")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(windowStart.Add(o.steady)))
	end, err := restarted.scrape()
	if err != nil {
		return s, err
	}
	s.Proc = restarted.proc()
	s.ResyncReconciles = end.sum("controller_runtime_reconcile_total", mc)
	s.Requests = end.by("rest_client_requests_total", "method", nil)
	s.Writes = writes(end)
	for k, v := range oldWrites {
		s.Writes[k] += v
	}
	rvAfter, err := resourceVersions(ctx, c, ns)
	if err != nil {
		return s, err
	}
	s.RVMoved = map[string]int{}
	for k, rv := range rvBefore {
		if rvAfter[k] != rv {
			s.RVMoved[strings.SplitN(k, "/", 2)[0]]++
		}
	}
	return s, nil
}

func writes(d scrape) map[string]float64 {
	w := map[string]float64{}
	for m, v := range d.by("rest_client_requests_total", "method", nil) {
		switch m {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			w[m] = v
		}
	}
	return w
}

// resourceVersions reads, from the API server, the resourceVersion of every
// Microservice and every child in ns.
func resourceVersions(ctx context.Context, c client.Client, ns string) (map[string]string, error) {
	rv := map[string]string{}
	lists := map[string]client.ObjectList{
		"Microservice": &platformv1alpha1.MicroserviceList{},
		"Deployment":   &appsv1.DeploymentList{},
		"Service":      &corev1.ServiceList{},
		"ConfigMap":    &corev1.ConfigMapList{},
	}
	for kind, l := range lists {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		if err := meta.EachListItem(l, func(o runtime.Object) error {
			m, err := meta.Accessor(o)
			if err != nil {
				return err
			}
			if kind == "ConfigMap" && m.GetLabels()[contract.LabelManagedBy] != contract.ManagedByValue {
				return nil // kube-root-ca.crt
			}
			rv[kind+"/"+m.GetName()] = m.GetResourceVersion()
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return rv, nil
}

// --- the workload ---

func serviceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

// dependency is the service i depends on: chains of ten, svc-0000 ← svc-0001 ← … ← svc-0009.
func dependency(i int) (int, bool) {
	if i%10 == 0 {
		return 0, false
	}
	return i - 1, true
}

func configOf(i int) map[string]string {
	return map[string]string{
		"LOG_LEVEL":  "info",
		"FEATURE_X":  strconv.FormatBool(i%2 == 0),
		"SHARD":      strconv.Itoa(i % 7),
		"TIMEOUT_MS": "2500",
	}
}

func microservice(ns string, i int) *platformv1alpha1.Microservice {
	ms := &platformv1alpha1.Microservice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: serviceName(i)},
		Spec: platformv1alpha1.MicroserviceSpec{
			Image:     "skillmesh/services:v0.1.0",
			Args:      []string{"skills"},
			Replicas:  new(int32(1)),
			EnvPrefix: "SVC_",
			Config:    configOf(i),
		},
	}
	if d, ok := dependency(i); ok {
		ms.Spec.DependsOn = []platformv1alpha1.Dependency{{Name: serviceName(d)}}
	}
	return ms
}

// parallel runs f(0..n-1) on workers goroutines; the first error wins.
func parallel(workers, n int, f func(i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// createAndWaitReady creates n Microservices and waits until each reports
// Ready; the time runs from the first create.
func createAndWaitReady(ctx context.Context, o options, cfg *rest.Config, c client.Client, ns string, n int) (
	time.Duration, error,
) {
	ready := newReadySet()
	informers, stop, err := namespacedCache(ctx, cfg, ns)
	if err != nil {
		return 0, err
	}
	defer stop()
	inf, err := informers.GetInformer(ctx, &platformv1alpha1.Microservice{})
	if err != nil {
		return 0, err
	}
	if _, err := inf.AddEventHandler(readyHandler(ready, func(o any) (string, bool) {
		ms, ok := o.(*platformv1alpha1.Microservice)
		if !ok {
			return "", false
		}
		return ms.Name, meta.IsStatusConditionTrue(ms.Status.Conditions, platformv1alpha1.ConditionReady)
	})); err != nil {
		return 0, err
	}
	if !informers.WaitForCacheSync(ctx) {
		return 0, errors.New("bench cache did not sync")
	}
	start := time.Now()
	if err := parallel(o.workers, n, func(i int) error { return c.Create(ctx, microservice(ns, i)) }); err != nil {
		return 0, err
	}
	if err := ready.wait(n, o.timeout); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func namespacedCache(ctx context.Context, cfg *rest.Config, ns string) (cache.Cache, func(), error) {
	ca, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { _ = ca.Start(cctx) }()
	return ca, cancel, nil
}

type readySet struct {
	mu    sync.Mutex
	ready map[string]bool
	ch    chan struct{}
}

func newReadySet() *readySet { return &readySet{ready: map[string]bool{}, ch: make(chan struct{}, 1)} }

func (r *readySet) set(name string, ready bool) {
	r.mu.Lock()
	r.ready[name] = ready
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *readySet) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ok := range r.ready {
		if ok {
			n++
		}
	}
	return n
}

func (r *readySet) wait(n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for r.count() < n {
		select {
		case <-r.ch:
		case <-deadline:
			return fmt.Errorf("%d of %d ready after %s", r.count(), n, timeout)
		}
	}
	return nil
}

func readyHandler(r *readySet, readyOf func(any) (string, bool)) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.set(readyOf(o)) },
		UpdateFunc: func(_, o any) { r.set(readyOf(o)) },
	}
}

func createNamespace(ctx context.Context, c client.Client, ns string) error {
	return c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
}

// deleteNamespace deletes ns and waits until it is gone, so one phase's
// garbage collection does not load the next phase's measurement.
func deleteNamespace(ctx context.Context, c client.Client, ns string, timeout time.Duration) error {
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := client.IgnoreNotFound(c.Delete(ctx, obj)); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); apierrors.IsNotFound(err) {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("namespace %s still there after %s", ns, timeout)
}

// --- the manager process ---

type manager struct {
	cmd     *exec.Cmd
	metrics string
	started time.Time
	done    chan struct{}
	last    procStats
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

func startManager(ctx context.Context, o options, name string) (*manager, error) {
	metricsAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	probeAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := slices.Concat([]string{
		"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=" + probeAddr,
	}, strings.Fields(o.managerArgs))
	logPath := filepath.Join(o.logDir, "manager-"+name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.manager, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+o.kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", o.manager, err)
	}
	m := &manager{cmd: cmd, metrics: "http://" + metricsAddr + "/metrics", started: time.Now(), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(m.done)
	}()
	// Ready when its caches synced and the Microservice controller's workers run.
	deadline := time.Now().Add(time.Minute)
	for {
		logText, _ := os.ReadFile(logPath)
		if _, err := m.scrape(); err == nil && workersStarted(string(logText)) {
			return m, nil
		}
		select {
		case <-m.done:
			return nil, fmt.Errorf("the manager exited; see %s", logPath)
		default:
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("the manager did not start its controllers in a minute; see %s", logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func workersStarted(log string) bool {
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, `"Starting workers"`) && strings.Contains(line, `"controller":"`+controllerName+`"`) {
			return true
		}
	}
	return false
}

// proc reads the manager's peak RSS and CPU time from /proc.
func (m *manager) proc() procStats {
	if p, err := readProc(m.cmd.Process.Pid); err == nil {
		m.last = p
	}
	return m.last
}

func (m *manager) stop() {
	select {
	case <-m.done:
		return
	default:
	}
	m.proc()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func readProc(pid int) (procStats, error) {
	var p procStats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if kib, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(kib)
			if len(f) > 0 {
				p.PeakRSSKiB, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the command name (which may hold spaces): state is field 3,
	// utime 14 and stime 15.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return p, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	p.CPUSeconds = (utime + stime) / clockTicks
	return p, nil
}

func (m *manager) scrape() (scrape, error) {
	resp, err := http.Get(m.metrics) //nolint:noctx // a loopback scrape
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", m.metrics, resp.Status)
	}
	return parseMetrics(string(body)), nil
}

// --- the baseline ---

func runBaseline(ctx context.Context, o options, n int, ns string) (baselineResult, error) {
	self, err := os.Executable()
	if err != nil {
		return baselineResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-baseline-child", "-kubeconfig", o.kubeconfig,
		"-baseline-n", strconv.Itoa(n), "-baseline-namespace", ns,
		"-workers", strconv.Itoa(o.workers), "-timeout", o.timeout.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return baselineResult{}, err
	}
	var r baselineResult
	return r, json.Unmarshal(out, &r)
}

// countingTransport counts the baseline's requests by method.
type countingTransport struct {
	mu   sync.Mutex
	n    map[string]float64
	next http.RoundTripper
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.n[req.Method]++
	t.mu.Unlock()
	return t.next.RoundTrip(req)
}

// runBaselineChild is the bare client-go program: it creates, per service,
// the ConfigMap, Deployment and Service the operator would, and watches the
// Deployments until each is available.
func runBaselineChild(ctx context.Context, o options) (baselineResult, error) {
	var r baselineResult
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return r, err
	}
	counter := &countingTransport{n: map[string]float64{}}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return r, err
	}
	ready := newReadySet()
	informers, stop, err := namespacedCache(ctx, cfg, o.namespace)
	if err != nil {
		return r, err
	}
	defer stop()
	inf, err := informers.GetInformer(ctx, &appsv1.Deployment{})
	if err != nil {
		return r, err
	}
	if _, err := inf.AddEventHandler(readyHandler(ready, func(obj any) (string, bool) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok {
			return "", false
		}
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentAvailable {
				return d.Name, cond.Status == corev1.ConditionTrue && d.Status.AvailableReplicas > 0
			}
		}
		return d.Name, false
	})); err != nil {
		return r, err
	}
	if !informers.WaitForCacheSync(ctx) {
		return r, errors.New("baseline cache did not sync")
	}
	latencies := make([]time.Duration, o.n)
	start := time.Now()
	err = parallel(o.workers, o.n, func(i int) error {
		t := time.Now()
		for _, obj := range baselineObjects(o.namespace, i) {
			if err := c.Create(ctx, obj); err != nil {
				return err
			}
		}
		latencies[i] = time.Since(t)
		return nil
	})
	if err != nil {
		return r, err
	}
	if err := ready.wait(o.n, o.timeout); err != nil {
		return r, err
	}
	r.Elapsed = time.Since(start)
	slices.Sort(latencies)
	r.CreateP50 = latencies[len(latencies)/2]
	r.CreateP99 = latencies[min(len(latencies)-1, len(latencies)*99/100)]
	counter.mu.Lock()
	r.Requests = counter.n
	counter.mu.Unlock()
	r.Proc, err = readProc(os.Getpid())
	return r, err
}

// baselineObjects are what the operator makes for service i, written plainly.
func baselineObjects(ns string, i int) []client.Object {
	name := serviceName(i)
	labels := map[string]string{
		contract.LabelName: name, contract.LabelMicroservice: name, contract.LabelManagedBy: "bench-baseline",
	}
	selector := map[string]string{contract.LabelMicroservice: name}
	env := []corev1.EnvVar{{Name: "PORT", Value: "8080"}}
	if d, ok := dependency(i); ok {
		env = append(env, corev1.EnvVar{
			Name:  "SVC_" + strconv.Itoa(d) + "_URL",
			Value: contract.ServiceURL(serviceName(d), ns, contract.DefaultClusterDomain, 8080),
		})
	}
	cfg := map[string]string{}
	for k, v := range configOf(i) {
		cfg["SVC_"+k] = v
	}
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-config", Labels: labels}, Data: cfg},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(1)),
				Selector: &metav1.LabelSelector{MatchLabels: selector},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "app", Image: "skillmesh/services:v0.1.0", Args: []string{"skills"}, Env: env,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: name + "-config"}}}},
					}}},
				},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
		},
	}
}
