#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# qemu-deb13.sh QEMU-ARGUMENTS...
#
# Run Debian 13's qemu-system-x86_64 (QEMU 10) as the outer emulator, for
# what the host's QEMU 7.2 (Debian 12) lacks: virtio-iommu-pci's aw-bits
# property (QEMU 9 and later).  It runs chrooted in the Debian 13 build
# root that tools/deps.sh made (tools/kbuild.sh --root: a private mount
# namespace with the tree, the cache and VPT_OUT bind-mounted at their
# own paths), so that its libraries, modules and firmware are its own.
# The packages are installed into the root once, idempotently.
#
#   VPT_OUT=DIR  a directory outside the tree the arguments name (run.sh's
#                --out), bind-mounted too
#
# The host's root is visible inside the root at $CACHE/hostroot (a
# recursive bind made in a private mount namespace, gone with it), for
# run.sh --clients to share with the guest over 9p as it shares / under
# the host's QEMU.
set -eu

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${VPT_CACHE:-/var/cache/vpt}
ROOT=${VPT_BUILD_ROOT:-$CACHE/deb13root}
# The emulator, its BIOS and the NIC option ROMs (-nodefaults still loads
# virtio-net-pci's), as on the host (tools/deps.sh HOST_PKGS).
PKGS="qemu-system-x86 seabios ipxe-qemu"

if [ ! -x "$ROOT/usr/bin/qemu-system-x86_64" ] ||
   [ ! -f "$ROOT/usr/share/qemu/efi-virtio.rom" ] ||
   [ ! -f "$ROOT/usr/share/seabios/bios-256k.bin" ]; then
	[ -x "$ROOT/usr/bin/gcc" ] ||
		{ echo "qemu-deb13: no build root at $ROOT: run tools/deps.sh" >&2; exit 1; }
	echo "qemu-deb13: installing $PKGS into $ROOT" >&2
	"$TOP/tools/kbuild.sh" --root-apt update -qq >&2
	# Another install into the root may hold the lock for a while.
	# shellcheck disable=SC2086
	"$TOP/tools/kbuild.sh" --root-apt -o DPkg::Lock::Timeout=600 \
		install -y -qq --no-install-recommends $PKGS >&2
fi
mkdir -p "$CACHE/hostroot"
# shellcheck disable=SC2016
exec unshare -m --propagation private sh -c '
	mount --rbind / "$1/hostroot"
	shift
	exec "$@"' sh "$CACHE" "$TOP/tools/kbuild.sh" --root \
	env ${VPT_OUT:+VPT_OUT="$VPT_OUT"} qemu-system-x86_64 "$@"
