#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build, once per source version, the debug kernel of `make check-debug`
# from Debian's linux-source of the same version as one kernel of the
# matrix (tools/deps.sh): by default the newest, Debian 13's backport
# (7.x), or Debian 12's 6.1.  x86_64 defconfig plus what the VM needs,
# with KASAN, UBSAN, lockdep, atomic-sleep checks, kmemleak, debugobjects,
# KUnit and fault injection.  The in-tree VFIO is built as modules,
# which the tests do not load, so vpt owns /dev/vfio.  It is
# built with the compiler of the kernel it is the source of: the Debian
# 13 build root's gcc-14 for 7.x (chroot, tools/kbuild.sh), the host's
# gcc-12 for 6.1.
#
#   tools/debug-kernel.sh [KERNEL]           build if needed, print keys
#   tools/debug-kernel.sh --cached [KERNEL]  print keys, or fail if unbuilt
#
# KERNEL is a name of the matrix: the newest (deb13-bpo) by default, or
# 6.1 (`make check-debug DEBUG_KVER=6.1`).  Prints DEBUG_KDIR=...,
# DEBUG_VMLINUZ=... and DEBUG_REL=... (its kernel release).  Cached in
# $VPT_CACHE/debug-<source version>, e.g. /var/cache/vpt/debug-7.3.4, so
# that the debug kernels of both sources coexist.
set -eu

CACHE=${VPT_CACHE:-/var/cache/vpt}
TOP=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${VPT_BUILD_ROOT:-$CACHE/deb13root}
CACHED=0
[ "${1:-}" = --cached ] && { CACHED=1; shift; }
K=${1:-}

log() { echo "debug-kernel: $*" >&2; }

# Bump when the configuration below changes, so the cached build is redone.
# 2: pciehp for the hot-unplug test; no shpchp (it claimed the test bridge).
# 3: ACPI PCI hotplug, which is what QEMU's q35 offers its root ports.
# 4: any Debian source (7.x); KUnit; no iommufd (as Debian's); fewer drivers.
# 5: SR-IOV and igb built in, for the SR-IOV run (run.sh --sriov).
# 6: DEBUG_VM, for the pin and refcount checks vpt's huge-page pinning
#    relies on (folio_add_pins(), unpin).
REV=6

# The kernel's suite, from the matrix deps.sh resolves kernels through
# (KERNELS="NAME:SUITE ..."), and that suite's private apt view, which
# deps.sh made (it runs first).
deps=$("$TOP/tools/deps.sh")
eval "$deps"
K=${K:-${KERNELS##* }}
suite=$(sed -n 's/^KERNELS="\(.*\)"$/\1/p' "$TOP/tools/deps.sh" |
	tr ' ' '\n' | sed -n "s/^$K://p")
[ -n "$suite" ] || { log "unknown kernel $K (a name of tools/deps.sh)"; exit 2; }
abi=$(cat "$CACHE/k/$K/abi")
v=$CACHE/apt/$suite
VIEW="-o Dir::Etc::SourceList=$v/sources.list -o Dir::Etc::SourceParts=/nonexistent
	-o Dir::State::Lists=$v/lists -o Dir::Cache=$v/cache -o APT::Sandbox::User=root"
# The Debian version of the kernel deps.sh fetched (its image package,
# split into linux-binary-* from 7.x), e.g. 7.3.4-1~bpo13+1: the source
# is linux-source-7.3 of exactly that version.
# shellcheck disable=SC2086
ver=$(for p in "linux-binary-unsigned-$abi" "linux-image-$abi-unsigned"; do
	apt-cache $VIEW show "$p" 2>/dev/null | sed -n 's/^Version: //p'
      done | head -n 1)
[ -n "$ver" ] || { log "no package version for $abi in $suite"; exit 1; }
upstream=${ver%%-*}
mm=$(echo "$upstream" | cut -d. -f1-2)
D=$CACHE/debug-$upstream
TREE=$D/linux-source-$mm

keys() {
	echo "DEBUG_KDIR=$TREE"
	echo "DEBUG_VMLINUZ=$TREE/arch/x86/boot/bzImage"
	echo "DEBUG_REL=$(cat "$TREE/include/config/kernel.release")"
}

if [ $CACHED -eq 1 ]; then
	[ "$(cat "$D/done" 2>/dev/null)" = "$REV" ] ||
		{ log "no debug kernel for $K ($upstream): run tools/debug-kernel.sh $K"; exit 1; }
	keys
	exit 0
fi

# One build at a time per source: a second caller (make check-debug while
# the first build runs) waits for it instead of deleting the tree under it.
exec 9>"$CACHE/debug-$upstream.lock"
flock 9

# in_tree COMMAND...: COMMAND in the source tree, where the kernel's own
# compiler is (the build root for a gcc-14 kernel, as tools/kbuild.sh
# decides for its modules), at a low priority: other builds share the CPU.
kdir=$(printf "%s\n" "$deps" | sed -n "s/^KDIR_$(echo "$K" | tr .- __)=//p")
WHERE=$("$TOP/tools/kbuild.sh" --cc "$kdir")
in_tree() {
	if [ "$WHERE" = root ]; then
		(cd "$TREE" && nice -n 5 "$TOP/tools/kbuild.sh" --root "$@")
	else
		(cd "$TREE" && nice -n 5 "$@")
	fi
}

# What building a kernel needs beyond building modules, where it is built.
need_pkgs() {
	missing=""
	for p in bc bison flex libelf-dev libssl-dev; do
		if [ "$WHERE" = root ]; then
			dpkg-query --admindir="$ROOT/var/lib/dpkg" -W \
				-f='${Status}' "$p" 2>/dev/null
		else
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null
		fi | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing$missing ($WHERE)"
	# shellcheck disable=SC2086
	if [ "$WHERE" = root ]; then
		"$TOP/tools/kbuild.sh" --root-apt install -y -qq \
			--no-install-recommends $missing >&2
	else
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing >&2
	fi
}

if [ "$(cat "$D/done" 2>/dev/null)" != "$REV" ]; then
	start=$(date +%s)
	need_pkgs
	if [ ! -f "$D/unpacked" ]; then
		log "fetching linux-source-$mm $ver ($suite)"
		rm -rf "$D" && mkdir -p "$D/deb"
		# shellcheck disable=SC2086
		(cd "$D/deb" && apt-get $VIEW download -qq \
			"linux-source-$mm=$ver" >&2)
		dpkg -x "$D"/deb/*.deb "$D/pkg"
		tar -C "$D" -xJf "$D/pkg/usr/src/linux-source-$mm.tar.xz"
		rm -rf "$D/deb" "$D/pkg"
		touch "$D/unpacked"
	fi
	log "configuring $TREE"
	in_tree make -s x86_64_defconfig
	# The VM: serial console, initramfs, the q35 PCIe ports and their
	# hotplug (ACPI, pciehp; no shpchp: it claims the test bridge), the
	# Intel IOMMU with interrupt remapping, THP, hugetlbfs and
	# userfaultfd (vpt_teardown_test) for the tests, memcg (as Debian's
	# kernels charge pages), virtio.  VFIO with its group and container API as modules,
	# and, as in Debian's 7.x, no iommufd (with it, VFIO could be built
	# without /dev/vfio/vfio, or iommufd could provide it).  Debugging:
	# KASAN, UBSAN, lockdep, kmemleak, debug objects, DEBUG_VM (page
	# refcount and pin sanity), KUnit, fault injection with its debugfs
	# and fail-nth.
	# Left out, to keep the build short: graphics, sound, USB, wireless,
	# netfilter, wired NICs, ATA, MD and network filesystems, which the
	# VM has no use for; no debug info.
	in_tree ./scripts/config \
		-e MODULES -e MODULE_UNLOAD -e DEVTMPFS -e DEVTMPFS_MOUNT \
		-e BLK_DEV_INITRD -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
		-e PCI -e PCI_MSI -e PCIEPORTBUS -e HOTPLUG_PCI \
		-e HOTPLUG_PCI_PCIE -e HOTPLUG_PCI_ACPI -d HOTPLUG_PCI_SHPC \
		-e IOMMU_SUPPORT -e INTEL_IOMMU -e INTEL_IOMMU_DEFAULT_ON \
		-e IRQ_REMAP -e X86_X2APIC \
		-e HUGETLBFS -e TRANSPARENT_HUGEPAGE \
		-e TRANSPARENT_HUGEPAGE_MADVISE -e USERFAULTFD -e MEMCG \
		-e VIRTIO_MENU -m VIRTIO_PCI -m VIRTIO_NET -m NET_FAILOVER \
		-d IOMMUFD -m VFIO -e VFIO_GROUP -e VFIO_CONTAINER \
		-m VFIO_IOMMU_TYPE1 -m VFIO_PCI \
		-e EVENTFD -e ANON_INODES \
		-e DEBUG_INFO_NONE -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
		-d DEBUG_INFO_DWARF4 -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_BTF \
		-e KASAN -e KASAN_GENERIC -e KASAN_INLINE \
		-e UBSAN -e UBSAN_BOUNDS -e UBSAN_SHIFT \
		-e PROVE_LOCKING -e DEBUG_ATOMIC_SLEEP -e DEBUG_LIST -e DEBUG_VM \
		-e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF \
		-e DEBUG_OBJECTS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_TIMERS \
		-e DEBUG_OBJECTS_WORK -e DEBUG_OBJECTS_RCU_HEAD \
		-e KUNIT -d KUNIT_ALL_TESTS \
		-e FAULT_INJECTION -e FAILSLAB -e FAIL_PAGE_ALLOC \
		-e FAULT_INJECTION_DEBUG_FS -e DEBUG_FS \
		-e DETECT_HUNG_TASK -e SOFTLOCKUP_DETECTOR \
		-d WERROR -d DRM -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS \
		-d CFG80211 -d NETFILTER -d ATA -d MD \
		-e PCI_IOV -e ETHERNET -e NET_VENDOR_INTEL -e IGB \
		-d NETWORK_FILESYSTEMS -d AGP
	in_tree make -s olddefconfig
	# What the runs rely on must have survived olddefconfig.
	for c in KASAN=y UBSAN=y PROVE_LOCKING=y DEBUG_KMEMLEAK=y \
		 DEBUG_OBJECTS=y KUNIT=y FAILSLAB=y FAIL_PAGE_ALLOC=y \
		 FAULT_INJECTION_DEBUG_FS=y INTEL_IOMMU=y IRQ_REMAP=y \
		 HOTPLUG_PCI_ACPI=y HOTPLUG_PCI_PCIE=y HUGETLBFS=y \
		 TRANSPARENT_HUGEPAGE=y USERFAULTFD=y VFIO=m VFIO_PCI=m \
		 PCI_IOV=y IGB=y DEBUG_INFO_NONE=y DEBUG_VM=y; do
		grep -qx "CONFIG_$c" "$TREE/.config" ||
			{ log "CONFIG_$c did not stick in $TREE/.config"; exit 1; }
	done
	log "building $TREE (make -j2, nice 5)"
	in_tree make -s -j2 bzImage modules >&2
	in_tree make -s modules_prepare >&2
	echo "$REV" >"$D/done"
	log "built $(cat "$TREE/include/config/kernel.release") in $(($(date +%s) - start)) s"
fi
keys
