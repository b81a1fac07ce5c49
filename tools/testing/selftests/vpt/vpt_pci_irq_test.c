// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_irq_test - interrupts and reset of vpt-pci devices:
 * VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS (INTx with masking, MSI,
 * MSI-X, ERR, REQ, software triggers, every error path), device-raised
 * interrupts (edu's 0x60 register, an NVMe Identify completion through
 * the IOMMU), VFIO_DEVICE_RESET and teardown at close.
 *
 * Runs against vpt and against in-tree vfio (VPT_STACK=vfio); vpt-only
 * behaviour is skipped there.  Waiting for a device interrupt uses poll()
 * with a 10 s bound: an interrupt that should come is waited for, one
 * that must not come is checked after the device shows it pending.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define WAIT_MS		10000

/* edu (QEMU hw/misc/edu.c) registers in BAR0. */
#define EDU_LIVENESS	0x04	/* reads back the complement of a write */
#define EDU_FACT	0x08	/* factorial of what was written */
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

/* NVMe controller registers in BAR0. */
#define NVME_CAP	0x00
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_DB		0x1000
#define NVME_CC_EN	0x1
#define NVME_CC_QES	((6 << 16) | (4 << 20))	/* 64 B SQE, 16 B CQE */
#define NVME_CSTS_RDY	0x1
#define NVME_QDEPTH	8

/* DMA layout of the admin queues and the Identify buffer. */
#define PAGE		4096UL
#define IOVA_BASE	0x100000ULL
#define IOVA_SQ		(IOVA_BASE)
#define IOVA_CQ		(IOVA_BASE + PAGE)
#define IOVA_ID		(IOVA_BASE + 2 * PAGE)
#define DMA_SIZE	(3 * PAGE)

#define NVEC		4	/* MSI-X vectors the tests use */

/* --- helpers ------------------------------------------------------------- */

static int set_fds(int dev, uint32_t index, uint32_t start, uint32_t count,
		   const int32_t *fds)
{
	return vpt_set_irqs(dev, index, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_TRIGGER, start, count, fds,
			    count * sizeof(*fds));
}

static int set_none(int dev, uint32_t index, uint32_t action, uint32_t start,
		    uint32_t count)
{
	return vpt_set_irqs(dev, index, VFIO_IRQ_SET_DATA_NONE | action, start,
			    count, NULL, 0);
}

static int disable_irqs(int dev, uint32_t index)
{
	return set_none(dev, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
}

static int irq_info(int dev, uint32_t index, struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, info) ? -errno : 0;
}

static int new_efd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/* The count an eventfd has collected (reading resets it), 0 if none. */
static uint64_t efd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Wait for an eventfd to be signalled; its count, or 0 after WAIT_MS. */
static uint64_t efd_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, WAIT_MS) != 1)
		return 0;
	return efd_take(fd);
}

static int bar0_rd(int dev, uint32_t off, uint32_t *val)
{
	ssize_t n = pread(dev, val, 4,
			  VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + off);

	return n == 4 ? 0 : n < 0 ? -errno : -EIO;
}

static int bar0_wr(int dev, uint32_t off, uint32_t val)
{
	ssize_t n = pwrite(dev, &val, 4,
			   VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + off);

	return n == 4 ? 0 : n < 0 ? -errno : -EIO;
}

static int bar0_wr64(int dev, uint32_t off, uint64_t val)
{
	int ret = bar0_wr(dev, off, (uint32_t)val);

	return ret ? ret : bar0_wr(dev, off + 4, val >> 32);
}

static uint16_t cfg16(int dev, unsigned int off)
{
	uint16_t v = 0xffff;

	vpt_cfg_read(dev, off, &v, sizeof(v));
	return v;
}

/* Memory decode and bus mastering on, through the config region. */
static int enable_dev(int dev)
{
	uint16_t cmd = cfg16(dev, PCI_COMMAND);

	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return vpt_cfg_write(dev, PCI_COMMAND, &cmd, sizeof(cmd));
}

static int set_intx_disable(int dev, bool on)
{
	uint16_t cmd = cfg16(dev, PCI_COMMAND);

	cmd = on ? cmd | PCI_COMMAND_INTX_DISABLE :
		   cmd & ~PCI_COMMAND_INTX_DISABLE;
	return vpt_cfg_write(dev, PCI_COMMAND, &cmd, sizeof(cmd));
}

/* Offset of a standard capability in the user's config space, or 0. */
static unsigned int find_cap(int dev, uint8_t id)
{
	uint8_t pos = 0, hdr[2];
	int loops;

	if (vpt_cfg_read(dev, PCI_CAPABILITY_LIST, &pos, 1))
		return 0;
	for (loops = 0; pos >= 0x40 && loops < 48; loops++) {
		if (vpt_cfg_read(dev, pos, hdr, 2))
			return 0;
		if (hdr[0] == id)
			return pos;
		pos = hdr[1];
	}
	return 0;
}

/* Handlers of @bdf in /proc/interrupts: vpt's and vfio's names end so. */
static int handlers_of(const char *bdf)
{
	char line[1024], tag[48];
	FILE *f = fopen("/proc/interrupts", "r");
	int n = 0;

	if (!f)
		return -1;
	snprintf(tag, sizeof(tag), "(%s)", bdf);
	while (fgets(line, sizeof(line), f)) {
		const char *p = line;

		while ((p = strstr(p, tag))) {
			n++;
			p += strlen(tag);
		}
	}
	fclose(f);
	return n;
}

static int map_dma(int container, uint64_t iova, void *vaddr, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

/* --- edu: INTx and MSI raised by the device --------------------------------- */

FIXTURE(edu) {
	struct vpt_dev d;
	int efd;
};

FIXTURE_SETUP(edu)
{
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
	ASSERT_EQ(0, enable_dev(self->d.device));
	self->efd = new_efd();
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(edu)
{
	close(self->efd);
	vpt_dev_close(&self->d);
}

TEST_F(edu, irq_info_counts_and_flags)
{
	struct vfio_irq_info info;

	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, &info));
	EXPECT_EQ(1U, info.count);
	EXPECT_EQ((uint32_t)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			     VFIO_IRQ_INFO_AUTOMASKED), info.flags);
	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_MSI_IRQ_INDEX, &info));
	EXPECT_EQ(1U, info.count);
	EXPECT_EQ((uint32_t)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE),
		  info.flags);
	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	EXPECT_EQ(0U, info.count);
	/* Conventional PCI: upstream offers ERR from 7.x on, not before. */
	if (vpt_kernel_at_least(7, 0)) {
		ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_ERR_IRQ_INDEX,
				      &info));
		EXPECT_EQ(1U, info.count);
		EXPECT_EQ((uint32_t)(VFIO_IRQ_INFO_EVENTFD |
				     VFIO_IRQ_INFO_NORESIZE), info.flags);
	} else {
		EXPECT_EQ(-EINVAL, irq_info(self->d.device,
					    VFIO_PCI_ERR_IRQ_INDEX, &info));
	}
	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_REQ_IRQ_INDEX, &info));
	EXPECT_EQ(1U, info.count);
	EXPECT_EQ((uint32_t)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE),
		  info.flags);
}

TEST_F(edu, err_trigger_set_as_upstream_offers_it)
{
	int32_t fd = self->efd;
	int ret = set_fds(self->d.device, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &fd);

	/* As GET_IRQ_INFO says: offered for conventional PCI from 7.x. */
	if (!vpt_kernel_at_least(7, 0)) {
		EXPECT_EQ(-EINVAL, ret);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, set_none(self->d.device, VFIO_PCI_ERR_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1U, efd_take(self->efd));
	EXPECT_EQ(0, set_none(self->d.device, VFIO_PCI_ERR_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
}

TEST_F(edu, msi_raised_by_device_signals_eventfd)
{
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSI);
	int32_t fd = self->efd;
	uint32_t st;

	ASSERT_NE(0U, pos);
	EXPECT_EQ(0, cfg16(self->d.device, pos + PCI_MSI_FLAGS) &
		  PCI_MSI_FLAGS_ENABLE);
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd));
	/*
	 * vpt's capability shows what SET_IRQS configured: one vector.
	 * (Upstream keeps the user's MSI control bits: QEMU emulates them.)
	 */
	if (!vpt_stack_is_upstream())
		EXPECT_EQ(PCI_MSI_FLAGS_ENABLE,
			  cfg16(self->d.device, pos + PCI_MSI_FLAGS) &
			  (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));

	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x5));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_rd(self->d.device, EDU_IRQ_STATUS, &st));
	EXPECT_EQ(0x5U, st);
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x5));
	ASSERT_EQ(0, bar0_rd(self->d.device, EDU_IRQ_STATUS, &st));
	EXPECT_EQ(0U, st);

	/* A second interrupt counts again. */
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x1));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x1));

	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_MSI_IRQ_INDEX));
	EXPECT_EQ(0, cfg16(self->d.device, pos + PCI_MSI_FLAGS) &
		  PCI_MSI_FLAGS_ENABLE);
}

TEST_F(edu, msi_enable_written_to_config_is_not_set_irqs)
{
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSI);
	uint16_t flags;

	ASSERT_NE(0U, pos);
	flags = cfg16(self->d.device, pos + PCI_MSI_FLAGS) |
		PCI_MSI_FLAGS_ENABLE;
	ASSERT_EQ(0, vpt_cfg_write(self->d.device, pos + PCI_MSI_FLAGS,
				   &flags, sizeof(flags)));
	EXPECT_EQ(0, cfg16(self->d.device, pos + PCI_MSI_FLAGS) &
		  PCI_MSI_FLAGS_ENABLE);
	EXPECT_EQ(0, handlers_of(VPT_EDU_BDF));
}

/*
 * INTx: the handler masks the line; a second interrupt raised while
 * masked stays pending in the device (STATUS.INTERRUPT) and reaches the
 * eventfd only when the user unmasks.
 */
TEST_F(edu, intx_automasks_until_unmask)
{
	int32_t fd = self->efd;
	uint32_t st;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x1));
	ASSERT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x1));
	ASSERT_EQ(0, bar0_rd(self->d.device, EDU_IRQ_STATUS, &st));
	EXPECT_EQ(0U, st);

	/* Still masked: the next interrupt is held back. */
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x2));
	EXPECT_TRUE(cfg16(self->d.device, PCI_STATUS) & PCI_STATUS_INTERRUPT);
	EXPECT_EQ(0U, efd_take(self->efd));

	/* Unmask with it pending: the user is signalled at once. */
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x2));
	EXPECT_FALSE(cfg16(self->d.device, PCI_STATUS) & PCI_STATUS_INTERRUPT);

	/* Unmasked with nothing pending: the next one is delivered. */
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x4));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x4));

	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
}

/* ACTION_MASK from the user holds interrupts back the same way. */
TEST_F(edu, intx_mask_action_holds_interrupt)
{
	int32_t fd = self->efd;
	uint8_t one = 1;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK,
				  0, 1, &one, 1));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x1));
	EXPECT_TRUE(cfg16(self->d.device, PCI_STATUS) & PCI_STATUS_INTERRUPT);
	EXPECT_EQ(0U, efd_take(self->efd));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_BOOL |
				  VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &one, 1));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x1));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
}

/* The virtual DisINTx bit masks too, and unmasking follows clearing it. */
TEST_F(edu, intx_disable_bit_masks_interrupt)
{
	int32_t fd = self->efd;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, set_intx_disable(self->d.device, true));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x1));
	EXPECT_TRUE(cfg16(self->d.device, PCI_STATUS) & PCI_STATUS_INTERRUPT);
	EXPECT_EQ(0U, efd_take(self->efd));
	ASSERT_EQ(0, set_intx_disable(self->d.device, false));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x1));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
}

/* An unmask eventfd (KVM's resample fd) unmasks like ACTION_UNMASK. */
TEST_F(edu, intx_unmask_eventfd_unmasks)
{
	int32_t fd = self->efd, ufd = new_efd();
	uint64_t one = 1;

	ASSERT_LE(0, ufd);
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &ufd, 4));
	EXPECT_EQ(-EBUSY, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_EVENTFD |
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &ufd, 4));

	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x1));
	ASSERT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x1));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x2));
	EXPECT_TRUE(cfg16(self->d.device, PCI_STATUS) & PCI_STATUS_INTERRUPT);
	EXPECT_EQ(0U, efd_take(self->efd));

	/* Signalling the unmask eventfd with one pending: signalled again. */
	ASSERT_EQ((ssize_t)sizeof(one), write(ufd, &one, sizeof(one)));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x2));
	/* Nothing pending: unmasked, the next interrupt comes through. */
	ASSERT_EQ((ssize_t)sizeof(one), write(ufd, &one, sizeof(one)));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_RAISE, 0x4));
	EXPECT_EQ(1U, efd_wait(self->efd));
	ASSERT_EQ(0, bar0_wr(self->d.device, EDU_IRQ_ACK, 0x4));

	fd = -1;
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &fd, 4));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
	close(ufd);
}

/*
 * Closing the unmask eventfd removes it, as upstream's virqfd: QEMU
 * "cleans up the kernel side" of KVM's resample fd that way, and then
 * registers a new one each time it sets INTx up again.
 */
TEST_F(edu, intx_unmask_eventfd_closed_is_replaced)
{
	int32_t fd = self->efd, ufd = new_efd();

	ASSERT_LE(0, ufd);
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &ufd, 4));
	close(ufd);
	ufd = new_efd();
	ASSERT_LE(0, ufd);
	EXPECT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &ufd, 4));
	/* The new one is registered: a third is refused. */
	EXPECT_EQ(-EBUSY, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_EVENTFD |
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &ufd, 4));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
	close(ufd);
}

TEST_F(edu, intx_software_trigger_and_trigger_swap)
{
	int32_t fd = self->efd, fd2 = new_efd();
	uint8_t b[1] = { 1 };

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1U, efd_take(self->efd));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_BOOL |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, b, 1));
	EXPECT_EQ(1U, efd_take(self->efd));

	/* A new eventfd while enabled replaces the old one. */
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd2));
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(0U, efd_take(self->efd));
	EXPECT_EQ(1U, efd_take(fd2));

	/* No eventfd (-1): the handler stays, loopback signals nothing. */
	fd = -1;
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(0U, efd_take(fd2));
	EXPECT_EQ(1, handlers_of(VPT_EDU_BDF));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
	EXPECT_EQ(0, handlers_of(VPT_EDU_BDF));
	close(fd2);
}

TEST_F(edu, intx_and_msi_are_exclusive)
{
	int32_t fd = self->efd;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	EXPECT_EQ(-EINVAL, set_fds(self->d.device, VFIO_PCI_MSI_IRQ_INDEX, 0,
				   1, &fd));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd));
	EXPECT_EQ(-EINVAL, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0,
				   1, &fd));
	/* Mask/unmask need INTx enabled. */
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_MSI_IRQ_INDEX));
}

/* Teardown of what is not enabled is refused, as upstream. */
TEST_F(edu, disable_when_not_enabled_is_einval)
{
	EXPECT_EQ(-EINVAL, disable_irqs(self->d.device, VFIO_PCI_INTX_IRQ_INDEX));
	EXPECT_EQ(-EINVAL, disable_irqs(self->d.device, VFIO_PCI_MSI_IRQ_INDEX));
}

TEST_F(edu, close_with_intx_enabled_frees_handler)
{
	int32_t fd = self->efd;

	ASSERT_EQ(0, handlers_of(VPT_EDU_BDF));
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			     &fd));
	EXPECT_EQ(1, handlers_of(VPT_EDU_BDF));
	vpt_dev_close(&self->d);
	EXPECT_EQ(0, handlers_of(VPT_EDU_BDF));
}

TEST_F(edu, close_with_msi_enabled_frees_handler)
{
	int32_t fd = self->efd;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd));
	EXPECT_EQ(1, handlers_of(VPT_EDU_BDF));
	vpt_dev_close(&self->d);
	EXPECT_EQ(0, handlers_of(VPT_EDU_BDF));
}

/* --- SET_IRQS errors: each fails and changes nothing ------------------------ */

FIXTURE(err) {
	struct vpt_dev d;
	int efd[2];
	int handlers;
};

/* nvme with MSI-X vectors 0 and 1 enabled: the state errors must keep. */
FIXTURE_SETUP(err)
{
	int32_t fds[2];

	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	ASSERT_EQ(0, enable_dev(self->d.device));
	self->efd[0] = new_efd();
	self->efd[1] = new_efd();
	ASSERT_LE(0, self->efd[0]);
	ASSERT_LE(0, self->efd[1]);
	fds[0] = self->efd[0];
	fds[1] = self->efd[1];
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2,
			     fds));
	self->handlers = handlers_of(VPT_NVME_BDF);
	ASSERT_EQ(2, self->handlers);
}

FIXTURE_TEARDOWN(err)
{
	vpt_dev_close(&self->d);
	close(self->efd[0]);
	close(self->efd[1]);
}

/* The vectors still signal their own eventfds; no handler came or went. */
#define ASSERT_STATE_KEPT() do {					\
	ASSERT_EQ(self->handlers, handlers_of(VPT_NVME_BDF));		\
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,	\
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));	\
	ASSERT_EQ(1U, efd_take(self->efd[0]));				\
	ASSERT_EQ(1U, efd_take(self->efd[1]));				\
} while (0)

TEST_F(err, bad_index_einval)
{
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_NUM_IRQS,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(-EINVAL, set_none(self->d.device, 0xffffffff,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	/* nvme has no MSI capability: its MSI index has no vectors. */
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	ASSERT_STATE_KEPT();
}

TEST_F(err, start_count_beyond_vectors_einval)
{
	struct vfio_irq_info info;
	int32_t fd = self->efd[0];

	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0,
				    info.count + 1));
	EXPECT_EQ(-EINVAL, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				   info.count, 1, &fd));
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 1, 1));
	ASSERT_STATE_KEPT();
}

TEST_F(err, count_overflow_einval)
{
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 1,
				    0xffffffff));
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0xffffffff,
				    1));
	ASSERT_STATE_KEPT();
}

TEST_F(err, argsz_short_of_payload_einval)
{
	size_t minsz = offsetof(struct vfio_irq_set, data);
	struct {
		struct vfio_irq_set s;
		int32_t fds[2];
	} req = {
		.s = {
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSIX_IRQ_INDEX,
			.start = 0,
			.count = 2,
		},
		.fds = { -1, -1 },
	};

	req.s.argsz = minsz - 1;
	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_SET_IRQS, &req));
	EXPECT_EQ(EINVAL, errno);
	req.s.argsz = minsz + sizeof(req.fds) - 1;
	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_SET_IRQS, &req));
	EXPECT_EQ(EINVAL, errno);
	/* DATA_BOOL: one byte per vector. */
	req.s.flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	req.s.argsz = minsz + 1;
	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_SET_IRQS, &req));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_STATE_KEPT();
}

TEST_F(err, bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->d.device, VFIO_DEVICE_SET_IRQS, NULL));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_STATE_KEPT();
}

TEST_F(err, flag_combinations_rejected)
{
	uint8_t b[2] = { 1, 1 };

	/* Two data types. */
	EXPECT_EQ(-EINVAL, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_NONE |
					VFIO_IRQ_SET_DATA_BOOL |
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2, b, 2));
	/* No data type at all. */
	EXPECT_EQ(-EINVAL, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2, NULL,
					0));
	/* An unknown flag. */
	EXPECT_EQ(-EINVAL, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_NONE |
					VFIO_IRQ_SET_ACTION_TRIGGER | (1U << 12),
					0, 2, NULL, 0));
	/* Two actions, and actions MSI-X does not have. */
	EXPECT_EQ(-ENOTTY, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_MASK |
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(-ENOTTY, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	EXPECT_EQ(-ENOTTY, set_none(self->d.device, VFIO_PCI_REQ_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	/* INTx while MSI-X is on. */
	EXPECT_EQ(-EINVAL, set_fds(self->d.device, VFIO_PCI_INTX_IRQ_INDEX, 0,
				   1, &(int32_t){ self->efd[0] }));
	ASSERT_STATE_KEPT();
}

/* A bad fd in a block while enabled: vpt checks every fd first. */
TEST_F(err, bad_eventfd_in_block_changes_nothing)
{
	int null = open("/dev/null", O_RDWR);
	int32_t fds[2];

	/* upstream releases the block's vectors */
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_LE(0, null);
	fds[0] = self->efd[1];
	fds[1] = 999;
	EXPECT_EQ(-EBADF, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0,
				  2, fds));
	fds[1] = null;
	EXPECT_EQ(-EINVAL, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0,
				   2, fds));
	close(null);
	ASSERT_STATE_KEPT();
}

/* From the disabled state a bad fd leaves MSI-X disabled, on both stacks. */
TEST(bad_eventfd_leaves_msix_disabled)
{
	int null = open("/dev/null", O_RDWR), efd = new_efd();
	struct vpt_dev d;
	unsigned int pos;
	int32_t fds[2];

	ASSERT_LE(0, null);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	pos = find_cap(d.device, PCI_CAP_ID_MSIX);
	ASSERT_NE(0U, pos);
	fds[0] = efd;
	fds[1] = 999;
	EXPECT_EQ(-EBADF, set_fds(d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds));
	fds[1] = null;
	EXPECT_EQ(-EINVAL, set_fds(d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2,
				   fds));
	EXPECT_EQ(0, handlers_of(VPT_NVME_BDF));
	EXPECT_EQ(0, cfg16(d.device, pos + PCI_MSIX_FLAGS) &
		  PCI_MSIX_FLAGS_ENABLE);
	/* INTx too. */
	fds[0] = 999;
	EXPECT_EQ(-EBADF, set_fds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
				  fds));
	EXPECT_EQ(0, handlers_of(VPT_NVME_BDF));
	vpt_dev_close(&d);
	close(null);
	close(efd);
}

/* --- MSI-X, software triggers and REQ/ERR --------------------------------- */

FIXTURE(msix) {
	struct vpt_dev d;
	int efd[NVEC];
	unsigned int pos;
};

FIXTURE_SETUP(msix)
{
	int i;

	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	ASSERT_EQ(0, enable_dev(self->d.device));
	for (i = 0; i < NVEC; i++) {
		self->efd[i] = new_efd();
		ASSERT_LE(0, self->efd[i]);
	}
	self->pos = find_cap(self->d.device, PCI_CAP_ID_MSIX);
	ASSERT_NE(0U, self->pos);
}

FIXTURE_TEARDOWN(msix)
{
	int i;

	vpt_dev_close(&self->d);
	for (i = 0; i < NVEC; i++)
		close(self->efd[i]);
}

TEST_F(msix, irq_info_pcie_function)
{
	struct vfio_irq_info info;
	uint16_t flags = 0;

	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, self->pos + PCI_MSIX_FLAGS,
				  &flags, 2));
	EXPECT_EQ((flags & PCI_MSIX_FLAGS_QSIZE) + 1U, info.count);
	EXPECT_TRUE(!!(info.flags & VFIO_IRQ_INFO_EVENTFD));
	EXPECT_FALSE(!!(info.flags & VFIO_IRQ_INFO_MASKABLE));
	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_ERR_IRQ_INDEX, &info));
	EXPECT_EQ(1U, info.count);
	EXPECT_EQ((uint32_t)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE),
		  info.flags);
	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_MSI_IRQ_INDEX, &info));
	EXPECT_EQ(0U, info.count);
}

TEST_F(msix, software_triggers_land_on_their_vector)
{
	int32_t fds[NVEC];
	uint8_t bools[NVEC] = { 1, 0, 0, 1 };
	int i;

	for (i = 0; i < NVEC; i++)
		fds[i] = self->efd[i];
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, NVEC,
			     fds));
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE,
		  cfg16(self->d.device, self->pos + PCI_MSIX_FLAGS) &
		  PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(NVEC, handlers_of(VPT_NVME_BDF));

	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 2, 1));
	for (i = 0; i < NVEC; i++)
		EXPECT_EQ(i == 2 ? 1U : 0U, efd_take(self->efd[i]))
			TH_LOG("vector %d", i);

	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_BOOL |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, NVEC, bools,
				  NVEC));
	for (i = 0; i < NVEC; i++)
		EXPECT_EQ((uint64_t)bools[i], efd_take(self->efd[i]))
			TH_LOG("vector %d", i);

	ASSERT_EQ(0, disable_irqs(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX));
	EXPECT_EQ(0, cfg16(self->d.device, self->pos + PCI_MSIX_FLAGS) &
		  PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(0, handlers_of(VPT_NVME_BDF));
}

TEST_F(msix, vector_eventfd_changes_while_enabled)
{
	int32_t fds[2] = { self->efd[0], self->efd[1] }, fd;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2,
			     fds));
	fd = self->efd[2];
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
			     &fd));
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	EXPECT_EQ(1U, efd_take(self->efd[0]));
	EXPECT_EQ(0U, efd_take(self->efd[1]));
	EXPECT_EQ(1U, efd_take(self->efd[2]));

	/* -1 releases one vector; the others stay. */
	fd = -1;
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
			     &fd));
	EXPECT_EQ(1, handlers_of(VPT_NVME_BDF));
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	EXPECT_EQ(1U, efd_take(self->efd[0]));
	EXPECT_EQ(0U, efd_take(self->efd[2]));
}

/* Vectors beyond those enabled first: only with dynamic MSI-X. */
TEST_F(msix, adding_vector_follows_noresize)
{
	struct vfio_irq_info info;
	int32_t fd = self->efd[0];
	int ret;

	ASSERT_EQ(0, irq_info(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
			     &fd));
	fd = self->efd[3];
	ret = set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 3, 1, &fd);
	TH_LOG("MSI-X %s", info.flags & VFIO_IRQ_INFO_NORESIZE ?
	       "NORESIZE" : "dynamic");
	if (info.flags & VFIO_IRQ_INFO_NORESIZE) {
		EXPECT_EQ(-EINVAL, ret);
		EXPECT_EQ(1, handlers_of(VPT_NVME_BDF));
	} else {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(2, handlers_of(VPT_NVME_BDF));
		ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, 3, 1));
		EXPECT_EQ(1U, efd_take(self->efd[3]));
	}
}

TEST_F(msix, close_with_msix_enabled_frees_handlers)
{
	int32_t fds[NVEC];
	int i;

	for (i = 0; i < NVEC; i++)
		fds[i] = self->efd[i];
	ASSERT_EQ(0, handlers_of(VPT_NVME_BDF));
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, NVEC,
			     fds));
	EXPECT_EQ(NVEC, handlers_of(VPT_NVME_BDF));
	vpt_dev_close(&self->d);
	EXPECT_EQ(0, handlers_of(VPT_NVME_BDF));
}

TEST_F(msix, err_and_req_eventfds_loop_back)
{
	int32_t fd = self->efd[0];
	uint8_t one = 1;

	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &fd));
	fd = self->efd[1];
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &fd));
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_ERR_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_REQ_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_BOOL |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &one, 1));
	EXPECT_EQ(1U, efd_take(self->efd[0]));
	EXPECT_EQ(1U, efd_take(self->efd[1]));
	/* DATA_NONE with count 0 unregisters; then there is nothing to drop. */
	ASSERT_EQ(0, set_none(self->d.device, VFIO_PCI_REQ_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	EXPECT_EQ(-EINVAL, set_none(self->d.device, VFIO_PCI_REQ_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	ASSERT_EQ(0, vpt_set_irqs(self->d.device, VFIO_PCI_REQ_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_BOOL |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &one, 1));
	EXPECT_EQ(0U, efd_take(self->efd[1]));
	/* Not an interrupt handler: nothing in /proc/interrupts. */
	EXPECT_EQ(0, handlers_of(VPT_NVME_BDF));
}

/* --- NVMe: an Identify completion written through the IOMMU, and MSI-X ---- */

struct nvme_sqe {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase */
};

/* An admin queue pair in DMA-mapped memory, completions on vector 0. */
struct nvme_q {
	int dev;
	uint8_t *mem;		/* SQ, CQ, Identify buffer: DMA_SIZE bytes */
	int efd;		/* MSI-X vector 0 */
	unsigned int dstrd;	/* doorbell stride in bytes */
	uint16_t sq_tail;
	uint16_t cq_head;
};

FIXTURE(nvme) {
	struct vpt_dev d;
	struct nvme_q q;
};

static int wait_rdy(int dev, uint32_t want)
{
	uint32_t csts;
	int i, ret;

	for (i = 0; i < WAIT_MS / 10; i++) {
		ret = bar0_rd(dev, NVME_CSTS, &csts);
		if (ret)
			return ret;
		if ((csts & NVME_CSTS_RDY) == want)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Admin queues at IOVA_SQ/IOVA_CQ and the controller enabled. */
static int nvme_start(struct nvme_q *q)
{
	uint32_t cap_hi;
	int ret;

	memset(q->mem, 0, DMA_SIZE);
	q->sq_tail = 0;
	q->cq_head = 0;
	ret = bar0_rd(q->dev, NVME_CAP + 4, &cap_hi);
	if (ret)
		return ret;
	q->dstrd = 4U << (cap_hi & 0xf);
	ret = bar0_wr(q->dev, NVME_CC, 0);
	if (!ret)
		ret = wait_rdy(q->dev, 0);
	if (!ret)
		ret = bar0_wr(q->dev, NVME_AQA,
			      ((NVME_QDEPTH - 1) << 16) | (NVME_QDEPTH - 1));
	if (!ret)
		ret = bar0_wr64(q->dev, NVME_ASQ, IOVA_SQ);
	if (!ret)
		ret = bar0_wr64(q->dev, NVME_ACQ, IOVA_CQ);
	if (!ret)
		ret = bar0_wr(q->dev, NVME_CC, NVME_CC_QES | NVME_CC_EN);
	if (!ret)
		ret = wait_rdy(q->dev, 1);
	return ret;
}

/*
 * Identify Controller into IOVA_ID: submit, wait for vector 0's eventfd,
 * copy the completion entry out.  0, or -ETIMEDOUT if no interrupt came.
 */
static int nvme_identify(struct nvme_q *q, uint16_t cid,
			 struct nvme_cqe *out)
{
	struct nvme_sqe *sq = (struct nvme_sqe *)q->mem;
	struct nvme_cqe *cq = (struct nvme_cqe *)(q->mem + PAGE);
	struct nvme_sqe cmd = {
		.opc = 0x06,
		.cid = cid,
		.prp1 = IOVA_ID,
		.cdw10 = 1,	/* CNS 1: the controller */
	};
	unsigned int slot = q->cq_head;
	int ret;

	sq[q->sq_tail] = cmd;
	__sync_synchronize();
	q->sq_tail = (q->sq_tail + 1) % NVME_QDEPTH;
	ret = bar0_wr(q->dev, NVME_DB, q->sq_tail);
	if (ret)
		return ret;
	if (efd_wait(q->efd) != 1)
		return -ETIMEDOUT;
	/* The device wrote the entry before it raised the interrupt. */
	__sync_synchronize();
	memcpy(out, &cq[slot], sizeof(*out));
	q->cq_head = (q->cq_head + 1) % NVME_QDEPTH;
	return bar0_wr(q->dev, NVME_DB + q->dstrd, q->cq_head);
}

FIXTURE_SETUP(nvme)
{
	int32_t fd;

	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	ASSERT_EQ(0, enable_dev(self->d.device));
	self->q.dev = self->d.device;
	self->q.mem = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->q.mem);
	ASSERT_EQ(0, map_dma(self->d.container, IOVA_BASE, self->q.mem,
			     DMA_SIZE));
	self->q.efd = new_efd();
	ASSERT_LE(0, self->q.efd);
	fd = self->q.efd;
	ASSERT_EQ(0, set_fds(self->d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
			     &fd));
	ASSERT_EQ(0, nvme_start(&self->q));
}

FIXTURE_TEARDOWN(nvme)
{
	bar0_wr(self->d.device, NVME_CC, 0);
	wait_rdy(self->d.device, 0);
	vpt_dev_close(&self->d);
	close(self->q.efd);
	munmap(self->q.mem, DMA_SIZE);
}

static void check_identify(struct __test_metadata *_metadata,
			   const struct nvme_cqe *cqe, uint16_t cid,
			   const uint8_t *id)
{
	EXPECT_EQ(cid, cqe->cid);
	EXPECT_EQ(1, cqe->status & 1);		/* phase tag of pass one */
	EXPECT_EQ(0, cqe->status >> 1);		/* success */
	/* PCI vendor id, then the serial number QEMU was given. */
	EXPECT_EQ(0x1b36, id[0] | id[1] << 8);
	EXPECT_EQ(0, memcmp(id + 4, "vpt0", 4));
}

TEST_F(nvme, identify_completion_and_msix_interrupt)
{
	struct nvme_cqe cqe;

	ASSERT_EQ(0, nvme_identify(&self->q, 0x42, &cqe));
	check_identify(_metadata, &cqe, 0x42, self->q.mem + 2 * PAGE);
}

/* Reset: the device works afterwards and the user's config state stays. */
TEST_F(nvme, reset_keeps_config_and_device_works)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t cc = 1, bar_user = 0, bar_after = 0;
	struct nvme_cqe cqe;
	uint16_t cmd;
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSIX);

	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_GET_INFO, &info));
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET))
		SKIP(return, "nvme has no reset method");
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_BASE_ADDRESS_0,
				  &bar_user, 4));

	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_RESET));

	/* The controller was reset ... */
	ASSERT_EQ(0, bar0_rd(self->d.device, NVME_CC, &cc));
	EXPECT_EQ(0U, cc);
	/* ... the command register, BAR and MSI-X state were kept ... */
	cmd = cfg16(self->d.device, PCI_COMMAND);
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		  cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_BASE_ADDRESS_0,
				  &bar_after, 4));
	EXPECT_EQ(bar_user, bar_after);
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE,
		  cfg16(self->d.device, pos + PCI_MSIX_FLAGS) &
		  PCI_MSIX_FLAGS_ENABLE);
	/* ... and the device works, interrupt included. */
	ASSERT_EQ(0, nvme_start(&self->q));
	ASSERT_EQ(0, nvme_identify(&self->q, 0x7, &cqe));
	check_identify(_metadata, &cqe, 0x7, self->q.mem + 2 * PAGE);
}

/* --- REQ on unbind ---------------------------------------------------------- */

/*
 * Unbinding a device the user holds blocks and signals REQ; releasing the
 * device lets the unbind finish.  The device is bound back afterwards.
 * A fixture of its own so that it runs last.
 */
FIXTURE(req) {
	int efd;
};

FIXTURE_SETUP(req)
{
	self->efd = new_efd();
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(req)
{
	close(self->efd);
}

TEST_F(req, signalled_on_unbind_while_held)
{
	char path[PATH_MAX];
	struct vpt_dev d;
	int32_t fd = self->efd;
	uint64_t n;
	int status;
	pid_t pid;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	ASSERT_EQ(0, set_fds(d.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &fd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The unbind waits for every device fd: drop our copies. */
		vpt_dev_close(&d);
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind",
			 VPT_EDU_BDF);
		_exit(vpt_sysfs_write(path, VPT_EDU_BDF) ? 1 : 0);
	}
	n = efd_wait(self->efd);
	vpt_dev_close(&d);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_LE(1U, n);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Back to the driver under test for whatever runs next. */
	ASSERT_EQ(0, vpt_bind(VPT_EDU_BDF, vpt_pci_driver_name()));
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	vpt_dev_close(&d);
}

TEST_HARNESS_MAIN
