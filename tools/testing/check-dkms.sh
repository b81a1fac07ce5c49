#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS step of `make check`, with Debian's real dkms: for each kernel
# named (deps.sh names: 6.1 6.12 deb13 deb13-bpo) and each flavour (the
# vpt package, and vpt-vfio: VPT_AS=vfio), stage the sources the way
# `make install-dkms` does (tools/install.sh dkms), then dkms add,
# build, install and remove them for that kernel, and check what each
# step left.  A kernel built with gcc-14 is done by the dkms of the
# Debian 13 build root (tools/kbuild.sh decides, as for every build).
#
# dkms works on /usr/src, /var/lib/dkms and /lib/modules; here it runs in
# a private mount namespace whose /etc/dkms/framework.conf points those at
# a scratch directory, so nothing on the machine or in the cache changes.
#
# Prints one line per kernel, "dkms <release>: ok" or what failed; exits
# non-zero on any failure.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
# Under the tree: the build root sees it at the same path.
D=$TOP/out/dkms
bad=0

# inner KREL KDIR DIR PKG: run in the namespace (on the host or in the root).
if [ "${1:-}" = --inner ]; then
	krel=$2 kdir=$3 d=$4 pkg=$5
	mount --bind "$d/framework.conf" /etc/dkms/framework.conf || exit 1
	m=$pkg/$VERSION
	step() {
		echo "+ dkms $*"
		dkms "$@" || { echo "dkms: '$*' failed"; exit 1; }
	}
	step add "$m"
	step build "$m" -k "$krel" --kernelsourcedir "$kdir"
	step install "$m" -k "$krel" --kernelsourcedir "$kdir" --no-depmod
	dkms status "$m" -k "$krel" | tee "$d/status.installed"
	find "$d/root" -name '*.ko*' | sed "s|^$d/root/||" >"$d/installed"
	depmod -b "$d/root" "$krel" 2>/dev/null
	cp "$d/root/lib/modules/$krel/modules.dep" "$d/modules.dep" 2>/dev/null
	step remove "$m" --all --no-depmod
	dkms status "$m" >"$d/status.removed"
	find "$d/root" -name '*.ko*' >"$d/left"
	exit 0
fi

deps=$("$TOP/tools/deps.sh") || { echo "dkms: dependency step failed"; exit 1; }

for k in ${*:-6.1}; do
for as in vpt vfio; do
	case $as in
	vpt) pkg=vpt mods="vpt vpt-pci" ;;
	vfio) pkg=vpt-vfio mods="vfio vfio-pci" ;;
	esac
	v=$(echo "$k" | tr .- __)
	kdir=$(printf '%s\n' "$deps" | sed -n "s/^KDIR_$v=//p")
	krel=$(printf '%s\n' "$deps" | sed -n "s/^REL_$v=//p")
	[ -n "$kdir" ] || { echo "dkms $k: unknown kernel"; bad=$((bad + 1)); continue; }
	d=$D/$k-$as
	rm -rf "$d" && mkdir -p "$d/root/lib/modules/$krel" "$d/tree"
	DESTDIR=$d/stage VPT_AS=$as "$TOP/tools/install.sh" dkms >"$d/log" 2>&1
	mv "$d/stage/usr/src" "$d/src"
	cat >"$d/framework.conf" <<-EOF
	source_tree="$d/src"
	dkms_tree="$d/tree"
	install_tree="$d/root/lib/modules"
	EOF
	if [ "$("$TOP/tools/kbuild.sh" --cc "$kdir")" = root ]; then
		"$TOP/tools/kbuild.sh" --root unshare -m --propagation unchanged \
			sh "$0" --inner "$krel" "$kdir" "$d" $pkg >>"$d/log" 2>&1
	else
		unshare -m sh "$0" --inner "$krel" "$kdir" "$d" $pkg >>"$d/log" 2>&1
	fi
	rc=$?
	why=""
	[ $rc -eq 0 ] || why="$why, $(grep '^dkms: ' "$d/log" | tail -n 1)"
	grep -q "installed" "$d/status.installed" 2>/dev/null ||
		why="$why, dkms status does not say installed"
	for mod in $mods; do
		grep -q "/$mod\.ko" "$d/installed" 2>/dev/null ||
			why="$why, dkms install put no $mod.ko in place"
	done
	grep -q "${mods#* }\.ko[^:]*:.*${mods% *}\.ko" "$d/modules.dep" 2>/dev/null ||
		why="$why, modules.dep does not say ${mods#* } needs ${mods% *}"
	[ ! -s "$d/status.removed" ] || why="$why, dkms still lists vpt after remove"
	[ ! -s "$d/left" ] || why="$why, modules left after remove"
	if [ -z "$why" ]; then
		echo "dkms $krel $pkg: ok (add, build, install, remove; $("$TOP/tools/kbuild.sh" --cc "$kdir") toolchain)"
	else
		echo "dkms $krel $pkg: FAILED${why} (log: $d/log)"
		bad=$((bad + 1))
	fi
done
done
[ $bad -eq 0 ]
