// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_teardown_test - one user's slow teardown does not stall others.
 *
 * A VMM thread sits in VFIO_IOMMU_MAP_DMA with its pin blocked in GUP (a
 * userfaultfd range that is only resolved at the end), and another of
 * its threads closes its group fd, whose release then waits for the
 * mapping thread.  Meanwhile a second user, with another device's group
 * in a container of its own, must still be able to open, attach and
 * close.  The check is on state, not time: the second user's close has
 * to complete while the first MAP_DMA is provably still blocked (its
 * fault is unresolved).  The 20 s limits only stop a broken kernel from
 * hanging the run; they decide nothing on a working one.
 *
 * Runs against vpt and upstream vfio alike (VPT_STACK=vfio).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define PAGE		4096UL
#define UFFD_PAGES	4
#define IOVA		0x100000ULL
#define GUARD_S		20

struct blocked_map {
	int container;
	void *addr;
	atomic_bool done;
	int ret;
};

static void *map_thread(void *arg)
{
	struct blocked_map *m = arg;

	m->ret = vpt_map(m->container, IOVA, m->addr, UFFD_PAGES * PAGE,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	atomic_store(&m->done, true);
	return NULL;
}

struct closer {
	int fd;
	pid_t tid;
	atomic_bool done;
};

static void *close_thread(void *arg)
{
	struct closer *c = arg;

	c->tid = syscall(SYS_gettid);
	close(c->fd);
	atomic_store(&c->done, true);
	return NULL;
}

struct second_user {
	const char *bdf;
	atomic_bool done;
	int ret;
};

/* Open, attach (SET_CONTAINER + SET_IOMMU), get the device, close. */
static void *second_user_thread(void *arg)
{
	struct second_user *s = arg;
	struct vpt_dev d;

	s->ret = vpt_dev_open(&d, s->bdf);
	if (!s->ret)
		vpt_dev_close(&d);
	atomic_store(&s->done, true);
	return NULL;
}

/* The scheduler state letter of one of this process's threads, or 0. */
static char thread_state(pid_t tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (vpt_read_file(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait up to GUARD_S for a flag; true if it was set. */
static bool wait_flag(atomic_bool *flag)
{
	int i;

	for (i = 0; i < GUARD_S * 100; i++) {
		if (atomic_load(flag))
			return true;
		usleep(10000);
	}
	return false;
}

TEST(group_close_blocked_behind_gup_does_not_stall_other_groups)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = { 0 };
	struct second_user other = { .bdf = VPT_IVSHMEM_BDF };
	struct blocked_map m = { 0 };
	struct closer cl = { 0 };
	pthread_t mt, ct, ot;
	struct uffd_msg msg;
	struct pollfd pfd;
	struct vpt_dev d;
	bool other_done, blocked, joined_other = false;
	int uffd, i;
	char st = 0;

	ASSERT_NE(vpt_iommu_group(VPT_EDU_BDF),
		  vpt_iommu_group(VPT_IVSHMEM_BDF));
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	/* Only the group fd holds the container in the end. */
	close(d.device);
	d.device = -1;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(goto out_dev, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	m.addr = mmap(NULL, UFFD_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m.addr);
	reg.range.start = (uintptr_t)m.addr;
	reg.range.len = UFFD_PAGES * PAGE;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	/* 1. MAP_DMA blocks in GUP on the first, missing page. */
	m.container = d.container;
	ASSERT_EQ(0, pthread_create(&mt, NULL, map_thread, &m));
	pfd.fd = uffd;
	pfd.events = POLLIN;
	for (i = 0; i < GUARD_S * 10; i++) {
		if (poll(&pfd, 1, 100) == 1 || atomic_load(&m.done))
			break;
	}
	if (atomic_load(&m.done) && m.ret == -EFAULT) {
		/*
		 * The pin faulted without FAULT_FLAG_ALLOW_RETRY, which
		 * userfaultfd answers with SIGBUS: it fails at once instead
		 * of waiting.  So does vpt's pin_user_pages_fast() with
		 * FOLL_LONGTERM on 6.1 (GUP later learnt to retry there),
		 * and upstream type1's pin_user_pages_remote() without a
		 * "locked" argument.
		 */
		pthread_join(mt, NULL);
		SKIP(goto out_uffd,
		     "this stack's pin cannot wait on userfaultfd (EFAULT)");
	}
	ASSERT_FALSE(atomic_load(&m.done)) TH_LOG("MAP_DMA returned %d", m.ret);
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* 2. Another thread closes the group fd; its release must wait. */
	close(d.container);
	d.container = -1;
	cl.fd = d.group;
	d.group = -1;
	ASSERT_EQ(0, pthread_create(&ct, NULL, close_thread, &cl));
	for (i = 0; i < GUARD_S * 100; i++) {
		st = cl.tid ? thread_state(cl.tid) : 0;
		if (st == 'D' || atomic_load(&cl.done))
			break;
		usleep(10000);
	}
	EXPECT_EQ('D', st) TH_LOG("the group release did not block (%c)",
				  st ? st : '?');

	/* 3. A second user of another group opens, attaches and closes. */
	ASSERT_EQ(0, pthread_create(&ot, NULL, second_user_thread, &other));
	other_done = wait_flag(&other.done);
	/* The fault is not resolved yet, so MAP_DMA must still be inside. */
	blocked = !atomic_load(&m.done);
	EXPECT_TRUE(other_done)
		TH_LOG("second group stalled behind the first's teardown");
	EXPECT_TRUE(blocked);
	if (other_done) {
		pthread_join(ot, NULL);
		joined_other = true;
		EXPECT_EQ(0, other.ret);
	}

	/* 4. Resolve every page; everything completes. */
	for (i = 0; i < UFFD_PAGES; i++) {
		zero.range.start = (uintptr_t)m.addr + i * PAGE;
		zero.range.len = PAGE;
		zero.mode = 0;
		if (ioctl(uffd, UFFDIO_ZEROPAGE, &zero) && errno != EEXIST)
			TH_LOG("UFFDIO_ZEROPAGE page %d: %s", i,
			       strerror(errno));
	}
	pthread_join(mt, NULL);
	pthread_join(ct, NULL);
	if (!joined_other)
		pthread_join(ot, NULL);
	/* The map raced the close; either outcome is fine here. */
	TH_LOG("blocked MAP_DMA returned %d", m.ret);
out_uffd:
	close(uffd);
	munmap(m.addr, UFFD_PAGES * PAGE);
out_dev:
	vpt_dev_close(&d);
}

TEST_HARNESS_MAIN
