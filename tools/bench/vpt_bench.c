// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_bench - measure a VFIO stack from userspace, speaking only
 * <linux/vfio.h> (plus <linux/vpt.h> for nothing but its names), so the
 * same binary measures upstream's vfio and vpt in the same VM.
 *
 * Prints one line per row: "ROW <name> <median> <unit>", the median over
 * repetitions ("n/a" where the stack cannot do it yet).  It asserts
 * nothing about time; tools/bench/table.sh sets two stacks' rows side by
 * side.
 *
 * usage: vpt_bench [--quick | --smoke | --map BACKING MIB | --rw]
 *   --quick  fewer repetitions, no 1 GiB maps (nor 1 GiB hugetlb or 2 GiB
 *            THP), no 10k/65k live entries
 *   --smoke  a tiny pass of every row (4 MiB maps, 16 live entries) that
 *            only checks each row can be measured: prints a kselftest
 *            "# Totals:" line and exits non-zero if one could not
 *   --map    only the map/unmap row of MIB MiB of BACKING (4k, thp,
 *            hugetlb or hugetlb1g), for tools/bench/profile.sh to trace
 *   --rw     only the config and BAR read/write rows, likewise
 */
#include <poll.h>
#include <linux/mman.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <time.h>

#include "vpt_util.h"

#define MIB		(1024ULL * 1024)
#define GIB		(1024 * MIB)
#define BENCH_IOVA	(4 * GIB)
#define HUGE_2M		(2 * MIB)
#define MAX_REPS	5

enum mode { FULL, QUICK, SMOKE, MAP, RW };
static enum mode mode;
static int failures;

/* Something a row needs did not work: a note, and a failure in smoke. */
static void fail(const char *fmt, const char *what, int err)
{
	printf("# ");
	printf(fmt, what);
	printf(": %s\n", strerror(err));
	failures++;
}

/* Repetitions: full, quick, smoke. */
static int pick(int full, int quick, int smoke)
{
	return mode == FULL || mode == MAP ? full :
	       mode == QUICK || mode == RW ? quick : smoke;
}

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
}

static void row_na(const char *name, const char *unit)
{
	printf("ROW %s n/a %s\n", name, unit);
}

static int map_dma(int container, __u64 iova, void *vaddr, __u64 size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static int unmap_dma(int container, __u64 iova, __u64 size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

enum backing { ANON_4K, THP, HUGETLB_2M, HUGETLB_1G };
static const char * const backing_name[] = {
	"4k", "thp", "hugetlb", "hugetlb1g"
};

/*
 * Prefaulted memory of the given backing, 2 MiB aligned; NULL if none.
 * *len is set to what free_backed() must unmap, starting at *base.
 */
static void *alloc_backed(__u64 size, enum backing b, void **base,
			  size_t *len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p, *aligned;

	if (b == HUGETLB_2M || b == HUGETLB_1G) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags | MAP_HUGETLB |
			 (b == HUGETLB_1G ? MAP_HUGE_1GB : 0), -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		memset(p, 1, size);
		*base = p;
		*len = size;
		return p;
	}
	p = mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + HUGE_2M - 1) & ~(HUGE_2M - 1));
	madvise(aligned, size, b == THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(aligned, 1, size);
	*base = p;
	*len = size + HUGE_2M;
	return aligned;
}

static void bench_map_unmap(int container, __u64 size, enum backing b)
{
	int reps = pick(MAX_REPS, 3, 1), i;
	double tmap[MAX_REPS], tunmap[MAX_REPS];
	char name[64], unit[24];
	void *buf, *base;
	size_t len;
	int ret;

	snprintf(unit, sizeof(unit), "%lluM_%s",
		 (unsigned long long)(size / MIB), backing_name[b]);
	buf = alloc_backed(size, b, &base, &len);
	if (!buf) {
		fail("%s backing unavailable", unit, errno);
		return;
	}
	for (i = 0; i < reps; i++) {
		double t0 = now_us();

		ret = map_dma(container, BENCH_IOVA, buf, size);
		if (ret) {
			fail("map %s", unit, -ret);
			goto out;
		}
		tmap[i] = now_us() - t0;
		t0 = now_us();
		ret = unmap_dma(container, BENCH_IOVA, size);
		tunmap[i] = now_us() - t0;
		if (ret) {
			fail("unmap %s", unit, -ret);
			goto out;
		}
	}
	snprintf(name, sizeof(name), "map_%s", unit);
	row(name, median(tmap, reps) / 1e3, "ms");
	snprintf(name, sizeof(name), "unmap_%s", unit);
	row(name, median(tunmap, reps) / 1e3, "ms");
out:
	munmap(base, len);
}

/*
 * Map/unmap cost of one more 4 KiB entry with n entries live, and the
 * unreclaimable slab the n entries took (kernel memory per mapping).
 */
static void bench_entries(int container, int n)
{
	/* Enough pairs to outlast a passing slowdown (see bench_latency). */
	int reps = pick(5000, 500, 4), i, ret;
	double *tmap = calloc(reps, sizeof(double));
	double *tunmap = calloc(reps, sizeof(double));
	long long slab0, slab1;
	char name[64], live[16];
	void *base = NULL;
	size_t len = 0;
	char *buf;

	if (n % 1000)
		snprintf(live, sizeof(live), "%d", n);
	else
		snprintf(live, sizeof(live), "%dk", n / 1000);
	buf = alloc_backed((__u64)(n + 1) * 4096, ANON_4K, &base, &len);
	if (!buf || !tmap || !tunmap) {
		fail("entries %s: memory", live, ENOMEM);
		goto out;
	}
	slab0 = vpt_meminfo_kb("SUnreclaim");
	for (i = 0; i < n; i++) {
		/* Spaced IOVAs: every entry is its own mapping. */
		ret = map_dma(container, BENCH_IOVA + (__u64)i * 8192,
			      buf + (size_t)i * 4096, 4096);
		if (ret) {
			fail("entries %s: map", live, -ret);
			n = i;
			goto unmap;
		}
	}
	slab1 = vpt_meminfo_kb("SUnreclaim");
	for (i = 0; i < reps; i++) {
		__u64 iova = BENCH_IOVA + (__u64)(i % n) * 8192 + 4096;
		double t0 = now_us();

		ret = map_dma(container, iova, buf + (size_t)n * 4096, 4096);
		tmap[i] = now_us() - t0;
		if (ret) {
			fail("entries %s: one more map", live, -ret);
			goto unmap;
		}
		t0 = now_us();
		ret = unmap_dma(container, iova, 4096);
		tunmap[i] = now_us() - t0;
		if (ret) {
			fail("entries %s: one more unmap", live, -ret);
			goto unmap;
		}
	}
	snprintf(name, sizeof(name), "map_4k_with_%s_live", live);
	row(name, median(tmap, reps), "us");
	snprintf(name, sizeof(name), "unmap_4k_with_%s_live", live);
	row(name, median(tunmap, reps), "us");
	/*
	 * meminfo counts whole KiB, and slab pages fill up unevenly: too
	 * coarse to divide by fewer than 10k mappings.
	 */
	if (n >= 10000 || mode == SMOKE) {
		snprintf(name, sizeof(name), "kmem_per_mapping_%s", live);
		row(name, (slab1 - slab0) * 1024.0 / n, "B");
	}
unmap:
	if (n)
		unmap_dma(container, BENCH_IOVA, (__u64)n * 8192);
out:
	if (base)
		munmap(base, len);
	free(tmap);
	free(tunmap);
}

/* One timed batch of @batch calls of @op: microseconds per call, or -1. */
static double time_batch(int batch, int (*op)(void *), void *arg)
{
	double t0 = now_us();
	int j;

	for (j = 0; j < batch; j++)
		if (op(arg))
			return -1;
	return (now_us() - t0) / batch;
}

/*
 * Median over samples of the mean time of @batch calls of @op: batching
 * keeps the clock's own cost and resolution out of sub-microsecond rows,
 * which are printed in @unit "ns" so that their three decimals still
 * resolve a percent; any other @unit is microseconds.
 *
 * A row is sampled for about half a second (full mode), whatever one
 * batch costs: under TCG the host now and then slows the guest twofold
 * for tens of milliseconds, and a row that took only a few milliseconds
 * had its median taken whole by one such spell.  An untimed batch first
 * faults in what the row touches and calibrates the count.
 */
static void bench_latency(const char *name, const char *unit, int batch,
			  int (*op)(void *), void *arg)
{
	double scale = strcmp(unit, "ns") ? 1 : 1e3;
	double first = time_batch(batch, op, arg), *t;
	int samples, i;

	if (first < 0) {
		fail("%s", name, errno);
		return;
	}
	samples = pick(200, 30, 2);
	if (mode != SMOKE && pick(500000, 100000, 0) / (first * batch) > samples)
		samples = pick(500000, 100000, 0) / (first * batch);
	if (samples > 100000)
		samples = 100000;
	t = calloc(samples, sizeof(double));
	if (!t)
		return;
	for (i = 0; i < samples; i++) {
		t[i] = time_batch(batch, op, arg) * scale;
		if (t[i] < 0) {
			fail("%s", name, errno);
			free(t);
			return;
		}
	}
	row(name, median(t, samples), unit);
	free(t);
}

struct rw_arg {
	int fd;
	__u64 off;
	size_t len;
	void *buf;
	__u32 *mmio;
};

static int op_map_unmap_4k(void *p)
{
	struct rw_arg *a = p;
	int ret = map_dma(a->fd, BENCH_IOVA, a->buf, 4096);

	if (!ret)
		ret = unmap_dma(a->fd, BENCH_IOVA, 4096);
	errno = -ret;
	return ret;
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

	/* Atomic accesses: exactly one load or store, never elided. */
	*(__u32 *)a->buf = __atomic_load_n(a->mmio, __ATOMIC_RELAXED);
	return 0;
}

static int op_mmio_write(void *p)
{
	struct rw_arg *a = p;

	__atomic_store_n(a->mmio, 0x12345678, __ATOMIC_RELAXED);
	return 0;
}

/*
 * BAR access at @off: 4 bytes and 64 bytes through pread/pwrite, 4 bytes
 * through an mmap of the page.  @off must be a register (or memory) that
 * ignores what is written to it and to the 60 bytes after it.
 */
static void bench_bar(struct vpt_dev *d, int bar, __u64 off,
		      const char *dev)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = bar };
	__u32 buf[16] = { 0 };
	struct rw_arg a = { .fd = d->device, .buf = buf };
	static const size_t lens[] = { 4, 64 };
	char name[64];
	void *map;
	int i;

	snprintf(name, sizeof(name), "%s_bar%d", dev, bar);
	if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &r) || !r.size) {
		fail("%s: region info", name, errno);
		return;
	}
	/* Memory decode on, as a guest driver would have it. */
	vpt_set_memory_decode(d->device, 1);
	a.off = r.offset + off;
	for (i = 0; i < 2; i++) {
		a.len = lens[i];
		snprintf(name, sizeof(name), "%s_bar%d_pread%zu", dev, bar,
			 a.len);
		bench_latency(name, "us", 10, op_pread, &a);
		snprintf(name, sizeof(name), "%s_bar%d_pwrite%zu", dev, bar,
			 a.len);
		bench_latency(name, "us", 10, op_pwrite, &a);
	}

	if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		fail("%s: BAR not mmappable", name, EINVAL);
		return;
	}
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d->device,
		   r.offset + (off & ~4095ULL));
	if (map == MAP_FAILED) {
		fail("%s: mmap", name, errno);
		return;
	}
	a.mmio = (__u32 *)((char *)map + (off & 4095));
	snprintf(name, sizeof(name), "%s_bar%d_mmap_read4", dev, bar);
	bench_latency(name, "ns", 1000, op_mmio_read, &a);
	snprintf(name, sizeof(name), "%s_bar%d_mmap_write4", dev, bar);
	bench_latency(name, "ns", 1000, op_mmio_write, &a);
	munmap(map, 4096);
}

/*
 * edu raise (0x60) to eventfd readable, through MSI.  A stack whose
 * SET_IRQS does not do MSI yet gets "n/a" rather than a failure.
 */
static void bench_msi(struct vpt_dev *d)
{
	static const char name[] = "edu_msi_raise_to_eventfd";
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (void *)buf;
	int efd = eventfd(0, EFD_NONBLOCK), reps = pick(20000, 2000, 2);
	int i, n = 0;
	double *t = calloc(reps, sizeof(double));
	__u32 raise = 1;
	__u16 cmd;
	__u64 cnt;

	if (efd < 0 || !t) {
		fail("%s: eventfd", name, errno);
		goto out;
	}
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
		printf("# %s: SET_IRQS: %s\n", name, strerror(errno));
		row_na(name, "us");
		goto out;
	}
	for (i = 0; i < reps; i++) {
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		double t0 = now_us();

		/* edu 0x60: raise interrupt with this status; 0x64: ack. */
		if (pwrite(d->device, &raise, 4,
			   VPT_REGION_OFFSET(0) + 0x60) != 4 ||
		    poll(&pfd, 1, 5000) != 1)
			break;
		t[n++] = now_us() - t0;
		if (read(efd, &cnt, sizeof(cnt)) != sizeof(cnt) ||
		    pwrite(d->device, &raise, 4,
			   VPT_REGION_OFFSET(0) + 0x64) != 4)
			break;
	}
	if (n == reps)
		row(name, median(t, n), "us");
	else
		fail("%s: no interrupt", name, n ? EIO : ETIMEDOUT);
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->count = 0;
	set->argsz = sizeof(*set);
	ioctl(d->device, VFIO_DEVICE_SET_IRQS, set);
out:
	if (efd >= 0)
		close(efd);
	free(t);
}

static void bench_container(struct vpt_dev *edu)
{
	static const enum backing backings[] = { ANON_4K, THP, HUGETLB_2M };
	static const int entries[] = { 1000, 10000, 65000 };
	__u64 sizes[2] = { 256 * MIB, GIB };
	size_t info_len = 4096, page_len;
	void *page, *page_base, *info;
	struct rw_arg a;
	unsigned int b, s;

	page = alloc_backed(4096, ANON_4K, &page_base, &page_len);
	info = calloc(1, info_len);
	if (!page || !info) {
		fail("%s", "container rows", ENOMEM);
		return;
	}
	a = (struct rw_arg){ .fd = edu->container, .buf = page };
	bench_latency("map_unmap_4k_pair", "us", 1, op_map_unmap_4k, &a);
	a = (struct rw_arg){ .fd = edu->container, .buf = info,
			     .len = info_len };
	bench_latency("iommu_get_info", "us", 10, op_get_info, &a);
	munmap(page_base, page_len);
	free(info);

	if (mode == SMOKE)
		sizes[0] = 4 * MIB;
	for (b = 0; b < 3; b++)
		for (s = 0; s < (mode == FULL ? 2U : 1U); s++)
			bench_map_unmap(edu->container, sizes[s], backings[b]);
	/* Full runs boot with two 1 GiB pages reserved (run.sh --bench). */
	if (mode == FULL) {
		bench_map_unmap(edu->container, GIB, HUGETLB_1G);
		bench_map_unmap(edu->container, 2 * GIB, THP);
	}

	if (mode == SMOKE)
		bench_entries(edu->container, 16);
	for (s = 0; mode != SMOKE && s < (mode == FULL ? 3U : 1U); s++)
		bench_entries(edu->container, entries[s]);
}

/*
 * Run without address-space randomisation, so that both stacks' runs,
 * which make the same calls in the same order, get the same virtual
 * addresses.  Under TCG the guest's TLB is a direct-mapped table indexed
 * by virtual page: left to ASLR, where the BAR page lands against the
 * loop's code and stack moves the mmap rows by more than any difference
 * between the stacks.  Returns only if the re-exec was not possible.
 */
static void exec_without_aslr(char **argv)
{
	int pers = personality(0xffffffff);

	if (pers == -1 || (pers & ADDR_NO_RANDOMIZE))
		return;
	if (personality(pers | ADDR_NO_RANDOMIZE) == -1)
		return;
	execv("/proc/self/exe", argv);
	printf("# cannot re-exec without ASLR: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	__u32 cfg;
	struct vpt_dev edu, ivshmem;
	struct rw_arg a;
	int ret;

	enum backing map_backing = ANON_4K;
	unsigned long map_mib = 0;

	if (argc > 1 && !strcmp(argv[1], "--quick")) {
		mode = QUICK;
	} else if (argc > 1 && !strcmp(argv[1], "--smoke")) {
		mode = SMOKE;
	} else if (argc == 2 && !strcmp(argv[1], "--rw")) {
		mode = RW;
	} else if (argc == 4 && !strcmp(argv[1], "--map")) {
		mode = MAP;
		while (map_backing < HUGETLB_1G &&
		       strcmp(argv[2], backing_name[map_backing]))
			map_backing++;
		map_mib = strtoul(argv[3], NULL, 0);
	}
	if ((argc > 1 && mode == FULL) ||
	    (mode == MAP && (!map_mib ||
			     strcmp(argv[2], backing_name[map_backing]))))
		return fprintf(stderr,
			       "usage: %s [--quick|--smoke|--map BACKING MIB|--rw]\n",
			       argv[0]), 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	exec_without_aslr(argv);

	ret = vpt_dev_open(&edu, VPT_EDU_BDF);
	if (ret) {
		fail("cannot open %s", VPT_EDU_BDF, -ret);
		goto done;
	}
	if (mode == MAP) {
		bench_map_unmap(edu.container, map_mib * MIB, map_backing);
		vpt_dev_close(&edu);
		goto done;
	}
	if (mode != RW)
		bench_container(&edu);
	a = (struct rw_arg){ .fd = edu.device, .buf = &cfg, .len = 4,
		.off = VPT_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) };
	bench_latency("config_read4", "us", 10, op_pread, &a);
	/* edu 0x04 inverts what is written; 0x08-0x43 take zeroes safely. */
	bench_bar(&edu, 0, 0x4, "edu");
	if (mode != RW)
		bench_msi(&edu);
	vpt_dev_close(&edu);

	ret = vpt_dev_open(&ivshmem, VPT_IVSHMEM_BDF);
	if (ret) {
		fail("cannot open %s", VPT_IVSHMEM_BDF, -ret);
		goto done;
	}
	bench_bar(&ivshmem, 2, 0, "ivshmem");
	vpt_dev_close(&ivshmem);
done:
	printf("# bench done\n");
	if (mode != SMOKE)
		return 0;
	/* One kselftest-style result for the VM runner to count. */
	printf("%sok 1 bench_smoke\n", failures ? "not " : "");
	printf("# Totals: pass %d fail %d xfail 0 xpass 0 skip 0 error 0\n",
	       !failures, !!failures);
	return failures ? 1 : 0;
}
