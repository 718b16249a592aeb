// Command etcd is etcd's own entry point (etcdmain.Main), so the envtest
// binary is built from go.etcd.io/etcd/server/v3 at the version Kubernetes pins.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
