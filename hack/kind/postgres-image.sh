#!/usr/bin/env bash
# Builds a PostgreSQL server image where no registry answers: Debian's
# PostgreSQL 15 (postgres, initdb and the shared libraries they link, read
# from ldd; its share directory and the time zones), with dash as /bin/sh for
# initdb and a small entrypoint, on scratch, running as uid 999. Where a
# registry answers, postgres:15 takes the same environment.
#
#   hack/kind/postgres-image.sh [image]     (default skillmesh/postgres:15-bookworm)
#
# The entrypoint makes the cluster in $PGDATA on first start (trust on the
# node's socket-less single-user mode only; scram-sha-256 for every TCP
# client), creates $POSTGRES_DB owned by $POSTGRES_USER with
# $POSTGRES_PASSWORD, then runs postgres listening on every address.
set -euo pipefail

IMG=${1:-skillmesh/postgres:15-bookworm}
PGV=15
log() { echo "postgres-image: $*" >&2; }

if docker image inspect "$IMG" >/dev/null 2>&1; then
  exit 0
fi
if [ ! -x /usr/lib/postgresql/$PGV/bin/postgres ]; then
  [ "$(id -u)" = 0 ] || { log "PostgreSQL $PGV is missing: apt-get install postgresql-$PGV"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PGV" >/dev/null
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
bin=/usr/lib/postgresql/$PGV/bin
progs=("$bin/postgres" "$bin/initdb" "$(readlink -f /bin/dash)")
mkdir -p "$root$bin" "$root/bin" "$root/etc" "$root/usr/share" "$root/var/lib/postgresql" "$root/tmp"
cp "$bin/postgres" "$bin/initdb" "$root$bin/"
# The server's own modules (dict_snowball, plpgsql, …), without the LLVM JIT
# (it links libLLVM, hundreds of MB, and jit is off by default here).
mkdir -p "$root/usr/lib/postgresql/$PGV"
cp -a "/usr/lib/postgresql/$PGV/lib" "$root/usr/lib/postgresql/$PGV/"
rm -rf "$root/usr/lib/postgresql/$PGV/lib/bitcode" "$root/usr/lib/postgresql/$PGV/lib"/llvmjit*
for so in "$root/usr/lib/postgresql/$PGV/lib"/*.so; do progs+=("/usr/lib/postgresql/$PGV/lib/$(basename "$so")"); done
cp "$(readlink -f /bin/dash)" "$root/bin/sh"
for lib in $(ldd "${progs[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
mkdir -p "$root/usr/share/postgresql"
cp -a "/usr/share/postgresql/$PGV" "$root/usr/share/postgresql/"
rm -rf "$root/usr/share/postgresql/$PGV/man" "$root/usr/share/postgresql/$PGV/contrib"
cp -a /usr/share/zoneinfo "$root/usr/share/"
echo 'postgres:x:999:999::/var/lib/postgresql:/usr/sbin/nologin' >"$root/etc/passwd"
echo 'postgres:x:999:' >"$root/etc/group"
cat >"$root/entrypoint" <<'SH'
#!/bin/sh
set -eu
: "${PGDATA:=/var/lib/postgresql/data/pgdata}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
export PATH=/usr/lib/postgresql/15/bin:/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pw=/tmp/pwfile.$$
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C >/dev/null
  : >"$pw" # (no rm in the image: emptied)
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"" |
      postgres --single -D "$PGDATA" -c unix_socket_directories= postgres >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories= -c jit=off "$@"
SH
chmod 0755 "$root/entrypoint"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
USER 999:999
ENV PGDATA=/var/lib/postgresql/data/pgdata
EXPOSE 5432
ENTRYPOINT ["/entrypoint"]
DOCKERFILE
chmod 1777 "$root/tmp"
log "building $IMG from $bin"
DOCKER_BUILDKIT=0 docker build -q -t "$IMG" "$ctx" >/dev/null
