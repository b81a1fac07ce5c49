// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_feature.c - VFIO_DEVICE_FEATURE: the checks upstream's vfio
 * core makes for every feature (argsz, unknown flags, GET with SET), and
 * the features a plain vfio-pci function has.
 *
 * Offered: the VF token (an SR-IOV PF's, vpt_pci_sriov.c) and the
 * low-power features (vpt_pci_power.c).  Migration and dirty-page
 * logging are upstream's only for variant drivers, so plain vfio-pci
 * answers ENOTTY for them, and vpt does too.
 */
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vpt_pci_priv.h"

#define VPT_PCI_FEATURE_FLAGS	(VFIO_DEVICE_FEATURE_MASK |		\
				 VFIO_DEVICE_FEATURE_GET |		\
				 VFIO_DEVICE_FEATURE_SET |		\
				 VFIO_DEVICE_FEATURE_PROBE)

/**
 * vpt_pci_feature_check() - the checks every feature makes of its request
 * @flags: the request's flags
 * @argsz: the size of the payload after struct vfio_device_feature
 * @supported: VFIO_DEVICE_FEATURE_GET and/or _SET, what the feature has
 * @minsz: the payload a GET or SET needs
 *
 * Return: 1 to go on with the GET or SET; 0 for a PROBE of operations the
 * feature has (the answer); -EINVAL for an operation it lacks, neither
 * GET nor SET, or a short payload.
 */
int vpt_pci_feature_check(u32 flags, size_t argsz, u32 supported,
			  size_t minsz)
{
	if (flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET) &
	    ~supported)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/**
 * vpt_pci_feature_ioctl() - VFIO_DEVICE_FEATURE
 * @vpci: the device
 * @arg: the user's struct vfio_device_feature
 *
 * Return: -EINVAL for an argsz below flags, unknown flags, or GET and
 * SET together without PROBE; -ENOTTY for a feature not offered; else
 * the feature's answer.
 */
long vpt_pci_feature_ioctl(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature;

	if (copy_from_user(&feature, arg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz || feature.flags & ~VPT_PCI_FEATURE_FLAGS)
		return -EINVAL;
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_GET) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET))
		return -EINVAL;

	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vpt_pci_power_feature(vpci, feature.flags &
					     VFIO_DEVICE_FEATURE_MASK,
					     feature.flags, arg + minsz,
					     feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		return vpt_pci_sriov_token_feature(vpci, feature.flags,
						   arg + minsz,
						   feature.argsz - minsz);
	default:
		return -ENOTTY;
	}
}
