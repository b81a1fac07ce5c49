// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_fault_test - every allocation on vpt's paths fails once, in the
 * style of iommufd's fail_nth selftest: with failslab and fail_page_alloc
 * set to include sleeping allocations, /proc/self/task/<tid>/fail-nth
 * fails the n-th allocation of one call, for n = 1, 2, ... until the
 * call completes without reaching the fault.  Each failed call must
 * return an errno and unwind completely (pins, mappings, locked_vm,
 * interrupt handlers, open counts), and the same call must then work.
 *
 * Paths: open of the container and group nodes, SET_CONTAINER,
 * SET_IOMMU, GET_DEVICE_FD, UNMAP_DMA, SET_IRQS (where the device takes
 * interrupts), the BAR mmap fault, RESET and the device fd's release.
 * MAP_DMA and a second group's SET_CONTAINER are in vpt_dma_test.
 *
 * Needs CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB and FAIL_PAGE_ALLOC:
 * every test skips on kernels without them (Debian's), and runs for
 * real on the debug kernel of `make check-debug`.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "vpt_fail_nth.h"
#include "vpt_util.h"

#define PAGE		4096UL
#define BUF_PAGES	16
#define BUF_SIZE	(BUF_PAGES * PAGE)
#define IOVA		0x100000ULL
#define MAX_NTH		5000

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Read a word of a BAR mapping (one load): 0, or 1 on SIGBUS. */
static int touch(uint32_t *p, uint32_t *val)
{
	if (sigsetjmp(bus_jmp, 1))
		return 1;
	*val = __atomic_load_n(p, __ATOMIC_RELAXED);
	return 0;
}

FIXTURE(fault) {
	int nth;
	int injected;		/* failures injected over the whole test */
	long long pins, lck;
	int irqs;
	uint8_t *buf;
};

FIXTURE_SETUP(fault)
{
	self->nth = vpt_fail_nth_open();
	if (self->nth < 0)
		SKIP(return, "no fault injection (fail-nth) in this kernel");
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->pins = vpt_pins_now();
	self->lck = vpt_status_kb("VmLck");
	self->irqs = vpt_irq_handlers();
}

FIXTURE_TEARDOWN(fault)
{
	if (self->nth >= 0) {
		vpt_fail_nth_arm(self->nth, 0);
		close(self->nth);
		TH_LOG("%d allocation failures injected", self->injected);
	}
}

/* Something in the call allocates, so at least n=1 failed it. */
#define ASSERT_INJECTED() ASSERT_LT(0, self->injected)

/* Nothing pinned, charged or hooked beyond the baseline. */
#define ASSERT_BASELINE(n) do {						\
	int nb_ = (n);							\
									\
	ASSERT_EQ(self->pins, vpt_pins_now()) TH_LOG("n=%d", nb_);	\
	ASSERT_EQ(self->lck, vpt_status_kb("VmLck")) TH_LOG("n=%d", nb_); \
	ASSERT_EQ(self->irqs, vpt_irq_handlers()) TH_LOG("n=%d", nb_);	\
} while (0)

/*
 * The loop every test runs: CALL (an expression, 0 or -errno) with the
 * n-th allocation failing.  A failure must have been injected, then
 * ON_FAIL checks the unwinding; a success runs ON_OK (which undoes the
 * call).  The loop ends at the first n the call no longer reaches.
 */
#define FAIL_NTH_LOOP(CALL, ON_FAIL, ON_OK) do {			\
	int n_, ret_;							\
	bool fired_;							\
									\
	for (n_ = 1; n_ < MAX_NTH; n_++) {				\
		vpt_fail_nth_arm(self->nth, n_);			\
		ret_ = (CALL);						\
		fired_ = vpt_fail_nth_fired(self->nth);			\
		if (ret_) {						\
			ASSERT_TRUE(fired_)				\
				TH_LOG("n=%d: %s failed (%d) with no fault", \
				       n_, #CALL, ret_);		\
			ASSERT_TRUE(ret_ < 0);				\
			self->injected++;				\
			ON_FAIL;					\
			continue;					\
		}							\
		ON_OK;							\
		if (!fired_)						\
			break;						\
	}								\
	ASSERT_LT(n_, MAX_NTH);						\
} while (0)

static int open_container(int *fd)
{
	*fd = vpt_open_container();
	return *fd < 0 ? *fd : 0;
}

TEST_F_TIMEOUT(fault, open_container_unwinds, 600)
{
	int fd = -1;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	FAIL_NTH_LOOP(open_container(&fd), {}, { close(fd); });
	ASSERT_INJECTED();
	ASSERT_EQ(0, open_container(&fd));
	close(fd);
}

static int open_group(int group, int *fd)
{
	*fd = vpt_open_group(group);
	return *fd < 0 ? *fd : 0;
}

TEST_F_TIMEOUT(fault, open_group_unwinds, 600)
{
	int group = vpt_iommu_group(VPT_EDU_BDF), fd = -1, again;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	/* A failed open must not leave the exclusive node busy. */
	FAIL_NTH_LOOP(open_group(group, &fd),
		      { ASSERT_EQ(0, open_group(group, &again));
			close(again); },
		      { close(fd); });
	ASSERT_INJECTED();
}

/* A container and the edu group, not yet attached. */
struct pair {
	int c, g;
};

static int pair_open(struct pair *p)
{
	p->c = vpt_open_container();
	p->g = vpt_open_group(vpt_iommu_group(VPT_EDU_BDF));
	return p->c < 0 || p->g < 0 ? -1 : 0;
}

static void pair_close(struct pair *p)
{
	if (p->g >= 0)
		close(p->g);
	if (p->c >= 0)
		close(p->c);
}

static int group_status(int g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	return ioctl(g, VFIO_GROUP_GET_STATUS, &st) ? -errno : (int)st.flags;
}

static int set_container(int g, int c)
{
	return ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) ? -errno : 0;
}

static int set_iommu(int c)
{
	return ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
}

TEST_F_TIMEOUT(fault, set_container_unwinds, 600)
{
	struct pair p;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	ASSERT_EQ(0, pair_open(&p));
	FAIL_NTH_LOOP(set_container(p.g, p.c),
		      { ASSERT_EQ(0, group_status(p.g) &
				  VFIO_GROUP_FLAGS_CONTAINER_SET); },
		      { ASSERT_EQ(0, ioctl(p.g, VFIO_GROUP_UNSET_CONTAINER)); });
	pair_close(&p);
	/*
	 * Before SET_IOMMU vpt allocates nothing here; only the IOMMU core
	 * may, for the group's blocking domain, which 7.x drivers provide
	 * statically (the joining of an IOMMU is in vpt_dma_test).
	 */
	if (!self->injected)
		SKIP(return, "SET_CONTAINER allocates nothing on this kernel");
}

TEST_F_TIMEOUT(fault, set_iommu_unwinds, 600)
{
	struct pair p;
	uint64_t size = 1;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	ASSERT_EQ(0, pair_open(&p));
	ASSERT_EQ(0, set_container(p.g, p.c));
	/* After a failure, no backend: IOMMU ioctls answer -EINVAL. */
	FAIL_NTH_LOOP(set_iommu(p.c),
		      { ASSERT_EQ(-EINVAL, vpt_unmap(p.c, IOVA, PAGE, 0,
						     &size)); },
		      { ASSERT_EQ(0, ioctl(p.g, VFIO_GROUP_UNSET_CONTAINER));
			ASSERT_EQ(0, set_container(p.g, p.c)); });
	ASSERT_INJECTED();
	/* The last success left a working backend. */
	ASSERT_EQ(0, set_iommu(p.c));
	ASSERT_EQ(0, vpt_map(p.c, IOVA, self->buf, BUF_SIZE, 3));
	ASSERT_EQ(0, vpt_unmap(p.c, IOVA, BUF_SIZE, 0, &size));
	ASSERT_EQ(BUF_SIZE, size);
	pair_close(&p);
	ASSERT_BASELINE(0);
}

static int get_device_fd(int g, const char *bdf, int *fd)
{
	*fd = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return *fd < 0 ? -errno : 0;
}

/*
 * The device's first open and last close call pci_enable_device() and
 * pci_disable_device(), which run ACPI's _PRT method; ACPICA itself does
 * not survive an allocation failure there (6.1: "Could not update object
 * reference count", then a use-after-free KASAN reports).  So a holder
 * fd keeps the device open, and the loops exercise vpt's own open and
 * release of further fds.
 */
TEST_F_TIMEOUT(fault, get_device_fd_unwinds, 600)
{
	struct vpt_dev d;
	int fd = -1;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	FAIL_NTH_LOOP(get_device_fd(d.group, VPT_EDU_BDF, &fd),
		      {},
		      { close(fd); });
	ASSERT_INJECTED();
	/*
	 * No failed open left a device fd counted: with the holder closed,
	 * the group can leave its container, which needs none open.
	 */
	close(d.device);
	d.device = -1;
	ASSERT_EQ(0, ioctl(d.group, VFIO_GROUP_UNSET_CONTAINER));
	vpt_dev_close(&d);
	ASSERT_BASELINE(0);
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	EXPECT_EQ(0, vpt_edu_round_trip(d.container, d.device, IOVA));
	vpt_dev_close(&d);
}

TEST_F_TIMEOUT(fault, device_release_unwinds, 600)
{
	struct vpt_dev d;
	int fd = -1;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	ASSERT_EQ(0, get_device_fd(d.group, VPT_EDU_BDF, &fd));
	/* close() cannot fail: each round the next open must work. */
	FAIL_NTH_LOOP(close(fd),
		      {},
		      { ASSERT_EQ(0, get_device_fd(d.group, VPT_EDU_BDF,
						   &fd)); });
	close(fd);
	vpt_dev_close(&d);
	ASSERT_BASELINE(0);
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	EXPECT_EQ(0, vpt_edu_round_trip(d.container, d.device, IOVA));
	vpt_dev_close(&d);
}

TEST_F_TIMEOUT(fault, unmap_unwinds, 600)
{
	struct vpt_dev d;
	uint64_t size = 0;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	ASSERT_EQ(0, vpt_map(d.container, IOVA, self->buf, BUF_SIZE, 3));
	/* A failed unmap keeps the whole mapping: it unmaps next time. */
	FAIL_NTH_LOOP(vpt_unmap(d.container, IOVA, BUF_SIZE, 0, &size),
		      { ASSERT_EQ(self->pins + BUF_PAGES, vpt_pins_now()); },
		      { ASSERT_EQ(BUF_SIZE, size);
			ASSERT_BASELINE(n_);
			ASSERT_EQ(0, vpt_map(d.container, IOVA, self->buf,
					     BUF_SIZE, 3)); });
	size = 0;
	ASSERT_EQ(0, vpt_unmap(d.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &size));
	EXPECT_EQ(BUF_SIZE, size);
	EXPECT_EQ(0, vpt_edu_round_trip(d.container, d.device, IOVA));
	vpt_dev_close(&d);
	ASSERT_BASELINE(0);
}

TEST_F_TIMEOUT(fault, set_irqs_unwinds, 600)
{
	struct vpt_dev d;
	const unsigned int msi = VFIO_PCI_MSI_IRQ_INDEX;
	int efd;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	/*
	 * 6.1's genirq ignores a failed allocation in register_irq_proc()
	 * and then WARNs in remove_proc_entry() when the vector is freed
	 * (a panic under panic_on_warn), whichever driver asked for it.
	 * VPT_FAULT_IRQS=1 runs it anyway.
	 */
	if (!getenv("VPT_FAULT_IRQS"))
		SKIP(return, "genirq WARNs after its failed allocation");
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	if (vpt_set_irq_trigger(d.device, msi, efd)) {
		vpt_dev_close(&d);
		SKIP(return, "edu takes no MSI through SET_IRQS here");
	}
	ASSERT_EQ(0, vpt_set_irq_trigger(d.device, msi, -1));
	ASSERT_EQ(self->irqs, vpt_irq_handlers());
	/* A failed enable leaves no handler behind and MSI off. */
	FAIL_NTH_LOOP(vpt_set_irq_trigger(d.device, msi, efd),
		      { ASSERT_EQ(self->irqs, vpt_irq_handlers())
			      TH_LOG("n=%d", n_); },
		      { ASSERT_LT(self->irqs, vpt_irq_handlers());
			ASSERT_EQ(0, vpt_set_irq_trigger(d.device, msi, -1)); });
	ASSERT_INJECTED();
	vpt_dev_close(&d);
	close(efd);
	ASSERT_BASELINE(0);
}

static int touch_ident(uint32_t *bar, uint32_t *ident)
{
	return touch(bar, ident) ? -EFAULT : 0;
}

TEST_F_TIMEOUT(fault, bar_mmap_fault_unwinds, 600)
{
	struct vpt_dev d;
	uint32_t *bar, ident = 0;
	uint16_t cmd;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	ASSERT_EQ(0, vpt_cfg_read(d.device, 0x04, &cmd, sizeof(cmd)));
	cmd |= 0x2;	/* memory decode */
	ASSERT_EQ(0, vpt_cfg_write(d.device, 0x04, &cmd, sizeof(cmd)));
	signal(SIGBUS, on_sigbus);
	/*
	 * Each round maps afresh, so the fault populates; a failure may
	 * raise SIGBUS (upstream's answer to a failed insert) or be retried
	 * by the kernel; the next touch must read the register.
	 */
	FAIL_NTH_LOOP(((bar = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d.device,
				   VPT_REGION_OFFSET(0))) == MAP_FAILED ?
		       -errno : touch_ident(bar, &ident)),
		      { if (bar != MAP_FAILED) {
				ASSERT_EQ(0, touch_ident(bar, &ident));
				ASSERT_EQ(0x010000edU, ident);
				munmap(bar, PAGE);
			} },
		      { ASSERT_EQ(0x010000edU, ident);
			munmap(bar, PAGE); });
	signal(SIGBUS, SIG_DFL);
	vpt_dev_close(&d);
	ASSERT_BASELINE(0);
}

static int device_reset(int device)
{
	return ioctl(device, VFIO_DEVICE_RESET) ? -errno : 0;
}

TEST_F_TIMEOUT(fault, reset_unwinds, 600)
{
	struct vpt_dev d;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	/* nvme resets by FLR; edu has no reset method. */
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	FAIL_NTH_LOOP(device_reset(d.device),
		      { ASSERT_EQ(0, device_reset(d.device)); },
		      {});
	vpt_dev_close(&d);
	ASSERT_BASELINE(0);
}

/* Register (@fd >= 0) or remove (-1) an ioeventfd on edu's liveness. */
static int ioeventfd_liveness(int device, int fd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req), .flags = 4,
		.offset = VPT_REGION_OFFSET(0) + 4, .data = 1, .fd = fd,
	};

	return ioctl(device, VFIO_DEVICE_IOEVENTFD, &req) ? -errno : 0;
}

/* The same registration again, and its removal: 0 if both work. */
static int ioeventfd_again(int device, int fd)
{
	return ioeventfd_liveness(device, fd) ?: ioeventfd_liveness(device, -1);
}

/*
 * A registration that fails leaves nothing behind: the same one can be
 * made at once (no EEXIST), and removed.
 */
TEST_F_TIMEOUT(fault, ioeventfd_unwinds, 600)
{
	struct vpt_dev d;
	int efd;

	if (self->nth < 0)	/* the harness runs the body after SKIP */
		return;
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	FAIL_NTH_LOOP(ioeventfd_liveness(d.device, efd),
		      { ASSERT_EQ(0, ioeventfd_again(d.device, efd)); },
		      { ASSERT_EQ(0, ioeventfd_liveness(d.device, -1)); });
	ASSERT_INJECTED();
	vpt_dev_close(&d);
	close(efd);
	ASSERT_BASELINE(0);
}

TEST_HARNESS_MAIN
