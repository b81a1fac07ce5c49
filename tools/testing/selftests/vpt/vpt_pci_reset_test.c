// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_reset_test - function and bus ("hot") resets, as upstream
 * vfio-pci answers them: VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_RESET,
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET, and
 * the bus reset on release of functions that cannot be reset alone.
 *
 * The VM has an edu and a virtio-net function behind a PCIe-to-PCI
 * bridge (one IOMMU group, one bus to reset); the fixture binds both to
 * the stack's driver and gives them back afterwards.  Every answer here
 * is upstream's: the same tests pass with `run.sh --stack vfio`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define EDU_ID		0x010000edU

/* Room for this many functions in a hot reset info reply. */
#define MAX_AFFECTED	8

struct hot_reset_info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devices[MAX_AFFECTED];
};

/* VFIO_DEVICE_PCI_HOT_RESET with @count group fds; 0 or -errno. */
static int hot_reset(int device, const int *fds, unsigned int count,
		     unsigned int flags)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[MAX_AFFECTED];
	} r = { .hdr = { .argsz = sizeof(r), .flags = flags, .count = count } };
	unsigned int i;

	for (i = 0; i < count && i < MAX_AFFECTED; i++)
		r.fds[i] = fds[i];
	return ioctl(device, VFIO_DEVICE_PCI_HOT_RESET, &r) ? -errno : 0;
}

/* Whether entry @d names PCI function @bdf ("0000:01:02.0"). */
static int names(const struct vfio_pci_dependent_device *d, const char *bdf)
{
	unsigned int seg, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return 0;
	return d->segment == seg && d->bus == bus &&
	       d->devfn == ((dev << 3) | fn);
}

FIXTURE(bridged) {
	struct vpt_dev d;		/* the edu behind the bridge */
	char edu[NAME_MAX + 1];
	char net[NAME_MAX + 1];
	char edu_driver[64];
	char net_driver[64];
};

FIXTURE_SETUP(bridged)
{
	self->d.device = -1;
	self->d.group = -1;
	self->d.container = -1;
	self->edu_driver[0] = '\0';
	self->net_driver[0] = '\0';
	ASSERT_EQ(0, vpt_find_other(0x1234, 0x11e8, VPT_EDU_BDF, self->edu,
				    sizeof(self->edu)));
	ASSERT_EQ(0, vpt_find_other(0x1af4, 0x1000, VPT_VIRTIO_NET_BDF,
				    self->net, sizeof(self->net)));
	if (vpt_iommu_group(self->edu) < 0)
		SKIP(return, "%s: %s", self->edu, VPT_NO_BRIDGE_GROUP_REASON);
	ASSERT_EQ(vpt_iommu_group(self->edu), vpt_iommu_group(self->net));
	ASSERT_EQ(0, vpt_driver_of(self->edu, self->edu_driver,
				   sizeof(self->edu_driver)));
	ASSERT_EQ(0, vpt_driver_of(self->net, self->net_driver,
				   sizeof(self->net_driver)));
	ASSERT_EQ(0, vpt_bind(self->edu, vpt_pci_driver_name()));
	ASSERT_EQ(0, vpt_bind(self->net, vpt_pci_driver_name()));
	ASSERT_EQ(0, vpt_dev_open(&self->d, self->edu));
}

FIXTURE_TEARDOWN(bridged)
{
	vpt_dev_close(&self->d);
	if (self->edu_driver[0])
		vpt_put_back(self->edu, self->edu_driver);
	if (self->net_driver[0])
		vpt_put_back(self->net, self->net_driver);
}

/*
 * The PCI core lists a bus reset for a function alone on its bus when
 * it is enumerated; with a second function there it refuses it, so, as
 * upstream, the device offers no reset.
 */
TEST_F(bridged, function_sharing_its_bus_reports_no_reset)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(0U, info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_RESET));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(bridged, hot_reset_info_short_buffer_is_enospc_with_count)
{
	struct vfio_pci_hot_reset_info hdr = { .argsz = sizeof(hdr) };

	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			    &hdr));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(2U, hdr.count);
}

TEST_F(bridged, hot_reset_info_short_argsz_is_einval)
{
	struct vfio_pci_hot_reset_info hdr = { .argsz = 4 };

	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			    &hdr));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(bridged, hot_reset_info_lists_both_functions_and_their_group)
{
	struct hot_reset_info info = { .hdr.argsz = sizeof(info) };
	unsigned int i, edu = 0, net = 0;

	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			   &info));
	EXPECT_EQ(0U, info.hdr.flags);
	ASSERT_EQ(2U, info.hdr.count);
	for (i = 0; i < info.hdr.count; i++) {
		EXPECT_EQ((uint32_t)self->d.group_id, info.devices[i].group_id);
		edu += names(&info.devices[i], self->edu);
		net += names(&info.devices[i], self->net);
	}
	EXPECT_EQ(1U, edu);
	EXPECT_EQ(1U, net);
}

/* The reset goes through, and the function works after it. */
TEST_F(bridged, hot_reset_with_the_group_fd_succeeds)
{
	uint32_t id = 0, bar_before = 0, bar_after = 0;

	ASSERT_EQ(0, vpt_sysfs_config(self->edu, PCI_BASE_ADDRESS_0,
				      &bar_before, 4));
	ASSERT_EQ(0, hot_reset(self->d.device, &self->d.group, 1, 0));
	/* The hardware BAR is back, and decoding with it. */
	ASSERT_EQ(0, vpt_sysfs_config(self->edu, PCI_BASE_ADDRESS_0,
				      &bar_after, 4));
	EXPECT_EQ(bar_before, bar_after);
	ASSERT_EQ(0, vpt_bar0_read32(self->d.device, 0, &id));
	EXPECT_EQ(EDU_ID, id);
}

/* A group fd that owns none of the functions proves nothing. */
TEST_F(bridged, hot_reset_with_an_unaffected_group_fd_is_einval)
{
	struct vpt_dev other;

	ASSERT_EQ(0, vpt_dev_open(&other, VPT_EDU_BDF));
	EXPECT_EQ(-EINVAL, hot_reset(self->d.device, &other.group, 1, 0));
	vpt_dev_close(&other);
}

TEST_F(bridged, hot_reset_without_fds_is_einval)
{
	EXPECT_EQ(-EINVAL, hot_reset(self->d.device, NULL, 0, 0));
}

TEST_F(bridged, hot_reset_with_flags_is_einval)
{
	EXPECT_EQ(-EINVAL, hot_reset(self->d.device, &self->d.group, 1, 1));
}

/* At most one group per affected function: here, two. */
TEST_F(bridged, hot_reset_with_more_fds_than_functions_is_einval)
{
	int fds[3] = { self->d.group, self->d.group, self->d.group };

	EXPECT_EQ(-EINVAL, hot_reset(self->d.device, fds, 3, 0));
}

TEST_F(bridged, hot_reset_with_a_closed_fd_is_ebadf)
{
	int fds[2] = { self->d.group, 1000 };

	EXPECT_EQ(-EBADF, hot_reset(self->d.device, fds, 2, 0));
}

TEST_F(bridged, hot_reset_with_a_container_fd_is_einval)
{
	EXPECT_EQ(-EINVAL, hot_reset(self->d.device, &self->d.container, 1, 0));
}

/* A function on the root bus has no bus to reset: ENODEV for both. */
/* virtio's legacy device status (I/O BAR0): 0 after a device reset. */
#define VIRTIO_PCI_STATUS	0x12
#define VIRTIO_ACKNOWLEDGE	1

/* I/O decode on, for the legacy BAR; 0 or -errno. */
static int net_io_on(int device)
{
	uint16_t cmd;
	int ret = vpt_cfg_read(device, PCI_COMMAND, &cmd, 2);

	if (ret)
		return ret;
	cmd |= PCI_COMMAND_IO;
	return vpt_cfg_write(device, PCI_COMMAND, &cmd, 2);
}

/* The virtio-net's fd from the group the edu shares; fd or -errno. */
static int net_fd(int group, const char *bdf)
{
	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);

	if (fd < 0)
		return -errno;
	if (net_io_on(fd)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* Open the virtio-net, set its status to ACKNOWLEDGE, close it; 0 or -errno. */
static int net_acknowledge(int group, const char *bdf)
{
	uint8_t status = VIRTIO_ACKNOWLEDGE;
	int fd = net_fd(group, bdf), ret = 0;

	if (fd < 0)
		return fd;
	if (pwrite(fd, &status, 1, VPT_REGION_OFFSET(0) + VIRTIO_PCI_STATUS) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* Open the virtio-net, read its status, close it; 0 or -errno. */
static int net_status(int group, const char *bdf, uint8_t *status)
{
	int fd = net_fd(group, bdf), ret = 0;

	if (fd < 0)
		return fd;
	if (pread(fd, status, 1, VPT_REGION_OFFSET(0) + VIRTIO_PCI_STATUS) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Neither function can be reset alone, so the bus is reset when the
 * last of them is closed: the next user finds the device reset.
 */
TEST_F(bridged, closing_the_last_function_resets_the_bus)
{
	uint8_t status = 0;

	ASSERT_EQ(0, net_acknowledge(self->d.group, self->net));
	/* The edu's fd was the other open one: now none is. */
	close(self->d.device);
	self->d.device = -1;
	ASSERT_EQ(0, net_status(self->d.group, self->net, &status));
	EXPECT_EQ(0, status);
}

/* While another function of the bus is open, closing one resets nothing. */
TEST_F(bridged, closing_one_of_two_open_functions_resets_nothing)
{
	uint8_t status = 0;

	ASSERT_EQ(0, net_acknowledge(self->d.group, self->net));
	ASSERT_EQ(0, net_status(self->d.group, self->net, &status));
	EXPECT_EQ(VIRTIO_ACKNOWLEDGE, status);
}

TEST(hot_reset_on_the_root_bus_is_enodev)
{
	struct vfio_pci_hot_reset_info hdr = { .argsz = sizeof(hdr) };
	struct vpt_dev d;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	EXPECT_EQ(-1, ioctl(d.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			    &hdr));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, hot_reset(d.device, &d.group, 1, 0));
	vpt_dev_close(&d);
}

TEST_HARNESS_MAIN
