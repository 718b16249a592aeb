// Command coredns is CoreDNS' own entry point with its default plugin set, so
// the kind node's DNS image is built from github.com/coredns/coredns at the
// version kubeadm names (v1.14.6 for Kubernetes v1.37).
package main

import (
	_ "github.com/coredns/coredns/core/plugin" // the default plugins, as upstream's coredns.go
	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
