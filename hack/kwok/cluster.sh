#!/usr/bin/env bash
# A KWOK cluster on the real control-plane programs: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler run as local processes
# (kwokctl's binary runtime); kwok-controller plays the kubelets of fake nodes,
# whose pods it makes Running and Ready. Good for scale: a thousand
# Microservices on two cores, with the real Deployment, ReplicaSet,
# EndpointSlice and garbage-collector controllers.
#
#   hack/kwok/cluster.sh up           create the cluster (if not up), a fake node, the CRDs
#   hack/kwok/cluster.sh down         delete the cluster
#   hack/kwok/cluster.sh kubeconfig   print the kubeconfig path (the cluster may be down)
#   hack/kwok/cluster.sh status       exit 0 when the cluster answers
#
# Nothing is downloaded from a release page: the Kubernetes programs are built
# from the Go modules by hack/kube-build.sh (kept, so once per machine), and
# kwok/kwokctl are `go install`ed. Everything lives under the cache
# (~/.cache/skillmesh/kwok), including the kubeconfig: ~/.kube/config is never
# touched. Environment: KWOK_CLUSTER (name, default skillmesh), KUBE_VERSION
# (1.37.2, must match hack/kube/go.mod), KWOK_VERSION (v0.8.0),
# SKILLMESH_CACHE (default ~/.cache/skillmesh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=${KWOK_CLUSTER:-skillmesh}
KUBE_VERSION=${KUBE_VERSION:-1.37.2}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${SKILLMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skillmesh}
KUBE_DIR=$CACHE/kube/v$KUBE_VERSION
KWOK_BIN=$CACHE/kwok/bin/$KWOK_VERSION
export KWOK_WORKDIR=$CACHE/kwok/work
KUBECONFIG_FILE=$CACHE/kwok/$NAME.kubeconfig
KUBECTL=$KUBE_DIR/kubectl
# The simulated capacity: one fake node takes every pod of a 1000-Microservice
# benchmark with room to spare.
NODES=${KWOK_NODES:-1}

log() { echo "kwok: $*" >&2; }

kctl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

answers() { [ -f "$KUBECONFIG_FILE" ] && kctl get --raw /readyz >/dev/null 2>&1; }

tools() {
  KUBE_VERSION=$KUBE_VERSION "$ROOT/hack/kube-build.sh" "$KUBE_DIR" \
    etcd kube-apiserver kube-controller-manager kube-scheduler kubectl
  if [ ! -x "$KWOK_BIN/kwok" ] || [ ! -x "$KWOK_BIN/kwokctl" ]; then
    log "installing kwok and kwokctl $KWOK_VERSION (a few minutes when cold)"
    mkdir -p "$KWOK_BIN"
    GOBIN=$KWOK_BIN go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  fi
}

fake_nodes() {
  local i
  for i in $(seq 0 $((NODES - 1))); do
    kctl apply --server-side --field-manager=skillmesh-kwok -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
spec:
  # KWOK gives pods IPs from here: room for thousands.
  podCIDR: 10.$((128 + i)).0.0/16
status:
  allocatable: {cpu: "1000", memory: 4Ti, ephemeral-storage: 64Ti, pods: "5000"}
  capacity: {cpu: "1000", memory: 4Ti, ephemeral-storage: 64Ti, pods: "5000"}
  nodeInfo:
    architecture: amd64
    kubeletVersion: fake
    kubeProxyVersion: fake
    operatingSystem: linux
EOF
  done
  # kwokctl's Service range is a /24: 254 ClusterIPs. A second ServiceCIDR
  # (the MultiCIDRServiceAllocator API) makes room for a thousand Services.
  kctl apply --server-side --field-manager=skillmesh-kwok -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata:
  name: skillmesh-kwok
spec:
  cidrs: ["10.64.0.0/16"]
EOF
}

up() {
  tools
  if answers; then
    log "cluster $NAME already up"
  else
    # A cluster left half-made (a killed run) is removed first.
    "$KWOK_BIN/kwokctl" delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" >/dev/null 2>&1 || true
    mkdir -p "$KWOK_WORKDIR"
    local cfg=$CACHE/kwok/$NAME.kwokctl.yaml
    cat >"$cfg" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: v$KUBE_VERSION
  bindAddress: 127.0.0.1
  etcdBinary: $KUBE_DIR/etcd
  kubeApiserverBinary: $KUBE_DIR/kube-apiserver
  kubeControllerManagerBinary: $KUBE_DIR/kube-controller-manager
  kubeSchedulerBinary: $KUBE_DIR/kube-scheduler
  kubectlBinary: $KUBE_DIR/kubectl
  kwokControllerBinary: $KWOK_BIN/kwok
  # The controllers' client-side rate limits would make the control plane,
  # not the operator, the bottleneck at a thousand Deployments.
  disableQPSLimits: true
EOF
    local start=$SECONDS
    log "creating cluster $NAME (kubeconfig $KUBECONFIG_FILE)"
    "$KWOK_BIN/kwokctl" create cluster --name "$NAME" --config "$cfg" \
      --kubeconfig "$KUBECONFIG_FILE" --wait 2m >&2
    log "cluster up in $((SECONDS - start))s"
  fi
  fake_nodes
  kctl apply --server-side --force-conflicts -f "$ROOT/config/crd/bases" >/dev/null
  kctl wait --for=condition=Established --timeout=60s crd --all >/dev/null
  echo "$KUBECONFIG_FILE"
}

down() {
  if [ -x "$KWOK_BIN/kwokctl" ]; then
    "$KWOK_BIN/kwokctl" delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" >&2 || true
  fi
  rm -f "$KUBECONFIG_FILE"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  status) answers ;;
  *) echo "usage: $0 up|down|kubeconfig|status" >&2; exit 2 ;;
esac
