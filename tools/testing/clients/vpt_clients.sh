#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vpt_clients: run unmodified VFIO clients inside the test VM against the
# stack that is loaded (VPT_STACK: vpt, or upstream's vfio for fairness):
#
#  * QEMU's vfio-pci with edu 00:04.0, ivshmem 00:05.0 and nvme 00:06.0
#    (and with run.sh --sriov an igb VF, VPT_SRIOV_VF):
#    it realizes them, maps its RAM through MAP_DMA, SeaBIOS sizes and
#    assigns their BARs through the stack's virtual config space, QEMU
#    quits cleanly and nothing stays pinned.  Debian 12's QEMU 7.2 (under
#    KVM with VPT_KVM=1), and Debian 13's QEMU 10 under KVM and with TCG;
#  * with VPT_KVM=1, QEMU runs under KVM (kvm_amd in the guest) and KVM's
#    VFIO device takes the group fds: the drop-in identity KVM checks;
#  * driverctl's set-override binds virtio-net 00:07.0 to vfio-pci and
#    unset-override gives it back to virtio-pci; libvirt's nodedev-detach
#    and nodedev-reattach do the same (Debian 13's);
#  * DPDK's dpdk-devbind.py binds virtio-net 00:07.0 to vfio-pci by name,
#    and dpdk-testpmd drives it through its virtio PMD: it starts the port,
#    transmits, prints its statistics and exits cleanly, and nothing stays
#    pinned: Debian 12's DPDK 22.11 and Debian 13's 24.11.  DPDK finds
#    VFIO by name, so on vpt this needs the identity flavour
#    (VPT_IDENTITY=1), as driverctl and libvirt do; without it they skip;
#  * with the identity flavour, loading it while the in-tree vfio is
#    loaded is refused with a clear message, and once the in-tree one is
#    unloaded it loads again.
#
# The clients need shared libraries: the host's root filesystem is shared
# read-only over virtio-9p (tag "hostroot"); Debian 12's clients run
# chrooted into it, Debian 13's into the Debian 13 root inside it
# (VPT_DEB13ROOT, made by tools/deps.sh).  Runs in the busybox initramfs of
# tools/testing/vm/run.sh, as /tests/vpt_clients, with the 9p modules
# loaded and vpt_qmp beside it.  Prints kselftest-style TAP and a
# "# Totals:" line for parse-console.sh.
#
# Every wait below ends on a condition; CLIENT_BOUND (seconds) only bounds
# how long a wait may take before the check fails (nested TCG is slow).
set -u
# The clients' own directories, for what they run in their chroots.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

H=/host
D=$H${VPT_DEB13ROOT:-/var/cache/vpt/deb13root}
QMP=/tests/vpt_qmp
STACK=${VPT_STACK:-vpt}
IDENT=${VPT_IDENTITY:-0}
BOUND=${CLIENT_BOUND:-300}
QEMU_DEVS="edu=0000:00:04.0 ivshmem=0000:00:05.0 nvme=0000:00:06.0"
NET=0000:00:07.0
# What the guest's own drivers bind NET to (virtio-pci, for 9p).
NATIVE=virtio-pci
DEVICES="0000:00:04.0 0000:00:05.0 0000:00:06.0 $NET"
# run.sh --sriov: an igb VF too, whose BAR registers are read-only zero
# (the PF's SR-IOV capability places them): QEMU must still see its
# identity and sizes, and its firmware place its BARs.
if [ -n "${VPT_SRIOV_VF:-}" ]; then
	QEMU_DEVS="$QEMU_DEVS igbvf=$VPT_SRIOV_VF"
	DEVICES="$DEVICES $VPT_SRIOV_VF"
fi
# QEMU maps its guest RAM (128 MiB; q35's TSEG and the legacy holes are not
# RAM) through MAP_DMA at realize: at least half of it must be pinned.
QEMU_RAM_PAGES=16384
# More packets than the device's 256-entry TX ring: the device must have
# completed descriptors (read the ring and the packets from testpmd's
# hugepages) for testpmd to go on.
TX_WANT=4096
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

# skip NAME WHY: a check that cannot apply to this stack.
skip() {
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n $1 # SKIP $2"
}

# ---- the host's root over 9p, with the guest's /proc, /sys and /dev ----

# mount_root DIR: what a client sees of the guest in its chroot; the
# guest's module tree too, where DIR has a place for it (modprobe).
mount_root() {
	mount -o bind /proc "$1/proc" && mount -o bind /sys "$1/sys" &&
	mount -o bind /dev "$1/dev" && mount -t tmpfs tmp "$1/tmp" &&
	mount -t tmpfs run "$1/run" || return 1
	if [ -d /lib/modules ] && [ -d "$1/usr/lib/modules" ]; then
		mount -o bind,ro /lib/modules "$1/usr/lib/modules" || return 1
	fi
	chroot "$1" /bin/true
}

host_root() {
	# run.sh's init loaded them; built-in ones have no .ko.
	for m in /kmod9p/*.ko; do
		[ -e "$m" ] || continue
		name=$(basename "$m" .ko | sed 's/^[0-9]*-//' | tr - _)
		[ -d /sys/module/$name ] && continue
		insmod "$m" || return 1
	done
	mkdir -p $H &&
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro \
		hostroot $H &&
	mount_root $H || return 1
	# The host's own root (Debian 12), not the root an outer QEMU runs in.
	grep -q '^12\.' $H/etc/debian_version ||
		{ echo "shared root is Debian $(cat $H/etc/debian_version)"; return 1; }
}

# Debian 13's root, inside the host's; with the identity flavour, the
# modprobe hooks `make install VPT_AS=vfio` puts in place (in /run, which
# modprobe reads too: the root is read-only).
deb13_root() {
	test -x $D/usr/bin/qemu-system-x86_64 ||
		{ echo "no QEMU in $D: run tools/deps.sh"; return 1; }
	mount_root $D || return 1
	if [ "$IDENT" = 1 ]; then
		mkdir -p $D/run/modprobe.d &&
		cp /tests/vpt-vfio.conf $D/run/modprobe.d/ || return 1
	fi
	chroot $D qemu-system-x86_64 --version | head -n 1
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
		! grep -i 'KVM VFIO device' $QOUT
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
	! grep -iE 'vfio|error|fail|warn' $QOUT |
		grep -v 'no available reset mechanism'
}

# qemu_client ROOT NAME ACCEL: that root's QEMU, its checks named NAME_*.
qemu_client() {
	QR=$1 QN=$2 ACCEL=$3
	SOCK=$QR/tmp/qmp.sock QOUT=$W/$QN.out
	base=$(pins)
	rm -f $SOCK
	# shellcheck disable=SC2046
	chroot $QR qemu-system-x86_64 $(qemu_args) </dev/null >$QOUT 2>&1 &
	qpid=$!
	start=$(date +%s)
	if ! wait_for $BOUND $qpid test -S $SOCK; then
		not_ok ${QN}_realizes_vfio_devices $QOUT
		for t in bar_sizes_match_device ram_pinned_through_map_dma \
			 firmware_assigns_bars quits_cleanly \
			 reports_no_vfio_errors leaves_nothing_pinned; do
			not_ok ${QN}_$t
		done
		reap $qpid 0
		return
	fi
	check ${QN}_realizes_vfio_devices qemu_realized
	[ "$ACCEL" = kvm ] && check ${QN}_kvm_takes_vfio_groups qemu_kvm_takes_groups
	check ${QN}_bar_sizes_match_device bar_sizes_match
	measure ${QN}_ram_pinned_through_map_dma pinned_at_least "$base" $QEMU_RAM_PAGES
	check ${QN}_firmware_assigns_bars wait_for $BOUND $qpid bars_assigned
	if ! kill -0 $qpid 2>/dev/null; then
		not_ok ${QN}_quits_cleanly $QOUT
		check ${QN}_reports_no_vfio_errors no_vfio_errors
		measure ${QN}_leaves_nothing_pinned pins_back_to "$base"
		return
	fi
	echo "# firmware ran, $(($(date +%s) - start))s after start:"
	sed 's/^/#   /' $W/bars
	check ${QN}_quits_cleanly quit_qemu $qpid
	check ${QN}_reports_no_vfio_errors no_vfio_errors
	measure ${QN}_leaves_nothing_pinned pins_back_to "$base"
}

# ---- driver binding: driverctl, libvirt ----

drv_of() {
	basename "$(readlink /sys/bus/pci/devices/$1/driver 2>/dev/null)" 2>/dev/null
}

# give_back BDF: to the guest's own driver, as before any client took it.
give_back() {
	[ -e /sys/bus/pci/devices/$1/driver ] &&
		echo $1 >/sys/bus/pci/devices/$1/driver/unbind
	echo >/sys/bus/pci/devices/$1/driver_override
	echo $1 >/sys/bus/pci/drivers_probe
	[ "$(drv_of $1)" = $NATIVE ]
}

# bound_to_stack BDF: BDF's driver is the loaded stack's vfio-pci: module
# vfio_pci's driver, of vpt (node_dir is vpt's only) or of the in-tree
# vfio as VPT_STACK says.
bound_to_stack() {
	echo "driver: $(drv_of $1)"
	[ "$(drv_of $1)" = vfio-pci ] &&
		[ -e /sys/module/vfio_pci/drivers/pci:vfio-pci/$1 ] || return 1
	if [ -e /sys/module/vfio/parameters/node_dir ]; then
		echo "module vfio_pci: vpt's (vfio has node_dir)"
		[ "$STACK" = vpt ]
	else
		echo "module vfio_pci: the in-tree one"
		[ "$STACK" = vfio ]
	fi
}

given_back() {
	echo "driver: $(drv_of $1)"
	[ "$(drv_of $1)" = $NATIVE ]
}

driverctl_set() {
	give_back $NET || { echo "$NET not on $NATIVE before"; return 1; }
	chroot $D driverctl --nosave set-override $NET vfio-pci &&
		bound_to_stack $NET
}

driverctl_unset() {
	chroot $D driverctl --nosave unset-override $NET && given_back $NET
}

# driverctl saves an override for its udev rule to apply at boot (udevd:
# there is none here, and the root is read-only): --nosave.  What it does
# to the device is the same.
driverctl_client() {
	check driverctl_set_override_binds_vfio_pci driverctl_set
	check driverctl_unset_override_gives_back driverctl_unset
}

LV_CONF=/run/vpt-libvirtd.conf
# libvirtd, monolithic, in Debian 13's root: its state on tmpfs (the root
# is read-only), no polkit (root on the UNIX socket), no udevd (its
# node-device driver enumerates sysfs through libudev all the same).
libvirt_up() {
	for d in var/lib/libvirt var/cache/libvirt var/log/libvirt; do
		mount -t tmpfs lv $D/$d || return 1
	done
	# The QEMU driver's settings for a guest of a guest: no private
	# /dev (no udev to ask), its log in a file (no virtlogd), no cgroups.
	rm -rf $W/etc-libvirt && cp -a $D/etc/libvirt $W/etc-libvirt &&
		mount -t tmpfs lv $D/etc/libvirt &&
		cp -a $W/etc-libvirt/. $D/etc/libvirt/ || return 1
	cat >>$D/etc/libvirt/qemu.conf <<-EOF
	namespaces = [ ]
	stdio_handler = "file"
	cgroup_controllers = [ ]
	EOF
	cat >$D$LV_CONF <<-EOF
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_outputs = "3:stderr"
	EOF
	t1=$(date +%s)
	chroot $D /usr/sbin/libvirtd -f $LV_CONF >$W/libvirtd.out 2>&1 &
	lvpid=$!
	wait_for $BOUND $lvpid test -S $D/run/libvirt/libvirt-sock &&
		echo "socket after $(($(date +%s) - t1))s" &&
		virsh nodedev-list --cap pci | grep -x "$NET_NODEDEV" &&
		echo "lists $NET after $(($(date +%s) - t1))s"
}

virsh() {
	chroot $D virsh -c qemu:///system "$@"
}

NET_NODEDEV=pci_$(echo $NET | tr :. __)
libvirt_detach() {
	give_back $NET || { echo "$NET not on $NATIVE before"; return 1; }
	virsh nodedev-detach $NET_NODEDEV && bound_to_stack $NET
}

libvirt_reattach() {
	virsh nodedev-reattach $NET_NODEDEV && given_back $NET
}

# A tiny domain (no disk, no firmware run to speak of) with NET as a
# managed hostdev: libvirt detaches it to vfio-pci itself, QEMU realizes
# it, and destroying the domain gives it back.
LV_DOMAIN="<domain type='LV_TYPE'>
  <name>vpt</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/><memballoon model='none'/>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0' bus='0' slot='7' function='0'/></source>
    </hostdev>
  </devices>
</domain>"

libvirt_domain_runs() {
	give_back $NET || { echo "$NET not on $NATIVE before"; return 1; }
	echo "$LV_DOMAIN" | sed "s/LV_TYPE/$([ "$ACCEL" = kvm ] && echo kvm || echo qemu)/" \
		>$D/run/vpt-domain.xml
	t1=$(date +%s)
	virsh create /run/vpt-domain.xml || { cat $D/var/log/libvirt/qemu/vpt.log; return 1; }
	echo "running after $(($(date +%s) - t1))s"
	virsh domstate vpt
	bound_to_stack $NET || return 1
	virsh qemu-monitor-command vpt --hmp 'info pci' | grep -iA3 'Ethernet' 
	cat $D/var/log/libvirt/qemu/vpt.log | tail -n 5
	virsh destroy vpt && given_back $NET
}

libvirt_client() {
	if libvirt_up >$W/check.out 2>&1; then
		ok libvirt_daemon_starts
		sed 's/^/# /' $W/check.out
		measure libvirt_nodedev_detach_binds_vfio_pci libvirt_detach
		measure libvirt_nodedev_reattach_gives_back libvirt_reattach
		measure libvirt_managed_hostdev_domain_runs libvirt_domain_runs
	else
		cat $W/libvirtd.out >>$W/check.out
		not_ok libvirt_daemon_starts $W/check.out
		not_ok libvirt_nodedev_detach_binds_vfio_pci
		not_ok libvirt_nodedev_reattach_gives_back
		not_ok libvirt_managed_hostdev_domain_runs
	fi
	t1=$(date +%s)
	kill $lvpid 2>/dev/null
	reap $lvpid 30
	echo "# libvirtd stopped in $(($(date +%s) - t1))s"
	grep -iE 'error|warn' $W/libvirtd.out | head -n 10 | sed 's/^/# libvirtd: /'
}

# ---- DPDK ----

# dpdk-devbind.py binds by driver name, and DPDK then takes the device
# for a VFIO one only when its sysfs "driver" link names vfio-pci and
# /sys/module/vfio and vfio_pci exist: the in-tree stack, or vpt's
# identity flavour.  Unbind the port, and bind it back the way DPDK's
# users do.
devbind_binds() {
	echo $NET >/sys/bus/pci/devices/$NET/driver/unbind 2>/dev/null
	chroot $DR dpdk-devbind.py -b vfio-pci $NET || return 1
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
	     s && /TX-packets:/ { tx = $2 } END { printf "%d\n", tx }' $TPOUT
}

tx_above() {
	tp "show port stats 0"
	[ "$(tx_packets)" -gt "$1" ]
}

# The port is probed through VFIO.  Which PMD took it, testpmd says on
# "show port info" (on every release; the EAL's probe line is debug output
# from 24.11), but in its stdio buffer: read at exit.
dpdk_probed() {
	grep -E 'VFIO|Probe PCI driver: net_virtio|^Port 0: |rror' $TPOUT
	grep -q 'VFIO support initialized' $TPOUT &&
	grep -q '^Port 0: ' $TPOUT &&
	! grep -E 'Not managed by a supported kernel driver' $TPOUT
}

dpdk_port_virtio() {
	grep -E 'Driver name:' $TPOUT
	grep -q 'Driver name: *net_virtio' $TPOUT
}

dpdk_exited() {
	reap $1 || return 1
	grep -q '^Bye' $TPOUT
}

# dpdk_client ROOT NAME: that root's DPDK, its checks named NAME_*.
# The virtio-net device does not offer VIRTIO_F_ACCESS_PLATFORM: it reads
# guest-physical addresses, bypassing the IOMMU.  So testpmd runs with
# IOVA = PA, which the type1 mappings (IOVA = PA -> its hugepages) match.
dpdk_client() {
	DR=$1 DN=$2 TPOUT=$W/$2-tp.out
	echo 256 >/proc/sys/vm/nr_hugepages
	mkdir -p $DR/dev/hugepages
	mount -t hugetlbfs nodev $DR/dev/hugepages
	check ${DN}_devbind_binds_vfio_pci devbind_binds
	base=$(pins)
	rm -f $W/tp.in
	mkfifo $W/tp.in
	chroot $DR dpdk-testpmd --lcores '0@0,1@0' -n 1 -a $NET --file-prefix $DN \
		--iova-mode=pa --no-telemetry -- -i --forward-mode=txonly \
		--total-num-mbufs=2048 \
		--nb-cores=1 <$W/tp.in >$TPOUT 2>&1 &
	tpid=$!
	exec 3>$W/tp.in
	if wait_for $BOUND $tpid grep -q 'testpmd> ' $TPOUT; then
		if dpdk_probed >$W/check.out 2>&1; then
			ok ${DN}_testpmd_probes_port
			sed 's/^/# /' $W/check.out
			tp "show port info 0"
			tp "start tx_first"
			check ${DN}_testpmd_transmits \
				wait_for $BOUND $tpid tx_above $TX_WANT
			echo "# testpmd TX-packets: $(tx_packets)"
		else
			not_ok ${DN}_testpmd_probes_port $TPOUT
			not_ok ${DN}_testpmd_transmits
		fi
		tp stop
		tp quit
		exec 3>&-
		check ${DN}_testpmd_exits_cleanly dpdk_exited $tpid
		check ${DN}_testpmd_port_is_net_virtio dpdk_port_virtio
	else
		exec 3>&-
		not_ok ${DN}_testpmd_probes_port $TPOUT
		not_ok ${DN}_testpmd_transmits
		not_ok ${DN}_testpmd_exits_cleanly
		not_ok ${DN}_testpmd_port_is_net_virtio
		reap $tpid 0
	fi
	grep -A3 'Accumulated forward statistics' $TPOUT | sed 's/^/# /'
	measure ${DN}_leaves_nothing_pinned pins_back_to "$base"
	# Its hugepage files go with the mount: the next DPDK gets them.
	umount $DR/dev/hugepages
}

# ---- the identity flavour beside the in-tree vfio ----

# The in-tree modules (run.sh's /kmod, in load order) not loaded yet,
# as "PATH NAME" lines: KVM may have loaded irqbypass.
intree_mods() {
	for m in /kmod/*.ko; do
		mname=$(basename "$m" .ko | sed 's/^[0-9]*-//' | tr - _)
		[ -d /sys/module/$mname ] || echo "$m $mname"
	done
}

# release_stack: every device unbound, vpt's modules out.
release_stack() {
	for bdf in $DEVICES; do
		[ -e /sys/bus/pci/devices/$bdf/driver ] &&
			echo $bdf >/sys/bus/pci/devices/$bdf/driver/unbind
		echo >/sys/bus/pci/devices/$bdf/driver_override
	done
	rmmod vfio_pci && rmmod vfio
}

# intree_load UNTIL: the in-tree modules, in order, up to (without) UNTIL.
intree_load() {
	while read -r m mname; do
		[ "$mname" = "$1" ] && break
		[ -d /sys/module/$mname ] && continue
		insmod $m || return 1
		INTREE="$mname $INTREE"
	done <$W/intree
}

intree_unload() {
	for mname in $INTREE; do
		rmmod $mname || return 1
	done
	INTREE=""
}

# The in-tree core is in, vfio_pci is not: modprobe vfio-pci (which
# driverctl and libvirt run) must refuse and say why, not fail on
# "Unknown symbol", and leave the in-tree core as it was.
refused_beside_core() {
	if chroot $D /sbin/modprobe vfio-pci >$W/mp.out 2>&1; then
		cat $W/mp.out
		echo "modprobe vfio-pci succeeded beside the in-tree vfio"
		return 1
	fi
	cat $W/mp.out
	grep -q 'the in-tree vfio is loaded' $W/mp.out &&
		! grep -qi 'unknown symbol' $W/mp.out &&
		[ ! -e /sys/module/vfio_pci ] &&
		[ ! -e /sys/module/vfio/parameters/node_dir ]
}

# The whole in-tree stack is in: vpt's vfio.ko and vfio-pci.ko cannot be
# inserted (the names are taken), and the in-tree stack stays.
refused_beside_stack() {
	u=/lib/modules/$(uname -r)/updates
	for m in vfio vfio-pci; do
		if insmod $u/$m.ko 2>$W/ins.out; then
			echo "insmod $m.ko succeeded beside the in-tree vfio"
			return 1
		fi
		echo "insmod $m.ko: $(cat $W/ins.out)"
	done
	chroot $D /sbin/modprobe vfio-pci >$W/mp.out 2>&1
	echo "modprobe vfio-pci: exit $?: $(cat $W/mp.out)"
	[ ! -e /sys/module/vfio/parameters/node_dir ] &&
		[ -e /sys/module/vfio_pci_core ]
}

# The in-tree stack unloaded, vpt's loads by name again and takes the
# devices; the kernel said nothing bad on the way.
reloads_clean() {
	chroot $D /sbin/modprobe vfio-pci || return 1
	[ -e /sys/module/vfio/parameters/node_dir ] ||
		{ echo "vfio_pci loaded, but not vpt's"; return 1; }
	for bdf in $DEVICES; do
		echo vfio-pci >/sys/bus/pci/devices/$bdf/driver_override
		echo $bdf >/sys/bus/pci/drivers_probe
		[ "$(drv_of $bdf)" = vfio-pci ] ||
			{ echo "$bdf not bound again"; return 1; }
	done
	! dmesg | tail -n +$((DMESG0 + 1)) | grep -E 'Oops|BUG:|WARNING:|Call Trace'
}

conflict_client() {
	INTREE="" DMESG0=$(dmesg | wc -l)
	if ! release_stack >$W/check.out 2>&1 || ! intree_mods >$W/intree ||
	   ! intree_load vfio_pci_core >>$W/check.out 2>&1; then
		not_ok identity_setup_beside_intree_vfio $W/check.out
		return
	fi
	measure identity_refused_beside_intree_vfio_core refused_beside_core
	if intree_load "" >$W/check.out 2>&1; then
		measure identity_refused_beside_intree_vfio_stack refused_beside_stack
	else
		not_ok identity_refused_beside_intree_vfio_stack $W/check.out
	fi
	check identity_unloads_intree_vfio intree_unload
	check identity_reloads_after_intree_vfio reloads_clean
}

echo "TAP version 13"
echo "# stack $STACK$([ "$IDENT" = 1 ] && echo ", identity flavour")"
# timed LABEL COMMAND...: COMMAND, and how long it took.
timed() {
	l=$1 t0=$(date +%s)
	shift
	"$@"
	echo "# $l: $(($(date +%s) - t0))s"
}
BYNAME="finds VFIO by name: needs the identity flavour (VPT_AS=vfio)"
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
	timed "QEMU 7.2 ($ACCEL)" qemu_client $H qemu $ACCEL
	DEB13=0
	if deb13_root >$W/check.out 2>&1; then
		ok clients_deb13_root_shared
		sed 's/^/# /' $W/check.out
		DEB13=1
		[ "$ACCEL" = kvm ] && timed "QEMU 10 (kvm)" qemu_client $D qemu10_kvm kvm
		timed "QEMU 10 (tcg)" qemu_client $D qemu10_tcg tcg
	else
		not_ok clients_deb13_root_shared $W/check.out
	fi
	byname=1
	[ "$STACK" = vpt ] && [ "$IDENT" = 0 ] && byname=0
	if [ $byname = 0 ]; then
		skip dpdk_client "DPDK $BYNAME"
	else
		timed "DPDK 22.11" dpdk_client $H dpdk
	fi
	if [ $DEB13 = 1 ] && [ $byname = 1 ]; then
		timed driverctl driverctl_client
		timed libvirt libvirt_client
		timed "DPDK 24.11" dpdk_client $D dpdk24
	elif [ $DEB13 = 1 ]; then
		skip deb13_binding_clients "driverctl, libvirt and DPDK $BYNAME"
	fi
	if [ "$STACK" = vpt ] && [ "$IDENT" = 1 ] && [ $DEB13 = 1 ]; then
		timed "identity beside in-tree" conflict_client
	else
		skip identity_conflict_checks "vpt's identity flavour only"
	fi
fi
echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ $fail -eq 0 ]
