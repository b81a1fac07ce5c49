// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_concurrency_test - vpt's fds used from several threads at once:
 * mapping and unmapping overlapping and disjoint IOVA ranges, GET_INFO,
 * region reads and writes, SET_IRQS and group attach/detach running
 * beside them, and fds closed while other threads are inside ioctls on
 * them.
 *
 * The checks do not depend on the interleaving: every successful
 * MAP_DMA is in the IOMMU exactly once, so what the threads mapped minus
 * what their unmaps returned is exactly what a final UNMAP_ALL returns,
 * and the pins outstanding match it; each thread's region writes read
 * back; afterwards pins, locked_vm and interrupt handlers are back at
 * their baseline and the device still moves data.  On the debug kernel
 * lockdep watches the lock order.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define PAGE		4096UL
#define SLOTS		64		/* pages of IOVA window and buffer */
#define IOVA_BASE	0x100000ULL
#define MAPPERS		4
#define ITERS		1500
#define RW		3		/* VFIO_DMA_MAP_FLAG_READ | _WRITE */

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

FIXTURE(conc) {
	struct vpt_dev d;
	uint8_t *buf;
	long long pins, lck;
	int irqs;
	int ivs_group;
	atomic_bool stop;
	pthread_barrier_t start;
	/* per mapper: bytes mapped and bytes its unmaps returned */
	uint64_t mapped[MAPPERS], unmapped[MAPPERS];
	unsigned long eexist, einval;
	int helper_errors;
	char helper_msg[160];
};

FIXTURE_SETUP(conc)
{
	self->pins = vpt_pins_now();
	self->lck = vpt_status_kb("VmLck");
	self->irqs = vpt_irq_handlers();
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
	self->ivs_group = vpt_open_group(vpt_iommu_group(VPT_IVSHMEM_BDF));
	ASSERT_LE(0, self->ivs_group);
	self->buf = mmap(NULL, SLOTS * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(conc)
{
	if (self->ivs_group >= 0)
		close(self->ivs_group);
	vpt_dev_close(&self->d);
}

struct worker {
	struct _test_data_conc *self;
	int id;
};

static void helper_error(struct _test_data_conc *self, const char *what, int err)
{
	if (!__atomic_fetch_add(&self->helper_errors, 1, __ATOMIC_SEQ_CST))
		snprintf(self->helper_msg, sizeof(self->helper_msg),
			 "%s: %s", what, strerror(-err));
}

/*
 * Map 1-4 pages at a random slot of a window shared by all mappers (so
 * maps collide: -EEXIST) and unmap random ranges (splitting a mapping:
 * -EINVAL; covering several: their sum).  Only the amounts that went in
 * and came out are kept.
 */
static void *mapper(void *arg)
{
	struct worker *w = arg;
	struct _test_data_conc *self = w->self;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (w->id + 1), got;
	unsigned int i, slot, pages;
	int ret;

	pthread_barrier_wait(&self->start);
	for (i = 0; i < ITERS; i++) {
		slot = next_rand(&s) % SLOTS;
		pages = 1 + next_rand(&s) % 4;
		if (slot + pages > SLOTS)
			pages = SLOTS - slot;
		if (next_rand(&s) % 2) {
			ret = vpt_map(self->d.container,
				      IOVA_BASE + slot * PAGE,
				      self->buf + slot * PAGE, pages * PAGE, RW);
			if (!ret)
				self->mapped[w->id] += pages * PAGE;
			else if (ret == -EEXIST)
				__atomic_fetch_add(&self->eexist, 1,
						   __ATOMIC_RELAXED);
			else
				helper_error(self, "map", ret);
		} else {
			got = 0;
			ret = vpt_unmap(self->d.container,
					IOVA_BASE + slot * PAGE, pages * PAGE, 0,
					&got);
			if (!ret)
				self->unmapped[w->id] += got;
			else if (ret == -EINVAL)
				__atomic_fetch_add(&self->einval, 1,
						   __ATOMIC_RELAXED);
			else
				helper_error(self, "unmap", ret);
		}
	}
	return NULL;
}

/* Flip PCI_COMMAND_INTX_DISABLE (bit 10), keeping the other bits. */
static int toggle_intx_disable(int device)
{
	uint16_t cmd;

	if (vpt_cfg_read(device, 0x04, &cmd, sizeof(cmd)))
		return -EIO;
	cmd ^= 0x400;
	return vpt_cfg_write(device, 0x04, &cmd, sizeof(cmd));
}

/* GET_INFO, config and BAR reads until the mappers are done. */
static void *reader(void *arg)
{
	struct worker *w = arg;
	struct _test_data_conc *self = w->self;
	struct vfio_iommu_type1_info info;
	struct vfio_region_info ri;
	uint32_t ident, vendor;
	int ret;

	pthread_barrier_wait(&self->start);
	while (!atomic_load(&self->stop)) {
		info = (struct vfio_iommu_type1_info){ .argsz = sizeof(info) };
		if (ioctl(self->d.container, VFIO_IOMMU_GET_INFO, &info))
			helper_error(self, "GET_INFO", -errno);
		ri = (struct vfio_region_info){
			.argsz = sizeof(ri),
			.index = VFIO_PCI_BAR0_REGION_INDEX,
		};
		if (ioctl(self->d.device, VFIO_DEVICE_GET_REGION_INFO, &ri))
			helper_error(self, "REGION_INFO", -errno);
		ret = vpt_cfg_read(self->d.device, 0, &vendor, 4);
		if (ret || vendor != 0x11e81234)
			helper_error(self, "config read", ret ? ret : -EIO);
		ret = vpt_bar0_read32(self->d.device, 0, &ident);
		if (ret || ident != 0x010000ed)
			helper_error(self, "BAR0 ident read", ret ? ret : -EIO);
		/* edu's liveness register answers ~value: ours or another's */
		ret = vpt_bar0_write32(self->d.device, 4, (uint32_t)w->id);
		if (ret)
			helper_error(self, "BAR0 write", ret);
		/* one reader toggles DisINTx under the irq thread's feet */
		if (w->id % 2 && toggle_intx_disable(self->d.device))
			helper_error(self, "DisINTx toggle", -EIO);
	}
	return NULL;
}

/* Attach and detach a second group while the mappers work. */
static void *attacher(void *arg)
{
	struct worker *w = arg;
	struct _test_data_conc *self = w->self;
	int c = self->d.container;

	pthread_barrier_wait(&self->start);
	while (!atomic_load(&self->stop)) {
		if (ioctl(self->ivs_group, VFIO_GROUP_SET_CONTAINER, &c))
			helper_error(self, "SET_CONTAINER", -errno);
		if (ioctl(self->ivs_group, VFIO_GROUP_UNSET_CONTAINER))
			helper_error(self, "UNSET_CONTAINER", -errno);
	}
	return NULL;
}

/*
 * Enable and disable INTx and MSI in turn with an eventfd (where the
 * driver takes interrupts), while a reader toggles DisINTx.
 */
static void *irqer(void *arg)
{
	struct worker *w = arg;
	struct _test_data_conc *self = w->self;
	int efd = eventfd(0, EFD_CLOEXEC), ret;
	unsigned int i = 0, index;

	pthread_barrier_wait(&self->start);
	while (efd >= 0 && !atomic_load(&self->stop)) {
		index = i++ % 2 ? VFIO_PCI_MSI_IRQ_INDEX :
				  VFIO_PCI_INTX_IRQ_INDEX;
		ret = vpt_set_irq_trigger(self->d.device, index, efd);
		if (ret == -EINVAL || ret == -ENOTTY)
			break;	/* no interrupts in this vpt-pci */
		if (ret)
			helper_error(self, "SET_IRQS enable", ret);
		ret = vpt_set_irq_trigger(self->d.device, index, -1);
		if (ret)
			helper_error(self, "SET_IRQS disable", ret);
	}
	if (efd >= 0)
		close(efd);
	return NULL;
}

TEST_F_TIMEOUT(conc, parallel_maps_each_land_exactly_once, 1200)
{
	void *(*const fns[])(void *) = { reader, reader, attacher, irqer };
	const unsigned int nhelp = ARRAY_SIZE(fns);
	pthread_t t[MAPPERS + 4];
	struct worker w[MAPPERS + 4];
	uint64_t in = 0, out = 0, all = 0;
	unsigned int i;

	ASSERT_EQ(0, pthread_barrier_init(&self->start, NULL,
					  MAPPERS + nhelp + 1));
	for (i = 0; i < MAPPERS + nhelp; i++) {
		w[i] = (struct worker){ .self = self, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL,
					    i < MAPPERS ? mapper :
					    fns[i - MAPPERS], &w[i]));
	}
	pthread_barrier_wait(&self->start);
	for (i = 0; i < MAPPERS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&self->stop, true);
	for (i = MAPPERS; i < MAPPERS + nhelp; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&self->start);

	ASSERT_EQ(0, self->helper_errors) TH_LOG("%s", self->helper_msg);
	for (i = 0; i < MAPPERS; i++) {
		in += self->mapped[i];
		out += self->unmapped[i];
	}
	TH_LOG("mapped %llu KiB, unmapped %llu KiB, %lu EEXIST, %lu EINVAL",
	       (unsigned long long)in >> 10, (unsigned long long)out >> 10,
	       self->eexist, self->einval);
	ASSERT_LE(out, in);
	/* One pin per mapped page, whichever thread mapped it. */
	EXPECT_EQ(self->pins + (long long)((in - out) / PAGE), vpt_pins_now());
	ASSERT_EQ(0, vpt_unmap(self->d.container, 0, 0,
			       VFIO_DMA_UNMAP_FLAG_ALL, &all));
	EXPECT_EQ(in - out, all);
	EXPECT_EQ(self->pins, vpt_pins_now());
	EXPECT_EQ(self->lck, vpt_status_kb("VmLck"));
	EXPECT_EQ(self->irqs, vpt_irq_handlers());
	EXPECT_EQ(0, vpt_edu_round_trip(self->d.container, self->d.device,
					IOVA_BASE));
}

/*
 * close_while_busy: threads keep calling ioctls and region accesses on
 * the container, group and device fds until each returns -EBADF; the
 * main thread closes the three fds under them, in each of the six
 * orders, with MSI enabled.  The files are released when the last
 * in-flight call returns, and everything with them.
 */
struct busy {
	struct _test_data_conc *self;
	int fd;
	int kind;		/* 0 container, 1 group, 2 device */
	atomic_ulong calls;
	int bad;		/* an errno other than EBADF came back */
};

static void *busy_loop(void *arg)
{
	struct busy *b = arg;
	struct _test_data_conc *self = b->self;
	struct vfio_iommu_type1_info info;
	struct vfio_group_status st;
	struct vfio_device_info di;
	uint32_t v;
	int ret = 0, i = 0;

	pthread_barrier_wait(&self->start);
	for (;;) {
		switch (b->kind) {
		case 0:
			if (i++ % 2) {
				info = (struct vfio_iommu_type1_info){
					.argsz = sizeof(info) };
				ret = ioctl(b->fd, VFIO_IOMMU_GET_INFO, &info) ?
				      -errno : 0;
			} else {
				ret = vpt_map(b->fd, IOVA_BASE +
					      (i % SLOTS) * PAGE,
					      self->buf + (i % SLOTS) * PAGE,
					      PAGE, RW);
				if (ret == -EEXIST)
					ret = vpt_unmap(b->fd, IOVA_BASE +
							(i % SLOTS) * PAGE,
							PAGE, 0, NULL);
			}
			break;
		case 1:
			st = (struct vfio_group_status){ .argsz = sizeof(st) };
			ret = ioctl(b->fd, VFIO_GROUP_GET_STATUS, &st) ?
			      -errno : 0;
			break;
		default:
			if (i++ % 2) {
				di = (struct vfio_device_info){
					.argsz = sizeof(di) };
				ret = ioctl(b->fd, VFIO_DEVICE_GET_INFO, &di) ?
				      -errno : 0;
			} else {
				ret = vpt_bar0_read32(b->fd, 0, &v);
			}
			break;
		}
		atomic_fetch_add(&b->calls, 1);
		if (ret == -EBADF)
			break;
		/*
		 * Once the group or container went, the others may answer
		 * -EINVAL (no IOMMU) or -ENODEV: only EBADF ends the loop.
		 */
		if (ret && ret != -EINVAL && ret != -ENODEV && ret != -EIO)
			b->bad = ret;
	}
	return NULL;
}

TEST_F_TIMEOUT(conc, fds_closed_under_busy_threads_release_everything, 600)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct busy b[3];
	pthread_t t[3];
	unsigned int o, k;
	int fds[3], efd;

	vpt_dev_close(&self->d);
	for (o = 0; o < 6; o++) {
		ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
		fds[0] = self->d.container;
		fds[1] = self->d.group;
		fds[2] = self->d.device;
		/* an interrupt live too: the last close must free it */
		efd = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, efd);
		vpt_set_irq_trigger(self->d.device, VFIO_PCI_MSI_IRQ_INDEX,
				    efd);
		ASSERT_EQ(0, pthread_barrier_init(&self->start, NULL, 4));
		for (k = 0; k < 3; k++) {
			b[k] = (struct busy){ .self = self, .fd = fds[k],
					      .kind = (int)k };
			ASSERT_EQ(0, pthread_create(&t[k], NULL, busy_loop,
						    &b[k]));
		}
		pthread_barrier_wait(&self->start);
		/* every thread busy in its calls before anything closes */
		for (k = 0; k < 3; k++)
			while (atomic_load(&b[k].calls) < 50)
				sched_yield();
		for (k = 0; k < 3; k++)
			close(fds[orders[o][k]]);
		for (k = 0; k < 3; k++) {
			pthread_join(t[k], NULL);
			EXPECT_EQ(0, b[k].bad) TH_LOG("order %u fd %u", o, k);
		}
		pthread_barrier_destroy(&self->start);
		self->d.container = -1;
		self->d.group = -1;
		self->d.device = -1;
		close(efd);
		EXPECT_EQ(self->pins, vpt_pins_now()) TH_LOG("order %u", o);
		EXPECT_EQ(self->lck, vpt_status_kb("VmLck"));
		EXPECT_EQ(self->irqs, vpt_irq_handlers()) TH_LOG("order %u", o);
	}
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
	EXPECT_EQ(0, vpt_edu_round_trip(self->d.container, self->d.device,
					IOVA_BASE));
}

TEST_HARNESS_MAIN
