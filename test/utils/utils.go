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

// Package utils holds what the e2e suite needs around a kind cluster: running
// commands, kubectl, port-forwards, and a dump of the cluster's state when a
// spec fails.
package utils

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive,staticcheck // Ginkgo's DSL reads best dot-imported
)

// Run executes cmd in the project's directory and returns its combined output.
func Run(cmd *exec.Cmd) (string, error) {
	if cmd.Dir == "" {
		cmd.Dir = ProjectDir()
	}
	cmd.Env = append(os.Environ(), cmd.Env...)
	command := strings.Join(cmd.Args, " ")
	_, _ = fmt.Fprintf(GinkgoWriter, "running: %s\n", command)
	output, err := cmd.CombinedOutput()
	if err != nil {
		return string(output), fmt.Errorf("%s: %w\n%s", command, err, output)
	}
	return string(output), nil
}

// ProjectDir is the repository's root, found from this package's test
// working directory (test/e2e).
func ProjectDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !strings.HasSuffix(dir, "/hack/kube") {
			return dir
		}
	}
	return wd
}

// Kubectl runs kubectl against one kubeconfig context.
type Kubectl struct {
	Context string
}

// Run runs kubectl with args.
func (k Kubectl) Run(args ...string) (string, error) {
	return Run(exec.Command("kubectl", append([]string{"--context", k.Context}, args...)...)) //nolint:gosec // test tool
}

// PortForward is a running `kubectl port-forward` to one target.
type PortForward struct {
	// LocalPort is the loopback port kubectl listens on.
	LocalPort string
	cmd       *exec.Cmd
}

var forwardingFrom = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+)`)

// StartPortForward forwards a free loopback port to target's remotePort
// (target as kubectl takes it: service/api, pod/x) and waits until kubectl
// says it listens.
func (k Kubectl) StartPortForward(namespace, target, remotePort string) (*PortForward, error) {
	cmd := exec.Command("kubectl", "--context", k.Context, "-n", namespace, //nolint:gosec // test tool
		"port-forward", "--address", "127.0.0.1", target, ":"+remotePort)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = GinkgoWriter
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start port-forward to %s: %w", target, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := forwardingFrom.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case port := <-found:
		return &PortForward{LocalPort: port, cmd: cmd}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("port-forward to %s/%s did not start within 30s", namespace, target)
	}
}

// Stop ends the port-forward.
func (p *PortForward) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// DumpNamespace writes what a person debugging a failed spec wants to w:
// objects, descriptions, events in time order and every pod's logs
// (including the previous container's, when it restarted).
func (k Kubectl) DumpNamespace(ctx context.Context, w io.Writer, namespace string) {
	section := func(title string, args ...string) {
		out, err := k.Run(args...)
		if err != nil {
			out += "\n" + err.Error()
		}
		_, _ = fmt.Fprintf(w, "\n----- %s (namespace %s) -----\n%s\n", title, namespace, out)
	}
	section("objects", "-n", namespace, "get", "all,microservices,gateways,configmaps,pvc", "-o", "wide")
	section("describe", "-n", namespace, "describe", "microservices,gateways,deployments,pods")
	section("events", "-n", namespace, "get", "events", "--sort-by=.lastTimestamp")
	pods, _ := k.Run("-n", namespace, "get", "pods", "-o", "jsonpath={.items[*].metadata.name}")
	for pod := range strings.FieldsSeq(pods) {
		if ctx.Err() != nil {
			return
		}
		section("logs of "+pod, "-n", namespace, "logs", pod, "--all-containers", "--tail=200")
		section("previous logs of "+pod, "-n", namespace, "logs", pod, "--all-containers", "--previous", "--tail=100")
	}
}
