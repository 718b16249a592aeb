#!/usr/bin/env bash
# Prints the directory that holds envtest's kube-apiserver and etcd for
# ENVTEST_K8S_VERSION, obtaining them first when they are missing:
#   1. the cache (setup-envtest's store layout: <dir>/k8s/<version>-<os>-<arch>/);
#   2. setup-envtest's download, the standard route where the internet is reachable;
#   3. a build from the Go modules (k8s.io/kubernetes, go.etcd.io/etcd/server/v3)
#      through hack/envtest/go.mod, for machines that reach only the Go module proxy.
# The cache lives outside the checkout so that a clean clone reuses it.
# Progress goes to stderr; stdout carries only the directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=${ENVTEST_K8S_VERSION:-1.37.2}
CACHE=${ENVTEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/skillmesh/envtest}
GOOS=$(go env GOOS)
GOARCH=$(go env GOARCH)
DIR="$CACHE/k8s/$VERSION-$GOOS-$GOARCH"
SETUP_ENVTEST=${SETUP_ENVTEST:-$ROOT/bin/setup-envtest}

log() { echo "envtest-assets: $*" >&2; }

have() { [ -x "$DIR/kube-apiserver" ] && [ -x "$DIR/etcd" ]; }

if have; then
  echo "$DIR"
  exit 0
fi

if [ -x "$SETUP_ENVTEST" ] && [ -z "${ENVTEST_SKIP_DOWNLOAD:-}" ]; then
  log "trying setup-envtest download of $VERSION"
  if path=$(timeout 60 "$SETUP_ENVTEST" use "$VERSION" --bin-dir "$CACHE" -p path 2>/dev/null) && [ -x "$path/kube-apiserver" ]; then
    echo "$path"
    exit 0
  fi
  log "download failed; building from the Go modules instead"
fi

mkdir -p "$DIR"
cd "$ROOT/hack/envtest"
IFS=. read -r MAJOR MINOR _ <<<"$VERSION"
# The version is stamped as Kubernetes' own release build does, so /version
# answers v$VERSION instead of v0.0.0.
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=v$VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
start=$SECONDS
log "building kube-apiserver v$VERSION (about 8 minutes cold on 2 cores)"
CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$DIR/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
log "building etcd"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$DIR/etcd.tmp" ./etcd
mv "$DIR/kube-apiserver.tmp" "$DIR/kube-apiserver"
mv "$DIR/etcd.tmp" "$DIR/etcd"
log "built in $((SECONDS - start))s into $DIR"
echo "$DIR"
