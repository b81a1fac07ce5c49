#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel under QEMU (TCG) with an emulated IOMMU (Intel VT-d,
# AMD-Vi or virtio-iommu), load
# vpt, bind the test devices to vpt-pci and run the kselftests (or the
# demo) inside; read the results from the serial console.
#
# The run fails on any failed or missing test result, on a timeout, and on
# any kernel log line reporting an oops, BUG, WARNING, KASAN, UBSAN,
# lockdep or kmemleak problem.  The last line printed is
#   vm <kver> [amd|virtio] aw<bits>: N passed, N failed, N skipped
set -eu

usage() {
	cat <<USAGE
usage: $0 [--kver KERNEL] [--iommu intel|amd|virtio] [--aw 39|48|64]
          [--tests "NAME..."]
          [--demo|--bench|--smoke|--clients]
          [--timeout SECONDS] [--out DIR] [--ko DIR] [--stack vpt|vfio]
          [--no-intremap] [--hotplug] [--sriov] [--identity] [--kvm]
          [--inject-failure]
  --kver KERNEL     6.1 (Debian 12, the default), 6.12 (Debian 12's
                    backports), deb13 (Debian 13's 6.12), deb13-bpo (the
                    newest kernel of Debian 13's backports, 7.x), or
  --kver debug      the KASAN/UBSAN/lockdep/kmemleak/fault-injection kernel
                    built by tools/debug-kernel.sh from the newest kernel's
                    source, or debug-KERNEL (debug-6.1) from KERNEL's
                    (panic_on_warn=1; a kmemleak scan after the tests; vpt
                    stack only)
  --iommu intel     the emulated IOMMU: Intel VT-d (default; --aw 39 or 48),
  --iommu amd       AMD-Vi (-device amd-iommu; no aw-bits: 64 bits wide
                    up to 6.12, 48 from 7.x, which is what --aw must say),
  --iommu virtio    virtio-iommu (-device virtio-iommu-pci; kernels with its
                    driver as a module, 6.12 and later, else the run skips):
                    --aw 64 (default) is QEMU's default input range, --aw 39
                    or 48 sets aw-bits, which needs Debian 13's QEMU 10
                    (tools/testing/vm/qemu-deb13.sh); no interrupt remapping,
                    so the stack is loaded with allow_unsafe_interrupts=1;
                    under 7.x the bus behind the bridge is left empty
  --aw BITS         the IOMMU's address width, passed to the tests as
                    VPT_AW_BITS (the width they expect)
  --ko DIR          use vpt.ko and vpt-pci.ko from DIR instead of building
  --stack vfio      load the kernel's own vfio, vfio_iommu_type1 and
                    vfio-pci instead of vpt, to run the same clients
                    against upstream (tests of vpt-only features skip)
  --tests           test binaries to run (default: every *_test)
  --demo            run the demo client instead of the tests
  --clients         run unmodified QEMU (vfio-pci) and DPDK (testpmd) in the
                    guest, chrooted into this machine's root shared over 9p
  --bench           run the benchmark against the in-tree vfio stack and
                    then against vpt in the same boot (--quick: short;
                    --profile: instead trace both stacks' huge-page maps
                    with function_graph, tools/bench/profile.sh)
  --smoke           run a tiny pass of every benchmark row against the
                    stack as one test (vpt_bench_smoke), so it cannot rot
  --identity        load the identity flavour (vfio.ko, vfio-pci.ko: make
                    VPT_AS=vfio) with modprobe from the guest's module tree,
                    and bind the devices to vfio-pci
  --kvm             load kvm_amd in the guest, so that --clients runs QEMU
                    with -accel kvm (and KVM's VFIO device takes the groups)
  --no-intremap     emulate the IOMMU without interrupt remapping
  --sriov           add an igb PF with SR-IOV (00:0b.0; Debian 13's QEMU 10
                    as the outer emulator), bound to the guest's igb, which
                    enables two VFs; the first VF (VPT_SRIOV_VF, PF in
                    VPT_SRIOV_PF) is bound to the stack with the test
                    devices, and the stack's PCI driver is loaded with
                    enable_sriov=1
  --hotplug         add an edu behind a hotpluggable PCIe root port (00:0a.0)
                    and unplug it through QMP when a test logs
                    "VPT-UNPLUG hpedu"
  --inject-failure  also run a deliberately failing guest check
                    (proves that the runner fails a run)
USAGE
}

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
KVER=6.1 AW="" IOMMU=intel INTREMAP=on TESTS="" DEMO=0 BENCH=0 SMOKE=0 QUICK="" TIMEOUT=900 INJECT=0 OUT="" KO="" STACK=vpt
CLIENTS=0 HOTPLUG=0 SRIOV=0 IDENT=0 KVM=0 PROFILE=0
while [ $# -gt 0 ]; do
	case $1 in
	--kver) KVER=$2; shift ;;
	--no-intremap) INTREMAP=off ;;
	--hotplug) HOTPLUG=1 ;;
	--sriov) SRIOV=1 ;;
	--identity) IDENT=1 ;;
	--kvm) KVM=1 ;;
	--aw) AW=$2; shift ;;
	--iommu) IOMMU=$2; shift ;;
	--tests) TESTS=$2; shift ;;
	--demo) DEMO=1 ;;
	--bench) BENCH=1 ;;
	--clients) CLIENTS=1 ;;
	--quick) QUICK=--quick ;;
	--profile) PROFILE=1 ;;
	--smoke) SMOKE=1 ;;
	--timeout) TIMEOUT=$2; shift ;;
	--out) OUT=$2; shift ;;
	--ko) KO=$2; shift ;;
	--stack) STACK=$2; shift ;;
	--inject-failure) INJECT=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

# deps.sh prints KEY_<kernel>=value, "." and "-" of the kernel's name as "_".
eval "$("$TOP/tools/deps.sh")"
kv=$(echo "$KVER" | tr .- __)
# --kver debug[-KERNEL]: never built from here (an hour or more); make
# check-debug does.  Its release names it in the summary line.
DEBUG=0 KAPPEND=""
case $KVER in
debug|debug-*)
	[ "$STACK" = vpt ] || { echo "run: --kver debug is vpt only" >&2; exit 2; }
	dk=${KVER#debug}
	dk=$("$TOP/tools/debug-kernel.sh" --cached "${dk#-}") || exit 2
	eval "$dk"
	eval "KDIR_$kv=\$DEBUG_KDIR VMLINUZ_$kv=\$DEBUG_VMLINUZ MODDIR_$kv="
	eval "REL_$kv=\"debug \$DEBUG_REL\""
	DEBUG=1 KAPPEND=" panic_on_warn=1 kmemleak=on"
	;;
esac
eval "KDIR=\${KDIR_$kv:-} VMLINUZ=\${VMLINUZ_$kv:-} MODDIR=\${MODDIR_$kv:-} REL=\${REL_$kv:-}"
[ -n "$KDIR" ] || { echo "run: unknown kernel $KVER (one of: $KERNELS debug)" >&2; exit 2; }
SRC=${SRC:-}

case $STACK in
vpt|vfio) ;;
*) usage >&2; exit 2 ;;
esac
# The IOMMU and the width it is given (or has); QEMU is the host's 7.2
# unless virtio-iommu needs aw-bits.  IOMMU_DEV is the QEMU device, IOMMU_CMDLINE
# what the guest kernel needs to use it, UNSAFE the stack's parameter when
# the IOMMU cannot remap interrupts.
QEMU=qemu-system-x86_64 IOMMU_CMDLINE="" UNSAFE=0
# Whether the guest kernel is 7.x or later (the IOMMU code differs).
case ${REL#debug } in
[0-6].*) KERNEL7=0 ;;
*) KERNEL7=1 ;;
esac
# QEMU's AMD-Vi has no aw-bits: up to 6.12 amd_iommu gives its v1 page
# table's full 64 bits, 7.x's (the generic page table code, sized from the
# IOMMU's reported translation levels) 48.
AMD_AW=$([ $KERNEL7 -eq 1 ] && echo 48 || echo 64)
case $IOMMU:${AW:=$(case $IOMMU in intel) echo 39 ;; amd) echo $AMD_AW ;; *) echo 64 ;; esac)} in
intel:39|intel:48)
	IOMMU_DEV="intel-iommu,intremap=$INTREMAP,aw-bits=$AW"
	IOMMU_CMDLINE=" intel_iommu=on" ;;
amd:$AMD_AW)
	# Under TCG intremap needs no split irqchip (KVM would).
	IOMMU_DEV="amd-iommu,intremap=$INTREMAP" ;;
virtio:64)
	IOMMU_DEV="virtio-iommu-pci,addr=03.0" UNSAFE=1 ;;
virtio:39|virtio:48)
	IOMMU_DEV="virtio-iommu-pci,addr=03.0,aw-bits=$AW" UNSAFE=1
	QEMU="$TOP/tools/testing/vm/qemu-deb13.sh" ;;
*)
	echo "run: --iommu $IOMMU takes no --aw $AW" >&2; exit 2 ;;
esac
IOMMU_LABEL=$([ "$IOMMU" = intel ] || echo " $IOMMU")
# The conventional PCI bus behind the PCIe-to-PCI bridge, with an edu and
# a virtio-net on it.  QEMU's virtio-iommu knows those two only by the
# bridge's alias and answers a PROBE of their own requester IDs with
# NOENT; from 7.x the kernel probes them as soon as virtio_iommu
# registers, and that one error fails the registration of the whole
# IOMMU, every group with it (in-tree vfio alike).  There the bus is left
# empty (the tests of the group behind the bridge skip, saying so).
BRIDGE_DEVS="-device edu,bus=br0,addr=01.0,dma_mask=0xffffffffffffffff
	-device virtio-net-pci,bus=br0,addr=02.0"
[ "$IOMMU" != virtio ] || [ $KERNEL7 -eq 0 ] || BRIDGE_DEVS=""
[ "$IOMMU" = intel ] || OUT=${OUT:-$TOP/out/vm-$KVER-$IOMMU-aw$AW$([ "$STACK" = vpt ] || echo "-$STACK")$([ $CLIENTS -eq 0 ] || echo -clients)$([ $SMOKE -eq 0 ] || echo -smoke)$([ $HOTPLUG -eq 0 ] || echo -hotplug)$([ "$INTREMAP" = on ] || echo -no-intremap)}
# virtio-iommu's driver, loaded in the guest before the stack (virtio-pci
# is built in from 6.12), and what it depends on, in load order.
if [ "$IOMMU" = virtio ]; then
	KROOT=${MODDIR%/lib/modules/*} ABI=${MODDIR##*/}
	if ! modprobe -d "$KROOT" -S "$ABI" --show-depends virtio_iommu \
	     >/dev/null 2>&1; then
		echo "  virtio-iommu: $REL has no virtio_iommu module: skipped"
		echo "vm $REL$IOMMU_LABEL aw$AW: 0 passed, 0 failed, 1 skipped"
		exit 0
	fi
fi
[ $BENCH -eq 1 ] && STACK=both
[ $SMOKE -eq 0 ] || OUT=${OUT:-$TOP/out/vm-$KVER-aw$AW-smoke}
[ $CLIENTS -eq 0 ] ||
	OUT=${OUT:-$TOP/out/vm-$KVER-aw$AW$([ "$STACK" = vpt ] || echo "-$STACK")$([ $IDENT -eq 0 ] || echo -identity)-clients}
[ $HOTPLUG -eq 0 ] ||
	OUT=${OUT:-$TOP/out/vm-$KVER-aw$AW$([ "$STACK" = vpt ] || echo "-$STACK")-hotplug}
[ $SRIOV -eq 0 ] ||
	OUT=${OUT:-$TOP/out/vm-$KVER-aw$AW$([ "$STACK" = vpt ] || echo "-$STACK")-sriov}
# QEMU 7.2 has no igb: Debian 13's QEMU emulates it, with SR-IOV.
[ $SRIOV -eq 0 ] || QEMU="$TOP/tools/testing/vm/qemu-deb13.sh"
# --clients shares the host's root with the guest: under Debian 13's QEMU,
# which runs in a root of its own, at the path qemu-deb13.sh binds it to.
HOSTROOT=/
[ "$QEMU" = qemu-system-x86_64 ] || HOSTROOT=${VPT_CACHE:-/var/cache/vpt}/hostroot
[ "$INTREMAP" = on ] ||
	OUT=${OUT:-$TOP/out/vm-$KVER-aw$AW$([ "$STACK" = vpt ] || echo "-$STACK")-no-intremap}
OUT=${OUT:-$TOP/out/vm-$KVER-aw$AW$([ "$STACK" = vpt ] || echo "-$STACK")}
mkdir -p "$OUT"
rm -rf "$OUT/root"
ROOT=$OUT/root
mkdir -p "$ROOT/bin" "$ROOT/vpt" "$ROOT/tests" "$ROOT/dev" "$ROOT/proc" \
	"$ROOT/sys" "$ROOT/tmp"

FLAVOUR=$([ $IDENT -eq 1 ] && echo vfio || echo vpt)
if [ -z "$KO" ]; then
	"$TOP/tools/kbuild.sh" "$KDIR" -s M="$TOP" VPT_AS="$FLAVOUR" modules >&2
	KO=$TOP/drivers/vpt
	make -s -C "$TOP/tools/testing/selftests/vpt" VPT_SRC="$SRC" >&2
	make -s -C "$TOP/tools/demo" VPT_SRC="$SRC" >&2
	make -s -C "$TOP/tools/bench" >&2
	make -s -C "$TOP/tools/vptctl" >&2
fi
if [ $IDENT -eq 0 ]; then
	cp "$KO/vpt.ko" "$KO/vpt-pci.ko" "$ROOT/vpt/"
else
	# The identity flavour, loaded by name as an installed one is.
	mkdir -p "$ROOT/lib/modules/$REL/updates"
	cp "$KO/vfio.ko" "$KO/vfio-pci.ko" "$ROOT/lib/modules/$REL/updates/"
	depmod -b "$ROOT" "$REL"
fi
# Test-only module, built against the guest's kernel even with --ko, in
# this run's own copy: make check runs VMs of two kernels at a time.
rm -rf "$OUT/fakedev"
cp -r "$TOP/tools/testing/selftests/vpt/vpt_fakedev" "$OUT/fakedev"
"$TOP/tools/kbuild.sh" "$KDIR" -s M="$OUT/fakedev" modules >&2
cp "$OUT/fakedev/vpt_fakedev.ko" "$ROOT/tests/"

# The kernel's own vfio-pci and what it depends on, in load order (with
# --clients on either stack: see below).
# stage DIR MODULE...: the guest kernel's MODULEs and what they depend
# on, decompressed, into $ROOT/DIR as NN-name.ko in load order (built-in
# ones have no .ko and are left out); the guest insmods them in order.
stage() {
	dir=$ROOT/$1 i=10
	shift
	mkdir -p "$dir"
	KROOT=${MODDIR%/lib/modules/*} ABI=${MODDIR##*/}
	for m in $(for n in "$@"; do
			modprobe -d "$KROOT" -S "$ABI" --show-depends "$n" \
				2>/dev/null || true
		   done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
		dst=$dir/$i-$(basename "$m" | sed 's/\.ko.*//').ko
		case $m in
		*.xz) xz -dc "$m" >"$dst" ;;
		*.zst) zstd -qdc "$m" >"$dst" ;;
		*) cp "$m" "$dst" ;;
		esac
		i=$((i + 1))
	done
}
mkdir -p "$ROOT/kmod"
if [ "$STACK" != vpt ] || [ $CLIENTS -eq 1 ]; then
	stage kmod vfio-pci
fi

# --clients: the client checks, and the 9p modules to mount the host's
# root with, in load order (built-in ones are left out).  The guest gets a
# module tree as a host has one, for the modprobe that driverctl and
# libvirt run and the modules.alias libvirt reads in the clients' roots:
# the kernel's own vfio modules under kernel/ and, with --identity, vpt's
# under updates/, which depmod prefers; the identity checks also load the
# in-tree ones over it.
if [ $CLIENTS -eq 1 ]; then
	mkdir -p "$ROOT/lib/modules/$REL/kernel/vfio"
	for m in "$ROOT"/kmod/*.ko; do
		cp "$m" "$ROOT/lib/modules/$REL/kernel/vfio/${m##*/[0-9][0-9]-}"
	done
	depmod -b "$ROOT" "$REL" 2>/dev/null
	make -s -C "$TOP/tools/testing/clients" >&2
	cp "$TOP/tools/testing/clients/vpt_qmp" "$ROOT/tests/"
	cp "$TOP/tools/testing/clients/vpt_clients.sh" "$ROOT/tests/vpt_clients"
	cp "$TOP/modprobe/vpt-vfio.conf" "$ROOT/tests/"
	# virtio_pci is built in from 6.12.
	stage kmod9p virtio_pci 9pnet_virtio 9p
fi

# --kvm: KVM for QEMU in the guest (-cpu max gives it SVM), in load order.
[ $KVM -eq 0 ] || stage kmodkvm kvm_amd

# --iommu virtio: virtio_iommu and what it depends on, in load order.
mkdir -p "$ROOT/kmodiommu"
[ "$IOMMU" != virtio ] || stage kmodiommu virtio_iommu

# --sriov: the PF's host driver, igb.
mkdir -p "$ROOT/kmodsriov"
[ $SRIOV -eq 0 ] || stage kmodsriov igb

if [ $DEMO -eq 1 ]; then
	cp "$TOP/tools/demo/vpt_demo" "$ROOT/tests/"
	RUNLIST=vpt_demo
elif [ $CLIENTS -eq 1 ]; then
	RUNLIST=vpt_clients
elif [ $BENCH -eq 1 ]; then
	cp "$TOP/tools/bench/vpt_bench" "$TOP/tools/bench/profile.sh" \
		"$ROOT/tests/"
	RUNLIST=""
elif [ $SMOKE -eq 1 ]; then
	cp "$TOP/tools/bench/vpt_bench" "$ROOT/tests/"
	printf '#!/bin/sh\nexec /tests/vpt_bench --smoke\n' \
		>"$ROOT/tests/vpt_bench_smoke"
	chmod +x "$ROOT/tests/vpt_bench_smoke"
	RUNLIST=vpt_bench_smoke
else
	RUNLIST=${TESTS:-$(cd "$TOP/tools/testing/selftests/vpt" &&
		ls -- *_test 2>/dev/null | tr '\n' ' ')}
	# It turns allow_unsafe_interrupts off, which virtio-iommu (no
	# interrupt remapping at all) needs on for every other test.
	[ $UNSAFE -eq 0 ] || [ -n "$TESTS" ] ||
		RUNLIST=$(echo "$RUNLIST" | sed 's/vpt_unsafe_irq_test//')
	[ $INJECT -eq 1 ] && RUNLIST="$RUNLIST vpt_runner_fail"
	for t in $RUNLIST; do
		cp "$TOP/tools/testing/selftests/vpt/$t" "$ROOT/tests/"
	done
	# vpt_ctl_test runs the operator tool from here.
	cp "$TOP/tools/vptctl/vptctl" "$ROOT/tests/vptctl"
fi

cp /bin/busybox "$ROOT/bin/busybox"
cat >"$ROOT/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
dmesg -n $([ $DEBUG -eq 1 ] && echo 7 || echo 3)
export PATH=/bin VPT_AW_BITS=$AW VPT_IOMMU=$IOMMU VPT_NODE_DIR=/dev/vfio VPT_STACK=$STACK \
	VPT_INTREMAP=$([ $UNSAFE -eq 1 ] && echo off || echo $INTREMAP) VPT_IDENTITY=$IDENT VPT_KVM=$KVM \
	VPT_DRIVER=$([ $IDENT -eq 1 ] && echo vfio-pci || echo vpt-pci) \
	VPT_DEB13ROOT=$BUILD_ROOT
# --clients: the guest's own drivers (virtio-pci, for 9p) come before
# the stack's, as on a host, for driverctl's and libvirt's give-back.
for m in /kmod9p/*.ko; do
	[ -e "\$m" ] && insmod "\$m"
done
# --hotplug: the edu behind the root port, for vpt_hotplug_test.
for hp in /sys/bus/pci/devices/0000:00:0a.0/0000:*; do
	[ -e "\$hp" ] && export VPT_HOTPLUG_BDF=\${hp##*/}
done
export VPT_FUZZ_OPS=${VPT_FUZZ_OPS:-20000} VPT_FUZZ_SEED=${VPT_FUZZ_SEED:-1}
if [ $DEBUG -eq 1 ]; then
	# kmemleak: no automatic scans; what boot left is not ours.
	mount -t debugfs debugfs /sys/kernel/debug
	echo scan=off > /sys/kernel/debug/kmemleak
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
	# Its shpchp (Debian's leaves it) would make the bridge group
	# non-viable, which the tests do not expect.
	[ -e /sys/bus/pci/drivers/shpchp/0000:00:08.0 ] &&
		echo 0000:00:08.0 > /sys/bus/pci/drivers/shpchp/unbind
fi
DEVICES="0000:00:04.0 0000:00:05.0 0000:00:06.0 0000:00:07.0"
# --iommu virtio: the IOMMU appears only when its driver is loaded; it
# then probes the PCI devices and gives them their groups.
for m in /kmodiommu/*.ko; do
	[ -e "\$m" ] || continue
	insmod \$m || echo "=== VPT-MODULES-FAILED ==="
done
i=0
while [ ! -e /sys/bus/pci/devices/0000:00:04.0/iommu_group ] && [ \$i -lt 30 ]; do
	sleep 1
	i=\$((i + 1))
done
# --sriov: igb takes the PF and enables two VFs, which no driver probes;
# the first VF joins the test devices.
for m in /kmodsriov/*.ko; do
	[ -e "\$m" ] || continue
	insmod \$m || echo "=== VPT-MODULES-FAILED ==="
done
if [ $SRIOV -eq 1 ]; then
	export VPT_SRIOV_PF=0000:00:0b.0
	pf=/sys/bus/pci/devices/\$VPT_SRIOV_PF
	i=0
	while [ ! -e \$pf/driver ] && [ \$i -lt 30 ]; do
		sleep 1
		i=\$((i + 1))
	done
	echo 0 > \$pf/sriov_drivers_autoprobe
	echo 2 > \$pf/sriov_numvfs || echo "=== VPT-SRIOV-FAILED ==="
	vf=\$(readlink \$pf/virtfn0)
	export VPT_SRIOV_VF=\${vf##*/}
	DEVICES="\$DEVICES \$VPT_SRIOV_VF"
fi
SRIOV_ARG=\$([ $SRIOV -eq 1 ] && echo enable_sriov=1)
# No interrupt remapping (virtio-iommu; AMD-Vi under 7.x, which wants a
# southbridge IOAPIC QEMU 7.2's IVRS does not list): the stacks must be
# told to accept, and the tests know.
UNSAFE=\$([ $UNSAFE -eq 1 ] && echo allow_unsafe_interrupts=1)
if [ $IOMMU = amd ] && ! dmesg | grep -q 'AMD-Vi: Interrupt remapping enabled'; then
	UNSAFE=allow_unsafe_interrupts=1
	export VPT_INTREMAP=off
fi

# load STACK: the modules, then every test device bound to its driver.
load() {
	if [ \$1 = vpt ]; then
		drv=\$VPT_DRIVER
		if [ $IDENT -eq 1 ]; then
			modprobe vfio \$UNSAFE && modprobe vfio-pci
		else
			insmod /vpt/vpt.ko \$UNSAFE &&
				insmod /vpt/vpt-pci.ko \$SRIOV_ARG
		fi ||
			echo "=== VPT-MODULES-FAILED ==="
	else
		drv=vfio-pci
		for m in /kmod/*.ko; do
			case \$m in
			*-vfio_iommu_type1.ko) insmod \$m \$UNSAFE ;;
			*-vfio-pci.ko) insmod \$m \$SRIOV_ARG ;;
			*) insmod \$m ;;
			esac || echo "=== VPT-MODULES-FAILED ==="
		done
	fi
	for bdf in \$DEVICES; do
		# 6.12 builds virtio-pci in: it has claimed 00:07.0 at boot.
		[ -e /sys/bus/pci/devices/\$bdf/driver ] &&
			echo \$bdf > /sys/bus/pci/devices/\$bdf/driver/unbind
		echo \$drv > /sys/bus/pci/devices/\$bdf/driver_override
		echo \$bdf > /sys/bus/pci/drivers_probe
	done
}

# unload STACK: unbind every device, then remove the modules.
unload() {
	for bdf in \$DEVICES; do
		[ -e /sys/bus/pci/devices/\$bdf/driver ] &&
			echo \$bdf > /sys/bus/pci/devices/\$bdf/driver/unbind
		echo > /sys/bus/pci/devices/\$bdf/driver_override
	done
	if [ \$1 = vpt ]; then
		if [ $IDENT -eq 1 ]; then
			rmmod vfio_pci && rmmod vfio
		else
			rmmod vpt-pci && rmmod vpt
		fi || echo "=== VPT-RMMOD-FAILED ==="
	else
		for m in \$(ls -r /kmod); do rmmod \${m#*-}; done
	fi
}

echo "=== VPT-BOOT \$(uname -r) ==="
if [ $BENCH -eq 1 ]; then
	echo 600 > /proc/sys/vm/nr_hugepages
	echo madvise > /sys/kernel/mm/transparent_hugepage/enabled
	# --profile: where each stack's huge-page maps spend their time,
	# instead of the benchmark.
	for stack in $([ $PROFILE -eq 0 ] || echo vfio vpt); do
		load \$stack
		echo "=== VPT-PROFILE \$stack ==="
		/tests/profile.sh \$stack 2>&1
		unload \$stack
	done
	# The first pass after boot runs up to twice as slow, whichever
	# stack it measures: full runs start with an untimed quick pass.
	if [ -z "$QUICK" ] && [ $PROFILE -eq 0 ]; then
		load vfio
		echo "=== VPT-BENCH-WARMUP ==="
		/tests/vpt_bench --quick > /dev/null 2>&1
		unload vfio
	fi
	# Full runs measure each stack four times, in the order ABBA BAAB,
	# so that each stack holds every position alike and a drift in
	# the host's load hits both alike; a passing disturbance slows a
	# run twofold at times, so table.sh keeps each stack's lowest.
	for stack in $([ $PROFILE -eq 1 ] || { [ -n "$QUICK" ] && echo vfio vpt ||
		       echo vfio vpt vpt vfio vpt vfio vfio vpt; }); do
		load \$stack
		echo "=== VPT-BENCH \$stack ==="
		/tests/vpt_bench $QUICK 2>&1
		echo "=== VPT-BENCH-END \$stack rc=\$? ==="
		unload \$stack
	done
else
	# The benchmark's smoke pass maps THP and 2 MiB hugetlbfs memory.
	[ $SMOKE -eq 0 ] || { echo 8 > /proc/sys/vm/nr_hugepages
		echo madvise > /sys/kernel/mm/transparent_hugepage/enabled; }
	load $STACK
	for t in $RUNLIST; do
		echo "=== VPT-TEST \$t ==="
		timeout $TIMEOUT /tests/\$t > /tmp/out 2>&1
		rc=\$?
		cat /tmp/out
		echo "=== VPT-TEST-END \$t rc=\$rc ==="
	done
	[ $STACK = vpt ] && unload vpt
fi
if [ $DEBUG -eq 1 ]; then
	# Objects younger than 5 s are not reported: scan, wait, scan.
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	echo "=== VPT-KMEMLEAK ==="
	cat /sys/kernel/debug/kmemleak
	echo "=== VPT-KMEMLEAK-END ==="
fi
echo "=== VPT-DMESG ==="
dmesg
echo "=== VPT-DONE ==="
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd.gz"

[ -f "$OUT/nvme.img" ] || truncate -s 16M "$OUT/nvme.img"
rm -f "$OUT/trace.log"

# --hotplug: device_del through QMP once the guest asks on its console.
if [ $HOTPLUG -eq 1 ]; then
	make -s -C "$TOP/tools/testing/clients" >&2
	rm -f "$OUT/qmp.sock" "$OUT/qmp.log" "$OUT/console.log"
	(
		i=0
		while [ $i -lt $((TIMEOUT + 120)) ]; do
			if grep -q 'VPT-UNPLUG hpedu' "$OUT/console.log" \
				2>/dev/null; then
				"$TOP/tools/testing/clients/vpt_qmp" \
					"$OUT/qmp.sock" raw \
					'{"execute": "device_del", "arguments": {"id": "hpedu"}}' \
					>"$OUT/qmp.log" 2>&1
				exit
			fi
			grep -q '=== VPT-DONE' "$OUT/console.log" 2>/dev/null &&
				exit
			sleep 1
			i=$((i + 1))
		done
	) &
fi

set +e
VPT_OUT=$OUT timeout $((TIMEOUT + 120)) $QEMU \
	-accel tcg -M q35,kernel-irqchip=split -cpu max -smp 1 \
	-m "$([ $BENCH -eq 1 ] && echo 8G ||
		{ { [ $DEBUG -eq 1 ] || [ $CLIENTS -eq 1 ]; } && echo 2G || echo 1G; })" \
	-nodefaults -display none -serial stdio -monitor none -no-reboot \
	-kernel "$VMLINUZ" -initrd "$OUT/initrd.gz" \
	-append "console=ttyS0$IOMMU_CMDLINE panic=-1 no_timer_check$KAPPEND$([ $BENCH -eq 0 ] || echo " hugepagesz=1G hugepages=2")" \
	-device "$IOMMU_DEV" \
	-device edu,addr=04.0,dma_mask=0xffffffffffffffff \
	-object memory-backend-ram,id=shm0,size=4M,share=on \
	-device ivshmem-plain,memdev=shm0,addr=05.0 \
	-drive file="$OUT/nvme.img",if=none,id=nvm0,format=raw \
	-device nvme,serial=vpt0,drive=nvm0,addr=06.0 \
	-device virtio-net-pci,addr=07.0 \
	-device pcie-pci-bridge,id=br0,addr=08.0 \
	$BRIDGE_DEVS \
	$([ $CLIENTS -eq 0 ] || echo "-device virtio-9p-pci,fsdev=hostfs,mount_tag=hostroot,addr=09.0
		-fsdev local,id=hostfs,path=$HOSTROOT,security_model=none,readonly=on,multidevs=remap") \
	$([ $SRIOV -eq 0 ] || echo "-device igb,addr=0b.0") \
	$([ $HOTPLUG -eq 0 ] || echo "-device pcie-root-port,id=rp0,chassis=1,slot=1,addr=0a.0
		-device edu,id=hpedu,bus=rp0,dma_mask=0xffffffffffffffff
		-qmp unix:$OUT/qmp.sock,server=on,wait=off") \
	-trace pci_cfg_write -trace pci_update_mappings_add -D "$OUT/trace.log" \
	</dev/null >"$OUT/console.log" 2>"$OUT/qemu.err"
qrc=$?
set -e

label="vm $REL$IOMMU_LABEL aw$AW$([ "$STACK" = vpt ] || echo " $STACK")"
[ $SMOKE -eq 0 ] || label="$label bench-smoke"
[ $IDENT -eq 0 ] || label="$label identity"
[ $KVM -eq 0 ] || label="$label kvm"
[ $CLIENTS -eq 0 ] || label="$label clients"
[ "$INTREMAP" = on ] || label="$label no-intremap"
[ $HOTPLUG -eq 0 ] || label="$label hotplug"
[ $SRIOV -eq 0 ] || label="$label sriov"
if [ $BENCH -eq 1 ] && [ $PROFILE -eq 1 ]; then
	grep -E '^(=== VPT-PROFILE|PROF |# )' "$OUT/console.log"
	exit
elif [ $BENCH -eq 1 ]; then
	"$TOP/tools/bench/table.sh" "$OUT/console.log" "$REL" "$AW"
	exit
fi
set +e
summary=$("$TOP/tools/testing/vm/parse-console.sh" "$OUT/console.log" \
	"$label" $DEMO $qrc $RUNLIST)
set -e
printf '%s\n' "$summary" | sed '$d'
set -- $(printf '%s\n' "$summary" | tail -n 1 |
	sed 's/.*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped/\1 \2 \3/')
pass=$1 fail=$2 skip=$3

# Outside the guest: QEMU's own record of config writes and BAR moves.
checker=$TOP/tools/testing/vm/check-sizing-trace.sh
if [ $DEMO -eq 0 ] && [ $SMOKE -eq 0 ] && [ $CLIENTS -eq 0 ] && [ -z "$TESTS" ] &&
   [ "$STACK" = vpt ] && [ -x "$checker" ]; then
	if "$checker" "$OUT/trace.log" "$AW" 04 05 06 07; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
fi
echo "$label: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
