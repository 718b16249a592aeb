#!/usr/bin/env bash
# Builds the sample broker's image where no registry answers: Debian's
# redis-server and redis-cli with the shared libraries they link (read from
# ldd), on scratch, running as uid 999 in /data without protected mode like
# the official image.
#
#   hack/kind/redis-image.sh [image]     (default skillmesh/redis:7-bookworm)
set -euo pipefail

IMG=${1:-skillmesh/redis:7-bookworm}
log() { echo "redis-image: $*" >&2; }

if docker image inspect "$IMG" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v redis-server >/dev/null; then
  [ "$(id -u)" = 0 ] || { log "redis-server is missing: apt-get install redis-server"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/bin" "$root/etc" "$ctx/data"
server=$(readlink -f "$(command -v redis-server)")
cli=$(readlink -f "$(command -v redis-cli)")
cp "$server" "$root/usr/bin/redis-server"
cp "$cli" "$root/usr/bin/redis-cli"
for lib in $(ldd "$server" "$cli" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# As in the official image: clients on other pods connect without a password
# (Debian's default protected mode would close their connections).
mkdir -p "$root/etc/redis"
printf 'bind * -::*\nprotected-mode no\ndir /data\n' >"$root/etc/redis/redis.conf"
echo 'redis:x:999:999::/data:/usr/sbin/nologin' >"$root/etc/passwd"
echo 'redis:x:999:' >"$root/etc/group"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
COPY --chown=999:999 data /data
WORKDIR /data
USER 999:999
EXPOSE 6379
ENTRYPOINT ["/usr/bin/redis-server", "/etc/redis/redis.conf"]
DOCKERFILE
log "building $IMG from $server"
DOCKER_BUILDKIT=0 docker build -q -t "$IMG" "$ctx" >/dev/null
