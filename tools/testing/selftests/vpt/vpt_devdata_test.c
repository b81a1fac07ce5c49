// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_devdata_test - device-controlled config data that changes between
 * two reads, and resources the kernel left unassigned.
 *
 * QEMU's devices never change their "read-only" registers, so the test
 * loads vpt_fakedev.ko (vpt_fakedev/, copied to /tests by the VM runner):
 * kretprobes on pci_bus_read_config_{byte,word,dword}() that make chosen
 * bytes of one function read as the test says, through chosen accessor
 * widths, and a switch that releases a function's ROM resource.  The
 * tests run against vpt and in-tree vfio (VPT_STACK=vfio) and assert
 * upstream's answer where upstream defines one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define FAKEDEV_KO	"/tests/vpt_fakedev.ko"
#define FAKEDEV_PARAM	"/sys/module/vpt_fakedev/parameters/"
#define FAKE_ALL_WIDTHS	7	/* byte, word and dword accessors */
#define FAKE_WORD	2

/* Load vpt_fakedev.ko: 0, or -errno (-ENOENT: not in this initramfs). */
static int fakedev_load(void)
{
	int fd = open(FAKEDEV_KO, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
		ret = -errno;
	close(fd);
	return ret;
}

static void fakedev_unload(void)
{
	vpt_sysfs_write(FAKEDEV_PARAM "rule", "clear");
	syscall(SYS_delete_module, "vpt_fakedev", O_NONBLOCK);
}

/* Make @size bytes at @off of @bdf read as @value through @widths. */
static int fake_rule(const char *bdf, unsigned int off, unsigned int size,
		     uint32_t value, unsigned int widths)
{
	char rule[96];

	snprintf(rule, sizeof(rule), "%s %#x %u %#x %u", bdf, off, size,
		 value, widths);
	return vpt_sysfs_write(FAKEDEV_PARAM "rule", rule);
}

static int fake_rom(const char *op, const char *bdf)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "%s %s", op, bdf);
	return vpt_sysfs_write(FAKEDEV_PARAM "rom", cmd);
}

static int irq_count(int dev, uint32_t index)
{
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	return ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &info) ? -errno :
	       (int)info.count;
}

/* Offset of capability @id in the hardware's list (sysfs config), or 0. */
static unsigned int hw_cap(const char *bdf, uint8_t id)
{
	char path[96];
	uint8_t cfg[256];
	unsigned int pos, loops;
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n != (int)sizeof(cfg))
		return 0;
	pos = cfg[PCI_CAPABILITY_LIST];
	for (loops = 0; pos >= 0x40 && pos < 0xff && loops < 48; loops++) {
		if (cfg[pos] == id)
			return pos;
		pos = cfg[pos + 1];
	}
	return 0;
}

FIXTURE(fake) {
	struct vpt_dev d;
	int efd;
};

FIXTURE_SETUP(fake)
{
	int ret = fakedev_load();

	self->d.device = -1;
	self->d.group = -1;
	self->d.container = -1;
	self->efd = -1;
	if (ret == -ENOENT)
		SKIP(return, FAKEDEV_KO " not in this initramfs");
	ASSERT_EQ(0, ret);
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(fake)
{
	/* The device's release must see the real config space again. */
	vpt_sysfs_write(FAKEDEV_PARAM "rule", "clear");
	vpt_dev_close(&self->d);
	if (self->efd >= 0)
		close(self->efd);
	fakedev_unload();
}

/*
 * MSI-X enabled with the table size the device had; then the device
 * reports a larger table.  GET_IRQ_INFO follows the fresh read (as
 * upstream), but SET_IRQS is bounded by the vectors allocated at enable:
 * a loopback or an eventfd beyond them is -EINVAL, as upstream, and the
 * vectors that exist still work.
 */
TEST_F(fake, msix_grown_table_size_bounded_by_allocated_vectors)
{
	unsigned int cap = hw_cap(VPT_NVME_BDF, PCI_CAP_ID_MSIX);
	int32_t fd = self->efd;
	uint64_t v = 0;
	int n;

	ASSERT_NE(0U, cap);
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	n = irq_count(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX);
	ASSERT_LT(0, n);
	ASSERT_GT(256 - 16, n);		/* the grown size fits the low byte */
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &fd,
				  sizeof(fd)));

	/* Table Size is N-1 encoded, in bits 0-10 of Message Control. */
	ASSERT_EQ(0, fake_rule(VPT_NVME_BDF, cap + PCI_MSIX_FLAGS, 1,
			       n - 1 + 16, FAKE_ALL_WIDTHS));
	ASSERT_EQ(n + 16, irq_count(self->d.device,
				    VFIO_PCI_MSIX_IRQ_INDEX));

	EXPECT_EQ(-EINVAL, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_NONE |
					VFIO_IRQ_SET_ACTION_TRIGGER, n, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_NONE |
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, n + 16,
					NULL, 0));
	EXPECT_EQ(-EINVAL, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_EVENTFD |
					VFIO_IRQ_SET_ACTION_TRIGGER, n + 15, 1,
					&fd, sizeof(fd)));

	/* Vector 0 is untouched and still signals its eventfd. */
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_NONE |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL, 0));
	ASSERT_EQ((ssize_t)sizeof(v), read(self->efd, &v, sizeof(v)));
	EXPECT_EQ(1U, v);
}

/*
 * The MSI capability sits at 0xf0 of a 256-byte config space.  Its
 * flags read as 64-bit with per-vector masking in the dword snapshot of
 * config space, but as a plain 32-bit capability in a later word read.
 * Length and layout must come from the same read: 64-bit with masking
 * needs 24 bytes, which do not fit, so vpt hides the capability (and
 * with it the capability list).  Acting on the word read would keep a
 * 10-byte capability and lay out its mask register at 0x100, past the
 * end of the virtual config space.
 */
TEST_F(fake, msi_flags_changed_between_reads_sized_from_one_read)
{
	uint16_t status = 0;
	uint8_t ptr = 0xff;

	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_EQ(0, fake_rule(VPT_EDU_BDF, PCI_CAPABILITY_LIST, 1, 0xf0,
			       FAKE_ALL_WIDTHS));
	ASSERT_EQ(0, fake_rule(VPT_EDU_BDF, 0xf0, 4,
			       (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT) << 16 |
			       PCI_CAP_ID_MSI, FAKE_ALL_WIDTHS));
	ASSERT_EQ(0, fake_rule(VPT_EDU_BDF, 0xf0 + PCI_MSI_FLAGS, 2, 0,
			       FAKE_WORD));
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
	ASSERT_EQ(0, vpt_sysfs_write(FAKEDEV_PARAM "rule", "clear"));

	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_CAPABILITY_LIST, &ptr, 1));
	EXPECT_EQ(0, ptr);
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_STATUS, &status, 2));
	EXPECT_EQ(0, status & PCI_STATUS_CAP_LIST);
}

/*
 * A ROM resource with no assigned start (released, length kept) is
 * refused with -EINVAL, as upstream: its bus address 0 is never enabled
 * in the ROM BAR and never mapped.
 */
TEST_F(fake, unassigned_rom_read_einval)
{
	uint8_t buf[4];
	ssize_t n;

	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_VIRTIO_NET_BDF));
	ASSERT_EQ(0, fake_rom("release", VPT_VIRTIO_NET_BDF));
	n = pread(self->d.device, buf, sizeof(buf),
		  VPT_REGION_OFFSET(VFIO_PCI_ROM_REGION_INDEX));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINVAL, errno);
	/* Give the ROM its address back for the tests that follow. */
	fake_rom("assign", VPT_VIRTIO_NET_BDF);
}

TEST_HARNESS_MAIN
