#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The packaging step of `make check`: `make install` into a scratch
# DESTDIR against the given kernel's headers (default 6.1), then inspect
# the installed tree: both modules under extra/ and in modules.dep,
# every module parameter described in modinfo, the UAPI header, a
# working vptctl, the udev rule with the group asked for (checked with
# `udevadm verify` where the host's udevadm has it), and `make uninstall`
# removing it all again.  DKMS is checked with dkms itself, for every
# kernel, by check-dkms.sh.
#
# Prints one line per finding and, last, "install: ok" or
# "install: N problems"; exits non-zero on any problem.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${1:-6.1}
# The flavour: vpt under extra/, or the identity one (vfio) under updates/
# with upstream's module names and aliases.
VPT_AS=${2:-vpt}
case $VPT_AS in
vpt)	CORE=vpt PCI=vpt-pci DIR=extra ;;
vfio)	CORE=vfio PCI=vfio-pci DIR=updates ;;
*)	echo "usage: $0 [KERNEL [vpt|vfio]]" >&2; exit 2 ;;
esac
GROUP=vpt-check
D=$(mktemp -d /tmp/vpt-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
bad=0

problem() {
	echo "install: $*"
	bad=$((bad + 1))
}

make -C "$TOP" KVER="$KVER" DESTDIR="$D/root" VPT_GROUP="$GROUP" \
	VPT_AS="$VPT_AS" install >"$D/install.log" 2>&1 ||
	{ tail -20 "$D/install.log"; problem "make install failed"; }
R=$D/root
set -- "$R"/lib/modules/*
kver=${1##*/}
M=$R/lib/modules/$kver

# Modules, and depmod's view of them.
for m in $CORE $PCI; do
	ls "$M/$DIR/drivers/vpt/$m.ko"* >/dev/null 2>&1 ||
		problem "no $m.ko under $M/$DIR"
done
grep -q "^$DIR/drivers/vpt/$PCI\.ko[^:]*: $DIR/drivers/vpt/$CORE\.ko" \
	"$M/modules.dep" 2>/dev/null ||
	problem "modules.dep does not say $PCI needs $CORE"
# The identity flavour: what finds VFIO by name finds it.
if [ "$VPT_AS" = vfio ]; then
	modinfo -b "$R" -k "$kver" -F alias vfio 2>/dev/null |
		grep -qx 'devname:vfio/vfio' ||
		problem "vfio.ko has no devname:vfio/vfio alias"
	modinfo -b "$R" -k "$kver" -F name vfio-pci 2>/dev/null |
		grep -qx vfio_pci || problem "vfio-pci.ko is not module vfio_pci"
	grep -q '^install vfio_pci ' "$R/etc/modprobe.d/vpt-vfio.conf" 2>/dev/null ||
		problem "no modprobe hook for vfio_pci in etc/modprobe.d/vpt-vfio.conf"
fi

# modinfo: "name:desc (type)" when described, "name:type" when not.
for m in $CORE $PCI; do
	modinfo -b "$R" -k "$kver" "$m" >"$D/modinfo" 2>&1 ||
		problem "modinfo $m: $(head -1 "$D/modinfo")"
	grep '^parm:' "$D/modinfo" | grep -vE '^parm: *[A-Za-z0-9_]+:.+ \([^)]*\)$' |
		while read -r line; do
			echo "install: $m: no description: $line"
		done | grep . && bad=$((bad + 1))
	[ $m = $CORE ] || continue
	for p in node_dir dma_entry_limit allow_unsafe_interrupts; do
		grep -Eq "^parm: *$p:.+ \\([^)]*\\)\$" "$D/modinfo" ||
			problem "modinfo vpt shows no described parameter $p"
	done
done

cmp -s "$TOP/include/uapi/linux/vpt.h" "$R/usr/include/linux/vpt.h" ||
	problem "usr/include/linux/vpt.h missing or not the UAPI header"

"$R/usr/sbin/vptctl" --help >"$D/help" 2>&1 &&
	grep -q '^usage: vptctl' "$D/help" ||
	problem "usr/sbin/vptctl --help does not run"

# The udev rule: group nodes to the group asked for, 0660.
rule=$R/etc/udev/rules.d/70-vpt.rules
grep -q "^SUBSYSTEM==\"vpt-group\", GROUP=\"$GROUP\", MODE=\"0660\"\$" \
	"$rule" 2>/dev/null ||
	problem "70-vpt.rules does not give group nodes to $GROUP, 0660"
# Every rule line: comma-separated KEY op "value" pairs.
key='[A-Za-z_]+(\{[^}]*\})?'
op='(==|!=|=|\+=|-=|:=)'
pair="$key$op\"[^\"]*\""
grep -vE '^[[:space:]]*(#|$)' "$rule" 2>/dev/null |
	grep -vE "^$pair(, *$pair)*\$" | grep . &&
	problem "70-vpt.rules: malformed line(s) above"
if udevadm verify --help >/dev/null 2>&1; then
	udevadm verify --no-style "$rule" >"$D/verify" 2>&1 ||
		{ cat "$D/verify"; problem "udevadm verify rejects 70-vpt.rules"; }
else
	echo "install: note: udevadm $(udevadm --version 2>/dev/null || echo '(none)') has no 'verify' (systemd >= 254): rule checked by pattern only"
fi

# Uninstall takes it all away again.
make -C "$TOP" KVER="$KVER" DESTDIR="$R" VPT_AS="$VPT_AS" uninstall >>"$D/install.log" 2>&1 ||
	problem "make uninstall failed"
left=$(find "$R" -type f \( -name "$CORE*.ko*" -o -name vpt.h \
	-o -name vptctl -o -name 70-vpt.rules -o -name vpt-vfio.conf \) 2>/dev/null)
[ -z "$left" ] || problem "left after uninstall: $left"

if [ $bad -eq 0 ]; then
	echo "install: ok ($kver VPT_AS=$VPT_AS: modules, modinfo parameters, header, vptctl, udev rule, uninstall)"
else
	echo "install: $bad problems"
fi
[ $bad -eq 0 ]
