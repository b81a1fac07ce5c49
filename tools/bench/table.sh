#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# table.sh CONSOLE KVER AW: set the benchmark rows of the in-tree vfio
# stack and of vpt, from one VM's console, side by side with the ratio
# vpt/in-tree and the ratio issue 6 asks for.  A stack measured more
# than once (run.sh's full runs: four each, ABBA BAAB) gets the lowest
# of its runs' medians: a busy host only ever adds time, so the lowest
# is the one least disturbed.  The spread column says how firm that is:
# how far the second lowest lies above the lowest, the larger of the
# two stacks'.  A ratio above its target by less than that is marked
# "noise", not MISS: one more run could move it by as much.  Exits
# non-zero if either stack's run did not finish.
set -u
log=$1 kver=$2 aw=$3

awk -v kver="$kver" -v aw="$aw" '
function best(stack, k,    i, n, v) {
	n = 0
	for (i = 1; i <= cnt[stack, k]; i++)
		if (vals[stack, k, i] ~ /^[0-9]+([.][0-9]*)?$/ &&
		    (!n++ || vals[stack, k, i] + 0 < v))
			v = vals[stack, k, i] + 0
	if (!n)
		return cnt[stack, k] ? vals[stack, k, 1] : "-"
	return sprintf("%.3f", v)
}
# (second lowest - lowest) / lowest of one stack'"'"'s runs of row k; 0 if
# fewer than two runs.
function spread(stack, k,    i, lo, lo2, v) {
	lo = lo2 = -1
	for (i = 1; i <= cnt[stack, k]; i++) {
		v = vals[stack, k, i]
		if (v !~ /^[0-9]+([.][0-9]*)?$/ || v + 0 <= 0)
			continue
		v += 0
		if (lo < 0 || v < lo) { lo2 = lo; lo = v }
		else if (lo2 < 0 || v < lo2) lo2 = v
	}
	return lo2 > 0 ? (lo2 - lo) / lo : 0
}
/=== VPT-BENCH [a-z]+ ===/ { stack = $3; next }
/=== VPT-BENCH-END / { split($4, r, "="); rc[$3] = r[2]; stack = ""; next }
stack != "" && /^ROW / {
	if (!($2 in seen)) { order[++n] = $2; seen[$2] = 1 }
	vals[stack, $2, ++cnt[stack, $2]] = $3; unit[$2] = $4
}
stack != "" && /^# / && !/bench done/ {
	line = stack ": " substr($0, 3)
	if (!(line in noted)) { note[++m] = line; noted[line] = 1 }
}
END {
	printf "Benchmark, kernel %s, aw-bits %d (medians; TCG, so ratios matter)\n", kver, aw
	printf "%-30s %14s %14s %7s %7s %7s\n", "row", "in-tree", "vpt", "ratio", "target", "spread"
	num = "^[0-9]+([.][0-9]*)?$"
	for (i = 1; i <= n; i++) {
		k = order[i]; a = best("vfio", k); b = best("vpt", k)
		# "n/a": the stack cannot do it (yet); no ratio then.
		ratio = (a ~ num && b ~ num && a > 0) ? sprintf("%.2f", b / a) : "-"
		# Issue 6: huge-page maps twice as fast, unmaps three times.
		target = 1.0
		if (k ~ /^map_[0-9]+M_(thp|hugetlb|hugetlb1g)$/) target = 0.5
		if (k ~ /^unmap_[0-9]+M_(thp|hugetlb|hugetlb1g)$/) target = 0.33
		sp = spread("vfio", k); if (spread("vpt", k) > sp) sp = spread("vpt", k)
		mark = ""
		if (ratio != "-" && ratio + 0 > target)
			mark = ratio + 0 <= target * (1 + sp) ? "  noise" : "  MISS"
		printf "%-30s %10s %-3s %10s %-3s %7s %7.2f %6.1f%%%s\n", k, a,
		       unit[k], b, unit[k], ratio, target, sp * 100, mark
	}
	for (i = 1; i <= m; i++) print "  note: " note[i]
	if (rc["vfio"] == "" || rc["vpt"] == "") { print "bench: a stack did not finish"; exit 1 }
}' "$log"
