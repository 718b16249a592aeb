#!/usr/bin/env bash
# The kind cluster of `make dev` and `make test-e2e`.
#
#   hack/kind/cluster.sh up     # creates the cluster, or reuses a running one
#   hack/kind/cluster.sh down   # deletes it and takes back what docker.sh changed
#   hack/kind/cluster.sh env    # prints PATH= with the kind and kubectl used here
#
# KIND_CLUSTER names the cluster (default skillmesh); kind merges its context,
# kind-$KIND_CLUSTER, into your kubeconfig as usual. KIND_HOST_PORT, when set,
# maps 127.0.0.1:$KIND_HOST_PORT on this machine to the node's port
# $KIND_NODE_PORT (30080), the gateway's NodePort in make dev: a way in that
# kube-proxy balances over the gateway's pods, so it outlives any of them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/hack/kind
CLUSTER=${KIND_CLUSTER:-skillmesh}
KUBE_VERSION=${KUBE_VERSION:-1.37.2}
KIND_VERSION=${KIND_VERSION:-v0.33.0}
CACHE=${SKILLMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skillmesh}
TOOLS=$CACHE/kind/bin
BIN=$CACHE/kube/v$KUBE_VERSION
# The pod range of the node image's CNI config (hack/kind/node-image.sh).
POD_SUBNET=10.244.0.0/16
HOST_PORT=${KIND_HOST_PORT:-}
NODE_PORT=${KIND_NODE_PORT:-30080}
# kind's default Service range (kube-apiserver --service-cluster-ip-range).
SERVICE_SUBNET=10.96.0.0/16
export PATH=$TOOLS:$BIN:$PATH
log() { echo "cluster: $*" >&2; }

tools() {
  if [ ! -x "$TOOLS/kind" ]; then
    log "installing kind $KIND_VERSION from its Go module"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && GOBIN=$TOOLS CGO_ENABLED=0 go install "sigs.k8s.io/kind@$KIND_VERSION")
  fi
  # A kubectl of the cluster's own version (the one on PATH may be far older).
  "$ROOT/hack/kube-build.sh" "$BIN" kubectl
}

config() {
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $CLUSTER
kubeadmConfigPatches:
- |
  # Kubernetes 1.35+ refuses cgroup v1 hosts unless told otherwise.
  kind: KubeletConfiguration
  failCgroupV1: false
YAML
  if [ -n "$HOST_PORT" ]; then
    cat <<YAML
nodes:
- role: control-plane
  extraPortMappings:
  - {containerPort: $NODE_PORT, hostPort: $HOST_PORT, listenAddress: 127.0.0.1, protocol: TCP}
YAML
  fi
  if "$HERE/docker.sh" restricted; then
    cat <<'YAML'
containerdConfigPatches:
- |-
  # The host cannot grant CAP_SYS_RESOURCE, so containerd in the node may not
  # lower oom_score_adj below its own.
  [plugins."io.containerd.grpc.v1.cri"]
    restrict_oom_score_adj = true
YAML
  fi
}

# mapped tells whether the existing node publishes $NODE_PORT on $HOST_PORT
# (a cluster made before the mapping, or without it, does not).
mapped() {
  docker inspect -f '{{range $p, $b := .HostConfig.PortBindings}}{{$p}}={{range $b}}{{.HostPort}}{{end}} {{end}}' \
    "$CLUSTER-control-plane" 2>/dev/null | grep -q "$NODE_PORT/tcp=$HOST_PORT"
}

up() {
  "$HERE/docker.sh" up
  tools
  local image
  image=$("$HERE/node-image.sh")
  # A cluster made from an older node image lacks what the new one brings
  # (the NetworkPolicy agent, say): it is made again.
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER" &&
    [ "$(docker inspect -f '{{.Config.Image}}' "$CLUSTER-control-plane" 2>/dev/null)" != "$image" ]; then
    log "the cluster $CLUSTER runs another node image than $image: making it again"
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1
  fi
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    local node=$CLUSTER-control-plane
    if [ "$(docker inspect -f '{{.State.Running}}' "$node" 2>/dev/null)" != true ]; then
      log "starting the stopped node $node"
      docker start "$node" >/dev/null
    fi
    kind export kubeconfig --name "$CLUSTER" >/dev/null 2>&1
    log "reusing the kind cluster $CLUSTER"
  else
    log "creating the kind cluster $CLUSTER from $image"
    config | kind create cluster --image "$image" --config - --wait 3m
  fi
  # The node's static ptp CNI routes each pod's /32 to its veth; a packet for a
  # pod that is gone would follow the default route out of the node (and, on
  # a machine whose network intercepts unknown destinations, be answered by a
  # stranger). kube-proxy keeps sending new connections to a deleted pod for a
  # moment, so the rest of the pod range is made unreachable: they are refused
  # at once, as on a real cluster network, and the client dials again.
  docker exec "$CLUSTER-control-plane" ip route replace unreachable "$POD_SUBNET"
  # Likewise a pod's connection to a Service address that kube-proxy did not
  # translate (opened in the moment a Service has no endpoint, before its
  # REJECT rule is in place) left the node by the default route and was
  # answered by a stranger (404, seen once in the e2e suite: a gateway kept
  # that connection alive). Such packets from pods are refused instead; the
  # node's own processes still route Service addresses as before.
  docker exec "$CLUSTER-control-plane" sh -c "ip route replace unreachable $SERVICE_SUBNET table 100 &&
    { ip rule show | grep -q 'lookup 100' || ip rule add from $POD_SUBNET to $SERVICE_SUBNET lookup 100 priority 100; }"
  kubectl --context "kind-$CLUSTER" wait --for=condition=Ready node --all --timeout=180s >/dev/null
}

down() {
  if command -v kind >/dev/null && docker info >/dev/null 2>&1; then
    kind delete cluster --name "$CLUSTER" || true
    # Another cluster (make dev's beside make test-e2e's) keeps dockerd.
    if [ -n "$(kind get clusters 2>/dev/null)" ]; then
      return 0
    fi
  fi
  "$HERE/docker.sh" down
}

case ${1:-up} in
  up) up ;;
  down) down ;;
  env) echo "PATH=$PATH" ;;
  mapped) mapped ;;
  *) echo "usage: $0 up|down|env|mapped" >&2; exit 2 ;;
esac
