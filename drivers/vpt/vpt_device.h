/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_device.h - the interface vpt.ko exports to device drivers (vpt-pci).
 *
 * A driver embeds a struct vpt_device in its per-device state, fills in
 * the ops and registers it from probe.  vpt.ko then makes the device's
 * IOMMU group appear as a group node, hands out device fds through
 * VFIO_GROUP_GET_DEVICE_FD and forwards every fd operation to the ops.
 * vpt.ko knows nothing about PCI; the driver knows nothing about DMA
 * mapping.
 */
#ifndef _VPT_DEVICE_H
#define _VPT_DEVICE_H

#include <linux/device.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/refcount.h>

struct vpt_device;
struct vpt_group;

/**
 * struct vpt_device_ops - what a driver implements for its device fds
 * @name: driver name, for messages.
 * @open_device: the first device fd of this device is being opened.  The
 *               device is then owned by one user until @close_device.
 * @close_device: the last device fd of this device was closed: undo
 *                everything the user did (interrupts, decode, mmaps) and
 *                reset the device.
 * @read: read(2)/pread(2) on a device fd.
 * @write: write(2)/pwrite(2) on a device fd.
 * @ioctl: every ioctl on a device fd.
 * @mmap: mmap(2) on a device fd.  The vma's vm_file->f_mapping is the
 *        device's shared address_space (see vpt_device_mapping()).
 * @request: the device is being unregistered while a user holds it; ask
 *           the user to release it.  Called repeatedly, with a count.
 * @match: optional: whether the string a user passed to
 *         VFIO_GROUP_GET_DEVICE_FD names this device: 1 yes, 0 no, or a
 *         negative errno that fails the ioctl (a malformed option, a
 *         missing or wrong credential).  Called under the group's lock.
 *         Without it the string must be the device's name exactly.
 *
 * All callbacks run in process context and may sleep.  @open_device and
 * @close_device are serialised by the core; the rest may run concurrently
 * with one another and must do their own locking.
 */
struct vpt_device_ops {
	const char *name;
	int (*open_device)(struct vpt_device *vdev);
	void (*close_device)(struct vpt_device *vdev);
	ssize_t (*read)(struct vpt_device *vdev, char __user *buf,
			size_t count, loff_t *ppos);
	ssize_t (*write)(struct vpt_device *vdev, const char __user *buf,
			 size_t count, loff_t *ppos);
	long (*ioctl)(struct vpt_device *vdev, unsigned int cmd,
		      unsigned long arg);
	int (*mmap)(struct vpt_device *vdev, struct vm_area_struct *vma);
	void (*request)(struct vpt_device *vdev, unsigned int count);
	int (*match)(struct vpt_device *vdev, const char *buf);
};

/**
 * struct vpt_device - a device that vpt.ko exposes to userspace
 * @dev: the underlying device; its IOMMU group decides the group node.
 * @ops: the driver's callbacks.
 *
 * The remaining members belong to vpt.ko.
 * @owner: the module of the driver bound at registration; each open
 *         device fd holds a reference on it.
 * @group: the vpt group the device belongs to.
 * @group_entry: link in @group->devices, under @group->lock.
 * @inode: anonymous inode whose address_space every mmap of this device
 *         shares, so that one unmap_mapping_range() zaps the mappings of
 *         every fd and every forked child.
 * @open_lock: serialises @open_count, @open_device and @close_device.
 * @open_count: number of open device fds.
 * @refcount: one reference for registration plus one per open device fd
 *            and per in-flight lookup; unregistration waits for it.
 * @released: completed when @refcount drops to zero.
 */
struct vpt_device {
	struct device *dev;
	const struct vpt_device_ops *ops;

	struct module *owner;
	struct vpt_group *group;
	struct list_head group_entry;
	struct inode *inode;
	/* serialises open_count, open_device and close_device */
	struct mutex open_lock;
	unsigned int open_count;
	refcount_t refcount;
	struct completion released;
};

int vpt_register_device(struct vpt_device *vdev, struct device *dev,
			const struct vpt_device_ops *ops);
void vpt_unregister_device(struct vpt_device *vdev);
bool vpt_file_is_group(struct file *file);
bool vpt_file_has_device(struct file *file, struct vpt_device *vdev);

/**
 * vpt_device_mapping() - the address_space every mmap of @vdev shares
 * @vdev: a registered device
 *
 * Return: the mapping to pass to unmap_mapping_range() to zap every user
 * mapping of the device at once.
 */
static inline struct address_space *vpt_device_mapping(struct vpt_device *vdev)
{
	return vdev->inode->i_mapping;
}

#endif /* _VPT_DEVICE_H */
