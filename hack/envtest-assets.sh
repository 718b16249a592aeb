#!/usr/bin/env bash
# Prints the directory that holds envtest's kube-apiserver and etcd for
# ENVTEST_K8S_VERSION, obtaining them first when they are missing:
#   1. the cache (setup-envtest's store layout: <dir>/k8s/<version>-<os>-<arch>/);
#   2. setup-envtest's download, the standard route where the internet is reachable;
#   3. a build from the Go modules (k8s.io/kubernetes, go.etcd.io/etcd/server/v3)
#      by hack/kube-build.sh, for machines that reach only the Go module proxy.
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

start=$SECONDS
log "building kube-apiserver and etcd v$VERSION (about 8 minutes cold on 2 cores)"
KUBE_VERSION=$VERSION "$ROOT/hack/kube-build.sh" "$DIR" kube-apiserver etcd
log "built in $((SECONDS - start))s into $DIR"
echo "$DIR"
