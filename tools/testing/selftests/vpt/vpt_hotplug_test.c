// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_hotplug_test - the host hot-unplugs a device (QMP device_del of an
 * edu behind a PCIe root port) while a user holds it with DMA mapped, a
 * BAR mmapped and MSI enabled.  The user is asked through the REQ
 * eventfd, lets go, and nothing is left: no pin, no handler, no oops.
 *
 * Runs for real in `run.sh --hotplug`: the guest exports the device as
 * VPT_HOTPLUG_BDF, and the host sends device_del when this test writes
 * "VPT-UNPLUG hpedu" to the kernel log.  Elsewhere it skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define HP_IOVA		0x100000U
/* Bounds on waiting for the guest's hotplug path, not timing checks. */
#define HP_WAIT_MS	120000

/* Ask the host, through the console, to unplug the device. */
static int request_unplug(void)
{
	static const char msg[] = "<2>VPT-UNPLUG hpedu\n";
	int fd = open("/dev/kmsg", O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, msg, sizeof(msg) - 1);
	close(fd);
	return n == sizeof(msg) - 1 ? 0 : -EIO;
}

static int gone(const char *bdf)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return stat(path, &st) && errno == ENOENT;
}

TEST(hot_unplug_while_mapped_asks_the_user_and_leaves_nothing)
{
	const char *bdf = getenv("VPT_HOTPLUG_BDF");
	long long pins0;
	struct vpt_dev d;
	struct pollfd p;
	uint8_t *buf, *bar;
	int irqs0, efd, req, i;
	uint64_t n;

	if (!bdf || !*bdf)
		SKIP(return, "no hotpluggable device in this VM");
	if (access("/sys/module/pciehp", F_OK))
		SKIP(return, "no PCIe native hotplug (pciehp) in this kernel");
	pins0 = vpt_pins_now();
	irqs0 = vpt_irq_handlers();
	ASSERT_EQ(0, vpt_bind(bdf, vpt_pci_driver_name()));
	ASSERT_EQ(0, vpt_dev_open(&d, bdf));

	/* Everything a VMM holds: DMA, a BAR mmap, MSI and REQ. */
	buf = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, vpt_edu_round_trip(d.container, d.device, HP_IOVA));
	ASSERT_EQ(0, vpt_map(d.container, HP_IOVA, buf, 2 * 4096, 3));
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d.device,
		   VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX));
	ASSERT_NE(MAP_FAILED, bar);
	efd = eventfd(0, EFD_CLOEXEC);
	req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, req);
	ASSERT_EQ(0, vpt_set_irq_trigger(d.device, VFIO_PCI_MSI_IRQ_INDEX, efd));
	ASSERT_EQ(0, vpt_set_irq_trigger(d.device, VFIO_PCI_REQ_IRQ_INDEX, req));
	EXPECT_LT(pins0, vpt_pins_now());
	EXPECT_LT(irqs0, vpt_irq_handlers());

	ASSERT_EQ(0, request_unplug());
	p = (struct pollfd){ .fd = req, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, HP_WAIT_MS)) TH_LOG("REQ never signalled");
	ASSERT_EQ((ssize_t)sizeof(n), read(req, &n, sizeof(n)));
	EXPECT_LE(1U, n);
	/* Still the user's until released: the device is not gone yet. */
	EXPECT_FALSE(gone(bdf));

	munmap(bar, 4096);
	vpt_dev_close(&d);
	close(efd);
	close(req);
	for (i = 0; i < HP_WAIT_MS / 100 && !gone(bdf); i++)
		usleep(100000);
	EXPECT_TRUE(gone(bdf));
	EXPECT_EQ(pins0, vpt_pins_now());
	EXPECT_EQ(irqs0, vpt_irq_handlers());
	munmap(buf, 2 * 4096);
}

TEST_HARNESS_MAIN
