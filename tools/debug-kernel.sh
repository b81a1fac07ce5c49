#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build, once, a debug kernel from Debian's linux-source-6.1 (the source of
# the default test kernel) for `make check-debug`: x86_64 defconfig plus
# what the VM needs, with KASAN, UBSAN, lockdep, atomic-sleep checks,
# kmemleak, debugobjects and fault injection.  The in-tree VFIO is built as
# modules, which the tests do not load, so vpt owns /dev/vfio.
#
# Prints DEBUG_KDIR=... and DEBUG_VMLINUZ=... when done.  Cached in
# $VPT_CACHE/debug (about 20 minutes on 2 cores the first time).
set -eu

CACHE=${VPT_CACHE:-/var/cache/vpt}
D=$CACHE/debug
TOP=$(cd "$(dirname "$0")/.." && pwd)

# One build at a time: a second caller (make check-debug while the first
# build runs) waits for it instead of deleting the tree under it.
mkdir -p "$CACHE"
exec 9>"$CACHE/debug.lock"
flock 9

# Bump when the configuration below changes, so the cached build is redone.
# 2: pciehp for the hot-unplug test; no shpchp (it claimed the test bridge).
# 3: ACPI PCI hotplug, which is what QEMU's q35 offers its root ports.
REV=3

if [ "$(cat "$D/done" 2>/dev/null)" != "$REV" ]; then
	"$TOP/tools/deps.sh" >/dev/null
	for p in bc bison flex libelf-dev libssl-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends "$p" >&2
	done
	rm -rf "$D" && mkdir -p "$D/deb"
	(cd "$D/deb" && apt-get -o APT::Sandbox::User=root download -qq \
		linux-source-6.1 >&2)
	dpkg -x "$D"/deb/*.deb "$D/pkg"
	tar -C "$D" -xJf "$D"/pkg/usr/src/linux-source-6.1.tar.xz
	rm -rf "$D/deb" "$D/pkg"
	cd "$D/linux-source-6.1"
	make -s x86_64_defconfig
	./scripts/config \
		-e MODULES -e MODULE_UNLOAD -e DEVTMPFS -e DEVTMPFS_MOUNT \
		-e BLK_DEV_INITRD -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
		-e PCI -e PCI_MSI -e PCIEPORTBUS -e HOTPLUG_PCI -e HOTPLUG_PCI_PCIE -e HOTPLUG_PCI_ACPI -d HOTPLUG_PCI_SHPC \
		-e IOMMU_SUPPORT -e INTEL_IOMMU -e INTEL_IOMMU_DEFAULT_ON \
		-e IRQ_REMAP -e X86_X2APIC \
		-e HUGETLBFS -e TRANSPARENT_HUGEPAGE \
		-e TRANSPARENT_HUGEPAGE_MADVISE \
		-m VFIO -m VFIO_PCI -m VIRTIO_PCI -m VIRTIO_NET -m NET_FAILOVER \
		-e EVENTFD -e ANON_INODES \
		-e DEBUG_INFO_NONE -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_BTF \
		-e KASAN -e KASAN_GENERIC -e KASAN_INLINE \
		-e UBSAN -e UBSAN_BOUNDS -e UBSAN_SHIFT \
		-e PROVE_LOCKING -e DEBUG_ATOMIC_SLEEP -e DEBUG_LIST \
		-e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF \
		-e DEBUG_OBJECTS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_TIMERS \
		-e DEBUG_OBJECTS_WORK -e DEBUG_OBJECTS_RCU_HEAD \
		-e FAULT_INJECTION -e FAILSLAB -e FAIL_PAGE_ALLOC \
		-e FAULT_INJECTION_DEBUG_FS -e DEBUG_FS \
		-e DETECT_HUNG_TASK -e SOFTLOCKUP_DETECTOR \
		-d WERROR -d DRM -d SOUND -d USB -d WLAN -d WIRELESS
	make -s olddefconfig
	make -s -j"$(nproc)" bzImage modules >&2
	make -s modules_prepare >&2
	echo "$REV" >"$D/done"
fi
echo "DEBUG_KDIR=$D/linux-source-6.1"
echo "DEBUG_VMLINUZ=$D/linux-source-6.1/arch/x86/boot/bzImage"
