#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fetch and cache everything vpt's build and VM tests need, idempotently:
# the host packages; the kernel, modules, headers and kbuild packages
# (unpacked, never installed) of four Debian kernels: Debian 12's 6.1 and
# its bookworm-backports 6.12, Debian 13's 6.12 and its newest
# trixie-backports kernel, each resolved through its suite's
# linux-image-amd64; a Debian 13 root with gcc-14 for the kernels built
# with it and Debian 13's VFIO clients for the VM; and the few files the
# project uses from Debian's linux-source-6.1.
#
# Prints "KEY_<kernel>=value" lines describing the cache on stdout when
# done (KDIR, VMLINUZ, MODDIR, REL), then KERNELS, BUILD_ROOT and SRC.
# Usage: tools/deps.sh [--quiet]
set -eu

CACHE=${VPT_CACHE:-/var/cache/vpt}
TOOLS=$(cd "$(dirname "$0")" && pwd)
APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
HOST_PKGS="qemu-system-x86 seabios ipxe-qemu busybox-static cpio kmod dwarves sparse gcc make \
	xz-utils zstd libc6-dev"
# The VFIO clients run in the test VM (run.sh --clients) from this machine's
# root: dpdk-testpmd ships in dpdk-dev, its virtio PMD apart, and
# dpdk-devbind.py in dpdk.
HOST_PKGS="$HOST_PKGS dpdk-dev librte-net-virtio23 dpdk"
# dkms checks `make install-dkms` for the gcc-12 kernels (check-dkms.sh);
# debootstrap makes the Debian 13 build root.
HOST_PKGS="$HOST_PKGS dkms debootstrap"

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

# apt_view SUITE: set VIEW to the apt options of a private view of that
# suite of the machine's own mirror (lists and downloads under the cache).
apt_view() {
	d=$CACHE/apt/$1
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	if [ ! -s "$d/sources.list" ]; then
		m=$(debian_mirror)
		[ -n "$m" ] || { log "no Debian mirror in apt sources"; exit 1; }
		echo "deb [signed-by=$APT_KEYRING] $m $1 main" >"$d/sources.list"
	fi
	VIEW="-o Dir::Etc::SourceList=$d/sources.list \
		-o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache \
		-o APT::Sandbox::User=root"
	if [ -z "$(ls "$d/lists" | grep -v partial)" ]; then
		# shellcheck disable=SC2086
		apt-get $VIEW update -qq >&2
	fi
}

# deps_of APTOPTS PKG: the packages PKG depends on, one a line.
deps_of() {
	# shellcheck disable=SC2086
	apt-cache $1 depends "$2" | awk '$1 == "Depends:" { print $2 }'
}

# fetch_kernel NAME SUITE: unpack the kernel, modules, headers and kbuild
# of the suite's linux-image-amd64 into $CACHE/k/NAME/root.  From 7.x
# Debian splits linux-image-<rel> into linux-binary-<rel> (the vmlinuz,
# in /usr/lib/modules/<rel>/vmlinuz.unsigned) and linux-modules-<rel>.
fetch_kernel() {
	name=$1 suite=$2
	kd=$CACHE/k/$name
	if [ ! -f "$kd/abi" ]; then
		apt_view "$suite"
		abi=$(deps_of "$VIEW" linux-image-amd64 |
			sed -n 's/^linux-image-//p' | head -n 1)
		[ -n "$abi" ] || { log "cannot resolve the $suite kernel"; exit 1; }
		hdeps=$(deps_of "$VIEW" "linux-headers-$abi")
		common=$(echo "$hdeps" | grep -- '-common$' | head -n 1)
		kbuild=$(echo "$hdeps" | grep '^linux-kbuild' | head -n 1)
		if deps_of "$VIEW" "linux-image-$abi" |
		   grep -qx "linux-binary-$abi"; then
			image="linux-binary-unsigned-$abi linux-modules-$abi"
		else
			image=linux-image-$abi-unsigned
		fi
		log "fetching $suite kernel $abi ($image, $common, $kbuild)"
		rm -rf "$kd" && mkdir -p "$kd/deb"
		# shellcheck disable=SC2086
		(cd "$kd/deb" && apt-get $VIEW download -qq $image \
			"linux-headers-$abi" "$common" "$kbuild" >&2)
		for deb in "$kd"/deb/*.deb; do dpkg -x "$deb" "$kd/root"; done
		rm -rf "$kd/deb"
		echo "$abi" >"$kd/abi"
	fi
	abi=$(cat "$kd/abi")
	# Merged /usr (Debian 13): /lib/modules is /usr/lib/modules.
	[ -e "$kd/root/lib" ] || ln -s usr/lib "$kd/root/lib"
	for v in "$kd/root/boot/vmlinuz-$abi" \
		 "$kd/root/lib/modules/$abi/vmlinuz.unsigned" \
		 "$kd/root/lib/modules/$abi/vmlinuz"; do
		[ -e "$kd/vmlinuz" ] && break
		[ -f "$v" ] && ln -s "${v#"$kd/"}" "$kd/vmlinuz"
	done
	[ -e "$kd/vmlinuz" ] || { log "no vmlinuz for $abi"; exit 1; }
	# modules.dep, for loading the in-tree vfio modules in the VM.
	[ -f "$kd/root/lib/modules/$abi/modules.dep" ] ||
		depmod -b "$kd/root" "$abi" 2>/dev/null
	# kbuild's C=1 runs scripts/checker-valid.sh from 6.13 on; Debian's
	# headers leave it out.
	for c in "$kd"/root/usr/src/linux-headers-*-common; do
		grep -q checker-valid.sh "$c/Makefile" 2>/dev/null &&
			[ ! -e "$c/scripts/checker-valid.sh" ] &&
			cp "$TOOLS/checker-valid.sh" "$c/scripts/checker-valid.sh"
	done
	# The header packages point at /usr/src/... and /usr/lib/linux-kbuild-*
	# by absolute path: make those names resolve into the cache, here and
	# in the Debian 13 build root.
	for p in "$kd"/root/usr/src/* "$kd"/root/usr/lib/linux-kbuild-*; do
		t=${p#"$kd/root"}
		for r in "" ${BUILD_ROOT:+"$BUILD_ROOT"}; do
			[ -e "$r$t" ] || [ -L "$r$t" ] || as_root ln -s "$p" "$r$t"
		done
	done
}

# The Debian 13 build root: the compiler Debian 13's kernels were built
# with (gcc-14), with what kbuild, sparse and DKMS need, made once with
# debootstrap from the machine's own mirror.  tools/kbuild.sh builds in
# it (chroot) for every kernel whose CONFIG_CC_VERSION_TEXT names its gcc.
# Bump ROOT_REV when what goes into it changes: the root is then completed.
ROOT_PKGS="gcc-14 gcc make libc6-dev libelf-dev libssl-dev dwarves sparse kmod \
	bc xz-utils zstd dkms build-essential patch dpkg-dev"
ROOT_REV=2
make_build_root() {
	r=$CACHE/deb13root
	[ "$(cat "$r/.vpt-root" 2>/dev/null)" = "$ROOT_REV" ] && return 0
	if [ ! -x "$r/usr/bin/gcc-14" ]; then
		log "making the Debian 13 build root (debootstrap trixie, a few minutes)"
		rm -rf "$r.new"
		as_root debootstrap --variant=minbase \
			--include="$(echo $ROOT_PKGS | tr ' ' ,)" \
			trixie "$r.new" "$(debian_mirror)" >&2 ||
			{ log "debootstrap failed (log: $r.new/debootstrap/debootstrap.log)"; exit 1; }
		rm -rf "$r" && mv "$r.new" "$r"
	else
		# shellcheck disable=SC2086
		"$TOOLS/kbuild.sh" --root-apt install -y -qq \
			--no-install-recommends $ROOT_PKGS >&2
	fi
	# Debian 13's sparse (0.6.4) cannot parse 7.x headers (their
	# __typeof_unqual__); sid's 0.6.5 can.  Its binary alone, into
	# /usr/local/bin, which the root's PATH searches first.
	apt_view sid
	rm -rf "$CACHE/sparse" && mkdir -p "$CACHE/sparse"
	# shellcheck disable=SC2086
	(cd "$CACHE/sparse" && apt-get $VIEW download -qq sparse >&2)
	dpkg -x "$CACHE"/sparse/sparse_*.deb "$CACHE/sparse/x"
	install -m 0755 "$CACHE/sparse/x/usr/bin/sparse" "$r/usr/local/bin/sparse"
	rm -rf "$CACHE/sparse"
	echo "$ROOT_REV" >"$r/.vpt-root"
}
# The unmodified VFIO clients of Debian 13, which run.sh --clients runs in
# the VM from this root (shared with the rest of this machine's root):
# QEMU 10, DPDK 24.11 (dpdk-testpmd in dpdk-dev, its virtio PMD apart,
# dpdk-devbind.py in dpdk), driverctl, and libvirt's daemon with its QEMU
# and node-device drivers and virsh.  Installed once into the finished
# build root, with a stamp of its own (the package list), so that a
# change here adds packages without rebuilding the root (ROOT_REV).
ROOT_CLIENT_PKGS="qemu-system-x86 dpdk dpdk-dev librte-net-virtio25 driverctl \
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-nodedev \
	libvirt-clients"
install_root_clients() {
	r=$CACHE/deb13root
	want=$(echo $ROOT_CLIENT_PKGS)
	[ "$(cat "$r/.vpt-clients" 2>/dev/null)" = "$want" ] && return 0
	log "installing Debian 13's VFIO clients into its root ($want)"
	# Nothing installed here may start a service (there is none).
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	"$TOOLS/kbuild.sh" --root-apt update -qq >&2
	# shellcheck disable=SC2086
	"$TOOLS/kbuild.sh" --root-apt install -y -qq --no-install-recommends \
		$ROOT_CLIENT_PKGS >&2
	rm -f "$r/usr/sbin/policy-rc.d"
	# Where the guest mounts its own module tree (driverctl and libvirt
	# run modprobe and read modules.alias).
	mkdir -p "$r/usr/lib/modules"
	echo "$want" >"$r/.vpt-clients"
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

# The kernels of the matrix: NAME SUITE.  NAME is what KVER= takes.
KERNELS="6.1:bookworm 6.12:bookworm-backports deb13:trixie deb13-bpo:trixie-backports"

mkdir -p "$CACHE"
install_host_packages
make_build_root
install_root_clients
BUILD_ROOT=$CACHE/deb13root
for k in $KERNELS; do
	fetch_kernel "${k%%:*}" "${k#*:}"
done
fetch_source_bits

# KEY_<name>=value, the name with "." and "-" made "_" for the shell.
for k in $KERNELS; do
	name=${k%%:*} kd=$CACHE/k/${k%%:*}
	v=$(echo "$name" | tr .- __)
	abi=$(cat "$kd/abi")
	echo "KDIR_$v=/usr/src/linux-headers-$abi"
	echo "VMLINUZ_$v=$kd/vmlinuz"
	echo "MODDIR_$v=$kd/root/lib/modules/$abi"
	echo "REL_$v=$abi"
done
echo "KERNELS=\"$(for k in $KERNELS; do printf '%s ' "${k%%:*}"; done | sed 's/ $//')\""
echo "BUILD_ROOT=$BUILD_ROOT"
echo "SRC=$CACHE/src"
