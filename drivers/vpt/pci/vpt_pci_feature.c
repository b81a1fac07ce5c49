// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_feature.c - VFIO_DEVICE_FEATURE: the checks upstream's vfio
 * core makes for every feature (argsz, unknown flags, GET with SET), and
 * the features a plain vfio-pci function has.
 *
 * Migration and dirty-page logging are upstream's only for variant
 * drivers, so plain vfio-pci answers ENOTTY for them, and vpt does too;
 * so is the VF token, which belongs to a PF with SR-IOV enabled, which
 * vpt-pci does not offer.  The low-power features are not offered yet
 * (ENOTTY; upstream's vfio-pci has them).
 */
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vpt_pci_priv.h"

#define VPT_PCI_FEATURE_FLAGS	(VFIO_DEVICE_FEATURE_MASK |		\
				 VFIO_DEVICE_FEATURE_GET |		\
				 VFIO_DEVICE_FEATURE_SET |		\
				 VFIO_DEVICE_FEATURE_PROBE)

/**
 * vpt_pci_feature_ioctl() - VFIO_DEVICE_FEATURE
 * @vpci: the device
 * @arg: the user's struct vfio_device_feature
 *
 * Return: -EINVAL for an argsz below flags, unknown flags, or GET and
 * SET together without PROBE; -ENOTTY for every feature (none is
 * offered yet).
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

	/* No feature of feature.flags & VFIO_DEVICE_FEATURE_MASK yet. */
	return -ENOTTY;
}
