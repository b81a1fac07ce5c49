// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_power_test - power management, as upstream vfio-pci does it:
 * the low-power features of VFIO_DEVICE_FEATURE (runtime suspend of an
 * open device, with or without a wake-up eventfd), D3hot entered by a
 * PMCSR write through the config region (BARs unreachable, mmaps
 * zapped), and idle D3 for a bound device nobody has open.
 *
 * The device is QEMU's nvme (VPT_NVME_BDF), which has a PM capability.
 * The runtime PM state is read from sysfs, which does not resume the
 * device; runtime suspend is asynchronous, so the tests wait for it
 * (WAIT_SECONDS at most) before they look.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define WAIT_SECONDS	20
#define PAGE		4096UL

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Read a word of a BAR mapping: 0, or 1 on SIGBUS. */
static int touch(uint32_t *p)
{
	if (sigsetjmp(bus_jmp, 1))
		return 1;
	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	return 0;
}

/* A low-power feature with @flags, @argsz bytes of payload @data. */
static int power_feature(int device, uint32_t flags, const void *data,
			 size_t argsz)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t data[16];
	} f = { .hdr = { .argsz = sizeof(f.hdr) + argsz, .flags = flags } };

	if (data)
		memcpy(f.data, data, argsz);
	return ioctl(device, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

static int enter(int device)
{
	return power_feature(device, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0);
}

static int enter_with_wakeup(int device, int fd)
{
	struct vfio_device_low_power_entry_with_wakeup e = {
		.wakeup_eventfd = fd,
	};

	return power_feature(device, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
			     &e, sizeof(e));
}

static int leave(int device)
{
	return power_feature(device, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0);
}

/* Wait until the device's runtime PM status is @want; 0 or -ETIMEDOUT. */
static int wait_runtime(const char *bdf, const char *want)
{
	char buf[32];
	int i;

	for (i = 0; i < WAIT_SECONDS * 10; i++) {
		if (!vpt_sysfs_read(bdf, "power/runtime_status", buf,
				    sizeof(buf)) &&
		    !strncmp(buf, want, strlen(want)))
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

/* Offset of the PM capability in the device's config space, or 0. */
static unsigned int pm_cap(const char *bdf)
{
	uint8_t cfg[256];
	unsigned int pos, loops = 0;

	if (vpt_sysfs_config(bdf, 0, cfg, sizeof(cfg)))
		return 0;
	for (pos = cfg[PCI_CAPABILITY_LIST] & ~3; pos >= 0x40 && loops < 48;
	     pos = cfg[pos + 1] & ~3, loops++)
		if (cfg[pos] == PCI_CAP_ID_PM)
			return pos;
	return 0;
}

/* Write the PMCSR power state through the config region; 0 or -errno. */
static int set_pmcsr_state(int device, unsigned int pm, uint16_t state)
{
	uint16_t ctl;
	int ret = vpt_cfg_read(device, pm + PCI_PM_CTRL, &ctl, 2);

	if (ret)
		return ret;
	ctl = (ctl & ~PCI_PM_CTRL_STATE_MASK) | state;
	return vpt_cfg_write(device, pm + PCI_PM_CTRL, &ctl, 2);
}

static int pmcsr_state(int device, unsigned int pm)
{
	uint16_t ctl;
	int ret = vpt_cfg_read(device, pm + PCI_PM_CTRL, &ctl, 2);

	return ret ? ret : ctl & PCI_PM_CTRL_STATE_MASK;
}

FIXTURE(nvme) {
	struct vpt_dev d;
	unsigned int pm;
	uint32_t *bar;
};

FIXTURE_SETUP(nvme)
{
	vpt_dev_init(&self->d);
	self->bar = MAP_FAILED;
	self->pm = pm_cap(VPT_NVME_BDF);
	ASSERT_NE(0U, self->pm);
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 1));
	signal(SIGBUS, on_sigbus);
}

FIXTURE_TEARDOWN(nvme)
{
	signal(SIGBUS, SIG_DFL);
	if (self->bar != MAP_FAILED)
		munmap((void *)self->bar, PAGE);
	vpt_dev_close(&self->d);
}

static uint32_t *map_bar0(int device)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, device,
		       VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX));

	return p;
}

TEST_F(nvme, low_power_probes_succeed)
{
	EXPECT_EQ(0, power_feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
				   NULL, 0));
	EXPECT_EQ(0, power_feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
				   NULL, 0));
	EXPECT_EQ(0, power_feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
				   NULL, 0));
}

TEST_F(nvme, low_power_get_is_einval)
{
	EXPECT_EQ(-EINVAL, power_feature(self->d.device,
					 VFIO_DEVICE_FEATURE_GET |
					 VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
					 NULL, 0));
}

TEST_F(nvme, open_device_is_active)
{
	EXPECT_EQ(0, wait_runtime(VPT_NVME_BDF, "active"));
}

TEST_F(nvme, entry_suspends_the_device)
{
	ASSERT_EQ(0, enter(self->d.device));
	EXPECT_EQ(0, wait_runtime(VPT_NVME_BDF, "suspended"));
}

TEST_F(nvme, entry_twice_is_einval)
{
	ASSERT_EQ(0, enter(self->d.device));
	EXPECT_EQ(-EINVAL, enter(self->d.device));
}

TEST_F(nvme, exit_ends_low_power)
{
	ASSERT_EQ(0, enter(self->d.device));
	ASSERT_EQ(0, wait_runtime(VPT_NVME_BDF, "suspended"));
	EXPECT_EQ(0, leave(self->d.device));
	EXPECT_EQ(0, wait_runtime(VPT_NVME_BDF, "active"));
	EXPECT_EQ(0, enter(self->d.device));
}

TEST_F(nvme, exit_without_entry_succeeds)
{
	EXPECT_EQ(0, leave(self->d.device));
}

TEST_F(nvme, wakeup_eventfd_minus_one_is_einval)
{
	EXPECT_EQ(-EINVAL, enter_with_wakeup(self->d.device, -1));
}

TEST_F(nvme, wakeup_fd_not_an_eventfd_is_einval)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-EINVAL, enter_with_wakeup(self->d.device, p[0]));
	close(p[0]);
	close(p[1]);
}

TEST_F(nvme, wakeup_closed_fd_is_ebadf)
{
	int fd = eventfd(0, 0);

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EBADF, enter_with_wakeup(self->d.device, fd));
}

TEST_F(nvme, wakeup_payload_too_short_is_einval)
{
	EXPECT_EQ(-EINVAL, power_feature(self->d.device,
					 VFIO_DEVICE_FEATURE_SET |
					 VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
					 NULL, 2));
}

/* The next access resumes the device: the eventfd fires, low power ends. */
TEST_F(nvme, wakeup_eventfd_fires_on_the_next_access)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd = eventfd(0, EFD_NONBLOCK);
	uint64_t n = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, enter_with_wakeup(self->d.device, fd));
	ASSERT_EQ(0, wait_runtime(VPT_NVME_BDF, "suspended"));
	EXPECT_EQ(-1, read(fd, &n, sizeof(n)));
	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ((ssize_t)sizeof(n), read(fd, &n, sizeof(n)));
	EXPECT_EQ(1U, n);
	/* Low power ended with the wake-up: entering again works. */
	EXPECT_EQ(0, enter(self->d.device));
	close(fd);
}

/* A read resumes the device for itself; low power stays engaged. */
TEST_F(nvme, bar_read_in_low_power_succeeds)
{
	uint32_t val;

	ASSERT_EQ(0, enter(self->d.device));
	ASSERT_EQ(0, wait_runtime(VPT_NVME_BDF, "suspended"));
	EXPECT_EQ(0, vpt_bar0_read32(self->d.device, 0, &val));
	EXPECT_EQ(-EINVAL, enter(self->d.device));
}

TEST_F(nvme, mmap_faults_sigbus_in_low_power)
{
	self->bar = map_bar0(self->d.device);
	ASSERT_NE(MAP_FAILED, self->bar);
	ASSERT_EQ(0, touch(self->bar));
	ASSERT_EQ(0, enter(self->d.device));
	EXPECT_EQ(1, touch(self->bar));
	ASSERT_EQ(0, leave(self->d.device));
	EXPECT_EQ(0, touch(self->bar));
}

/* Closing in low power ends it: the next user starts in D0. */
TEST_F(nvme, close_in_low_power_cleans_up)
{
	int fd = eventfd(0, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, enter_with_wakeup(self->d.device, fd));
	vpt_dev_close(&self->d);
	close(fd);
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	EXPECT_EQ(0, wait_runtime(VPT_NVME_BDF, "active"));
	EXPECT_EQ(0, enter(self->d.device));
}

/* PMCSR's state field is the hardware's, changed by the driver. */
TEST_F(nvme, pmcsr_d3hot_reads_back)
{
	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 3));
	EXPECT_EQ(3, pmcsr_state(self->d.device, self->pm));
	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 0));
	EXPECT_EQ(0, pmcsr_state(self->d.device, self->pm));
}

TEST_F(nvme, pmcsr_d3hot_blocks_bar_access)
{
	uint32_t val;

	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 3));
	EXPECT_EQ(-EIO, vpt_bar0_read32(self->d.device, 0, &val));
	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 0));
	EXPECT_EQ(0, vpt_bar0_read32(self->d.device, 0, &val));
}

TEST_F(nvme, pmcsr_d3hot_zaps_mmaps)
{
	self->bar = map_bar0(self->d.device);
	ASSERT_NE(MAP_FAILED, self->bar);
	ASSERT_EQ(0, touch(self->bar));
	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 3));
	EXPECT_EQ(1, touch(self->bar));
	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 0));
	EXPECT_EQ(0, touch(self->bar));
}

/* The host handles PMEs: the user is shown no PME support at all. */
TEST_F(nvme, pmc_shows_no_pme_support)
{
	uint16_t hw, pmc;

	ASSERT_EQ(0, vpt_sysfs_config(VPT_NVME_BDF, self->pm + PCI_PM_PMC,
				      &hw, 2));
	if (!(hw & PCI_PM_CAP_PME_MASK))
		SKIP(return, "the device has no PME support to hide");
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, self->pm + PCI_PM_PMC,
				  &pmc, 2));
	EXPECT_EQ(0, pmc & PCI_PM_CAP_PME_MASK);
}

/* PME enable reads 0 whatever is written, and never reaches the device. */
TEST_F(nvme, pme_enable_stays_off)
{
	uint16_t ctl, hw;

	ASSERT_EQ(0, vpt_cfg_read(self->d.device, self->pm + PCI_PM_CTRL,
				  &ctl, 2));
	EXPECT_EQ(0, ctl & PCI_PM_CTRL_PME_ENABLE);
	ctl |= PCI_PM_CTRL_PME_ENABLE;
	ASSERT_EQ(0, vpt_cfg_write(self->d.device, self->pm + PCI_PM_CTRL,
				   &ctl, 2));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, self->pm + PCI_PM_CTRL,
				  &ctl, 2));
	EXPECT_EQ(0, ctl & PCI_PM_CTRL_PME_ENABLE);
	ASSERT_EQ(0, vpt_sysfs_config(VPT_NVME_BDF, self->pm + PCI_PM_CTRL,
				      &hw, 2));
	EXPECT_EQ(0, hw & PCI_PM_CTRL_PME_ENABLE);
}

/* Closed in D3hot: the next user finds D0. */
TEST_F(nvme, close_in_d3hot_gives_the_next_user_d0)
{
	ASSERT_EQ(0, set_pmcsr_state(self->d.device, self->pm, 3));
	vpt_dev_close(&self->d);
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_NVME_BDF));
	EXPECT_EQ(0, pmcsr_state(self->d.device, self->pm));
}

/* Bound, nobody has it open: the device idles in D3. */
TEST(idle_device_is_suspended)
{
	struct vpt_dev d;

	/* Open and close once, so that any earlier user's state is gone. */
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	vpt_dev_close(&d);
	EXPECT_EQ(0, wait_runtime(VPT_NVME_BDF, "suspended"));
}

TEST_HARNESS_MAIN
