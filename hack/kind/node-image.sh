#!/usr/bin/env bash
# Prints the name of a kind node image for Kubernetes $KUBE_VERSION, making it
# first when Docker does not have it:
#   1. the local image, cached by tag (a second run costs nothing);
#   2. `docker pull` of kind's own node image, where a registry answers;
#   3. an offline build, for machines that reach only Debian's archive and the
#      Go module proxy (kind build node-image cannot: it pulls etcd, CoreDNS,
#      pause and kindnetd from a registry):
#      - a base image from `debootstrap bookworm` with kind's images/base files
#        (from the kind Go module) and Debian's containerd, runc and CNI plugins;
#      - kubelet, kubeadm, kubectl and the control-plane programs built from
#        k8s.io/kubernetes (hack/kube-build.sh), CoreDNS and a small pause from
#        their Go modules, local-path-provisioner for the default StorageClass;
#      - images tagged exactly as `kubeadm config images list` names them,
#        imported into the node's containerd and pinned;
#      - a static ptp + host-local CNI config instead of kindnetd, whose source
#        is not reachable, and kube-router's firewall (NetworkPolicy on
#        iptables and ipset) from its Go module, so policies are enforced;
#      then `docker commit`. Progress goes to stderr; stdout carries the name.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/hack/kind
KUBE_VERSION=${KUBE_VERSION:-1.37.2}
KIND_VERSION=${KIND_VERSION:-v0.33.0}
CACHE=${SKILLMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skillmesh}
BIN=$CACHE/kube/v$KUBE_VERSION
TOOLS=$CACHE/kind/bin
WORK=$CACHE/kind/build
# Bump a recipe when what goes into that image changes, so caches rebuild:
# BASE_RECIPE for the Debian root filesystem, RECIPE for the node on top.
BASE_RECIPE=3
RECIPE=4
BASE_IMAGE=skillmesh/kind-base:bookworm-r$BASE_RECIPE
NODE_IMAGE=${KIND_NODE_IMAGE:-skillmesh/kind-node:v$KUBE_VERSION-r$RECIPE}
# The NetworkPolicy agent (hack/kind/node/network-policy.yaml says why this one).
NETPOL_VERSION=v2.1.0
UPSTREAM_IMAGE=${KIND_UPSTREAM_IMAGE:-kindest/node:v$KUBE_VERSION}

log() { echo "node-image: $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if have_image "$NODE_IMAGE"; then
  echo "$NODE_IMAGE"
  exit 0
fi
if [ -z "${KIND_SKIP_PULL:-}" ] && timeout 60 docker pull -q "$UPSTREAM_IMAGE" >/dev/null 2>&1; then
  log "pulled $UPSTREAM_IMAGE"
  docker tag "$UPSTREAM_IMAGE" "$NODE_IMAGE"
  echo "$NODE_IMAGE"
  exit 0
fi
log "no $UPSTREAM_IMAGE to pull: building $NODE_IMAGE offline (about 10 minutes cold)"
start=$SECONDS
mkdir -p "$WORK" "$TOOLS"

# --- programs ----------------------------------------------------------------
"$ROOT/hack/kube-build.sh" "$BIN" kubelet kubeadm kubectl kube-proxy \
  kube-apiserver kube-controller-manager kube-scheduler etcd >&2
gobin() { # gobin <name> <module/path@version>
  [ -x "$TOOLS/$1" ] && return 0
  log "building $1 from $2"
  (cd "$WORK" && GOBIN=$TOOLS CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$2")
}
gobin crictl sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0
gobin local-path-provisioner github.com/rancher/local-path-provisioner@v0.0.30
if [ ! -x "$TOOLS/coredns" ]; then
  log "building coredns from its Go module (hack/kind/coredns)"
  (cd "$HERE/coredns" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$TOOLS/coredns" .)
fi
if [ ! -x "$TOOLS/kube-router-$NETPOL_VERSION" ]; then
  log "building kube-router $NETPOL_VERSION from its Go module"
  rm -rf "$WORK/netpol-bin"
  (cd "$WORK" && GOBIN=$WORK/netpol-bin CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$NETPOL_VERSION")
  mv "$WORK/netpol-bin/kube-router" "$TOOLS/kube-router-$NETPOL_VERSION"
fi
if [ ! -x "$TOOLS/pause" ]; then
  (cd "$HERE/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$TOOLS/pause" .)
fi

# --- base image ----------------------------------------------------------------
KIND_SRC=$(cd "$WORK" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[ -d "$KIND_SRC/images/base/files" ] || { log "kind $KIND_VERSION source not found in the module cache"; exit 1; }
if ! have_image "$BASE_IMAGE"; then
  "$HERE/base-rootfs.sh" "$WORK/rootfs" "$KIND_SRC/images/base/files" >&2
  log "importing the base image $BASE_IMAGE"
  tar -C "$WORK/rootfs" -c . | docker import - "$BASE_IMAGE-rootfs" >/dev/null
  # docker import takes no STOPSIGNAL; a one-line build adds kind's settings.
  mkdir -p "$WORK/base"
  cat >"$WORK/base/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE-rootfs
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$BASE_IMAGE" "$WORK/base" >/dev/null
  docker rmi "$BASE_IMAGE-rootfs" >/dev/null
  rm -rf "$WORK/rootfs"
fi

# --- component images ------------------------------------------------------------
# The names kubeadm will ask the node's containerd for.
mapfile -t WANT < <("$BIN/kubeadm" config images list --kubernetes-version "v$KUBE_VERSION" 2>/dev/null)
log "images for kubeadm: ${WANT[*]}"
CTX=$WORK/images
rm -rf "$CTX" && mkdir -p "$CTX"
image_of() { printf '%s\n' "${WANT[@]}" | grep "/$1:" | head -1; }
build_image() { # build_image <tag> <from> <binary> <path in the image>; the binary is the entrypoint
  local tag=$1 from=$2 bin=$3 path=$4 dir
  dir=$CTX/$(echo "$tag" | tr '/:' '__')
  mkdir -p "$dir"
  cp "$bin" "$dir/"
  cat >"$dir/Dockerfile" <<DOCKERFILE
FROM $from
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
COPY $(basename "$bin") $path
ENTRYPOINT ["$path"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$dir" >/dev/null
}
LOCAL_PATH_IMAGE=docker.io/skillmesh/local-path-provisioner:v0.0.30
NETPOL_IMAGE=docker.io/skillmesh/kube-router:$NETPOL_VERSION
HELPER_IMAGE=docker.io/skillmesh/local-path-helper:bookworm
# kubeadm's manifests run the control plane by name (on PATH); CoreDNS' runs
# /coredns; containerd runs the sandbox image's entrypoint.
for c in kube-apiserver kube-controller-manager kube-scheduler etcd; do
  build_image "$(image_of "$c")" scratch "$BIN/$c" "/usr/local/bin/$c"
done
build_image "$(image_of kube-proxy)" "$BASE_IMAGE" "$BIN/kube-proxy" /usr/local/bin/kube-proxy
build_image "$(image_of coredns)" scratch "$TOOLS/coredns" /coredns
build_image "$(image_of pause)" scratch "$TOOLS/pause" /pause
build_image "$LOCAL_PATH_IMAGE" scratch "$TOOLS/local-path-provisioner" /usr/local/bin/local-path-provisioner
# On the Debian base: it runs iptables-restore and ipset.
build_image "$NETPOL_IMAGE" "$BASE_IMAGE" "$TOOLS/kube-router-$NETPOL_VERSION" /usr/local/bin/kube-router
docker tag "$BASE_IMAGE" "$HELPER_IMAGE"
IMAGES=("${WANT[@]}" "$LOCAL_PATH_IMAGE" "$HELPER_IMAGE" "$NETPOL_IMAGE")
log "saving ${#IMAGES[@]} images"
docker save "${IMAGES[@]}" -o "$WORK/images.tar"

# --- node image ----------------------------------------------------------------
name=skillmesh-node-build-$$
cleanup() { docker rm -f -v "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker run -d --name "$name" --privileged --entrypoint sleep "$BASE_IMAGE" infinity >/dev/null
for b in kubelet kubeadm kubectl; do docker cp "$BIN/$b" "$name:/usr/bin/$b"; done
docker cp "$TOOLS/crictl" "$name:/usr/local/bin/crictl"
docker cp "$WORK/images.tar" "$name:/kind/images.tar"
docker exec "$name" sh -ec "mkdir -p /kind/manifests && echo v$KUBE_VERSION >/kind/version"
PAUSE=$(image_of pause)
sed -e "s#@POD_SUBNET@#10.244.0.0/16#" "$HERE/node/10-skillmesh-ptp.conflist" |
  docker exec -i "$name" sh -c 'mkdir -p /etc/cni/net.d && cat >/etc/cni/net.d/10-skillmesh-ptp.conflist'
# kind applies default-cni.yaml at cluster creation: the CNI note and the
# NetworkPolicy agent.
{ cat "$HERE/node/default-cni.yaml"; sed -e "s#@NETPOL_IMAGE@#$NETPOL_IMAGE#" "$HERE/node/network-policy.yaml"; } |
  docker exec -i "$name" sh -c 'cat >/kind/manifests/default-cni.yaml'
sed -e "s#@PROVISIONER_IMAGE@#$LOCAL_PATH_IMAGE#; s#@HELPER_IMAGE@#$HELPER_IMAGE#" "$HERE/node/default-storage.yaml" |
  docker exec -i "$name" sh -c 'cat >/kind/manifests/default-storage.yaml'
log "importing the images into the node's containerd"
docker exec "$name" sh -ec "
  sed -i 's#sandbox_image = .*#sandbox_image = \"$PAUSE\"#' /etc/containerd/config.toml
  (containerd >/tmp/containerd.log 2>&1 &)
  for i in \$(seq 1 30); do ctr version >/dev/null 2>&1 && break; sleep 1; done
  ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests /kind/images.tar >/dev/null
  for img in ${IMAGES[*]}; do ctr --namespace=k8s.io images label \$img io.cri-containerd.pinned=pinned >/dev/null; done
  rm /kind/images.tar
  pkill containerd; for i in \$(seq 1 30); do pgrep containerd >/dev/null || break; sleep 1; done
  rm -rf /tmp/* /var/log/*.log
"
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  "$name" "$NODE_IMAGE" >/dev/null
rm -f "$WORK/images.tar"
log "built $NODE_IMAGE in $((SECONDS - start))s"
echo "$NODE_IMAGE"
