#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vpt_clients: run unmodified VFIO clients inside the test VM against the
# stack that is loaded (VPT_STACK: vpt, or upstream's vfio for fairness):
#
#  * QEMU's vfio-pci with edu 00:04.0, ivshmem 00:05.0 and nvme 00:06.0:
#    it realizes them, maps its RAM through MAP_DMA, SeaBIOS sizes and
#    assigns their BARs through the stack's virtual config space, QEMU
#    quits cleanly and nothing stays pinned;
#  * with VPT_KVM=1, QEMU runs under KVM (kvm_amd in the guest) and KVM's
#    VFIO device takes the group fds: the drop-in identity KVM checks;
#  * DPDK's dpdk-devbind.py binds virtio-net 00:07.0 to vfio-pci by name,
#    and dpdk-testpmd drives it through its virtio PMD: it starts the port,
#    transmits, prints its statistics and exits cleanly, and nothing stays
#    pinned.  DPDK finds VFIO by name, so on vpt this needs the identity
#    flavour (VPT_IDENTITY=1); without it the DPDK checks skip.
#
# The clients need shared libraries: the host's root filesystem is shared
# read-only over virtio-9p (tag "hostroot") and every client runs chrooted
# into it.  Runs in the busybox initramfs of tools/testing/vm/run.sh, as
# /tests/vpt_clients, with the 9p modules in /kmod9p and vpt_qmp beside it.
# Prints kselftest-style TAP and a "# Totals:" line for parse-console.sh.
#
# Every wait below ends on a condition; CLIENT_BOUND (seconds) only bounds
# how long a wait may take before the check fails (nested TCG is slow).
set -u

H=/host
QMP=/tests/vpt_qmp
STACK=${VPT_STACK:-vpt}
BOUND=${CLIENT_BOUND:-300}
QEMU_DEVS="edu=0000:00:04.0 ivshmem=0000:00:05.0 nvme=0000:00:06.0"
NET=0000:00:07.0
# QEMU maps its guest RAM (128 MiB; q35's TSEG and the legacy holes are not
# RAM) through MAP_DMA at realize: at least half of it must be pinned.
QEMU_RAM_PAGES=16384
# More packets than the device's 256-entry TX ring: the device must have
# completed descriptors (read the ring and the packets from testpmd's
# hugepages) for testpmd to go on.
TX_WANT=4096
SOCK=$H/tmp/qmp.sock
W=/tmp/clients
mkdir -p $W

n=0 pass=0 fail=0 skip=0
ok() {
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n $1"
}
# not_ok NAME [FILE]: a failure, with FILE's last lines as diagnostics.
not_ok() {
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n $1"
	[ $# -gt 1 ] && [ -s "$2" ] && tail -n 25 "$2" | sed 's/^/# /'
	return 0
}
# check NAME COMMAND...: one TAP line for COMMAND's status.
check() {
	name=$1
	shift
	if "$@" >$W/check.out 2>&1; then ok "$name"; else not_ok "$name" $W/check.out; fi
}

# measure NAME COMMAND...: check, and always show what COMMAND printed.
measure() {
	name=$1
	shift
	if "$@" >$W/check.out 2>&1; then
		ok "$name"
		sed 's/^/# /' $W/check.out
	else
		not_ok "$name" $W/check.out
	fi
}

# Pages pinned system-wide right now (FOLL_PIN), per-CPU deltas folded.
pins() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 }
	     END { printf "%d\n", a - r }' /proc/vmstat
}

# wait_for SECONDS PID COMMAND...: until COMMAND succeeds; fails when PID
# is gone or SECONDS passed.
wait_for() {
	t=$1 p=$2
	shift 2
	while ! "$@"; do
		kill -0 "$p" 2>/dev/null || return 1
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		sleep 1
	done
}

# reap PID [SECONDS]: its exit status, killing it after SECONDS (BOUND).
reap() {
	(sleep "${2:-$BOUND}"; kill -9 "$1" 2>/dev/null) &
	w=$!
	wait "$1"
	r=$?
	kill $w 2>/dev/null
	wait $w 2>/dev/null
	return $r
}

# ---- the host's root over 9p, with the guest's /proc, /sys and /dev ----
host_root() {
	# In load order, built-in ones left out (run.sh).
	for m in /kmod9p/*.ko; do
		[ -e "$m" ] || continue
		insmod "$m" || return 1
	done
	mkdir -p $H &&
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro \
		hostroot $H &&
	mount -o bind /proc $H/proc && mount -o bind /sys $H/sys &&
	mount -o bind /dev $H/dev && mount -t tmpfs tmp $H/tmp &&
	mount -t tmpfs run $H/run &&
	chroot $H /bin/true
}

# ---- KVM (VPT_KVM=1): kvm_amd in the guest, for QEMU's -accel kvm ----
kvm_up() {
	for m in /kmodkvm/*.ko; do
		[ -e "$m" ] || continue
		# irqbypass may be in already, for the in-tree vfio.
		name=$(basename "$m" .ko | sed 's/^[0-9]*-//' | tr - _)
		[ -d /sys/module/$name ] && continue
		insmod "$m" || return 1
	done
	test -c /dev/kvm
}

# KVM's VFIO device took every group fd QEMU gave it, and the VM runs
# under KVM: query-kvm says so, and QEMU printed no "KVM VFIO device".
qemu_kvm_takes_groups() {
	$QMP $SOCK raw '{"execute": "query-kvm"}' >$W/kvm.out || return 1
	cat $W/kvm.out
	grep -q '"enabled": true' $W/kvm.out &&
		! grep -i 'KVM VFIO device' $W/qemu.out
}

# ---- QEMU ----
qemu_args() {
	if [ "$ACCEL" = kvm ]; then
		echo "-accel kvm -nodefaults -no-user-config -display none"
	else
		echo "-accel tcg,tb-size=64 -nodefaults -no-user-config -display none"
	fi
	echo "-M q35 -m 128M -qmp unix:/tmp/qmp.sock,server=on,wait=off"
	for d in $QEMU_DEVS; do
		echo "-device vfio-pci,host=${d#*=},id=${d%%=*}"
	done
}

# The BARs the guest kernel sees, as "ID BAR SIZE" (6 is the ROM).
sysfs_bars() {
	for d in $QEMU_DEVS; do
		i=0
		while read -r s e f; do
			[ $i -le 6 ] && [ $((e)) -ne 0 ] &&
				echo "${d%%=*} $i $((e - s + 1))"
			i=$((i + 1))
		done </sys/bus/pci/devices/${d#*=}/resource
	done
}

# The vfio-pci devices' BARs in QEMU's query-pci, as "ID BAR SIZE".
qmp_bars() {
	$QMP $SOCK bars >$W/bars || return 1
	for d in $QEMU_DEVS; do
		awk -v id="${d%%=*}" '$1 == id { print $1, $2, $5 }' $W/bars
	done
}

qemu_realized() {
	qmp_bars >$W/qbars || return 1
	for d in $QEMU_DEVS; do
		grep -q "^${d%%=*} " $W/qbars || {
			echo "query-pci lists no BAR of ${d%%=*}"; return 1; }
	done
}

bar_sizes_match() {
	sysfs_bars | sort >$W/want
	qmp_bars | sort >$W/got
	diff $W/want $W/got && echo "sizes: $(tr '\n' ';' <$W/got)"
}

# Every BAR of the vfio-pci devices is mapped at an address aligned to
# its size, as firmware leaves them after it ran.
bars_assigned() {
	$QMP $SOCK bars >$W/bars 2>/dev/null || return 1
	awk -v ids="$(for d in $QEMU_DEVS; do printf '%s ' "${d%%=*}"; done)" '
		BEGIN { split(ids, l, " "); for (i in l) want[l[i]] = 1 }
		want[$1] { n++; if ($4 <= 0 || $4 % $5) bad++ }
		END { exit !(n > 0 && !bad) }' $W/bars
}

pinned_at_least() {
	now=$(pins)
	echo "pinned: $((now - $1)) pages (want >= $2)"
	[ $((now - $1)) -ge "$2" ]
}

pins_back_to() {
	now=$(pins)
	echo "pinned after exit: $((now - $1)) pages"
	[ "$now" -eq "$1" ]
}

quit_qemu() {
	$QMP $SOCK raw '{"execute": "quit"}'
	reap $1
}

# Anything QEMU printed about vfio or an error, except that a device has
# no reset method (edu and ivshmem have none, on either stack).
no_vfio_errors() {
	! grep -iE 'vfio|error|fail|warn' $W/qemu.out |
		grep -v 'no available reset mechanism'
}

qemu_client() {
	base=$(pins)
	rm -f $SOCK
	# shellcheck disable=SC2046
	chroot $H qemu-system-x86_64 $(qemu_args) </dev/null >$W/qemu.out 2>&1 &
	qpid=$!
	start=$(date +%s)
	if ! wait_for $BOUND $qpid test -S $SOCK; then
		not_ok qemu_realizes_vfio_devices $W/qemu.out
		for t in qemu_bar_sizes_match_device qemu_ram_pinned_through_map_dma \
			 qemu_firmware_assigns_bars qemu_quits_cleanly \
			 qemu_reports_no_vfio_errors qemu_leaves_nothing_pinned; do
			not_ok $t
		done
		reap $qpid 0
		return
	fi
	check qemu_realizes_vfio_devices qemu_realized
	[ "$ACCEL" = kvm ] && check qemu_kvm_takes_vfio_groups qemu_kvm_takes_groups
	check qemu_bar_sizes_match_device bar_sizes_match
	measure qemu_ram_pinned_through_map_dma pinned_at_least "$base" $QEMU_RAM_PAGES
	check qemu_firmware_assigns_bars wait_for $BOUND $qpid bars_assigned
	if ! kill -0 $qpid 2>/dev/null; then
		not_ok qemu_quits_cleanly $W/qemu.out
		check qemu_reports_no_vfio_errors no_vfio_errors
		measure qemu_leaves_nothing_pinned pins_back_to "$base"
		return
	fi
	echo "# firmware ran, $(($(date +%s) - start))s after start:"
	sed 's/^/#   /' $W/bars
	check qemu_quits_cleanly quit_qemu $qpid
	check qemu_reports_no_vfio_errors no_vfio_errors
	measure qemu_leaves_nothing_pinned pins_back_to "$base"
}

# ---- DPDK ----

# dpdk-devbind.py binds by driver name, and DPDK then takes the device
# for a VFIO one only when its sysfs "driver" link names vfio-pci and
# /sys/module/vfio and vfio_pci exist: the in-tree stack, or vpt's
# identity flavour.  Unbind the port, and bind it back the way DPDK's
# users do.
devbind_binds() {
	echo $NET >/sys/bus/pci/devices/$NET/driver/unbind 2>/dev/null
	chroot $H dpdk-devbind.py -b vfio-pci $NET || return 1
	drv=$(basename "$(readlink /sys/bus/pci/devices/$NET/driver)")
	echo "driver: $drv"
	[ "$drv" = vfio-pci ]
}

tp() {
	echo "$1" >&3
}

# The TX-packets of the last "show port stats" testpmd printed.
tx_packets() {
	awk '/NIC statistics for port/ { s = 1 }
	     s && /TX-packets:/ { tx = $2 } END { printf "%d\n", tx }' $W/tp.out
}

tx_above() {
	tp "show port stats 0"
	[ "$(tx_packets)" -gt "$1" ]
}

dpdk_probed() {
	grep -E 'VFIO|Probe PCI driver: net_virtio|^Port 0: |rror' $W/tp.out
	grep -q 'VFIO support initialized' $W/tp.out &&
	grep -q 'Probe PCI driver: net_virtio' $W/tp.out &&
	grep -q '^Port 0: ' $W/tp.out &&
	! grep -E 'Not managed by a supported kernel driver' $W/tp.out
}

dpdk_exited() {
	reap $1 || return 1
	grep -q '^Bye' $W/tp.out
}

# The virtio-net device does not offer VIRTIO_F_ACCESS_PLATFORM: it reads
# guest-physical addresses, bypassing the IOMMU.  So testpmd runs with
# IOVA = PA, which the type1 mappings (IOVA = PA -> its hugepages) match.
dpdk_client() {
	echo 256 >/proc/sys/vm/nr_hugepages
	mkdir -p $H/dev/hugepages
	mount -t hugetlbfs nodev $H/dev/hugepages
	check dpdk_devbind_binds_vfio_pci devbind_binds
	base=$(pins)
	rm -f $W/tp.in
	mkfifo $W/tp.in
	chroot $H dpdk-testpmd --lcores '0@0,1@0' -n 1 -a $NET --file-prefix vpt \
		--iova-mode=pa --no-telemetry -- -i --forward-mode=txonly \
		--total-num-mbufs=2048 \
		--nb-cores=1 <$W/tp.in >$W/tp.out 2>&1 &
	tpid=$!
	exec 3>$W/tp.in
	if wait_for $BOUND $tpid grep -q 'testpmd> ' $W/tp.out; then
		if dpdk_probed >$W/check.out 2>&1; then
			ok dpdk_testpmd_probes_virtio_port
			sed 's/^/# /' $W/check.out
			tp "start tx_first"
			check dpdk_testpmd_transmits \
				wait_for $BOUND $tpid tx_above $TX_WANT
			echo "# testpmd TX-packets: $(tx_packets)"
		else
			not_ok dpdk_testpmd_probes_virtio_port $W/tp.out
			not_ok dpdk_testpmd_transmits
		fi
		tp stop
		tp quit
		exec 3>&-
		check dpdk_testpmd_exits_cleanly dpdk_exited $tpid
	else
		exec 3>&-
		not_ok dpdk_testpmd_probes_virtio_port $W/tp.out
		not_ok dpdk_testpmd_transmits
		not_ok dpdk_testpmd_exits_cleanly
		reap $tpid 0
	fi
	grep -A3 'Accumulated forward statistics' $W/tp.out | sed 's/^/# /'
	measure dpdk_leaves_nothing_pinned pins_back_to "$base"
}

echo "TAP version 13"
echo "# stack $STACK"
if ! host_root >$W/root.out 2>&1; then
	not_ok clients_host_root_shared $W/root.out
else
	ok clients_host_root_shared
	ACCEL=tcg
	if [ "${VPT_KVM:-0}" = 1 ]; then
		if kvm_up >$W/kvm-up.out 2>&1; then
			ok kvm_available_in_guest
			ACCEL=kvm
		else
			not_ok kvm_available_in_guest $W/kvm-up.out
		fi
	fi
	t0=$(date +%s)
	qemu_client
	echo "# qemu client: $(($(date +%s) - t0))s"
	t0=$(date +%s)
	if [ "$STACK" = vpt ] && [ "${VPT_IDENTITY:-0}" = 0 ]; then
		n=$((n + 1)) skip=$((skip + 1))
		echo "ok $n dpdk_client # SKIP DPDK finds VFIO by name: needs the identity flavour (VPT_AS=vfio)"
	else
		dpdk_client
	fi
	echo "# dpdk client: $(($(date +%s) - t0))s"
fi
echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ $fail -eq 0 ]
