#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# table.sh CONSOLE KVER AW: set the benchmark rows of the in-tree vfio
# stack and of vpt, from one VM's console, side by side with the ratio
# vpt/in-tree.  Exits non-zero if either stack's run did not finish.
set -u
log=$1 kver=$2 aw=$3

awk -v kver="$kver" -v aw="$aw" '
/=== VPT-BENCH [a-z]+ ===/ { stack = $3; next }
/=== VPT-BENCH-END / { split($4, r, "="); rc[$3] = r[2]; stack = ""; next }
stack != "" && /^ROW / {
	if (!($2 in seen)) { order[++n] = $2; seen[$2] = 1 }
	val[stack, $2] = $3; unit[$2] = $4
}
stack != "" && /^# / && !/bench done/ { note[++m] = stack ": " substr($0, 3) }
END {
	printf "Benchmark, kernel %s, aw-bits %d (medians; TCG, so ratios matter)\n", kver, aw
	printf "%-30s %14s %14s %7s\n", "row", "in-tree", "vpt", "ratio"
	for (i = 1; i <= n; i++) {
		k = order[i]; a = val["vfio", k]; b = val["vpt", k]
		ratio = (a != "" && b != "" && a > 0) ? sprintf("%.2f", b / a) : "-"
		printf "%-30s %10s %-3s %10s %-3s %7s\n", k,
		       a == "" ? "-" : a, unit[k], b == "" ? "-" : b, unit[k], ratio
	}
	for (i = 1; i <= m; i++) print "  note: " note[i]
	if (rc["vfio"] == "" || rc["vpt"] == "") { print "bench: a stack did not finish"; exit 1 }
}' "$log"
