#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Everything `make check` does: build both modules against the headers of
# every kernel of the matrix (Debian 12's 6.1 and 6.12 from its backports,
# Debian 13's 6.12 and its newest backport, 7.x), each with its own
# compiler, with W=1 and sparse, and fail on any warning; run checkpatch
# --strict over the tree; build the kselftests; check `make install` and,
# with dkms itself, DKMS for every kernel; then run the kselftests in the
# VM matrix (see RUNS below), plus, on 6.1 and on the newest kernel: one
# short smoke pass of the benchmark (counted as one test), one run of
# unmodified VFIO clients (tools/testing/clients: Debian 12's QEMU 7.2
# and Debian 13's QEMU 10 under KVM and TCG, dpdk-devbind, DPDK 22.11 and
# 24.11, driverctl, libvirt) on the identity flavour and one on the
# in-tree vfio, one run without interrupt remapping, one QMP
# hot-unplug, and the SR-IOV tests (an igb PF and its VFs, Debian 13's
# QEMU) on vpt and on the in-tree vfio; and the width tests on AMD-Vi
# (every kernel) and on virtio-iommu at 39, 48 and 64 bits (every kernel
# from 6.12).  The last line totals the kselftest results of every VM
# run: "N passed, N failed, N skipped".
# VPT_RUNS="6.1:39 deb13-bpo:clients"
# picks runs.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
start=$(date +%s)
problems=""

deps=$(tools/deps.sh) || { echo "check: dependency step failed"; exit 1; }
eval "$deps"
# The VM runs, KERNEL:WHAT, WHAT an IOMMU width or a special run: the
# suite on Debian 12's 6.1 at both widths, 6.12 (bookworm-backports) at
# 48, Debian 13's 6.12 at 39 and the newest Debian 13 backport at both;
# the special runs on 6.1 and on the newest kernel.  "clients" runs the
# unmodified clients (QEMU under KVM, dpdk-devbind, DPDK; QEMU also
# passes an igb VF through) on the identity flavour, "clients-vfio" the
# same on the in-tree stack, for parity;
# "sriov" and "sriov-vfio" the SR-IOV tests on each stack, likewise.
# The other IOMMUs run the width, ranges, skip and reject tests only
# (WIDTH_TESTS), on every kernel that has their driver: "amd" is AMD-Vi
# (64 bits up to 6.12, 48 from 7.x), "virtio39" and "virtio48"
# virtio-iommu at those aw-bits (Debian 13's QEMU as the outer emulator),
# "virtio64" at QEMU 7.2's default input range; virtio_iommu is a module
# from 6.12 (6.1 has none).  VT-d offers no 57 bits in either QEMU.
NEWEST=${KERNELS##* }
SPECIAL="smoke clients clients-vfio nointremap hotplug sriov sriov-vfio"
WIDTH_TESTS="vpt_width_test vpt_dma_test vpt_ctl_test vpt_trace_test"
RUNS=${VPT_RUNS:-"6.1:39 6.1:48 6.12:48 deb13:39 $NEWEST:39 $NEWEST:48
	$(for w in $SPECIAL; do printf '6.1:%s %s:%s ' "$w" "$NEWEST" "$w"; done)
	$(for k in $KERNELS; do printf '%s:amd ' "$k"; done)
	$(for k in $KERNELS; do
		[ "$k" = 6.1 ] || printf '%s:virtio39 %s:virtio48 %s:virtio64 ' \
			"$k" "$k" "$k"
	  done)"}
mkdir -p out
# Kbuild's clean deletes every *.ko under the tree, out/ included, so the
# per-kernel modules are kept outside it while the other kernel builds.
KO=$(mktemp -d /tmp/vpt-ko.XXXXXX)
trap 'rm -rf "$KO"' EXIT

kvar() { # kvar KEY KERNEL: that deps.sh value of the kernel
	eval "echo \${$1_$(echo "$2" | tr .- __)}"
}

# 1. Warning-free builds (W=1, sparse) against every kernel, each with its
#    own compiler, kept per kernel for the VM runs.
#    Both flavours: vpt (KO/<kernel>) and the identity one, vfio
#    (KO/<kernel>-vfio).
for k in $KERNELS; do
	kdir=$(kvar KDIR "$k")
	for as in vpt vfio; do
		tools/kbuild.sh "$kdir" -s M="$TOP" clean >/dev/null 2>&1
		log=out/build-$k-$as.log
		tools/kbuild.sh "$kdir" M="$TOP" W=1 C=1 VPT_AS=$as modules \
			>"$log" 2>&1
		rc=$?
		warn=$(grep -cE 'warning:|error:|C=1 specified' "$log")
		checked=$(grep -c ' CHECK ' "$log")
		echo "build $(kvar REL "$k") VPT_AS=$as ($(tools/kbuild.sh --cc "$kdir") gcc) W=1 C=1: exit $rc, $warn warnings, $checked files through sparse"
		grep -E 'warning:|error:|C=1 specified' "$log" | head -20
		if [ $rc -ne 0 ] || [ "$warn" -ne 0 ] || [ "$checked" -eq 0 ]; then
			problems="$problems build-$k-$as"
		fi
		d=$KO/$k$([ $as = vpt ] || echo "-$as")
		mkdir -p "$d"
		cp drivers/vpt/*.ko "$d/" 2>/dev/null
	done
	tools/kbuild.sh "$kdir" -s M="$TOP" clean >/dev/null 2>&1
done

# 2. checkpatch --strict over every source file of the tree.  The compat
#    header is where kernel-version checks belong, and its only exemption.
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null | grep -v vpt_compat.h)
[ -n "$files" ] || files=$(find drivers include tools -name '*.[ch]' |
	grep -v vpt_compat.h)
checkpatch() {
	perl "$SRC/scripts/checkpatch.pl" --no-tree --strict --quiet --terse \
		--show-types --ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG"$1" \
		-f $2
}
{
	# shellcheck disable=SC2086
	checkpatch "" "$files"
	checkpatch ",LINUX_VERSION_CODE,CONSTANT_COMPARISON" \
		drivers/vpt/vpt_compat.h
} >out/checkpatch.log 2>&1
cp_count=$(grep -cE ': (ERROR|WARNING|CHECK):' out/checkpatch.log)
echo "checkpatch --strict: $cp_count findings"
head -20 out/checkpatch.log | grep -E ': (ERROR|WARNING|CHECK):'
[ "$cp_count" -eq 0 ] || problems="$problems checkpatch"

# 3. Tests and the demo, built once (static binaries).
make -s -C tools/testing/selftests/vpt VPT_SRC="$SRC" >out/selftests.log 2>&1 ||
	problems="$problems selftests-build"
make -s -C tools/demo VPT_SRC="$SRC" >>out/selftests.log 2>&1 ||
	problems="$problems demo-build"
make -s -C tools/bench >>out/selftests.log 2>&1 ||
	problems="$problems bench-build"
make -s -C tools/vptctl >>out/selftests.log 2>&1 ||
	problems="$problems vptctl-build"

# 3b. `make install` into a scratch DESTDIR (6.1 and the newest kernel),
#     the installed tree inspected, the udev rule verified; then dkms
#     itself builds, installs and removes vpt for every kernel.  One pass
#     or fail line each.
install_pass=0
for k in 6.1 "$NEWEST"; do
	for as in vpt vfio; do
		log=out/install-$k-$as.log
		if tools/testing/check-install.sh "$k" $as >"$log" 2>&1; then
			install_pass=$((install_pass + 1))
		else
			problems="$problems install-$k-$as"
		fi
		grep '^install: ' "$log"
	done
done
tools/testing/check-dkms.sh $KERNELS >out/dkms.log 2>&1 ||
	problems="$problems dkms"
cat out/dkms.log
install_pass=$((install_pass + $(grep -c ': ok' out/dkms.log)))

# 4. The VM matrix, two VMs at a time (one per core).
runs=$RUNS
run_one() {
	k=${1%%:*} aw=${1#*:}
	if [ "$aw" = clients ]; then
		tools/testing/vm/run.sh --clients --identity --kvm --sriov \
			--kver "$k" --aw 39 --ko "$KO/$k-vfio" \
			>"out/run-$k-$aw.log" 2>&1
		return
	fi
	if [ "$aw" = clients-vfio ]; then
		tools/testing/vm/run.sh --clients --stack vfio --kvm --sriov \
			--kver "$k" --aw 39 --ko "$KO/$k" \
			>"out/run-$k-$aw.log" 2>&1
		return
	fi
	if [ "$aw" = hotplug ]; then
		tools/testing/vm/run.sh --hotplug --kver "$k" --aw 39 \
			--ko "$KO/$k" --tests vpt_hotplug_test \
			>"out/run-$k-$aw.log" 2>&1
		return
	fi
	case $aw in
	sriov|sriov-vfio)
		tools/testing/vm/run.sh --sriov --kver "$k" --aw 39 \
			--stack "$([ $aw = sriov ] && echo vpt || echo vfio)" \
			--ko "$KO/$k" --tests vpt_pci_sriov_test \
			>"out/run-$k-$aw.log" 2>&1
		return ;;
	esac
	if [ "$aw" = nointremap ]; then
		tools/testing/vm/run.sh --no-intremap --kver "$k" --aw 39 \
			--ko "$KO/$k" --tests vpt_unsafe_irq_test \
			>"out/run-$k-$aw.log" 2>&1
		return
	fi
	case $aw in
	amd|virtio*)
		tools/testing/vm/run.sh --iommu "${aw%%[0-9]*}" --kver "$k" \
			$([ "$aw" = amd ] || echo "--aw ${aw#virtio}") \
			--ko "$KO/$k" --tests "$WIDTH_TESTS" \
			>"out/run-$k-$aw.log" 2>&1
		return ;;
	esac
	if [ "$aw" = smoke ]; then
		tools/testing/vm/run.sh --smoke --kver "$k" --ko "$KO/$k" \
			>"out/run-$k-$aw.log" 2>&1
		return
	fi
	tools/testing/vm/run.sh --kver "$k" --aw "$aw" --ko "$KO/$k" \
		>"out/run-$k-$aw.log" 2>&1
}
set -- $runs
while [ $# -gt 0 ]; do
	run_one "$1" &
	p1=$!
	p2=""
	if [ $# -gt 1 ]; then
		run_one "$2" &
		p2=$!
	fi
	wait $p1
	[ -n "$p2" ] && wait "$p2"
	shift
	[ $# -gt 0 ] && shift
done

pass=$install_pass fail=0 skip=0
for r in $runs; do
	k=${r%%:*} aw=${r#*:}
	log=out/run-$k-$aw.log
	grep -E '^  ' "$log" | grep -vE ': ok [0-9]+ ' | head -40
	last=$(tail -n 1 "$log")
	echo "$last"
	case $last in
	*" passed, "*" failed, "*" skipped")
		set -- $(echo "$last" | sed 's/.*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped/\1 \2 \3/')
		pass=$((pass + $1)) fail=$((fail + $2)) skip=$((skip + $3)) ;;
	*)
		echo "  (run $k aw$aw printed no summary; see $log)"
		fail=$((fail + 1)) ;;
	esac
done

for p in $problems; do
	echo "check: $p failed"
	fail=$((fail + 1))
done
echo "check: $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
