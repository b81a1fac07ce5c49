// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_unsafe_irq_test - a group behind an IOMMU without interrupt
 * remapping: refused unless allow_unsafe_interrupts is set, and then
 * accepted with the kernel tainted and a log line.
 *
 * And the MSI-X table's pages never map there.
 *
 * Runs for real in a VM booted with `run.sh --no-intremap` (the runner
 * exports VPT_INTREMAP=off); with interrupt remapping on it skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

/* TAINT_USER (bit 6) in /proc/sys/kernel/tainted. */
#define TAINT_USER_MASK	0x40UL

static const char *unsafe_param(void)
{
	return vpt_stack_is_upstream() ?
	       "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts" :
	       "/sys/module/vpt/parameters/allow_unsafe_interrupts";
}

static unsigned long kernel_taint(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long t = 0;

	if (f) {
		if (fscanf(f, "%lu", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

/* Whether a kernel log record contains text (reads /dev/kmsg). */
static int kmsg_has(const char *text)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	char rec[2048];
	ssize_t n;
	int found = 0;

	if (fd < 0)
		return 0;
	while (!found && (n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten record: go on */
				continue;
			break;
		}
		rec[n] = '\0';
		found = !!strstr(rec, text);
	}
	close(fd);
	return found;
}

FIXTURE(unsafe) {
	int container;
	int group;
};

FIXTURE_SETUP(unsafe)
{
	self->container = -1;
	self->group = -1;
	if (vpt_msi_isolated())
		SKIP(return, "interrupt remapping is on in this VM");
	ASSERT_EQ(0, vpt_sysfs_write(unsafe_param(), "N"));
	self->container = vpt_open_container();
	ASSERT_LE(0, self->container);
	self->group = vpt_open_group(vpt_iommu_group(VPT_EDU_BDF));
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
}

FIXTURE_TEARDOWN(unsafe)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	vpt_sysfs_write(unsafe_param(), "N");
}

TEST_F(unsafe, set_iommu_without_interrupt_remapping_is_eperm)
{
	if (self->container < 0)
		return;
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EPERM, errno);
	/* Refused means nothing attached: the group can leave cleanly. */
	EXPECT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
}

TEST_F(unsafe, allow_unsafe_interrupts_accepts_and_taints)
{
	if (self->container < 0)
		return;
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_EQ(0UL, kernel_taint() & TAINT_USER_MASK);
	ASSERT_EQ(0, vpt_sysfs_write(unsafe_param(), "Y"));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	EXPECT_NE(0UL, kernel_taint() & TAINT_USER_MASK);
	EXPECT_TRUE(kmsg_has("accepted because allow_unsafe_interrupts is set"));
}

/*
 * (After the taint test, which needs an untainted kernel.)
 * Where MSIs are not isolated, vpt never maps the pages of an MSI-X
 * table or PBA, whole BAR or not (upstream maps them regardless: its
 * CAP_MSIX_MAPPABLE assumes an IOMMU that isolates MSIs).
 */
TEST_F(unsafe, msix_table_pages_never_map_without_isolation)
{
	static const char *const bdfs[] = { VPT_NVME_BDF, VPT_VIRTIO_NET_BDF };
	long pg = sysconf(_SC_PAGESIZE);
	unsigned int i;

	if (self->container < 0)
		return;
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_EQ(0, vpt_sysfs_write(unsafe_param(), "Y"));
	for (i = 0; i < ARRAY_SIZE(bdfs); i++) {
		uint64_t off, size;
		struct vpt_dev d;
		int bir = vpt_msix_info(bdfs[i], &off, &size, NULL);
		void *p;

		ASSERT_LE(0, bir) TH_LOG("%s has no MSI-X", bdfs[i]);
		ASSERT_EQ(0, vpt_dev_open(&d, bdfs[i]));
		EXPECT_EQ(0, vpt_region_cap(d.device, bir,
					    VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
					    NULL, 0)) TH_LOG("%s", bdfs[i]);
		p = mmap(NULL, pg, PROT_READ, MAP_SHARED, d.device,
			 VPT_REGION_OFFSET(bir) + (off & ~(uint64_t)(pg - 1)));
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("%s", bdfs[i]);
		EXPECT_EQ(EINVAL, errno);
		if (p != MAP_FAILED)
			munmap(p, pg);
		vpt_dev_close(&d);
	}
}

TEST_HARNESS_MAIN
