// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pin_test - VFIO_IOMMU_MAP_DMA of huge-page memory, checked through
 * the device: THP and 2 MiB hugetlbfs memory, mapped whole, from inside a
 * huge page, with a huge page split by the CPU, and shared with a forked
 * child.  edu reads each page through the IOMMU and must find what the
 * CPU sees there; each 4 KiB page is pinned once, as GUP pins it, and
 * everything is released by the unmap.
 *
 * vpt pins a huge page mapped by one page table entry without asking GUP
 * for each of its 4 KiB pages (drivers/vpt/vpt_iommu_pin.c); these tests
 * hold it to what pinning every page gives.  They run against in-tree
 * vfio too (VPT_STACK=vfio): none is vpt-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define PAGE		4096UL
#define HUGE		(2UL << 20)
#define PAGES_PER_HUGE	(HUGE / PAGE)
#define IOVA_SRC	0x100000ULL	/* self->src, for edu to read */
#define IOVA_DST	0x200000ULL	/* self->dst, for edu to write */
#define IOVA_MEM	0x1000000ULL	/* the memory under test */
#define EDU_BUF		VPT_EDU_BUF
#define EDU_DMA_LEN	VPT_EDU_DMA_LEN
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define HUGETLB_PAGES	2
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/* The byte page @i of the memory under test is filled with. */
static uint8_t tag(unsigned long i)
{
	return (uint8_t)(i * 3 + 1);
}

/* Fill each page of @len bytes at @mem with its tag. */
static void fill_tagged(uint8_t *mem, unsigned long len)
{
	unsigned long i;

	for (i = 0; i < len / PAGE; i++)
		memset(mem + i * PAGE, tag(i), PAGE);
}

/*
 * @len bytes of anonymous memory at a 2 MiB boundary, advised for THP
 * and filled; *@base and *@maplen are what to munmap().  NULL on failure.
 */
static uint8_t *thp_alloc(unsigned long len, void **base,
			  unsigned long *maplen)
{
	uint8_t *mem;

	*maplen = len + HUGE;
	*base = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*base == MAP_FAILED)
		return NULL;
	mem = (uint8_t *)(((uintptr_t)*base + HUGE - 1) & ~(HUGE - 1));
	madvise(mem, len, MADV_HUGEPAGE);
	fill_tagged(mem, len);
	return mem;
}

/*
 * KiB of THP backing the mapping that holds @addr (AnonHugePages of its
 * /proc/self/smaps entry), or -1.
 */
static long long thp_kb(const void *addr)
{
	unsigned long lo, hi, a = (uintptr_t)addr;
	bool in = false;
	long long kb = -1;
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = lo <= a && a < hi;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14)) {
			kb = atoll(line + 14);
			break;
		}
	}
	fclose(f);
	return kb;
}

static long nr_hugepages(void)
{
	char buf[32];

	if (vpt_read_file(NR_HUGEPAGES, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

static int set_nr_hugepages(long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", n);
	return vpt_sysfs_write(NR_HUGEPAGES, buf);
}

FIXTURE(pin) {
	struct vpt_dev d;
	int c;			/* the container fd */
	uint8_t *src;		/* one page at IOVA_SRC */
	uint8_t *dst;		/* one page at IOVA_DST */
	long hugepages;		/* nr_hugepages before the test, or -1 */
	long long pins;		/* pins outstanding after setup */
};

FIXTURE_SETUP(pin)
{
	self->hugepages = -1;
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
	self->c = self->d.container;
	self->src = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = self->src + PAGE;
	ASSERT_EQ(0, vpt_map(self->c, IOVA_SRC, self->src, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, vpt_map(self->c, IOVA_DST, self->dst, PAGE,
			     VFIO_DMA_MAP_FLAG_WRITE));
	self->pins = vpt_pins_now();
}

FIXTURE_TEARDOWN(pin)
{
	vpt_dev_close(&self->d);
	if (self->hugepages >= 0)
		set_nr_hugepages(self->hugepages);
}

/*
 * Whether edu, reading EDU_DMA_LEN bytes at @iova through the IOMMU,
 * finds what the CPU sees at @cpu: 0 if so, -EIO if not, or -errno.
 */
static int edu_reads_as_cpu(struct _test_data_pin *self, uint64_t iova,
			    const uint8_t *cpu)
{
	int ret;

	memset(self->dst, 0, EDU_DMA_LEN);
	ret = vpt_edu_dma(self->d.device, iova, EDU_BUF, EDU_DMA_LEN, 0);
	if (!ret)
		ret = vpt_edu_dma(self->d.device, EDU_BUF, IOVA_DST,
				  EDU_DMA_LEN, 1);
	if (!ret && memcmp(cpu, self->dst, EDU_DMA_LEN))
		ret = -EIO;
	return ret;
}

/*
 * Map @n pages from @start at IOVA_MEM; edu must read at each of the @nr
 * pages listed in @pages (indexes into the mapping) what the CPU sees
 * there.  Then unmap: every pin must be back.
 */
static void map_and_read_pages(struct __test_metadata *_metadata,
			       struct _test_data_pin *self, uint8_t *start,
			       unsigned long n, const unsigned long *pages,
			       unsigned int nr)
{
	unsigned int i;

	ASSERT_EQ(0, vpt_map(self->c, IOVA_MEM, start, n * PAGE, RW));
	for (i = 0; i < nr; i++) {
		EXPECT_EQ(0, edu_reads_as_cpu(self, IOVA_MEM + pages[i] * PAGE,
					      start + pages[i] * PAGE))
			TH_LOG("page %lu of the mapping read wrong", pages[i]);
	}
	ASSERT_EQ(0, vpt_unmap(self->c, IOVA_MEM, n * PAGE, 0, NULL));
	EXPECT_EQ(self->pins, vpt_pins_now());
}

/* edu writes EDU_DMA_LEN bytes of @byte at @iova; 0 or -errno. */
static int edu_writes(struct _test_data_pin *self, uint64_t iova, uint8_t byte)
{
	int ret;

	memset(self->src, byte, EDU_DMA_LEN);
	ret = vpt_edu_dma(self->d.device, IOVA_SRC, EDU_BUF, EDU_DMA_LEN, 0);
	return ret ? ret : vpt_edu_dma(self->d.device, EDU_BUF, iova,
				       EDU_DMA_LEN, 1);
}

/*
 * @len bytes of 2 MiB hugetlbfs memory (HUGETLB_PAGES pages reserved for
 * the test), filled; NULL with the reason in *@why if there is none.
 */
static uint8_t *hugetlb_alloc(struct _test_data_pin *self, unsigned long len,
			      const char **why)
{
	uint8_t *mem;

	*why = "no 2 MiB hugetlbfs pages to be had";
	self->hugepages = nr_hugepages();
	if (self->hugepages < 0 ||
	    set_nr_hugepages(self->hugepages + HUGETLB_PAGES) ||
	    vpt_meminfo_kb("HugePages_Free") < HUGETLB_PAGES)
		return NULL;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	fill_tagged(mem, len);
	return mem;
}

/*
 * From 100 pages into the first huge page to 100 pages before the end of
 * the third: partial huge pages at both ends.
 */
TEST_F(pin, map_of_thp_from_inside_a_huge_page_pins_each_page_once)
{
	const unsigned long len = 3 * HUGE, off = 100;
	const unsigned long n = len / PAGE - 2 * off;
	unsigned long maplen;
	uint8_t *mem;
	void *base;

	mem = thp_alloc(len, &base, &maplen);
	ASSERT_NE(NULL, mem);
	if (thp_kb(mem) < (long long)(len >> 10))
		SKIP(munmap(base, maplen); return, "no THP behind the memory");
	ASSERT_EQ(0, vpt_map(self->c, IOVA_MEM, mem + off * PAGE, n * PAGE,
			     RW));
	EXPECT_EQ(self->pins + (long long)n, vpt_pins_now());
	ASSERT_EQ(0, vpt_unmap(self->c, IOVA_MEM, n * PAGE, 0, NULL));
	EXPECT_EQ(self->pins, vpt_pins_now());
	munmap(base, maplen);
}

/*
 * Mapped from 100 pages into a huge page to 100 pages into the third:
 * every page where a huge page starts or ends reads right.
 */
TEST_F(pin, edu_dma_through_thp_mapped_from_inside_a_huge_page_reads_each_page)
{
	const unsigned long len = 3 * HUGE, off = 100, n = 2 * PAGES_PER_HUGE;
	const unsigned long pages[] = { 0, 1, PAGES_PER_HUGE - off - 1,
		PAGES_PER_HUGE - off, 2 * PAGES_PER_HUGE - off - 1,
		2 * PAGES_PER_HUGE - off, n - 1 };
	uint8_t *mem, *start;
	unsigned long maplen;
	void *base;

	mem = thp_alloc(len, &base, &maplen);
	ASSERT_NE(NULL, mem);
	start = mem + off * PAGE;
	map_and_read_pages(_metadata, self, start, n, pages,
			   ARRAY_SIZE(pages));
	munmap(base, maplen);
}

/*
 * Replace one page inside the first huge page (MADV_DONTNEED splits its
 * PMD; the write faults in a new 4 KiB page while the rest of the folio
 * stays mapped by PTEs): the device must read, through the one mapping,
 * what the CPU sees at that page and at its neighbours, not the folio's
 * old page, and the second huge page, still whole, must read right too.
 */
TEST_F(pin, edu_dma_through_thp_with_a_replaced_page_reads_each_page)
{
	const unsigned long len = 2 * HUGE;
	const unsigned long pages[] = { 0, 255, 256, 257, 511, 512, 1023 };
	unsigned long maplen;
	uint8_t *mem;
	void *base;

	mem = thp_alloc(len, &base, &maplen);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, madvise(mem + 256 * PAGE, PAGE, MADV_DONTNEED));
	memset(mem + 256 * PAGE, 0xa5, PAGE);

	map_and_read_pages(_metadata, self, mem, len / PAGE, pages,
			   ARRAY_SIZE(pages));
	munmap(base, maplen);
}

TEST_F(pin, map_of_hugetlb_pins_each_page_once)
{
	const unsigned long len = HUGETLB_PAGES * HUGE;
	const char *why;
	uint8_t *mem;

	mem = hugetlb_alloc(self, len, &why);
	if (!mem)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, vpt_map(self->c, IOVA_MEM, mem, len, RW));
	EXPECT_EQ(self->pins + (long long)(len / PAGE), vpt_pins_now());
	ASSERT_EQ(0, vpt_unmap(self->c, IOVA_MEM, len, 0, NULL));
	EXPECT_EQ(self->pins, vpt_pins_now());
	munmap(mem, len);
}

TEST_F(pin, edu_dma_through_hugetlb_mapped_from_inside_a_page_reads_each_page)
{
	const unsigned long len = HUGETLB_PAGES * HUGE, off = 7;
	const unsigned long n = len / PAGE - 2 * off;
	const unsigned long pages[] = { 0, PAGES_PER_HUGE - off - 1,
		PAGES_PER_HUGE - off, n - 1 };
	const char *why;
	uint8_t *mem, *start;

	mem = hugetlb_alloc(self, len, &why);
	if (!mem)
		SKIP(return, "%s", why);
	start = mem + off * PAGE;
	map_and_read_pages(_metadata, self, start, n, pages,
			   ARRAY_SIZE(pages));
	munmap(mem, len);
}

/*
 * THP shared copy-on-write with a forked child.  The map must give the
 * device the parent's own copy of each page (pinning for writing breaks
 * the sharing, as a CPU write would), so what the device writes is what
 * the parent reads, and the child's copy is untouched.  @flags are the
 * map's; with a read-only map, the device must see the parent's later
 * CPU writes instead (the pin unshares the pages just the same).
 */
static void thp_shared_with_child(struct __test_metadata *_metadata,
				  struct _test_data_pin *self, uint32_t flags)
{
	const unsigned long len = 2 * HUGE, page = 300;
	const uint8_t byte = 0x5a;
	int go[2], status = -1;
	unsigned long maplen;
	uint8_t *mem, *at;
	void *base;
	pid_t child;
	char c = 0;

	mem = thp_alloc(len, &base, &maplen);
	ASSERT_NE(NULL, mem);
	at = mem + page * PAGE;
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		close(go[1]);
		/* Wait for the parent's DMA, then check this copy. */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(at[0] == tag(page) && at[EDU_DMA_LEN - 1] == tag(page) ?
		      0 : 1);
	}
	close(go[0]);

	ASSERT_EQ(0, vpt_map(self->c, IOVA_MEM, mem, len, flags));
	if (flags & VFIO_DMA_MAP_FLAG_WRITE) {
		ASSERT_EQ(0, edu_writes(self, IOVA_MEM + page * PAGE, byte));
		EXPECT_EQ(byte, at[0]);
		EXPECT_EQ(byte, at[EDU_DMA_LEN - 1]);
	} else {
		memset(at, byte, PAGE);
		EXPECT_EQ(0, edu_reads_as_cpu(self, IOVA_MEM + page * PAGE,
					      at));
	}
	EXPECT_EQ(1, write(go[1], &c, 1));
	close(go[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child's copy changed (status 0x%x)", status);
	ASSERT_EQ(0, vpt_unmap(self->c, IOVA_MEM, len, 0, NULL));
	EXPECT_EQ(self->pins, vpt_pins_now());
	munmap(base, maplen);
}

TEST_F(pin, edu_dma_into_thp_shared_with_child_lands_in_parents_copy)
{
	thp_shared_with_child(_metadata, self, RW);
}

TEST_F(pin, edu_dma_from_thp_shared_with_child_reads_parents_later_writes)
{
	thp_shared_with_child(_metadata, self, VFIO_DMA_MAP_FLAG_READ);
}

TEST_HARNESS_MAIN
