#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run kbuild against a kernel with the compiler that kernel was built
# with.  A kernel's modules must be built by its own gcc: Debian 12's
# gcc-12 does not know the flags of a kernel built with gcc-14 (Debian 13),
# e.g. -fmin-function-alignment.  The choice is read off the kernel's own
# config (CONFIG_CC_VERSION_TEXT), never guessed from its version: when
# its gcc major is the host's, make runs here; otherwise it runs in the
# Debian 13 build root that tools/deps.sh made (chroot, in a private mount
# namespace with the tree, the cache and the working directory
# bind-mounted at their own paths).
#
#   tools/kbuild.sh KDIR [make arguments]   make -C KDIR [arguments]
#   tools/kbuild.sh --cc KDIR               "host" or "root": where it would run
#   tools/kbuild.sh --root COMMAND...       run COMMAND in the build root
#   tools/kbuild.sh --root-apt ARGS...      apt-get ARGS in the build root
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VPT_CACHE:-/var/cache/vpt}
ROOT=${VPT_BUILD_ROOT:-$CACHE/deb13root}

# The gcc major version a kernel build tree was configured with.
kernel_gcc() {
	sed -n 's/^CONFIG_CC_VERSION_TEXT="\{0,1\}.*gcc[^ ]* (.*) \([0-9]*\)\..*/\1/p' \
		"$1/include/config/auto.conf" 2>/dev/null | head -n 1
}

where() {
	want=$(kernel_gcc "$1")
	have=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
	if [ -z "$want" ] || [ "$want" = "$have" ] ||
	   [ ! -x "$ROOT/usr/bin/gcc-$want" ]; then
		echo host
	else
		echo root
	fi
}

# in_root COMMAND...: COMMAND in the build root, as root, with a clean
# environment but for the variables kbuild and DKMS are given here.
in_root() {
	[ -x "$ROOT/usr/bin/gcc" ] ||
		{ echo "kbuild: no build root at $ROOT: run tools/deps.sh" >&2; exit 1; }
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
	here=$(pwd)
	# Directories named by VAR=/path arguments (M=, INSTALL_MOD_PATH=)
	# are bind-mounted too.
	dirs=""
	for a in "$@"; do
		case $a in
		*=/*) [ -d "${a#*=}" ] && dirs="$dirs ${a#*=}" ;;
		esac
	done
	# shellcheck disable=SC2016
	exec unshare -m sh -c '
		root=$1 top=$2 cache=$3 here=$4 dirs=$5
		shift 5
		for d in "$top" "$cache" "$here" $dirs; do
			mkdir -p "$root$d"
			mountpoint -q "$root$d" || mount --rbind "$d" "$root$d"
		done
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		cd "$here"
		exec chroot "$root" env -i HOME=/root LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c "cd \"$here\" && exec \"\$@\"" sh "$@"
	' sh "$ROOT" "$TOP" "$CACHE" "$here" "$dirs" "$@"
}

case ${1:-} in
--cc)
	where "$2" ;;
--root)
	shift
	in_root "$@" ;;
--root-apt)
	shift
	in_root apt-get -o APT::Sandbox::User=root "$@" ;;
''|-h|--help)
	sed -n '3,18s/^# \{0,1\}//p' "$0" ;;
*)
	kdir=$1
	shift
	if [ "$(where "$kdir")" = root ]; then
		in_root make -C "$kdir" "$@"
	fi
	exec make -C "$kdir" "$@" ;;
esac
