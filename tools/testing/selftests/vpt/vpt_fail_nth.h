/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_fail_nth.h - fault injection for the selftests, through the
 * calling thread's /proc/self/task/<tid>/fail-nth (failslab and
 * fail_page_alloc; the debug kernel has them, Debian's does not).
 */
#ifndef VPT_FAIL_NTH_H
#define VPT_FAIL_NTH_H

#include <stdbool.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include "vpt_util.h"

/*
 * Let fail-nth fail sleeping slab and order-0 page allocations, quietly.
 * The fd of this thread's fail-nth, or -ENOENT without fault injection.
 */
static inline int vpt_fail_nth_open(void)
{
	static const char *const attrs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "0" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "fail_page_alloc/verbose", "0" },
	};
	char path[96];
	unsigned int i;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -ENOENT;
	if (access("/sys/kernel/debug/failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s",
			 attrs[i][0]);
		if (vpt_sysfs_write(path, attrs[i][1])) {
			close(fd);
			return -ENOENT;
		}
	}
	return fd;
}

/* Arm: the n-th allocation from now fails. */
static inline void vpt_fail_nth_arm(int nth, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(nth, buf, len, 0) != len)
		perror("fail-nth");
}

/* Disarm; true if the failure was injected (the count reached zero). */
static inline bool vpt_fail_nth_fired(int nth)
{
	char buf[16] = "";
	ssize_t n = pread(nth, buf, sizeof(buf) - 1, 0);

	vpt_fail_nth_arm(nth, 0);
	return n > 0 && atoi(buf) == 0;
}

#endif /* VPT_FAIL_NTH_H */
