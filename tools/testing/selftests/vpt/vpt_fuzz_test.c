// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_fuzz_test - a bounded, seeded fuzzer over every ioctl of the
 * container, group and device fds, and over pread/pwrite/mmap of the
 * device fds: random and boundary values for argsz, flags, indexes,
 * start/count, offsets and sizes, eventfds (valid, closed, not an
 * eventfd) and pointers (NULL, unmapped, kernel, read-only, flush
 * against an unmapped page).
 *
 * Only errnos (or success) may come back.  Where the answer is well
 * defined the errno is asserted (bad pointer -EFAULT, unknown command
 * -ENOTTY, argsz below the minimum -EINVAL, out-of-range region -EINVAL,
 * valid arguments succeed); everywhere else it must be one of the
 * classes a VFIO driver returns.  Afterwards the device still moves data
 * (edu DMA round trip) and nothing is left behind: pins, locked_vm and
 * interrupt handlers are back at their baseline.
 *
 * VPT_FUZZ_SEED (default 1) and VPT_FUZZ_OPS (default 20000) choose the
 * run; `make check-debug` runs a million operations.  A failure prints
 * the seed and the operation number, which reproduce it.
 *
 * What is never done, because it hurts the VM rather than vpt: writes to
 * nvme or virtio-net BARs, and writes to edu's interrupt and DMA engine
 * registers (QEMU's edu aborts the VM on an out-of-range DMA).  Random
 * DMA through bus mastering set in config space is fine: the IOMMU
 * blocks it.
 */
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define PAGE		4096UL
#define KERNEL_PTR	0xffff888000000000ULL
#define NONCANON_PTR	0x8000000000000000ULL
#define CLOSED_FD	987	/* checked to be closed at setup */
#define BUF_PAGES	64

/* --- the random source: xorshift64*, reproducible from the seed --- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A number below n (0 when n is 0). */
static uint64_t pick(uint64_t n)
{
	uint64_t r = rnd();

	return n ? r % n : 0;
}

/* A value from the edges of the integer ranges, or a random one. */
static uint64_t boundary64(void)
{
	static const uint64_t edge[] = {
		0, 1, 2, 3, 4, 7, 8, 16, 0xfff, 0x1000, 0x1001, 0x10000,
		0x100000, 0x7fffffff, 0x80000000, 0xfee00000, 0xffffffff,
		0x100000000ULL, (1ULL << 39) - 0x1000, 1ULL << 39,
		(1ULL << 48) - 0x1000, 1ULL << 48, 1ULL << 63,
		~0ULL - 0xfff, ~0xfffULL, ~0ULL, 0xfffffffffebe0000ULL,
	};

	switch (pick(4)) {
	case 0:
		return rnd();
	case 1:
		return rnd() & 0xffff;
	default:
		return edge[pick(ARRAY_SIZE(edge))];
	}
}

/* An argsz around the structure's minimum and full sizes. */
static uint32_t fuzz_argsz(uint32_t minsz, uint32_t fullsz)
{
	switch (pick(8)) {
	case 0:
		return minsz - 1;
	case 1:
		return minsz;
	case 2:
		return minsz + 1 + pick(8);
	case 3:
		return fullsz;
	case 4:
		return fullsz + pick(64);
	case 5:
		return pick(2) ? 0 : ~0U;
	case 6:
		return PAGE - 1 + pick(3);
	default:
		return (uint32_t)boundary64();
	}
}

/* --- the world being fuzzed --- */

enum ptr_kind {
	P_GOOD,		/* the argument, with room after it */
	P_GOOD_END,	/* the argument, flush against an inaccessible page */
	P_RO,		/* the argument, in a read-only page */
	P_NULL,
	P_LOW,
	P_UNMAPPED,	/* an inaccessible page */
	P_KERNEL,
	P_NONCANON,
	P_NR,
};

static int ptr_is_bad(enum ptr_kind k)
{
	return k >= P_NULL;
}

enum fd_kind { FD_CONTAINER, FD_GROUP, FD_DEVICE };

struct fuzz_fd {
	int fd;
	enum fd_kind kind;
	int writable;		/* BAR and config writes allowed (device) */
	const char *name;
	uint64_t region_size[VFIO_PCI_NUM_REGIONS];
	uint32_t region_flags[VFIO_PCI_NUM_REGIONS];
};

/* Per-class counters for the log: what was tried and what came back. */
struct fuzz_stats {
	unsigned long ops, ok, errnos[160], ioctls, rw, mmaps, touched;
};

static sigjmp_buf touch_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(touch_jmp, 1);
}

/*
 * Read (and for RAM-backed BARs write back) a word of a mapping; 1 if it
 * raised SIGBUS.  Atomic accesses: exactly one load and store each.
 */
static int touch(uint32_t *p, int write)
{
	uint32_t v;

	if (sigsetjmp(touch_jmp, 1))
		return 1;
	v = __atomic_load_n(p, __ATOMIC_RELAXED);
	if (write)
		__atomic_store_n(p, v ^ 0x5a5a5a5a, __ATOMIC_RELAXED);
	return 0;
}

/* Every ioctl number vpt or upstream VFIO answers on some fd. */
static const unsigned long vfio_cmds[] = {
	VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
	VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
	VFIO_GROUP_UNSET_CONTAINER, VFIO_GROUP_GET_DEVICE_FD,
	VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET,
	VFIO_DEVICE_QUERY_GFX_PLANE, VFIO_DEVICE_GET_GFX_DMABUF,
	VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_FEATURE,
	VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
	VFIO_IOMMU_ENABLE, VFIO_IOMMU_DISABLE,
	VFIO_IOMMU_DIRTY_PAGES,
};

/* The kind of fd an ioctl of vfio_cmds belongs to. */
static enum fd_kind cmd_kind(unsigned long cmd)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION: case VFIO_CHECK_EXTENSION:
	case VFIO_SET_IOMMU: case VFIO_IOMMU_GET_INFO:
	case VFIO_IOMMU_MAP_DMA: case VFIO_IOMMU_UNMAP_DMA:
	case VFIO_IOMMU_ENABLE: case VFIO_IOMMU_DISABLE:
	case VFIO_IOMMU_DIRTY_PAGES:
		return FD_CONTAINER;
	case VFIO_GROUP_GET_STATUS: case VFIO_GROUP_SET_CONTAINER:
	case VFIO_GROUP_UNSET_CONTAINER: case VFIO_GROUP_GET_DEVICE_FD:
		return FD_GROUP;
	default:
		return FD_DEVICE;
	}
}

FIXTURE(fuzz) {
	struct vpt_dev edu;
	int ivs_group, ivs_dev, nvme_group, spare;
	int efd, pipefd[2], devnull;
	struct fuzz_fd fds[8];
	int nfds;
	uint8_t *arena;		/* 2 RW pages, then an inaccessible one */
	uint8_t *ro;		/* a read-only page */
	uint8_t *buf;		/* BUF_PAGES of DMA-able memory */
	long long pins, lck;
	int irqs;
	struct fuzz_stats st;
};

static void add_fd(struct _test_data_fuzz *self, int fd, enum fd_kind kind,
		   int writable, const char *name)
{
	struct fuzz_fd *f = &self->fds[self->nfds++];
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->kind = kind;
	f->writable = writable;
	f->name = name;
	if (kind != FD_DEVICE)
		return;
	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		struct vfio_region_info ri = {
			.argsz = sizeof(ri), .index = i,
		};

		if (!ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
			f->region_size[i] = ri.size;
			f->region_flags[i] = ri.flags;
		}
	}
}

FIXTURE_SETUP(fuzz)
{
	const char *s;
	int g;

	s = getenv("VPT_FUZZ_SEED");
	rng_state = s ? strtoull(s, NULL, 0) : 1;
	if (!rng_state)
		rng_state = 1;
	ASSERT_EQ(-1, fcntl(CLOSED_FD, F_GETFD));

	self->pins = vpt_pins_now();
	self->lck = vpt_status_kb("VmLck");
	self->irqs = vpt_irq_handlers();

	ASSERT_EQ(0, vpt_dev_open(&self->edu, VPT_EDU_BDF));
	g = vpt_iommu_group(VPT_IVSHMEM_BDF);
	ASSERT_LE(0, g);
	self->ivs_group = vpt_open_group(g);
	ASSERT_LE(0, self->ivs_group);
	ASSERT_EQ(0, ioctl(self->ivs_group, VFIO_GROUP_SET_CONTAINER,
			   &self->edu.container));
	self->ivs_dev = ioctl(self->ivs_group, VFIO_GROUP_GET_DEVICE_FD,
			      VPT_IVSHMEM_BDF);
	ASSERT_LE(0, self->ivs_dev);
	/* nvme's group joins without a device fd: UNSET/SET may toggle it. */
	g = vpt_iommu_group(VPT_NVME_BDF);
	ASSERT_LE(0, g);
	self->nvme_group = vpt_open_group(g);
	ASSERT_LE(0, self->nvme_group);
	ASSERT_EQ(0, ioctl(self->nvme_group, VFIO_GROUP_SET_CONTAINER,
			   &self->edu.container));
	self->spare = vpt_open_container();
	ASSERT_LE(0, self->spare);

	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pipe(self->pipefd));
	self->devnull = open("/dev/null", O_RDWR);
	ASSERT_LE(0, self->devnull);

	self->arena = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->arena);
	/* PROT_NONE, not unmapped: no later mmap may land in the hole */
	ASSERT_EQ(0, mprotect(self->arena + 2 * PAGE, PAGE, PROT_NONE));
	self->ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
	self->buf = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);

	add_fd(self, self->edu.container, FD_CONTAINER, 0, "container");
	add_fd(self, self->spare, FD_CONTAINER, 0, "spare container");
	add_fd(self, self->edu.group, FD_GROUP, 0, "edu group");
	add_fd(self, self->ivs_group, FD_GROUP, 0, "ivshmem group");
	add_fd(self, self->nvme_group, FD_GROUP, 0, "nvme group");
	add_fd(self, self->edu.device, FD_DEVICE, 1, "edu");
	add_fd(self, self->ivs_dev, FD_DEVICE, 1, "ivshmem");
	signal(SIGBUS, on_sigbus);
}

FIXTURE_TEARDOWN(fuzz)
{
	signal(SIGBUS, SIG_DFL);
	if (self->ivs_dev >= 0)
		close(self->ivs_dev);
	if (self->ivs_group >= 0)
		close(self->ivs_group);
	if (self->nvme_group >= 0)
		close(self->nvme_group);
	if (self->spare >= 0)
		close(self->spare);
	vpt_dev_close(&self->edu);
}

/* An fd number for an fd-typed field: mostly real ones, some not. */
static int fuzz_fdnum(struct _test_data_fuzz *self)
{
	switch (pick(8)) {
	case 0:
		return self->efd;
	case 1:
		return CLOSED_FD;
	case 2:
		return self->pipefd[pick(2)];
	case 3:
		return self->devnull;
	case 4:
		return -1;
	case 5:
		return (int)boundary64();
	default:
		return self->fds[pick(self->nfds)].fd;
	}
}

/* A vaddr for MAP_DMA: the DMA buffer mostly, anything else sometimes. */
static uint64_t fuzz_vaddr(struct _test_data_fuzz *self)
{
	switch (pick(6)) {
	case 0:
		return (uintptr_t)self->ro;
	case 1:
		return (uintptr_t)(self->arena + 2 * PAGE);
	case 2:
		return boundary64();
	default:
		return (uintptr_t)(self->buf + pick(BUF_PAGES) * PAGE +
				   (pick(8) ? 0 : pick(PAGE)));
	}
}

/* An IOVA: a small window where maps collide, or an edge. */
static uint64_t fuzz_iova(void)
{
	if (pick(2))
		return 0x100000 + pick(32) * PAGE;
	return boundary64();
}

static uint64_t fuzz_size(void)
{
	switch (pick(4)) {
	case 0:
	case 1:
		return (1 + pick(8)) * PAGE;
	case 2:
		return pick(BUF_PAGES * PAGE);
	default:
		return boundary64();
	}
}

/*
 * The device ioctls whose numbers a container's share (VFIO numbers
 * carry no size): their argument, for a device fd.  0 if @cmd is none.
 */
static int fill_device_arg(struct _test_data_fuzz *self, unsigned long cmd,
			   uint8_t *arg, size_t room, uint32_t *minsz)
{
	size_t i;

	switch (cmd) {
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: {
		struct vfio_pci_hot_reset_info *hi = (void *)arg;

		*minsz = offsetof(struct vfio_pci_hot_reset_info, count) + 4;
		hi->argsz = pick(2) ? room : fuzz_argsz(*minsz, room);
		break;
	}
	case VFIO_DEVICE_PCI_HOT_RESET: {
		struct vfio_pci_hot_reset *hr = (void *)arg;
		int32_t *fds = (int32_t *)(arg + sizeof(*hr));
		size_t n = (room - sizeof(*hr)) / 4;

		*minsz = offsetof(struct vfio_pci_hot_reset, count) + 4;
		hr->argsz = fuzz_argsz(*minsz, room);
		hr->flags = pick(4) ? 0 : (uint32_t)boundary64();
		hr->count = pick(4) ? pick(4) : (uint32_t)boundary64();
		for (i = 0; i < n; i++)
			fds[i] = fuzz_fdnum(self);
		break;
	}
	case VFIO_DEVICE_IOEVENTFD: {
		struct vfio_device_ioeventfd *ie = (void *)arg;

		*minsz = offsetof(struct vfio_device_ioeventfd, fd) + 4;
		ie->argsz = fuzz_argsz(*minsz, sizeof(*ie));
		ie->flags = pick(4) ? 1U << pick(4) : (uint32_t)boundary64();
		/*
		 * Only harmless registers if it ever fires (edu's liveness
		 * and factorial, ivshmem's mask and status or shared RAM):
		 * a trigger eventfd may be this one.
		 */
		ie->offset = pick(4) ? VPT_REGION_OFFSET(pick(8)) + 4 + 4 * pick(2) :
			     boundary64();
		ie->data = rnd();
		ie->fd = pick(4) ? fuzz_fdnum(self) : -1;
		break;
	}
	case VFIO_DEVICE_FEATURE: {
		struct vfio_device_feature *fe = (void *)arg;

		*minsz = offsetof(struct vfio_device_feature, flags) + 4;
		fe->argsz = fuzz_argsz(*minsz, room);
		fe->flags = pick(4) ? (pick(12) | (pick(8) << 16)) :
			    (uint32_t)boundary64();
		break;
	}
	default:
		return 0;
	}
	return 1;
}

/*
 * Fill the argument for cmd into arg (up to room bytes).  With valid set,
 * the argument is one the fd must accept; *minsz is the size below
 * which argsz is invalid (0: no argsz).
 */
static void fill_arg(struct _test_data_fuzz *self, struct fuzz_fd *f,
		     unsigned long cmd, uint8_t *arg, size_t room, int valid,
		     uint32_t *minsz, unsigned long *scalar)
{
	uint32_t *u32 = (uint32_t *)arg;
	size_t i;

	for (i = 0; i < room; i++)
		arg[i] = pick(4) ? 0 : (uint8_t)rnd();
	*minsz = 0;
	*scalar = (uintptr_t)arg;
	if (f->kind == FD_DEVICE && fill_device_arg(self, cmd, arg, room, minsz))
		return;

	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
	case VFIO_SET_IOMMU:
		*scalar = pick(2) ? pick(12) : boundary64();
		if (pick(4) == 0)
			*scalar = VPT_EXT_IOMMU_WIDTH + pick(3);
		break;
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status *gs = (void *)arg;

		*minsz = offsetof(struct vfio_group_status, flags) + 4;
		gs->argsz = valid ? sizeof(*gs) : fuzz_argsz(*minsz, sizeof(*gs));
		break;
	}
	case VFIO_GROUP_SET_CONTAINER:
		*(int *)arg = fuzz_fdnum(self);
		break;
	case VFIO_GROUP_GET_DEVICE_FD: {
		static const char *const names[] = {
			VPT_EDU_BDF, VPT_IVSHMEM_BDF, VPT_VIRTIO_NET_BDF,
			"", "0000:00:04.0 ", "0000:00:04", "../../../",
			"0000:00:1f.0",
		};

		if (pick(16) == 0) {
			snprintf((char *)arg, room, "%s", VPT_NVME_BDF);
		} else if (pick(4)) {
			snprintf((char *)arg, room, "%s",
				 names[pick(ARRAY_SIZE(names))]);
		} else {
			/* no terminator within room */
			for (i = 0; i < room; i++)
				arg[i] = 'a' + pick(26);
		}
		break;
	}
	case VFIO_IOMMU_GET_INFO: {
		struct vfio_iommu_type1_info *ii = (void *)arg;

		*minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) + 8;
		ii->argsz = valid ? room : fuzz_argsz(*minsz, 128);
		ii->flags = valid ? 0 : (uint32_t)boundary64();
		break;
	}
	case VFIO_IOMMU_MAP_DMA: {
		struct vfio_iommu_type1_dma_map *m = (void *)arg;

		*minsz = offsetof(struct vfio_iommu_type1_dma_map, size) + 8;
		m->argsz = fuzz_argsz(*minsz, sizeof(*m));
		m->flags = pick(4) ? pick(4) : (uint32_t)boundary64();
		if (pick(8) == 0)
			m->flags |= VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH;
		m->vaddr = fuzz_vaddr(self);
		m->iova = fuzz_iova();
		m->size = fuzz_size();
		break;
	}
	case VFIO_IOMMU_UNMAP_DMA: {
		struct vfio_iommu_type1_dma_unmap *u = (void *)arg;

		*minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + 8;
		u->argsz = fuzz_argsz(*minsz, sizeof(*u));
		u->flags = pick(4) ? 0 : pick(2) ? VFIO_DMA_UNMAP_FLAG_ALL :
			   (uint32_t)boundary64();
		u->iova = pick(8) ? fuzz_iova() : 0;
		u->size = pick(8) ? fuzz_size() : 0;
		break;
	}
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *di = (void *)arg;

		*minsz = offsetof(struct vfio_device_info, num_irqs) + 4;
		di->argsz = valid ? sizeof(*di) : fuzz_argsz(*minsz, sizeof(*di));
		break;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info *ri = (void *)arg;

		*minsz = offsetof(struct vfio_region_info, offset) + 8;
		ri->argsz = valid ? sizeof(*ri) : fuzz_argsz(*minsz, sizeof(*ri));
		ri->index = valid ? VFIO_PCI_CONFIG_REGION_INDEX :
			    pick(2) ? pick(12) : (uint32_t)boundary64();
		break;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info *qi = (void *)arg;

		*minsz = offsetof(struct vfio_irq_info, count) + 4;
		qi->argsz = valid ? sizeof(*qi) : fuzz_argsz(*minsz, sizeof(*qi));
		qi->index = valid ? VFIO_PCI_REQ_IRQ_INDEX :
			    pick(2) ? pick(8) : (uint32_t)boundary64();
		break;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set *is = (void *)arg;
		int32_t *fds = (int32_t *)is->data;
		size_t n = (room - sizeof(*is)) / 4;	/* room is 256 */

		*minsz = offsetof(struct vfio_irq_set, count) + 4;
		is->flags = pick(4) ? (1U << pick(3)) | (1U << (3 + pick(3))) :
			    (uint32_t)boundary64();
		is->index = pick(4) ? pick(VFIO_PCI_NUM_IRQS) :
			    (uint32_t)boundary64();
		is->start = pick(2) ? pick(3) : (uint32_t)boundary64();
		is->count = pick(2) ? pick(4) : (uint32_t)boundary64();
		is->argsz = pick(2) ? sizeof(*is) + 4 * (is->count & 0xff) :
			    fuzz_argsz(*minsz, sizeof(*is) + 8);
		for (i = 0; i < n; i++)
			fds[i] = is->flags & VFIO_IRQ_SET_DATA_BOOL ?
				 (int32_t)pick(2) : fuzz_fdnum(self);
		break;
	}
	case VFIO_DEVICE_RESET:
	case VFIO_GROUP_UNSET_CONTAINER:
	case VFIO_GET_API_VERSION:
	case VFIO_IOMMU_ENABLE:
	case VFIO_IOMMU_DISABLE:
		*scalar = pick(2) ? 0 : boundary64();
		break;
	default:
		/* everything else: an argsz and flags word, then noise */
		u32[0] = fuzz_argsz(8, 64);
		u32[1] = pick(2) ? 0 : (uint32_t)boundary64();
		if (room >= 16)
			u32[2] = fuzz_fdnum(self);
		break;
	}
}

/* Whether fd f answers cmd itself, reading its argument from the user. */
static int answers_with_arg(struct fuzz_fd *f, unsigned long cmd)
{
	switch (f->kind) {
	case FD_CONTAINER:
		return cmd == VFIO_IOMMU_GET_INFO ||
		       cmd == VFIO_IOMMU_MAP_DMA ||
		       cmd == VFIO_IOMMU_UNMAP_DMA;
	case FD_GROUP:
		return cmd == VFIO_GROUP_GET_STATUS ||
		       cmd == VFIO_GROUP_SET_CONTAINER ||
		       cmd == VFIO_GROUP_GET_DEVICE_FD;
	case FD_DEVICE:
		return cmd == VFIO_DEVICE_GET_INFO ||
		       cmd == VFIO_DEVICE_GET_REGION_INFO ||
		       cmd == VFIO_DEVICE_GET_IRQ_INFO ||
		       cmd == VFIO_DEVICE_SET_IRQS ||
		       cmd == VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ||
		       cmd == VFIO_DEVICE_PCI_HOT_RESET ||
		       cmd == VFIO_DEVICE_IOEVENTFD ||
		       cmd == VFIO_DEVICE_FEATURE;
	}
	return 0;
}

/* Output ioctls whose valid argument must succeed (and then be written). */
static int valid_must_succeed(struct fuzz_fd *f, unsigned long cmd)
{
	switch (f->kind) {
	case FD_CONTAINER:
		return 0;	/* the spare container has no IOMMU */
	case FD_GROUP:
		return cmd == VFIO_GROUP_GET_STATUS;
	case FD_DEVICE:
		return cmd == VFIO_DEVICE_GET_INFO ||
		       cmd == VFIO_DEVICE_GET_REGION_INFO ||
		       cmd == VFIO_DEVICE_GET_IRQ_INFO;
	}
	return 0;
}

static int errno_allowed(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOTTY: case EBADF: case EBADFD:
	case EBUSY: case EEXIST: case ENOSPC: case ENOMEM: case EOVERFLOW:
	case ENODEV: case EPERM: case EIO: case ENXIO: case E2BIG:
	case ENOENT: case EACCES: case EAGAIN: case ERANGE:
		return 1;
	}
	return 0;
}

struct op_result {
	long ret;
	int err;		/* errno when ret < 0 */
	int expect;		/* the one well-defined errno, 0: any allowed */
	int must_succeed;
	char what[160];
};

static void do_ioctl(struct _test_data_fuzz *self, struct op_result *r)
{
	struct fuzz_fd *f = &self->fds[pick(self->nfds)];
	enum ptr_kind pk = pick(4) ? P_GOOD : (enum ptr_kind)pick(P_NR);
	int valid = !pick(4), spare = f->fd == self->spare;
	uint8_t scratch[256], *arg;
	unsigned long cmd, scalar;
	size_t room = sizeof(scratch);
	uint32_t minsz;
	void *p;

	if (pick(16) == 0) {
		/* unknown: VFIO's type, numbers far past its last one */
		cmd = _IOC(pick(4), ';', 0x80 + pick(0x80), pick(64));
	} else if (pick(4)) {
		/* mostly one of the fd's own */
		do {
			cmd = vfio_cmds[pick(ARRAY_SIZE(vfio_cmds))];
		} while (cmd_kind(cmd) != f->kind);
	} else {
		cmd = vfio_cmds[pick(ARRAY_SIZE(vfio_cmds))];
	}
	fill_arg(self, f, cmd, scratch, sizeof(scratch), valid, &minsz,
		 &scalar);
	/* Place it: mid-page, flush against the hole, or read-only. */
	if (pk == P_GOOD_END)
		room = 4 + pick(64);
	arg = self->arena + 2 * PAGE - room;
	if (pk == P_RO) {
		arg = self->ro;
		mprotect(self->ro, PAGE, PROT_READ | PROT_WRITE);
	}
	memcpy(arg, scratch, room);
	if (pk == P_RO)
		mprotect(self->ro, PAGE, PROT_READ);
	if (scalar == (uintptr_t)scratch)
		scalar = (uintptr_t)arg;

	switch (pk) {
	case P_NULL:
		p = NULL;
		break;
	case P_LOW:
		p = (void *)PAGE;
		break;
	case P_UNMAPPED:
		p = self->arena + 2 * PAGE;
		break;
	case P_KERNEL:
		p = (void *)(uintptr_t)KERNEL_PTR;
		break;
	case P_NONCANON:
		p = (void *)(uintptr_t)NONCANON_PTR;
		break;
	default:
		p = (void *)scalar;
		break;
	}

	r->expect = 0;
	r->must_succeed = 0;
	if (_IOC_TYPE(cmd) == ';' && _IOC_NR(cmd) >= 0x80) {
		/*
		 * A container without an IOMMU answers -EINVAL (upstream's
		 * default); the spare one may have gained one by now.
		 */
		r->expect = spare ? 0 : ENOTTY;
	} else if (answers_with_arg(f, cmd) && !spare) {
		if (ptr_is_bad(pk))
			r->expect = EFAULT;
		else if (minsz && pk == P_GOOD &&
			 *(uint32_t *)scratch < minsz &&
			 cmd != VFIO_DEVICE_SET_IRQS)
			r->expect = EINVAL;
		else if (valid && pk == P_RO && valid_must_succeed(f, cmd))
			r->expect = EFAULT;
		else if (valid && pk == P_GOOD && valid_must_succeed(f, cmd))
			r->must_succeed = 1;
	}

	snprintf(r->what, sizeof(r->what),
		 "ioctl(%s, 0x%lx, ptr kind %d, room %zu, valid %d, word0 0x%x)",
		 f->name, cmd, pk, room, valid, *(uint32_t *)scratch);
	r->ret = ioctl(f->fd, cmd, p);
	r->err = r->ret < 0 ? errno : 0;
	/* A device fd is a new file: close it at once. */
	if (cmd == VFIO_GROUP_GET_DEVICE_FD && r->ret >= 0)
		close(r->ret);
	self->st.ioctls++;
}

/* Whether a BAR write of [off, off + len) on a device is harmless. */
static int write_is_harmless(struct fuzz_fd *f, unsigned int index,
			     uint64_t off, size_t len)
{
	static const struct { uint64_t start, end; } edu_no[] = {
		{ 0x20, 0x24 },	/* status: bit 7 raises an IRQ */
		{ 0x60, 0x64 },	/* raise interrupt */
		{ 0x80, 0xa0 },	/* DMA engine: QEMU aborts on bad ranges */
	};
	unsigned int i;

	if (!f->writable)
		return 0;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX || strcmp(f->name, "edu"))
		return 1;
	if (index != VFIO_PCI_BAR0_REGION_INDEX)
		return 1;
	for (i = 0; i < ARRAY_SIZE(edu_no); i++)
		if (off < edu_no[i].end && off + len > edu_no[i].start)
			return 0;
	return 1;
}

static void do_rw(struct _test_data_fuzz *self, struct op_result *r)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 8, 16, 4096, 65536 };
	struct fuzz_fd *f;
	unsigned int index;
	uint64_t off, rsize;
	size_t len;
	int write, bad;
	void *p;

	do {
		f = &self->fds[pick(self->nfds)];
	} while (f->kind != FD_DEVICE);
	index = pick(8) ? pick(VFIO_PCI_NUM_REGIONS + 2) :
		(unsigned int)pick(1U << 20);
	rsize = index < VFIO_PCI_NUM_REGIONS ? f->region_size[index] : 0;
	switch (pick(6)) {
	case 0:
		off = rsize ? rsize - 1 - pick(8) : 0;
		break;
	case 1:
		off = rsize + pick(2) * pick(PAGE);
		break;
	case 2:
		off = boundary64() & (VPT_REGION_OFFSET(1) - 1);
		break;
	default:
		off = rsize ? pick(rsize) : pick(PAGE);
		break;
	}
	len = pick(4) ? lens[pick(ARRAY_SIZE(lens))] : pick(PAGE);
	write = pick(3) == 0;
	bad = pick(8) == 0;
	p = bad ? (pick(2) ? NULL : (void *)(uintptr_t)KERNEL_PTR) :
		  (void *)self->buf;
	if (!bad && write && pick(4) == 0)
		memset(self->buf, (int)rnd(), len < PAGE ? len : PAGE);
	if (write && !write_is_harmless(f, index, off, len))
		write = 0;
	if (!write && !bad && pick(8) == 0)
		p = self->ro;	/* reading into a read-only page */

	r->expect = 0;
	r->must_succeed = 0;
	if (index >= VFIO_PCI_NUM_REGIONS && index < (1U << 20) && len && !bad &&
	    p != self->ro)
		r->expect = EINVAL;
	snprintf(r->what, sizeof(r->what), "p%s(%s, region %u + 0x%llx, %zu%s)",
		 write ? "write" : "read", f->name, index,
		 (unsigned long long)off, len, bad ? ", bad buffer" : "");
	off += VPT_REGION_OFFSET(index);
	r->ret = write ? pwrite(f->fd, p, len, off) : pread(f->fd, p, len, off);
	r->err = r->ret < 0 ? errno : 0;
	self->st.rw++;
}

static void do_mmap(struct _test_data_fuzz *self, struct op_result *r)
{
	static const int prots[] = {
		PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE, PROT_NONE,
		PROT_READ | PROT_EXEC,
	};
	struct fuzz_fd *f;
	unsigned int index;
	uint64_t off, rsize;
	size_t len;
	int prot, flags, i;
	uint8_t *m;

	do {
		f = &self->fds[pick(self->nfds)];
	} while (f->kind != FD_DEVICE);
	index = pick(VFIO_PCI_NUM_REGIONS + 1);
	/* half the time one the device lets map */
	for (i = 0; pick(2) && i < 32 &&
	     !(f->region_flags[index % VFIO_PCI_NUM_REGIONS] &
	       VFIO_REGION_INFO_FLAG_MMAP); i++)
		index = pick(VFIO_PCI_NUM_REGIONS);
	rsize = index < VFIO_PCI_NUM_REGIONS ? f->region_size[index] : 0;
	off = pick(2) ? pick((rsize + PAGE) / PAGE + 1) * PAGE :
		boundary64() & (VPT_REGION_OFFSET(1) - 1);
	len = pick(2) ? (1 + pick(4)) * PAGE : (size_t)boundary64() & 0xffffff;
	if (!len)
		len = pick(2) ? 0 : 1;
	prot = prots[pick(ARRAY_SIZE(prots))];
	flags = pick(8) ? MAP_SHARED : MAP_PRIVATE;

	r->expect = 0;
	r->must_succeed = 0;
	snprintf(r->what, sizeof(r->what),
		 "mmap(%s, region %u + 0x%llx, len 0x%zx, prot %d, flags %d)",
		 f->name, index, (unsigned long long)off, len, prot, flags);
	m = mmap(NULL, len, prot, flags, f->fd, off + VPT_REGION_OFFSET(index));
	r->ret = m == MAP_FAILED ? -1 : 0;
	r->err = m == MAP_FAILED ? errno : 0;
	self->st.mmaps++;
	if (m == MAP_FAILED)
		return;
	if ((prot & PROT_READ) && pick(2)) {
		/* only ivshmem's shared memory BAR takes random writes */
		touch((uint32_t *)(m + pick(len / PAGE) * PAGE),
		      (prot & PROT_WRITE) && !strcmp(f->name, "ivshmem") &&
		      index == VFIO_PCI_BAR2_REGION_INDEX);
		self->st.touched++;
	}
	munmap(m, len);
}

/* Put every interrupt index back to nothing and every mapping away. */
static void quiesce(struct _test_data_fuzz *self)
{
	struct vfio_irq_set is = { .argsz = sizeof(is) };
	int dev[2] = { self->edu.device, self->ivs_dev };
	unsigned int i, d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
			is.flags = VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_TRIGGER;
			is.index = i;
			ioctl(dev[d], VFIO_DEVICE_SET_IRQS, &is);
		}
	}
	vpt_unmap(self->edu.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL);
}

TEST_F_TIMEOUT(fuzz, hostile_ops_return_errnos_and_leave_nothing, 14400)
{
	const char *s = getenv("VPT_FUZZ_OPS");
	unsigned long ops = s && *s ? strtoul(s, NULL, 0) : 20000, n;
	uint64_t seed = rng_state;
	struct timespec t0, t1;
	struct op_result r;
	int gs_ok, i;

	TH_LOG("seed %llu, %lu operations", (unsigned long long)seed, ops);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < ops; n++) {
		switch (pick(8)) {
		case 0:
		case 1:
			do_rw(self, &r);
			break;
		case 2:
			do_mmap(self, &r);
			break;
		default:
			do_ioctl(self, &r);
			break;
		}
		self->st.ops++;
		if (r.ret >= 0) {
			self->st.ok++;
			ASSERT_EQ(0, r.expect)
				TH_LOG("op %lu (seed %llu): %s succeeded, expected errno %d",
				       n, (unsigned long long)seed, r.what, r.expect);
			continue;
		}
		if (r.err < (int)ARRAY_SIZE(self->st.errnos))
			self->st.errnos[r.err]++;
		ASSERT_TRUE(errno_allowed(r.err))
			TH_LOG("op %lu (seed %llu): %s: unexpected errno %d (%s)",
			       n, (unsigned long long)seed, r.what, r.err,
			       strerror(r.err));
		ASSERT_FALSE(r.must_succeed)
			TH_LOG("op %lu (seed %llu): %s: valid call failed: %s",
			       n, (unsigned long long)seed, r.what,
			       strerror(r.err));
		if (r.expect)
			ASSERT_EQ(r.expect, r.err)
				TH_LOG("op %lu (seed %llu): %s: errno %d (%s), expected %d",
				       n, (unsigned long long)seed, r.what,
				       r.err, strerror(r.err), r.expect);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%lu ops in %ld s: %lu ioctls, %lu read/writes, %lu mmaps",
	       self->st.ops, (long)(t1.tv_sec - t0.tv_sec), self->st.ioctls,
	       self->st.rw, self->st.mmaps);
	TH_LOG("%lu mappings touched, %lu operations succeeded",
	       self->st.touched, self->st.ok);
	for (i = 0; i < (int)ARRAY_SIZE(self->st.errnos); i++)
		if (self->st.errnos[i])
			TH_LOG("  errno %3d %-24s %lu", i, strerror(i),
			       self->st.errnos[i]);

	/* The groups are still where the test put them (or can go back). */
	{
		struct vfio_group_status st = { .argsz = sizeof(st) };

		ASSERT_EQ(0, ioctl(self->nvme_group, VFIO_GROUP_GET_STATUS, &st));
		if (!(st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET))
			ASSERT_EQ(0, ioctl(self->nvme_group,
					   VFIO_GROUP_SET_CONTAINER,
					   &self->edu.container));
		gs_ok = 1;
	}
	ASSERT_TRUE(gs_ok);

	/* Everything the fuzzer built goes away with the fds. */
	quiesce(self);
	close(self->ivs_dev);
	close(self->ivs_group);
	close(self->nvme_group);
	close(self->spare);
	self->ivs_dev = -1;
	self->ivs_group = -1;
	self->nvme_group = -1;
	self->spare = -1;
	vpt_dev_close(&self->edu);
	EXPECT_EQ(self->pins, vpt_pins_now());
	EXPECT_EQ(self->lck, vpt_status_kb("VmLck"));
	EXPECT_EQ(self->irqs, vpt_irq_handlers());

	/* And the device still moves data, opened afresh. */
	ASSERT_EQ(0, vpt_dev_open(&self->edu, VPT_EDU_BDF));
	EXPECT_EQ(0, vpt_edu_round_trip(self->edu.container, self->edu.device,
					0x100000));
	vpt_dev_close(&self->edu);
	EXPECT_EQ(self->pins, vpt_pins_now());
}

TEST_HARNESS_MAIN
