#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-sizing-trace.sh TRACEFILE AWBITS SLOT...
#
# Read QEMU's trace of a test run (events pci_cfg_write and
# pci_update_mappings_add, QEMU 7.2 format:
#   pci_cfg_write <name> <bus>:<slot>.<fn> @0x<off> <- 0x<val>
#   pci_update_mappings_add <name> <bus>:<slot>.<fn> <bar>,0x<addr>+0x<size>
# optionally prefixed "<pid>@<time>:") and check, for the devices at the
# given slots (bound to vpt-pci; "04" means 00:04.0, "01:00" 01:00.0):
#
#  1. Every write of a sizing pattern to a BAR register (0x10-0x24: a
#     value of 0xfffff000 or more) happens while the last PCI_COMMAND value
#     written to that device has memory and I/O decode clear (nothing
#     written yet counts as clear).  For the ROM BAR (0x30: address bits
#     all ones) the same holds, except that a write with the ROM enable
#     bit clear is harmless even with memory decode on: such a ROM BAR
#     decodes nothing (SeaBIOS sizes ROMs this way).
#  2. No pci_update_mappings_add places any BAR of those devices (ROM
#     included) at or above 2^AWBITS.
#  3. vpt sized them at least once itself.  Firmware sizes every BAR
#     before it first writes PCI_COMMAND; the guest kernel's enumeration
#     is the first run of sizing writes to the device, starting at BAR 0,
#     after that; any later run of sizing writes (a run ends when another
#     device is sized) is vpt's.
#
# Prints one line, "check-sizing-trace: PASS|FAIL: ...", and exits 0 or 1;
# the offending trace lines (at most 10) go to stderr.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 TRACEFILE AWBITS SLOT..." >&2
	exit 2
fi
trace=$1 aw=$2
shift 2
[ -r "$trace" ] || { echo "check-sizing-trace: FAIL: cannot read $trace"; exit 1; }
case $aw in
''|*[!0-9]*) echo "check-sizing-trace: FAIL: bad aw-bits '$aw'"; exit 1 ;;
esac

# Normalise the slots to the trace's "bb:ss.f".
slots=
for s in "$@"; do
	s=$(echo "$s" | tr 'A-F' 'a-f')
	s=${s#0000:}
	case $s in
	??) s=00:$s.0 ;;
	??:??) s=$s.0 ;;
	??:??.?) ;;
	*) echo "check-sizing-trace: FAIL: bad slot '$s'"; exit 1 ;;
	esac
	slots="$slots $s"
done

awk -v aw="$aw" -v slots="$slots" '
function hex(s,    v, i, c) {
	sub(/^0[xX]/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", tolower(substr(s, i, 1)))
		if (!c)
			return -1
		v = v * 16 + c - 1
	}
	return v
}
function complain(what) {
	bad++
	if (bad <= 10)
		printf "line %d: %s: %s\n", NR, what, $0 > "/dev/stderr"
}
BEGIN {
	n = split(slots, list, " ")
	for (i = 1; i <= n; i++)
		want[list[i]] = 1
	limit = 1		# 2^aw, exact in a double; no pow() needed
	for (i = 0; i < aw; i++)
		limit *= 2
	bad = 0; vpt = 0; maps = 0; lastdev = ""
}
/(^|[^a-z_])pci_cfg_write / {
	if (NF < 5 || $(NF - 1) != "<-")
		next
	dev = $(NF - 3); off = hex(substr($(NF - 2), 2)); val = hex($NF)
	if (off < 0 || val < 0)
		next
	if (off == 4) {			# PCI_COMMAND (and STATUS if dword)
		cmd[dev] = val % 65536
		ncmd[dev]++
		next
	}
	isbar = off >= 16 && off <= 36 && off % 4 == 0 && val >= 4294963200
	isrom = off == 48 && int(val / 2048) == 2097151
	if (!isbar && !isrom)
		next
	decode = cmd[dev] % 4			# memory | I/O
	memon = int(cmd[dev] / 2) % 2
	if (dev in want) {
		if (isbar && decode)
			complain("BAR sized with decoding on (command " \
				 sprintf("0x%x", cmd[dev]) ")")
		if (isrom && memon && val % 2)
			complain("ROM BAR sized with memory decode on")
	}
	# Who is sizing: runs of sizing writes to one device.
	if (dev != lastdev) {
		if (ncmd[dev] && !kernel[dev] && off == 16) {
			kernel[dev] = 1		# the guest kernel enumerating
			owner[dev] = "kernel"
		} else if (kernel[dev]) {
			owner[dev] = "vpt"
		} else {
			owner[dev] = "firmware"
		}
		lastdev = dev
	}
	if ((dev in want) && owner[dev] == "vpt")
		vpt++
}
/(^|[^a-z_])pci_update_mappings_add / {
	dev = $(NF - 1)
	if (!(dev in want) || split($NF, f, /[,+]/) != 3)
		next
	maps++
	addr = hex(f[2]); size = hex(f[3])
	if (addr < 0 || size < 0 || addr + size - 1 >= limit)
		complain("BAR " f[1] " mapped at or above 2^" aw)
}
END {
	if (bad)
		printf "check-sizing-trace: FAIL: %d violation(s) on%s\n", bad, slots
	else if (!vpt)
		printf "check-sizing-trace: FAIL: no sizing by vpt seen on%s\n", slots
	else
		printf "check-sizing-trace: PASS: %d sizing writes by vpt on%s, all with decoding off; %d BAR mappings below 2^%d\n", vpt, slots, maps, aw
	exit (bad || !vpt) ? 1 : 0
}
' "$trace"
