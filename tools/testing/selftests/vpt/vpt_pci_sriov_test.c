// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_sriov_test - SR-IOV, as upstream vfio-pci answers it: a VF's
 * config space (its own IDs, a virtual memory enable, BARs from the VF
 * resources), the VF token in VFIO_GROUP_GET_DEVICE_FD and
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, and sriov_numvfs on a PF bound to the
 * stack's driver.
 *
 * The VF and PF fixtures need run.sh --sriov (an igb PF, VPT_SRIOV_PF, on
 * the guest's igb with two VFs, the first, VPT_SRIOV_VF, bound to the
 * stack's driver, loaded with enable_sriov=1); elsewhere they skip.  The
 * edu fixture runs everywhere.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define TOKEN		"bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3"
#define OTHER_TOKEN	"00000000-0000-0000-0000-000000000001"
#define NO_SRIOV	"needs run.sh --sriov (VPT_SRIOV_VF, VPT_SRIOV_PF)"

/* GET_DEVICE_FD on @group with @name: the device fd, or -errno. */
static int get_device_fd(int group, const char *name)
{
	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);

	return fd < 0 ? -errno : fd;
}

/* "<bdf> <opts>" into @buf. */
static const char *named(char *buf, size_t len, const char *bdf,
			 const char *opts)
{
	snprintf(buf, len, "%s %s", bdf, opts);
	return buf;
}

/* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN with @uuid (16 bytes); 0 or -errno. */
static int vf_token_feature(int device, uint32_t flags, const char *uuid)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t uuid[16];
	} f = {
		.hdr = {
			.argsz = sizeof(f),
			.flags = flags | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
		},
	};
	unsigned int i;

	/* The UUID's bytes in string order, as the kernel's uuid_t. */
	for (i = 0; i < 16 && *uuid; uuid++) {
		if (*uuid == '-')
			continue;
		if (sscanf(uuid, "%2hhx", &f.uuid[i++]) != 1)
			return -EINVAL;
		uuid++;
	}
	return ioctl(device, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

static int region_size(int device, unsigned int index, uint64_t *size)
{
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	*size = info.size;
	return 0;
}

static int sysfs_hex(const char *bdf, const char *attr, unsigned long *val)
{
	char buf[64];
	int ret = vpt_sysfs_read(bdf, attr, buf, sizeof(buf));

	if (ret)
		return ret;
	*val = strtoul(buf, NULL, 0);
	return 0;
}

/* A VF of a PF the host drives (igb): no token involved. */
FIXTURE(vf) {
	struct vpt_dev d;
	const char *bdf;
};

FIXTURE_SETUP(vf)
{
	vpt_dev_init(&self->d);
	self->bdf = getenv("VPT_SRIOV_VF");
	if (!self->bdf)
		SKIP(return, NO_SRIOV);
	ASSERT_EQ(0, vpt_dev_open(&self->d, self->bdf));
}

FIXTURE_TEARDOWN(vf)
{
	vpt_dev_close(&self->d);
}

/* The VF's own registers read ffff: the PCI core's record is shown. */
TEST_F(vf, config_ids_are_the_vfs_own)
{
	unsigned long vendor, device;
	uint16_t id[2];

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, sysfs_hex(self->bdf, "vendor", &vendor));
	ASSERT_EQ(0, sysfs_hex(self->bdf, "device", &device));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_VENDOR_ID, id, 4));
	EXPECT_EQ(vendor, id[0]);
	EXPECT_EQ(device, id[1]);
}

/* A VF has no memory enable of its own; the user sees one, set. */
TEST_F(vf, memory_enable_is_set_at_open)
{
	uint16_t cmd;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_COMMAND, &cmd, 2));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
}

TEST_F(vf, memory_enable_reads_back_as_written)
{
	uint16_t cmd;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 0));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_COMMAND, &cmd, 2));
	EXPECT_FALSE(cmd & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 1));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_COMMAND, &cmd, 2));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
}

/*
 * vpt keeps its rule for every function: no BAR access while the user's
 * memory enable is off.  Upstream lets a VF's through (userspace-api.rst).
 */
TEST_F(vf, bar_access_needs_the_memory_enable)
{
	uint32_t val;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 0));
	EXPECT_EQ(-EIO, vpt_bar0_read32(self->d.device, 0, &val));
	ASSERT_EQ(0, vpt_set_memory_decode(self->d.device, 1));
	EXPECT_EQ(0, vpt_bar0_read32(self->d.device, 0, &val));
}

/* Address 0 (the VF's registers are zero), the type bits of the resource. */
TEST_F(vf, bars_read_their_type_bits)
{
	uint32_t bar0, bar1;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_BASE_ADDRESS_0, &bar0, 4));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_BASE_ADDRESS_1, &bar1, 4));
	/* igb's VF BAR 0: 64-bit prefetchable memory. */
	EXPECT_EQ((uint32_t)(PCI_BASE_ADDRESS_MEM_TYPE_64 |
			     PCI_BASE_ADDRESS_MEM_PREFETCH), bar0);
	EXPECT_EQ(0U, bar1);
}

/* Sizing answers the VF resource's size, from the virtual config space. */
TEST_F(vf, bar_sizing_gives_the_resource_size)
{
	uint32_t ones = ~0U, lo, hi, hw;
	uint64_t size = 0;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, region_size(self->d.device, VFIO_PCI_BAR0_REGION_INDEX,
				 &size));
	ASSERT_NE(0ULL, size);
	ASSERT_EQ(0, vpt_cfg_write(self->d.device, PCI_BASE_ADDRESS_0, &ones, 4));
	ASSERT_EQ(0, vpt_cfg_write(self->d.device, PCI_BASE_ADDRESS_1, &ones, 4));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_BASE_ADDRESS_0, &lo, 4));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, PCI_BASE_ADDRESS_1, &hi, 4));
	EXPECT_EQ((uint32_t)~(size - 1) | PCI_BASE_ADDRESS_MEM_TYPE_64 |
		  PCI_BASE_ADDRESS_MEM_PREFETCH, lo);
	EXPECT_EQ((uint32_t)(~(size - 1) >> 32), hi);
	/* The hardware register still reads zero. */
	ASSERT_EQ(0, vpt_sysfs_config(self->bdf, PCI_BASE_ADDRESS_0, &hw, 4));
	EXPECT_EQ(0U, hw);
}

TEST_F(vf, bar_regions_are_the_vf_resources)
{
	unsigned int bar;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	for (bar = 0; bar < 6; bar++) {
		unsigned long long start, end, flags;
		uint64_t size = 0, want;
		char buf[512], *p = buf;
		unsigned int i;
		int n;

		ASSERT_EQ(0, vpt_sysfs_read(self->bdf, "resource", buf,
					    sizeof(buf)));
		for (i = 0; i < bar; i++)
			p = strchr(p, '\n') + 1;
		n = sscanf(p, "%llx %llx %llx", &start, &end, &flags);
		ASSERT_EQ(3, n);
		want = end ? end - start + 1 : 0;
		ASSERT_EQ(0, region_size(self->d.device, bar, &size));
		EXPECT_EQ(want, size) TH_LOG("BAR %u", bar);
	}
}

TEST_F(vf, intx_count_is_zero)
{
	struct vfio_irq_info info = { .argsz = sizeof(info),
				      .index = VFIO_PCI_INTX_IRQ_INDEX };

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, ioctl(self->d.device, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(0U, info.count);
}

/* The PF is the host's (igb): a token has nothing to prove. */
TEST_F(vf, token_for_a_host_pf_is_einval)
{
	char name[128];

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	EXPECT_EQ(-EINVAL, get_device_fd(self->d.group,
					 named(name, sizeof(name), self->bdf,
					       "vf_token=" TOKEN)));
}

/* A second fd by the plain name: no token is needed. */
TEST_F(vf, plain_name_opens_without_token)
{
	int fd;

	if (!self->bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	fd = get_device_fd(self->d.group, self->bdf);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

/* An edu: not SR-IOV at all. */
FIXTURE(edu) {
	struct vpt_dev d;
};

FIXTURE_SETUP(edu)
{
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
}

FIXTURE_TEARDOWN(edu)
{
	vpt_dev_close(&self->d);
}

TEST_F(edu, token_for_a_plain_function_is_einval)
{
	char name[128];

	EXPECT_EQ(-EINVAL, get_device_fd(self->d.group,
					 named(name, sizeof(name), VPT_EDU_BDF,
					       "vf_token=" TOKEN)));
}

TEST_F(edu, unknown_option_is_einval)
{
	char name[128];

	EXPECT_EQ(-EINVAL, get_device_fd(self->d.group,
					 named(name, sizeof(name), VPT_EDU_BDF,
					       "vf_tokens")));
}

TEST_F(edu, malformed_token_is_einval)
{
	char name[128];

	EXPECT_EQ(-EINVAL, get_device_fd(self->d.group,
					 named(name, sizeof(name), VPT_EDU_BDF,
					       "vf_token=not-a-uuid")));
}

TEST_F(edu, token_with_trailing_junk_is_einval)
{
	char name[128];

	EXPECT_EQ(-EINVAL, get_device_fd(self->d.group,
					 named(name, sizeof(name), VPT_EDU_BDF,
					       "vf_token=" TOKEN "x")));
}

/* Only a blank may follow the name: anything else is another device. */
TEST_F(edu, longer_name_is_enodev)
{
	EXPECT_EQ(-ENODEV, get_device_fd(self->d.group, VPT_EDU_BDF "0"));
}

TEST_F(edu, trailing_blanks_open_the_device)
{
	int fd = get_device_fd(self->d.group, VPT_EDU_BDF "   ");

	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

/*
 * The PF bound to the stack's driver, one VF enabled through
 * sriov_numvfs and bound too; put back on igb with two VFs afterwards.
 */
FIXTURE(pf) {
	struct vpt_dev pf;
	struct vpt_dev vf;
	const char *pf_bdf;
	char vf_bdf[32];
	char param[128];
};

/* sriov_numvfs of the PF; 0 or -errno. */
static int set_numvfs(const char *pf, const char *n)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs",
		 pf);
	return vpt_sysfs_write(path, n);
}

/* sriov_drivers_autoprobe of the PF; 0 or -errno. */
static int set_autoprobe(const char *pf, const char *on)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
	return vpt_sysfs_write(path, on);
}

/* The BDF of the PF's first VF; 0 or -errno. */
static int first_vf(const char *pf, char *bdf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/virtfn0", pf);
	return vpt_link_name(path, bdf, len);
}

FIXTURE_SETUP(pf)
{
	vpt_dev_init(&self->pf);
	vpt_dev_init(&self->vf);
	self->pf_bdf = getenv("VPT_SRIOV_PF");
	if (!self->pf_bdf)
		SKIP(return, NO_SRIOV);
	snprintf(self->param, sizeof(self->param),
		 "/sys/module/%s/parameters/enable_sriov",
		 vpt_stack_is_upstream() ? "vfio_pci" : "vpt_pci");

	/* igb lets go of its VFs, then of the PF. */
	ASSERT_EQ(0, set_numvfs(self->pf_bdf, "0"));
	ASSERT_EQ(0, vpt_bind(self->pf_bdf, vpt_pci_driver_name()));
	ASSERT_EQ(0, set_numvfs(self->pf_bdf, "1"));
	ASSERT_EQ(0, first_vf(self->pf_bdf, self->vf_bdf,
			      sizeof(self->vf_bdf)));
	/* Not probed (sriov_drivers_autoprobe is 0): driver_override is. */
	ASSERT_EQ(0, vpt_sysfs_write("/sys/bus/pci/drivers_probe",
				     self->vf_bdf));
	ASSERT_EQ(0, vpt_dev_open(&self->pf, self->pf_bdf));
}

FIXTURE_TEARDOWN(pf)
{
	char path[PATH_MAX];

	vpt_dev_close(&self->vf);
	vpt_dev_close(&self->pf);
	if (!self->pf_bdf)
		return;
	vpt_sysfs_write(self->param, "1");
	set_autoprobe(self->pf_bdf, "0");
	set_numvfs(self->pf_bdf, "0");
	vpt_put_back(self->pf_bdf, "igb");
	set_numvfs(self->pf_bdf, "2");
	/* The first VF back with the stack, as run.sh left it. */
	if (!first_vf(self->pf_bdf, self->vf_bdf, sizeof(self->vf_bdf))) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override",
			 self->vf_bdf);
		vpt_sysfs_write(path, vpt_pci_driver_name());
		vpt_sysfs_write("/sys/bus/pci/drivers_probe", self->vf_bdf);
	}
}

/* Open VF @bdf into @vf as "<bdf> <opts>"; 0 or -errno. */
static int open_vf(struct vpt_dev *vf, const char *bdf, const char *opts)
{
	char name[128];

	return vpt_dev_open_named(vf, bdf, named(name, sizeof(name), bdf, opts));
}

TEST_F(pf, numvfs_gives_the_vfs_to_the_stack)
{
	char drv[64];

	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vpt_sysfs_read(self->vf_bdf, "driver_override", drv,
				    sizeof(drv)));
	EXPECT_EQ(0, strncmp(drv, vpt_pci_driver_name(),
			     strlen(vpt_pci_driver_name())));
	ASSERT_EQ(0, vpt_driver_of(self->vf_bdf, drv, sizeof(drv)));
	EXPECT_STREQ(vpt_pci_driver_name(), drv);
}

/* Probed from within sriov_numvfs: by the stack, for driver_override. */
TEST_F(pf, numvfs_with_autoprobe_binds_the_vfs_to_the_stack)
{
	char drv[64];

	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, set_numvfs(self->pf_bdf, "0"));
	ASSERT_EQ(0, set_autoprobe(self->pf_bdf, "1"));
	ASSERT_EQ(0, set_numvfs(self->pf_bdf, "1"));
	ASSERT_EQ(0, first_vf(self->pf_bdf, self->vf_bdf,
			      sizeof(self->vf_bdf)));
	ASSERT_EQ(0, vpt_driver_of(self->vf_bdf, drv, sizeof(drv)));
	EXPECT_STREQ(vpt_pci_driver_name(), drv);
}

/* The PF's driver goes: its VFs go first. */
TEST_F(pf, unbinding_the_pf_removes_its_vfs)
{
	char path[PATH_MAX];

	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	/*
	 * 7.x's PCI core asserts its rescan lock in
	 * pci_stop_and_remove_bus_device(), which a driver's remove cannot
	 * take (a hot removal holds it already), so under lockdep every PF
	 * driver that disables SR-IOV at unbind WARNs there: igb, the
	 * in-tree vfio-pci, vpt-pci.
	 */
	if (vpt_kernel_at_least(7, 0) && !access("/proc/lockdep", F_OK))
		SKIP(return, "7.x's lockdep WARNs on any PF driver's SR-IOV disable at unbind");
	vpt_dev_close(&self->pf);
	ASSERT_EQ(0, vpt_unbind(self->pf_bdf));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/virtfn0",
		 self->pf_bdf);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", self->vf_bdf);
	EXPECT_NE(0, access(path, F_OK));
}

TEST_F(pf, numvfs_without_enable_sriov_is_enoent)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, set_numvfs(self->pf_bdf, "0"));
	ASSERT_EQ(0, vpt_sysfs_write(self->param, "0"));
	EXPECT_EQ(-ENOENT, set_numvfs(self->pf_bdf, "1"));
}

TEST_F(pf, vf_without_token_is_eacces)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	EXPECT_EQ(-EACCES, vpt_dev_open(&self->vf, self->vf_bdf));
}

TEST_F(pf, vf_with_wrong_token_is_eacces)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vf_token_feature(self->pf.device,
				      VFIO_DEVICE_FEATURE_SET, TOKEN));
	EXPECT_EQ(-EACCES, open_vf(&self->vf, self->vf_bdf, "vf_token=" OTHER_TOKEN));
}

TEST_F(pf, vf_with_the_pfs_token_opens)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vf_token_feature(self->pf.device,
				      VFIO_DEVICE_FEATURE_SET, TOKEN));
	EXPECT_EQ(0, open_vf(&self->vf, self->vf_bdf, "vf_token=" TOKEN));
}

/* While a VF is open, a new PF fd must prove it holds the token. */
TEST_F(pf, pf_with_open_vf_needs_the_token)
{
	char name[128];
	int fd;

	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vf_token_feature(self->pf.device,
				      VFIO_DEVICE_FEATURE_SET, TOKEN));
	ASSERT_EQ(0, open_vf(&self->vf, self->vf_bdf, "vf_token=" TOKEN));
	EXPECT_EQ(-EACCES, get_device_fd(self->pf.group, self->pf_bdf));
	EXPECT_EQ(-EACCES, get_device_fd(self->pf.group,
					 named(name, sizeof(name), self->pf_bdf,
					       "vf_token=" OTHER_TOKEN)));
	fd = get_device_fd(self->pf.group, named(name, sizeof(name),
						 self->pf_bdf,
						 "vf_token=" TOKEN));
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

/* With no VF open, a token named for the PF becomes the token. */
TEST_F(pf, token_named_for_the_pf_sets_it)
{
	char name[128];
	int fd;

	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	fd = get_device_fd(self->pf.group, named(name, sizeof(name),
						 self->pf_bdf,
						 "vf_token=" OTHER_TOKEN));
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, open_vf(&self->vf, self->vf_bdf, "vf_token=" OTHER_TOKEN));
}

TEST_F(pf, token_probe_of_set_succeeds)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	EXPECT_EQ(0, vf_token_feature(self->pf.device,
				      VFIO_DEVICE_FEATURE_PROBE |
				      VFIO_DEVICE_FEATURE_SET, TOKEN));
}

/* The token is never read back: it would reach the next user. */
TEST_F(pf, token_get_is_einval)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	EXPECT_EQ(-EINVAL, vf_token_feature(self->pf.device,
					    VFIO_DEVICE_FEATURE_GET, TOKEN));
}

/* The VF itself has no token to set. */
TEST_F(pf, token_feature_on_the_vf_is_enotty)
{
	if (!self->pf_bdf)
		return;	/* skipped in setup (the harness runs us anyway) */
	ASSERT_EQ(0, vf_token_feature(self->pf.device,
				      VFIO_DEVICE_FEATURE_SET, TOKEN));
	ASSERT_EQ(0, open_vf(&self->vf, self->vf_bdf, "vf_token=" TOKEN));
	EXPECT_EQ(-ENOTTY, vf_token_feature(self->vf.device,
					    VFIO_DEVICE_FEATURE_SET, TOKEN));
}

TEST_HARNESS_MAIN
