#!/usr/bin/env bash
# Makes a Docker engine answer for kind, and takes back what it changed.
#
#   hack/kind/docker.sh up     # docker info works afterwards (or a clear error)
#   hack/kind/docker.sh down   # stops the dockerd that `up` started, removes its
#                              # iptables rules and bridge; a no-op otherwise
#
# An engine that already answers is used as it is and never stopped. Otherwise,
# as root, Debian's docker.io is installed when missing and dockerd is started
# by hand (no init system is assumed). When the host's capability bounding set
# lacks CAP_SYS_RESOURCE (some VMs and nested sandboxes), Docker's --privileged
# containers — kind's nodes — fail with "unable to apply caps"; dockerd then
# runs with a runc wrapper that drops that one capability from the container's
# spec, and `restricted-caps` in the state directory tells kind-up.sh to set
# containerd's restrict_oom_score_adj inside the node.
set -euo pipefail

STATE=${SKILLMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skillmesh}/docker
PIDFILE=$STATE/dockerd.pid
log() { echo "docker.sh: $*" >&2; }

# CAP_SYS_RESOURCE is capability 24.
lacks_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  (((0x$bnd >> 24) & 1)) && return 1 || return 0
}

write_runc_wrapper() {
  local runc
  runc=$(command -v runc) || { log "runc is missing (apt-get install runc)"; exit 1; }
  cat >"$STATE/runc-without-sys-resource" <<WRAPPER
#!/bin/sh
# Written by hack/kind/docker.sh: this host cannot grant CAP_SYS_RESOURCE, so it
# is removed from the container's spec (create/run --bundle) or from an exec'd
# process (exec --process) before the real runc sees it.
prev=""
for a in "\$@"; do
  case "\$prev" in
    --bundle | -b) f="\$a/config.json" ;;
    --process | -p) f="\$a" ;;
  esac
  case "\$a" in
    --bundle=*) f="\${a#--bundle=}/config.json" ;;
    --process=*) f="\${a#--process=}" ;;
  esac
  prev="\$a"
done
if [ -n "\${f:-}" ] && [ -f "\$f" ]; then
  sed -i -e 's/"CAP_SYS_RESOURCE",//g' -e 's/,"CAP_SYS_RESOURCE"//g' -e 's/\["CAP_SYS_RESOURCE"\]/[]/g' "\$f"
fi
exec $runc "\$@"
WRAPPER
  chmod 755 "$STATE/runc-without-sys-resource"
}

install_docker() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "no Docker engine answers and this script cannot install one (it needs root and apt)."
    log "install Docker (Debian: apt-get install docker.io containerd runc iptables) and start it, then run again."
    exit 1
  fi
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq docker.io containerd runc iptables >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq docker.io containerd runc iptables >/dev/null; }
}

up() {
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p "$STATE"
  command -v dockerd >/dev/null || install_docker
  if [ "$(id -u)" != 0 ]; then
    log "dockerd is installed but not answering; start it (e.g. sudo systemctl start docker) or run as root."
    exit 1
  fi
  local args=(--pidfile "$PIDFILE" --host unix:///var/run/docker.sock)
  rm -f "$STATE/restricted-caps"
  if lacks_sys_resource; then
    log "the capability bounding set lacks CAP_SYS_RESOURCE: dockerd gets a runc wrapper that drops it"
    write_runc_wrapper
    args+=(--add-runtime "skillmesh-runc=$STATE/runc-without-sys-resource" --default-runtime skillmesh-runc)
    touch "$STATE/restricted-caps"
  fi
  # What the rules were before dockerd adds its chains, to restore on `down`.
  # Rules that already hold Docker's chains are leftovers of an engine that
  # did not go through `down`: the snapshot taken before it is kept.
  local now
  now=$(iptables-save 2>/dev/null || true)
  if ! grep -q '^:DOCKER ' <<<"$now" || [ ! -s "$STATE/iptables.before" ]; then
    printf '%s\n' "$now" >"$STATE/iptables.before"
  fi
  log "starting dockerd (log: $STATE/dockerd.log)"
  nohup dockerd "${args[@]}" >"$STATE/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { touch "$STATE/started-by-us"; return 0; }
    sleep 1
  done
  log "dockerd did not answer within 60 s; its log ends with:"
  tail -20 "$STATE/dockerd.log" >&2
  exit 1
}

down() {
  [ -f "$STATE/started-by-us" ] || return 0
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping the dockerd this script started"
    kill "$pid"
    # dockerd stops its containers first; it removes its pid file when done.
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  if [ -s "$STATE/iptables.before" ]; then
    iptables-restore <"$STATE/iptables.before" || log "could not restore iptables rules from $STATE/iptables.before"
    # A table absent from the snapshot was empty then: empty it again.
    for table in filter nat; do
      grep -q "^\*$table" "$STATE/iptables.before" || { iptables -t "$table" -F && iptables -t "$table" -X; } 2>/dev/null || true
    done
    [ "$(iptables -S FORWARD 2>/dev/null | head -1)" = "-P FORWARD DROP" ] && ! grep -q '^:FORWARD DROP' "$STATE/iptables.before" &&
      iptables -P FORWARD ACCEPT
  fi
  ip link delete docker0 2>/dev/null || true
  rm -f "$STATE/started-by-us"
}

case ${1:-up} in
  up) up ;;
  down) down ;;
  restricted) [ -f "$STATE/restricted-caps" ] ;;
  *) echo "usage: $0 up|down|restricted" >&2; exit 2 ;;
esac
