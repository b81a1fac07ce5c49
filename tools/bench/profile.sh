#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# profile.sh STACK [DEPTH]: where one stack's huge-page MAP_DMA spends its
# time, from inside the bench VM (run.sh --bench --profile).  Traces the
# map ioctl with ftrace's function_graph tracer, DEPTH calls deep (4 by
# default), while vpt_bench --map maps and unmaps each huge-page row five
# times, and prints per row and per callee the number of calls and the
# time spent, the tracer's own overhead included:
#   PROF <row> <depth> <function> <calls> <total us>
# Depth 1 is the map ioctl's handler: in-tree's vfio_dma_do_map, vpt's
# vpt_iommu_map_dma.  Then the same for the device fd's read and write
# handlers over vpt_bench --rw (row "rw").  STACK is vfio or vpt.
set -u
stack=$1 depth=${2:-4}
T=/sys/kernel/tracing
[ -e $T/current_tracer ] || mount -t tracefs tracefs $T ||
	{ echo "# profile: no tracefs"; exit 1; }
if [ "$stack" = vfio ]; then
	root=vfio_dma_do_map
	grep -qx "$root" $T/available_filter_functions ||
		root=vfio_iommu_type1_ioctl
else
	root=vpt_iommu_map_dma
fi

echo 0 > $T/tracing_on
echo nop > $T/current_tracer
echo 16384 > $T/buffer_size_kb
echo "$root" > $T/set_graph_function ||
	{ echo "# profile: cannot trace $root"; exit 1; }
echo "$depth" > $T/max_graph_depth
echo function_graph > $T/current_tracer
echo funcgraph-tail > $T/trace_options
echo nofuncgraph-irqs > $T/trace_options 2>/dev/null

# summarise ROW: the trace as PROF lines, per depth and callee.
summarise() {
	# Lines: "cpu) [duration] | <indent>name();" for a leaf, and
	# "cpu) duration | <indent>} /* name */" where a call returns.
	awk -v row="$1" '
	/\|/ {
		split($0, f, "|"); left = f[1]; right = substr($0, length(left) + 2)
		if (!match(left, /[0-9]+[.][0-9]+ us/)) next
		us = substr(left, RSTART, RLENGTH - 3) + 0
		match(right, /^ */); d = int((RLENGTH - 1) / 2)
		name = right; sub(/^ */, "", name)
		if (name ~ /^} \/\* /) { sub(/^} \/\* /, "", name); sub(/ \*\/.*/, "", name) }
		else if (name ~ /\(\);/) sub(/\(\);.*/, "", name)
		else next
		sub(/ \[.*\]$/, "", name)
		n[d, name]++; t[d, name] += us; if (!((d, name) in seen)) { seen[d, name] = 1; key[++k] = d SUBSEP name }
	}
	END {
		for (i = 1; i <= k; i++) { split(key[i], p, SUBSEP)
			printf "PROF %s %d %s %d %.1f\n", row, p[1], p[2], n[key[i]], t[key[i]] }
	}' $T/trace | sort -k3,3n -k6,6nr
}

for r in "thp 256" "hugetlb 256" "hugetlb1g 1024"; do
	set -- $r
	echo > $T/trace
	echo 1 > $T/tracing_on
	/tests/vpt_bench --map "$1" "$2" | sed "s/^/# $stack: /"
	echo 0 > $T/tracing_on
	summarise "map_${2}M_$1"
done

# The read/write path: the fd's read and write handlers, every callee
# DEPTH + 4 calls deep, over vpt_bench --rw (config space, edu BAR0 and
# ivshmem BAR2, 4 and 64 bytes).
if [ "$stack" = vfio ]; then
	roots="vfio_device_fops_read vfio_device_fops_write"
else
	roots="vpt_device_fop_read vpt_device_fop_write"
fi
echo nop > $T/current_tracer
echo "$roots" > $T/set_graph_function ||
	{ echo "# profile: cannot trace $roots"; exit 1; }
echo $((depth + 4)) > $T/max_graph_depth
echo function_graph > $T/current_tracer
echo > $T/trace
echo 1 > $T/tracing_on
/tests/vpt_bench --rw | sed "s/^/# $stack: /"
echo 0 > $T/tracing_on
summarise rw
echo nop > $T/current_tracer
echo > $T/set_graph_function
