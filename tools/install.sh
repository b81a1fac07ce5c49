#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install vpt on this machine (or into DESTDIR, for a package):
#   tools/install.sh [install]   modules into /lib/modules/<kver>/extra,
#                                depmod, <linux/vpt.h>, vptctl, udev rule
#   tools/install.sh dkms        the module sources into
#                                /usr/src/vpt-<version>, then dkms add,
#                                build and install (rebuilt for every
#                                new kernel)
#   tools/install.sh uninstall   remove what `install` put in place
#
# Environment (all optional):
#   KDIR       kernel build tree    (/lib/modules/$(uname -r)/build)
#   DESTDIR    staging root         (empty: the live system)
#   PREFIX     for vptctl           (/usr: vptctl in $PREFIX/sbin)
#   VPT_GROUP  group allowed to open the group nodes (vfio; e.g. kvm)
#   VPT_AS     the flavour: vpt (vpt.ko, vpt-pci.ko under extra/, beside
#              the in-tree vfio) or vfio (vfio.ko, vfio-pci.ko under
#              updates/, which depmod prefers to the in-tree modules of
#              the same names: modprobe vfio-pci then loads vpt)
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
KDIR=${KDIR:-/lib/modules/$(uname -r)/build}
PREFIX=${PREFIX:-/usr}
VPT_GROUP=${VPT_GROUP:-vfio}
VPT_AS=${VPT_AS:-vpt}
case $VPT_AS in
vpt)	MODS="vpt vpt-pci" MOD_DIR=extra PKG=vpt ;;
vfio)	MODS="vfio vfio-pci" MOD_DIR=updates PKG=vpt-vfio ;;
*)	echo "install: VPT_AS must be vpt or vfio" >&2; exit 2 ;;
esac
PCI_MOD=${MODS#* }
RULES=etc/udev/rules.d/70-vpt.rules
# The identity flavour's modprobe hooks: a clear refusal beside the in-tree
# vfio (modprobe/vpt-vfio.conf).
MODPROBE_CONF=etc/modprobe.d/vpt-vfio.conf
HEADER=usr/include/linux/vpt.h
VPTCTL=${PREFIX#/}/sbin/vptctl
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")

case $VPT_GROUP in
''|-*|*[!A-Za-z0-9_.-]*)
	echo "install: VPT_GROUP '$VPT_GROUP' is not a group name" >&2
	exit 2 ;;
esac

die() {
	echo "install: $*" >&2
	exit 1
}

usage() {
	sed -n '3,18s/^# \{0,1\}//p' "$0"
}

# The release KDIR builds for, which names /lib/modules/<kver>: UTS_RELEASE
# (Debian's include/config/kernel.release holds the upstream version).
kernel_release() {
	uts=$KDIR/include/generated/utsrelease.h
	[ -r "$uts" ] ||
		die "no kernel build tree at $KDIR: install linux-headers-$(uname -r), or give KDIR"
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$uts"
}

# kbuild signs modules when the kernel's config asks for it; without the
# key (distribution headers) that only fails noisily: skip it then.
sign_opt() {
	[ -r "$KDIR/certs/signing_key.pem" ] || echo CONFIG_MODULE_SIG_ALL=
}

live() {
	[ -z "$DESTDIR" ]
}

# Let the group named in the udev rule exist (live system only).
ensure_group() {
	live || return 0
	getent group "$VPT_GROUP" >/dev/null && return 0
	echo "install: creating system group $VPT_GROUP"
	groupadd --system "$VPT_GROUP"
}

reload_udev() {
	live && command -v udevadm >/dev/null || return 0
	udevadm control --reload
	udevadm trigger --subsystem-match=vpt-group --subsystem-match=misc
}

# depmod of a staging tree: it holds none of the kernel's own module
# lists, which depmod warns about; any other complaint is shown.
staged_depmod() {
	err=$(mktemp)
	rc=0
	depmod -b "$DESTDIR" -a "$1" 2>"$err" || rc=$?
	grep -v 'could not open modules\.\(order\|builtin\)' "$err" >&2 || true
	rm -f "$err"
	[ $rc -eq 0 ] || die "depmod -b $DESTDIR failed"
}

do_install() {
	kver=$(kernel_release)
	"$TOP/tools/kbuild.sh" "$KDIR" M="$TOP" VPT_AS="$VPT_AS" modules
	[ -z "$DESTDIR" ] || mkdir -p "$DESTDIR"
	"$TOP/tools/kbuild.sh" "$KDIR" M="$TOP" VPT_AS="$VPT_AS" \
		INSTALL_MOD_DIR="$MOD_DIR" \
		INSTALL_MOD_PATH="$DESTDIR" $(sign_opt) modules_install
	# kbuild's own depmod step needs System.map, which headers lack.
	if live; then
		depmod -a "$kver"
	else
		staged_depmod "$kver"
	fi

	install -D -m 0644 "$TOP/include/uapi/linux/vpt.h" "$DESTDIR/$HEADER"

	make -C "$TOP/tools/vptctl"
	install -D -m 0755 "$TOP/tools/vptctl/vptctl" "$DESTDIR/$VPTCTL"

	ensure_group
	mkdir -p "$DESTDIR/$(dirname "$RULES")"
	sed "s/GROUP=\"vfio\"/GROUP=\"$VPT_GROUP\"/" "$TOP/udev/70-vpt.rules" \
		>"$DESTDIR/$RULES"
	chmod 0644 "$DESTDIR/$RULES"
	reload_udev
	if [ "$VPT_AS" = vfio ]; then
		install -D -m 0644 "$TOP/modprobe/vpt-vfio.conf" \
			"$DESTDIR/$MODPROBE_CONF"
		# modprobe does nothing for a module already loaded: say so.
		if live && [ -d /sys/module/vfio ] &&
		   [ ! -e /sys/module/vfio/parameters/node_dir ]; then
			echo "install: the in-tree vfio is loaded: modprobe vfio-pci keeps it until it is unloaded (modprobe -r vfio_pci vfio_iommu_type1 vfio)"
		fi
	fi
	echo "install: vpt ($MODS) for $kver installed; load with: modprobe $PCI_MOD"
}

do_uninstall() {
	kver=$(kernel_release)
	mods=$DESTDIR/lib/modules/$kver/$MOD_DIR/drivers/vpt
	for m in $MODS; do rm -f "$mods/$m.ko"*; done
	rm -f "$DESTDIR/$HEADER" "$DESTDIR/$VPTCTL" "$DESTDIR/$RULES"
	[ "$VPT_AS" = vpt ] || rm -f "$DESTDIR/$MODPROBE_CONF"
	rmdir -p "$mods" 2>/dev/null || true
	if live; then
		depmod -a "$kver"
		reload_udev
	fi
}

# Only what the module build needs goes to /usr/src: not tools/ or out/.
do_dkms() {
	[ -n "$VERSION" ] || die "no PACKAGE_VERSION in dkms.conf"
	src=$DESTDIR/usr/src/$PKG-$VERSION
	rm -rf "$src"
	mkdir -p "$src"
	(cd "$TOP" && cp -R --parents dkms.conf Kbuild drivers/vpt \
		include/uapi/linux/vpt.h "$src/")
	# The identity flavour is a package of its own, so both can be had.
	[ "$VPT_AS" = vpt ] ||
		sed -i -e 's/^PACKAGE_NAME="vpt"/PACKAGE_NAME="vpt-vfio"/' \
		    -e 's/ modules"$/ VPT_AS=vfio modules"/' \
		    -e 's/^\(BUILT_MODULE_NAME\[0\]\)="vpt"/\1="vfio"/' \
		    -e 's/^\(BUILT_MODULE_NAME\[1\]\)="vpt-pci"/\1="vfio-pci"/' \
		    -e 's|^\(DEST_MODULE_LOCATION\[[01]\]\)="/extra"|\1="/updates"|' \
		    "$src/dkms.conf"
	find "$src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' \
		-o -name '.*.cmd' -o -name modules.order \
		-o -name Module.symvers \) -exec rm -f {} +
	live || return 0
	command -v dkms >/dev/null || die "dkms is not installed (apt-get install dkms)"
	# A re-install replaces the version dkms already knows.
	if [ -n "$(dkms status "$PKG/$VERSION")" ]; then
		dkms remove "$PKG/$VERSION" --all
	fi
	dkms add "$PKG/$VERSION"
	dkms build "$PKG/$VERSION"
	dkms install "$PKG/$VERSION"
}

case ${1:-install} in
install) do_install ;;
uninstall) do_uninstall ;;
dkms) do_dkms ;;
-h|--help) usage ;;
*) usage >&2; exit 2 ;;
esac
