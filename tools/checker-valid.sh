#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Stand-in for the kernel's scripts/checker-valid.sh, which kbuild runs
# for C=1 from 6.13 on and which Debian's linux-headers packages leave
# out; tools/deps.sh puts it where kbuild looks.  Prints 1 when the
# checker (sparse) runs on the flags kbuild gives it, 0 otherwise.
if "$@" -E /dev/null >/dev/null 2>&1; then
	echo 1
else
	echo 0
fi
