// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_bench - measure a VFIO stack from userspace, speaking only
 * <linux/vfio.h> (plus <linux/vpt.h> for nothing but its names), so the
 * same binary measures upstream's vfio and vpt in the same VM.
 *
 * Prints one line per row: "ROW <name> <median> <unit>", the median
 * over repetitions.  It asserts nothing about time; tools/bench/table.sh
 * sets two stacks' rows side by side.
 *
 * usage: vpt_bench [--quick]
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include "vpt_util.h"

#define MIB		(1ULL << 20)
#define GIB		(1ULL << 30)
#define BENCH_IOVA	(4 * GIB)
#define HUGE_2M		(2 * MIB)

static int quick;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void row(const char *name, double value, const char *unit)
{
	printf("ROW %s %.3f %s\n", name, value, unit);
	fflush(stdout);
}

static int map_dma(int container, uint64_t iova, void *vaddr, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static int unmap_dma(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

enum backing { ANON_4K, THP, HUGETLB_2M };
static const char * const backing_name[] = { "4k", "thp", "hugetlb" };

/* Prefaulted memory of the given backing, 2 MiB aligned; NULL if none. */
static void *alloc_backed(uint64_t size, enum backing b)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p, *aligned;

	if (b == HUGETLB_2M) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		memset(p, 1, size);
		return p;
	}
	p = mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + HUGE_2M - 1) & ~(HUGE_2M - 1));
	madvise(aligned, size, b == THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(aligned, 1, size);
	return aligned;
}

static void free_backed(void *p, uint64_t size, enum backing b)
{
	/* The 4k/THP mappings keep their alignment slack: fine for a run. */
	munmap(p, b == HUGETLB_2M ? size : size);
}

static void bench_map_unmap(int container, uint64_t size, enum backing b)
{
	int reps = quick ? 1 : 5, i;
	double tmap[5], tunmap[5];
	char name[64];
	void *buf = alloc_backed(size, b);

	if (!buf) {
		printf("# %s backing of %llu MiB unavailable\n",
		       backing_name[b], (unsigned long long)(size / MIB));
		return;
	}
	for (i = 0; i < reps; i++) {
		double t0 = now_us();

		if (map_dma(container, BENCH_IOVA, buf, size)) {
			printf("# map %s failed: %s\n", backing_name[b],
			       strerror(errno));
			goto out;
		}
		tmap[i] = now_us() - t0;
		t0 = now_us();
		unmap_dma(container, BENCH_IOVA, size);
		tunmap[i] = now_us() - t0;
	}
	snprintf(name, sizeof(name), "map_%lluM_%s",
		 (unsigned long long)(size / MIB), backing_name[b]);
	row(name, median(tmap, reps) / 1e3, "ms");
	snprintf(name, sizeof(name), "unmap_%lluM_%s",
		 (unsigned long long)(size / MIB), backing_name[b]);
	row(name, median(tunmap, reps) / 1e3, "ms");
out:
	free_backed(buf, size, b);
}

/* Map/unmap cost of one more 4 KiB entry with n entries live. */
static void bench_entries(int container, int n)
{
	int reps = quick ? 20 : 200, i;
	double *tmap = calloc(reps, sizeof(double));
	double *tunmap = calloc(reps, sizeof(double));
	long long slab0, slab1;
	char name[64];
	char *buf;

	buf = alloc_backed((uint64_t)(n + 1) * 4096, ANON_4K);
	if (!buf || !tmap || !tunmap)
		goto out;
	slab0 = vpt_meminfo_kb("SUnreclaim");
	for (i = 0; i < n; i++) {
		/* Spaced IOVAs: every entry is its own mapping. */
		if (map_dma(container, BENCH_IOVA + (uint64_t)i * 8192,
			    buf + (size_t)i * 4096, 4096)) {
			printf("# entry %d: %s\n", i, strerror(errno));
			n = i;
			goto unmap;
		}
	}
	slab1 = vpt_meminfo_kb("SUnreclaim");
	for (i = 0; i < reps; i++) {
		uint64_t iova = BENCH_IOVA + (uint64_t)(i % n) * 8192 + 4096;
		double t0 = now_us();

		map_dma(container, iova, buf + (size_t)n * 4096, 4096);
		tmap[i] = now_us() - t0;
		t0 = now_us();
		unmap_dma(container, iova, 4096);
		tunmap[i] = now_us() - t0;
	}
	snprintf(name, sizeof(name), "map_4k_with_%dk_live", n / 1000);
	row(name, median(tmap, reps), "us");
	snprintf(name, sizeof(name), "unmap_4k_with_%dk_live", n / 1000);
	row(name, median(tunmap, reps), "us");
	if (n >= 10000) {
		snprintf(name, sizeof(name), "kmem_per_mapping_%dk", n / 1000);
		row(name, (slab1 - slab0) * 1024.0 / n, "bytes");
	}
unmap:
	unmap_dma(container, BENCH_IOVA, (uint64_t)n * 8192);
out:
	if (buf)
		free_backed(buf, (uint64_t)(n + 1) * 4096, ANON_4K);
	free(tmap);
	free(tunmap);
}

static void bench_latency(const char *name, int reps,
			  int (*op)(void *), void *arg)
{
	double *t = calloc(reps, sizeof(double));
	int i;

	if (!t)
		return;
	for (i = 0; i < reps; i++) {
		double t0 = now_us();

		if (op(arg)) {
			printf("# %s: %s\n", name, strerror(errno));
			free(t);
			return;
		}
		t[i] = now_us() - t0;
	}
	row(name, median(t, reps), "us");
	free(t);
}

struct rw_arg {
	int fd;
	uint64_t off;
	size_t len;
	void *buf;
	volatile uint32_t *mmio;
};

static int op_map_unmap_4k(void *p)
{
	struct rw_arg *a = p;

	return map_dma(a->fd, BENCH_IOVA, a->buf, 4096) ?:
	       unmap_dma(a->fd, BENCH_IOVA, 4096);
}

static int op_get_info(void *p)
{
	struct rw_arg *a = p;
	struct vfio_iommu_type1_info *info = a->buf;

	info->argsz = a->len;
	return ioctl(a->fd, VFIO_IOMMU_GET_INFO, info) ? -1 : 0;
}

static int op_pread(void *p)
{
	struct rw_arg *a = p;

	return pread(a->fd, a->buf, a->len, a->off) == (ssize_t)a->len ? 0 : -1;
}

static int op_pwrite(void *p)
{
	struct rw_arg *a = p;

	return pwrite(a->fd, a->buf, a->len, a->off) == (ssize_t)a->len ? 0 : -1;
}

static int op_mmio_read(void *p)
{
	struct rw_arg *a = p;

	*(volatile uint32_t *)a->buf = a->mmio[0];
	return 0;
}

static int op_mmio_write(void *p)
{
	struct rw_arg *a = p;

	a->mmio[0] = 0x12345678;
	return 0;
}

static void bench_bar(struct vpt_dev *d, int bar, uint64_t off,
		      const char *dev)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = bar };
	uint8_t buf[64] = { 0 };
	struct rw_arg a = { .fd = d->device, .buf = buf };
	int reps = quick ? 50 : 2000;
	uint16_t cmd;
	char name[64];
	void *map;

	if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &r) || !r.size)
		return;
	/* Memory decode on, as a guest driver would have it. */
	if (!vpt_cfg_read(d->device, 4, &cmd, 2)) {
		cmd |= 0x2;
		vpt_cfg_write(d->device, 4, &cmd, 2);
	}
	a.off = r.offset + off;
	a.len = 4;
	snprintf(name, sizeof(name), "%s_bar%d_pread4", dev, bar);
	bench_latency(name, reps, op_pread, &a);
	snprintf(name, sizeof(name), "%s_bar%d_pwrite4", dev, bar);
	bench_latency(name, reps, op_pwrite, &a);
	a.len = 64;
	snprintf(name, sizeof(name), "%s_bar%d_pread64", dev, bar);
	bench_latency(name, reps, op_pread, &a);

	if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return;
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d->device,
		   r.offset + (off & ~4095ULL));
	if (map == MAP_FAILED)
		return;
	a.mmio = (volatile uint32_t *)((char *)map + (off & 4095));
	snprintf(name, sizeof(name), "%s_bar%d_mmap_read4", dev, bar);
	bench_latency(name, reps, op_mmio_read, &a);
	snprintf(name, sizeof(name), "%s_bar%d_mmap_write4", dev, bar);
	bench_latency(name, reps, op_mmio_write, &a);
	munmap(map, 4096);
}

static void bench_msi(struct vpt_dev *d)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (void *)buf;
	int efd = eventfd(0, EFD_NONBLOCK), reps = quick ? 10 : 200, i, n = 0;
	double *t = calloc(reps, sizeof(double));
	uint32_t raise = 1, ack;
	uint16_t cmd;
	uint64_t cnt;

	if (efd < 0 || !t)
		goto out;
	/* An MSI is a memory write by the device: bus master must be on. */
	if (!vpt_cfg_read(d->device, 4, &cmd, 2)) {
		cmd |= 0x6;
		vpt_cfg_write(d->device, 4, &cmd, 2);
	}
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	if (ioctl(d->device, VFIO_DEVICE_SET_IRQS, set)) {
		printf("# msi: SET_IRQS: %s\n", strerror(errno));
		goto out;
	}
	for (i = 0; i < reps; i++) {
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		double t0 = now_us();

		/* edu 0x60: raise interrupt with this status; 0x64: ack. */
		pwrite(d->device, &raise, 4, VPT_REGION_OFFSET(0) + 0x60);
		if (poll(&pfd, 1, 1000) != 1)
			break;
		t[n++] = now_us() - t0;
		read(efd, &cnt, sizeof(cnt));
		ack = raise;
		pwrite(d->device, &ack, 4, VPT_REGION_OFFSET(0) + 0x64);
	}
	if (n)
		row("edu_msi_raise_to_eventfd", median(t, n), "us");
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->count = 0;
	set->argsz = sizeof(*set);
	ioctl(d->device, VFIO_DEVICE_SET_IRQS, set);
out:
	if (efd >= 0)
		close(efd);
	free(t);
}

int main(int argc, char **argv)
{
	struct vpt_dev edu, ivshmem;
	uint8_t info[4096];
	struct rw_arg a;
	void *page;
	int reps;

	quick = argc > 1 && !strcmp(argv[1], "--quick");
	reps = quick ? 50 : 2000;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (vpt_dev_open(&edu, VPT_EDU_BDF)) {
		printf("# cannot open %s: %s\n", VPT_EDU_BDF, strerror(errno));
		return 1;
	}

	page = alloc_backed(4096, ANON_4K);
	a = (struct rw_arg){ .fd = edu.container, .buf = page };
	bench_latency("map_unmap_4k_pair", reps, op_map_unmap_4k, &a);
	a = (struct rw_arg){ .fd = edu.container, .buf = info,
			     .len = sizeof(info) };
	bench_latency("iommu_get_info", reps, op_get_info, &a);
	a = (struct rw_arg){ .fd = edu.device, .buf = info, .len = 4,
		.off = VPT_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) };
	bench_latency("config_read4", reps, op_pread, &a);

	for (int b = ANON_4K; b <= HUGETLB_2M; b++) {
		bench_map_unmap(edu.container, 256 * MIB, b);
		if (!quick)
			bench_map_unmap(edu.container, GIB, b);
	}
	bench_entries(edu.container, 1000);
	if (!quick) {
		bench_entries(edu.container, 10000);
		bench_entries(edu.container, 65000);
	}

	bench_bar(&edu, 0, 0x4, "edu");
	bench_msi(&edu);
	vpt_dev_close(&edu);

	if (!vpt_dev_open(&ivshmem, VPT_IVSHMEM_BDF)) {
		bench_bar(&ivshmem, 2, 0, "ivshmem");
		vpt_dev_close(&ivshmem);
	}
	printf("# bench done\n");
	return 0;
}
