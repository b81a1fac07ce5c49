// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_feature_test - VFIO_DEVICE_FEATURE, as upstream vfio-pci
 * answers it for a plain function: the checks every feature goes
 * through, and ENOTTY for the features only variant drivers or SR-IOV
 * PFs have (vpt_pci_sriov_test and vpt_pci_power_test cover the
 * others).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

/* VFIO_DEVICE_FEATURE with no payload; 0 or -errno. */
static int feature(int device, uint32_t flags, uint32_t argsz)
{
	struct {
		struct vfio_device_feature hdr;
		uint64_t payload[4];
	} f = { .hdr = { .argsz = argsz, .flags = flags } };

	return ioctl(device, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

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

TEST_F(edu, get_and_set_together_is_einval)
{
	EXPECT_EQ(-EINVAL, feature(self->d.device, VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
				   sizeof(struct vfio_device_feature)));
}

TEST_F(edu, unknown_flags_are_einval)
{
	EXPECT_EQ(-EINVAL, feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_GET | (1U << 19),
				   sizeof(struct vfio_device_feature)));
}

TEST_F(edu, argsz_below_flags_is_einval)
{
	EXPECT_EQ(-EINVAL, feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MIGRATION, 4));
}

TEST_F(edu, unknown_feature_is_enotty)
{
	EXPECT_EQ(-ENOTTY, feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_GET | 0xfff0,
				   sizeof(struct vfio_device_feature)));
}

/* Migration is a variant driver's: plain vfio-pci has none. */
TEST_F(edu, migration_probe_is_enotty)
{
	EXPECT_EQ(-ENOTTY, feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MIGRATION,
				   sizeof(struct vfio_device_feature)));
}

/* The VF token belongs to a PF with SR-IOV enabled. */
TEST_F(edu, vf_token_probe_on_a_plain_function_is_enotty)
{
	EXPECT_EQ(-ENOTTY, feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
				   sizeof(struct vfio_device_feature)));
}

/* Every PCI function has low power (vpt_pci_power_test goes further). */
TEST_F(edu, low_power_entry_probe_succeeds)
{
	EXPECT_EQ(0, feature(self->d.device, VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
			     sizeof(struct vfio_device_feature)));
}

TEST_HARNESS_MAIN
