#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fetch and cache everything vpt's build and VM tests need, idempotently:
# the host packages, Debian's 6.1 and 6.12 (bookworm-backports) kernel
# image, headers and kbuild packages (unpacked, never installed), and the
# few files the project uses from Debian's linux-source-6.1.
#
# Prints "KEY=value" lines describing the cache on stdout when done.
# Usage: tools/deps.sh [--quiet]
set -eu

CACHE=${VPT_CACHE:-/var/cache/vpt}
APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
HOST_PKGS="qemu-system-x86 seabios ipxe-qemu busybox-static cpio kmod dwarves sparse gcc make \
	xz-utils zstd libc6-dev"
# The VFIO clients run in the test VM (run.sh --clients) from this machine's
# root: dpdk-testpmd ships in dpdk-dev, its virtio PMD apart.
HOST_PKGS="$HOST_PKGS dpdk-dev librte-net-virtio23"

log() { echo "deps: $*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_host_packages() {
	missing=""
	for p in $HOST_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $missing >&2
}

# The Debian mirror the machine already uses, read from its own apt sources
# so that no host name is written into the tree.
debian_mirror() {
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk 'BEGIN { RS = ""; FS = "\n" }
			/Suites:[^\n]*bookworm( |$|\n)/ && /Components:[^\n]*main/ {
				for (i = 1; i <= NF; i++)
					if ($i ~ /^URIs:/) { split($i, a, " "); print a[2] }
			}' "$f"
		done
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" && / bookworm / { for (i = 2; i <= NF; i++)
				if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
	} | grep -v security | head -n 1
}

# apt options for a private view of bookworm-backports.
setup_backports_apt() {
	d=$CACHE/apt
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	if [ ! -s "$d/sources.list" ]; then
		m=$(debian_mirror)
		[ -n "$m" ] || { log "no Debian mirror in apt sources"; exit 1; }
		echo "deb [signed-by=$APT_KEYRING] $m bookworm-backports main" \
			>"$d/sources.list"
	fi
	BPO_APT="-o Dir::Etc::SourceList=$d/sources.list \
		-o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache"
	if [ -z "$(ls "$d/lists" | grep -v partial)" ]; then
		# shellcheck disable=SC2086
		apt-get $BPO_APT -o APT::Sandbox::User=root update -qq >&2
	fi
}

# first_dep APTOPTS PKG: the package PKG depends on first (the ABI package).
first_dep() {
	# shellcheck disable=SC2086
	apt-cache $1 depends "$2" | awk '/Depends:/ { print $2; exit }'
}

# fetch_kernel NAME APTOPTS: unpack image, headers and kbuild for the
# current Debian kernel of that apt view into $CACHE/k/NAME/root.
fetch_kernel() {
	name=$1 opts=$2
	kd=$CACHE/k/$name
	if [ ! -f "$kd/abi" ]; then
		abi=$(first_dep "$opts" linux-image-amd64 | sed 's/^linux-image-//')
		[ -n "$abi" ] || { log "cannot resolve the $name kernel"; exit 1; }
		common=$(first_dep "$opts" "linux-headers-$abi" | grep common || true)
		[ -n "$common" ] || common=linux-headers-${abi%-amd64}-common
		kbuild=$(apt-cache $opts depends "linux-headers-$abi" |
			awk '/Depends: linux-kbuild/ { print $2; exit }')
		log "fetching kernel $abi ($common, $kbuild)"
		rm -rf "$kd" && mkdir -p "$kd/deb"
		# shellcheck disable=SC2086
		(cd "$kd/deb" && apt-get $opts -o APT::Sandbox::User=root download -qq \
			"linux-image-$abi-unsigned" "linux-headers-$abi" \
			"$common" "$kbuild" >&2)
		for deb in "$kd"/deb/*.deb; do dpkg -x "$deb" "$kd/root"; done
		rm -rf "$kd/deb"
		echo "$abi" >"$kd/abi"
	fi
	abi=$(cat "$kd/abi")
	# modules.dep, for loading the in-tree vfio modules in the VM.
	[ -f "$kd/root/lib/modules/$abi/modules.dep" ] ||
		depmod -b "$kd/root" "$abi" 2>/dev/null
	# The header packages point at /usr/src/... and /usr/lib/linux-kbuild-*
	# by absolute path: make those names resolve into the cache.
	for p in "$kd"/root/usr/src/* "$kd"/root/usr/lib/linux-kbuild-*; do
		t=${p#"$kd/root"}
		[ -e "$t" ] || [ -L "$t" ] || as_root ln -s "$p" "$t"
	done
}

fetch_source_bits() {
	sd=$CACHE/src
	[ -f "$sd/done" ] && return 0
	log "extracting selftest harness and checkpatch from linux-source-6.1"
	rm -rf "$sd" && mkdir -p "$sd/deb"
	(cd "$sd/deb" && apt-get -o APT::Sandbox::User=root download -qq linux-source-6.1 >&2)
	dpkg -x "$sd"/deb/*.deb "$sd/pkg"
	tar -C "$sd" --strip-components=1 -xJf "$sd"/pkg/usr/src/linux-source-6.1.tar.xz \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/.clang-format
	rm -rf "$sd/deb" "$sd/pkg"
	touch "$sd/done"
}

mkdir -p "$CACHE"
install_host_packages
fetch_kernel 6.1 ""
setup_backports_apt
fetch_kernel 6.12 "$BPO_APT"
fetch_source_bits

for k in 6.1 6.12; do
	abi=$(cat "$CACHE/k/$k/abi")
	echo "KDIR_$k=/usr/src/linux-headers-$abi"
	echo "VMLINUZ_$k=$CACHE/k/$k/root/boot/vmlinuz-$abi"
	echo "MODDIR_$k=$CACHE/k/$k/root/lib/modules/$abi"
done
echo "SRC=$CACHE/src"
