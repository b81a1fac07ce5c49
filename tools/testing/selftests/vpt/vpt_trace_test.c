// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_trace_test - vpt's tracepoints, read back from tracefs: a map, a
 * map refused above the IOMMU width or in the MSI window, a map skipped
 * on request, an unmap, and the reset and BAR sizing of opening a
 * resettable device.  Each event must appear once with the fields of the
 * request that caused it, and a refused map must leave no map, pin or
 * accounting event behind.
 *
 * The events are vpt's own (events/vpt, events/vpt_pci): against the
 * in-tree vfio the tests skip.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define TR_DIR		"/sys/kernel/tracing"
#define TR_IOVA		0x200000ULL
#define TR_PAGES	4
#define TR_SIZE		(TR_PAGES * 4096ULL)
#define TR_BUF_LEN	(256 * 1024)

static const char *const tr_events[] = {
	"events/vpt/enable", "events/vpt_pci/enable",
};

/* Write val to a tracefs file; 0 or -errno. */
static int tr_write(const char *rel, const char *val, int flags)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TR_DIR "/%s", rel);
	fd = open(path, O_WRONLY | flags);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : n < 0 ? -errno : -EIO;
}

/* tracefs mounted where the events are; 0 or -errno. */
static int tr_mount(void)
{
	struct stat st;

	if (!stat(TR_DIR "/events", &st))
		return 0;
	if (mount("nodev", TR_DIR, "tracefs", 0, NULL))
		return -errno;
	return stat(TR_DIR "/events", &st) ? -errno : 0;
}

/* The whole trace buffer as text; 0 or -errno. */
static int tr_read(char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;
	int fd;

	fd = open(TR_DIR "/trace", O_RDONLY);
	if (fd < 0)
		return -errno;
	while (used < len - 1 &&
	       (n = read(fd, buf + used, len - 1 - used)) > 0)
		used += n;
	close(fd);
	buf[used] = '\0';
	return 0;
}

/* How many lines of buf contain both event ("vpt_map: ") and text. */
static int tr_count(const char *buf, const char *event, const char *text)
{
	const char *line = buf, *end;
	int n = 0;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		if (!memmem(line, end - line, event, strlen(event)))
			continue;
		if (!text || memmem(line, end - line, text, strlen(text)))
			n++;
	}
	return n;
}

FIXTURE(trace) {
	bool skip;
	int container;
	int group;
	void *buf;
	char *text;
};

/* 6.1's harness runs the test after a SKIP in setup: tests check skip. */
FIXTURE_SETUP(trace)
{
	size_t i;
	int ret;

	self->skip = true;
	self->container = -1;
	self->group = -1;
	self->buf = MAP_FAILED;
	self->text = NULL;
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ret = tr_mount();
	if (ret)
		SKIP(return, "no tracefs at " TR_DIR ": %s", strerror(-ret));
	self->skip = false;

	self->text = malloc(TR_BUF_LEN);
	ASSERT_NE(NULL, self->text);
	self->buf = mmap(NULL, TR_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, TR_SIZE);

	self->container = vpt_open_container();
	ASSERT_LE(0, self->container);
	self->group = vpt_open_group(vpt_iommu_group(VPT_EDU_BDF));
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));

	for (i = 0; i < ARRAY_SIZE(tr_events); i++)
		ASSERT_EQ(0, tr_write(tr_events[i], "1", 0));
	ASSERT_EQ(0, tr_write("trace", "", O_TRUNC));
}

FIXTURE_TEARDOWN(trace)
{
	size_t i;

	if (self->skip)
		return;
	for (i = 0; i < ARRAY_SIZE(tr_events); i++)
		tr_write(tr_events[i], "0", 0);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, TR_SIZE);
	free(self->text);
}

TEST_F(trace, map_emits_pin_accounting_and_map_events)
{
	char want[160];

	if (self->skip)
		return;
	ASSERT_EQ(0, vpt_map(self->container, TR_IOVA, self->buf, TR_SIZE,
			     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	snprintf(want, sizeof(want), "charge pages=%d ret=0", TR_PAGES);
	EXPECT_EQ(1, tr_count(self->text, "vpt_account: ", want))
		TH_LOG("%s", self->text);
	snprintf(want, sizeof(want), "vaddr=%p pages=%d runs=", self->buf,
		 TR_PAGES);
	EXPECT_EQ(1, tr_count(self->text, "vpt_pin: ", want))
		TH_LOG("%s", self->text);
	/* prot: IOMMU_READ | IOMMU_WRITE; one entry of the limit used. */
	snprintf(want, sizeof(want),
		 "iova=0x%llx size=0x%llx vaddr=%p runs=", TR_IOVA, TR_SIZE,
		 self->buf);
	EXPECT_EQ(1, tr_count(self->text, "vpt_map: ", want))
		TH_LOG("%s", self->text);
	EXPECT_EQ(1, tr_count(self->text, "vpt_map: ", "prot=0x3"));
	EXPECT_EQ(0, tr_count(self->text, "vpt_reject: ", NULL));
	EXPECT_EQ(0, vpt_unmap(self->container, TR_IOVA, TR_SIZE, 0, NULL));
}

TEST_F(trace, map_above_width_emits_reject_and_nothing_else)
{
	unsigned int aw = vpt_aw_bits();
	char want[160];

	if (self->skip)
		return;
	if (!aw)
		SKIP(return, "VPT_AW_BITS not set");
	if (aw >= 64)
		SKIP(return, VPT_NO_ABOVE_REASON);
	EXPECT_EQ(-EINVAL, vpt_map(self->container, 1ULL << aw, self->buf,
				   4096, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	snprintf(want, sizeof(want),
		 "iova=0x%llx size=0x1000 reason=above_width err=-22",
		 1ULL << aw);
	EXPECT_EQ(1, tr_count(self->text, "vpt_reject: ", want))
		TH_LOG("%s", self->text);
	EXPECT_EQ(1, tr_count(self->text, ": vpt_", NULL))
		TH_LOG("only the reject: %s", self->text);
}

TEST_F(trace, map_into_msi_window_emits_reject_reserved)
{
	if (self->skip)
		return;
	EXPECT_EQ(-EINVAL, vpt_map(self->container, 0xfee00000, self->buf,
				   4096, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));
	EXPECT_EQ(1, tr_count(self->text, "vpt_reject: ",
			      "iova=0xfee00000 size=0x1000 reason=reserved err=-22"))
		TH_LOG("%s", self->text);
}

TEST_F(trace, misaligned_map_emits_reject_align)
{
	if (self->skip)
		return;
	EXPECT_EQ(-EINVAL, vpt_map(self->container, TR_IOVA + 512, self->buf,
				   4096, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));
	EXPECT_EQ(1, tr_count(self->text, "vpt_reject: ",
			      "size=0x1000 reason=align err=-22"))
		TH_LOG("%s", self->text);
}

TEST_F(trace, skip_flag_emits_skip_with_max_iova)
{
	unsigned int aw = vpt_aw_bits();
	char want[160];

	if (self->skip)
		return;
	if (!aw)
		SKIP(return, "VPT_AW_BITS not set");
	if (aw >= 64)
		SKIP(return, VPT_NO_ABOVE_REASON);
	EXPECT_EQ(0, vpt_map(self->container, 1ULL << aw, self->buf, 4096,
			     VFIO_DMA_MAP_FLAG_READ |
			     VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH));
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));
	snprintf(want, sizeof(want), "iova=0x%llx size=0x1000 max_iova=0x%llx",
		 1ULL << aw, (1ULL << aw) - 1);
	EXPECT_EQ(1, tr_count(self->text, "vpt_skip: ", want))
		TH_LOG("%s", self->text);
	EXPECT_EQ(0, tr_count(self->text, "vpt_account: ", NULL));
	EXPECT_EQ(0, tr_count(self->text, "vpt_map: ", NULL));
}

TEST_F(trace, skip_policy_emits_skip_for_an_unflagged_map)
{
	static const char *param = "/sys/module/vpt/parameters/skip_above_width";
	unsigned int aw = vpt_aw_bits();
	char want[160], saved[8] = "";
	int ret;

	if (self->skip)
		return;
	if (!aw)
		SKIP(return, "VPT_AW_BITS not set");
	if (aw >= 64)
		SKIP(return, VPT_NO_ABOVE_REASON);
	ASSERT_EQ(0, vpt_read_file(param, saved, sizeof(saved)));
	ASSERT_EQ(0, vpt_sysfs_write(param, "Y"));
	ret = vpt_map(self->container, 1ULL << aw, self->buf, 4096,
		      VFIO_DMA_MAP_FLAG_READ);
	vpt_sysfs_write(param, saved);
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));
	snprintf(want, sizeof(want), "iova=0x%llx size=0x1000 max_iova=0x%llx",
		 1ULL << aw, (1ULL << aw) - 1);
	EXPECT_EQ(1, tr_count(self->text, "vpt_skip: ", want))
		TH_LOG("%s", self->text);
	EXPECT_EQ(0, tr_count(self->text, "vpt_reject: ", NULL));
	EXPECT_EQ(0, tr_count(self->text, "vpt_pin: ", NULL));
}

TEST_F(trace, unmap_emits_unmap_and_uncharge)
{
	char want[160];
	uint64_t done = 0;

	if (self->skip)
		return;
	ASSERT_EQ(0, vpt_map(self->container, TR_IOVA, self->buf, TR_SIZE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, tr_write("trace", "", O_TRUNC));
	ASSERT_EQ(0, vpt_unmap(self->container, TR_IOVA, TR_SIZE, 0, &done));
	EXPECT_EQ(TR_SIZE, done);
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	snprintf(want, sizeof(want),
		 "iova=0x%llx size=0x%llx unmapped=0x%llx mappings=1",
		 TR_IOVA, TR_SIZE, TR_SIZE);
	EXPECT_EQ(1, tr_count(self->text, "vpt_unmap: ", want))
		TH_LOG("%s", self->text);
	snprintf(want, sizeof(want), "uncharge pages=%d ret=0", TR_PAGES);
	EXPECT_EQ(1, tr_count(self->text, "vpt_account: ", want))
		TH_LOG("%s", self->text);
}

TEST_F(trace, unmap_of_nothing_emits_unmap_of_zero)
{
	char want[160];

	if (self->skip)
		return;
	ASSERT_EQ(0, vpt_unmap(self->container, TR_IOVA, TR_SIZE, 0, NULL));
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));
	snprintf(want, sizeof(want), "iova=0x%llx size=0x%llx unmapped=0x0 mappings=0",
		 TR_IOVA, TR_SIZE);
	EXPECT_EQ(1, tr_count(self->text, "vpt_unmap: ", want))
		TH_LOG("%s", self->text);
	EXPECT_EQ(0, tr_count(self->text, "vpt_account: ", NULL));
}

TEST_F(trace, device_open_emits_reset_and_bar_sizing_with_decode_off)
{
	struct vpt_dev d;

	if (self->skip)
		return;
	/* nvme has FLR: opening it resets it, then sizes its BARs again. */
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	vpt_dev_close(&d);
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	EXPECT_LE(1, tr_count(self->text, "vpt_pci_reset: ",
			      VPT_NVME_BDF " ret=0"))
		TH_LOG("%s", self->text);
	EXPECT_LE(1, tr_count(self->text, "vpt_pci_bar_size: ",
			      VPT_NVME_BDF " reset: BAR 0 size=0x4000 resource=0x4000 decode=off"))
		TH_LOG("%s", self->text);
	/* Sizing never ran with decoding on. */
	EXPECT_EQ(0, tr_count(self->text, "vpt_pci_bar_size: ", "decode=mem"));
}

/* SET_IRQS with one MSI-X vector, then count = 0: enable, then disable. */
TEST_F(trace, msix_enable_and_disable_emit_irq_events)
{
	char set_buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)set_buf;
	int32_t efd;
	struct vpt_dev d;

	if (self->skip)
		return;
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	*set = (struct vfio_irq_set) {
		.argsz = sizeof(set_buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.count = 1,
	};
	memcpy(set->data, &efd, sizeof(efd));
	EXPECT_EQ(0, ioctl(d.device, VFIO_DEVICE_SET_IRQS, set));
	set->argsz = sizeof(*set);
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->count = 0;
	EXPECT_EQ(0, ioctl(d.device, VFIO_DEVICE_SET_IRQS, set));
	vpt_dev_close(&d);
	close(efd);
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	EXPECT_EQ(1, tr_count(self->text, "vpt_pci_irq_enable: ",
			      VPT_NVME_BDF " index=2 start=0 count=1"))
		TH_LOG("%s", self->text);
	EXPECT_EQ(1, tr_count(self->text, "vpt_pci_irq_disable: ",
			      VPT_NVME_BDF " index=2"))
		TH_LOG("%s", self->text);
}

/* A touch of an mmapped BAR page faults it in with one order-0 insert. */
TEST_F(trace, bar_mmap_fault_emits_offset_order_and_result)
{
	uint32_t *page;
	struct vpt_dev d;

	if (self->skip)
		return;
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_IVSHMEM_BDF));
	ASSERT_EQ(0, vpt_set_memory_decode(d.device, 1));
	page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, d.device,
		    VPT_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + 0x3000);
	ASSERT_NE(MAP_FAILED, page);
	(void)__atomic_load_n(page, __ATOMIC_RELAXED);
	munmap(page, 4096);
	vpt_dev_close(&d);
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	EXPECT_EQ(1, tr_count(self->text, "vpt_pci_mmap_fault: ",
			      VPT_IVSHMEM_BDF " BAR 2 offset=0x3000 order=0 nopage"))
		TH_LOG("%s", self->text);
}

/*
 * A 2 MiB-aligned mapping that starts 4 KiB into the BAR: the PFN is not
 * aligned like the address, so the PMD attempt falls back to one page.
 */
TEST_F(trace, misaligned_bar_mmap_fault_emits_fallback_then_page)
{
	const size_t len = 2UL << 20;
	const char *no_huge;
	struct vpt_dev d;
	uint32_t *map;

	if (self->skip)
		return;
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_IVSHMEM_BDF));
	ASSERT_EQ(0, vpt_set_memory_decode(d.device, 1));
	map = vpt_mmap_aligned(d.device,
			       VPT_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) +
			       0x1000, len, len);
	ASSERT_NE(MAP_FAILED, map);
	no_huge = vpt_no_huge_bar_map(map, len);
	if (!no_huge)
		(void)__atomic_load_n(map, __ATOMIC_RELAXED);
	munmap(map, len);
	vpt_dev_close(&d);
	if (no_huge)
		SKIP(return, "%s", no_huge);
	ASSERT_EQ(0, tr_read(self->text, TR_BUF_LEN));

	/* Twice if the first try, under the vma lock, is retried. */
	EXPECT_LE(1, tr_count(self->text, "vpt_pci_mmap_fault: ",
			      VPT_IVSHMEM_BDF " BAR 2 offset=0x1000 order=9 fallback"))
		TH_LOG("%s", self->text);
	EXPECT_EQ(1, tr_count(self->text, "vpt_pci_mmap_fault: ",
			      VPT_IVSHMEM_BDF " BAR 2 offset=0x1000 order=0 nopage"))
		TH_LOG("%s", self->text);
}

TEST_HARNESS_MAIN
