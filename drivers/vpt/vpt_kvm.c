// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_kvm.c - the file helpers KVM's VFIO device asks VFIO for, in the
 * identity flavour (VPT_AS=vfio) only.
 *
 * KVM does not link against VFIO: virt/kvm/vfio.c looks these up by name
 * with symbol_get() whenever a VMM adds a group fd to its KVM VFIO device
 * (KVM_DEV_VFIO_FILE_ADD), and refuses the fd (-EINVAL) when none says it
 * is VFIO's.  Which ones it asks for depends on the kernel: 6.1 asks
 * vfio_file_iommu_group(), later kernels vfio_file_is_valid(), all of
 * them vfio_file_enforced_coherent() (non-coherent DMA makes KVM honour
 * guest WBINVD and memory types) and vfio_file_set_kvm().  vpt exports
 * every one of them, under the in-tree names, which only the flavour
 * that replaces the in-tree vfio may do: both modules cannot be loaded at
 * once.  A device fd (iommufd's cdev) is never VFIO's here: vpt has none.
 */
#include <linux/export.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/vfio.h>

#include "vpt_compat.h"
#include "vpt_device.h"
#include "vpt_priv.h"

/**
 * vfio_file_iommu_group() - the IOMMU group of a group fd
 * @file: any file.
 *
 * Return: the IOMMU group, valid while @file is held, or NULL when @file
 * is not a vpt group fd.
 */
struct iommu_group *vfio_file_iommu_group(struct file *file)
{
	struct vpt_group *group = vpt_group_from_file(file);

	return group ? group->iommu_group : NULL;
}
EXPORT_SYMBOL_GPL(vfio_file_iommu_group);

/**
 * vfio_file_is_group() - whether a file is a vpt group fd
 * @file: any file.
 *
 * Return: true for a group fd.
 */
bool vfio_file_is_group(struct file *file)
{
	return vpt_file_is_group(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_group);

/**
 * vfio_file_is_valid() - whether a file is one KVM may take as VFIO's
 * @file: any file.
 *
 * Return: true for a group fd.
 */
bool vfio_file_is_valid(struct file *file)
{
	return vfio_file_is_group(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_valid);

/**
 * vfio_file_enforced_coherent() - whether the group's DMA is always coherent
 * @file: a group fd.
 *
 * True when every device of the group sits behind an IOMMU that can
 * block no-snoop DMA (vpt_dev_enforces_coherency()): a domain vpt
 * attaches for them then enforces coherency, so KVM need not emulate
 * WBINVD for the guest.  Decided per device, as upstream since 6.2, so
 * the answer holds before the group joins a container and after.
 *
 * Return: the answer; false for a file that is not a group fd.
 */
bool vfio_file_enforced_coherent(struct file *file)
{
	struct vpt_group *group = vpt_group_from_file(file);
	struct vpt_device *vdev;
	bool ret = true;

	if (!group)
		return false;
	mutex_lock(&group->lock);
	list_for_each_entry(vdev, &group->devices, group_entry)
		if (!vpt_dev_enforces_coherency(vdev->dev))
			ret = false;
	mutex_unlock(&group->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);

/**
 * vfio_file_set_kvm() - KVM tells a group fd which VM it belongs to
 * @file: a group fd; anything else is ignored.
 * @kvm: the VM, or NULL when KVM's VFIO device lets go of the fd.
 */
void vfio_file_set_kvm(struct file *file, struct kvm *kvm)
{
	struct vpt_group *group = vpt_group_from_file(file);

	if (!group)
		return;
	mutex_lock(&group->lock);
	group->kvm = kvm;
	mutex_unlock(&group->lock);
}
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);
