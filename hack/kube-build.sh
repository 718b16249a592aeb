#!/usr/bin/env bash
# Builds Kubernetes programs from their Go modules (hack/kube/go.mod) into a
# directory, static and version-stamped as Kubernetes' release build does, for
# machines that reach only the Go module proxy.
#
#   hack/kube-build.sh <dir> <program>...
#
# Programs: kube-apiserver kube-controller-manager kube-scheduler kube-proxy
# kubelet kubeadm kubectl etcd. A program already in <dir> is kept, so a second
# run costs nothing. KUBE_VERSION (default 1.37.2) must match hack/kube/go.mod.
# Without the stamp /version answers v0.0.0 and kubeadm, kubectl and kwokctl
# refuse to work with it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=${KUBE_VERSION:-1.37.2}
DIR=$1
shift
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

log() { echo "kube-build: $*" >&2; }

IFS=. read -r MAJOR MINOR _ <<<"$VERSION"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=v$VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

cd "$ROOT/hack/kube"
for prog in "$@"; do
  if [ -x "$DIR/$prog" ]; then
    continue
  fi
  case $prog in
    etcd) pkg=./etcd ;; # at the version hack/kube/go.mod pins (Kubernetes' own)
    kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy | kubelet | kubeadm | kubectl)
      pkg=k8s.io/kubernetes/cmd/$prog ;;
    *) log "unknown program $prog"; exit 2 ;;
  esac
  start=$SECONDS
  log "building $prog (minutes when the Go build cache is cold)"
  CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$DIR/$prog.tmp" "$pkg"
  mv "$DIR/$prog.tmp" "$DIR/$prog"
  log "built $prog in $((SECONDS - start))s"
done
