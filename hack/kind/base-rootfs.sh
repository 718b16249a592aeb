#!/usr/bin/env bash
# Makes the root filesystem of an offline kind base image: Debian bookworm from
# debootstrap (its systemd 252 still runs on cgroup v1 hosts), the packages of
# kind's images/base/Dockerfile with Debian's containerd, runc and CNI plugins
# in place of kind's own builds, and kind's images/base/files.
#
#   hack/kind/base-rootfs.sh <rootfs-dir> <kind-src>/images/base/files
set -euo pipefail

ROOTFS=$1
FILES=$2
SUITE=${DEBIAN_SUITE:-bookworm}
# The mirror the host's apt uses, so a machine that reaches only its own
# mirror works too.
MIRROR=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
log() { echo "base-rootfs: $*" >&2; }

if ! command -v debootstrap >/dev/null; then
  [ "$(id -u)" = 0 ] || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

PACKAGES=systemd,conntrack,iptables,ipset,nftables,iproute2,ethtool,util-linux,mount,kmod
PACKAGES+=,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps
PACKAGES+=,containerd,runc,containernetworking-plugins

rm -rf "$ROOTFS"
mkdir -p "$(dirname "$ROOTFS")"
log "debootstrap $SUITE from $MIRROR (a few minutes)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 ||
  { tail -30 "$ROOTFS.log" >&2; exit 1; }

# kind's files, with the modes its Dockerfile gives them.
install -d -m 755 "$ROOTFS/kind/bin" "$ROOTFS/etc/kubernetes/manifests" "$ROOTFS/opt/cni/bin"
install -m 755 "$FILES"/usr/local/bin/* "$ROOTFS/usr/local/bin/"
install -m 755 "$FILES"/kind/bin/* "$ROOTFS/kind/bin/"
install -m 644 "$FILES/etc/crictl.yaml" "$ROOTFS/etc/"
install -D -m 644 "$FILES/etc/containerd/config.toml" "$ROOTFS/etc/containerd/config.toml"
install -m 644 "$FILES"/etc/default/* "$ROOTFS/etc/default/"
install -m 644 "$FILES"/etc/sysctl.d/* "$ROOTFS/etc/sysctl.d/"
find "$FILES/etc/systemd/system" -maxdepth 1 -type f -exec install -m 644 {} "$ROOTFS/etc/systemd/system/" \;
install -d "$ROOTFS/etc/systemd/system/kubelet.service.d"
install -m 644 "$FILES"/etc/systemd/system/kubelet.service.d/* "$ROOTFS/etc/systemd/system/kubelet.service.d/"

# Debian's binaries where kind's units and configs expect its own builds.
ln -sf /usr/bin/containerd "$ROOTFS/usr/local/bin/containerd"
for p in "$ROOTFS"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "$p")" "$ROOTFS/opt/cni/bin/"; done
# No fuse-overlayfs snapshotter here (kind uses it only for rootless nodes).
sed -i '/\[proxy_plugins/,/address = /d' "$ROOTFS/etc/containerd/config.toml"

chroot "$ROOTFS" sh -ec '
  ctr oci spec \
    | jq ".hooks.createContainer[.hooks.createContainer | length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
    | jq "del(.process.rlimits)" >/etc/containerd/cri-base.json
  find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
  rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/*
  rm -f /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/basic.target.wants/*
  rm -f /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl*
  echo ReadKMsg=no >>/etc/systemd/journald.conf
  ln -sf /usr/lib/systemd/systemd /sbin/init
  systemctl enable kubelet.service containerd.service undo-mount-hacks.service
  systemctl mask systemd-binfmt.service
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/*
'
log "rootfs ready in $ROOTFS"
