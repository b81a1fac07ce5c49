// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_ioeventfd_test - VFIO_DEVICE_IOEVENTFD, as upstream vfio-pci
 * answers it: argument checks, add/remove, the limit on the MSI-X table,
 * and the write itself, seen through edu's liveness register (which
 * reads back the complement of what was written).
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define EDU_LIVENESS	0x04

/* VFIO_DEVICE_IOEVENTFD; 0 or -errno. */
static int ioeventfd(int device, uint64_t offset, uint64_t data,
		     uint32_t flags, int32_t fd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req), .flags = flags, .offset = offset,
		.data = data, .fd = fd,
	};

	return ioctl(device, VFIO_DEVICE_IOEVENTFD, &req) ? -errno : 0;
}

/*
 * Wait (up to ten seconds: the write may be deferred to a work item,
 * and TCG is slow) for BAR0 + @off to read @want.  1 if it did.
 */
static int bar0_becomes(int device, uint32_t off, uint32_t want)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	uint32_t v = ~want;
	int i;

	for (i = 0; i < 1000; i++) {
		if (!vpt_bar0_read32(device, off, &v) && v == want)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

FIXTURE(edu) {
	struct vpt_dev d;
	int efd;
};

FIXTURE_SETUP(edu)
{
	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
}

FIXTURE_TEARDOWN(edu)
{
	vpt_dev_close(&self->d);
	close(self->efd);
}

TEST_F(edu, signal_writes_the_data_to_the_bar)
{
	ASSERT_EQ(0, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
			       EDU_LIVENESS, 0x12345678, 4, self->efd));
	ASSERT_EQ(0, vpt_bar0_write32(self->d.device, EDU_LIVENESS, 0));
	ASSERT_EQ(8, write(self->efd, &(uint64_t){ 1 }, 8));
	EXPECT_TRUE(bar0_becomes(self->d.device, EDU_LIVENESS, ~0x12345678U));
}

/* With decode off the write is dropped, as a pwrite would fail. */
TEST_F(edu, signal_with_decode_off_writes_nothing)
{
	ASSERT_EQ(0, vpt_bar0_write32(self->d.device, EDU_LIVENESS, 0));
	ASSERT_EQ(0, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
			       EDU_LIVENESS, 0x5a5a5a5a, 4, self->efd));
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 0));
	ASSERT_EQ(8, write(self->efd, &(uint64_t){ 1 }, 8));
	/* Removed, it can write nothing later either (its work is gone). */
	ASSERT_EQ(0, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
			       EDU_LIVENESS, 0x5a5a5a5a, 4, -1));
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 1));
	EXPECT_TRUE(bar0_becomes(self->d.device, EDU_LIVENESS, ~0U));
}

TEST_F(edu, same_registration_twice_is_eexist)
{
	uint64_t off = VPT_REGION_OFFSET(0) + EDU_LIVENESS;

	ASSERT_EQ(0, ioeventfd(self->d.device, off, 1, 4, self->efd));
	EXPECT_EQ(-EEXIST, ioeventfd(self->d.device, off, 1, 4, self->efd));
	/* Another value at the same place is another registration. */
	EXPECT_EQ(0, ioeventfd(self->d.device, off, 2, 4, self->efd));
}

TEST_F(edu, remove_with_fd_minus_one)
{
	uint64_t off = VPT_REGION_OFFSET(0) + EDU_LIVENESS;

	ASSERT_EQ(0, ioeventfd(self->d.device, off, 1, 4, self->efd));
	EXPECT_EQ(0, ioeventfd(self->d.device, off, 1, 4, -1));
	EXPECT_EQ(-ENODEV, ioeventfd(self->d.device, off, 1, 4, -1));
	EXPECT_EQ(0, ioeventfd(self->d.device, off, 1, 4, self->efd));
}

TEST_F(edu, remove_of_unknown_is_enodev)
{
	EXPECT_EQ(-ENODEV, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
				     EDU_LIVENESS, 7, 4, -1));
}

TEST_F(edu, every_size_is_accepted)
{
	uint32_t size;

	for (size = 1; size <= 8; size <<= 1)
		EXPECT_EQ(0, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
				       0x40, 0, size, self->efd))
			TH_LOG("size %u", size);
}

TEST_F(edu, size_not_a_single_bit_is_einval)
{
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(0),
				     0, 0, self->efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(0),
				     0, 3, self->efd));
}

TEST_F(edu, unknown_flags_are_einval)
{
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(0),
				     0, 4 | 0x10, self->efd));
}

TEST_F(edu, fd_below_minus_one_is_einval)
{
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(0),
				     0, 4, -2));
}

TEST_F(edu, short_argsz_is_einval)
{
	struct vfio_device_ioeventfd req = {
		.argsz = offsetof(struct vfio_device_ioeventfd, fd),
		.flags = 4, .fd = self->efd,
	};

	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_IOEVENTFD, &req));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(edu, past_the_bar_is_einval)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info), .index = 0,
	};

	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_GET_REGION_INFO, &info));
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
				     info.size - 2, 0, 4, self->efd));
	EXPECT_EQ(0, ioeventfd(self->d.device, VPT_REGION_OFFSET(0) +
			       info.size - 4, 0, 4, self->efd));
}

TEST_F(edu, rom_and_config_regions_are_einval)
{
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device,
				     VPT_REGION_OFFSET(VFIO_PCI_ROM_REGION_INDEX),
				     0, 4, self->efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device,
				     VPT_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX),
				     0, 4, self->efd));
}

TEST_F(edu, unimplemented_bar_is_einval)
{
	/* edu implements BAR0 only. */
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(1),
				     0, 4, self->efd));
}

TEST_F(edu, closed_fd_is_ebadf)
{
	EXPECT_EQ(-EBADF, ioeventfd(self->d.device, VPT_REGION_OFFSET(0),
				    0, 4, 1000));
}

TEST_F(edu, non_eventfd_is_einval)
{
	EXPECT_EQ(-EINVAL, ioeventfd(self->d.device, VPT_REGION_OFFSET(0),
				     0, 4, self->d.container));
}

/* Registrations go with the device fd: a new open starts empty. */
TEST_F(edu, close_removes_every_ioeventfd)
{
	uint64_t off = VPT_REGION_OFFSET(0) + EDU_LIVENESS;

	ASSERT_EQ(0, ioeventfd(self->d.device, off, 1, 4, self->efd));
	close(self->d.device);
	self->d.device = ioctl(self->d.group, VFIO_GROUP_GET_DEVICE_FD,
			       VPT_EDU_BDF);
	ASSERT_LE(0, self->d.device);
	EXPECT_EQ(-ENODEV, ioeventfd(self->d.device, off, 1, 4, -1));
}

/* No write may reach the MSI-X table behind VFIO_DEVICE_SET_IRQS. */
TEST(msix_table_is_einval)
{
	uint64_t off, size;
	struct vpt_dev d;
	int bir, efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	bir = vpt_msix_info(VPT_NVME_BDF, &off, &size, NULL);
	ASSERT_LE(0, bir);
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	EXPECT_EQ(-EINVAL, ioeventfd(d.device, VPT_REGION_OFFSET(bir) + off,
				     0, 4, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(d.device, VPT_REGION_OFFSET(bir) + off +
				     size - 4, 0, 4, efd));
	vpt_dev_close(&d);
	close(efd);
}

TEST_HARNESS_MAIN
