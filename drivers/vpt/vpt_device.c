// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_device.c - device registration and device fds.
 *
 * Drivers register a struct vpt_device per device; users obtain device
 * fds through VFIO_GROUP_GET_DEVICE_FD, and every fd operation is handed
 * to the driver's ops.  Each device has an inode on a small pseudo
 * filesystem whose address_space all of its mmaps share, so that the
 * driver can zap every user mapping of the device at once.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "vpt_priv.h"

#define VPT_FS_MAGIC	0x76707466	/* "vptf" */

static struct vfsmount *vpt_fs_mnt;
static int vpt_fs_count;

static int vpt_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VPT_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type vpt_fs_type = {
	.name			= "vpt",
	.owner			= THIS_MODULE,
	.init_fs_context	= vpt_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

static void vpt_device_put(struct vpt_device *vdev)
{
	if (refcount_dec_and_test(&vdev->refcount))
		complete(&vdev->released);
}

/*
 * Drop one open of @vdev: the last one closes the device for its user and
 * lets the driver's module go.
 */
static void vpt_device_close_one(struct vpt_device *vdev)
{
	mutex_lock(&vdev->open_lock);
	if (!--vdev->open_count)
		vdev->ops->close_device(vdev);
	mutex_unlock(&vdev->open_lock);
	module_put(vdev->owner);
}

static int vpt_device_fop_release(struct inode *inode, struct file *file)
{
	struct vpt_device *vdev = file->private_data;

	vpt_device_close_one(vdev);
	vpt_group_device_closed(vdev->group);
	vpt_device_put(vdev);
	return 0;
}

static ssize_t vpt_device_fop_read(struct file *file, char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct vpt_device *vdev = file->private_data;

	return vdev->ops->read ? vdev->ops->read(vdev, buf, count, ppos) :
				 -EINVAL;
}

static ssize_t vpt_device_fop_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	struct vpt_device *vdev = file->private_data;

	return vdev->ops->write ? vdev->ops->write(vdev, buf, count, ppos) :
				  -EINVAL;
}

static long vpt_device_fop_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct vpt_device *vdev = file->private_data;

	return vdev->ops->ioctl ? vdev->ops->ioctl(vdev, cmd, arg) : -ENOTTY;
}

static int vpt_device_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vpt_device *vdev = file->private_data;

	return vdev->ops->mmap ? vdev->ops->mmap(vdev, vma) : -EINVAL;
}

static const struct file_operations vpt_device_fops = {
	.owner		= THIS_MODULE,
	.release	= vpt_device_fop_release,
	.read		= vpt_device_fop_read,
	.write		= vpt_device_fop_write,
	.unlocked_ioctl	= vpt_device_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vpt_device_fop_mmap,
};

/**
 * vpt_device_open_file() - open a new device fd
 * @vdev: a device listed in its group; the group's lock is held.
 *
 * Opens the device for its user when this is its first fd.
 *
 * Return: the file, or an ERR_PTR from the driver or the allocation.
 */
struct file *vpt_device_open_file(struct vpt_device *vdev)
{
	struct file *file;
	int ret = 0;

	lockdep_assert_held(&vdev->group->lock);

	/*
	 * As upstream: an open device pins its driver's module, so rmmod of
	 * the driver fails while a user holds the device instead of waiting
	 * in remove for the user to let go.
	 */
	if (!try_module_get(vdev->owner))
		return ERR_PTR(-ENODEV);
	/* Listed means registered: the registration reference is held. */
	refcount_inc(&vdev->refcount);

	mutex_lock(&vdev->open_lock);
	if (!vdev->open_count)
		ret = vdev->ops->open_device(vdev);
	if (!ret)
		vdev->open_count++;
	mutex_unlock(&vdev->open_lock);
	if (ret)
		goto err_put;

	file = anon_inode_getfile("[vpt-device]", &vpt_device_fops, vdev,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_close;
	}
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	/* Every mmap of the device lands in one address_space. */
	file->f_mapping = vdev->inode->i_mapping;
	return file;

err_close:
	vpt_device_close_one(vdev);
	vpt_device_put(vdev);
	return ERR_PTR(ret);
err_put:
	vpt_device_put(vdev);
	module_put(vdev->owner);
	return ERR_PTR(ret);
}

/**
 * vpt_register_device() - expose a device to userspace through vpt
 * @vdev: the driver's embedded struct vpt_device.
 * @dev: the device; it must belong to an IOMMU group.
 * @ops: the driver's callbacks; open_device and close_device are required.
 *
 * Makes the device's group node appear (or adds the device to it).
 *
 * Return: 0, -ENODEV when @dev has no IOMMU group, or -ENOMEM.
 */
int vpt_register_device(struct vpt_device *vdev, struct device *dev,
			const struct vpt_device_ops *ops)
{
	int ret;

	if (WARN_ON(!ops->open_device || !ops->close_device))
		return -EINVAL;

	vdev->dev = dev;
	vdev->ops = ops;
	/* Registered from probe: the bound driver is the one to pin. */
	vdev->owner = dev->driver ? dev->driver->owner : NULL;
	mutex_init(&vdev->open_lock);
	vdev->open_count = 0;
	refcount_set(&vdev->refcount, 1);
	init_completion(&vdev->released);

	ret = simple_pin_fs(&vpt_fs_type, &vpt_fs_mnt, &vpt_fs_count);
	if (ret)
		return ret;
	vdev->inode = alloc_anon_inode(vpt_fs_mnt->mnt_sb);
	if (IS_ERR(vdev->inode)) {
		ret = PTR_ERR(vdev->inode);
		goto err_fs;
	}
	ret = vpt_group_add_device(vdev);
	if (ret)
		goto err_inode;
	return 0;

err_inode:
	iput(vdev->inode);
err_fs:
	simple_release_fs(&vpt_fs_mnt, &vpt_fs_count);
	return ret;
}
EXPORT_SYMBOL_GPL(vpt_register_device);

/**
 * vpt_unregister_device() - withdraw a device from userspace
 * @vdev: a device registered with vpt_register_device().
 *
 * No new device fd can be opened once this starts.  While a user still
 * holds one, the driver's request callback is called every ten seconds
 * (with a count) to ask the user to let go, and this waits for the last
 * fd to be closed.  If it was the last device of its group, the group
 * then leaves its container (vpt_group_revoke_if_empty()).
 */
void vpt_unregister_device(struct vpt_device *vdev)
{
	unsigned int count = 0;

	vpt_group_remove_device(vdev);
	vpt_device_put(vdev);

	while (!completion_done(&vdev->released)) {
		if (vdev->ops->request)
			vdev->ops->request(vdev, count);
		if (wait_for_completion_timeout(&vdev->released, 10 * HZ))
			break;
		if (!count++)
			dev_info(vdev->dev,
				 "vpt: waiting for the user to release the device\n");
	}

	vpt_group_revoke_if_empty(vdev->group);
	vpt_group_put_device_ref(vdev);
	iput(vdev->inode);
	simple_release_fs(&vpt_fs_mnt, &vpt_fs_count);
	mutex_destroy(&vdev->open_lock);
}
EXPORT_SYMBOL_GPL(vpt_unregister_device);

/**
 * vpt_file_is_group() - whether @file is a vpt group fd
 * @file: any file; the caller holds a reference to it.
 *
 * For drivers that take group fds as proof of ownership (a hot reset).
 *
 * Return: true for a group fd.
 */
bool vpt_file_is_group(struct file *file)
{
	return vpt_group_from_file(file);
}
EXPORT_SYMBOL_GPL(vpt_file_is_group);

/**
 * vpt_file_has_device() - whether group fd @file holds @vdev
 * @file: any file; the caller holds a reference to it.
 * @vdev: a registered device.
 *
 * Return: true if @file is the fd of the group @vdev belongs to: its
 * opener owns the device, as upstream's vfio_file_has_dev() says.
 */
bool vpt_file_has_device(struct file *file, struct vpt_device *vdev)
{
	struct vpt_group *group = vpt_group_from_file(file);

	return group && group == vdev->group;
}
EXPORT_SYMBOL_GPL(vpt_file_has_device);
