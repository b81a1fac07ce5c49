#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# parse-console.sh CONSOLE LABEL DEMO QEMU_RC TEST...
#
# Count the kselftest results of one VM run from its serial console log:
# each test binary's "# Totals:" line, a failure for every binary that
# printed none or exited non-zero without reporting a failure, and one
# more for a kernel log that reports a problem or a run that never
# finished.  Prints the per-test lines and "LABEL: N passed, N failed,
# N skipped"; exits non-zero when anything failed.
set -u

log=$1 label=$2 demo=$3 qrc=$4
shift 4

# Kernel problems anywhere in the console, including the final dmesg and
# the kmemleak report the debug kernel prints after the tests (matched by
# its entries: kmemleak's own boot and scan lines are not problems).
# Lockdep reports start with "WARNING:"; its boot banner is no problem.
BAD='(BUG:|WARNING:|Oops|general protection fault|KASAN:|UBSAN:|unreferenced object|possible recursive locking|possible circular locking|lockdep is turned off|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked|Kernel panic|RCU stall|list_add corruption|refcount_t:)'

if [ "$demo" = 1 ]; then
	sed -n '/=== VPT-TEST vpt_demo ===/,/=== VPT-TEST-END/p' "$log" |
		sed '1d;$d'
fi

awk -v label="$label" -v qrc="$qrc" -v demo="$demo" -v tests="$*" -v bad="$BAD" '
BEGIN { n = split(tests, want, " "); pass = fail = skip = 0 }
/=== VPT-BOOT/ { booted = 1 }
/=== VPT-MODULES-FAILED/ { problem = problem " modules-did-not-load" }
/=== VPT-RMMOD-FAILED/ { problem = problem " modules-did-not-unload" }
/=== VPT-DONE/ { done = 1 }
/=== VPT-TEST [^ ]+ ===/ { cur = $3; totals[cur] = ""; next }
/=== VPT-TEST-END / {
	split($4, r, "="); rc[cur] = r[2]; seen[cur] = 1; cur = ""; next
}
cur != "" && /^# Totals: / { totals[cur] = $0 }
cur != "" && /^(not )?ok [0-9]+ / && !demo { print "  " cur ": " $0 }
$0 ~ bad { problem = problem " kernel-log"; badline[++nbad] = $0 }
END {
	for (i = 1; i <= n; i++) {
		t = want[i]
		if (!seen[t]) {
			printf "  %s: no result (run did not finish)\n", t
			fail++; continue
		}
		if (demo) {
			if (rc[t] == 0) pass++; else { fail++; printf "  %s: exit %s\n", t, rc[t] }
			continue
		}
		if (totals[t] == "") {
			printf "  %s: no totals (crashed?), exit %s\n", t, rc[t]
			fail++; continue
		}
		split(totals[t], f, /[ :]+/)
		# f: # Totals pass N fail N xfail N xpass N skip N error N
		p = f[4] + f[8]; x = f[6] + f[10] + f[14]; s = f[12]
		pass += p; fail += x; skip += s
		if (rc[t] != 0 && x == 0) {
			printf "  %s: exit %s with no failed test\n", t, rc[t]; fail++
		}
	}
	if (!booted) problem = problem " no-boot"
	if (!done) problem = problem " did-not-finish(qemu-exit=" qrc ")"
	if (problem != "") {
		printf "  %s: run problem:%s\n", label, problem
		for (i = 1; i <= nbad && i <= 20; i++) print "    | " badline[i]
		fail++
	}
	printf "%s: %d passed, %d failed, %d skipped\n", label, pass, fail, skip
	exit fail ? 1 : 0
}' "$log"
